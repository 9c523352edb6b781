//! Inference over a dataset: per-task accuracy, loss and confusion matrices on a split, and
//! the predictions and 1024-d representations of every product.

use super::data::{Batch, Dataset, Loader};
use super::model::Model;
use super::tensors::batch_inputs;
use crate::catalog::{Catalog, Task};
use crate::ml::model_backend::ModelBackend;
use crate::runs::ModelSpec;
use crate::runs::embeddings::Embeddings;
use crate::runs::predictions::{
    Header, MAX_TOP, PhotoParts, PredictionsError, PredictionsWriter, ProductPrediction, Split,
    TaskPrediction,
};
use crate::runs::probabilities::{
    ProbabilitiesError, ProbabilitiesHeader, ProbabilitiesWriter, ProductProbabilities,
};
use crate::runs::provenance::FileKind;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The network's outputs for one batch, on the CPU.
#[derive(Debug, Clone)]
pub struct BatchOutputs {
    /// Per head, `[samples x classes]` probabilities, row-major.
    pub probabilities: Vec<Vec<f32>>,
    /// Per head, the number of classes.
    pub classes: Vec<usize>,
    /// `[samples x width]` representations, row-major.
    pub representation: Vec<f32>,
    /// Width of a representation.
    pub width: usize,
    /// Per sample, each photo's part in its prediction (samples of two photos or more), when
    /// [`infer`] was asked for them; empty otherwise.
    pub photos: Vec<Option<PhotoParts>>,
}

impl BatchOutputs {
    /// Probabilities of head `h` for sample `i` of the batch.
    pub fn row(&self, h: usize, i: usize) -> &[f32] {
        let c = self.classes[h];
        &self.probabilities[h][i * c..(i + 1) * c]
    }
}

/// Runs `model` (in inference mode) over `indices` of `dataset` with centre crops, calling
/// `each` with every batch and its outputs, in order; with `photos`, also each photo's part
/// in the prediction ([`super::contributions::decide_batch`]).
#[allow(clippy::too_many_arguments)]
pub fn infer<B: ModelBackend>(
    model: &Model<B>,
    dataset: &Arc<Dataset>,
    indices: &[usize],
    batch: usize,
    device: &B::Device,
    workers: usize,
    photos: bool,
    mut each: impl FnMut(&Batch, &BatchOutputs),
) -> std::io::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let loader = Loader::start(
        dataset.clone(),
        indices.to_vec(),
        batch,
        None,
        workers,
        stop,
    )?;
    for batch in loader {
        let batch = batch?;
        let inputs = batch_inputs::<B>(&batch, device);
        let features = model.photo_features(inputs.images); // [I, pre]
        let output = model.pooled(features.clone(), inputs.slots, inputs.products);
        let width = output.representation.dims()[1];
        let mut classes = Vec::with_capacity(output.logits.len());
        let mut probabilities = Vec::with_capacity(output.logits.len());
        for logits in output.logits {
            classes.push(logits.dims()[1]);
            probabilities.push(floats(softmax(logits, 1).into_data()));
        }
        let mut outputs = BatchOutputs {
            probabilities,
            classes,
            representation: floats(output.representation.into_data()),
            width,
            photos: Vec::new(),
        };
        if photos {
            outputs.photos = super::contributions::decide_batch(
                model,
                features,
                &batch,
                dataset.heads(),
                &outputs.probabilities,
                device,
            );
        }
        each(&batch, &outputs);
    }
    Ok(())
}

/// A tensor's values as `f32`, row-major.
pub(crate) fn floats(data: TensorData) -> Vec<f32> {
    data.convert::<f32>().to_vec::<f32>().unwrap_or_default()
}

/// The index of the largest value of `row`.
pub(crate) fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold(
            (0, f32::MIN),
            |best, (i, &p)| if p > best.1 { (i, p) } else { best },
        )
        .0
}

/// Accuracy, loss and confusion of each head over some samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// The tasks, in head order.
    pub heads: Vec<Task>,
    /// Samples evaluated.
    pub samples: usize,
    /// Per head, samples with a label.
    pub labelled: Vec<usize>,
    /// Per head, samples whose most probable class is the label.
    pub correct: Vec<usize>,
    /// Per head, mean cross-entropy over the labelled samples.
    pub losses: Vec<f32>,
    /// Per head, `[label][prediction]` counts.
    pub confusion: Vec<Vec<Vec<u32>>>,
}

