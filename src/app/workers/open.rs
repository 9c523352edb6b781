//! Opening a catalogue on a worker thread: import, label store, predictions beside it,
//! taxonomy, and the UI's own copy of the catalogue. Also the demo catalogue (generated on
//! first use) and the list of recent catalogues.

use super::{EventSender, spawn};
use crate::app::event::Event;
use crate::catalog::demo::{DemoOptions, generate, read_answers};
use crate::catalog::import::{ImportOptions, ImportProgress, Source};
use crate::catalog::{Catalog, Taxonomy};
use crate::labels::{Edit, Workspace, open_workspace};
use crate::runs::generated::generate_fake;
use crate::runs::predictions::{self, Predictions};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How many recent catalogues are remembered.
const RECENT_MAX: usize = 10;
/// How many journal entries the edit log starts with.
const LOG_START: usize = 200;
/// Share of the demo's generated predictions that agree with the true label: high enough that
/// disagreements mostly point at the deliberately wrong labels.
const DEMO_ACCURACY: f64 = 0.95;

/// A catalogue to open and how; also what the recent list remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// The catalogue and how to read it.
    #[serde(flatten)]
    pub source: Source,
    /// Label store file, when not the default location.
    #[serde(default)]
    pub store: Option<PathBuf>,
}

impl OpenRequest {
    /// Opens `path` with the default options.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        OpenRequest {
            source: Source::new(path),
            store: None,
        }
    }
}

/// A remembered catalogue.
pub type Recent = OpenRequest;

/// Predictions lined up with a catalogue.
#[derive(Debug, Clone)]
pub struct LoadedPredictions {
    /// The predictions.
    pub predictions: Arc<Predictions>,
    /// Per catalogue position, the product's line.
    pub rows: Arc<Vec<Option<u32>>>,
}

/// Everything an open produced.
#[derive(Debug)]
pub struct Opened {
    /// What was opened.
    pub request: OpenRequest,
    /// The catalogue with its store, for the store worker.
    pub workspace: Workspace,
    /// The UI's copy of the catalogue.
    pub catalog: Arc<Catalog>,
    /// Its taxonomy.
    pub taxonomy: Taxonomy,
    /// Positions of products with at least one journal entry.
    pub edited: HashSet<u32>,
    /// The latest journal entries, oldest first.
    pub recent_edits: Vec<Edit>,
    /// Predictions found beside the catalogue.
    pub predictions: Option<LoadedPredictions>,
    /// What happened to the predictions (none found, read with warnings, failed).
    pub predictions_note: String,
    /// The folder the catalogue lives in (where dialogs start).
    pub folder: PathBuf,
    /// How long the open took.
    pub elapsed: Duration,
}

