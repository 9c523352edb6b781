//! The training cockpit's state: the runs and audits of the open catalogue (and any run folder
//! opened from disk), what is selected, the new-run form, the comparison and the kernels view.
//! Plain data: [`super::update`] changes it, the `ui` panels draw it.

use crate::catalog::Task;
use crate::ml::saved::KernelTiles;
use crate::runs::compare::Comparison;
use crate::runs::config::{Optimizer, Recipe};
use crate::runs::gpu_settings::GpuSettings;
use crate::runs::history::{Curves, RunHistory, RunStatus};
use crate::runs::{Backbone, RunConfig};
use std::path::{Path, PathBuf};

/// Which view of the window is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The moderator workspace.
    #[default]
    Workspace,
    /// The review queue of an audit.
    Audit,
    /// The training cockpit.
    Training,
    /// Duplicate and near-duplicate clusters.
    Duplicates,
    /// The representation laid out in 2-D.
    Map,
}

/// The cockpit's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CockpitTab {
    /// Loss, accuracy, learning rate and speed curves.
    #[default]
    Curves,
    /// Per-task confusion matrix of an epoch.
    Confusion,
    /// Two runs side by side.
    Compare,
    /// First convolution layer's kernels.
    Kernels,
}

/// One run in the runs panel.
#[derive(Debug, Clone)]
pub struct RunEntry {
    /// The run folder.
    pub folder: PathBuf,
    /// Its configuration, or why it cannot be read (`None` until the runs thread read it).
    pub config: Option<Result<RunConfig, String>>,
    /// Its metrics log so far.
    pub history: RunHistory,
    /// The series drawn, refreshed when records arrive.
    pub curves: Curves,
    /// What the engine prepares (runs launched here, before their first iteration).
    pub preparing: Option<String>,
    /// The run trains in this window (it can be stopped here).
    pub training_here: bool,
    /// Its `predictions.jsonl` exists.
    pub has_predictions: bool,
    /// Drawn in the curves of the selected run too.
    pub overlay: bool,
    /// Predictions are being written from its latest checkpoint.
    pub predicting: bool,
    /// The log could not be read: why.
    pub log_error: Option<String>,
    /// The name of the audit this run is a fold of (the folder holding it), if it is one.
    pub audit: Option<String>,
}

impl RunEntry {
    /// A run just found, with nothing read yet.
    pub fn new(folder: PathBuf) -> Self {
        RunEntry {
            folder,
            config: None,
            history: RunHistory::default(),
            curves: Curves::default(),
            preparing: None,
            training_here: false,
            has_predictions: false,
            overlay: false,
            predicting: false,
            log_error: None,
            audit: None,
        }
    }

    /// The folder's name; a fold's is its audit's and its own (`audit-.../fold-2`).
    pub fn name(&self) -> String {
        match &self.audit {
            Some(audit) => format!("{audit}/{}", run_name(&self.folder)),
            None => run_name(&self.folder),
        }
    }

    /// "multi-image" or "single-image", and the backbone, for lists.
    pub fn kind(&self) -> String {
        match &self.config {
            Some(Ok(c)) => config_kind(c),
            Some(Err(_)) => "unknown configuration".into(),
            None => String::new(),
        }
    }

    /// Whether the run can be resumed: it ended without finishing, is not training here and
    /// is no audit's fold (the audit is resumed instead, and goes on with its other folds).
    pub fn resumable(&self) -> bool {
        !self.training_here
            && self.audit.is_none()
            && matches!(
                self.history.status,
                RunStatus::Stopped | RunStatus::Failed(_)
            )
            && self.history.checkpoint.is_some()
    }
}

/// A run configuration in a few words, for lists: `multi small 64px, 5 tasks`.
pub fn config_kind(c: &RunConfig) -> String {
    format!(
        "{} {} {}px, {}",
        if c.single_image { "single" } else { "multi" },
        c.backbone.name(),
        c.image_size,
        if c.tasks.len() == Task::ALL.len() {
            "5 tasks".to_string()
        } else {
            c.tasks
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join("+")
        }
    )
}

/// The folder name of a run.
pub fn run_name(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| folder.display().to_string())
}

