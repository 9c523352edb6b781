//! Using a run's latest checkpoint: evaluation on a split and predictions for a catalogue.

use super::backend::{Cpu, Device, cpu_device, parse_devices};
use super::evaluate::{Evaluation, PredictSummary, Scoring, evaluate, predict};
use super::model::Model;
use super::training::{Prepared, TrainError, data_workers, load_weights, prepare};
use crate::catalog::Task;
use crate::ml::model_backend::ModelBackend;
use crate::runs::predictions::Split;
use crate::runs::{RunConfig, RunFolder};
use burn::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Which samples to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalSplit {
    /// The run's validation split.
    Validation,
    /// Every product with a photo.
    All,
}

/// One task's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskScore {
    /// Share of labelled samples predicted right.
    pub accuracy: f32,
    /// Samples predicted right.
    pub correct: usize,
    /// Samples with a label.
    pub labelled: usize,
    /// Classes of the head.
    pub classes: usize,
}

/// What `vitrine evaluate` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEvaluation {
    /// The run folder.
    pub run: PathBuf,
    /// The catalogue evaluated.
    pub catalogue: PathBuf,
    /// The checkpoint's epoch (0-based).
    pub epoch: usize,
    /// `validation` or `all`.
    pub split: &'static str,
    /// `product`, or `image` for a single-image run scored photo by photo (each photo is a
    /// sample); a single-image run scored per product (`--per-product`: the mean of its
    /// photos' probabilities) says `product`.
    pub unit: &'static str,
    /// Samples evaluated.
    pub samples: usize,
    /// Per task.
    pub tasks: BTreeMap<Task, TaskScore>,
    /// Mean of the task accuracies.
    pub mean_accuracy: f32,
}

/// The catalogue, dataset and weights of a run, ready for inference.
struct Loaded {
    config: RunConfig,
    prepared: Prepared,
    epoch: usize,
    folder: RunFolder,
}

fn load(run_dir: &Path, catalogue: Option<&Path>) -> Result<Loaded, TrainError> {
    let folder = RunFolder::at(run_dir);
    let mut config = folder.config()?;
    if let Some(path) = catalogue {
        config.catalogue = path.to_path_buf();
    }
    let spec = folder.spec()?;
    let checkpoint = folder.latest_checkpoint()?.ok_or_else(|| {
        TrainError::NoData(format!(
            "{}: the run has no checkpoint yet (it saves one after each epoch)",
            run_dir.display()
        ))
    })?;
    let prepared = prepare(&config, Some(spec), None, &|_, _, _| {})?;
    Ok(Loaded {
        config,
        prepared,
        epoch: checkpoint.epoch,
        folder,
    })
}

fn weights<B: Backend>(loaded: &Loaded, device: &B::Device) -> Result<Model<B>, TrainError> {
    checkpoint_model(
        &loaded.folder,
        &loaded.config,
        &loaded.prepared.spec,
        device,
    )
}

/// The model of the latest checkpoint of `folder`.
fn checkpoint_model<B: Backend>(
    folder: &RunFolder,
    config: &RunConfig,
    spec: &crate::runs::ModelSpec,
    device: &B::Device,
) -> Result<Model<B>, TrainError> {
    let index = folder.latest_checkpoint()?.ok_or_else(|| {
        TrainError::NoData(format!(
            "{}: the run has no checkpoint yet (it saves one after each epoch)",
            folder.root().display()
        ))
    })?;
    load_weights(folder, &index, config, spec, device)
}

/// The first convolution layer's kernels of a checkpoint, as RGB tiles (as drawn in the
/// published post: each kernel stretched to the full 0-255 range on its own).
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTiles {
    /// The checkpoint's epoch (0-based).
    pub epoch: usize,
    /// Number of kernels.
    pub count: usize,
    /// Side of a filter, in pixels.
    pub size: usize,
    /// `count` tiles of `size * size` RGB pixels, one after the other.
    pub rgb: Vec<u8>,
}

/// The first convolution layer of the latest checkpoint of the run in `run_dir` (on the CPU).
pub fn first_kernels(run_dir: &Path) -> Result<KernelTiles, TrainError> {
    let folder = RunFolder::at(run_dir);
    let config = folder.config()?;
    let spec = folder.spec()?;
    let epoch = folder.latest_checkpoint()?.map_or(0, |c| c.epoch);
    let model = checkpoint_model::<Cpu>(&folder, &config, &spec, &cpu_device())?;
    let (count, size, weights) = model
        .first_kernels()
        .ok_or_else(|| TrainError::NoData("the model has no convolution".into()))?;
    Ok(KernelTiles {
        epoch,
        count,
        size,
        rgb: filter_pixels(count, size, &weights),
    })
}

