//! numpy's arithmetic where cleanlab's results depend on it: pairwise summation (the order in
//! which `np.sum` and `np.mean` add, which decides the last bit of a threshold and of the
//! calibrated joint) and `round_preserving_sum` with its tie order; and a fast row maximum.

use super::input::Probability;
use std::cmp::Ordering;

/// Sum of `values` added in numpy's order (`pairwise_sum` in numpy's `loops_utils.h`): fewer
/// than 8 values one by one, up to 128 in 8 interleaved partial sums, more split in two halves
/// whose sizes are multiples of 8.
pub(crate) fn pairwise_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        values.iter().fold(0.0, |sum, &v| sum + v)
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let whole = n - n % 8;
        for chunk in values[8..whole].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[whole..] {
            sum += v;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// cleanlab's `round_preserving_sum`: rounds each value half to even, then moves the values
/// with the largest remainders up (or the smallest down) by one until the integers add up to
/// the rounded sum of the floats. Equal remainders are taken as a stable argsort orders them
/// and then reversed when moving up: the later index first going up, the earlier going down.
pub(crate) fn round_preserving_sum(floats: &[f64]) -> Vec<i64> {
    let mut ints: Vec<f64> = floats.iter().map(|v| v.round_ties_even()).collect();
    let target = pairwise_sum(floats).round_ties_even();
    let mut int_sum = pairwise_sum(&ints).round_ties_even();
    let mut order: Vec<usize> = (0..floats.len()).collect();
    while (int_sum - target).abs() > super::FLOATING_POINT_COMPARISON {
        let diff = (target - int_sum).round_ties_even();
        let step = if diff < 0.0 { -1.0 } else { 1.0 };
        let changes = (diff.abs() as usize).min(floats.len());
        let remainders: Vec<f64> = floats.iter().zip(&ints).map(|(f, i)| f - i).collect();
        // numpy compares -0.0 and 0.0 as equal; there is no NaN here (inputs are validated).
        order.sort_by(|&a, &b| {
            remainders[a]
                .partial_cmp(&remainders[b])
                .unwrap_or(Ordering::Equal)
        });
        if step > 0.0 {
            order.reverse();
        }
        for &i in &order[..changes] {
            ints[i] += step;
        }
        order.sort_unstable();
        int_sum = pairwise_sum(&ints).round_ties_even();
    }
    ints.iter().map(|&v| v as i64).collect()
}

/// Lanes of the row maximum: 16 values side by side, so that several independent SSE
/// comparisons are in flight.
const LANES: usize = 16;

/// The largest of `values` (0 for none: probabilities are not negative).
#[inline]
pub(crate) fn max_of<P: Probability>(values: &[P]) -> P {
    if values.len() < LANES {
        // Small heads (gender, type): the lanes would cost more than they save.
        return values.iter().fold(P::ZERO, |a, &b| a.max_of(b));
    }
    let mut lanes = [P::ZERO; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = lane.max_of(v);
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(rest) {
        *lane = lane.max_of(v);
    }
    lanes.iter().fold(P::ZERO, |a, &b| a.max_of(b))
}

/// The largest of `values` other than the one at `skip`.
#[inline]
pub(crate) fn others_max<P: Probability>(values: &[P], skip: usize) -> P {
    max_of(&values[..skip]).max_of(max_of(&values[skip + 1..]))
}

/// Position of the first largest value (numpy's `argmax`; 0 for an empty slice).
#[inline]
pub(crate) fn first_max<P: Probability>(values: &[P]) -> usize {
    let largest = max_of(values);
    values.iter().position(|&v| v == largest).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_adds_in_numpys_order() {
        // 0.1 added 10 times one by one is 0.9999999999999999; numpy's 8 partial sums give 1.
        let values = [0.1; 10];
        assert_eq!(values.iter().sum::<f64>(), 0.9999999999999999);
        assert_eq!(pairwise_sum(&values), 1.0);
        assert_eq!(pairwise_sum(&[]), 0.0);
        let many: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert_eq!(pairwise_sum(&many), 499_500.0);
    }

    #[test]
    fn rounding_keeps_the_row_total_and_breaks_ties_as_cleanlab() {
        // 2.5 and 2.5 round to 2 and 2 (half to even); the total 6 needs one more: the later
        // of the two equal remainders goes up.
        assert_eq!(round_preserving_sum(&[2.5, 2.5, 1.0]), vec![2, 3, 1]);
        // 1.5 and 1.5 round to 2 and 2; the total 4 needs one less: the smallest remainder
        // (-0.5, both) goes down, the earlier first.
        assert_eq!(round_preserving_sum(&[1.5, 1.5, 1.0]), vec![1, 2, 1]);
        assert_eq!(round_preserving_sum(&[0.4, 0.4, 0.2]), vec![0, 1, 0]);
    }
}