/// The "New run" dialog's fields (also the "New audit" dialog's: the same recipe, with folds).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRunForm {
    /// Folder name of the run (or the audit).
    pub name: String,
    /// `Some(k)`: an audit of `k` folds, each fold a run of this recipe; `None`: one run.
    pub folds: Option<u32>,
    /// The recipe the fields started from (its settings the dialog does not show, such as
    /// dropout, come with it).
    pub recipe: Recipe,
    /// CNN per photo.
    pub backbone: Backbone,
    /// Crop side in pixels.
    pub image_size: u32,
    /// Products (or photos) per step.
    pub batch: usize,
    /// Epochs.
    pub epochs: usize,
    /// Iterations trained at least (more epochs on a small catalogue); 0: exactly `epochs`.
    pub min_iterations: usize,
    /// Starting learning rate.
    pub learning_rate: f64,
    /// Iterations of the linear warm-up to `learning_rate`.
    pub warmup_iterations: usize,
    /// Epochs at which the rate is divided by 10, comma separated.
    pub lr_drops: String,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Every device offered (`cpu`, `cuda:0`, ...) and whether it is chosen.
    pub devices: Vec<(String, bool)>,
    /// How GPUs autotune and fuse their kernels (offered where there are GPUs).
    pub gpu: GpuSettings,
    /// Products flattened into one-photo copies.
    pub single_image: bool,
    /// The tasks trained, by [`Task::index`].
    pub tasks: [bool; 5],
    /// Attribute whose value keeps related products on one side of the split (e.g. Luma's
    /// `style_sku`); empty: split by product.
    pub group_by: String,
    /// Why the last start was refused.
    pub error: Option<String>,
}

impl NewRunForm {
    /// Sensible defaults for a machine with `gpus` GPUs: on the CPU the configuration of
    /// `vitrine train` without options (small backbone at 64 px, the default recipe); with
    /// GPUs the published setting (ZFNet at 224 px, the published recipe) on every GPU.
    pub fn defaults(gpus: usize, name: String) -> Self {
        let mut devices = vec![("cpu".to_string(), gpus == 0)];
        devices.extend((0..gpus).map(|i| (format!("cuda:{i}"), true)));
        let (recipe, backbone) = if gpus == 0 {
            (Recipe::Default, Backbone::Small)
        } else {
            (Recipe::Published, Backbone::Zfnet)
        };
        let mut form = NewRunForm {
            name,
            folds: None,
            recipe,
            backbone,
            image_size: backbone.default_image_size(),
            batch: 0,
            epochs: 0,
            min_iterations: 0,
            learning_rate: 0.0,
            warmup_iterations: 0,
            lr_drops: String::new(),
            weight_decay: 0.0,
            devices,
            gpu: GpuSettings::default(),
            single_image: false,
            tasks: [true; 5],
            group_by: String::new(),
            error: None,
        };
        form.set_recipe(recipe);
        if gpus > 0 {
            form.batch = 64 * gpus;
        }
        form
    }

    /// Starts from `recipe`: its batch, epochs, learning rate, warm-up, drops and weight
    /// decay.
    pub fn set_recipe(&mut self, recipe: Recipe) {
        let config = RunConfig::default().with_recipe(recipe);
        self.recipe = recipe;
        self.batch = config.batch;
        self.epochs = config.epochs;
        self.min_iterations = config.min_iterations;
        self.learning_rate = config.learning_rate;
        self.warmup_iterations = config.warmup_iterations;
        self.lr_drops = join_drops(&config.lr_drops);
        self.weight_decay = config.weight_decay;
    }

    /// The optimiser the run steps with: its recipe's.
    pub fn optimizer(&self) -> Optimizer {
        RunConfig::default().with_recipe(self.recipe).optimizer
    }

    /// The same form for an audit of `folds` folds.
    pub fn audit(self, folds: u32) -> Self {
        NewRunForm {
            folds: Some(folds),
            ..self
        }
    }

    /// Sets exactly `epochs` epochs (no minimum of iterations) and moves the drops to half
    /// and three quarters of them.
    pub fn set_epochs(&mut self, epochs: usize) {
        let config = RunConfig::default().with_epochs(epochs);
        self.epochs = config.epochs;
        self.min_iterations = config.min_iterations;
        self.lr_drops = join_drops(&config.lr_drops);
    }

