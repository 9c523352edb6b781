//! The confident joint and its calibration: cleanlab's `count.compute_confident_joint` and
//! `count.calibrate_confident_joint`.

use super::input::{AuditInput, Probability};
use super::numeric::{pairwise_sum, round_preserving_sum};
use super::{FLOATING_POINT_COMPARISON, TINY_VALUE};

/// A square matrix over one task's classes, row-major: `get(row, column)`. Which class the
/// rows and columns are (given or true) is said where each matrix is defined.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMatrix<T> {
    classes: usize,
    cells: Vec<T>,
}

impl<T: Copy> ClassMatrix<T> {
    /// A matrix of `classes` x `classes` cells, all `value`.
    pub fn filled(classes: usize, value: T) -> Self {
        Self {
            classes,
            cells: vec![value; classes * classes],
        }
    }

    /// Number of classes (rows, and columns).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The cell at `row`, `column` (both < [`classes`](Self::classes), as for indexing).
    pub fn get(&self, row: usize, column: usize) -> T {
        self.cells[row * self.classes + column]
    }

    /// Sets the cell at `row`, `column` (both < [`classes`](Self::classes)).
    pub fn set(&mut self, row: usize, column: usize, value: T) {
        self.cells[row * self.classes + column] = value;
    }

    /// The cells of `row` (< [`classes`](Self::classes)).
    pub fn row(&self, row: usize) -> &[T] {
        &self.cells[row * self.classes..(row + 1) * self.classes]
    }

    /// All cells, row after row.
    pub fn cells(&self) -> &[T] {
        &self.cells
    }

    /// The rows as vectors (for printing and serialising).
    pub fn to_rows(&self) -> Vec<Vec<T>> {
        self.cells
            .chunks(self.classes.max(1))
            .map(<[T]>::to_vec)
            .collect()
    }
}

/// The confident joint: cell (given class i, true class j) counts the labelled products
/// given `i` that are confidently of class `j`. A product is confident of each class whose
/// probability is at least the class's threshold minus 1e-6; of several such classes it is
/// counted into the most probable one (the first of equal ones), and a product confident of
/// none is left out. Finally each diagonal cell is raised to at least 1 (cleanlab: "at least
/// one correctly labelled example in every class").
pub fn compute_confident_joint<P: Probability>(
    input: &AuditInput<'_, P>,
    thresholds: &[f64],
) -> ClassMatrix<u64> {
    let classes = input.classes();
    let cutoffs: Vec<P> = thresholds
        .iter()
        .map(|t| P::at_least(t - FLOATING_POINT_COMPARISON))
        .collect();
    let mut joint = ClassMatrix::filled(classes, 0u64);
    for (row, values, given) in input.labelled_rows() {
        if let Some(class) = confident_class(values, &cutoffs, input.most_probable(row)) {
            joint.cells[given * classes + class] += 1;
        }
    }
    for k in 0..classes {
        let cell = &mut joint.cells[k * classes + k];
        *cell = (*cell).max(1);
    }
    joint
}

/// The class a row is confidently counted into, if any: see [`compute_confident_joint`].
#[inline]
fn confident_class<P: Probability>(
    values: &[P],
    cutoffs: &[P],
    most_probable: usize,
) -> Option<usize> {
    // Counting first (a branch-free loop the compiler vectorises): most rows are confident
    // of exactly one class, and then only its position is needed.
    let confident: usize = values
        .iter()
        .zip(cutoffs)
        .map(|(v, c)| usize::from(v >= c))
        .sum();
    match confident {
        0 => None,
        1 => values.iter().zip(cutoffs).position(|(v, c)| v >= c),
        _ => Some(most_probable),
    }
}

/// cleanlab's calibration: each row of `joint` (given class i) is scaled to the number of
/// products given `i`, the whole to the number of labelled products, and each row rounded to
/// integers that keep its total (`round_preserving_row_totals`). A class given to no product
/// gets a row of zeros. Cells can come out negative in rare roundings, as in cleanlab.
pub fn calibrate_confident_joint(
    joint: &ClassMatrix<u64>,
    label_counts: &[usize],
) -> ClassMatrix<i64> {
    let classes = joint.classes();
    let labelled: usize = label_counts.iter().sum();
    let mut scaled = Vec::with_capacity(classes * classes);
    for (i, row) in joint.cells.chunks_exact(classes).enumerate() {
        let total = (row.iter().sum::<u64>() as f64).max(TINY_VALUE);
        let count = label_counts[i] as f64;
        scaled.extend(row.iter().map(|&c| c as f64 / total * count));
    }
    let sum = pairwise_sum(&scaled).max(TINY_VALUE);
    for cell in &mut scaled {
        *cell = *cell / sum * labelled as f64;
    }
    let cells = scaled
        .chunks_exact(classes)
        .flat_map(round_preserving_sum)
        .collect();
    ClassMatrix { classes, cells }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_count_into_their_confident_class_or_the_most_probable_of_several() {
        let probs = [
            0.9f32, 0.1, 0.0, // given 0, confident of 0
            0.2, 0.5, 0.3, // given 0, confident of 1 and 2: the more probable, 1
            0.5, 0.3, 0.2, // given 1, confident of none
            0.0, 0.6, 0.4, // given 1, confident of 1
            0.0, 0.35, 0.65, // given 2, confident of 2
            0.45, 0.1, 0.45, // unlabelled
        ];
        let labels = [Some(0), Some(0), Some(1), Some(1), Some(2), None];
        let input = AuditInput::new(&probs, 3, &labels).unwrap();
        let joint = compute_confident_joint(&input, &[0.55, 0.45, 0.3]);
        assert_eq!(
            joint.to_rows(),
            vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 0, 1]]
        );
        // A probability less than 1e-6 under its threshold still counts.
        let joint = compute_confident_joint(&input, &[0.5 + 5e-7, 2.0, 2.0]);
        assert_eq!(joint.get(1, 0), 1);
        // Of equally probable confident classes, the first.
        let tie = [0.45f32, 0.1, 0.45];
        let input = AuditInput::new(&tie, 3, &[Some(2)]).unwrap();
        let joint = compute_confident_joint(&input, &[0.4, 2.0, 0.4]);
        assert_eq!(joint.get(2, 0), 1);
    }

    #[test]
    fn a_row_confident_of_nothing_leaves_the_diagonal_at_one() {
        let probs = [0.5f32, 0.5, 0.5, 0.5];
        let input = AuditInput::new(&probs, 2, &[Some(0), Some(1)]).unwrap();
        let joint = compute_confident_joint(&input, &[0.9, 0.9]);
        assert_eq!(joint.to_rows(), vec![vec![1, 0], vec![0, 1]]);
    }

    #[test]
    fn calibration_scales_rows_to_the_label_counts() {
        let mut joint = ClassMatrix::filled(3, 0u64);
        for (i, row) in [[6u64, 2, 0], [1, 3, 0], [0, 0, 1]].iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                joint.set(i, j, c);
            }
        }
        // Row 0 (8 counted, 12 given): 9 and 3. Row 1 (4 counted, 10 given): 2.5 and 7.5,
        // which the rescaling to all 22 products turns into 2.5 and 7.499999999999999,
        // rounded 2 and 7, one short of 10: the larger remainder goes up. Class 2, given to
        // none: zeros. cleanlab 2.9.0 gives the same.
        let calibrated = calibrate_confident_joint(&joint, &[12, 10, 0]);
        assert_eq!(
            calibrated.to_rows(),
            vec![vec![9, 3, 0], vec![3, 7, 0], vec![0, 0, 0]]
        );
    }
}
