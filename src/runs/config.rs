//! The configuration of a training run, as saved in its folder (`config.json`).
//!
//! Pure data so the app can read and edit it without the model code.

use super::folds::FoldSplit;
use super::gpu_settings::{Autotune, GpuSettings};
use crate::catalog::Task;
use crate::catalog::import::Source;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Smallest training crop side, in pixels (the small backbone's four poolings need it).
pub const MIN_IMAGE_SIZE: u32 = 32;
/// Largest training crop side, in pixels: ZFNet's 224 with room to spare, well inside the
/// decoder's limits on any photo.
pub const MAX_IMAGE_SIZE: u32 = 1024;
/// Which per-image CNN the model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backbone {
    /// CPU-friendly: four 3x3 conv blocks (16-32-64-128 channels), 64-96 px inputs.
    Small,
    /// The ZFNet layout (7x7/2 conv, 5x5/2 conv, three 3x3 convs), 224 px inputs.
    Zfnet,
}

impl Backbone {
    /// Name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Backbone::Small => "small",
            Backbone::Zfnet => "zfnet",
        }
    }

    /// The input size the backbone is designed for.
    pub fn default_image_size(self) -> u32 {
        match self {
            Backbone::Small => 64,
            Backbone::Zfnet => 224,
        }
    }
}

/// The rule that turns gradients into weight updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// SGD with `momentum` (no dampening) and L2 `weight_decay` (added to the gradient), as
    /// published; the default of older `config.json` files, which have no `optimizer`.
    #[default]
    Sgd,
    /// AdamW (Loshchilov & Hutter 2019): Adam's moments (betas 0.9 and 0.999, epsilon 1e-5;
    /// `momentum` unused) and `weight_decay` decoupled from the gradient (each step shrinks the
    /// weights by learning rate x weight decay).
    Adamw,
}

impl Optimizer {
    /// Every optimiser, the published one first.
    pub const ALL: [Optimizer; 2] = [Optimizer::Sgd, Optimizer::Adamw];

    /// Name as given on the command line and in `config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Adamw => "adamw",
        }
    }
}

impl std::str::FromStr for Optimizer {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Optimizer::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown optimiser '{s}' (expected sgd or adamw)"))
    }
}

impl std::str::FromStr for Backbone {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(Backbone::Small),
            "zfnet" => Ok(Backbone::Zfnet),
            other => Err(format!(
                "unknown backbone '{other}' (expected small or zfnet)"
            )),
        }
    }
}