    /// The run configuration for the catalogue described by `base` (its path, columns and
    /// image folder), or what is wrong with the form.
    pub fn config(&self, base: RunConfig) -> Result<RunConfig, String> {
        if self.name.trim().is_empty()
            || self.name.contains(['/', '\\'])
            || self.name.starts_with('.')
        {
            return Err(match self.folds {
                Some(_) => "the audit name must be a plain folder name".into(),
                None => "the run name must be a plain folder name".into(),
            });
        }
        if let Some(folds) = self.folds
            && !(MIN_FOLDS..=MAX_FOLDS).contains(&folds)
        {
            return Err(format!(
                "an audit has {MIN_FOLDS} to {MAX_FOLDS} folds, not {folds}"
            ));
        }
        let lr_drops = self
            .lr_drops
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| format!("learning-rate drops: '{s}' is not an epoch number"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let config = RunConfig {
            backbone: self.backbone,
            image_size: self.image_size,
            batch: self.batch,
            epochs: self.epochs,
            min_iterations: self.min_iterations,
            learning_rate: self.learning_rate,
            warmup_iterations: self.warmup_iterations,
            lr_drops,
            weight_decay: self.weight_decay,
            devices: self
                .devices
                .iter()
                .filter(|(_, on)| *on)
                .map(|(d, _)| d.clone())
                .collect(),
            gpu: self.gpu,
            single_image: self.single_image,
            tasks: Task::ALL
                .iter()
                .copied()
                .filter(|t| self.tasks[t.index()])
                .collect(),
            group_by: Some(self.group_by.trim().to_string()).filter(|g| !g.is_empty()),
            ..base.with_recipe(self.recipe)
        };
        config.validate().map_err(|e| e.message)?;
        Ok(config)
    }
}

/// The fewest folds an audit has (each product is predicted by a model trained on the others).
pub const MIN_FOLDS: u32 = 2;
/// The most folds the dialog offers (as `vitrine audit --folds`).
pub const MAX_FOLDS: u32 = 50;
/// Folds of a new audit in the dialog.
pub const DEFAULT_FOLDS: u32 = 5;
/// The demo's own audit, computed in the background when the demo is opened without a
/// finished one: its folder in the demo's runs folder.
pub const DEMO_AUDIT: &str = "demo-audit";

fn join_drops(drops: &[usize]) -> String {
    drops
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How far an audit got, as the cockpit knows it.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditStatus {
    /// Launched here; its folds are being chosen (or its first fold prepares).
    Starting,
    /// Fold `fold` trains.
    Training {
        /// The fold, from 1.
        fold: u32,
    },
    /// Every fold trained: their predictions are merged and audited.
    Merging,
    /// Its merged out-of-fold predictions and summary are written.
    Finished,
    /// Stopped by the user during fold `fold` (resumable).
    Stopped {
        /// The fold.
        fold: u32,
    },
    /// Failed, during fold `fold` if a fold's run failed (resumable once fixed).
    Failed {
        /// The fold, if the failure is a fold's.
        fold: Option<u32>,
        /// Why.
        message: String,
    },
    /// Found on disk without its summary: interrupted, or trained by another process.
    Unfinished,
}

impl AuditStatus {
    /// A short word for lists.
    pub fn word(&self) -> &'static str {
        match self {
            AuditStatus::Starting => "starting",
            AuditStatus::Training { .. } => "training",
            AuditStatus::Merging => "merging",
            AuditStatus::Finished => "finished",
            AuditStatus::Stopped { .. } => "stopped",
            AuditStatus::Failed { .. } => "failed",
            AuditStatus::Unfinished => "unfinished",
        }
    }

    /// Whether the audit still works (its thread runs).
    pub fn working(&self) -> bool {
        matches!(
            self,
            AuditStatus::Starting | AuditStatus::Training { .. } | AuditStatus::Merging
        )
    }
}

/// One audit in the runs panel: its folds are listed among the runs.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The audit folder.
    pub folder: PathBuf,
    /// Its folds (`None` until its settings were read).
    pub folds: Option<u32>,
    /// The configuration its folds train with, once known.
    pub config: Option<RunConfig>,
    /// How far it got.
    pub status: AuditStatus,
    /// It trains in this window (it can be stopped here).
    pub training_here: bool,
    /// Why its settings cannot be read, if they cannot.
    pub error: Option<String>,
}

