//! The training engine: a run on a named thread that reports typed events, writes its run
//! folder (config, metrics log, checkpoints, predictions, representations) and can be stopped
//! and resumed.
//!
//! SGD with momentum (no dampening) and weight decay, a step learning-rate schedule by epoch,
//! a checkpoint after every epoch, and data parallelism over several devices: each device
//! runs its share of the batch on its own replica, and the gradients are summed on the first.

use super::backend::{CpuTraining, Device, DeviceError, parse_devices};
use super::data::{Dataset, Loader, PrepareReport, class_lists, epoch_order};
use super::evaluate::{PredictError, Scoring, evaluate, predict};
use super::model::{Model, ModelConfig, weighted_cross_entropy};
use super::tensors::{batch_inputs, head_targets};
use crate::catalog::Task;
use crate::catalog::import::{ColumnMap, ImportOptions};
use crate::labels::{OpenError, open_workspace_read_only};
use crate::runs::config::ResumeChanges;
use crate::runs::metrics::MetricsError;
use crate::runs::predictions::Split;
use crate::runs::{MetricsRecord, MetricsWriter, ModelSpec, RunConfig, RunError, RunFolder};
use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsAccumulator, GradientsParams, Optimizer, SgdConfig};
use burn::prelude::*;
use burn::record::{DefaultRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

/// What the engine tells its listener.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingEvent {
    /// Work before the first iteration (opening the catalogue, the channel mean).
    Preparing {
        /// What is being done.
        stage: String,
        /// Items done.
        done: usize,
        /// Items in all (0 when unknown).
        total: usize,
    },
    /// A record also appended to the metrics log: progress, epoch metrics, checkpoints,
    /// warnings, and exactly one final `Finished`, `Stopped` or `Failed`.
    Record(MetricsRecord),
}

/// A training run could not start or continue.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The configuration cannot be trained.
    #[error(transparent)]
    Config(#[from] crate::runs::config::InvalidConfig),
    /// The configuration saved in a run folder (`config.json`) cannot be trained.
    #[error("{}: {message} (field \"{field}\")", path.display())]
    StoredConfig {
        /// The run's `config.json`.
        path: PathBuf,
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A resumed run has no epoch left to train.
    #[error(
        "{}: the run has already trained {done} epochs of {epochs}; to train more, resume it \
         with --epochs N for a new total N above {done} (`vitrine predict` writes its \
         predictions again)",
        run.display()
    )]
    NothingToResume {
        /// The run folder.
        run: PathBuf,
        /// Epochs trained.
        done: usize,
        /// Epochs of the configuration.
        epochs: usize,
    },
    /// The devices are wrong.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The run folder could not be read or written.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The metrics log could not be written.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The catalogue could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The column mapping of the configuration is wrong.
    #[error("column mapping: {0}")]
    Columns(String),
    /// No product can be trained on.
    #[error("{0}")]
    NoData(String),
    /// A checkpoint could not be written or read.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The loss stopped being a number.
    #[error(
        "the loss became {value} at epoch {epoch}, iteration {iteration} (learning rate {learning_rate}): \
         training diverged; lower the learning rate and resume from the last checkpoint"
    )]
    Diverged {
        /// The loss.
        value: f32,
        /// Epoch (0-based).
        epoch: usize,
        /// Iteration of the run.
        iteration: usize,
        /// Learning rate in use.
        learning_rate: f64,
    },
    /// Predictions could not be written.
    #[error(transparent)]
    Predict(#[from] PredictError),
    /// Predictions for another catalogue were asked for without a folder of their own.
    #[error(
        "{} is not the catalogue of the run in {} ({}): its predictions would replace the \
         run's own predictions.jsonl and embeddings; pass --out DIR to write them elsewhere",
        catalogue.display(), run.display(), own.display()
    )]
    OtherCatalogue {
        /// The catalogue asked for.
        catalogue: PathBuf,
        /// The run folder.
        run: PathBuf,
        /// The run's own catalogue.
        own: PathBuf,
    },
    /// A thread or file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A data-parallel replica failed: the step, and the run, cannot go on without its part
    /// of the batch.
    #[error("data-parallel replica {device} failed: {message}")]
    Replica {
        /// The replica: its number and device.
        device: String,
        /// Why.
        message: String,
    },
    /// The training thread panicked (a bug): the run stops and says why.
    #[error("the training thread stopped on an internal error: {0}")]
    Panicked(String),
}

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainRequest {
    /// The run folder (created; or, with `resume`, read).
    pub run_dir: PathBuf,
    /// The configuration of a new run (ignored when resuming: the folder's is used, with
    /// `changes`).
    pub config: RunConfig,
    /// Continue the run in `run_dir` from its latest checkpoint.
    pub resume: bool,
    /// What a resumed run changes in its configuration (more epochs, another learning rate,
    /// batch or devices); saved in its `config.json`.
    pub changes: ResumeChanges,
    /// The label store to read current labels from (default: the catalogue's).
    pub store: Option<PathBuf>,
}

