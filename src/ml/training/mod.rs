//! The training engine: a run on a named thread that reports typed events, writes its run
//! folder (config, metrics log, checkpoints, predictions, representations) and can be stopped
//! and resumed.
//!
//! SGD with momentum (no dampening) and weight decay, or AdamW (see
//! [`crate::runs::config::Optimizer`]), a step learning-rate schedule by epoch after a linear
//! warm-up (see [`RunConfig::learning_rate_at`]), at least a minimum number of
//! iterations (see [`RunConfig::scheduled_for`]), a checkpoint after every epoch, and data
//! parallelism over several devices: each device runs its share of the batch on its own
//! replica, and the gradients are summed on the first.
//!
//! This file holds the request, the handle with its events and errors, the model and optimiser
//! a configuration asks for, and the run's thread; the rest is one file per job:
//! - `prepare`: the catalogue with its current labels, the classes of the heads, the split
//!   and the dataset;
//! - `epoch`: the epochs of a run: iterations, validation, metrics records and the final
//!   predictions;
//! - `checkpoint`: writing a checkpoint after an epoch or on a stop, and loading one;
//! - `parallel`: one optimisation step, its batch split over several devices.

mod checkpoint;
mod epoch;
mod parallel;
mod prepare;
mod warmup;

pub use checkpoint::load_weights;
pub use parallel::{StepLoss, gradients, step};
pub use prepare::{Prepared, data_workers, import_options, prepare};

use super::backend::{CpuTraining, Device, DeviceError, parse_devices};
use super::evaluate::PredictError;
use super::model::ModelConfig;
use crate::labels::OpenError;
use crate::runs::config::ResumeChanges;
use crate::runs::folder::CheckpointIndex;
use crate::runs::metrics::MetricsError;
use crate::runs::{MetricsRecord, MetricsWriter, ModelSpec, RunConfig, RunError, RunFolder};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, SgdConfig};
use crossbeam_channel::{Receiver, Sender, bounded};
use prepare::task_names;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

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
    crate::ml::memory::keep_freed_memory();
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

/// SGD with momentum, no dampening (burn's default is 0.1), and L2 weight decay: the
/// published optimiser ([`crate::runs::config::Optimizer::Sgd`]).
pub fn sgd_config(config: &RunConfig) -> SgdConfig {
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

/// AdamW with burn's moments (betas 0.9 and 0.999, epsilon 1e-5) and the run's decoupled
/// weight decay ([`crate::runs::config::Optimizer::Adamw`]).
pub fn adamw_config(config: &RunConfig) -> AdamWConfig {
    AdamWConfig::new().with_weight_decay(config.weight_decay as f32)
}

/// Optimiser steps in an epoch of `config` over the training split of `prepared`.
fn iterations_per_epoch(prepared: &Prepared, config: &RunConfig) -> usize {
    prepared
        .dataset
        .indices(crate::runs::predictions::Split::Train)
        .len()
        .div_ceil(config.batch)
}

/// The model shape of a run.
pub fn model_config(config: &RunConfig, spec: &ModelSpec) -> ModelConfig {
    ModelConfig {
        backbone: config.backbone,
        batch_norm: true,
        feature_grid: config.feature_grid,
        dropout: config.dropout,
        representation: config.representation,
        heads: spec.classes.iter().map(|(&t, c)| (t, c.len())).collect(),
    }
}

/// One run to train: its folder, configuration and prepared data, and the checkpoint it
/// resumes from.
struct Job<'a> {
    folder: &'a RunFolder,
    config: &'a RunConfig,
    prepared: &'a Prepared,
    checkpoint: Option<CheckpointIndex>,
    /// Threads assembling batches.
    workers: usize,
    stop: &'a AtomicBool,
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
    // A new run's epochs follow the size of its training split (a resumed run keeps those of
    // its config.json): saved, so the folder says what it trains.
    let config = if request.resume {
        config
    } else {
        let scheduled = config
            .clone()
            .scheduled_for(iterations_per_epoch(&prepared, &config));
        if scheduled != config {
            folder.write_config(&scheduled)?;
        }
        scheduled
    };
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
        let cpu = crate::ml::backend::cpu_device();
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
) -> Result<(RunConfig, Option<CheckpointIndex>), TrainError> {
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

/// Trains on the GPUs `devices`, with or without burn's kernel fusion as the run's `gpu`
/// settings say, at their autotune level where this process has not set another already.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn train_on_gpus(
    job: &Job<'_>,
    devices: &[Device],
    names: Vec<String>,
    reporter: &mut Reporter<'_>,
) -> Result<(), TrainError> {
    use super::backend::{GpuTraining, GpuUnfusedTraining, autotune_in_effect, gpu_device};
    let settings = job.config.gpu;
    let gpus: Vec<_> = devices
        .iter()
        .map(|d| match d {
            Device::Cuda(i) => gpu_device(*i, settings.autotune),
            Device::Cpu => gpu_device(0, settings.autotune),
        })
        .collect();
    let level = autotune_in_effect();
    if level != settings.autotune {
        reporter.record(MetricsRecord::Warning {
            message: format!(
                "autotune level {level}, not this run's {}: cubecl reads it once per process, \
                 at its first GPU run; start this run in a new process for its own",
                settings.autotune
            ),
        })?;
    }
    if settings.fusion {
        job.train::<GpuTraining>(gpus, names, reporter)
    } else {
        job.train::<GpuUnfusedTraining>(gpus, names, reporter)
    }
}

#[cfg(not(any(feature = "cuda", feature = "wgpu")))]
fn train_on_gpus(
    _job: &Job<'_>,
    _devices: &[Device],
    _names: Vec<String>,
    _reporter: &mut Reporter<'_>,
) -> Result<(), TrainError> {
    Err(DeviceError::NoCuda.into())
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
