//! The label issues: cleanlab's `filter.find_label_issues` with its defaults,
//! `filter_by="prune_by_noise_rate"`, `frac_noise=1.0`, `min_examples_per_class=1`
//! (`_keep_at_least_n_per_class`, `_prune_by_count`, then `count._reduce_issues`).

use super::FLOATING_POINT_COMPARISON;
use super::input::{AuditInput, Probability};
use super::joint::ClassMatrix;

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
    let mut pruning: Vec<ClassPruning> = (0..classes)
        .map(|given| ClassPruning::new(&counts, given, input.label_counts()[given]))
        .collect();
    // One pass over the rows in order, each feeding the selections of its given class.
    for (row, label) in input.labels().iter().enumerate() {
        let Some(given) = *label else { continue };
        let class = &mut pruning[given];
        if !class.active {
            continue;
        }
        // Most rows cannot enter any selection: their largest margin is not above the lowest
        // cutoff. Subtraction rounds monotonically, so no margin of the row is above it
        // either, and skipping them changes nothing (nor reads the row).
        let (own, best_other) = input.own_and_best_other(row);
        if best_other - own <= class.floor {
            continue;
        }
        if class.offer(input.row(row), own, row) {
            class.floor = class.cutoffs.iter().copied().fold(f64::INFINITY, f64::min);
        }
    }
    let mut flagged = vec![false; input.rows()];
    for top in pruning.into_iter().flat_map(|class| class.tops) {
        for row in top.into_rows() {
            flagged[row] = true;
        }
    }
    let labels = input.labels();
    (0..input.rows())
        .filter(|&row| flagged[row])
        .filter(|&row| labels[row].is_some_and(|given| !given_is_predicted(input, row, given)))
        .collect()
}

/// cleanlab's `_reduce_issues`: whether `given`, its probability raised by 1e-6, is the first
/// most probable class of the row.
fn given_is_predicted<P: Probability>(input: &AuditInput<'_, P>, row: usize, given: usize) -> bool {
    let (own, best_other) = input.own_and_best_other(row);
    let raised = own + FLOATING_POINT_COMPARISON;
    if best_other != raised {
        return best_other < raised;
    }
    // Exactly equal: a class before the given one comes first, one after it does not.
    let values = input.row(row);
    values[..given].iter().all(|v| v.widen() < raised)
}

/// The selections of one given class.
struct ClassPruning {
    /// Whether anything is pruned from the class.
    active: bool,
    /// Per true class: the cutoff of its selection, +inf where nothing is pruned (the
    /// diagonal among them), so one comparison per class tells which selections a row enters.
    cutoffs: Vec<f64>,
    /// Per true class: its selection (empty where nothing is pruned).
    tops: Vec<TopMargins>,
    /// The lowest cutoff.
    floor: f64,
}

