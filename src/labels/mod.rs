//! The label store: current labels = imported labels + an edit journal (who, when,
//! old -> new, why), with undo/redo, per-product history and export, and the reviews that keep
//! a label ([`review`]). Pure: no egui, no burn.

pub mod change_review;
pub mod copy;
mod edit;
mod export;
pub mod location;
pub mod review;
mod sqlite;
mod store;
pub mod team;

pub use crate::catalog::text::printable;
pub use edit::{Edit, EditSource};
pub use export::{ExportError, ExportSummary, export, export_over};
pub use review::{Keep, Review, Standing, Withdrawal, Withdrawn};
pub use store::{
    Attribution, Change, LabelBase, LabelStore, Lost, OpenReport, ServerState, StoreError,
};

use crate::catalog::import::{ImportError, ImportOptions, ImportReport, Imported, import};
use crate::catalog::key_index::KeyIndex;
use crate::catalog::{Catalog, Task};
use std::path::Path;
use std::sync::Arc;

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

impl Workspace {
    /// Splits the workspace into its catalogue and its store with what the store needs of the
    /// catalogue (a tenth of its size): so one owner (the window) holds the only catalogue,
    /// and another (its store worker) writes edits without one.
    pub fn detach(self) -> (Catalog, DetachedStore) {
        let labels = BaseLabels::of(&self.catalog);
        (
            self.catalog,
            DetachedStore {
                store: self.store,
                import: self.import,
                store_report: self.store_report,
                labels,
            },
        )
    }
}

/// A workspace's store without the catalogue (see [`Workspace::detach`]).
#[derive(Debug)]
pub struct DetachedStore {
    /// The store.
    pub store: LabelStore,
    /// What the import found.
    pub import: ImportReport,
    /// What opening the store found.
    pub store_report: OpenReport,
    /// The products and their labels as the workspace was opened.
    pub labels: BaseLabels,
}

impl DetachedStore {
    /// Records the catalogue's products in the store, if opening it left that for later
    /// ([`open_store`]).
    pub fn record_products(&mut self) -> Result<(), StoreError> {
        self.store.record_products(&self.labels.ids)
    }
}

/// No label, in [`BaseLabels`].
const NO_LABEL: u32 = u32::MAX;

/// A catalogue's product ids (shared with it) and labels as it was opened: what a store needs
/// to write over it ([`LabelBase`]). These labels are never updated, and need not be: a label
/// any edit changed has a row of its own in the store, which the store reads instead.
#[derive(Debug, Clone)]
pub struct BaseLabels {
    ids: Vec<Arc<str>>,
    index: KeyIndex,
    /// Per product and task, a class number, or [`NO_LABEL`].
    labels: Vec<[u32; 5]>,
    names: [Vec<Box<str>>; 5],
}

impl BaseLabels {
    /// The ids and current labels of `catalog`.
    pub fn of(catalog: &Catalog) -> Self {
        let ids: Vec<Arc<str>> = catalog.products().iter().map(|p| p.id.clone()).collect();
        // The ids keep their positions, so the catalogue's index serves them as it is.
        let index = catalog.id_index().clone();
        let labels = catalog
            .products()
            .iter()
            .map(|p| p.labels.map(|l| l.map_or(NO_LABEL, |c| c.0)))
            .collect();
        let names = Task::ALL.map(|task| {
            let vocabulary = catalog.vocabulary(task);
            (0..vocabulary.len() as u32)
                .map(|i| vocabulary.name(crate::catalog::ClassId(i)).into())
                .collect()
        });
        BaseLabels {
            ids,
            index,
            labels,
            names,
        }
    }
}

impl LabelBase for BaseLabels {
    fn position(&self, id: &str) -> Option<usize> {
        self.index
            .find(id, |p| &self.ids[p as usize])
            .map(|p| p as usize)
    }

