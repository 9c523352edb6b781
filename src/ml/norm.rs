//! Batch normalisation of `[N, C, H, W]` feature maps, written for the Flex CPU backend's fast
//! paths. Same parameters, running statistics, record layout and results as burn's
//! `BatchNorm` (a test checks outputs and gradients against it), so checkpoints load either way.
//!
//! burn's version spends most of a small network's CPU step in Flex's generic strided iterator:
//! its per-channel `[1, C, 1, 1]` operands broadcast over the batch dimension too, which none of
//! Flex's SIMD broadcast kernels handle, and it transposes the input twice to reduce it. Here
//! statistics are reductions over the contiguous trailing axes, and the normalisation is one
//! multiply and one add by `[N, C, 1, 1]` tensors (the per-channel values repeated over the
//! batch, `N * C` numbers), the "per-row scalar" pattern Flex runs with SIMD.

use burn::module::{Param, RunningState};
use burn::prelude::*;

/// Batch norm over the channels of `[N, C, H, W]` maps. Build it with [`ChannelNorm::new`].
#[derive(Module, Debug)]
pub struct ChannelNorm<B: Backend> {
    /// Scale, per channel.
    pub gamma: Param<Tensor<B, 1>>,
    /// Shift, per channel.
    pub beta: Param<Tensor<B, 1>>,
    /// Running mean, per channel (used in inference).
    pub running_mean: RunningState<Tensor<B, 1>>,
    /// Running (biased) variance, per channel.
    pub running_var: RunningState<Tensor<B, 1>>,
    /// Weight of the batch's statistics in the running ones (burn's default 0.1).
    pub momentum: f64,
    /// Added to the variance (burn's default 1e-5).
    pub epsilon: f64,
}

impl<B: Backend> ChannelNorm<B> {
    /// Scale 1, shift 0, running mean 0 and variance 1, as burn's `BatchNormConfig::init`.
    pub fn new(channels: usize, device: &B::Device) -> Self {
        ChannelNorm {
            gamma: Param::from_tensor(Tensor::ones([channels], device)),
            beta: Param::from_tensor(Tensor::zeros([channels], device)),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            momentum: 0.1,
            epsilon: 1e-5,
        }
    }

