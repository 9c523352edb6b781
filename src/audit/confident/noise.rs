//! The noise matrices, the prior of the true classes and the joint distribution: cleanlab's
//! `count.estimate_latent` (with its defaults, `py_method="cnt"` and no convergence) and
//! `count.estimate_joint`.

use super::joint::ClassMatrix;
use super::numeric::pairwise_sum;
use super::{CLIPPING_LOWER_BOUND, TINY_VALUE};

/// The largest noise rate `clip_noise_rates` keeps (diagonal cells are not noise rates).
const MAX_NOISE_RATE: f64 = 0.9999;

/// What the calibrated confident joint says about the true classes.
#[derive(Debug, Clone, PartialEq)]
pub struct Latent {
    /// `prior[j]`: the estimated share of products truly of class `j` (cleanlab's `py`).
    pub prior: Vec<f64>,
    /// `get(given i, true j)`: P(given i | true j), each column adding up to 1 (cleanlab's
    /// `noise_matrix`). Off the diagonal: how often class `j` is labelled `i`.
    pub noise_matrix: ClassMatrix<f64>,
    /// `get(true j, given i)`: P(true j | given i), each column adding up to 1 (cleanlab's
    /// `inverse_noise_matrix`). Column `i` off the diagonal: what the products given `i`
    /// truly are.
    pub inverse_noise_matrix: ClassMatrix<f64>,
}

/// cleanlab's `estimate_latent` on a calibrated confident joint: the noise matrix divides
/// each cell by its column total, the inverse noise matrix by its row total (transposed); the
/// prior is `inverse[k][k] / noise[k][k] * P(given k)`, clipped to at least 1e-6 and
/// renormalised; noise rates are clipped to 0..0.9999 and each column renormalised.
pub fn estimate_latent(calibrated: &ClassMatrix<i64>, label_counts: &[usize]) -> Latent {
    let classes = calibrated.classes();
    let labelled: usize = label_counts.iter().sum();
    let given_totals: Vec<f64> = (0..classes)
        .map(|i| calibrated.row(i).iter().sum::<i64>() as f64)
        .collect();
    let true_totals: Vec<f64> = (0..classes)
        .map(|j| (0..classes).map(|i| calibrated.get(i, j)).sum::<i64>() as f64)
        .collect();
    let mut noise = ClassMatrix::filled(classes, 0.0);
    let mut inverse = ClassMatrix::filled(classes, 0.0);
    for (i, given_total) in given_totals.iter().enumerate() {
        for (j, true_total) in true_totals.iter().enumerate() {
            let cell = calibrated.get(i, j) as f64;
            noise.set(i, j, cell / true_total.max(TINY_VALUE));
            inverse.set(j, i, cell / given_total.max(TINY_VALUE));
        }
    }
    let prior: Vec<f64> = (0..classes)
        .map(|k| {
            let given_share = label_counts[k] as f64 / labelled as f64;
            (inverse.get(k, k) / noise.get(k, k).max(TINY_VALUE) * given_share)
                .clamp(CLIPPING_LOWER_BOUND, 1.0)
        })
        .collect();
    let total = pairwise_sum(&prior).max(TINY_VALUE);
    // cleanlab multiplies by the new sum (1.0) before dividing, which changes nothing.
    let prior = prior.iter().map(|p| p / total).collect();
    Latent {
        prior,
        noise_matrix: clip_noise_rates(&noise),
        inverse_noise_matrix: clip_noise_rates(&inverse),
    }
}

/// cleanlab's `clip_noise_rates`: off-diagonal cells clipped to 0..0.9999, then each column
/// divided by its total (added top to bottom, as numpy sums along the first axis).
fn clip_noise_rates(matrix: &ClassMatrix<f64>) -> ClassMatrix<f64> {
    let classes = matrix.classes();
    let mut clipped = matrix.clone();
    for i in 0..classes {
        for j in 0..classes {
            if i != j {
                clipped.set(i, j, matrix.get(i, j).clamp(0.0, MAX_NOISE_RATE));
            }
        }
    }
    let totals: Vec<f64> = (0..classes)
        .map(|j| (0..classes).fold(0.0, |sum, i| sum + clipped.get(i, j)))
        .collect();
    for i in 0..classes {
        for (j, total) in totals.iter().enumerate() {
            clipped.set(i, j, clipped.get(i, j) / total.max(TINY_VALUE));
        }
    }
    clipped
}

/// cleanlab's `estimate_joint`: the calibrated confident joint divided by its total, an
/// estimate of P(given i, true j) (rows: given class).
pub fn estimate_joint(calibrated: &ClassMatrix<i64>) -> ClassMatrix<f64> {
    let total = (calibrated.cells().iter().sum::<i64>() as f64).max(TINY_VALUE);
    let classes = calibrated.classes();
    let mut joint = ClassMatrix::filled(classes, 0.0);
    for i in 0..classes {
        for j in 0..classes {
            joint.set(i, j, calibrated.get(i, j) as f64 / total);
        }
    }
    joint
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: &[&[i64]]) -> ClassMatrix<i64> {
        let mut m = ClassMatrix::filled(rows.len(), 0);
        for (i, row) in rows.iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                m.set(i, j, c);
            }
        }
        m
    }

    #[test]
    fn noise_matrices_and_prior_follow_the_joint() {
        // 10 given class 0 (8 truly 0, 2 truly 1), 10 given class 1 (all truly 1).
        let calibrated = matrix(&[&[8, 2], &[0, 10]]);
        let latent = estimate_latent(&calibrated, &[10, 10]);
        // P(given 0 | true 1) = 2 / 12.
        assert!((latent.noise_matrix.get(0, 1) - 2.0 / 12.0).abs() < 1e-12);
        assert!((latent.noise_matrix.get(0, 0) - 1.0).abs() < 1e-12);
        // P(true 1 | given 0) = 2 / 10.
        assert!((latent.inverse_noise_matrix.get(1, 0) - 0.2).abs() < 1e-12);
        // 8 truly class 0, 12 truly class 1.
        assert!((latent.prior[0] - 0.4).abs() < 1e-12);
        assert!((latent.prior[1] - 0.6).abs() < 1e-12);
        let joint = estimate_joint(&calibrated);
        assert_eq!(joint.get(0, 1), 0.1);
    }

    #[test]
    fn a_class_given_to_nobody_keeps_valid_matrices() {
        let calibrated = matrix(&[&[5, 0, 1], &[0, 0, 0], &[1, 0, 3]]);
        let latent = estimate_latent(&calibrated, &[6, 0, 4]);
        assert!(latent.prior.iter().all(|p| p.is_finite() && *p > 0.0));
        assert!(latent.prior[1] <= 2e-6);
        for m in [&latent.noise_matrix, &latent.inverse_noise_matrix] {
            assert!(m.cells().iter().all(|c| c.is_finite() && *c >= 0.0));
        }
    }
}
