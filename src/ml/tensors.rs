//! Turning a [`Batch`] of plain vectors into tensors on a device.

use super::data::Batch;
use burn::prelude::*;

/// The images `[images, 3, crop, crop]` and pooling slots `[samples * max_images]` of `batch`.
pub fn batch_inputs<B: Backend>(
    batch: &Batch,
    device: &B::Device,
) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
    let c = batch.crop;
    let images = Tensor::from_data(
        TensorData::new(batch.pixels.clone(), [batch.image_count(), 3, c, c]),
        device,
    );
    let slots = batch.slots();
    let count = slots.len();
    let slots = Tensor::from_data(TensorData::new(slots, [count]), device);
    (images, slots)
}

/// Head `h`'s targets (0 where missing) and loss weights (`1 / labelled` of the whole batch
/// where present, 0 where missing).
pub fn head_targets<B: Backend>(
    batch: &Batch,
    h: usize,
    labelled_in_whole_batch: usize,
    device: &B::Device,
) -> (Tensor<B, 1, Int>, Tensor<B, 1>) {
    let n = batch.len();
    let weight = 1.0 / labelled_in_whole_batch.max(1) as f32;
    let targets: Vec<i32> = batch.targets[h]
        .iter()
        .map(|t| t.map_or(0, |c| c as i32))
        .collect();
    let weights: Vec<f32> = batch.targets[h]
        .iter()
        .map(|t| if t.is_some() { weight } else { 0.0 })
        .collect();
    (
        Tensor::from_data(TensorData::new(targets, [n]), device),
        Tensor::from_data(TensorData::new(weights, [n]), device),
    )
}