    fn base_label(&self, position: usize, task: Task) -> Option<&str> {
        let class = *self.labels.get(position)?.get(task.index())?;
        (class != NO_LABEL).then(|| &*self.names[task.index()][class as usize])
    }
}

/// Imports the catalogue at `path` and opens its label store: `store` (a file, or a team
/// store's `postgres://` address), else [`STORE_VARIABLE`], else the file
/// [`location::locate`] chooses.
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

/// How a store is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// [`LabelStore::open_read_only`].
    ReadOnly,
    /// [`LabelStore::open`].
    Write,
    /// [`LabelStore::open_recording_later`].
    WriteRecordingLater,
}

fn open(
    path: &Path,
    options: &ImportOptions,
    store: Option<&Path>,
    read_only: bool,
) -> Result<Workspace, OpenError> {
    let access = if read_only {
        Access::ReadOnly
    } else {
        Access::Write
    };
    Ok(with_store(import(path, options)?, store, access)?)
}

/// Opens the label store of a catalogue just imported (see [`location::locate`]) and applies
/// its edited labels: the second half of [`open_workspace`], for callers that report the two
/// halves as stages of their own. Products new to the store are recorded later, by
/// [`DetachedStore::record_products`] (the window's store worker does it first).
pub fn open_store(imported: Imported, store: Option<&Path>) -> Result<Workspace, StoreError> {
    with_store(imported, store, Access::WriteRecordingLater)
}

fn with_store(
    imported: Imported,
    store: Option<&Path>,
    access: Access,
) -> Result<Workspace, StoreError> {
    let mut catalog = imported.catalog;
    let source = imported.report.source.clone();
    let from_env = std::env::var_os(STORE_VARIABLE).filter(|v| !v.is_empty());
    let store = store.or(from_env.as_deref().map(Path::new));
    if let Some(given) = store.and_then(Path::to_str).filter(|s| team::is_team(s)) {
        let address = team::TeamAddress::parse(given, &team::Environment::process())?;
        let identity = team::identity(&source, &address);
        let recording = match access {
            Access::ReadOnly => store::Recording::Never,
            Access::Write => store::Recording::Now,
            Access::WriteRecordingLater => store::Recording::Later,
        };
        let outbox = location::outbox(&source, &format!("{}|{identity}", address.shown()));
        let (store, store_report) =
            team::TeamStore::open(&address, &identity, &mut catalog, recording, Some(&outbox))?;
        return Ok(Workspace {
            catalog,
            import: imported.report,
            store: LabelStore::Team(Box::new(store)),
            store_report,
        });
    }
    let canonical = std::fs::canonicalize(&source).unwrap_or(source.clone());
    let name = canonical.to_string_lossy();
    let (store, store_report) = match access {
        Access::ReadOnly => {
            let store_path = location::locate_for_reading(&source, store);
            LabelStore::open_read_only(&store_path, &name, &mut catalog)?
        }
        Access::Write => {
            let store_path = location::locate(&source, store);
            LabelStore::open(&store_path, &name, &mut catalog)?
        }
        Access::WriteRecordingLater => {
            let store_path = location::locate(&source, store);
            LabelStore::open_recording_later(&store_path, &name, &mut catalog)?
        }
    };
    Ok(Workspace {
        catalog,
        import: imported.report,
        store,
        store_report,
    })
}

/// The environment variable naming the store when no `--store` does: a file, or a team
/// store's `postgres://` address.
pub const STORE_VARIABLE: &str = "VITRINE_STORE";

#[cfg(test)]
mod tests {
    use super::*;

    fn by(author: &str) -> Attribution {
        Attribution {
            author: author.into(),
            source: EditSource::Human,
            reason: None,
        }
    }

    fn colour(product: &str, value: &str) -> Change {
        Change {
            product: product.into(),
            task: Task::Colour,
            value: Some(value.into()),
        }
    }