impl Evaluation {
    /// An empty evaluation for heads with `classes` classes each.
    pub fn new(heads: Vec<Task>, classes: &[usize]) -> Self {
        Evaluation {
            labelled: vec![0; heads.len()],
            correct: vec![0; heads.len()],
            losses: vec![0.0; heads.len()],
            confusion: classes.iter().map(|&c| vec![vec![0; c]; c]).collect(),
            heads,
            samples: 0,
        }
    }

    /// Adds one batch's outputs (losses are summed here and averaged by [`Self::finish`]).
    pub fn add(&mut self, batch: &Batch, outputs: &BatchOutputs) {
        for i in 0..batch.len() {
            let targets: Vec<Option<u32>> = batch.targets.iter().map(|t| t[i]).collect();
            self.add_sample(&targets, |h| outputs.row(h, i));
        }
    }

    /// Adds one sample: its class index per head (`None` = no label) and each head's
    /// probabilities.
    pub fn add_sample<'a>(&mut self, targets: &[Option<u32>], row: impl Fn(usize) -> &'a [f32]) {
        self.samples += 1;
        for (h, target) in targets.iter().enumerate() {
            let Some(target) = target.map(|t| t as usize) else {
                continue;
            };
            let row = row(h);
            let predicted = argmax(row);
            self.labelled[h] += 1;
            self.correct[h] += usize::from(predicted == target);
            self.losses[h] -= row[target].max(1e-12).ln();
            if let Some(cell) = self.confusion[h]
                .get_mut(target)
                .and_then(|r| r.get_mut(predicted))
            {
                *cell += 1;
            }
        }
    }

    /// Turns the summed losses into means.
    pub fn finish(mut self) -> Self {
        for (loss, &n) in self.losses.iter_mut().zip(&self.labelled) {
            *loss /= n.max(1) as f32;
        }
        self
    }

    /// Accuracy of head `h` (0 when nothing is labelled).
    pub fn accuracy(&self, h: usize) -> f32 {
        self.correct[h] as f32 / self.labelled[h].max(1) as f32
    }

    /// Accuracy per task.
    pub fn accuracies(&self) -> BTreeMap<Task, f32> {
        (0..self.heads.len())
            .map(|h| (self.heads[h], self.accuracy(h)))
            .collect()
    }

    /// Mean accuracy over the heads with labelled samples.
    pub fn mean_accuracy(&self) -> f32 {
        let scored: Vec<f32> = (0..self.heads.len())
            .filter(|&h| self.labelled[h] > 0)
            .map(|h| self.accuracy(h))
            .collect();
        scored.iter().sum::<f32>() / scored.len().max(1) as f32
    }

    /// Mean loss over the heads with labelled samples.
    pub fn mean_loss(&self) -> f32 {
        let scored: Vec<f32> = (0..self.heads.len())
            .filter(|&h| self.labelled[h] > 0)
            .map(|h| self.losses[h])
            .collect();
        scored.iter().sum::<f32>() / scored.len().max(1) as f32
    }
}

fn head_classes(dataset: &Dataset, spec: &ModelSpec) -> Vec<usize> {
    dataset
        .heads()
        .iter()
        .map(|t| spec.classes.get(t).map_or(0, Vec::len))
        .collect()
}

/// How samples are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scoring {
    /// Each sample once (each photo in single-image mode).
    Samples,
    /// Each product once, with the mean of its samples' probabilities: for a single-image
    /// model the product-level score that compares with a multi-image model on the same
    /// products (for a multi-image model the same as `Samples`).
    Products,
}

