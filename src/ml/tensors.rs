//! Turning a [`Batch`] of plain vectors into tensors on a device.

use super::data::Batch;
use burn::prelude::*;

/// A batch's inputs to the network.
pub struct BatchInputs<B: Backend> {
    /// The photos, `[photos, 3, crop, crop]`: the batch's, then the padding its shape asks.
    pub images: Tensor<B, 4>,
    /// The pooling slots, `[products * slots per product]`.
    pub slots: Tensor<B, 1, Int>,
    /// The products the network computes: the batch's, then the padding its shape asks
    /// (their outputs are not read).
    pub products: usize,
}

/// The inputs of `batch`, padded to its [`Shapes`](super::data::Shapes) when it has one (see
/// there).
pub fn batch_inputs<B: Backend>(batch: &Batch, device: &B::Device) -> BatchInputs<B> {
    let c = batch.crop;
    let sizes = batch.sizes();
    let images = Tensor::from_data(
        TensorData::new(batch.padded_pixels(sizes.photos), [sizes.photos, 3, c, c]),
        device,
    );
    let slots = batch.slots(sizes.products, sizes.slots);
    let count = slots.len();
    let slots = Tensor::from_data(TensorData::new(slots, [count]), device);
    BatchInputs {
        images,
        slots,
        products: sizes.products,
    }
}

/// Head `h`'s targets (0 where missing) and loss weights (`1 / labelled` of the whole batch
/// where present, 0 where missing), for `products` products: the batch's, then padding,
/// unlabelled.
pub fn head_targets<B: Backend>(
    batch: &Batch,
    h: usize,
    labelled_in_whole_batch: usize,
    products: usize,
    device: &B::Device,
) -> (Tensor<B, 1, Int>, Tensor<B, 1>) {
    let n = products.max(batch.len());
    let weight = 1.0 / labelled_in_whole_batch.max(1) as f32;
    let label = |k: usize| batch.targets[h].get(k).copied().flatten();
    let targets: Vec<i32> = (0..n).map(|k| label(k).map_or(0, |c| c as i32)).collect();
    let weights: Vec<f32> = (0..n)
        .map(|k| if label(k).is_some() { weight } else { 0.0 })
        .collect();
    (
        Tensor::from_data(TensorData::new(targets, [n]), device),
        Tensor::from_data(TensorData::new(weights, [n]), device),
    )
}
