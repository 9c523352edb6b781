//! Events: what the workers report back to the UI thread, in the past tense.

use super::cockpit::ComparisonView;
use super::command::DialogPurpose;
use super::images::ImageKey;
use super::opening::{LoadedPredictions, Opened};
use crate::labels::change_review::{ChangeQueue, Judged, Judgement};
use crate::labels::{Edit, ExportSummary, Lost, Review, ServerState, Standing, Withdrawn};
use crate::ml::audit::AuditEvent;
use crate::ml::saved::KernelTiles;
use crate::runs::audit::AuditSettings;
use crate::runs::{MetricsRecord, RunConfig};
use std::path::PathBuf;

/// The id of a request to the label store, named again in its answer: the window knows which
/// of its changes are still waiting (and shows "saving" until none is).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Why the store worker wrote edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    /// A label change made in this window.
    Change,
    /// An undo.
    Undo,
    /// A redo.
    Redo,
    /// Edits another process wrote, picked up by the store worker.
    Elsewhere,
    /// Reverts of others' changes, by this window's reviewer.
    Revert,
}

/// Something a worker finished or found.
#[derive(Debug)]
pub enum Event {
    /// The demo catalogue generator finished `done` of `total` products.
    DemoProgressed {
        /// Products written.
        done: usize,
        /// Products in all.
        total: usize,
    },
    /// A catalogue, its store and predictions were opened.
    CatalogueOpened(Box<Opened>),
    /// The open reached `stage`, `fraction` (0 to 1) of it done.
    OpenProgressed {
        /// The stage running.
        stage: super::opening::OpenStage,
        /// How much of it is done.
        fraction: f32,
    },
    /// Opening was cancelled by the user.
    OpenCancelled {
        /// The catalogue.
        path: PathBuf,
    },
    /// Opening a catalogue failed.
    OpenFailed {
        /// The catalogue.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The list of recent catalogues was read.
    RecentLoaded(Vec<super::opening::Recent>),
    /// A predictions file was read and lined up with the catalogue.
    PredictionsLoaded(LoadedPredictions),
    /// A predictions file could not be read.
    PredictionsFailed(String),
    /// Edits are durable in the store.
    LabelsSaved {
        /// The request answered (`None`: edits another process wrote).
        request: Option<RequestId>,
        /// The journal entries written (empty: nothing to do).
        edits: Vec<Edit>,
        /// What caused them.
        kind: SaveKind,
    },
    /// A keep is durable in the store.
    ReviewSaved {
        /// The request answered.
        request: RequestId,
        /// The review written.
        review: Review,
    },
    /// A review was withdrawn in the store.
    ReviewWithdrawn {
        /// The request answered.
        request: RequestId,
        /// The review and what stands for its product and task since.
        withdrawn: Withdrawn,
    },
    /// Reviews another process kept or withdrew, picked up by the store worker: what stands
    /// now for each product and task they changed.
    ReviewsChanged(Vec<Standing>),
    /// The changes waiting for this window's verdict were read.
    ChangesLoaded(Result<ChangeQueue, String>),
    /// Someone (another reviewer, or this window) gave verdicts since the last look.
    VerdictsChanged,
    /// A verdict was given (the reverts written are in `judged`).
    Judged {
        /// The request answered.
        request: RequestId,
        /// What was judged and refused.
        judged: Judged,
    },
    /// A team store's link to its server changed: reachable or not, edits waiting.
    ServerChanged(ServerState),
    /// Edits made offline that the server refused when they were sent (the label had changed
    /// meanwhile; the other's label stands).
    EditsLost(Vec<Lost>),
    /// The store refused or failed a request.
    StoreFailed {
        /// The request answered (`None`: a history read, or looking for others' edits).
        request: Option<RequestId>,
        /// Why.
        message: String,
    },
    /// A product's journal entries were read.
    HistoryLoaded {
        /// The product id.
        product: String,
        /// Its entries, oldest first.
        edits: Vec<Edit>,
        /// The reviewers' verdicts on them.
        verdicts: Vec<Judgement>,
    },
    /// The corrected catalogue was written.
    Exported {
        /// Where.
        path: PathBuf,
        /// What.
        summary: ExportSummary,
    },
    /// Exporting failed.
    ExportFailed(String),
    /// An image was decoded (or read from the thumbnail cache).
    ThumbnailDecoded {
        /// Which image at which size.
        key: ImageKey,
        /// The pixels.
        image: egui::ColorImage,
    },
    /// An image could not be decoded.
    ThumbnailFailed {
        /// Which image.
        key: ImageKey,
        /// Why, shown in the placeholder.
        reason: String,
    },
    /// The filter worker finished a job.
    FilterFinished {
        /// The job's number; older ones are ignored.
        generation: u64,
        /// Matching positions in display order.
        matches: Vec<u32>,
        /// How long it took.
        elapsed: std::time::Duration,
    },
    /// An audit was read and its review queue built.
    AuditOpened {
        /// The job's number; older ones are ignored.
        generation: u64,
        /// The audit and its report (boxed: it is large).
        audit: Box<super::audit_queue::LoadedAudit>,
    },
    /// The catalogue's last audit was found (it is opened next).
    AuditRemembered {
        /// The job's number; older ones are ignored.
        generation: u64,
        /// The audit folder.
        folder: PathBuf,
    },
    /// An audit could not be opened.
    AuditFailed {
        /// The job's number; older ones are ignored.
        generation: u64,
        /// The folder asked for.
        path: PathBuf,
        /// Why, naming the file.
        message: String,
    },
    /// A training run or cockpit job reported.
    Run(RunEvent),
    /// A file dialog closed.
    DialogClosed {
        /// What the dialog was for.
        purpose: DialogPurpose,
        /// The chosen path, if any.
        path: Option<PathBuf>,
    },
    /// The filter worker failed a job (a panic, caught); it goes on with the next.
    FilterFailed {
        /// The job's number; older ones are ignored.
        generation: u64,
        /// Why.
        message: String,
    },
    /// The label store worker stopped after a failure it cannot go on from (a panic, caught):
    /// every edit it reported saved is durable; the catalogue must be reopened to edit again.
    StoreStopped(String),
    /// A worker thread with no state of its own in the window failed (a panic, caught).
    WorkerFailed(String),
    /// The similar worker answered.
    Similar(SimilarEvent),
    /// The duplicate search or the store's marks answered.
    Duplicates(DuplicatesEvent),
    /// The map's computation reported.
    Map(MapEvent),
    /// Which photo decided each task of a product, or why that is not known.
    Decided {
        /// The product's catalogue position.
        product: u32,
        /// The answer.
        result: Result<crate::ml::saved::ProductDecision, String>,
    },
}

/// What the training runs and the cockpit's jobs report.
#[derive(Debug)]
pub enum RunEvent {
    /// A run folder is followed: its configuration, or why it cannot be read.
    RunFound {
        /// The run folder.
        run: PathBuf,
        /// Its configuration (boxed: it is large).
        config: Box<Result<RunConfig, String>>,
    },
    /// New records of a followed run's metrics log.
    RunRecords {
        /// The run folder.
        run: PathBuf,
        /// The records, in log order.
        records: Vec<MetricsRecord>,
        /// Lines that could not be read.
        bad_lines: usize,
        /// Whether its predictions file exists.
        has_predictions: bool,
        /// Why the log could not be read, if it could not.
        error: Option<String>,
    },
    /// A run launched here prepares its data.
    RunPreparing {
        /// The run folder.
        run: PathBuf,
        /// What it does.
        stage: String,
    },
    /// A run launched here failed (possibly before its log existed).
    RunFailed {
        /// The run folder.
        run: PathBuf,
        /// Why.
        message: String,
    },
    /// A run is no longer followed: forgotten, or its folder deleted.
    RunGone {
        /// The run folder.
        run: PathBuf,
        /// Whether the folder was deleted (else the user forgot it).
        deleted: bool,
    },
    /// The engine's thread of a run launched here ended.
    RunThreadEnded {
        /// The run folder.
        run: PathBuf,
    },
    /// An audit folder is followed: its settings (or why they cannot be read), and whether
    /// it finished (its summary is written); again when it finishes.
    AuditFound {
        /// The audit folder.
        audit: PathBuf,
        /// Its settings (boxed: they are large).
        settings: Box<Result<AuditSettings, String>>,
        /// Whether its summary exists.
        finished: bool,
    },
    /// Every run and audit of a runs folder was reported (the `RunFound` and `AuditFound`
    /// events of its scan came before).
    RunsScanned {
        /// The runs folder.
        runs_dir: PathBuf,
    },
    /// An audit launched here reported (its folds' own records are read from their logs;
    /// a fold's preparation and failure come as the fold run's `RunPreparing`, `RunFailed`).
    AuditReported {
        /// The audit folder.
        audit: PathBuf,
        /// What it said.
        event: AuditEvent,
    },
    /// The engine's thread of an audit launched here ended.
    AuditThreadEnded {
        /// The audit folder.
        audit: PathBuf,
    },
    /// The GPUs of this machine were counted.
    DevicesFound(usize),
    /// Two runs were compared.
    Compared(Box<ComparisonView>),
    /// A run's first-layer kernels were read.
    KernelsRead {
        /// The run folder.
        run: PathBuf,
        /// The tiles and their picture, or why not.
        result: Result<(KernelTiles, egui::ColorImage), String>,
    },
    /// A file was written in the background.
    FileWritten(PathBuf),
    /// Writing a file failed.
    WriteFailed(String),
    /// Predictions were written from a run's latest checkpoint.
    Predicted {
        /// The run folder.
        run: PathBuf,
        /// The predictions file, or why not.
        result: Result<PathBuf, String>,
    },
}

/// What the similar worker reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SimilarEvent {
    /// The representations of a run or audit are ready to search.
    Opened {
        /// The open's number ([`super::similar::SimilarState::generation`]).
        generation: u64,
        /// Which model they come from.
        note: String,
        /// Exact search or the index.
        method: String,
        /// How many products have one.
        products: usize,
        /// What happened on the way (an index rebuilt because it was stale or damaged).
        notes: Vec<String>,
    },
    /// They cannot be used: why.
    Unavailable {
        /// The open's number.
        generation: u64,
        /// Why.
        reason: String,
    },
    /// The neighbours of a product: product ids and similarities, most similar first, or why
    /// there are none.
    Found {
        /// The open's number.
        generation: u64,
        /// The product's catalogue position.
        product: u32,
        /// The neighbours.
        neighbours: Result<Vec<(String, f32)>, String>,
    },
}

