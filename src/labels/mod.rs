//! The label store: current labels = imported labels + an edit journal (who, when,
//! old -> new, why), with undo/redo, per-product history and export. Pure: no egui, no burn.

mod edit;
mod export;
pub mod location;
mod store;

pub use crate::catalog::text::printable;
pub use edit::{Edit, EditSource};
pub use export::{ExportError, ExportSummary, export};
pub use store::{Attribution, Change, LabelStore, OpenReport, StoreError};

use crate::catalog::Catalog;
use crate::catalog::import::{ImportError, ImportOptions, ImportReport, Imported, import};
use std::path::Path;

/// Opening a catalogue with its store failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The catalogue could not be imported.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A catalogue with its current labels and the store that holds the edits.
#[derive(Debug)]
pub struct Workspace {
    /// The catalogue, labels already corrected by the store.
    pub catalog: Catalog,
    /// What the import found.
    pub import: ImportReport,
    /// The store.
    pub store: LabelStore,
    /// What opening the store found.
    pub store_report: OpenReport,
}

/// Imports the catalogue at `path` and opens its label store (see [`location::locate`]).
pub fn open_workspace(
    path: &Path,
    options: &ImportOptions,
    store: Option<&Path>,
) -> Result<Workspace, OpenError> {
    open(path, options, store, false)
}

/// Imports the catalogue at `path` and opens its label store for reading only, creating
/// nothing (see [`LabelStore::open_read_only`]): for commands that only read labels.
pub fn open_workspace_read_only(
    path: &Path,
    options: &ImportOptions,
    store: Option<&Path>,
) -> Result<Workspace, OpenError> {
    open(path, options, store, true)
}

fn open(
    path: &Path,
    options: &ImportOptions,
    store: Option<&Path>,
    read_only: bool,
) -> Result<Workspace, OpenError> {
    Ok(with_store(import(path, options)?, store, read_only)?)
}

/// Opens the label store of a catalogue just imported (see [`location::locate`]) and applies
/// its edited labels: the second half of [`open_workspace`], for callers that report the two
/// halves as stages of their own.
pub fn open_store(imported: Imported, store: Option<&Path>) -> Result<Workspace, StoreError> {
    with_store(imported, store, false)
}

fn with_store(
    imported: Imported,
    store: Option<&Path>,
    read_only: bool,
) -> Result<Workspace, StoreError> {
    let mut catalog = imported.catalog;
    let source = imported.report.source.clone();
    let canonical = std::fs::canonicalize(&source).unwrap_or(source.clone());
    let name = canonical.to_string_lossy();
    let (store, store_report) = if read_only {
        let store_path = location::locate_for_reading(&source, store);
        LabelStore::open_read_only(&store_path, &name, &mut catalog)?
    } else {
        let store_path = location::locate(&source, store);
        LabelStore::open(&store_path, &name, &mut catalog)?
    };
    Ok(Workspace {
        catalog,
        import: imported.report,
        store,
        store_report,
    })
}
