//! An audit's training: K fold models, one after the other, on a thread named
//! `vitrine-audit`, then their out-of-fold predictions merged and the label audit computed.
//!
//! Each fold is an ordinary run ([`super::training`]) in the audit folder, resumable and
//! stoppable as any run; the audit forwards its events tagged with the fold. A stopped or
//! failed fold ends the audit, which `resume` continues: finished folds are kept, an
//! unfinished one goes on from its last checkpoint.

use super::training::{self, TrainRequest, TrainingEvent};
use crate::audit::folds::{FoldMember, ThinClass, assign};
use crate::audit::report::{AuditSummary, summarise};
use crate::catalog::Task;
use crate::labels::open_workspace_read_only;
use crate::runs::audit::{AuditFolder, AuditSettings, FoldState};
use crate::runs::config::ResumeChanges;
use crate::runs::{MetricsRecord, RunConfig};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

/// Folds of the demo catalogue's audit on first start: the fewest, because each fold is a
/// whole training of the default recipe and the first start must end within minutes on a
/// two-core CPU (two folds of the 20-epoch default recipe took 355 CPU-seconds; three train
/// 2.1 times the iterations).
pub const DEMO_FOLDS: u32 = 2;

/// What to audit.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRequest {
    /// The audit folder (created; or, with `resume`, read).
    pub dir: PathBuf,
    /// The configuration of the fold runs (a new audit's; a resumed one keeps its own).
    pub config: RunConfig,
    /// How many folds (a new audit's).
    pub folds: u32,
    /// Continue the audit in `dir`.
    pub resume: bool,
    /// The label store to read current labels from (default: the catalogue's).
    pub store: Option<PathBuf>,
}

/// What the audit tells its listener.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditEvent {
    /// A new audit's folds were chosen and saved.
    Assigned {
        /// Products per fold.
        sizes: Vec<usize>,
        /// Classes with fewer products than folds.
        thin: Vec<ThinClass>,
    },
    /// A fold's run starts (or resumes).
    FoldStarted {
        /// The fold, from 1.
        fold: u32,
        /// Folds in all.
        of: u32,
        /// Whether it continues an earlier attempt.
        resumed: bool,
    },
    /// A fold had finished in an earlier attempt and is kept.
    FoldKept {
        /// The fold.
        fold: u32,
    },
    /// An event of a fold's run.
    Fold {
        /// The fold.
        fold: u32,
        /// The run's event.
        event: TrainingEvent,
    },
    /// All folds are trained: the predictions are being merged and audited.
    Merging,
    /// The audit is complete.
    Finished(Box<AuditSummary>),
    /// The user stopped the audit during fold `fold` (resumable).
    Stopped {
        /// The fold whose run was stopped.
        fold: u32,
    },
    /// The audit failed; `fold` names the fold whose run failed, if one did.
    Failed {
        /// The fold, if the failure is a fold's.
        fold: Option<u32>,
        /// Why.
        message: String,
    },
}