/// The folder a catalogue lives in: the folder itself, or the file's folder.
pub fn catalogue_folder(source: &Path) -> PathBuf {
    if source.is_dir() {
        source.to_path_buf()
    } else {
        source.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// Lines predictions up with the catalogue's positions.
pub fn align(catalog: &Catalog, predictions: Predictions) -> LoadedPredictions {
    let rows = catalog
        .products()
        .iter()
        .map(|p| predictions.row(&p.id))
        .collect();
    LoadedPredictions {
        predictions: Arc::new(predictions),
        rows: Arc::new(rows),
    }
}

/// Opens `request` on a worker thread; reports [`Event::OpenProgressed`] while reading, then
/// [`Event::CatalogueOpened`], [`Event::OpenFailed`] or, once `cancel` is set,
/// [`Event::OpenCancelled`]; records an opened catalogue in the recent list under `data_dir`.
pub fn start(
    request: OpenRequest,
    data_dir: PathBuf,
    events: EventSender,
    cancel: Arc<AtomicBool>,
) -> Result<(), String> {
    let path = request.source.catalogue.clone();
    let failed = move |message| Event::OpenFailed { path, message };
    spawn("vitrine-open", &events.clone(), failed, move || {
        run(request, &data_dir, &events, &cancel)
    })
}

fn run(request: OpenRequest, data_dir: &Path, events: &EventSender, cancel: &Arc<AtomicBool>) {
    let progress = {
        let (events, cancel) = (events.clone(), cancel.clone());
        ImportProgress::new(move |done, total| {
            events.offer(Event::OpenProgressed {
                fraction: done as f32 / total.max(1) as f32,
            });
            !cancel.load(Ordering::Relaxed)
        })
    };
    let result = open_with(&request, Some(progress));
    if cancel.load(Ordering::Relaxed) {
        // Whatever was read is dropped: nothing was written but the store's own files.
        events.send(Event::OpenCancelled {
            path: request.source.catalogue,
        });
        return;
    }
    match result {
        Ok(opened) => {
            remember(data_dir, &opened.request, events);
            events.send(Event::CatalogueOpened(Box::new(opened)));
        }
        Err(message) => events.send(Event::OpenFailed {
            path: request.source.catalogue,
            message,
        }),
    }
}

/// Does the whole open on the calling thread (the worker, or a benchmark).
pub fn open(request: &OpenRequest) -> Result<Opened, String> {
    open_with(request, None)
}

fn open_with(request: &OpenRequest, progress: Option<ImportProgress>) -> Result<Opened, String> {
    let started = Instant::now();
    let mut options = request.source.options().map_err(|e| e.to_string())?;
    options.progress = progress;
    let workspace = open_workspace(
        &request.source.catalogue,
        &options,
        request.store.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    let catalog = &workspace.catalog;
    let journal = workspace.store.journal(0).map_err(|e| e.to_string())?;
    let edited = journal
        .iter()
        .filter_map(|e| catalog.position(&e.product).map(|p| p as u32))
        .collect();
    let recent_edits = journal[journal.len().saturating_sub(LOG_START)..].to_vec();
    let folder = catalogue_folder(&workspace.import.source);
    let beside = folder.join(predictions::FILE_NAME);
    let (predictions, predictions_note) = if beside.is_file() {
        match Predictions::read(&beside) {
            Ok(p) => {
                let note = read_note(&p, &beside);
                (Some(align(catalog, p)), note)
            }
            Err(e) => (None, format!("predictions not loaded: {e}")),
        }
    } else {
        (
            None,
            format!("no {} beside the catalogue", predictions::FILE_NAME),
        )
    };
    let taxonomy = catalog.taxonomy();
    let ui_catalog = Arc::new(catalog.clone());
    Ok(Opened {
        request: request.clone(),
        workspace,
        catalog: ui_catalog,
        taxonomy,
        edited,
        recent_edits,
        predictions,
        predictions_note,
        folder,
        elapsed: started.elapsed(),
    })
}

/// A one-line account of a predictions file just read.
pub fn read_note(predictions: &Predictions, path: &Path) -> String {
    let mut note = format!("{} products from {}", predictions.len(), path.display());
    if predictions.warnings_total > 0 {
        note.push_str(&format!(
            " ({} lines skipped, see Warnings)",
            predictions.warnings_total
        ));
    }
    note
}

/// Reads a predictions file (or the one in a run folder) and lines it up with `catalog`.
pub fn load_predictions(
    path: PathBuf,
    catalog: Arc<Catalog>,
    events: EventSender,
) -> Result<(), String> {
    spawn(
        "vitrine-predictions",
        &events.clone(),
        Event::PredictionsFailed,
        move || {
            let file = if path.is_dir() {
                path.join(predictions::FILE_NAME)
            } else {
                path
            };
            let read = Predictions::read(&file);
            let aligned = read.map(|p| align(&catalog, p));
            // Let go of the catalogue before reporting (as the filter worker does), so the UI can
            // apply label edits to it in place as soon as it reads the event.
            drop(catalog);
            match aligned {
                Ok(loaded) => events.send(Event::PredictionsLoaded {
                    predictions: loaded.predictions,
                    rows: loaded.rows,
                }),
                Err(e) => events.send(Event::PredictionsFailed(e.to_string())),
            }
        },
    )
}

/// Generates the demo catalogue into `data_dir/demo` on first use (reporting progress), with
/// generated predictions beside it, then opens it.
pub fn start_demo(
    data_dir: PathBuf,
    events: EventSender,
    cancel: Arc<AtomicBool>,
) -> Result<(), String> {
    let path = crate::paths::demo_dir(&data_dir);
    let failed = move |message| Event::OpenFailed { path, message };
    spawn("vitrine-demo", &events.clone(), failed, move || {
        let folder = crate::paths::demo_dir(&data_dir);
        if let Err(message) = prepare_demo(&folder, &events) {
            events.send(Event::OpenFailed {
                path: folder,
                message,
            });
            return;
        }
        run(OpenRequest::path(folder), &data_dir, &events, &cancel);
    })
}

/// Makes sure `folder` holds the demo catalogue and its generated predictions.
pub fn prepare_demo(folder: &Path, events: &EventSender) -> Result<(), String> {
    if !folder.join("manifest.csv").is_file() {
        let progress = |done, total| events.offer(Event::DemoProgressed { done, total });
        generate(folder, &DemoOptions::default(), &progress).map_err(|e| e.to_string())?;
    }
    let path = folder.join(predictions::FILE_NAME);
    if path.is_file() {
        return Ok(());
    }
    // The generated predictions lean towards the true labels (answers.csv), so the
    // "disagrees" marks find the deliberately wrong ones, as a trained model would.
    let imported = crate::catalog::import::import(folder, &ImportOptions::default())
        .map_err(|e| e.to_string())?;
    let mut truth = imported.catalog;
    let answers = read_answers(&folder.join("answers.csv")).map_err(|e| e.to_string())?;
    for wrong in answers {
        if let Some(position) = truth.position(&wrong.product_id) {
            truth.set_label(position, wrong.task, Some(&wrong.truth));
        }
    }
    generate_fake(&truth, DemoOptions::default().seed, DEMO_ACCURACY)
        .write(&path, &truth)
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn recent_path(data_dir: &Path) -> PathBuf {
    crate::paths::recent_list(data_dir)
}

/// Reads the recent list on a worker and reports [`Event::RecentLoaded`].
pub fn load_recent(data_dir: PathBuf, events: EventSender) -> Result<(), String> {
    spawn(
        "vitrine-recent",
        &events.clone(),
        Event::WorkerFailed,
        move || events.send(Event::RecentLoaded(read_recent(&data_dir))),
    )
}

fn read_recent(data_dir: &Path) -> Vec<Recent> {
    // A missing or damaged list just starts empty: it is a convenience.
    std::fs::read(recent_path(data_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn remember(data_dir: &Path, request: &OpenRequest, events: &EventSender) {
    let mut list = read_recent(data_dir);
    list.retain(|r| r.source.catalogue != request.source.catalogue);
    list.insert(0, request.clone());
    list.truncate(RECENT_MAX);
    let written = serde_json::to_vec_pretty(&list)
        .map_err(std::io::Error::other)
        .and_then(|json| {
            crate::atomic_file::write_atomically(
                &recent_path(data_dir),
                |e| e,
                |w| std::io::Write::write_all(w, &json),
            )
        });
    // Not remembering a catalogue is no reason to fail its open.
    if written.is_ok() {
        events.send(Event::RecentLoaded(list));
    }
}
