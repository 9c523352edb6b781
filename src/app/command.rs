//! Commands: what the UI asks for, as imperative verbs. Produced by the `ui` functions and the
//! key handler, applied by [`super::update::apply_command`].

use super::cockpit::{CockpitTab, NewRunForm, View};
use super::filter::Filter;
use super::images::ImageRequest;
use super::keys::KeyAction;
use super::opening::OpenRequest;
use super::selection::ClickMode;
use crate::catalog::Task;
use crate::labels::EditSource;
use std::path::PathBuf;

/// What a file dialog is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Open a catalogue file (CSV, JSONL).
    OpenFile,
    /// Open a catalogue folder.
    OpenFolder,
    /// Load a predictions file.
    LoadPredictions,
    /// Choose where to export the corrected catalogue.
    Export,
    /// Open a run folder to follow.
    OpenRun,
    /// Open an audit folder (or a run folder) in the Audit view.
    OpenAudit,
    /// Choose where to write the comparison table (Markdown, else CSV).
    ExportComparison {
        /// Markdown rather than CSV.
        markdown: bool,
    },
    /// Choose where to write the map as a PNG picture.
    ExportMap,
}

/// A panel that can be shown or hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The edit log.
    EditLog,
    /// Import, store and prediction warnings.
    Warnings,
    /// The key list.
    Help,
    /// Others' changes waiting for a verdict.
    Changes,
}

/// What the Changes panel (others' changes waiting for a verdict) asks for.
#[derive(Debug, Clone)]
pub enum ChangesCommand {
    /// Read the queue again.
    Refresh,
    /// Show the changes this filter lets through.
    Filter(crate::labels::change_review::QueueFilter),
    /// Approve or revert changes.
    Judge {
        /// The journal entries.
        ids: Vec<i64>,
        /// Every entry of their batches.
        whole_batches: bool,
        /// Approved or reverted.
        verdict: crate::labels::change_review::Verdict,
    },
}

/// What the "Connect to team store" dialog asks for.
#[derive(Debug, Clone)]
pub enum ConnectCommand {
    /// Show it, with the current team store's address (or a template).
    Show,
    /// The address as typed.
    Edit(String),
    /// Reopen the open catalogue with the team store at the typed address.
    Connect,
    /// Reopen the open catalogue with its own file store.
    UseFile,
    /// Close the dialog.
    Cancel,
}

