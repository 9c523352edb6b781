//! Confident learning for one task: cleanlab 2.9.0's algorithm, re-implemented.
//!
//! Input: a probability matrix (one row per product, one column per class of the model's
//! head for the task, ideally out-of-fold) and each product's given label. Output: what
//! cleanlab's `find_label_issues` and its helpers compute, step by step:
//!
//! 1. [`confident_thresholds`] (`count.get_confident_thresholds`): per class, the mean
//!    probability of that class over the products given it; at least 2e-6; 2 (never reached)
//!    for a class given to no product.
//! 2. [`compute_confident_joint`] (`count.compute_confident_joint`, `calibrate=False`):
//!    counts (given class, true class): a product counts for the classes whose probability
//!    reaches their threshold less 1e-6, for the most probable of them if several, not at all
//!    if none; diagonal cells at least 1.
//! 3. [`calibrate_confident_joint`] (`count.calibrate_confident_joint`): rows scaled to the
//!    numbers of products given each class and rounded keeping row totals.
//! 4. [`estimate_latent`] / [`estimate_joint`] (`count.estimate_latent` with `py_method="cnt"`,
//!    `count.estimate_joint`): the noise matrix P(given | true), the inverse noise matrix
//!    P(true | given), the prior of the true classes, and the joint P(given, true).
//! 5. [`find_label_issues`] (`filter.find_label_issues` with `filter_by="prune_by_noise_rate"`,
//!    `frac_noise=1.0`, `min_examples_per_class=1`, its defaults): for each off-diagonal cell
//!    (given k, true j) of the calibrated joint, that many products given `k` with the largest
//!    `p[j] - p[k]`; then those whose given class is their most probable one (within 1e-6)
//!    are cleared (`count._reduce_issues`).
//! 6. [`order_label_issues`] (`rank.order_label_issues`): the issues by [`RankBy`] score,
//!    lowest first: normalized margin (the default), self-confidence or confidence-weighted
//!    entropy (`rank.get_label_quality_scores`).
//!
//! [`audit`] runs steps 1-5 and [`TaskAudit::ranked`] step 6.
//!
//! # Matching cleanlab
//!
//! The fixtures in `tests/fixtures/cleanlab` (written by `dev/cleanlab_fixtures.py` with
//! cleanlab 2.9.0) are checked by `tests/audit_cleanlab.rs`: the same confident joints
//! (integers), thresholds and matrices (to 1e-6, in fact to the last bits: sums are added in
//! numpy's pairwise order), the same issues in the same order. Probabilities are stored as
//! `f32` (or `f64`, see [`Probability`]) and computed on as `f64`, as cleanlab computes on a
//! float64 array holding the same values. One deliberate rule: where keys are equal, numpy's
//! default `argsort` (unstable; on x86 a SIMD sorting network whose order for equal keys
//! depends on the CPU) decides cleanlab's order in three places (rounding the calibrated
//! joint, choosing among equal margins, ranking equal scores), so cleanlab itself gives
//! different answers on different machines. Here equal keys keep row order, as numpy's
//! stable sort does; the fixtures are cleanlab's results with that sort.
//!
//! # Input handled explicitly
//!
//! - **Products without a label** (`None`) take no part: not in the thresholds, the joint or
//!   the counts, never an issue. The result is cleanlab's on the labelled products alone,
//!   with row numbers of the whole input.
//! - **Labels the head folds into its `other` class** (a class too rare to get its own
//!   output) must be passed by the caller as the index of the head's `other` class: they are
//!   that class for the model, so they are audited as `other`. A label the head has no class
//!   for and no `other` to fold into is the caller's to pass as `None`. An index outside the
//!   head is an error ([`AuditError::LabelOutOfRange`]).
//! - **Bad probabilities**: NaN, infinite, negative or above 1 (+1e-6) values, and rows not
//!   adding up to 1 within [`ROW_SUM_TOLERANCE`], are errors naming the row (and class); no
//!   panic, nothing computed.
//! - **Fewer than 2 classes** is an error ([`AuditError::TooFewClasses`]), and so is a task
//!   where no product has a label ([`AuditError::NoLabels`]).
//! - **Classes no product is given** get threshold 2, so no product is counted into them,
//!   a calibrated row of zeros, prior 1e-6 (renormalised) and never an issue; they can still
//!   be a product's most probable class, and so its suggestion.
//! - **A single given class**: cleanlab refuses it unless that class is 0; here it gives
//!   cleanlab's result for class 0 whatever the class (thresholds of the others are 2, so
//!   nothing is confidently of another class and there is no issue).
//!
//! Pure: no egui, no burn. One core audits and ranks 1,000,000 products over five heads (5,
//! 46, 7, 45 and 143 classes) in about 1.5 s, f32 input a little faster than f64 (half the
//! memory to read); `taskset -c 0 cargo bench --bench audit`.

