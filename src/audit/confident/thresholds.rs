//! Per-class thresholds: cleanlab's `count.get_confident_thresholds`.

use super::input::{AuditInput, Probability};
use super::numeric::pairwise_sum;

/// The threshold of a class no product is given: above any probability, so no product is
/// ever confidently counted into it (cleanlab's `BIG_VALUE`).
pub const NO_EXAMPLES: f64 = 2.0;

/// The lowest threshold (cleanlab's `CONFIDENT_THRESHOLDS_LOWER_BOUND`, twice the 1e-6
/// tolerance of the comparison, so that a class whose products all get probability 0 is not
/// "confident" for every product).
pub const LOWER_BOUND: f64 = 2.0 * super::FLOATING_POINT_COMPARISON;

/// Each class's threshold: the mean self-confidence (probability of the class) over the
/// products given that class, at least [`LOWER_BOUND`]; [`NO_EXAMPLES`] for a class given to
/// none. Means are summed in numpy's pairwise order, so they agree with cleanlab to the bit.
pub fn confident_thresholds<P: Probability>(input: &AuditInput<'_, P>) -> Vec<f64> {
    let counts = input.label_counts();
    // Self-confidences grouped by class (a counting sort), each group in row order as numpy's
    // `pred_probs[:, k][labels == k]` holds them.
    let mut starts = Vec::with_capacity(counts.len() + 1);
    let mut total = 0;
    for &count in counts {
        starts.push(total);
        total += count;
    }
    starts.push(total);
    let mut next = starts.clone();
    let mut grouped = vec![0.0f64; total];
    for (row, label) in input.labels().iter().enumerate() {
        if let Some(label) = *label {
            grouped[next[label]] = input.own_and_best_other(row).0;
            next[label] += 1;
        }
    }
    (0..counts.len())
        .map(|k| {
            let members = &grouped[starts[k]..starts[k + 1]];
            if members.is_empty() {
                NO_EXAMPLES
            } else {
                (pairwise_sum(members) / members.len() as f64).max(LOWER_BOUND)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_mean_self_confidence_clipped_and_big_for_empty_classes() {
        let probs = [
            0.75f32, 0.25, 0.0, //
            0.25, 0.75, 0.0, //
            0.5, 0.5, 0.0, //
            1.0, 0.0, 0.0, //
            0.0, 1.0, 0.0,
        ];
        let labels = [Some(0), Some(0), Some(1), None, Some(0)];
        let input = AuditInput::new(&probs, 3, &labels).unwrap();
        // Class 0: (0.75 + 0.25 + 0.0) / 3; class 1: 0.5; class 2: given to none. The
        // unlabelled row (1.0 for class 0) takes no part.
        assert_eq!(
            confident_thresholds(&input),
            vec![1.0 / 3.0, 0.5, NO_EXAMPLES]
        );
        let zeros = [0.0f32, 1.0, 1.0, 0.0];
        let input = AuditInput::new(&zeros, 2, &[Some(0), Some(1)]).unwrap();
        assert_eq!(confident_thresholds(&input), vec![LOWER_BOUND, LOWER_BOUND]);
    }
}