/// Something the user asked for.
#[derive(Debug, Clone)]
pub enum Command {
    /// Open a catalogue.
    OpenCatalogue(OpenRequest),
    /// Review others' changes.
    Changes(ChangesCommand),
    /// Open (generating on first use) the demo catalogue.
    OpenDemo,
    /// The "Connect to team store" dialog.
    Connect(ConnectCommand),
    /// Show a file dialog.
    ShowDialog(DialogPurpose),
    /// Load a predictions file (or the `predictions.jsonl` in a run folder).
    LoadPredictions(PathBuf),
    /// Write the corrected catalogue.
    Export(PathBuf),
    /// Open an audit folder (`vitrine audit --out`, or a run folder with probabilities) as the
    /// review queue of the open catalogue, its predictions shown in the workspace; the view
    /// stays as it is.
    OpenAudit(PathBuf),
    /// A review queue command.
    Audit(AuditCommand),
    /// Change the filter or sort.
    SetFilter(Filter),
    /// Re-run the filter on the current labels.
    RefreshFilter,
    /// Change the card width, in points.
    SetCardSize(f32),
    /// The cards show the photo that decided this task (`None`: the first photo).
    SetCardPhoto(Option<Task>),
    /// The grid's layout changed: columns per row and rows on screen.
    SetGridShape {
        /// Cards per row.
        columns: usize,
        /// Rows that fit on screen.
        visible_rows: usize,
    },
    /// The grid scrolled to where the focus is.
    ScrolledToFocus,
    /// A card was clicked.
    Click {
        /// Index into the matches.
        index: usize,
        /// Plain, Ctrl or Shift.
        mode: ClickMode,
    },
    /// A key was pressed (outside text fields).
    Key(KeyAction),
    /// Focus one task.
    FocusTask(Task),
    /// Set the focused task of the targets to a value (no confirmation; one product, or a
    /// confirmed bulk change).
    SetLabel {
        /// The task.
        task: Task,
        /// The new label (`None` clears it).
        value: Option<String>,
        /// Human, accepted prediction or bulk.
        source: EditSource,
        /// Catalogue positions.
        targets: Vec<u32>,
    },
    /// Journal that the label of `task` of the product at catalogue position `product` was
    /// checked and is right (K in the review queue).
    KeepLabel {
        /// Catalogue position.
        product: u32,
        /// The task.
        task: Task,
    },
    /// Withdraw a review (a keep undone).
    WithdrawReview {
        /// The review's number.
        review: i64,
    },
    /// Open the class picker for a task on the current targets.
    OpenPicker(Task),
    /// The picker's text changed.
    PickerQuery(String),
    /// Move the picker's highlight.
    PickerMove(i32),
    /// Toggle "ignore the taxonomy" in the picker.
    PickerToggleTaxonomy,
    /// Choose a class in the picker.
    PickerChoose(String),
    /// Close the picker without choosing.
    ClosePicker,
    /// Apply the bulk change waiting for confirmation.
    ConfirmBulk,
    /// Drop the bulk change waiting for confirmation.
    CancelBulk,
    /// Stop opening the catalogue being opened.
    CancelOpen,
    /// Show or hide a panel.
    TogglePanel(Panel),
    /// Show image `index` of the focused product.
    ShowImage(usize),
    /// Set the product view's zoom.
    SetZoom(f32),
    /// The images the grid and the product view show now, most important first.
    WantImages(Vec<ImageRequest>),
    /// The search field took the keyboard.
    SearchFocused,
    /// Forget the message shown in the status bar.
    DismissMessage,
    /// A training cockpit command.
    Cockpit(CockpitCommand),
    /// The product view shows the product at this catalogue position: find its similar
    /// products unless they are found or asked for already.
    WantSimilar(u32),
    /// Focus the product at this catalogue position (a click in the Similar strip), whether
    /// or not the grid shows it.
    FocusProduct(u32),
    /// Show the similar products of the product at this catalogue position in the grid, most
    /// similar first.
    ShowSimilar(u32),
    /// A Duplicates view command.
    Duplicates(DuplicatesCommand),
    /// A Map view command.
    Map(MapCommand),
    /// Find which photo decided each task of the product at this catalogue position, by the
    /// run whose predictions are shown.
    Decide(u32),
}

/// What the user asks of the review queue (the Audit view).
#[derive(Debug, Clone, PartialEq)]
pub enum AuditCommand {
    /// Show a task's queue.
    SetTask(Task),
    /// Make the card of row `n` of the list the current one.
    Select(usize),
    /// Move the current card along the list (browsing, no action).
    Step(i64),
    /// Set the label to the card's suggestion (Enter).
    Accept,
    /// Set the label to the model's class of this rank, from 0 (keys 1 to 5).
    Choose(usize),
    /// Open the class picker on the card's product (E).
    Pick,
    /// Keep the card's label: checked, it is right (K).
    Keep,
    /// Go on to the next card (S).
    Skip,
    /// Undo the queue's latest action (Ctrl+Z).
    Undo,
    /// Show only the products of a noise-matrix cell (`None`: the whole queue).
    FilterCell(Option<(usize, usize)>),
    /// Ask to accept every open product of the cell shown.
    AskAcceptCell,
    /// Accept the cell asked for, as one batch.
    ConfirmAcceptCell,
    /// Drop the cell's batch waiting for confirmation.
    CancelAcceptCell,
}

impl From<AuditCommand> for Command {
    fn from(command: AuditCommand) -> Self {
        Command::Audit(command)
    }
}

