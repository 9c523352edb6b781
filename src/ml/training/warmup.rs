//! The warm-up of a run on a backend that tunes and compiles its kernels per tensor shape
//! (cubecl on GPUs): the first step of each of the run's few shapes (see
//! [`crate::ml::data::Shapes`]) pays for autotuning and compiling, so its time is counted apart
//! and left out of the throughput, and the epoch's record says how long it took.

use crate::ml::data::TensorSizes;
use std::collections::HashSet;

/// The shapes a run has stepped through so far, and the current epoch's warm-up.
#[derive(Debug, Default)]
pub(super) struct Warmup {
    seen: HashSet<TensorSizes>,
    epoch: EpochWarmup,
}

/// One epoch's warm-up steps.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct EpochWarmup {
    /// Seconds its warm-up steps took.
    pub seconds: f64,
    /// Images those steps trained.
    pub images: usize,
    /// How many there were.
    pub steps: usize,
}

impl Warmup {
    /// Counts a step of `sizes` that trained `images` images in `seconds`; a batch padded to
    /// a run's constant shapes (`constant`: on a backend that tunes per shape) whose shape is
    /// new in the run is warm-up. Returns whether it was.
    pub(super) fn step(
        &mut self,
        sizes: TensorSizes,
        constant: bool,
        images: usize,
        seconds: f64,
    ) -> bool {
        let first = constant && self.seen.insert(sizes);
        if first {
            self.epoch.seconds += seconds;
            self.epoch.images += images;
            self.epoch.steps += 1;
        }
        first
    }

    /// The epoch's warm-up, which starts again at zero for the next one.
    pub(super) fn end_epoch(&mut self) -> EpochWarmup {
        std::mem::take(&mut self.epoch)
    }
}

impl EpochWarmup {
    /// Images per second of an epoch that trained `images` in `seconds` (data waits
    /// included), without its warm-up steps; all of it when every step was warm-up.
    pub(super) fn throughput(&self, images: usize, seconds: f64) -> f32 {
        let (images, seconds) = if self.images < images && self.seconds < seconds {
            (images - self.images, seconds - self.seconds)
        } else {
            (images, seconds)
        };
        (images as f64 / seconds.max(1e-6)) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(photos: usize) -> TensorSizes {
        TensorSizes {
            photos,
            products: 8,
            slots: 5,
        }
    }

    #[test]
    fn the_first_step_of_each_shape_is_warm_up_and_left_out_of_the_throughput() {
        let mut warmup = Warmup::default();
        assert!(warmup.step(sizes(16), true, 12, 5.0));
        assert!(!warmup.step(sizes(16), true, 12, 0.5));
        assert!(warmup.step(sizes(24), true, 20, 4.0));
        assert!(!warmup.step(sizes(24), true, 20, 0.5));
        let epoch = warmup.end_epoch();
        assert_eq!(
            epoch,
            EpochWarmup {
                seconds: 9.0,
                images: 32,
                steps: 2
            }
        );
        // 64 images in 10 s, of which 32 in 9 s were warm-up: 32 in 1 s.
        assert_eq!(epoch.throughput(64, 10.0), 32.0);
        // The next epoch has seen both shapes: no warm-up, the whole rate.
        assert!(!warmup.step(sizes(16), true, 12, 0.5));
        let next = warmup.end_epoch();
        assert_eq!(next, EpochWarmup::default());
        assert_eq!(next.throughput(12, 0.5), 24.0);
    }

    #[test]
    fn batches_of_their_own_shape_are_never_warm_up_and_an_all_warm_up_epoch_keeps_its_rate() {
        let mut warmup = Warmup::default();
        assert!(!warmup.step(sizes(16), false, 12, 5.0));
        assert_eq!(warmup.end_epoch(), EpochWarmup::default());
        assert!(warmup.step(sizes(16), true, 12, 4.0));
        let epoch = warmup.end_epoch();
        assert_eq!(epoch.throughput(12, 4.0), 3.0);
    }
}
