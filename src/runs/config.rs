//! The configuration of a training run, as saved in its folder (`config.json`).
//!
//! Pure data so the app can read and edit it without the model code.

use super::folds::FoldSplit;
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
    /// CPU-friendly: four 3x3 conv blocks (32-64-128-256), 64-96 px inputs.
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

/// Everything that defines a training run. Defaults follow the published recipe (SGD with
/// momentum 0.9, learning rate 0.01 divided by 10 twice, 20 epochs) with the small backbone.
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
    /// Products per batch (images per batch in single-image mode).
    pub batch: usize,
    /// Epochs to train.
    pub epochs: usize,
    /// Initial learning rate.
    pub learning_rate: f64,
    /// Epochs (0-based) at whose start the learning rate is multiplied by `lr_drop_factor`.
    pub lr_drops: Vec<usize>,
    /// Learning-rate multiplier at each drop.
    pub lr_drop_factor: f64,
    /// SGD momentum (no dampening).
    pub momentum: f64,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Dropout probability of the dense layers.
    pub dropout: f64,
    /// Devices: `cpu`, or `cuda:0`, `cuda:1`, ... (several = data parallel).
    pub devices: Vec<String>,
    /// Train on one-image copies of the products (the published single-image ablation).
    pub single_image: bool,
    /// Tasks with a head (a subset gives single-task or fewer-task models).
    pub tasks: Vec<Task>,
    /// Classes with fewer training examples than this go to an `other` class.
    pub min_class_examples: usize,
    /// Share of products (or groups) held out for validation.
    pub validation_fraction: f64,
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
            batch: 32,
            epochs: 20,
            learning_rate: 0.01,
            lr_drops: vec![10, 15],
            lr_drop_factor: 0.1,
            momentum: 0.9,
            weight_decay: 5e-4,
            dropout: 0.5,
            devices: vec!["cpu".into()],
            single_image: false,
            tasks: Task::ALL.to_vec(),
            min_class_examples: 5,
            validation_fraction: 0.2,
            group_by: None,
            fold: None,
            max_images: 5,
            seed: 1,
            representation: 1024,
        }
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
}

impl ResumeChanges {
    /// Whether nothing is changed.
    pub fn is_empty(&self) -> bool {
        *self == ResumeChanges::default()
    }
}

impl RunConfig {
    /// The learning rate of `epoch` (0-based) under the step schedule.
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        let drops = self.lr_drops.iter().filter(|&&d| epoch >= d).count();
        self.learning_rate * self.lr_drop_factor.powi(drops as i32)
    }

    /// Scales the published drop points (half and three quarters of the epochs) to `epochs`.
    pub fn with_epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self.lr_drops = vec![epochs / 2, epochs * 3 / 4]
            .into_iter()
            .filter(|&d| d > 0)
            .collect();
        self.lr_drops.dedup();
        self
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

    #[test]
    fn step_schedule_and_json_round_trip() {
        let c = RunConfig::default();
        assert_eq!(c.learning_rate_at(0), 0.01);
        assert!((c.learning_rate_at(10) - 0.001).abs() < 1e-12);
        assert!((c.learning_rate_at(19) - 0.0001).abs() < 1e-12);
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
}