/// A run in progress on its own thread.
#[derive(Debug)]
pub struct TrainingHandle {
    events: Receiver<TrainingEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// Asks a run to stop after its current iteration; clonable, so a window can stop a run while
/// another thread reads its events.
#[derive(Debug, Clone)]
pub struct Stopper(Arc<AtomicBool>);

impl Stopper {
    /// Asks the run to stop (it saves a checkpoint first).
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl TrainingHandle {
    /// A stopper for this run.
    pub fn stopper(&self) -> Stopper {
        Stopper(self.stop.clone())
    }

    /// The run's events. Per-iteration progress is dropped when nobody reads (it is in the
    /// metrics log); everything else waits for the reader.
    pub fn events(&self) -> &Receiver<TrainingEvent> {
        &self.events
    }

    /// Asks the run to stop after the current iteration (it saves a checkpoint first).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits for the run's thread to end.
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts a run (or resumes one) on a thread named `vitrine-train`.
pub fn start(request: TrainRequest) -> std::io::Result<TrainingHandle> {
    let (tx, events) = bounded(256);
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let thread = std::thread::Builder::new()
        .name("vitrine-train".into())
        .spawn(move || {
            let events = Events::new(tx);
            let folder = RunFolder::at(&request.run_dir);
            guarded(&folder, &events, |owned| {
                run(&request, &events, &thread_stop, owned)
            });
        })?;
    Ok(TrainingHandle {
        events,
        stop,
        thread: Some(thread),
    })
}

/// Runs the body of a training thread, `work`, and reports its failure, an error or a panic,
/// as a `failed` record: in the run's log once `work` has set its flag (the folder is this
/// run's), and as an event in any case.
fn guarded(
    folder: &RunFolder,
    events: &Events,
    work: impl FnOnce(&mut bool) -> Result<(), TrainError>,
) {
    let mut owned = false;
    let outcome = crate::threads::catch(|| work(&mut owned))
        .unwrap_or_else(|panic| Err(TrainError::Panicked(panic)));
    if let Err(error) = outcome {
        let failed = MetricsRecord::Failed {
            time_ms: now_ms(),
            message: error.to_string(),
        };
        // Only this run's own log records its failure (not that of a run it refused to
        // overwrite); the log may be what failed: the event still reaches the listener.
        if owned && let Ok(mut log) = MetricsWriter::append(&folder.metrics_path()) {
            let _ = log.write(&failed);
        }
        events.send(TrainingEvent::Record(failed));
    }
}

/// Sends events to the listener, if it still listens.
struct Events {
    tx: Sender<TrainingEvent>,
}

impl Events {
    fn new(tx: Sender<TrainingEvent>) -> Self {
        Events { tx }
    }

    fn send(&self, event: TrainingEvent) {
        let _ = self.tx.send(event);
    }

    /// Progress is also in the log: a slow listener loses only progress events.
    fn offer(&self, event: TrainingEvent) {
        let _ = self.tx.try_send(event);
    }

    fn preparing(&self, stage: &str, done: usize, total: usize) {
        self.offer(TrainingEvent::Preparing {
            stage: stage.to_string(),
            done,
            total,
        });
    }
}

/// The metrics log and the listener together.
struct Reporter<'a> {
    log: MetricsWriter,
    events: &'a Events,
}

impl Reporter<'_> {
    fn record(&mut self, record: MetricsRecord) -> Result<(), TrainError> {
        self.log.write(&record)?;
        match record {
            MetricsRecord::Iteration { .. } => self.events.offer(TrainingEvent::Record(record)),
            _ => self.events.send(TrainingEvent::Record(record)),
        }
        Ok(())
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Import options recorded in a run's configuration.
pub fn import_options(config: &RunConfig) -> Result<ImportOptions, TrainError> {
    Ok(ImportOptions {
        columns: ColumnMap::parse(&config.columns)
            .map_err(|e| TrainError::Columns(e.to_string()))?,
        image_root: config.image_root.clone(),
        progress: None,
    })
}

/// Threads assembling batches: enough to keep a GPU fed, few on a CPU that also trains.
pub fn data_workers(devices: &[Device]) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if devices.iter().all(|d| *d == Device::Cpu) {
        (cores / 4).max(1)
    } else {
        cores.saturating_sub(2).clamp(1, 12)
    }
}

/// A catalogue opened for a run: its dataset and the spec of the heads.
pub struct Prepared {
    /// The catalogue with its current labels.
    pub catalog: crate::catalog::Catalog,
    /// The samples.
    pub dataset: Arc<Dataset>,
    /// Classes and channel mean.
    pub spec: ModelSpec,
    /// What was left out.
    pub report: PrepareReport,
}

/// Opens the catalogue of `config` and builds its dataset with `spec` (a new spec, with the
/// channel mean of the training split, when `None`).
pub fn prepare(
    config: &RunConfig,
    spec: Option<ModelSpec>,
    store: Option<&std::path::Path>,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<Prepared, TrainError> {
    progress("opening the catalogue", 0, 0);
    let workspace = open_workspace_read_only(&config.catalogue, &import_options(config)?, store)?;
    let catalog = workspace.catalog;
    let new = spec.is_none();
    if new && let Some(attribute) = &config.group_by {
        check_group_attribute(&catalog, &config.catalogue, attribute)?;
    }
    let (fresh, report) = class_lists(&catalog, config);
    let mut spec = spec.unwrap_or(fresh);
    let mut dataset = Dataset::new(&catalog, config, &spec);
    if dataset.samples().is_empty() {
        return Err(TrainError::NoData(format!(
            "{}: no product has a photo to train on",
            config.catalogue.display()
        )));
    }
    if spec.classes.is_empty() {
        return Err(TrainError::NoData(format!(
            "{}: no head can be trained: {} {} fewer than 2 classes with {} or more training \
             products (lower --min-class-examples, or label more products)",
            config.catalogue.display(),
            task_names(&report.dropped_tasks),
            if report.dropped_tasks.len() == 1 {
                "has"
            } else {
                "have"
            },
            config.min_class_examples.max(1)
        )));
    }
    if new {
        let train = dataset.indices(Split::Train);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        spec.channel_mean = dataset.channel_mean(&train, 1000, threads, &|done, total| {
            progress("computing the channel mean", done, total)
        });
    }
    dataset.set_mean(spec.channel_mean);
    Ok(Prepared {
        catalog,
        dataset: Arc::new(dataset),
        spec,
        report,
    })
}

/// The tasks' names, comma-separated.
fn task_names(tasks: &[Task]) -> String {
    tasks
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses to group the split by an attribute no product has (the split would silently fall
/// back to product ids), naming the attributes there are.
fn check_group_attribute(
    catalog: &crate::catalog::Catalog,
    catalogue: &std::path::Path,
    attribute: &str,
) -> Result<(), TrainError> {
    let products = catalog.products();
    if products.iter().any(|p| {
        catalog
            .attribute(p, attribute)
            .is_some_and(|v| !v.is_empty())
    }) {
        return Ok(());
    }
    let names: std::collections::BTreeSet<&str> = products
        .iter()
        .flat_map(|p| {
            p.attributes
                .iter()
                .map(|(k, _)| catalog.attribute_key_name(*k))
        })
        .collect();
    let there = if names.is_empty() {
        "the catalogue has no attributes".to_string()
    } else {
        format!(
            "its attributes are: {}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    Err(TrainError::NoData(format!(
        "{}: no product has the attribute '{attribute}' to group the split by (--group-by); {there}",
        catalogue.display()
    )))
}

/// The run's optimiser: SGD with momentum, no dampening (burn's default is 0.1), and L2
/// weight decay.
pub fn optimizer_config(config: &RunConfig) -> SgdConfig {
    SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(config.momentum)
                .with_dampening(0.0),
        ))
        .with_weight_decay(
            (config.weight_decay > 0.0)
                .then(|| burn::optim::decay::WeightDecayConfig::new(config.weight_decay as f32)),
        )
}

/// The model shape of a run.
pub fn model_config(config: &RunConfig, spec: &ModelSpec) -> ModelConfig {
    ModelConfig {
        backbone: config.backbone,
        batch_norm: true,
        dropout: config.dropout,
        representation: config.representation,
        heads: spec.classes.iter().map(|(&t, c)| (t, c.len())).collect(),
    }
}

/// Trains; `owned` becomes true once the run folder is this run's (created, or read to resume).
fn run(
    request: &TrainRequest,
    events: &Events,
    stop: &AtomicBool,
    owned: &mut bool,
) -> Result<(), TrainError> {
    let folder = RunFolder::at(&request.run_dir);
    let (config, checkpoint) = if request.resume {
        let stored = folder.config()?;
        *owned = true;
        resumed_config(&folder, stored, &request.changes)?
    } else {
        request.config.validate()?;
        parse_devices(&request.config.devices)?;
        RunFolder::create(&request.run_dir, &request.config)?;
        (request.config.clone(), None)
    };
    *owned = true;
    let devices = parse_devices(&config.devices)?;
    let spec = if request.resume && folder.spec_path().is_file() {
        Some(folder.spec()?)
    } else {
        None
    };
    let prepared = prepare(&config, spec, request.store.as_deref(), &|s, d, t| {
        events.preparing(s, d, t)
    })?;
    folder.write_spec(&prepared.spec)?;
    let mut reporter = Reporter {
        log: MetricsWriter::append(&folder.metrics_path())?,
        events,
    };
    if prepared.report.products_without_images > 0 {
        reporter.record(MetricsRecord::Warning {
            message: format!(
                "{} products have no photo and are left out",
                prepared.report.products_without_images
            ),
        })?;
    }
    if !prepared.report.dropped_tasks.is_empty() {
        reporter.record(MetricsRecord::Warning {
            message: format!(
                "no head for {}: fewer than 2 classes with {} or more training products",
                task_names(&prepared.report.dropped_tasks),
                config.min_class_examples.max(1)
            ),
        })?;
    }
    let job = Job {
        folder: &folder,
        config: &config,
        prepared: &prepared,
        checkpoint,
        workers: data_workers(&devices),
        stop,
    };
    let names: Vec<String> = devices.iter().map(Device::to_string).collect();
    if devices.iter().all(|d| *d == Device::Cpu) {
        let cpu = burn::backend::flex::FlexDevice;
        job.train::<CpuTraining>(vec![cpu; devices.len()], names, &mut reporter)
    } else {
        train_on_gpus(&job, &devices, names, &mut reporter)
    }
}

/// The configuration a resumed run trains with: its `config.json`, validated as a new run's,
/// with `changes` applied (and saved), and the checkpoint it continues from.
fn resumed_config(
    folder: &RunFolder,
    stored: RunConfig,
    changes: &ResumeChanges,
) -> Result<(RunConfig, Option<crate::runs::folder::CheckpointIndex>), TrainError> {
    stored.validate().map_err(|e| TrainError::StoredConfig {
        path: folder.config_path(),
        field: e.field,
        message: e.message,
    })?;
    parse_devices(&stored.devices)?;
    let config = stored.clone().with_changes(changes);
    config.validate()?;
    parse_devices(&config.devices)?;
    let checkpoint = folder.latest_checkpoint()?;
    let done = checkpoint.as_ref().map_or(0, |c| c.resume_epoch());
    if done >= config.epochs {
        return Err(TrainError::NothingToResume {
            run: folder.root().to_path_buf(),
            done,
            epochs: config.epochs,
        });
    }
    if config != stored {
        folder.write_config(&config)?;
    }
    Ok((config, checkpoint))
}

#[cfg(feature = "cuda")]
fn train_on_gpus(
    job: &Job<'_>,
    devices: &[Device],
    names: Vec<String>,
    reporter: &mut Reporter<'_>,
) -> Result<(), TrainError> {
    let gpus = devices
        .iter()
        .map(|d| match d {
            Device::Cuda(i) => burn::backend::cuda::CudaDevice::new(*i),
            Device::Cpu => burn::backend::cuda::CudaDevice::default(),
        })
        .collect();
    job.train::<super::backend::GpuTraining>(gpus, names, reporter)
}

#[cfg(not(feature = "cuda"))]
fn train_on_gpus(
    _job: &Job<'_>,
    _devices: &[Device],
    _names: Vec<String>,
    _reporter: &mut Reporter<'_>,
) -> Result<(), TrainError> {
    Err(DeviceError::NoCuda.into())
}

/// A checkpoint file burn cannot read: after the recorded sizes and digests were checked (or
/// in a run of an older build, without them), damage or another version.
fn unreadable(path: PathBuf, e: impl std::fmt::Display) -> TrainError {
    RunError::Damaged {
        path,
        detail: format!("it cannot be read, or was written by another version ({e})"),
    }
    .into()
}

/// The weights of checkpoint `index` of `folder`, in a model of `config` and `spec`: the
/// files are checked against what was recorded when they were written, and the heads of the
/// weights against `model.json`, so a mismatched or damaged run is refused, named, rather
/// than scored wrong.
pub fn load_weights<B: Backend>(
    folder: &RunFolder,
    index: &crate::runs::folder::CheckpointIndex,
    config: &RunConfig,
    spec: &ModelSpec,
    device: &B::Device,
) -> Result<Model<B>, TrainError> {
    folder.verify_checkpoint(index, crate::runs::folder::CheckpointOf { spec, config })?;
    let path = folder.root().join(&index.model);
    let model = model_config(config, spec)
        .init::<B>(device)
        .load_file(path.with_extension(""), &DefaultRecorder::new(), device)
        .map_err(|e| unreadable(path.clone(), e))?;
    // Checkpoints of older builds record no spec digest: their heads' sizes still tell.
    for ((task, classes), found) in spec.classes.iter().zip(model.head_classes()) {
        if classes.len() != found {
            return Err(RunError::Mismatch {
                path: folder.spec_path(),
                checkpoint: path,
                detail: format!(
                    "its {task} head has {} classes, the checkpoint's has {found}",
                    classes.len()
                ),
            }
            .into());
        }
    }
    Ok(model)
}

/// Makes every lazily initialised parameter exist now, so clones share the same weights.
struct Materialise;

impl<B: Backend> ModuleVisitor<B> for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

struct Job<'a> {
    folder: &'a RunFolder,
    config: &'a RunConfig,
    prepared: &'a Prepared,
    checkpoint: Option<crate::runs::folder::CheckpointIndex>,
    /// Threads assembling batches.
    workers: usize,
    stop: &'a AtomicBool,
}

/// The loss of one step: the mean over the heads, and each head's.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLoss {
    /// Mean over the heads with labels in the batch.
    pub total: f32,
    /// Each head's mean cross-entropy over its labelled samples.
    pub heads: Vec<f32>,
}

