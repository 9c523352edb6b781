//! A training run on disk: its configuration, metrics, checkpoints and predictions.
//!
//! Pure: no egui, no burn. The training engine (`crate::ml`) writes runs; the app and the CLI
//! read them, also while another process is still writing.

pub mod audit;
pub mod classes;
pub mod compare;
pub mod config;
pub mod embeddings;
pub mod folder;
pub mod folds;
pub mod generated;
pub mod gpu_settings;
pub mod history;
pub mod metrics;
pub mod predictions;
pub mod probabilities;
pub mod provenance;
pub mod split;

pub use config::{Backbone, RunConfig};
pub use folder::{ModelSpec, RunError, RunFolder};
pub use metrics::{MetricsReader, MetricsRecord, MetricsWriter};
pub use split::{Splitter, split_of};