/// Everything that defines a training run. Defaults: the small backbone at 64 px and the
/// default [`Recipe`] (the published one is a preset).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// The catalogue trained on (folder or file, as given to the importers).
    pub catalogue: PathBuf,
    /// Column mapping items (`colour=baseColour`) used to import it.
    pub columns: Vec<String>,
    /// Image folder override used to import it.
    pub image_root: Option<PathBuf>,
    /// The per-image CNN.
    pub backbone: Backbone,
    /// Side of the square crop fed to the CNN, in pixels.
    pub image_size: u32,
    /// Side of the grid the small backbone averages its last feature maps to before the
    /// pre-pooling layer: 4 (at 64 px the maps' own 4 x 4, so the network keeps where in the
    /// photo a shape is); 1, a global average, in older `config.json` files, which have no
    /// such field. ZFNet averages to 6 x 6 as published, whatever this says.
    #[serde(default = "global_average")]
    pub feature_grid: usize,
    /// Products per batch (images per batch in single-image mode).
    pub batch: usize,
    /// Epochs to train (a new run trains more when they have fewer than `min_iterations`
    /// iterations, see [`RunConfig::scheduled_for`]).
    pub epochs: usize,
    /// Iterations a new run trains at least: a small catalogue trains more epochs instead of
    /// too few steps to learn anything. 0 (the value of older `config.json` files): exactly
    /// `epochs`.
    #[serde(default)]
    pub min_iterations: usize,
    /// How gradients become updates (older `config.json` files, without it: SGD).
    #[serde(default)]
    pub optimizer: Optimizer,
    /// Learning rate after the warm-up, before the first drop.
    pub learning_rate: f64,
    /// Iterations over which the learning rate rises linearly to `learning_rate` (0, the
    /// value of older `config.json` files: none).
    #[serde(default)]
    pub warmup_iterations: usize,
    /// Epochs (0-based) at whose start the learning rate is multiplied by `lr_drop_factor`.
    pub lr_drops: Vec<usize>,
    /// Learning-rate multiplier at each drop.
    pub lr_drop_factor: f64,
    /// SGD momentum (no dampening); unused by AdamW.
    pub momentum: f64,
    /// Weight decay: L2 (SGD) or decoupled (AdamW).
    pub weight_decay: f64,
    /// Dropout probability of the dense layers.
    pub dropout: f64,
    /// Label smoothing of the training loss: each head's target is `1 - s` on the given class
    /// and `s` spread evenly over all its classes (0, the value of older `config.json` files:
    /// plain cross-entropy). Validation losses are always plain cross-entropy.
    #[serde(default)]
    pub label_smoothing: f64,
    /// Devices: `cpu`, or `cuda:0`, `cuda:1`, ... (several = data parallel).
    pub devices: Vec<String>,
    /// How GPU devices autotune and fuse their kernels (older `config.json` files, without
    /// it: the defaults).
    #[serde(default)]
    pub gpu: GpuSettings,
    /// Train on one-image copies of the products (the published single-image ablation).
    pub single_image: bool,
    /// Tasks with a head (a subset gives single-task or fewer-task models).
    pub tasks: Vec<Task>,
    /// Classes with fewer training examples than this go to an `other` class.
    pub min_class_examples: usize,
    /// Share of products (or groups) held out for validation.
    pub validation_fraction: f64,
    /// The validation products are scored every this many epochs and after the last (1, the
    /// value of older `config.json` files: after every epoch). Scoring costs a forward pass
    /// over them; an audit fold's held-out products are many (half the catalogue with 2
    /// folds), so the demo's first-start audit scores every 4th epoch.
    #[serde(default = "every_epoch")]
    pub validate_every: usize,
    /// Attribute whose value keeps related products on one side of the split (e.g. Luma's
    /// `style_sku`).
    pub group_by: Option<String>,
    /// The audit fold this run is the model of (its held-out products are that fold's; the
    /// split's seed, share and group are then unused). `None`: an ordinary run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fold: Option<FoldSplit>,
    /// At most this many images per product (the first ones).
    pub max_images: usize,
    /// Seed of the split, initialisation, crops and mirroring.
    pub seed: u64,
    /// Dimension of the product representation.
    pub representation: usize,
}

/// The small backbone's feature grid in a `config.json` written before it had one.
fn global_average() -> usize {
    1
}

/// How often a run written before [`RunConfig::validate_every`] existed was validated.
fn every_epoch() -> usize {
    1
}

/// Largest [`RunConfig::feature_grid`] (64 x the last block's 128 channels: 8,192 inputs to
/// the pre-pooling layer).
pub const MAX_FEATURE_GRID: usize = 8;

impl RunConfig {
    /// The catalogue trained on, as a [`Source`] (the file keeps its three fields flat, as
    /// `config.json` always had them).
    pub fn source(&self) -> Source {
        Source {
            catalogue: self.catalogue.clone(),
            columns: self.columns.clone(),
            image_root: self.image_root.clone(),
        }
    }