/// The audit could not go on.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The audit folder or a fold's files.
    #[error(transparent)]
    Run(#[from] crate::runs::RunError),
    /// The catalogue could not be opened.
    #[error(transparent)]
    Open(#[from] crate::labels::OpenError),
    /// The catalogue cannot be split into folds.
    #[error("{catalogue}: {reason}")]
    Folds {
        /// The catalogue.
        catalogue: String,
        /// Why.
        reason: crate::audit::folds::FoldError,
    },
    /// The configuration is not one a run can train with.
    #[error(transparent)]
    Config(#[from] crate::runs::config::InvalidConfig),
    /// Merging or auditing the predictions failed.
    #[error(transparent)]
    Report(#[from] crate::audit::report::ReportError),
    /// The fold's training thread could not start.
    #[error("could not start the training thread: {0}")]
    Thread(std::io::Error),
}

/// An audit in progress on its own thread.
#[derive(Debug)]
pub struct AuditHandle {
    events: Receiver<AuditEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AuditHandle {
    /// The audit's events.
    pub fn events(&self) -> &Receiver<AuditEvent> {
        &self.events
    }

    /// Asks the audit to stop: the fold in training stops after its iteration (with a
    /// checkpoint).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// A flag that stops the audit when set, for another thread.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Waits for the audit's thread to end.
    pub fn join(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts an audit (or resumes one) on a thread named `vitrine-audit`.
pub fn start(request: AuditRequest) -> std::io::Result<AuditHandle> {
    let (tx, events) = bounded(256);
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let thread = std::thread::Builder::new()
        .name("vitrine-audit".into())
        .spawn(move || {
            let outcome = crate::threads::catch(|| run(&request, &tx, &thread_stop))
                .unwrap_or_else(|panic| {
                    Err(Failure {
                        fold: None,
                        message: format!("the audit stopped on an internal error: {panic}"),
                    })
                });
            if let Err(failure) = outcome {
                let _ = tx.send(AuditEvent::Failed {
                    fold: failure.fold,
                    message: failure.message,
                });
            }
        })?;
    Ok(AuditHandle {
        events,
        stop,
        thread: Some(thread),
    })
}

/// Runs an audit to its end, `progress` seeing each event: the summary, or why it did not
/// finish (stopped, or failed).
pub fn run_to_end(
    request: AuditRequest,
    progress: &mut dyn FnMut(&AuditEvent),
) -> Result<AuditSummary, String> {
    let handle = start(request).map_err(|e| format!("could not start the audit thread: {e}"))?;
    let mut outcome = Err("the audit thread ended without a result".to_string());
    for event in handle.events().iter() {
        progress(&event);
        match event {
            AuditEvent::Finished(summary) => outcome = Ok(*summary),
            AuditEvent::Stopped { fold } => outcome = Err(format!("stopped during fold {fold}")),
            AuditEvent::Failed { fold, message } => {
                outcome = Err(match fold {
                    Some(fold) => format!("fold {fold} failed: {message}"),
                    None => message,
                })
            }
            _ => {}
        }
    }
    handle.join();
    outcome
}

/// Why the audit ended early.
struct Failure {
    fold: Option<u32>,
    message: String,
}

impl From<AuditError> for Failure {
    fn from(error: AuditError) -> Self {
        Failure {
            fold: None,
            message: error.to_string(),
        }
    }
}

/// Creates a new audit's folder and folds.
fn create(request: &AuditRequest, tx: &Sender<AuditEvent>) -> Result<AuditFolder, AuditError> {
    request.config.validate()?;
    let options = training::import_options(&request.config).map_err(|e| {
        AuditError::Config(crate::runs::config::InvalidConfig {
            field: "columns",
            message: e.to_string(),
        })
    })?;
    let workspace = open_workspace_read_only(
        &request.config.catalogue,
        &options,
        request.store.as_deref(),
    )?;
    let catalog = workspace.catalog;
    let group = request.config.group_by.as_deref();
    let members: Vec<FoldMember> = catalog
        .products()
        .iter()
        .filter(|p| !p.images.is_empty())
        .map(|p| FoldMember {
            id: &p.id,
            group: group.and_then(|g| catalog.attribute(p, g)),
            labels: Task::ALL.map(|t| {
                request
                    .config
                    .tasks
                    .contains(&t)
                    .then(|| catalog.label_name(p, t))
                    .flatten()
            }),
        })
        .collect();
    let folds =
        assign(&members, request.folds as usize, request.config.seed).map_err(|reason| {
            AuditError::Folds {
                catalogue: request.config.catalogue.display().to_string(),
                reason,
            }
        })?;
    let settings = AuditSettings::new(request.folds, request.config.clone(), now_ms());
    let audit = AuditFolder::create(&request.dir, &settings)?;
    folds.assignment.write(&audit.folds_path())?;
    let _ = tx.send(AuditEvent::Assigned {
        sizes: folds.assignment.sizes(),
        thin: folds.thin,
    });
    Ok(audit)
}

fn run(request: &AuditRequest, tx: &Sender<AuditEvent>, stop: &AtomicBool) -> Result<(), Failure> {
    let audit = if request.resume {
        AuditFolder::at(&request.dir)
    } else {
        create(request, tx)?
    };
    let settings = audit.settings().map_err(AuditError::from)?;
    if !audit.folds_path().is_file() {
        return Err(AuditError::Run(crate::runs::RunError::Malformed {
            path: audit.folds_path(),
            message: "the audit's folds are missing; start a new audit".into(),
        })
        .into());
    }
    for fold in 1..=settings.folds {
        let state = audit.fold_state(fold);
        if state == FoldState::Finished {
            let _ = tx.send(AuditEvent::FoldKept { fold });
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            let _ = tx.send(AuditEvent::Stopped { fold });
            return Ok(());
        }
        let resumed = state != FoldState::NotStarted;
        if resumed && trained_through(&audit, fold) {
            // Trained to its last epoch, stopped before its predictions were written.
            let run = audit.fold(fold);
            let devices = run.config().map(|c| c.devices).unwrap_or_default();
            super::saved::predict_run(run.root(), None, None, &devices).map_err(|e| Failure {
                fold: Some(fold),
                message: e.to_string(),
            })?;
            let _ = tx.send(AuditEvent::FoldKept { fold });
            continue;
        }
        let _ = tx.send(AuditEvent::FoldStarted {
            fold,
            of: settings.folds,
            resumed,
        });
        let config = audit
            .fold_config(&settings, fold)
            .map_err(AuditError::from)?;
        let handle = training::start(TrainRequest {
            run_dir: audit.fold(fold).root().to_path_buf(),
            config,
            resume: resumed,
            changes: ResumeChanges::default(),
            store: request.store.clone(),
        })
        .map_err(AuditError::Thread)?;
        let mut last = None;
        loop {
            if stop.load(Ordering::Relaxed) {
                handle.stop();
            }
            match handle
                .events()
                .recv_timeout(std::time::Duration::from_millis(100))
            {
                Ok(event) => {
                    if let TrainingEvent::Record(
                        record @ (MetricsRecord::Finished { .. }
                        | MetricsRecord::Stopped { .. }
                        | MetricsRecord::Failed { .. }),
                    ) = &event
                    {
                        last = Some(record.clone());
                    }
                    // A listener that went away does not stop the audit; its stop flag does.
                    let _ = tx.send(AuditEvent::Fold { fold, event });
                }
                Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
            }
        }
        handle.join();
        match last {
            Some(MetricsRecord::Finished { .. }) => {}
            Some(MetricsRecord::Stopped { .. }) => {
                let _ = tx.send(AuditEvent::Stopped { fold });
                return Ok(());
            }
            Some(MetricsRecord::Failed { message, .. }) => {
                return Err(Failure {
                    fold: Some(fold),
                    message,
                });
            }
            _ => {
                return Err(Failure {
                    fold: Some(fold),
                    message: "the fold's run ended without a result".into(),
                });
            }
        }
    }
    let _ = tx.send(AuditEvent::Merging);
    let summary = finish(&audit, &settings, request.store.as_deref())?;
    let _ = tx.send(AuditEvent::Finished(Box::new(summary)));
    Ok(())
}

/// Whether fold `fold`'s run has a checkpoint of its last epoch.
fn trained_through(audit: &AuditFolder, fold: u32) -> bool {
    let run = audit.fold(fold);
    match (run.config(), run.latest_checkpoint()) {
        (Ok(config), Ok(Some(checkpoint))) => checkpoint.resume_epoch() >= config.epochs,
        _ => false,
    }
}

/// Merges the folds' predictions and audits them against the catalogue's current labels.
pub fn finish(
    audit: &AuditFolder,
    settings: &AuditSettings,
    store: Option<&std::path::Path>,
) -> Result<AuditSummary, AuditError> {
    crate::runs::audit::merge(audit, settings)?;
    let options = training::import_options(&settings.config).map_err(|e| {
        AuditError::Config(crate::runs::config::InvalidConfig {
            field: "columns",
            message: e.to_string(),
        })
    })?;
    let workspace = open_workspace_read_only(&settings.config.catalogue, &options, store)?;
    let summary = summarise(audit, &workspace.catalog)?;
    summary.write(&audit.summary_path())?;
    Ok(summary)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