impl AuditEntry {
    /// An audit just found or launched, with nothing known yet.
    pub fn new(folder: PathBuf) -> Self {
        AuditEntry {
            folder,
            folds: None,
            config: None,
            status: AuditStatus::Unfinished,
            training_here: false,
            error: None,
        }
    }

    /// The folder's name.
    pub fn name(&self) -> String {
        run_name(&self.folder)
    }

    /// The run folder of fold `fold` (as [`crate::runs::audit::AuditFolder::fold`] names it).
    pub fn fold_folder(&self, fold: u32) -> PathBuf {
        crate::runs::audit::AuditFolder::at(&self.folder)
            .fold(fold)
            .root()
            .to_path_buf()
    }

    /// Whether the audit can be resumed here: it ended early (or was found unfinished with
    /// no fold training) and does not train here.
    pub fn resumable(&self, cockpit: &Cockpit) -> bool {
        if self.training_here || self.config.is_none() {
            return false;
        }
        match self.status {
            AuditStatus::Stopped { .. } | AuditStatus::Failed { .. } => true,
            AuditStatus::Unfinished => !self.fold_runs(cockpit).any(|r| {
                matches!(
                    r.history.status,
                    RunStatus::Running | RunStatus::Preparing(_)
                )
            }),
            _ => false,
        }
    }

    /// The entries of its folds listed so far.
    fn fold_runs<'a>(&self, cockpit: &'a Cockpit) -> impl Iterator<Item = &'a RunEntry> {
        let folder = self.folder.clone();
        cockpit
            .runs
            .iter()
            .filter(move |r| r.folder.parent() == Some(folder.as_path()))
    }
}

/// An audit's progress over all its folds, for its one bar.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditProgress {
    /// Done, 0 to 1: every fold counts alike (each trains the same recipe on as many products).
    pub fraction: f32,
    /// What it does: `fold 2/5, epoch 3/20`, `merging the folds' predictions`, ...
    pub text: String,
}

/// Products waiting for a run's predictions before the grid can show them.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingProducts {
    /// A confusion-matrix cell: label class (row) and predicted class (column) of the head.
    Cell {
        /// The run.
        run: PathBuf,
        /// The task.
        task: Task,
        /// Row: the label's class.
        label: usize,
        /// Column: the predicted class.
        predicted: usize,
    },
    /// The validation products a run gets wrong on a task.
    Misclassified {
        /// The run.
        run: PathBuf,
        /// The task.
        task: Task,
    },
    /// Given products, shown with a run's predictions (the comparison's right/wrong lists,
    /// shown with the predictions of the run that got them wrong).
    Listed {
        /// The run.
        run: PathBuf,
        /// What the products are.
        title: String,
        /// Catalogue positions.
        positions: Vec<u32>,
    },
}

impl PendingProducts {
    /// The run whose predictions are needed.
    pub fn run(&self) -> &Path {
        match self {
            PendingProducts::Cell { run, .. }
            | PendingProducts::Misclassified { run, .. }
            | PendingProducts::Listed { run, .. } => run,
        }
    }
}

/// A comparison, computed or failed.
#[derive(Debug, Clone)]
pub struct ComparisonView {
    /// Run A's folder.
    pub a: PathBuf,
    /// Run B's folder.
    pub b: PathBuf,
    /// The table, or why it could not be made.
    pub result: Result<Comparison, String>,
}

/// The first-layer kernels of a run, read or failed.
pub struct KernelsView {
    /// The run.
    pub run: PathBuf,
    /// The tiles (with a texture of all of them), or why they could not be read.
    pub result: Result<(KernelTiles, egui::TextureHandle), String>,
}