    /// Trains on `source`.
    pub fn set_source(&mut self, source: Source) {
        self.catalogue = source.catalogue;
        self.columns = source.columns;
        self.image_root = source.image_root;
    }
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            catalogue: PathBuf::new(),
            columns: Vec::new(),
            image_root: None,
            backbone: Backbone::Small,
            image_size: 64,
            feature_grid: 4,
            batch: 0,
            epochs: 0,
            min_iterations: 0,
            optimizer: Optimizer::Sgd,
            learning_rate: 0.0,
            warmup_iterations: 0,
            lr_drops: Vec::new(),
            lr_drop_factor: 0.0,
            momentum: 0.0,
            weight_decay: 0.0,
            dropout: 0.0,
            label_smoothing: 0.0,
            devices: vec!["cpu".into()],
            gpu: GpuSettings::default(),
            single_image: false,
            tasks: Task::ALL.to_vec(),
            min_class_examples: 5,
            validation_fraction: 0.2,
            validate_every: 1,
            group_by: None,
            fold: None,
            max_images: 5,
            seed: 1,
            representation: 1024,
        }
        .with_recipe(Recipe::Default)
    }
}

/// How a run trains: the optimiser's settings, the batch and the schedule (the model and the
/// data are the configuration's other fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipe {
    /// Learns on small catalogues as on large ones: AdamW from a linear warm-up, smaller
    /// batches, late drops, no dropout and at least a minimum number of iterations (figures
    /// in [`RunConfig::with_recipe`]).
    #[default]
    Default,
    /// The published recipe (figures in [`RunConfig::with_recipe`]).
    Published,
}

impl Recipe {
    /// Every recipe, the default first.
    pub const ALL: [Recipe; 2] = [Recipe::Default, Recipe::Published];

    /// Name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Recipe::Default => "default",
            Recipe::Published => "published",
        }
    }

    /// The recipe in one line, with its figures (for `--help` and the New run dialog).
    pub fn describe(self) -> String {
        let c = RunConfig::default().with_recipe(self);
        let warmup = match c.warmup_iterations {
            0 => String::new(),
            n => format!(" after a linear warm-up over {n} iterations"),
        };
        let drops = c
            .lr_drops
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        let minimum = match c.min_iterations {
            0 => String::new(),
            n => format!(
                " (more on small catalogues: at least {n} iterations, the drops moved in proportion)"
            ),
        };
        let smoothing = if c.label_smoothing > 0.0 {
            format!(", label smoothing {}", c.label_smoothing)
        } else {
            String::new()
        };
        let optimizer = match c.optimizer {
            Optimizer::Sgd => format!(
                "SGD with momentum {}, weight decay {}",
                c.momentum, c.weight_decay
            ),
            Optimizer::Adamw => format!("AdamW with decoupled weight decay {}", c.weight_decay),
        };
        format!(
            "{optimizer}, batch {}, learning rate {}{warmup}, \
             multiplied by {} at epochs {drops} of {}{minimum}, dropout {}{smoothing}",
            c.batch, c.learning_rate, c.lr_drop_factor, c.epochs, c.dropout
        )
    }
}

impl std::str::FromStr for Recipe {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Recipe::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown recipe '{s}' (expected default or published)"))
    }
}

/// A configuration that cannot be trained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid run configuration: {message}")]
pub struct InvalidConfig {
    /// The field of `config.json` at fault.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

/// What `--resume` may change in a run's configuration: how long and how fast it trains and
/// where, never the model or its split (those are the run's, in its `config.json`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeChanges {
    /// A new total of epochs (the learning-rate drops are recomputed for it, as for a new run).
    pub epochs: Option<usize>,
    /// A new initial learning rate (the drops still apply from it).
    pub learning_rate: Option<f64>,
    /// A new batch size.
    pub batch: Option<usize>,
    /// New devices.
    pub devices: Option<Vec<String>>,
    /// A new GPU autotune level.
    pub autotune: Option<Autotune>,
    /// Kernel fusion on GPUs switched on or off.
    pub fusion: Option<bool>,
}

impl ResumeChanges {
    /// Whether nothing is changed.
    pub fn is_empty(&self) -> bool {
        *self == ResumeChanges::default()
    }
}

