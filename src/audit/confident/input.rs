//! The checked input of one task's audit: a probability matrix and the given labels.

use super::AuditError;
use super::numeric::{first_max, others_max};

/// How far a row's probabilities may add up from 1 (softmax in f32 over a few hundred classes
/// is off by about 1e-5; probabilities written with 4 decimals by up to a few 1e-4).
pub const ROW_SUM_TOLERANCE: f64 = 1e-3;

/// How far a single probability may exceed 1 (cleanlab's own check,
/// `FLOATING_POINT_COMPARISON`).
const ABOVE_ONE: f64 = super::FLOATING_POINT_COMPARISON;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A probability as stored: `f32` (what the model writes, half the memory) or `f64`. All
/// arithmetic is done in `f64` on the widened value, as cleanlab does on a float64 array.
pub trait Probability: Copy + PartialOrd + Send + Sync + sealed::Sealed + 'static {
    /// Zero.
    const ZERO: Self;

    /// The larger of `self` and `other` (no NaN here: inputs are validated).
    #[inline]
    fn max_of(self, other: Self) -> Self {
        if other > self { other } else { self }
    }
    /// The value as `f64` (exact).
    fn widen(self) -> f64;
    /// The smallest stored value `v` with `v.widen() >= threshold`, so that comparing stored
    /// values with it is comparing their widened values with `threshold`.
    fn at_least(threshold: f64) -> Self;
}

impl Probability for f32 {
    const ZERO: Self = 0.0;

    #[inline]
    fn widen(self) -> f64 {
        f64::from(self)
    }

    #[inline]
    fn at_least(threshold: f64) -> Self {
        // Rounding to nearest lands on the wanted value or the one just below it.
        let near = threshold as f32;
        if f64::from(near) >= threshold {
            near
        } else {
            near.next_up()
        }
    }
}

impl Probability for f64 {
    const ZERO: Self = 0.0;

    #[inline]
    fn widen(self) -> f64 {
        self
    }

    #[inline]
    fn at_least(threshold: f64) -> Self {
        threshold
    }
}

/// One task's probabilities (row-major, one row per product, one column per class of the
/// model's head) and given labels, checked: every probability in 0..=1, every row adding up
/// to 1, every label a class of the head.
///
/// While checking, the facts of each row that several steps need are kept (the row's most
/// probable class; for a labelled row the probability of its given class and the largest of
/// the others), so that those steps need not read the row again: reading 1,000,000 rows of
/// 143 classes takes about as long as everything done with them.
#[derive(Debug, Clone)]
pub struct AuditInput<'a, P: Probability> {
    probs: &'a [P],
    classes: usize,
    labels: &'a [Option<usize>],
    label_counts: Vec<usize>,
    labelled: usize,
    most_probable: Vec<usize>,
    /// Per row: the probability of the given class (0 without a label).
    own: Vec<P>,
    /// Per row: the largest probability of another class than the given one (0 without a
    /// label).
    best_other: Vec<P>,
}

impl<'a, P: Probability> AuditInput<'a, P> {
    /// Checks `probs` (rows of `classes` values) and `labels` (one per row; `None` for a
    /// product without a label, which takes no part in the audit).
    pub fn new(
        probs: &'a [P],
        classes: usize,
        labels: &'a [Option<usize>],
    ) -> Result<Self, AuditError> {
        if classes < 2 {
            return Err(AuditError::TooFewClasses { classes });
        }
        if !probs.len().is_multiple_of(classes) {
            return Err(AuditError::Shape {
                values: probs.len(),
                classes,
            });
        }
        let rows = probs.len() / classes;
        if labels.len() != rows {
            return Err(AuditError::LabelCount {
                labels: labels.len(),
                rows,
            });
        }
        let mut label_counts = vec![0usize; classes];
        let mut most_probable = Vec::with_capacity(rows);
        let mut own = Vec::with_capacity(rows);
        let mut best_other = Vec::with_capacity(rows);
        for (row, (values, label)) in probs.chunks_exact(classes).zip(labels).enumerate() {
            check_row(row, values)?;
            match *label {
                Some(label) if label < classes => {
                    label_counts[label] += 1;
                    let (mine, other) = (values[label], others_max(values, label));
                    // The given class is the most probable when it beats every other; else the
                    // first of the largest (which may still be the given class, on a tie).
                    most_probable.push(if mine > other {
                        label
                    } else {
                        first_max(values)
                    });
                    own.push(mine);
                    best_other.push(other);
                }
                Some(label) => {
                    return Err(AuditError::LabelOutOfRange {
                        row,
                        label,
                        classes,
                    });
                }
                None => {
                    most_probable.push(first_max(values));
                    own.push(P::ZERO);
                    best_other.push(P::ZERO);
                }
            }
        }
        let labelled = label_counts.iter().sum();
        if labelled == 0 {
            return Err(AuditError::NoLabels);
        }
        Ok(Self {
            probs,
            classes,
            labels,
            label_counts,
            labelled,
            most_probable,
            own,
            best_other,
        })
    }