/// What the duplicate search and the store report for the Duplicates view.
#[derive(Debug)]
pub enum DuplicatesEvent {
    /// Photos compared so far, of all.
    Progressed {
        /// The search's number.
        generation: u64,
        /// Photos compared.
        done: usize,
        /// Photos in all.
        total: usize,
    },
    /// The search finished: the clusters and what was searched, or why it failed.
    Found {
        /// The search's number.
        generation: u64,
        /// The report.
        result: Result<(crate::similarity::duplicates::DuplicateReport, String), String>,
    },
    /// The search was cancelled before it finished.
    Cancelled {
        /// The search's number.
        generation: u64,
    },
    /// The store's pairs marked not duplicates, after marking any asked for, or why not.
    Marks(Result<Vec<(String, String)>, String>),
}

/// A map laid out (or read from the run folder) on the map worker.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedMap {
    /// The predictions file whose run's representation was laid out.
    pub predictions: std::path::PathBuf,
    /// What was laid out and how ("run X, 2,000 products, ... in 12.0 s").
    pub note: String,
    /// The map.
    pub map: crate::similarity::map::Map,
}

/// What the map's computation reports.
#[derive(Debug)]
pub enum MapEvent {
    /// Where it stands.
    Progressed {
        /// The computation's number.
        generation: u64,
        /// The stage and how far it is.
        progress: crate::similarity::map::MapProgress,
    },
    /// It finished: the map, or why there is none.
    Computed {
        /// The computation's number.
        generation: u64,
        /// The map.
        result: Result<Box<ComputedMap>, String>,
    },
    /// It was cancelled before it finished.
    Cancelled {
        /// The computation's number.
        generation: u64,
    },
}