impl RunConfig {
    /// This configuration with `recipe`'s optimiser, batch and schedule (the model and the
    /// data unchanged): the one place the recipes' figures live.
    pub fn with_recipe(self, recipe: Recipe) -> Self {
        match recipe {
            // Measured on the demo catalogue (249 training products, 64 px, the figures in
            // the README): SGD (the published optimiser, lr 0.01-0.1 tried) left the rare
            // accessories unfitted after 160 iterations (validation type 0.71-0.75); AdamW at
            // 1e-3 with late drops reaches 0.86 in 160 and 0.90 in 320 iterations, every
            // other task higher too. Batch 16 gives twice the steps of 32 for the same time;
            // dropout 0.3 lowered every task. Label smoothing 0.05, over five splits: colour
            // 0.852 -> 0.865 in the mean, type 0.928 -> 0.934 (within the splits' spread);
            // 0.1 lost colour on one split (0.78).
            Recipe::Default => RunConfig {
                batch: 16,
                optimizer: Optimizer::Adamw,
                learning_rate: 1e-3,
                warmup_iterations: 32,
                lr_drops: vec![8, 9],
                lr_drop_factor: 0.1,
                momentum: 0.9,
                weight_decay: 1e-2,
                dropout: 0.0,
                label_smoothing: 0.05,
                ..self.with_epochs(10)
            }
            .with_min_iterations(320),
            Recipe::Published => RunConfig {
                batch: 32,
                optimizer: Optimizer::Sgd,
                learning_rate: 0.01,
                warmup_iterations: 0,
                lr_drop_factor: 0.1,
                momentum: 0.9,
                weight_decay: 5e-4,
                dropout: 0.5,
                label_smoothing: 0.0,
                ..self.with_epochs(20)
            },
        }
    }

    /// The learning rate of `iteration` (counted from the start of the run) in `epoch`
    /// (0-based): the step schedule, ramped up linearly over the first `warmup_iterations`.
    pub fn learning_rate_at(&self, epoch: usize, iteration: usize) -> f64 {
        let drops = self.lr_drops.iter().filter(|&&d| epoch >= d).count();
        let rate = self.learning_rate * self.lr_drop_factor.powi(drops as i32);
        if iteration < self.warmup_iterations {
            rate * (iteration + 1) as f64 / self.warmup_iterations as f64
        } else {
            rate
        }
    }

