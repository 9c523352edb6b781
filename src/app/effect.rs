//! Effects: what applying a command or an event asks of the world outside [`super::state`]
//! (a thread to start, a request to a worker, a dialog), and the queue they wait on.
//!
//! [`super::update`] never starts a thread and never calls itself: it changes the state and
//! puts follow-up commands and effects on a [`Queue`]. The app drains the queue once per
//! frame: the commands first (each may queue more), then the effects, which
//! [`super::workers::Workers::perform`] carries out, the one owner of background jobs. An
//! effect that cannot be carried out is reported back as the event its job would have
//! failed with, so the state learns of it the same way.

use super::command::{Command, DialogPurpose};
use super::event::RequestId;
use super::filter::Filter;
use super::images::ImageRequest;
use super::opening::OpenRequest;
use super::state::Session;
use crate::catalog::{Catalog, Task};
use crate::labels::change_review::{QueueFilter, Verdict};
use crate::labels::{DetachedStore, EditSource, Keep, Review};
use crate::ml::TrainRequest;
use crate::ml::audit::AuditRequest;
use crate::runs::predictions::Predictions;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

/// Most commands one drain applies: a command that kept queueing commands would otherwise
/// hang the frame (none does; this is the guard that proves it cannot).
pub const COMMANDS_PER_DRAIN: usize = 1024;

/// A request to the store worker.
#[derive(Debug, Clone)]
pub enum StoreRequest {
    /// Set one task on several products, as one batch.
    Set {
        /// The request's id, named in its answer.
        id: RequestId,
        /// The task.
        task: Task,
        /// Product ids and their new labels (`None` clears).
        changes: Vec<(String, Option<String>)>,
        /// Human, accepted prediction or bulk.
        source: EditSource,
        /// Why, journalled with each change (the audit a queue's change comes from).
        reason: Option<String>,
    },
    /// Journal that the author checked a label and kept it.
    Keep {
        /// The request's id, named in its answer.
        id: RequestId,
        /// The label kept, with the product's photos.
        keep: Keep,
    },
    /// Withdraw a review (a keep undone).
    Withdraw {
        /// The request's id, named in its answer.
        id: RequestId,
        /// The review's number.
        review: i64,
    },
    /// Undo the author's latest batch (the request's id).
    Undo(RequestId),
    /// Redo the author's latest undone batch (the request's id).
    Redo(RequestId),
    /// Read a product's journal entries.
    History(String),
    /// Read the changes waiting for this window's verdict.
    Changes(QueueFilter),
    /// Approve or revert changes.
    Judge {
        /// The request's id, named in its answer.
        id: RequestId,
        /// The journal entries.
        ids: Vec<i64>,
        /// Every entry of their batches.
        whole_batches: bool,
        /// Approved or reverted.
        verdict: Verdict,
    },
    /// Mark pairs of product ids as not duplicates (none: only read the marks); answered
    /// with every mark.
    NotDuplicates(Vec<(String, String)>),
    /// Write the corrected catalogue to `path`.
    Export {
        /// The file.
        path: PathBuf,
        /// The window's catalogue (the store's current labels are written over its own); let
        /// go of before the worker reports, so the window can edit it in place again.
        catalog: Arc<Catalog>,
    },
}

/// A filter to run on a snapshot of the data.
#[derive(Debug)]
pub struct FilterJob {
    /// The job's number.
    pub generation: u64,
    /// The filter.
    pub filter: Filter,
    /// The catalogue.
    pub catalog: Arc<Catalog>,
    /// Predictions, if loaded.
    pub predictions: Option<Arc<Predictions>>,
    /// Per position, the product's prediction line.
    pub rows: Arc<Vec<Option<u32>>>,
    /// Edited positions.
    pub edited: Arc<HashSet<u32>>,
}

/// An audit to open: its probabilities read and the report built against a snapshot of the
/// window's labels and standing reviews.
#[derive(Debug)]
pub struct AuditJob {
    /// The job's number; older answers are ignored.
    pub generation: u64,
    /// The audit (or run) folder.
    pub folder: PathBuf,
    /// It is the catalogue's last audit, reopened with it (not one the user chose now).
    pub reopening: bool,
    /// The catalogue.
    pub catalog: Arc<Catalog>,
    /// The standing reviews, by position and task (a label kept leaves the queue).
    pub reviews: HashMap<(u32, Task), Review>,
    /// The data folder, where the catalogue's last audit is remembered
    /// ([`crate::paths::last_audit`]).
    pub data_dir: PathBuf,
    /// The catalogue's source file (what it is remembered by).
    pub source: PathBuf,
    /// The duplicate clusters found, for the queue's third witness (empty: none searched).
    pub duplicates: Vec<crate::audit::duplicate::DuplicateGroup>,
}