    /// Number of classes (columns).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Number of rows (products), labelled or not.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// The probabilities of row `row` (< [`rows`](Self::rows), as for slice indexing).
    pub fn row(&self, row: usize) -> &'a [P] {
        &self.probs[row * self.classes..(row + 1) * self.classes]
    }

    /// The given labels, one per row.
    pub fn labels(&self) -> &'a [Option<usize>] {
        self.labels
    }

    /// Products given each class.
    pub fn label_counts(&self) -> &[usize] {
        &self.label_counts
    }

    /// Products with a label.
    pub fn labelled(&self) -> usize {
        self.labelled
    }

    /// The model's most probable class for row `row` (the first of equal ones, as numpy's
    /// `argmax`; `row` < [`rows`](Self::rows)).
    pub fn most_probable(&self, row: usize) -> usize {
        self.most_probable[row]
    }

    /// For a labelled row: the probability of its given class and the largest of the other
    /// classes' (0 and 0 without a label; `row` < [`rows`](Self::rows)).
    pub fn own_and_best_other(&self, row: usize) -> (f64, f64) {
        (self.own[row].widen(), self.best_other[row].widen())
    }

    /// The labelled rows in order, each with its probabilities and given class.
    pub fn labelled_rows(&self) -> impl Iterator<Item = (usize, &'a [P], usize)> + '_ {
        self.probs
            .chunks_exact(self.classes)
            .zip(self.labels)
            .enumerate()
            .filter_map(|(row, (values, label))| label.map(|label| (row, values, label)))
    }
}

/// Within 0..=1 (+1e-6); false for NaN.
#[inline]
fn is_probability(value: f64) -> bool {
    (0.0..=1.0 + ABOVE_ONE).contains(&value)
}

/// Every value of `values` a probability and their sum within [`ROW_SUM_TOLERANCE`] of 1.
fn check_row<P: Probability>(row: usize, values: &[P]) -> Result<(), AuditError> {
    // Eight independent partial sums and a flag the compiler can vectorise; the slow search
    // for the culprit runs only when something is wrong.
    let mut sums = [0.0f64; 8];
    let mut bad = false;
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (sum, &v) in sums.iter_mut().zip(chunk) {
            let v = v.widen();
            bad |= !is_probability(v);
            *sum += v;
        }
    }
    for (sum, &v) in sums.iter_mut().zip(rest) {
        let v = v.widen();
        bad |= !is_probability(v);
        *sum += v;
    }
    if bad {
        for (class, &v) in values.iter().enumerate() {
            let value = v.widen();
            if !is_probability(value) {
                return Err(AuditError::NotAProbability { row, class, value });
            }
        }
    }
    let sum: f64 = sums.iter().sum();
    if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
        return Err(AuditError::RowSum { row, sum });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_is_the_smallest_f32_not_below_the_threshold() {
        for threshold in [0.3, 0.1 - 1e-6, 2e-6 - 1e-6, 1.0 / 3.0, 0.5] {
            let v = f32::at_least(threshold);
            assert!(f64::from(v) >= threshold);
            assert!(f64::from(v.next_down()) < threshold);
        }
        assert_eq!(f64::at_least(0.25), 0.25);
    }

    #[test]
    fn bad_probabilities_name_their_row_and_class() {
        let labels = [Some(0), Some(1)];
        let cases: [(&[f32], &str); 4] = [
            (
                &[0.5, 0.5, f32::NAN, 1.0],
                "row 1, class 0: probability NaN",
            ),
            (&[0.5, 0.5, 1.5, -0.5], "row 1, class 0: probability 1.5"),
            (
                &[0.5, 0.5, 0.0, f32::INFINITY],
                "row 1, class 1: probability inf",
            ),
            (&[-0.1, 1.1, 0.5, 0.5], "row 0, class 0: probability -0.1"),
        ];
        for (probs, message) in cases {
            let error = AuditInput::new(probs, 2, &labels).unwrap_err().to_string();
            assert!(error.starts_with(message), "{error}");
        }
        let error = AuditInput::new(&[0.5f32, 0.5, 0.3, 0.3], 2, &labels)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("row 1: probabilities add up to 0.6"),
            "{error}"
        );
    }

    #[test]
    fn shapes_labels_and_class_counts_are_checked() {
        let probs = [0.5f32, 0.5, 1.0, 0.0];
        assert!(matches!(
            AuditInput::new(&[1.0f32, 1.0], 1, &[Some(0), Some(0)]),
            Err(AuditError::TooFewClasses { classes: 1 })
        ));
        assert!(matches!(
            AuditInput::new(&probs[..3], 2, &[Some(0)]),
            Err(AuditError::Shape {
                values: 3,
                classes: 2
            })
        ));
        assert!(matches!(
            AuditInput::new(&probs, 2, &[Some(0)]),
            Err(AuditError::LabelCount { labels: 1, rows: 2 })
        ));
        assert!(matches!(
            AuditInput::new(&probs, 2, &[Some(0), Some(2)]),
            Err(AuditError::LabelOutOfRange {
                row: 1,
                label: 2,
                classes: 2
            })
        ));
        assert!(matches!(
            AuditInput::new(&probs, 2, &[None, None]),
            Err(AuditError::NoLabels)
        ));
        let input = AuditInput::new(&probs, 2, &[None, Some(1)]).unwrap();
        assert_eq!(input.label_counts(), &[0, 1]);
        assert_eq!(input.labelled(), 1);
        let rows: Vec<usize> = input.labelled_rows().map(|(row, _, _)| row).collect();
        assert_eq!(rows, vec![1]);
    }
}
