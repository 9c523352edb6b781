//! The moderator workspace window (egui). The only module that draws.
//!
//! Rerun-viewer style: [`state::AppState`] is plain data; the [`ui`] panels read it and emit
//! [`command::Command`]s; workers report [`event::Event`]s; [`update`] is the one place that
//! applies both. The UI thread never blocks: the label store, catalogue opening, filtering of
//! large catalogues and image decoding all run on [`workers`].

// `app/app.rs` is the eframe::App, as the architecture lays the module out.
#[allow(clippy::module_inception)]
pub mod app;
pub mod audit_queue;
pub mod changes;
pub mod cockpit;
pub mod command;
pub mod decided;
pub mod duplicates;
pub mod effect;
pub mod event;
pub mod filter;
pub mod images;
pub mod keys;
pub mod map;
pub mod opening;
pub mod overridden;
pub mod picker;
pub mod selection;
pub mod similar;
pub mod state;
pub mod ui;
pub mod update;
pub mod workers;

pub use app::{Start, WorkspaceApp, run_native};