/// Everything the cockpit shows.
pub struct Cockpit {
    /// Which view of the window is shown.
    pub view: View,
    /// The open tab.
    pub tab: CockpitTab,
    /// Known runs, in the order found (an audit's folds among them).
    pub runs: Vec<RunEntry>,
    /// Known audits, in the order found.
    pub audits: Vec<AuditEntry>,
    /// The runs folder whose scan decides the demo's audit (the demo was just opened): once
    /// scanned, its finished audit is shown, else its audit is started or resumed.
    pub demo_audit_scan: Option<PathBuf>,
    /// The selected run's folder.
    pub selected: Option<PathBuf>,
    /// Curve smoothing weight (0 = raw).
    pub smoothing: f32,
    /// The epoch shown in the confusion tab (`None`: the latest).
    pub epoch: Option<usize>,
    /// The task shown in the confusion tab.
    pub confusion_task: Task,
    /// The open "New run" dialog.
    pub new_run: Option<NewRunForm>,
    /// GPUs found (counted once, off the UI thread).
    pub gpus: usize,
    /// Runs A and B of the comparison.
    pub compare: [Option<PathBuf>; 2],
    /// A comparison is being computed.
    pub comparing: bool,
    /// The latest comparison.
    pub comparison: Option<ComparisonView>,
    /// The first-layer kernels read: of the selected run, and of the run shown beside it.
    pub kernels: Vec<KernelsView>,
    /// The runs whose kernels are being read.
    pub reading_kernels: Vec<PathBuf>,
    /// The run whose kernels the Kernels tab shows beside the selected run's (the published
    /// comparison: a colour-only model's first layer beside the multi-task model's).
    pub kernels_beside: Option<PathBuf>,
    /// Products to show once a run's predictions are loaded.
    pub pending: Option<PendingProducts>,
    /// Where this catalogue's runs live.
    pub runs_dir: Option<PathBuf>,
    /// When the window started: the clock live records are timed with (for the ETA).
    pub clock: std::time::Instant,
}

impl Default for Cockpit {
    fn default() -> Self {
        Cockpit {
            view: View::Workspace,
            tab: CockpitTab::Curves,
            runs: Vec::new(),
            audits: Vec::new(),
            demo_audit_scan: None,
            selected: None,
            smoothing: 0.6,
            epoch: None,
            confusion_task: Task::Colour,
            new_run: None,
            gpus: 0,
            compare: [None, None],
            comparing: false,
            comparison: None,
            kernels: Vec::new(),
            reading_kernels: Vec::new(),
            kernels_beside: None,
            pending: None,
            runs_dir: None,
            clock: std::time::Instant::now(),
        }
    }
}

impl Cockpit {
    /// The entry of the run in `folder`.
    pub fn run(&self, folder: &Path) -> Option<&RunEntry> {
        self.runs.iter().find(|r| r.folder == folder)
    }

    /// The entry of the run in `folder`, added if new (named as its audit's fold when it is
    /// one).
    pub fn run_mut(&mut self, folder: &Path) -> &mut RunEntry {
        let index = match self.runs.iter().position(|r| r.folder == folder) {
            Some(i) => i,
            None => {
                let mut entry = RunEntry::new(folder.to_path_buf());
                entry.audit = folder
                    .parent()
                    .and_then(|parent| self.audit(parent))
                    .map(AuditEntry::name);
                self.runs.push(entry);
                self.runs.len() - 1
            }
        };
        &mut self.runs[index]
    }

    /// The entry of the audit in `folder`.
    pub fn audit(&self, folder: &Path) -> Option<&AuditEntry> {
        self.audits.iter().find(|a| a.folder == folder)
    }

    /// The entry of the audit in `folder`, added if new; the runs in it become its folds.
    pub fn audit_mut(&mut self, folder: &Path) -> &mut AuditEntry {
        let index = match self.audits.iter().position(|a| a.folder == folder) {
            Some(i) => i,
            None => {
                let entry = AuditEntry::new(folder.to_path_buf());
                let name = entry.name();
                for run in &mut self.runs {
                    if run.folder.parent() == Some(folder) {
                        run.audit = Some(name.clone());
                    }
                }
                self.audits.push(entry);
                self.audits.len() - 1
            }
        };
        &mut self.audits[index]
    }