impl Job<'_> {
    fn checkpoint_error(&self, path: PathBuf, e: impl std::fmt::Display) -> TrainError {
        TrainError::Checkpoint {
            path,
            message: e.to_string(),
        }
    }

    fn train<B: AutodiffBackend>(
        &self,
        devices: Vec<B::Device>,
        names: Vec<String>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        let config = self.config;
        let dataset = &self.prepared.dataset;
        let spec = &self.prepared.spec;
        let main = devices[0].clone();
        B::seed(&main, config.seed);
        let model_config = model_config(config, spec);
        let mut model: Model<B> = match &self.checkpoint {
            Some(index) => load_weights(self.folder, index, config, spec, &main)?,
            None => model_config.init(&main),
        };
        model.visit(&mut Materialise);
        let mut optimizer = optimizer_config(config).init::<B, Model<B>>();
        let recorder = DefaultRecorder::new();
        let mut start_epoch = 0;
        if let Some(index) = &self.checkpoint {
            let optim_path = self.folder.root().join(&index.optimizer);
            let record = recorder
                .load(optim_path.with_extension(""), &main)
                .map_err(|e| unreadable(optim_path.clone(), e))?;
            optimizer = optimizer.load_record(record);
            start_epoch = index.resume_epoch();
        }
        let train = dataset.indices(Split::Train);
        let validation = dataset.indices(Split::Validation);
        let per_epoch = train.len().div_ceil(config.batch);
        let workers = self.workers;
        reporter.record(MetricsRecord::Started {
            time_ms: now_ms(),
            epochs: config.epochs,
            iterations_per_epoch: per_epoch,
            train_samples: train.len(),
            validation_samples: validation.len(),
            classes: spec.classes.clone(),
            merged_into_other: spec.merged_into_other.clone(),
            resumed_at_epoch: self.checkpoint.as_ref().map(|c| c.resume_epoch()),
            devices: names,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut last_complete = start_epoch.checked_sub(1);
        let mut reported_failures = 0;
        for epoch in start_epoch..config.epochs {
            let learning_rate = config.learning_rate_at(epoch);
            let started = Instant::now();
            let loader = Loader::start(
                dataset.clone(),
                epoch_order(&train, config.seed, epoch),
                config.batch,
                Some(config.seed ^ ((epoch as u64) << 32)),
                workers,
                stop.clone(),
            )?;
            let (mut loss_sum, mut steps, mut images, mut waited) =
                (0.0f64, 0usize, 0usize, 0.0f64);
            let mut wait_started = Instant::now();
            for (i, batch) in loader.enumerate() {
                let batch = batch?;
                waited += wait_started.elapsed().as_secs_f64();
                if self.stop.load(Ordering::Relaxed) {
                    stop.store(true, Ordering::Relaxed);
                    return self.stopped(model, &optimizer, epoch, last_complete, reporter);
                }
                let step_started = Instant::now();
                let iteration = epoch * per_epoch + i;
                let (next, loss) = step(model, &mut optimizer, &batch, &devices, learning_rate)?;
                model = next;
                if !loss.total.is_finite() {
                    stop.store(true, Ordering::Relaxed);
                    return Err(TrainError::Diverged {
                        value: loss.total,
                        epoch,
                        iteration,
                        learning_rate,
                    });
                }
                loss_sum += loss.total as f64;
                steps += 1;
                images += batch.image_count();
                let seconds = step_started.elapsed().as_secs_f32().max(1e-6);
                reporter.record(MetricsRecord::Iteration {
                    epoch,
                    iteration,
                    loss: loss.total,
                    task_losses: dataset.heads().iter().copied().zip(loss.heads).collect(),
                    learning_rate,
                    images_per_second: batch.image_count() as f32 / seconds,
                })?;
                wait_started = Instant::now();
            }
            let train_seconds = started.elapsed().as_secs_f64();
            // Without validation products (training on all the data) there is nothing to
            // score: the record says so rather than logging zeros.
            let evaluation = if validation.is_empty() {
                None
            } else {
                Some(evaluate(
                    &model.valid(),
                    dataset,
                    spec,
                    &validation,
                    Scoring::Samples,
                    config.batch,
                    &main,
                    workers,
                )?)
            };
            let heads = dataset.heads();
            let per_head = |values: &dyn Fn(&super::evaluate::Evaluation) -> Vec<f32>| {
                evaluation.as_ref().map_or_else(BTreeMap::new, |e| {
                    heads.iter().copied().zip(values(e)).collect()
                })
            };
            reporter.record(MetricsRecord::Epoch {
                epoch,
                train_loss: (loss_sum / steps.max(1) as f64) as f32,
                validation_loss: evaluation.as_ref().map(|e| e.mean_loss()),
                validation_task_losses: per_head(&|e| e.losses.clone()),
                accuracy: evaluation
                    .as_ref()
                    .map_or_else(BTreeMap::new, |e| e.accuracies()),
                mean_accuracy: evaluation.as_ref().map(|e| e.mean_accuracy()),
                confusion: evaluation.as_ref().map_or_else(BTreeMap::new, |e| {
                    heads
                        .iter()
                        .copied()
                        .zip(e.confusion.clone())
                        .collect::<BTreeMap<Task, _>>()
                }),
                images_per_second: (images as f64 / train_seconds.max(1e-6)) as f32,
                data_wait: (waited / train_seconds.max(1e-6)) as f32,
                seconds: started.elapsed().as_secs_f32(),
            })?;
            self.save(&model, &optimizer, epoch, true, reporter)?;
            last_complete = Some(epoch);
            let (failures, first) = dataset.failures();
            if failures > reported_failures {
                reporter.record(MetricsRecord::Warning {
                    message: format!(
                        "{failures} photos could not be decoded and were left out (first: {})",
                        first.unwrap_or_default()
                    ),
                })?;
                reported_failures = failures;
            }
        }
        let name = self.folder.name();
        predict(
            &model.valid(),
            dataset,
            &self.prepared.catalog,
            spec,
            &name,
            self.folder.root(),
            config.batch,
            &main,
            workers,
        )?;
        reporter.record(MetricsRecord::Finished { time_ms: now_ms() })
    }

    fn save<B: AutodiffBackend, O: Optimizer<Model<B>, B>>(
        &self,
        model: &Model<B>,
        optimizer: &O,
        epoch: usize,
        complete: bool,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        let recorder = DefaultRecorder::new();
        let model_stem = self.folder.checkpoint_stem(epoch, complete, "model");
        std::fs::create_dir_all(self.folder.checkpoints())?;
        model
            .clone()
            .save_file(&model_stem, &recorder)
            .map_err(|e| self.checkpoint_error(model_stem.clone(), e))?;
        let optim_stem = self.folder.checkpoint_stem(epoch, complete, "optim");
        recorder
            .record(optimizer.to_record(), optim_stem.clone())
            .map_err(|e| self.checkpoint_error(optim_stem.clone(), e))?;
        let of = crate::runs::folder::CheckpointOf {
            spec: &self.prepared.spec,
            config: self.config,
        };
        let index = self.folder.commit_checkpoint(epoch, complete, of)?;
        reporter.record(MetricsRecord::Checkpoint {
            epoch,
            path: index.model,
        })
    }

    fn stopped<B: AutodiffBackend, O: Optimizer<Model<B>, B>>(
        &self,
        model: Model<B>,
        optimizer: &O,
        epoch: usize,
        last_complete: Option<usize>,
        reporter: &mut Reporter<'_>,
    ) -> Result<(), TrainError> {
        // The weights trained so far in this epoch are kept; resuming starts the epoch again.
        self.save(&model, optimizer, epoch, false, reporter)?;
        reporter.record(MetricsRecord::Stopped {
            time_ms: now_ms(),
            last_epoch: last_complete,
        })
    }
}

/// One optimisation step over `batch`, split across `devices` (each part on its own replica
/// and thread when there are several); returns the updated model and the batch's loss. A
/// replica that fails fails the step.
pub fn step<B: AutodiffBackend, O: Optimizer<Model<B>, B>>(
    model: Model<B>,
    optimizer: &mut O,
    batch: &super::data::Batch,
    devices: &[B::Device],
    learning_rate: f64,
) -> Result<(Model<B>, StepLoss), TrainError> {
    let (grads, loss) = gradients(&model, batch, devices)?;
    let model = optimizer.step(learning_rate, model, grads);
    Ok((model, loss))
}

/// The summed gradients of the batch's loss (see [`step`]), without updating the model; an
/// error names the replica's device when one of several fails (a step without its part of
/// the batch would silently be another step).
pub fn gradients<B: AutodiffBackend>(
    model: &Model<B>,
    batch: &super::data::Batch,
    devices: &[B::Device],
) -> Result<(GradientsParams, StepLoss), TrainError> {
    let labelled = batch.labelled();
    let active = labelled.iter().filter(|&&n| n > 0).count().max(1);
    if devices.len() == 1 {
        let (loss, heads) = part_loss(model, batch, &labelled, active, &devices[0]);
        let grads = GradientsParams::from_grads(loss.backward(), model);
        return Ok((grads, heads));
    }
    let parts = batch.split(devices.len());
    let main = devices[0].clone();
    let results: Vec<Result<(GradientsParams, StepLoss), TrainError>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .zip(devices)
                .enumerate()
                .filter(|(_, (part, _))| !part.is_empty())
                .map(|(n, (part, device))| {
                    let name = format!("{n} (device {device:?})");
                    // Each thread gets its own fork: replicas sharing one model's autodiff graph
                    // across threads deadlock in burn-autodiff.
                    let replica = model.clone().fork(device);
                    let (labelled, main) = (&labelled, &main);
                    let spawned = std::thread::Builder::new()
                        .name("vitrine-replica".into())
                        .spawn_scoped(scope, move || {
                            crate::threads::catch(|| {
                                let (loss, heads) =
                                    part_loss(&replica, part, labelled, active, device);
                                let grads = GradientsParams::from_grads(loss.backward(), &replica)
                                    .to_device(main, &replica);
                                (grads, heads)
                            })
                        });
                    (name, spawned)
                })
                .collect();
            handles
                .into_iter()
                .map(|(device, spawned)| {
                    let failed = |message: String| TrainError::Replica {
                        device: device.clone(),
                        message,
                    };
                    let handle =
                        spawned.map_err(|e| failed(format!("cannot start its thread: {e}")))?;
                    handle
                        .join()
                        .map_err(|panic| failed(crate::threads::panic_message(panic.as_ref())))?
                        .map_err(failed)
                })
                .collect()
        });
    let mut accumulator = GradientsAccumulator::<Model<B>>::new();
    let mut total = StepLoss {
        total: 0.0,
        heads: vec![0.0; labelled.len()],
    };
    for result in results {
        let (grads, loss) = result?;
        accumulator.accumulate(model, grads);
        total.total += loss.total;
        for (t, h) in total.heads.iter_mut().zip(loss.heads) {
            *t += h;
        }
    }
    Ok((accumulator.grads(), total))
}

