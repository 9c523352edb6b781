//! Which photo decided: for a multi-image run, how much each photo of a product contributed to
//! each task's prediction, measured by what the model does. The product's photos go through
//! the CNN once; then the element-wise max-pool is taken over all of them (the prediction),
//! and again over all but one, for each photo in turn. A photo's contribution to a task is
//! how far the predicted class's probability falls without it: a photo whose features no
//! other photo matches moves the prediction; a photo the others repeat moves nothing.

use super::data::Batch;
use super::evaluate::{argmax, floats};
use super::model::Model;
use super::tensors::batch_inputs;
use crate::catalog::Task;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::Serialize;
use std::collections::BTreeMap;

/// One task's prediction and each photo's part in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskDecision {
    /// The predicted class (with every photo).
    pub class: String,
    /// Its probability with every photo.
    pub probability: f32,
    /// Per photo (in the product's order): the predicted class's probability with that photo
    /// left out of the max-pool.
    pub without: Vec<f32>,
    /// Per photo: `probability - without`, how much the photo holds the prediction up
    /// (negative: the prediction is surer without it).
    pub drop: Vec<f32>,
    /// The photo whose absence lowers the prediction most, when one lowers it at all.
    pub decided_by: Option<usize>,
}

/// Each photo's part in each task of one product (a batch of that one product, its photos in
/// order: `batch.ranges == [0..n]`); `classes` names each head's classes, in head order.
pub fn decide<B: Backend>(
    model: &Model<B>,
    batch: &Batch,
    heads: &[Task],
    classes: &[&[String]],
    device: &B::Device,
) -> BTreeMap<Task, TaskDecision> {
    let n = batch.image_count();
    let (images, slots) = batch_inputs::<B>(batch, device);
    let full = probabilities(model.forward(images.clone(), slots, 1).logits);
    // Product j of the second pass pools every photo but j (a single photo: nothing to leave
    // out, so that pass is skipped).
    let without = if n > 1 {
        let slots: Vec<i32> = (0..n)
            .flat_map(|j| (0..n).filter(move |&k| k != j).map(|k| k as i32))
            .collect();
        let count = slots.len();
        let slots = Tensor::from_data(TensorData::new(slots, [count]), device);
        probabilities(model.forward(images, slots, n).logits)
    } else {
        vec![Vec::new(); heads.len()]
    };
    heads
        .iter()
        .enumerate()
        .map(|(h, &task)| {
            let row = &full[h];
            let best = argmax(row);
            let width = row.len();
            let without: Vec<f32> = (0..if n > 1 { n } else { 0 })
                .map(|j| without[h][j * width + best])
                .collect();
            let drop: Vec<f32> = without.iter().map(|w| row[best] - w).collect();
            let decided_by = drop
                .iter()
                .enumerate()
                .filter(|(_, d)| **d > 0.0)
                .fold(None, |b: Option<(usize, f32)>, (j, &d)| match b {
                    Some((_, bd)) if bd >= d => b,
                    _ => Some((j, d)),
                })
                .map(|(j, _)| j);
            let decision = TaskDecision {
                class: classes[h].get(best).cloned().unwrap_or_default(),
                probability: row[best],
                without,
                drop,
                decided_by,
            };
            (task, decision)
        })
        .collect()
}

/// Softmax of each head's logits, row-major.
fn probabilities<B: Backend>(logits: Vec<Tensor<B, 2>>) -> Vec<Vec<f32>> {
    logits
        .into_iter()
        .map(|l| floats(softmax(l, 1).into_data()))
        .collect()
}
