//! The label issues: cleanlab's `filter.find_label_issues` with its defaults,
//! `filter_by="prune_by_noise_rate"`, `frac_noise=1.0`, `min_examples_per_class=1`
//! (`_keep_at_least_n_per_class`, `_prune_by_count`, then `count._reduce_issues`).

use super::FLOATING_POINT_COMPARISON;
use super::input::{AuditInput, Probability};
use super::joint::ClassMatrix;
use std::cmp::Ordering;

/// Products a class keeps however noisy it looks (cleanlab's `min_examples_per_class`): a
/// class given to this many products or fewer is not pruned at all.
pub const MIN_EXAMPLES_PER_CLASS: usize = 1;

/// How many products of each given class to flag for each true class (cleanlab's
/// `_keep_at_least_n_per_class` with n = 1 and `frac_noise` = 1, transposed back to rows =
/// given class): the calibrated joint, except that a given class whose diagonal cell is 0 has
/// it raised to 1 and the same amount taken evenly from its non-zero off-diagonal cells (never
/// below 0), the results truncated towards zero as numpy's `astype(int)` does.
pub fn prune_counts(calibrated: &ClassMatrix<i64>) -> ClassMatrix<i64> {
    let classes = calibrated.classes();
    let mut counts = ClassMatrix::filled(classes, 0i64);
    for given in 0..classes {
        let row = calibrated.row(given);
        let diagonal = row[given];
        let raised = diagonal.max(MIN_EXAMPLES_PER_CLASS as i64);
        let added = (raised - diagonal) as f64;
        // cleanlab counts the non-zero cells of the whole column (its matrix is transposed)
        // less one for the diagonal, whether or not the diagonal is zero, and at least 1.
        let non_zero = row.iter().filter(|&&c| c != 0).count() as f64;
        let spread = (non_zero - 1.0).max(1.0);
        for (true_class, &cell) in row.iter().enumerate() {
            let value = if true_class == given {
                raised
            } else {
                (cell as f64 - added / spread).max(0.0) as i64
            };
            counts.set(given, true_class, value);
        }
    }
    counts
}

/// The rows with a label issue, in row order (the `True` cells of cleanlab's mask).
///
/// For each given class `k` with more than [`MIN_EXAMPLES_PER_CLASS`] products and each other
/// class `j`, the `prune_counts(k, j)` products given `k` with the largest margin
/// `p[j] - p[k]` are flagged (equal margins: the earlier row first, as a stable sort orders
/// them). A flagged product whose given class, raised by 1e-6, is its most probable class
/// (the first of equal ones) is then cleared.
pub fn find_label_issues<P: Probability>(
    input: &AuditInput<'_, P>,
    calibrated: &ClassMatrix<i64>,
) -> Vec<usize> {
    let counts = prune_counts(calibrated);
    let classes = input.classes();
    let mut pruning: Vec<Vec<(usize, TopMargins)>> = (0..classes)
        .map(|given| {
            if input.label_counts()[given] <= MIN_EXAMPLES_PER_CLASS {
                return Vec::new();
            }
            (0..classes)
                .filter(|&j| j != given && counts.get(given, j) > 0)
                .map(|j| (j, TopMargins::new(counts.get(given, j) as usize)))
                .collect()
        })
        .collect();
    // One pass over the rows in order, each feeding the selections of its given class.
    for (row, values, given) in input.labelled_rows() {
        let selections = &mut pruning[given];
        if selections.is_empty() {
            continue;
        }
        let own = values[given].widen();
        for (j, top) in selections.iter_mut() {
            top.offer(values[*j].widen() - own, row);
        }
    }
    let mut flagged = vec![false; input.rows()];
    for (_, top) in pruning.into_iter().flatten() {
        for row in top.into_rows() {
            flagged[row] = true;
        }
    }
    let labels = input.labels();
    (0..input.rows())
        .filter(|&row| flagged[row])
        .filter(|&row| labels[row].is_some_and(|given| !prediction_is_given(input.row(row), given)))
        .collect()
}

