//! vitrine: product catalogue moderation and visual model training.
//!
//! Layers, each looking only down: [`catalog`] (pure data and importers) and [`labels`] (the
//! label store) know nothing of the UI or the model.

pub mod app;
pub mod catalog;
pub mod labels;
pub mod runs;
