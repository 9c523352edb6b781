//! Label quality scores and the order of the issues: cleanlab's `rank.order_label_issues`
//! with the scores of `rank.get_label_quality_scores` (no `adjust_pred_probs`).

use super::CLIPPING_LOWER_BOUND;
use super::input::{AuditInput, Probability};
use super::numeric::{others_max, pairwise_sum};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A label quality score, between 0 and 1; the lower, the more likely the label is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RankBy {
    /// `(p[given] - max(p[other classes]) + 1) / 2` (cleanlab's default for
    /// `find_label_issues`; best where another class is clearly better).
    #[default]
    NormalizedMargin,
    /// `p[given]` (better for products that fit no class, or several).
    SelfConfidence,
    /// With `x` = normalised entropy of the row / max(`p[given]`, 1e-6):
    /// `ln(x + 1) / max(x, 1e-6)`.
    ConfidenceWeightedEntropy,
}

impl RankBy {
    /// All scores, the default first.
    pub const ALL: [RankBy; 3] = [
        RankBy::NormalizedMargin,
        RankBy::SelfConfidence,
        RankBy::ConfidenceWeightedEntropy,
    ];

    /// cleanlab's name of the score (`normalized_margin`, ...).
    pub fn name(self) -> &'static str {
        match self {
            RankBy::NormalizedMargin => "normalized_margin",
            RankBy::SelfConfidence => "self_confidence",
            RankBy::ConfidenceWeightedEntropy => "confidence_weighted_entropy",
        }
    }
}

impl fmt::Display for RankBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown score '{0}' (expected normalized_margin, self_confidence or confidence_weighted_entropy)"
)]
pub struct UnknownRankBy(pub String);

impl FromStr for RankBy {
    type Err = UnknownRankBy;

    /// cleanlab's names; `entropy` for the last one, as the CLI spells it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "normalized_margin" => Ok(RankBy::NormalizedMargin),
            "self_confidence" => Ok(RankBy::SelfConfidence),
            "confidence_weighted_entropy" | "entropy" => Ok(RankBy::ConfidenceWeightedEntropy),
            _ => Err(UnknownRankBy(s.chars().take(64).collect())),
        }
    }
}

/// The label quality score of one row given `given` (`None` when `given` is no class of the
/// row), computed in cleanlab's order of operations (the row's entropy summed in numpy's
/// pairwise order).
pub fn quality_score<P: Probability>(values: &[P], given: usize, rank_by: RankBy) -> Option<f64> {
    let own = values.get(given)?.widen();
    Some(match rank_by {
        RankBy::SelfConfidence => own,
        RankBy::NormalizedMargin => {
            let best_other = others_max(values, given).widen();
            (own - best_other + 1.0) / 2.0
        }
        RankBy::ConfidenceWeightedEntropy => {
            let own = own.max(CLIPPING_LOWER_BOUND);
            let terms: Vec<f64> = values
                .iter()
                .map(|v| {
                    let p = v.widen();
                    // scipy's xlogy: 0 where p is 0.
                    if p == 0.0 { 0.0 } else { p * p.ln() }
                })
                .collect();
            let entropy = -pairwise_sum(&terms) / (values.len() as f64).ln();
            let score = entropy / own;
            (score + 1.0).ln() / score.max(CLIPPING_LOWER_BOUND)
        }
    })
}

/// The label quality score of row `row` of `input` ([`quality_score`] of its row and given
/// class; `None` without a label). The two simple scores come from what the input kept of the
/// row, without reading it again.
pub fn label_quality<P: Probability>(
    input: &AuditInput<'_, P>,
    row: usize,
    rank_by: RankBy,
) -> Option<f64> {
    let given = input.labels().get(row).copied().flatten()?;
    let (own, best_other) = input.own_and_best_other(row);
    Some(match rank_by {
        RankBy::SelfConfidence => own,
        RankBy::NormalizedMargin => (own - best_other + 1.0) / 2.0,
        RankBy::ConfidenceWeightedEntropy => quality_score(input.row(row), given, rank_by)?,
    })
}