    /// Normalises `x`, `[N, C, H, W]`, with the batch's statistics while training (autodiff
    /// backend) and the running ones otherwise.
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [n, c, h, w] = x.dims();
        let (mean, var) = if B::ad_enabled(&x.device()) {
            // Means over the contiguous H*W axis first, then over the batch: [1, C].
            let flat = x.clone().reshape([n, c, h * w]); // [N, C, HW]
            let mean = flat.clone().mean_dim(2).mean_dim(0).reshape([c]); // [C]
            let square = flat.square().mean_dim(2).mean_dim(0).reshape([c]); // [C]
            let var = (square - mean.clone().square()).clamp_min(0.0); // biased, as burn
            self.update_running(mean.clone(), var.clone());
            (mean, var)
        } else {
            let device = x.device();
            (
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
            )
        };
        // y = (x - mean) / sqrt(var + eps) * gamma + beta = x * scale + shift.
        let scale = self.gamma.val() * (var + self.epsilon).sqrt().recip(); // [C]
        let shift = self.beta.val() - mean * scale.clone(); // [C]
        let per_map = |v: Tensor<B, 1>| v.reshape([1, c, 1, 1]).repeat_dim(0, n); // [N, C, 1, 1]
        x * per_map(scale) + per_map(shift)
    }

    fn update_running(&self, mean: Tensor<B, 1>, var: Tensor<B, 1>) {
        let device = mean.device();
        let m = self.momentum;
        let running_mean = self.running_mean.value_sync().to_device(&device);
        let running_var = self.running_var.value_sync().to_device(&device);
        self.running_mean
            .update((running_mean.mul_scalar(1.0 - m) + mean.detach().mul_scalar(m)).detach());
        self.running_var
            .update((running_var.mul_scalar(1.0 - m) + var.detach().mul_scalar(m)).detach());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::backend::{Cpu, CpuTraining, cpu_device};
    use burn::module::AutodiffModule;
    use burn::nn::{BatchNorm, BatchNormConfig};
    use burn::tensor::Distribution;

    fn close(a: Vec<f32>, b: Vec<f32>, what: &str) {
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-4, "{what}: differs by {worst}");
    }

    fn values<const D: usize>(t: Tensor<CpuTraining, D>) -> Vec<f32> {
        t.into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn matches_burns_batch_norm_forward_backward_and_running_statistics() {
        let device = cpu_device();
        let ours = ChannelNorm::<CpuTraining>::new(3, &device);
        let mut theirs: BatchNorm<CpuTraining> = BatchNormConfig::new(3).init(&device);
        // Same non-trivial scale and shift on both.
        let gamma = Tensor::<CpuTraining, 1>::from_floats([0.5, 1.5, -2.0], &device);
        let beta = Tensor::<CpuTraining, 1>::from_floats([0.1, -0.3, 2.0], &device);
        let ours = ChannelNorm {
            gamma: Param::from_tensor(gamma.clone()),
            beta: Param::from_tensor(beta.clone()),
            ..ours
        };
        theirs.gamma = Param::from_tensor(gamma);
        theirs.beta = Param::from_tensor(beta);
        // Offset channels, so a wrong mean or variance shows.
        let x =
            Tensor::<CpuTraining, 4>::random([4, 3, 5, 6], Distribution::Normal(0.0, 2.0), &device)
                + Tensor::<CpuTraining, 1>::from_floats([3.0, -1.0, 0.5], &device)
                    .reshape([1, 3, 1, 1]);
        let x = x.require_grad();
        let weights =
            Tensor::<CpuTraining, 4>::random([4, 3, 5, 6], Distribution::Default, &device);
        let y_ours = ours.forward(x.clone());
        let y_theirs = theirs.forward(x.clone());
        close(values(y_ours.clone()), values(y_theirs.clone()), "output");
        let g_ours = (y_ours * weights.clone()).sum().backward();
        let g_theirs = (y_theirs * weights).sum().backward();
        let grad = |g: &<CpuTraining as burn::tensor::backend::AutodiffBackend>::Gradients,
                    p: &Param<Tensor<CpuTraining, 1>>| {
            p.grad(g).unwrap().into_data().to_vec::<f32>().unwrap()
        };
        close(
            x.grad(&g_ours)
                .unwrap()
                .into_data()
                .to_vec::<f32>()
                .unwrap(),
            x.grad(&g_theirs)
                .unwrap()
                .into_data()
                .to_vec::<f32>()
                .unwrap(),
            "input gradient",
        );
        close(
            grad(&g_ours, &ours.gamma),
            grad(&g_theirs, &theirs.gamma),
            "gamma gradient",
        );
        close(
            grad(&g_ours, &ours.beta),
            grad(&g_theirs, &theirs.beta),
            "beta gradient",
        );
        let running = |t: &RunningState<Tensor<CpuTraining, 1>>| {
            t.value_sync().into_data().to_vec::<f32>().unwrap()
        };
        close(
            running(&ours.running_mean),
            running(&theirs.running_mean),
            "running mean",
        );
        close(
            running(&ours.running_var),
            running(&theirs.running_var),
            "running variance",
        );

        // Inference (no autodiff) uses the running statistics, as burn's.
        let ours = ours.valid();
        let theirs = theirs.valid();
        let x = Tensor::<Cpu, 4>::random([2, 3, 4, 4], Distribution::Default, &device);
        close(
            ours.forward(x.clone()).into_data().to_vec::<f32>().unwrap(),
            theirs.forward(x).into_data().to_vec::<f32>().unwrap(),
            "inference",
        );
    }
}