/// The loss of one part of a batch, weighted so that the parts' losses sum to the batch's.
fn part_loss<B: AutodiffBackend>(
    model: &Model<B>,
    part: &super::data::Batch,
    labelled: &[usize],
    active: usize,
    device: &B::Device,
) -> (Tensor<B, 1>, StepLoss) {
    let (images, slots) = batch_inputs::<B>(part, device);
    let output = model.forward(images, slots, part.len());
    let losses: Vec<Tensor<B, 1>> = output
        .logits
        .into_iter()
        .enumerate()
        .map(|(h, logits)| {
            let (targets, weights) = head_targets::<B>(part, h, labelled[h], device);
            weighted_cross_entropy(logits, targets, weights)
        })
        .collect();
    let heads = Tensor::cat(losses, 0); // [heads]
    let values: Vec<f32> = heads
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap_or_default();
    let loss = heads.sum() / active as f32;
    let total = values.iter().sum::<f32>() / active as f32;
    (
        loss,
        StepLoss {
            total,
            heads: values,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_training_thread_leaves_a_failed_record_and_event() {
        let dir = tempfile::tempdir().unwrap();
        let folder = RunFolder::at(dir.path());
        let (tx, rx) = bounded(4);
        let events = Events::new(tx);
        guarded(&folder, &events, |owned| {
            *owned = true;
            let zero = std::hint::black_box(0usize);
            Err(TrainError::NoData(format!("{}", 10 / zero)))
        });
        let (records, _) = crate::runs::metrics::read_all(&folder.metrics_path()).unwrap();
        let [MetricsRecord::Failed { message, .. }] = &records[..] else {
            panic!("{records:?}")
        };
        assert!(message.contains("attempt to divide by zero"), "{message}");
        assert!(matches!(
            rx.try_recv(),
            Ok(TrainingEvent::Record(MetricsRecord::Failed { .. }))
        ));
        // Before the folder is the run's, the failure is only an event: another run's log is
        // left alone.
        let other = tempfile::tempdir().unwrap();
        let folder = RunFolder::at(other.path());
        guarded(&folder, &events, |_| panic!("early"));
        assert!(!folder.metrics_path().exists());
        assert!(matches!(
            rx.try_recv(),
            Ok(TrainingEvent::Record(MetricsRecord::Failed { message, .. })) if message.contains("early")
        ));
    }
}