/// `[F, 3, k, k]` weights to `F` RGB tiles of `k * k` pixels, each stretched to 0-255.
fn filter_pixels(count: usize, size: usize, weights: &[f32]) -> Vec<u8> {
    let area = size * size;
    let mut rgb = Vec::with_capacity(count * area * 3);
    for filter in weights.chunks(3 * area).take(count) {
        let (lo, hi) = filter
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| {
                (l.min(v), h.max(v))
            });
        let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
        for pixel in 0..area {
            for channel in 0..3 {
                let v = filter[channel * area + pixel];
                rgb.push(((v - lo) * scale).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    rgb
}

/// Evaluates the latest checkpoint of the run in `run_dir` on `catalogue` (default: the run's).
/// `per_product` scores each product once (for a single-image run: with the mean of its
/// photos' probabilities), so single- and multi-image runs compare on the same products.
pub fn evaluate_run(
    run_dir: &Path,
    catalogue: Option<&Path>,
    split: EvalSplit,
    per_product: bool,
    devices: &[String],
) -> Result<RunEvaluation, TrainError> {
    let loaded = load(run_dir, catalogue)?;
    let dataset = &loaded.prepared.dataset;
    let indices = match split {
        EvalSplit::Validation => dataset.indices(Split::Validation),
        EvalSplit::All => (0..dataset.samples().len()).collect(),
    };
    let evaluation = match first_device(devices)? {
        Device::Cpu => {
            evaluate_on::<Cpu>(&loaded, &indices, per_product, &cpu_device(), Device::Cpu)?
        }
        #[cfg(any(feature = "cuda", feature = "wgpu"))]
        gpu @ Device::Cuda(i) => evaluate_on::<super::backend::Gpu>(
            &loaded,
            &indices,
            per_product,
            &super::backend::gpu_device(i, loaded.config.gpu.autotune),
            gpu,
        )?,
        #[cfg(not(any(feature = "cuda", feature = "wgpu")))]
        Device::Cuda(_) => return Err(super::backend::DeviceError::NoCuda.into()),
    };
    Ok(summary(&loaded, split, per_product, &evaluation))
}

fn summary(
    loaded: &Loaded,
    split: EvalSplit,
    per_product: bool,
    evaluation: &Evaluation,
) -> RunEvaluation {
    let tasks = evaluation
        .heads
        .iter()
        .enumerate()
        .map(|(h, &task)| {
            (
                task,
                TaskScore {
                    accuracy: evaluation.accuracy(h),
                    correct: evaluation.correct[h],
                    labelled: evaluation.labelled[h],
                    classes: evaluation.confusion[h].len(),
                },
            )
        })
        .collect();
    RunEvaluation {
        run: loaded.folder.root().to_path_buf(),
        catalogue: loaded.config.catalogue.clone(),
        epoch: loaded.epoch,
        split: match split {
            EvalSplit::Validation => "validation",
            EvalSplit::All => "all",
        },
        unit: if loaded.config.single_image && !per_product {
            "image"
        } else {
            "product"
        },
        samples: evaluation.samples,
        tasks,
        mean_accuracy: evaluation.mean_accuracy(),
    }
}

/// Writes predictions and representations of every product of `catalogue` (default: the
/// run's) with the run's latest checkpoint into `out` (default: the run folder). Another
/// catalogue than the run's needs an `out`: its predictions would replace the run's own.
pub fn predict_run(
    run_dir: &Path,
    catalogue: Option<&Path>,
    out: Option<&Path>,
    devices: &[String],
) -> Result<PredictSummary, TrainError> {
    if let (Some(path), None) = (catalogue, out) {
        let own = RunFolder::at(run_dir).config()?.catalogue;
        if !crate::catalog::import::same_catalogue(path, &own) {
            return Err(TrainError::OtherCatalogue {
                catalogue: path.to_path_buf(),
                run: run_dir.to_path_buf(),
                own,
            });
        }
    }
    let loaded = load(run_dir, catalogue)?;
    let out = out.unwrap_or(run_dir);
    match first_device(devices)? {
        Device::Cpu => predict_on::<Cpu>(&loaded, out, &cpu_device(), Device::Cpu),
        #[cfg(any(feature = "cuda", feature = "wgpu"))]
        gpu @ Device::Cuda(i) => {
            let device = super::backend::gpu_device(i, loaded.config.gpu.autotune);
            predict_on::<super::backend::Gpu>(&loaded, out, &device, gpu)
        }
        #[cfg(not(any(feature = "cuda", feature = "wgpu")))]
        Device::Cuda(_) => Err(super::backend::DeviceError::NoCuda.into()),
    }
}

/// Whether `a` and `b` name the same file or folder (however each is written).
fn evaluate_on<B: ModelBackend>(
    loaded: &Loaded,
    indices: &[usize],
    per_product: bool,
    device: &B::Device,
    kind: Device,
) -> Result<Evaluation, TrainError> {
    let model = weights::<B>(loaded, device)?;
    let p = &loaded.prepared;
    let batch = loaded.config.batch;
    let workers = data_workers(&[kind]);
    let scoring = if per_product {
        Scoring::Products
    } else {
        Scoring::Samples
    };
    Ok(evaluate(
        &model, &p.dataset, &p.spec, indices, scoring, batch, device, workers,
    )?)
}

fn predict_on<B: ModelBackend>(
    loaded: &Loaded,
    out: &Path,
    device: &B::Device,
    kind: Device,
) -> Result<PredictSummary, TrainError> {
    let model = weights::<B>(loaded, device)?;
    let p = &loaded.prepared;
    let name = loaded.folder.name();
    let batch = loaded.config.batch;
    let workers = data_workers(&[kind]);
    Ok(predict(
        &model, &p.dataset, &p.catalog, &p.spec, &name, out, batch, device, workers,
    )?)
}

/// Which photo decided each task of one product: see [`super::contributions`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductDecision {
    /// The product.
    pub product_id: String,
    /// Its photos as the model saw them, in order.
    pub photos: Vec<PathBuf>,
    /// Per task with a head.
    pub tasks: BTreeMap<Task, super::contributions::TaskDecision>,
}

/// Which photo decided each task of product `product_id`, by the latest checkpoint of the
/// multi-image run in `run_dir` (on the CPU).
pub fn decided_run(run_dir: &Path, product_id: &str) -> Result<ProductDecision, TrainError> {
    let loaded = load(run_dir, None)?;
    if loaded.config.single_image {
        return Err(TrainError::NoData(format!(
            "{}: a single-image run predicts each photo alone, so no photo decides for another",
            run_dir.display()
        )));
    }
    let p = &loaded.prepared;
    let position = p.catalog.position(product_id).ok_or_else(|| {
        TrainError::NoData(format!(
            "product {product_id} is not in {}",
            loaded.config.catalogue.display()
        ))
    })?;
    let index = p
        .dataset
        .samples()
        .iter()
        .position(|s| s.product == position)
        .ok_or_else(|| {
            TrainError::NoData(format!(
                "product {product_id} has no photo the run could use"
            ))
        })?;
    let model = weights::<Cpu>(&loaded, &cpu_device())?;
    let batch = p.dataset.batch(&[index], None);
    let heads = p.dataset.heads();
    let classes: Vec<&[String]> = heads
        .iter()
        .map(|t| p.spec.classes.get(t).map_or(&[][..], Vec::as_slice))
        .collect();
    let tasks = super::contributions::decide(&model, &batch, heads, &classes, &cpu_device());
    let photos = p.dataset.samples()[index]
        .images
        .iter()
        .filter_map(|&i| p.dataset.image_path(i).map(Path::to_path_buf))
        .collect();
    Ok(ProductDecision {
        product_id: product_id.to_string(),
        photos,
        tasks,
    })
}

/// Inference runs on one device: the first of the list.
fn first_device(devices: &[String]) -> Result<Device, TrainError> {
    Ok(parse_devices(devices)?[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_filter_is_stretched_to_the_full_range_on_its_own() {
        // Two 1x1 kernels: (r, g, b) = (-1, 0, 1) and (2, 2, 2).
        let rgb = filter_pixels(2, 1, &[-1.0, 0.0, 1.0, 2.0, 2.0, 2.0]);
        assert_eq!(rgb, vec![0, 128, 255, 0, 0, 0]);
        // A 2x2 filter: channel planes become interleaved pixels.
        let planes: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let rgb = filter_pixels(1, 2, &planes);
        assert_eq!(&rgb[..3], &[0, 93, 185]);
        assert_eq!(rgb.len(), 12);
    }
}