impl ClassPruning {
    fn new(counts: &ClassMatrix<i64>, given: usize, products: usize) -> Self {
        let classes = counts.classes();
        let prunes =
            |j: usize| products > MIN_EXAMPLES_PER_CLASS && j != given && counts.get(given, j) > 0;
        let cutoffs: Vec<f64> = (0..classes)
            .map(|j| {
                if prunes(j) {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let tops = (0..classes)
            .map(|j| {
                TopMargins::new(if prunes(j) {
                    counts.get(given, j) as usize
                } else {
                    0
                })
            })
            .collect();
        Self {
            active: (0..classes).any(prunes),
            floor: cutoffs.iter().copied().fold(f64::INFINITY, f64::min),
            cutoffs,
            tops,
        }
    }

    /// Offers a row (its probabilities, the given class's) to every selection its margin
    /// enters; true when a cutoff moved.
    #[inline]
    fn offer<P: Probability>(&mut self, values: &[P], own: f64, row: usize) -> bool {
        let mut moved = false;
        // Eight comparisons at a time into a bit mask (vectorised), then only the selections
        // the row enters.
        for start in (0..values.len()).step_by(8) {
            let end = (start + 8).min(values.len());
            let mut enters = values[start..end]
                .iter()
                .zip(&self.cutoffs[start..end])
                .enumerate()
                .fold(0u32, |mask, (i, (v, &cutoff))| {
                    mask | (u32::from(v.widen() - own > cutoff) << i)
                });
            while enters != 0 {
                let j = start + enters.trailing_zeros() as usize;
                enters &= enters - 1;
                if let Some(cutoff) = self.tops[j].offer(values[j].widen() - own, row) {
                    self.cutoffs[j] = cutoff;
                    moved = true;
                }
            }
        }
        moved
    }
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
    /// Margin and row as one [`key`] each.
    held: Vec<u128>,
}

impl TopMargins {
    fn new(keep: usize) -> Self {
        Self {
            keep,
            cutoff: f64::NEG_INFINITY,
            held: Vec::new(),
        }
    }

    /// Offers a row; the new cutoff when it moved. Inlined into the generic caller (built in
    /// the caller's crate): a call per product and class would cost more than the work.
    #[inline]
    fn offer(&mut self, margin: f64, row: usize) -> Option<f64> {
        if margin > self.cutoff {
            if self.held.capacity() == 0 {
                // All it will ever hold, at once: growing by doubling copies and faults in
                // fresh pages again and again.
                self.held.reserve_exact(2 * self.keep + 1);
            }
            self.held.push(key(margin, row));
            // Halving at twice `keep` costs O(1) per row offered; no fixed slack, which would
            // keep a small class's many small selections from ever getting a cutoff.
            if self.held.len() > 2 * self.keep {
                self.shrink();
                return Some(self.cutoff);
            }
        }
        None
    }

    fn shrink(&mut self) {
        if self.keep > 0 && self.held.len() > self.keep {
            let (_, worst, _) = self.held.select_nth_unstable(self.keep - 1);
            self.cutoff = margin_of(*worst);
            self.held.truncate(self.keep);
        }
    }

    fn into_rows(mut self) -> impl Iterator<Item = usize> {
        self.shrink();
        self.held.into_iter().map(|key| key as u64 as usize)
    }
}

/// Margin and row as one integer that sorts larger margins first, then earlier rows: integer
/// comparisons make the selection several times faster than comparing pairs of floats.
#[inline]
fn key(margin: f64, row: usize) -> u128 {
    // Adding 0.0 turns -0.0 into 0.0 (numpy compares them equal); there is no NaN.
    let bits = (margin + 0.0).to_bits();
    // The usual order-preserving map of floats onto unsigned integers, then reversed.
    let ordered = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    (u128::from(!ordered) << 64) | row as u128
}

/// The margin of a [`key`].
fn margin_of(key: u128) -> f64 {
    let ordered = !((key >> 64) as u64);
    let bits = if ordered >> 63 == 1 {
        ordered & !(1 << 63)
    } else {
        !ordered
    };
    f64::from_bits(bits)
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
    fn keys_sort_larger_margins_first_then_earlier_rows() {
        let margins = [-1.0, -0.25, -0.0, 0.0, 1e-300, 0.5, 1.0];
        for pair in margins.windows(2) {
            if pair[0] != pair[1] {
                assert!(key(pair[0], 7) > key(pair[1], 7), "{pair:?}");
            }
        }
        assert_eq!(key(-0.0, 3), key(0.0, 3));
        assert!(key(0.5, 3) < key(0.5, 4));
        for m in margins {
            assert_eq!(margin_of(key(m, 9)), m + 0.0);
        }
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
    fn a_class_exactly_at_the_raised_probability_counts_only_before_the_given_one() {
        // numpy's argmax of the row with the given class raised by 1e-6 is the first maximum:
        // another class exactly at the raised value wins if it comes first.
        let raised = 0.5f64 + FLOATING_POINT_COMPARISON;
        let mut calibrated = ClassMatrix::filled(2, 0i64);
        for (i, j, c) in [(0, 0, 2), (0, 1, 2), (1, 0, 2), (1, 1, 2)] {
            calibrated.set(i, j, c);
        }
        let labels = [Some(0), Some(0), Some(1), Some(1)];
        let probs = [0.5, raised, 0.5, raised, raised, 0.5, raised, 0.5];
        let input = AuditInput::new(&probs, 2, &labels).unwrap();
        // Rows 0-1 (given 0, class 1 after it at the raised value): cleared. Rows 2-3 (given
        // 1, class 0 before it): issues.
        assert_eq!(find_label_issues(&input, &calibrated), vec![2, 3]);
    }

    #[test]
    fn raising_the_given_class_by_the_tolerance_clears_near_ties() {
        // Rows 2 and 3, given class 1, are pruned towards class 0; class 0 beats their given
        // class by `gap`. Within 1e-6 they are cleared (`_reduce_issues`), beyond it not.
        let mut calibrated = ClassMatrix::filled(2, 0i64);
        calibrated.set(0, 0, 2);
        calibrated.set(1, 0, 2);
        calibrated.set(1, 1, 1);
        let labels = [Some(0), Some(0), Some(1), Some(1)];
        for (gap, issues) in [(5e-7, vec![]), (2e-6, vec![2, 3])] {
            let (high, low) = (0.5 + gap / 2.0, 0.5 - gap / 2.0);
            let probs = [1.0, 0.0, 1.0, 0.0, high, low, high, low];
            let input = AuditInput::new(&probs, 2, &labels).unwrap();
            assert_eq!(find_label_issues(&input, &calibrated), issues, "gap {gap}");
        }
    }
}