/// cleanlab's `_reduce_issues`: whether `given`, its probability raised by 1e-6, is the first
/// most probable class of the row.
fn prediction_is_given<P: Probability>(values: &[P], given: usize) -> bool {
    let raised = values[given].widen() + FLOATING_POINT_COMPARISON;
    values[..given].iter().all(|v| v.widen() < raised)
        && values[given + 1..].iter().all(|v| v.widen() <= raised)
}

/// The `keep` rows with the largest margins among those offered in row order, ties to the
/// earlier row: numpy's stable `argsort(-margin)[:keep]`, in linear time and at most about
/// twice `keep` rows of memory.
#[derive(Debug)]
struct TopMargins {
    keep: usize,
    /// A margin not above this cannot enter any more (the smallest kept one once `keep` rows
    /// are held; a later row with an equal margin ranks after all of them).
    cutoff: f64,
    held: Vec<(f64, usize)>,
}

impl TopMargins {
    fn new(keep: usize) -> Self {
        Self {
            keep,
            cutoff: f64::NEG_INFINITY,
            held: Vec::new(),
        }
    }

    fn offer(&mut self, margin: f64, row: usize) {
        if margin > self.cutoff {
            self.held.push((margin, row));
            if self.held.len() >= 2 * self.keep + 64 {
                self.shrink();
            }
        }
    }

    fn shrink(&mut self) {
        if self.held.len() > self.keep {
            self.held
                .select_nth_unstable_by(self.keep - 1, |a, b| ranked(*a, *b));
            self.held.truncate(self.keep);
            self.cutoff = self
                .held
                .iter()
                .map(|&(margin, _)| margin)
                .fold(f64::INFINITY, f64::min);
        }
    }

    fn into_rows(mut self) -> impl Iterator<Item = usize> {
        self.shrink();
        self.held.into_iter().map(|(_, row)| row)
    }
}

/// Larger margin first, then the earlier row (no NaN: inputs are validated; -0.0 and 0.0
/// compare equal, as in numpy).
fn ranked(a: (f64, usize), b: (f64, usize)) -> Ordering {
    b.0.partial_cmp(&a.0)
        .unwrap_or(Ordering::Equal)
        .then(a.1.cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_without_a_diagonal_takes_it_from_its_noise_cells() {
        let mut calibrated = ClassMatrix::filled(3, 0i64);
        for (i, row) in [[0i64, 3, 2], [0, 4, 0], [1, 0, 5]].iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                calibrated.set(i, j, c);
            }
        }
        let counts = prune_counts(&calibrated);
        // Row 0: diagonal 0 -> 1; two non-zero cells (count 2, less 1 = 1), each less 1.
        assert_eq!(counts.row(0), &[1, 2, 1]);
        assert_eq!(counts.row(1), &[0, 4, 0]);
        assert_eq!(counts.row(2), &[1, 0, 5]);
    }

    #[test]
    fn top_margins_keeps_the_largest_and_the_earliest_of_equal_ones() {
        let mut top = TopMargins::new(3);
        let margins = [0.1, 0.5, 0.5, -0.2, 0.5, 0.3, 0.5];
        // Enough rows to shrink a few times on the way; the later 0.5s must stay out.
        for row in 0..margins.len() * 30 {
            top.offer(margins[row % margins.len()], row);
        }
        let mut rows: Vec<usize> = top.into_rows().collect();
        rows.sort();
        assert_eq!(rows, vec![1, 2, 4]);
    }

    #[test]
    fn raising_the_given_class_by_the_tolerance_clears_near_ties() {
        assert!(prediction_is_given(&[0.4f32, 0.4, 0.2], 1));
        assert!(prediction_is_given(&[0.4f32, 0.4, 0.2], 0));
        assert!(!prediction_is_given(&[0.5f32, 0.3, 0.2], 1));
        assert!(prediction_is_given(&[0.5f64, 0.5 - 5e-7, 0.0], 1));
    }
}