    /// The progress of `audit` over all its folds: finished folds count whole, the fold
    /// training by its epochs; `None` before its folds are known.
    pub fn audit_progress(&self, audit: &AuditEntry) -> Option<AuditProgress> {
        let folds = audit.folds?;
        let fraction_of = |fold: u32| {
            self.run(&audit.fold_folder(fold)).map_or(0.0, |run| {
                let h = &run.history;
                if h.status == RunStatus::Finished {
                    1.0
                } else if h.epochs_planned > 0 {
                    (h.progress() / h.epochs_planned as f64).clamp(0.0, 1.0)
                } else {
                    0.0
                }
            })
        };
        let done: f64 = (1..=folds).map(fraction_of).sum();
        let fraction = match audit.status {
            AuditStatus::Finished => 1.0,
            _ => (done / folds as f64) as f32,
        };
        let fold_text = |fold: u32| {
            let epoch = self
                .run(&audit.fold_folder(fold))
                .map(|run| &run.history)
                .filter(|h| h.epochs_planned > 0)
                .map(|h| {
                    format!(
                        ", epoch {}/{}",
                        (h.progress().floor() as usize + 1).min(h.epochs_planned),
                        h.epochs_planned
                    )
                });
            format!("fold {fold}/{folds}{}", epoch.unwrap_or_default())
        };
        let text = match &audit.status {
            AuditStatus::Starting => "choosing the folds".to_string(),
            AuditStatus::Training { fold } => fold_text(*fold),
            AuditStatus::Merging => "merging the folds' predictions".to_string(),
            AuditStatus::Finished => format!("{folds} folds, out-of-fold predictions written"),
            AuditStatus::Stopped { fold } => format!("stopped during fold {fold}/{folds}"),
            AuditStatus::Failed {
                fold: Some(fold), ..
            } => format!("fold {fold}/{folds} failed"),
            AuditStatus::Failed { fold: None, .. } => "failed".to_string(),
            AuditStatus::Unfinished => {
                let training = (1..=folds).find(|&fold| {
                    self.run(&audit.fold_folder(fold))
                        .is_some_and(|r| r.history.status == RunStatus::Running)
                });
                match training {
                    Some(fold) => fold_text(fold),
                    None => format!("unfinished, {done:.1} of {folds} folds trained"),
                }
            }
        };
        Some(AuditProgress { fraction, text })
    }

    /// Drops the run (or audit) in `folder` and every reference to it (selection, comparison
    /// slots, products waiting for its predictions, its kernels); a comparison already made
    /// stays. An audit's folds stay listed until they are gone too.
    pub fn forget(&mut self, folder: &Path) {
        self.runs.retain(|r| r.folder != folder);
        self.audits.retain(|a| a.folder != folder);
        if self.selected.as_deref() == Some(folder) {
            self.selected = self.runs.first().map(|r| r.folder.clone());
        }
        for slot in &mut self.compare {
            if slot.as_deref() == Some(folder) {
                *slot = None;
            }
        }
        if self.pending.as_ref().is_some_and(|p| p.run() == folder) {
            self.pending = None;
        }
        self.kernels.retain(|f| f.run != folder);
        if self.kernels_beside.as_deref() == Some(folder) {
            self.kernels_beside = None;
        }
    }

    /// The kernels read of `run`, if any.
    pub fn kernels_of(&self, run: &Path) -> Option<&KernelsView> {
        self.kernels.iter().find(|k| k.run == run)
    }

    /// The selected run.
    pub fn selected_run(&self) -> Option<&RunEntry> {
        self.run(self.selected.as_deref()?)
    }