/// Something for the workers to do.
#[derive(Debug)]
pub enum Effect {
    /// Open a catalogue on a worker (import, store, predictions beside it).
    OpenCatalogue(OpenRequest),
    /// Generate the demo catalogue on first use, then open it.
    OpenDemo,
    /// Stop the open in progress.
    CancelOpen,
    /// Read the list of recently opened catalogues.
    LoadRecent,
    /// Show a file dialog.
    ShowDialog {
        /// What the dialog is for.
        purpose: DialogPurpose,
        /// The folder it starts in.
        start_in: Option<PathBuf>,
    },
    /// Read a predictions file (or a run folder's) and line it up with the catalogue.
    LoadPredictions {
        /// The file or run folder.
        path: PathBuf,
        /// The catalogue to line up with.
        catalog: Arc<Catalog>,
    },
    /// Start the label store worker of a catalogue just opened (ending the previous one once
    /// its queue is done, so its edits are durable).
    StartStore {
        /// The catalogue and its store.
        workspace: Box<DetachedStore>,
        /// Who edits are attributed to.
        author: String,
    },
    /// A request to the label store worker.
    Store(StoreRequest),
    /// A filter job for the filter worker (large catalogues).
    Filter(FilterJob),
    /// The images the window shows now, most important first (replaces the decode queue).
    WantImages(Vec<ImageRequest>),
    /// Open an audit and build its review queue.
    OpenAudit(AuditJob),
    /// Look for the audit last opened on the catalogue whose source file is `source`.
    FindLastAudit {
        /// The job's number, named in the answer.
        generation: u64,
        /// The data folder ([`crate::paths::last_audit`]).
        data_dir: PathBuf,
        /// The catalogue's source file.
        source: PathBuf,
    },
    /// Compare two runs' predictions on the catalogue.
    Compare {
        /// Run A.
        a: PathBuf,
        /// Run B.
        b: PathBuf,
        /// The catalogue both are scored on.
        catalog: Arc<Catalog>,
    },
    /// Write predictions from a run's latest checkpoint.
    Predict(PathBuf),
    /// Read the representations of the run or audit that `path` (a predictions file) comes
    /// from, for the Similar strip.
    OpenSimilar {
        /// The open's number, named in the answers.
        generation: u64,
        /// The predictions file shown.
        path: PathBuf,
    },
    /// Search the catalogue for duplicate clusters.
    FindDuplicates(DuplicatesJob),
    /// Stop the duplicate search running.
    CancelDuplicates,
    /// Lay out (or read the saved layout of) a run's representation.
    ComputeMap {
        /// The computation's number, named in its answers.
        generation: u64,
        /// The predictions file shown: its run (or audit) holds the representation.
        predictions: PathBuf,
    },
    /// Stop the map's computation.
    CancelMap,
    /// Draw the map as a picture and write it as a PNG.
    WriteMapPicture {
        /// The file.
        path: PathBuf,
        /// Each point's place.
        points: Vec<[f32; 2]>,
        /// Each point's colour.
        colours: Vec<[u8; 3]>,
        /// The point ringed (the focused product), if any.
        highlight: Option<usize>,
    },
    /// Find which photo decided each task of one product.
    Decide {
        /// The predictions file shown (its run's latest checkpoint decides).
        predictions: PathBuf,
        /// The product's catalogue position (named in the answer).
        product: u32,
        /// Its id.
        id: String,
    },
    /// Find the similar products of one product.
    FindSimilar {
        /// The open whose representations to search.
        generation: u64,
        /// The product's catalogue position (named in the answer).
        product: u32,
        /// Its id.
        id: String,
        /// How many.
        k: usize,
    },
    /// Read the first-layer kernels of a run's latest checkpoint.
    ReadKernels(PathBuf),
    /// Write a text file in the background.
    WriteFile {
        /// Where.
        path: PathBuf,
        /// What.
        text: String,
    },
    /// Launch (or resume) a training run here.
    LaunchRun(Box<TrainRequest>),
    /// Ask a run training here to stop after its iteration.
    StopRun(PathBuf),
    /// Launch (or resume) an audit here, and follow its folder.
    LaunchAudit(Box<AuditRequest>),
    /// Ask an audit training here to stop (its fold stops after its iteration).
    StopAudit(PathBuf),
    /// An audit's engine thread ended: its stopper can go.
    AuditEnded(PathBuf),
    /// Follow a run folder the user opened, now and in later sessions.
    OpenRun(PathBuf),
    /// Stop following a run folder and forget it.
    ForgetRun(PathBuf),
    /// The catalogue changed: follow only `keep` (runs training here) and every run in
    /// `runs_dir`.
    FollowCatalogueRuns {
        /// The catalogue's runs folder.
        runs_dir: PathBuf,
        /// Runs followed still (they train here).
        keep: Vec<PathBuf>,
    },
    /// A run's engine thread ended: its stopper can go.
    RunEnded(PathBuf),
    /// Free the catalogue closed when another was opened, off the UI thread.
    Discard(Box<Session>),
}

/// Follow-up commands and effects, drained once per frame.
#[derive(Debug, Default)]
pub struct Queue {
    commands: VecDeque<Command>,
    effects: Vec<Effect>,
}

impl Queue {
    /// Queues a command, applied after the one being applied.
    pub fn command(&mut self, command: impl Into<Command>) {
        self.commands.push_back(command.into());
    }

    /// Queues an effect.
    pub fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// The next queued command.
    pub fn next_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// Takes the queued effects, in the order they were queued.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The queued effects (for tests of state transitions).
    pub fn effects(&self) -> &[Effect] {
        &self.effects
    }

    /// The queued commands (for tests of state transitions).
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.commands.iter()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty() && self.effects.is_empty()
    }
}

/// A duplicate search of the open catalogue.
#[derive(Debug)]
pub struct DuplicatesJob {
    /// The search's number, named in its answers.
    pub generation: u64,
    /// The catalogue (let go of before the answer).
    pub catalog: Arc<Catalog>,
    /// The predictions file shown, whose run's representation finds near duplicates; `None`:
    /// exact copies only.
    pub predictions: Option<PathBuf>,
    /// The near-duplicate fraction.
    pub fraction: f32,
    /// Pairs marked not duplicates.
    pub apart: Vec<(String, String)>,
}