mod filter;
mod input;
mod joint;
mod noise;
mod numeric;
mod rank;
mod thresholds;

pub use filter::{MIN_EXAMPLES_PER_CLASS, find_label_issues, prune_counts};
pub use input::{AuditInput, Probability, ROW_SUM_TOLERANCE};
pub use joint::{ClassMatrix, calibrate_confident_joint, compute_confident_joint};
pub use noise::{Latent, estimate_joint, estimate_latent};
pub use rank::{
    RankBy, RankedIssue, UnknownRankBy, label_quality, order_label_issues, quality_score,
};
pub use thresholds::{LOWER_BOUND, NO_EXAMPLES, confident_thresholds};

/// cleanlab's `FLOATING_POINT_COMPARISON`: the tolerance of "at least the threshold" and of
/// "the given class is the most probable".
pub const FLOATING_POINT_COMPARISON: f64 = 1e-6;
/// cleanlab's `CLIPPING_LOWER_BOUND`: the least prior, and the least self-confidence an
/// entropy is divided by.
pub const CLIPPING_LOWER_BOUND: f64 = 1e-6;
/// cleanlab's `TINY_VALUE`: what a zero total is replaced by before dividing.
const TINY_VALUE: f64 = 1e-100;

/// Why a task cannot be audited.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuditError {
    /// The head has fewer than 2 classes.
    #[error("{classes} class(es): confident learning needs at least 2")]
    TooFewClasses {
        /// Classes of the head.
        classes: usize,
    },
    /// The probabilities do not fill whole rows.
    #[error("{values} probabilities do not make rows of {classes} classes")]
    Shape {
        /// Probabilities given.
        values: usize,
        /// Classes per row.
        classes: usize,
    },
    /// Not one label per row.
    #[error("{labels} labels for {rows} rows of probabilities")]
    LabelCount {
        /// Labels given.
        labels: usize,
        /// Rows of probabilities.
        rows: usize,
    },
    /// A label is no class of the head.
    #[error("row {row}: label {label} is not one of the head's {classes} classes")]
    LabelOutOfRange {
        /// The row.
        row: usize,
        /// The label.
        label: usize,
        /// Classes of the head.
        classes: usize,
    },
    /// A value is NaN, infinite, negative or above 1.
    #[error("row {row}, class {class}: probability {value} is not a number between 0 and 1")]
    NotAProbability {
        /// The row.
        row: usize,
        /// The class (column).
        class: usize,
        /// The value.
        value: f64,
    },
    /// A row does not add up to 1.
    #[error("row {row}: probabilities add up to {sum}, not 1")]
    RowSum {
        /// The row.
        row: usize,
        /// Their sum.
        sum: f64,
    },
    /// No product has a label.
    #[error("no product has a label for this task: nothing to audit")]
    NoLabels,
}