    #[test]
    fn products_left_for_later_are_recorded_by_the_detached_store() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.csv");
        let write = |ids: &[&str]| {
            let rows: String = ids.iter().map(|id| format!("{id},,,\n")).collect();
            std::fs::write(&manifest, format!("product_id,name,images,colour\n{rows}")).unwrap();
        };
        let options = ImportOptions::default();
        let reopen = || {
            let ws = open_workspace(&manifest, &options, None).unwrap();
            (ws.store_report.added, ws.store_report.removed)
        };
        write(&["p1", "p2", "p3"]);
        let imported = import(&manifest, &options).unwrap();
        drop(open_store(imported, None).unwrap().detach());
        write(&["p1", "p2", "p4"]);
        assert_eq!(
            reopen(),
            (0, 0),
            "nothing was recorded: nothing to compare with"
        );
        write(&["p1", "p2", "p3"]);
        let imported = import(&manifest, &options).unwrap();
        let (_, mut detached) = open_store(imported, None).unwrap().detach();
        assert_eq!(
            (detached.store_report.added, detached.store_report.removed),
            (1, 1),
            "the report does not wait"
        );
        detached.record_products().unwrap();
        detached.record_products().unwrap();
        drop(detached);
        write(&["p1", "p2", "p4", "p5"]);
        assert_eq!(reopen(), (2, 1));
    }

    #[test]
    fn a_detached_store_records_old_labels_and_exports_the_current_ones() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.csv");
        std::fs::write(
            &manifest,
            "product_id,name,images,colour\np1,One,,Red\np2,Two,,Green\np3,Three,,\n",
        )
        .unwrap();
        let options = ImportOptions::default();
        let (catalog, mut detached) = open_workspace(&manifest, &options, None).unwrap().detach();
        let store = &mut detached.store;
        let base = &detached.labels;
        let edits = store
            .set_many_over(
                base,
                &[colour("p1", "Blue"), colour("p3", "Red")],
                &by("ann"),
            )
            .unwrap();
        let olds: Vec<Option<&str>> = edits.iter().map(|e| e.old.as_deref()).collect();
        assert_eq!(
            olds,
            [Some("Red"), None],
            "the labels the catalogue was opened with"
        );
        // The base labels are never updated: the store's row of p1 is read instead.
        let again = store
            .set_many_over(base, &[colour("p1", "Black")], &by("ann"))
            .unwrap();
        assert_eq!(again[0].old.as_deref(), Some("Blue"));
        assert!(matches!(
            store.set_many_over(base, &[colour("p9", "Red")], &by("ann")),
            Err(StoreError::UnknownProduct(id)) if id == "p9"
        ));
        // Another process edits p2: picked up, and its value is the next edit's old one.
        let mut other = open_workspace(&manifest, &options, None).unwrap();
        other
            .store
            .set(&mut other.catalog, colour("p2", "Pink"), &by("bob"))
            .unwrap();
        let picked = store.new_edits().unwrap();
        assert_eq!(picked.len(), 1);
        assert!(store.new_edits().unwrap().is_empty(), "each entry once");
        let next = store
            .set_many_over(base, &[colour("p2", "White")], &by("ann"))
            .unwrap();
        assert_eq!(next[0].old.as_deref(), Some("Pink"));
        let undone = store.undo_edits("ann").unwrap();
        assert_eq!(undone[0].new.as_deref(), Some("Pink"));
        // The catalogue was never told of any edit: the export writes the store's labels.
        let out = dir.path().join("export.csv");
        let edited = store.current_labels().unwrap();
        export_over(
            &catalog,
            &edited,
            &detached.import.source,
            store.path(),
            &out,
        )
        .unwrap();
        let exported = import(&out, &options).unwrap().catalog;
        let label = |id: &str| {
            let product = exported.product(id).unwrap();
            exported.label_name(product, Task::Colour).map(String::from)
        };
        assert_eq!(label("p1").as_deref(), Some("Black"));
        assert_eq!(label("p2").as_deref(), Some("Pink"));
        assert_eq!(label("p3").as_deref(), Some("Red"));
    }
}