    /// Runs A and B to compare when none are chosen: the latest single-image and the latest
    /// multi-image run with predictions, else the latest two with predictions.
    pub fn default_comparison(&self) -> Option<[PathBuf; 2]> {
        let ready: Vec<&RunEntry> = self
            .runs
            .iter()
            .rev()
            .filter(|r| r.has_predictions)
            .collect();
        let single = |want: bool| {
            ready
                .iter()
                .find(|r| matches!(&r.config, Some(Ok(c)) if c.single_image == want))
                .map(|r| r.folder.clone())
        };
        match (single(true), single(false)) {
            (Some(a), Some(b)) => Some([a, b]),
            _ => match ready.as_slice() {
                [newest, previous, ..] => Some([previous.folder.clone(), newest.folder.clone()]),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_defaults_follow_the_hardware_and_build_a_valid_config() {
        let cpu = NewRunForm::defaults(0, "run-1".into());
        assert_eq!(cpu.backbone, Backbone::Small);
        assert_eq!(cpu.devices, vec![("cpu".to_string(), true)]);
        assert_eq!(cpu.lr_drops, "8, 9");
        let gpu = NewRunForm::defaults(2, "run-2".into());
        assert_eq!(
            (gpu.backbone, gpu.image_size, gpu.epochs),
            (Backbone::Zfnet, 224, 20)
        );
        assert_eq!(gpu.lr_drops, "10, 15");
        let chosen: Vec<&str> = gpu
            .devices
            .iter()
            .filter(|d| d.1)
            .map(|d| d.0.as_str())
            .collect();
        assert_eq!(chosen, ["cuda:0", "cuda:1"]);

        let base = RunConfig {
            catalogue: "/data/styles.csv".into(),
            ..RunConfig::default()
        };
        // On the CPU the dialog starts a run exactly as `vitrine train` without options; on
        // GPUs the published recipe, until another one is chosen.
        assert_eq!(cpu.config(base.clone()).unwrap(), base);
        assert_eq!(gpu.recipe, Recipe::Published);
        let published = gpu.config(base.clone()).unwrap();
        assert_eq!(
            (
                published.dropout,
                published.learning_rate,
                published.label_smoothing
            ),
            (0.5, 0.01, 0.0)
        );
        assert_eq!(gpu.optimizer(), Optimizer::Sgd);
        assert_eq!(cpu.optimizer(), Optimizer::Adamw);
        assert_eq!(published.gpu, GpuSettings::default());
        let mut unfused = gpu.clone();
        unfused.gpu.fusion = false;
        unfused.gpu.autotune = crate::runs::gpu_settings::Autotune::Minimal;
        assert_eq!(unfused.config(base.clone()).unwrap().gpu, unfused.gpu);
        let mut chosen = gpu.clone();
        chosen.set_recipe(Recipe::Default);
        let default = chosen.config(base.clone()).unwrap();
        assert_eq!(
            (
                default.dropout,
                default.warmup_iterations,
                default.min_iterations,
                default.label_smoothing
            ),
            (
                base.dropout,
                base.warmup_iterations,
                base.min_iterations,
                base.label_smoothing
            )
        );
        let mut form = cpu.clone();
        form.tasks = [false, true, false, false, false];
        form.single_image = true;
        form.set_epochs(4);
        let config = form.config(base.clone()).unwrap();
        assert_eq!(config.catalogue, PathBuf::from("/data/styles.csv"));
        assert_eq!(config.tasks, vec![Task::Colour]);
        assert_eq!((config.epochs, config.lr_drops.clone()), (4, vec![2, 3]));
        assert_eq!(config.min_iterations, 0, "epochs set by hand are exact");
        assert!(config.single_image);
        assert_eq!(config.group_by, None);
        form.group_by = " style_sku ".into();
        assert_eq!(
            form.config(base.clone()).unwrap().group_by.as_deref(),
            Some("style_sku")
        );

        form.lr_drops = "2, x".into();
        assert!(form.config(base.clone()).unwrap_err().contains("'x'"));
        form.lr_drops = "2".into();
        form.tasks = [false; 5];
        assert_eq!(
            form.config(base.clone()).unwrap_err(),
            "choose at least one task"
        );
        form.tasks[0] = true;
        form.name = "../escape".into();
        assert!(form.config(base).is_err());
    }

    #[test]
    fn the_default_comparison_pairs_single_with_multi_image() {
        let mut cockpit = Cockpit::default();
        let mut add = |name: &str, single_image: bool, predictions: bool| {
            let entry = cockpit.run_mut(Path::new(name));
            entry.config = Some(Ok(RunConfig {
                single_image,
                ..RunConfig::default()
            }));
            entry.has_predictions = predictions;
        };
        add("multi-old", false, true);
        add("single", true, true);
        add("multi-new", false, true);
        add("multi-running", false, false);
        let pair = cockpit.default_comparison().unwrap();
        assert_eq!(pair, [PathBuf::from("single"), PathBuf::from("multi-new")]);
        let mut two = Cockpit::default();
        for name in ["a", "b", "c"] {
            let entry = two.run_mut(Path::new(name));
            entry.config = Some(Ok(RunConfig::default()));
            entry.has_predictions = name != "c";
        }
        assert_eq!(
            two.default_comparison().unwrap(),
            [PathBuf::from("a"), PathBuf::from("b")]
        );
        assert!(Cockpit::default().default_comparison().is_none());
    }
}