/// Everything confident learning finds in one task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskAudit {
    /// Per class: its confidence threshold.
    pub thresholds: Vec<f64>,
    /// Counts (given class, true class), uncalibrated.
    pub confident_joint: ClassMatrix<u64>,
    /// The confident joint calibrated to the label counts (what the issues are pruned by).
    pub calibrated_joint: ClassMatrix<i64>,
    /// Prior and noise matrices.
    pub latent: Latent,
    /// The estimated joint distribution P(given, true).
    pub joint: ClassMatrix<f64>,
    /// Rows with a label issue, in row order.
    pub issues: Vec<usize>,
}

impl TaskAudit {
    /// The issues ranked by `rank_by`, most likely wrong first.
    pub fn ranked<P: Probability>(
        &self,
        input: &AuditInput<'_, P>,
        rank_by: RankBy,
    ) -> Vec<RankedIssue> {
        order_label_issues(input, &self.issues, rank_by)
    }

    /// The estimated number of wrong labels among the products given each class: the
    /// off-diagonal total of the calibrated joint's row (the estimate behind cleanlab's
    /// `num_label_issues(estimation_method="off_diagonal_calibrated")`, per class).
    pub fn estimated_errors(&self) -> Vec<i64> {
        let joint = &self.calibrated_joint;
        (0..joint.classes())
            .map(|i| {
                let row = joint.row(i);
                row.iter().sum::<i64>() - row[i]
            })
            .collect()
    }
}

/// Steps 1-5 of the module docs on one task.
pub fn audit<P: Probability>(input: &AuditInput<'_, P>) -> TaskAudit {
    let thresholds = confident_thresholds(input);
    let confident_joint = compute_confident_joint(input, &thresholds);
    let calibrated_joint = calibrate_confident_joint(&confident_joint, input.label_counts());
    let latent = estimate_latent(&calibrated_joint, input.label_counts());
    let joint = estimate_joint(&calibrated_joint);
    let issues = find_label_issues(input, &calibrated_joint);
    TaskAudit {
        thresholds,
        confident_joint,
        calibrated_joint,
        latent,
        joint,
        issues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 12 products of 3 classes: classes 0 and 1 each have one product whose photo looks
    /// like the other class; one product has no label, one is `other` (class 2).
    fn example() -> (Vec<f32>, Vec<Option<usize>>) {
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        for i in 0..5 {
            probs.extend([0.9 - 0.01 * i as f32, 0.05 + 0.01 * i as f32, 0.05]);
            labels.push(Some(0));
        }
        for i in 0..5 {
            probs.extend([0.05, 0.9 - 0.01 * i as f32, 0.05 + 0.01 * i as f32]);
            labels.push(Some(1));
        }
        probs.extend([0.1, 0.85, 0.05]); // given 0, looks like 1
        labels.push(Some(0));
        probs.extend([0.88, 0.07, 0.05]); // given 1, looks like 0
        labels.push(Some(1));
        probs.extend([0.1, 0.1, 0.8]); // other, looks like other
        labels.push(Some(2));
        probs.extend([0.1, 0.85, 0.05]); // no label
        labels.push(None);
        (probs, labels)
    }

    #[test]
    fn the_planted_errors_are_found_and_unlabelled_rows_never() {
        let (probs, labels) = example();
        let input = AuditInput::new(&probs, 3, &labels).unwrap();
        let audit = audit(&input);
        assert_eq!(audit.issues, vec![10, 11]);
        assert_eq!(audit.calibrated_joint.get(0, 1), 1);
        assert_eq!(audit.calibrated_joint.get(1, 0), 1);
        assert_eq!(audit.estimated_errors(), vec![1, 1, 0]);
        let ranked = audit.ranked(&input, RankBy::NormalizedMargin);
        // Row 11's margin (0.07 - 0.88) is lower than row 10's (0.1 - 0.85).
        assert_eq!(
            ranked.iter().map(|r| r.row).collect::<Vec<_>>(),
            vec![11, 10]
        );
        assert_eq!(ranked[0].suggested, 0);
        // f64 input gives the same answer.
        let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
        let input = AuditInput::new(&wide, 3, &labels).unwrap();
        assert_eq!(super::audit(&input).issues, vec![10, 11]);
    }
}
