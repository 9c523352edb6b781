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
use crate::ml::model_backend::ModelBackend;
use crate::runs::predictions::{MAX_PHOTOS, PhotoParts, PhotoTask};
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
pub fn decide<B: ModelBackend>(
    model: &Model<B>,
    batch: &Batch,
    heads: &[Task],
    classes: &[&[String]],
    device: &B::Device,
) -> BTreeMap<Task, TaskDecision> {
    let inputs = batch_inputs::<B>(batch, device);
    let features = model.photo_features(inputs.images);
    let full = probabilities(
        model
            .pooled(features.clone(), inputs.slots, inputs.products)
            .logits,
    );
    let parts = decide_batch(model, features, batch, heads, &full, device)
        .into_iter()
        .next()
        .flatten();
    heads
        .iter()
        .enumerate()
        .map(|(h, &task)| {
            let row = &full[h];
            let best = argmax(row);
            let part = parts.as_ref().and_then(|p| p.tasks.get(&task));
            let without = part.map(|p| p.without.clone()).unwrap_or_default();
            let decision = TaskDecision {
                class: classes[h].get(best).cloned().unwrap_or_default(),
                probability: row[best],
                drop: without.iter().map(|w| row[best] - w).collect(),
                without,
                decided_by: part.and_then(|p| p.decided_by),
            };
            (task, decision)
        })
        .collect()
}

/// [`decide`] for every sample of a batch at once, from the photos' features `[images, pre]`
/// the prediction already computed and its probabilities (`full[h]`: head `h`'s, `[samples x
/// classes]` row-major): per sample, each photo's part ([`PhotoParts`]) where it has two
/// photos or more (and at most [`MAX_PHOTOS`]). The CNN does not run again: only the max-pool
/// and the dense layers, once per photo left out.
pub fn decide_batch<B: ModelBackend>(
    model: &Model<B>,
    features: Tensor<B, 2>,
    batch: &Batch,
    heads: &[Task],
    full: &[Vec<f32>],
    device: &B::Device,
) -> Vec<Option<PhotoParts>> {
    let described = |r: &std::ops::Range<usize>| (2..=MAX_PHOTOS).contains(&r.len());
    let Some(most) = batch
        .ranges
        .iter()
        .filter(|r| described(r))
        .map(|r| r.len())
        .max()
    else {
        return vec![None; batch.len()];
    };
    // One pooled row per photo left out: the sample's other photos, padded to `most - 1`
    // slots with the first of them (padding repeats a photo, so the max is unchanged).
    let mut slots: Vec<i32> = Vec::new();
    let mut rows = 0;
    for range in batch.ranges.iter().filter(|r| described(r)) {
        for left_out in range.clone() {
            let kept: Vec<i32> = range
                .clone()
                .filter(|&k| k != left_out)
                .map(|k| k as i32)
                .collect();
            slots.extend((0..most - 1).map(|s| kept[s % kept.len()]));
            rows += 1;
        }
    }
    let count = slots.len();
    let slots = Tensor::from_data(TensorData::new(slots, [count]), device);
    let without = probabilities(model.pooled(features.clone(), slots, rows).logits);
    let width = features.dims()[1];
    let values = floats(features.into_data());
    let mut row = 0;
    batch
        .ranges
        .iter()
        .enumerate()
        .map(|(i, range)| {
            if !described(range) {
                return None;
            }
            let n = range.len();
            let tasks = heads
                .iter()
                .enumerate()
                .map(|(h, &task)| {
                    // `full` may hold padding products after the batch's.
                    let classes = without[h].len() / rows.max(1);
                    let own = &full[h][i * classes..(i + 1) * classes];
                    let best = argmax(own);
                    let without: Vec<f32> = (0..n)
                        .map(|j| without[h][(row + j) * classes + best])
                        .collect();
                    let decided_by = without
                        .iter()
                        .enumerate()
                        .map(|(j, w)| (j, own[best] - w))
                        .filter(|(_, drop)| *drop > 0.0)
                        .fold(None, |b: Option<(usize, f32)>, (j, d)| match b {
                            Some((_, bd)) if bd >= d => b,
                            _ => Some((j, d)),
                        })
                        .map(|(j, _)| j);
                    (
                        task,
                        PhotoTask {
                            without,
                            decided_by,
                        },
                    )
                })
                .collect();
            row += n;
            Some(PhotoParts {
                won: won(&values[range.start * width..range.end * width], n, width),
                tasks,
            })
        })
        .collect()
}

/// Each photo's share of the pooled features: of the features whose maximum over the photos
/// is positive (the others reach the dense layers as zero, whichever photo gave them), the
/// fraction whose maximum comes from that photo (a tie goes to the first photo holding it).
/// `features` holds `n` rows of `width`.
fn won(features: &[f32], n: usize, width: usize) -> Vec<f32> {
    let mut counts = vec![0usize; n];
    let mut live = 0usize;
    for d in 0..width {
        let (mut best, mut at) = (0.0f32, None);
        for j in 0..n {
            let v = features[j * width + d];
            if v > best {
                (best, at) = (v, Some(j));
            }
        }
        if let Some(j) = at {
            counts[j] += 1;
            live += 1;
        }
    }
    counts
        .iter()
        .map(|&c| c as f32 / live.max(1) as f32)
        .collect()
}

/// Softmax of each head's logits, row-major.
fn probabilities<B: Backend>(logits: Vec<Tensor<B, 2>>) -> Vec<Vec<f32>> {
    logits
        .into_iter()
        .map(|l| floats(softmax(l, 1).into_data()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_photo_wins_the_features_whose_maximum_it_holds() {
        // Three photos, four features: photo 0 holds one maximum, photo 2 two, photo 1 none
        // (a tie with photo 0 goes to photo 0), and the last feature is zero everywhere (it
        // counts for no photo).
        let features = [
            0.9, 0.1, 0.0, 0.0, //
            0.2, 0.1, 0.3, 0.0, //
            0.1, 0.8, 0.5, 0.0,
        ];
        let shares = won(&features, 3, 4);
        assert_eq!(shares, vec![1.0 / 3.0, 0.0, 2.0 / 3.0]);
        assert_eq!(won(&[0.0; 4], 2, 2), vec![0.0, 0.0]);
    }
}