    /// Exactly `epochs` epochs (no minimum of iterations), the learning rate dropping at half
    /// and three quarters of them, as published.
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self.min_iterations = 0;
        self.lr_drops = vec![epochs / 2, epochs * 3 / 4]
            .into_iter()
            .filter(|&d| d > 0)
            .collect();
        self.lr_drops.dedup();
        self
    }

    /// At least `iterations` iterations: see [`RunConfig::scheduled_for`].
    pub fn with_min_iterations(mut self, iterations: usize) -> Self {
        self.min_iterations = iterations;
        self
    }

    /// The configuration a new run trains with when an epoch has `per_epoch` iterations: its
    /// epochs raised to the fewest that reach `min_iterations`, the drops moved in proportion
    /// (so a small catalogue trains as many steps as a larger one, on the same schedule).
    pub fn scheduled_for(mut self, per_epoch: usize) -> Self {
        if per_epoch == 0 || self.epochs == 0 || self.epochs * per_epoch >= self.min_iterations {
            return self;
        }
        let epochs = self.min_iterations.div_ceil(per_epoch);
        let mut drops: Vec<usize> = self
            .lr_drops
            .iter()
            .map(|&d| d * epochs / self.epochs)
            .filter(|&d| d > 0)
            .collect();
        drops.dedup();
        self.epochs = epochs;
        self.lr_drops = drops;
        self
    }

    /// Whether the validation products are scored after `epoch` (0-based): every
    /// `validate_every` epochs and after the last.
    pub fn validates_after(&self, epoch: usize) -> bool {
        (epoch + 1).is_multiple_of(self.validate_every.max(1)) || epoch + 1 >= self.epochs
    }

    /// This configuration with the changes of a resumed run applied.
    pub fn with_changes(mut self, changes: &ResumeChanges) -> Self {
        if let Some(epochs) = changes.epochs {
            self = self.with_epochs(epochs);
        }
        if let Some(rate) = changes.learning_rate {
            self.learning_rate = rate;
        }
        if let Some(batch) = changes.batch {
            self.batch = batch;
        }
        if let Some(devices) = &changes.devices {
            self.devices = devices.clone();
        }
        if let Some(level) = changes.autotune {
            self.gpu.autotune = level;
        }
        if let Some(fusion) = changes.fusion {
            self.gpu.fusion = fusion;
        }
        self
    }

    /// Checks the values that would make training fail later: the one check of a new run's
    /// configuration and of a resumed run's `config.json`.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        let bad = |field: &'static str, message: String| Err(InvalidConfig { field, message });
        if self.batch == 0 {
            return bad("batch", "batch must be at least 1, found 0".into());
        }
        if self.epochs == 0 {
            return bad("epochs", "epochs must be at least 1, found 0".into());
        }
        if self.image_size < MIN_IMAGE_SIZE {
            return bad(
                "image_size",
                format!(
                    "image size must be at least {MIN_IMAGE_SIZE} px, found {}",
                    self.image_size
                ),
            );
        }
        if self.image_size > MAX_IMAGE_SIZE {
            return bad(
                "image_size",
                format!(
                    "image size must be at most {MAX_IMAGE_SIZE} px, found {}",
                    self.image_size
                ),
            );
        }
        if self.backbone == Backbone::Zfnet && self.image_size < 160 {
            return bad(
                "image_size",
                format!(
                    "the zfnet backbone needs images of at least 160 px, found {}",
                    self.image_size
                ),
            );
        }
        if !(1..=MAX_FEATURE_GRID).contains(&self.feature_grid) {
            return bad(
                "feature_grid",
                format!(
                    "the feature grid's side must be 1 to {MAX_FEATURE_GRID}, found {}",
                    self.feature_grid
                ),
            );
        }
        if self.tasks.is_empty() {
            return bad("tasks", "choose at least one task".into());
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return bad(
                "validation_fraction",
                format!(
                    "validation fraction must be in [0, 1), found {}",
                    self.validation_fraction
                ),
            );
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad(
                "learning_rate",
                format!(
                    "learning rate must be positive, found {}",
                    self.learning_rate
                ),
            );
        }
        if !(self.lr_drop_factor > 0.0 && self.lr_drop_factor.is_finite()) {
            return bad(
                "lr_drop_factor",
                format!(
                    "the learning-rate drop factor must be positive, found {}",
                    self.lr_drop_factor
                ),
            );
        }
        if !(self.momentum >= 0.0 && self.momentum.is_finite()) {
            return bad(
                "momentum",
                format!("momentum must be 0 or more, found {}", self.momentum),
            );
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad(
                "weight_decay",
                format!(
                    "weight decay must be 0 or more, found {}",
                    self.weight_decay
                ),
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(
                "dropout",
                format!("dropout must be in [0, 1), found {}", self.dropout),
            );
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad(
                "label_smoothing",
                format!(
                    "label smoothing must be in [0, 1), found {}",
                    self.label_smoothing
                ),
            );
        }
        if self.validate_every == 0 {
            return bad(
                "validate_every",
                "validate every must be at least 1 (epoch), found 0".into(),
            );
        }
        if self.max_images == 0 {
            return bad(
                "max_images",
                "max images must be at least 1, found 0".into(),
            );
        }
        if self.representation == 0 {
            return bad(
                "representation",
                "the representation must have at least 1 dimension, found 0".into(),
            );
        }
        if self.devices.is_empty() {
            return bad("devices", "choose at least one device".into());
        }
        if let Some(fold) = &self.fold
            && !(fold.count >= 2 && (1..=fold.count).contains(&fold.held_out))
        {
            return bad(
                "fold",
                format!(
                    "the held-out fold must be one of 1..{} of at least 2 folds, found fold {}",
                    fold.count, fold.held_out
                ),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field `validate` names when it refuses `config`.
    fn refused(config: RunConfig) -> &'static str {
        config.validate().unwrap_err().field
    }

    #[test]
    fn older_config_files_train_as_before_and_the_newer_fields_are_checked() {
        let c = RunConfig::default();
        assert_eq!((c.optimizer, c.feature_grid), (Optimizer::Adamw, 4));
        let published = c.clone().with_recipe(Recipe::Published);
        assert_eq!(published.optimizer, Optimizer::Sgd);
        let mut json = serde_json::to_value(&c).unwrap();
        let fields = json.as_object_mut().unwrap();
        for field in [
            "optimizer",
            "feature_grid",
            "label_smoothing",
            "validate_every",
            "gpu",
        ] {
            fields.remove(field);
        }
        let older: RunConfig = serde_json::from_value(json).unwrap();
        assert_eq!((older.optimizer, older.feature_grid), (Optimizer::Sgd, 1));
        assert_eq!((c.label_smoothing, older.label_smoothing), (0.05, 0.0));
        assert_eq!(published.label_smoothing, 0.0);
        assert_eq!(older.validate_every, 1);
        assert_eq!(older.gpu, GpuSettings::default());
        assert!((0..10).all(|e| older.clone().with_epochs(10).validates_after(e)));
        assert_eq!("adamw".parse::<Optimizer>(), Ok(Optimizer::Adamw));
        assert!(
            "adam"
                .parse::<Optimizer>()
                .unwrap_err()
                .contains("sgd or adamw")
        );
        for grid in [0, MAX_FEATURE_GRID + 1] {
            let config = RunConfig {
                feature_grid: grid,
                ..c.clone()
            };
            assert_eq!(refused(config), "feature_grid");
        }
        for smoothing in [-0.1, 1.0, f64::NAN] {
            let config = RunConfig {
                label_smoothing: smoothing,
                ..c.clone()
            };
            assert_eq!(refused(config), "label_smoothing");
        }
        let config = RunConfig {
            validate_every: 0,
            ..c
        };
        assert_eq!(refused(config), "validate_every");
    }

    #[test]
    fn a_run_validates_every_nth_epoch_and_after_the_last() {
        let every_4 = RunConfig {
            validate_every: 4,
            ..RunConfig::default().with_epochs(10)
        };
        let validated: Vec<usize> = (0..10).filter(|&e| every_4.validates_after(e)).collect();
        assert_eq!(validated, vec![3, 7, 9], "every 4th epoch and the last");
    }

    #[test]
    fn step_schedule_and_json_round_trip() {
        let c = RunConfig::default().with_recipe(Recipe::Published);
        assert_eq!((c.epochs, c.batch, c.dropout), (20, 32, 0.5));
        assert_eq!(c.learning_rate_at(0, 0), 0.01);
        assert!((c.learning_rate_at(10, 0) - 0.001).abs() < 1e-12);
        assert!((c.learning_rate_at(19, 0) - 0.0001).abs() < 1e-12);
        let short = RunConfig::default().with_epochs(4);
        assert_eq!(short.lr_drops, vec![2, 3]);
        let json = serde_json::to_string(&c).unwrap();
        let back: RunConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let partial: RunConfig =
            serde_json::from_str(r#"{"epochs": 3, "backbone": "zfnet"}"#).unwrap();
        assert_eq!(partial.epochs, 3);
        assert_eq!(partial.backbone, Backbone::Zfnet);
        assert!(
            serde_json::from_str::<RunConfig>(r#"{"epoch": 3}"#).is_err(),
            "typos are refused"
        );
        assert!(
            RunConfig {
                batch: 0,
                ..c.clone()
            }
            .validate()
            .is_err()
        );
        assert!(c.validate().is_ok());
        let resumed = c.clone().with_changes(&ResumeChanges {
            epochs: Some(8),
            batch: Some(4),
            ..ResumeChanges::default()
        });
        assert_eq!(
            (resumed.epochs, resumed.lr_drops.clone(), resumed.batch),
            (8, vec![4, 6], 4)
        );
        assert_eq!(resumed.learning_rate, c.learning_rate);
        assert!(ResumeChanges::default().is_empty());
    }

    #[test]
    fn the_learning_rate_warms_up_linearly_then_follows_the_steps() {
        let c = RunConfig {
            learning_rate: 0.04,
            warmup_iterations: 4,
            ..RunConfig::default().with_epochs(4)
        };
        let rates: Vec<f64> = (0..6).map(|i| c.learning_rate_at(0, i)).collect();
        assert_eq!(rates, [0.01, 0.02, 0.03, 0.04, 0.04, 0.04]);
        // A drop during the warm-up scales the ramp.
        assert!((c.learning_rate_at(2, 1) - 0.002).abs() < 1e-12);
        assert!((c.learning_rate_at(3, 100) - 0.0004).abs() < 1e-12);
    }

    #[test]
    fn a_small_catalogue_trains_more_epochs_to_reach_the_minimum_of_iterations() {
        let c = RunConfig::default()
            .with_epochs(10)
            .with_min_iterations(160);
        assert_eq!(c.lr_drops, [5, 7]);
        // 16 iterations an epoch reach it in the 10 epochs: nothing changes.
        assert_eq!(c.clone().scheduled_for(16), c);
        assert_eq!(c.clone().scheduled_for(100), c);
        // 3 iterations an epoch: 54 epochs, the drops at the same share of them.
        let small = c.clone().scheduled_for(3);
        assert_eq!((small.epochs, small.lr_drops.clone()), (54, vec![27, 37]));
        assert_eq!(
            small.clone().scheduled_for(3),
            small,
            "scheduled once for all"
        );
        // Exact epochs (no minimum) stay as they are.
        let exact = RunConfig::default().with_epochs(10);
        assert_eq!(exact.min_iterations, 0);
        assert_eq!(exact.clone().scheduled_for(1), exact);
        // An epoch without iterations (no training product) changes nothing.
        assert_eq!(c.clone().scheduled_for(0), c);
    }

    #[test]
    fn the_recipes_by_name_and_an_older_config_without_warm_up_or_minimum() {
        assert_eq!("published".parse::<Recipe>(), Ok(Recipe::Published));
        assert_eq!("default".parse::<Recipe>(), Ok(Recipe::Default));
        assert!(
            "fast"
                .parse::<Recipe>()
                .unwrap_err()
                .contains("default or published")
        );
        let default = RunConfig::default();
        assert_eq!(default, RunConfig::default().with_recipe(Recipe::Default));
        assert!(default.warmup_iterations > 0 && default.min_iterations > 0);
        assert!(Recipe::Default.describe().contains("warm-up"));
        assert!(Recipe::Default.describe().contains("label smoothing 0.05"));
        assert!(!Recipe::Published.describe().contains("smoothing"));
        assert!(Recipe::Published.describe().contains("0.01"));
        // A config.json written before the warm-up and the minimum existed trains as it
        // did: exactly its epochs, no warm-up.
        let old: RunConfig = serde_json::from_str(r#"{"epochs": 10, "lr_drops": [5, 7]}"#).unwrap();
        assert_eq!((old.warmup_iterations, old.min_iterations), (0, 0));
        assert_eq!(old.clone().scheduled_for(1), old);
        let json = serde_json::to_value(&default).unwrap();
        assert!(json.get("warmup_iterations").is_some() && json.get("min_iterations").is_some());
    }
}