/// What the user asks of the training cockpit.
#[derive(Debug, Clone)]
pub enum CockpitCommand {
    /// Show the workspace or the training cockpit.
    SetView(View),
    /// Open the cockpit tab.
    SetCockpitTab(CockpitTab),
    /// Open the "New run" dialog.
    ShowNewRun,
    /// Open the "New audit" dialog: the "New run" dialog with folds.
    ShowNewAudit,
    /// The "New run" (or "New audit") dialog's fields changed.
    EditNewRun(NewRunForm),
    /// Close the "New run" (or "New audit") dialog.
    CloseNewRun,
    /// Start the run (or the audit) the dialog describes.
    StartRun,
    /// Stop an audit training in this window (its fold stops after a checkpoint).
    StopAudit(PathBuf),
    /// Resume a stopped, failed or interrupted audit in this window: finished folds are kept.
    ResumeAudit(PathBuf),
    /// Stop a run training in this window.
    StopRun(PathBuf),
    /// Resume a stopped or failed run from its latest checkpoint, in this window.
    ResumeRun(PathBuf),
    /// Follow a run folder (one another process may be writing), now and in later sessions.
    FollowRun(PathBuf),
    /// Stop following a run folder and drop it from the list (the folder stays on disk).
    ForgetRun(PathBuf),
    /// Select a run.
    SelectRun(PathBuf),
    /// Draw a run's curves over the selected run's, or stop drawing them.
    ToggleOverlay(PathBuf),
    /// Curve smoothing weight (0 = raw).
    SetSmoothing(f32),
    /// Show the confusion matrix of an epoch (`None`: the latest).
    SelectEpoch(Option<usize>),
    /// Show the confusion matrix of a task.
    SelectConfusionTask(Task),
    /// Open the products of a confusion-matrix cell in the grid.
    OpenConfusionCell {
        /// The run.
        run: PathBuf,
        /// The task.
        task: Task,
        /// Row: the label's class in the head.
        label: usize,
        /// Column: the predicted class.
        predicted: usize,
    },
    /// Open the validation products a run gets wrong on a task in the grid.
    ShowMisclassified {
        /// The run.
        run: PathBuf,
        /// The task.
        task: Task,
    },
    /// Show these products in the grid with a run's predictions loaded (they are loaded first).
    ShowRunProducts {
        /// The run whose predictions are shown.
        run: PathBuf,
        /// What the products are.
        title: String,
        /// Catalogue positions.
        positions: Vec<u32>,
    },
    /// Show these products (catalogue positions) in the grid, under a title.
    ShowProducts {
        /// What they are.
        title: String,
        /// Catalogue positions.
        positions: Vec<u32>,
    },
    /// Choose run A (0) or B (1) of the comparison.
    SetComparisonRun {
        /// 0 = A, 1 = B.
        slot: usize,
        /// The run.
        run: PathBuf,
    },
    /// Compute the comparison of runs A and B.
    Compare,
    /// Write the comparison table (after a save dialog).
    WriteComparison {
        /// Where.
        path: PathBuf,
        /// Markdown (else CSV).
        markdown: bool,
    },
    /// Read the first-layer kernels of a run's latest checkpoint.
    ReadKernels(PathBuf),
    /// Show this run's first-layer kernels beside the selected run's (`None`: none beside).
    SetKernelsBeside(Option<PathBuf>),
    /// Write predictions from a run's latest checkpoint (a stopped or running run), then show
    /// them in the workspace.
    PredictRun(PathBuf),
}

impl From<CockpitCommand> for Command {
    fn from(command: CockpitCommand) -> Self {
        Command::Cockpit(command)
    }
}

/// What the Duplicates view asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum DuplicatesCommand {
    /// Set the near-duplicate fraction.
    SetFraction(f32),
    /// Only exact copies, or near duplicates too.
    SetExactOnly(bool),
    /// Search the open catalogue.
    Find,
    /// Stop the search running.
    Cancel,
    /// Mark the cluster at this index of the report as not duplicates (each of its links).
    MarkApart(usize),
}

/// What the Map view asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum MapCommand {
    /// Lay out the representation of the run whose predictions are shown (or read the map
    /// saved in its folder).
    Compute,
    /// Stop the computation running.
    Cancel,
    /// Colour the points by this.
    SetColourBy(super::map::ColourBy),
    /// Choose products with a box or a lasso.
    SetSelectTool(super::map::SelectTool),
    /// Write the map shown, as drawn, to this PNG file.
    WritePng(PathBuf),
}