/// One issue in the ranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedIssue {
    /// The row (product).
    pub row: usize,
    /// Its label quality score (lower: more likely wrong).
    pub score: f64,
    /// The given class.
    pub given: usize,
    /// The model's most probable class (never the given one for an issue).
    pub suggested: usize,
}

/// The issues `rows` (in row order) ranked by `rank_by`, lowest score first; equal scores
/// keep row order (cleanlab's `np.argsort` made stable, see the module docs).
pub fn order_label_issues<P: Probability>(
    input: &AuditInput<'_, P>,
    rows: &[usize],
    rank_by: RankBy,
) -> Vec<RankedIssue> {
    let labels = input.labels();
    let mut ranked: Vec<RankedIssue> = rows
        .iter()
        .filter_map(|&row| {
            let given = labels.get(row).copied().flatten()?;
            Some(RankedIssue {
                row,
                score: label_quality(input, row, rank_by)?,
                given,
                suggested: input.most_probable(row),
            })
        })
        .collect();
    // Rows are distinct, so an unstable sort by (score, row) is the stable sort by score.
    ranked.sort_unstable_by(|a, b| {
        a.score
            .partial_cmp(&b.score)
            .unwrap_or(Ordering::Equal)
            .then(a.row.cmp(&b.row))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_cleanlabs_formulas() {
        let row = [0.5f64, 0.3, 0.2];
        assert_eq!(quality_score(&row, 1, RankBy::SelfConfidence), Some(0.3));
        assert_eq!(quality_score(&row, 3, RankBy::SelfConfidence), None);
        assert!((quality_score(&row, 1, RankBy::NormalizedMargin).unwrap() - 0.4).abs() < 1e-15);
        assert!((quality_score(&row, 0, RankBy::NormalizedMargin).unwrap() - 0.6).abs() < 1e-15);
        let entropy = -(0.5f64 * 0.5f64.ln() + 0.3 * 0.3f64.ln() + 0.2 * 0.2f64.ln()) / 3f64.ln();
        let x = entropy / 0.2;
        let expected = (x + 1.0).ln() / x;
        let score = quality_score(&row, 2, RankBy::ConfidenceWeightedEntropy).unwrap();
        assert!((score - expected).abs() < 1e-12, "{score} {expected}");
        // A given class with probability 0 is clipped to 1e-6, not divided by zero.
        let sure = [1.0f32, 0.0];
        let score = quality_score(&sure, 1, RankBy::ConfidenceWeightedEntropy).unwrap();
        assert!(score.is_finite());
    }

    #[test]
    fn issues_rank_lowest_score_first_and_ties_in_row_order() {
        let probs = [
            0.1f32, 0.9, // row 0, given 0: margin score 0.1
            0.3, 0.7, // row 1, given 0: 0.3
            0.1, 0.9, // row 2, given 0: 0.1 (tie with row 0)
        ];
        let labels = [Some(0), Some(0), Some(0)];
        let input = AuditInput::new(&probs, 2, &labels).unwrap();
        let ranked = order_label_issues(&input, &[0, 1, 2], RankBy::NormalizedMargin);
        let rows: Vec<usize> = ranked.iter().map(|r| r.row).collect();
        assert_eq!(rows, vec![0, 2, 1]);
        assert!(ranked.iter().all(|r| r.suggested == 1 && r.given == 0));
    }

    #[test]
    fn names_parse_back() {
        for rank_by in RankBy::ALL {
            assert_eq!(rank_by.name().parse::<RankBy>(), Ok(rank_by));
        }
        assert_eq!("entropy".parse(), Ok(RankBy::ConfidenceWeightedEntropy));
        assert!("margin".parse::<RankBy>().is_err());
    }
}