/// Evaluates `model` on `indices` of `dataset`.
#[allow(clippy::too_many_arguments)]
pub fn evaluate<B: ModelBackend>(
    model: &Model<B>,
    dataset: &Arc<Dataset>,
    spec: &ModelSpec,
    indices: &[usize],
    scoring: Scoring,
    batch: usize,
    device: &B::Device,
    workers: usize,
) -> std::io::Result<Evaluation> {
    let classes = head_classes(dataset, spec);
    let mut evaluation = Evaluation::new(dataset.heads().to_vec(), &classes);
    if scoring == Scoring::Samples {
        infer(
            model,
            dataset,
            indices,
            batch,
            device,
            workers,
            false,
            |b, o| evaluation.add(b, o),
        )?;
        return Ok(evaluation.finish());
    }
    let sums = product_sums(model, dataset, indices, batch, device, workers, false)?;
    let targets: BTreeMap<usize, &[Option<u32>]> = indices
        .iter()
        .map(|&i| &dataset.samples()[i])
        .map(|s| (s.product, s.targets.as_slice()))
        .collect();
    for (product, sum) in &sums {
        let means = sum.mean_probabilities();
        evaluation.add_sample(targets[product], |h| &means[h]);
    }
    Ok(evaluation.finish())
}

/// Writing predictions failed.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// Reading photos or starting the workers failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The predictions file could not be written.
    #[error(transparent)]
    Predictions(#[from] PredictionsError),
    /// The probabilities file could not be written.
    #[error(transparent)]
    Probabilities(#[from] ProbabilitiesError),
    /// The representations could not be written.
    #[error(transparent)]
    Embeddings(#[from] crate::runs::RunError),
}

/// Where [`predict`] wrote and how many products.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictSummary {
    /// The predictions file.
    pub predictions: std::path::PathBuf,
    /// The file of every class's probability.
    pub probabilities: std::path::PathBuf,
    /// Products predicted.
    pub products: usize,
}

/// A product's outputs summed over its samples (its photos in single-image mode).
struct ProductSums {
    probabilities: Vec<Vec<f32>>,
    representation: Vec<f32>,
    count: usize,
    /// Each photo's part (a multi-image model's sample of two photos or more).
    photos: Option<PhotoParts>,
}

impl ProductSums {
    fn mean_probabilities(&self) -> Vec<Vec<f32>> {
        let n = self.count.max(1) as f32;
        self.probabilities
            .iter()
            .map(|p| p.iter().map(|v| v / n).collect())
            .collect()
    }
}

/// Runs `model` over `indices` and sums the outputs of each product's samples (with
/// `photos`, keeping each photo's part where a sample has several).
#[allow(clippy::too_many_arguments)]
fn product_sums<B: ModelBackend>(
    model: &Model<B>,
    dataset: &Arc<Dataset>,
    indices: &[usize],
    batch: usize,
    device: &B::Device,
    workers: usize,
    photos: bool,
) -> std::io::Result<BTreeMap<usize, ProductSums>> {
    let mut sums: BTreeMap<usize, ProductSums> = BTreeMap::new();
    infer(
        model,
        dataset,
        indices,
        batch,
        device,
        workers,
        photos,
        |b, o| {
            for (i, &s) in b.samples.iter().enumerate() {
                let product = dataset.samples()[s].product;
                let entry = sums.entry(product).or_insert_with(|| ProductSums {
                    probabilities: o.classes.iter().map(|&c| vec![0.0; c]).collect(),
                    representation: vec![0.0; o.width],
                    count: 0,
                    photos: None,
                });
                if let Some(Some(parts)) = o.photos.get(i) {
                    entry.photos = Some(parts.clone());
                }
                for (h, acc) in entry.probabilities.iter_mut().enumerate() {
                    for (a, p) in acc.iter_mut().zip(o.row(h, i)) {
                        *a += p;
                    }
                }
                let repr = &o.representation[i * o.width..(i + 1) * o.width];
                for (a, r) in entry.representation.iter_mut().zip(repr) {
                    *a += r;
                }
                entry.count += 1;
            }
        },
    )?;
    Ok(sums)
}

/// Predicts every product of `dataset` (every split) and writes `predictions.jsonl` (the best
/// classes), `probabilities.jsonl` (every class) and the representations into `out`. In
/// single-image mode a product's probabilities are the mean over its photos and its
/// representation the mean of theirs.
#[allow(clippy::too_many_arguments)]
pub fn predict<B: ModelBackend>(
    model: &Model<B>,
    dataset: &Arc<Dataset>,
    catalog: &Catalog,
    spec: &ModelSpec,
    run_name: &str,
    out: &Path,
    batch: usize,
    device: &B::Device,
    workers: usize,
) -> Result<PredictSummary, PredictError> {
    let heads = dataset.heads().to_vec();
    let all: Vec<usize> = (0..dataset.samples().len()).collect();
    // A multi-image model says which photo decided (a single-image model sees one photo a
    // sample, so none decides for another).
    let sums = product_sums(model, dataset, &all, batch, device, workers, true)?;
    std::fs::create_dir_all(out)?;
    let path = out.join(crate::runs::predictions::FILE_NAME);
    let header = Header {
        kind: Some(FileKind::Run),
        ..Header::new(run_name, spec.classes.clone())
    };
    let mut writer = PredictionsWriter::create(&path, header)?;
    let header = ProbabilitiesHeader {
        kind: Some(FileKind::Run),
        ..ProbabilitiesHeader::new(run_name, spec.classes.clone())
    };
    let mut probabilities_writer =
        ProbabilitiesWriter::create(&out.join(crate::runs::probabilities::FILE_NAME), header)?;
    let width = sums.values().next().map_or(0, |e| e.representation.len());
    let mut embeddings = Embeddings {
        ids: Vec::with_capacity(sums.len()),
        dim: width,
        values: Vec::with_capacity(sums.len() * width),
    };
    let splits: BTreeMap<usize, Split> = dataset
        .samples()
        .iter()
        .map(|s| (s.product, s.split))
        .collect();
    for (&position, sum) in &sums {
        let product = &catalog.products()[position];
        let n = sum.count as f32;
        let means = sum.mean_probabilities();
        let mut tasks = BTreeMap::new();
        for (h, &task) in heads.iter().enumerate() {
            let classes = &spec.classes[&task];
            let mut ranked: Vec<(usize, f32)> = means[h].iter().copied().enumerate().collect();
            ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
            tasks.insert(
                task,
                TaskPrediction {
                    label: catalog.label_name(product, task).map(str::to_string),
                    top: ranked
                        .into_iter()
                        .take(MAX_TOP)
                        .map(|(c, p)| (classes[c].clone(), p))
                        .collect(),
                },
            );
        }
        let split = splits.get(&position).copied();
        writer.write(&ProductPrediction {
            product_id: product.id.to_string(),
            split,
            fold: None,
            tasks,
            photos: sum.photos.clone(),
        })?;
        probabilities_writer.write(&ProductProbabilities {
            product_id: product.id.to_string(),
            split,
            fold: None,
            tasks: heads.iter().copied().zip(means).collect(),
        })?;
        embeddings.ids.push(product.id.to_string());
        embeddings
            .values
            .extend(sum.representation.iter().map(|r| r / n));
    }
    let predictions = writer.finish()?;
    let probabilities = probabilities_writer.finish()?;
    embeddings.write(out)?;
    Ok(PredictSummary {
        predictions,
        probabilities,
        products: sums.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_loss_and_confusion_skip_missing_labels() {
        let batch = Batch {
            pixels: Vec::new(),
            crop: 0,
            ranges: vec![0..1, 1..2, 2..3],
            targets: vec![vec![Some(0), Some(1), None], vec![None, None, None]],
            samples: vec![0, 1, 2],
            shape: None,
        };
        let outputs = BatchOutputs {
            // Head 0: sample 0 right (class 0), sample 1 wrong (says 0), sample 2 unlabelled.
            probabilities: vec![vec![0.9, 0.1, 0.6, 0.4, 0.2, 0.8], vec![0.5; 3]],
            classes: vec![2, 1],
            representation: vec![0.0; 3],
            width: 1,
            photos: Vec::new(),
        };
        let mut evaluation = Evaluation::new(vec![Task::Colour, Task::Type], &[2, 1]);
        evaluation.add(&batch, &outputs);
        let evaluation = evaluation.finish();
        assert_eq!(evaluation.samples, 3);
        assert_eq!((evaluation.labelled[0], evaluation.correct[0]), (2, 1));
        assert_eq!(evaluation.confusion[0], vec![vec![1, 0], vec![1, 0]]);
        assert_eq!(evaluation.accuracy(0), 0.5);
        let loss = -(0.9f32.ln() + 0.4f32.ln()) / 2.0;
        assert!((evaluation.losses[0] - loss).abs() < 1e-6);
        // A head without labels counts in neither mean.
        assert_eq!(evaluation.labelled[1], 0);
        assert_eq!(evaluation.mean_accuracy(), 0.5);
        assert!((evaluation.mean_loss() - loss).abs() < 1e-6);
    }
}
