//! vitrine: product catalogue moderation and visual model training.
//!
//! Layers, each looking only down: [`catalog`] (pure data and importers) and [`labels`] (the
//! label store) know nothing of the UI or the model; [`runs`] is a training run on disk (pure);
//! [`ml`] is the model and its training engine (the only module that imports burn); [`app`] is
//! the egui window (the only module that imports egui). [`paths`] says where the data folder
//! and the runs folders are.

pub mod app;
pub mod atomic_file;
pub mod audit;
pub mod catalog;
pub mod imaging;
pub mod labels;
pub mod ml;
pub mod paths;
pub mod runs;
pub mod similarity;
pub mod threads;
