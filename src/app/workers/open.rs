//! Opening a catalogue on a worker thread, in stages: import, label store, predictions beside
//! it (read alongside the catalogue), taxonomy. Also the demo catalogue (generated on first
//! use) and the list of recent catalogues.

use super::{EventSender, spawn};
use crate::app::event::Event;
use crate::app::opening::{
    LoadedPredictions, OpenRequest, OpenStage, Opened, ProvenanceMix, Recent, StageTimes, read_note,
};
use crate::catalog::Catalog;
use crate::catalog::demo::{DemoOptions, generate};
use crate::catalog::import::{ImportProgress, import};
use crate::labels::{Edit, Review, Workspace, open_store};
use crate::runs::generated::is_generated;
use crate::runs::predictions::{self, Predictions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How many recent catalogues are remembered.
const RECENT_MAX: usize = 10;
/// How many journal entries the edit log starts with.
const LOG_START: usize = 200;

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
        .enumerate()
        .map(|(position, product)| {
            // A file written for this catalogue lists its products in catalogue order: one
            // comparison of ids instead of a look-up by hash.
            let row = position as u32;
            if predictions.product_id(row) == Some(&*product.id) {
                Some(row)
            } else {
                predictions.row(&product.id)
            }
        })
        .collect();
    LoadedPredictions {
        provenance: ProvenanceMix::of(&predictions),
        predictions: Arc::new(predictions),
        rows: Arc::new(rows),
    }
}

/// Told each stage of an open as it starts (fraction 0) and how far it got (0 to 1); answering
/// `false` cancels the open.
pub type OpenProgress = Arc<dyn Fn(OpenStage, f32) -> bool + Send + Sync>;

/// How often the open looks at the predictions thread while it waits for it.
const PREDICTIONS_POLL: Duration = Duration::from_millis(20);

/// Opens `request` on a worker thread; reports [`Event::OpenProgressed`] at each stage and
/// while reading, then [`Event::CatalogueOpened`], [`Event::OpenFailed`] or, once `cancel` is
/// set, [`Event::OpenCancelled`]; records an opened catalogue in the recent list under
/// `data_dir`.
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
    let progress: OpenProgress = {
        let (events, cancel) = (events.clone(), cancel.clone());
        Arc::new(move |stage, fraction| {
            let event = Event::OpenProgressed { stage, fraction };
            // A stage's start must reach the view; the fractions after it replace each other.
            if fraction == 0.0 {
                events.send(event);
            } else {
                events.offer(event);
            }
            !cancel.load(Ordering::Relaxed)
        })
    };
    let result = open_with(&request, progress);
    if cancel.load(Ordering::Relaxed) {
        // Whatever was read is dropped: nothing was written but the store's own files.
        events.send(Event::OpenCancelled {
            path: request.source.catalogue,
        });
        return;
    }
    match result {
        Ok(opened) => {
            let request = opened.request.clone();
            events.send(Event::CatalogueOpened(Box::new(opened)));
            // After the event: the recent list's write waits on the disk (fsync), the grid
            // need not.
            remember(data_dir, &request, events);
        }
        Err(message) => events.send(Event::OpenFailed {
            path: request.source.catalogue,
            message,
        }),
    }
}

/// Does the whole open on the calling thread (the worker, or a benchmark).
pub fn open(request: &OpenRequest) -> Result<Opened, String> {
    open_with(request, Arc::new(|_, _| true))
}

/// What the open's stages up to the predictions give: their times, the workspace, its journal
/// and its standing reviews.
type Stages = (StageTimes, Workspace, Vec<Edit>, Vec<Review>);

/// What an open got to beside the catalogue: the predictions, with how long they took.
type PredictionsRead = (Result<Predictions, predictions::PredictionsError>, Duration);

/// Opens `request`, telling `progress` each stage. The predictions beside the catalogue are
/// read on a thread of their own while the catalogue is read (each takes seconds at 1,000,000
/// products, and neither needs the other until they are lined up).
pub fn open_with(request: &OpenRequest, progress: OpenProgress) -> Result<Opened, String> {
    let started = Instant::now();
    let cancelled = || format!("{}: cancelled", request.source.catalogue.display());
    let beside = catalogue_folder(&request.source.catalogue).join(predictions::FILE_NAME);
    let stop = AtomicBool::new(false);
    let read_fraction = AtomicU32::new(0);
    std::thread::scope(|scope| {
        let read = || -> PredictionsRead {
            let started = Instant::now();
            let progress = |done: u64, total: u64| {
                let fraction = done as f32 / total.max(1) as f32;
                read_fraction.store(fraction.to_bits(), Ordering::Relaxed);
                !stop.load(Ordering::Relaxed)
            };
            (
                Predictions::read_with_progress(&beside, &progress),
                started.elapsed(),
            )
        };
        let reading = beside.is_file().then(|| {
            std::thread::Builder::new()
                .name("vitrine-predictions".into())
                .spawn_scoped(scope, move || crate::threads::catch(read))
        });
        let stages = (|| -> Result<Stages, String> {
            let mut times = StageTimes::default();
            let next = |times: &mut StageTimes, stage| {
                times.start(stage);
                if progress(stage, 0.0) {
                    Ok(())
                } else {
                    Err(cancelled())
                }
            };
            next(&mut times, OpenStage::ReadCatalogue)?;
            let mut options = request.source.options().map_err(|e| e.to_string())?;
            options.progress = Some({
                let progress = progress.clone();
                ImportProgress::new(move |done, total| {
                    progress(OpenStage::ReadCatalogue, done as f32 / total.max(1) as f32)
                })
            });
            let imported =
                import(&request.source.catalogue, &options).map_err(|e| e.to_string())?;
            // The sort orders by name and id, on a thread of their own that the open does not
            // wait for (two sorts of every name and id, half a second of one core at 1,000,000
            // products), so the grid's sorts by name or id need not sort. Without the thread,
            // or if it fails, they are computed on first use; a sort meanwhile waits for them.
            let job = imported.catalog.text_orders_job();
            let _ = std::thread::Builder::new()
                .name("vitrine-orders".into())
                .spawn(move || crate::threads::catch(job));
            next(&mut times, OpenStage::OpenStore)?;
            let mut workspace =
                open_store(imported, request.store.as_deref()).map_err(|e| e.to_string())?;
            let journal = workspace.store.journal(0).map_err(|e| e.to_string())?;
            let reviews = workspace.store.reviews().map_err(|e| e.to_string())?;
            next(&mut times, OpenStage::ReadPredictions)?;
            Ok((times, workspace, journal, reviews))
        })();
        if stages.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let read = match reading {
            None => None,
            Some(Ok(thread)) => {
                while !thread.is_finished() {
                    let fraction = f32::from_bits(read_fraction.load(Ordering::Relaxed));
                    if stages.is_ok() && !progress(OpenStage::ReadPredictions, fraction) {
                        stop.store(true, Ordering::Relaxed);
                    }
                    std::thread::sleep(PREDICTIONS_POLL);
                }
                let joined = thread
                    .join()
                    .map_err(|payload| crate::threads::panic_message(&*payload))
                    .and_then(|caught| caught);
                Some(match joined {
                    Ok(read) => read,
                    Err(panic) => (
                        Err(predictions::PredictionsError::Io {
                            path: beside.clone(),
                            reason: std::io::Error::other(format!(
                                "the vitrine-predictions thread failed: {panic}"
                            )),
                        }),
                        Duration::ZERO,
                    ),
                })
            }
            // No thread to spare: read them here.
            Some(Err(_)) => Some(read()),
        };
        let (mut times, workspace, journal, reviews) = stages?;
        times.start(OpenStage::PrepareGrid);
        if !progress(OpenStage::PrepareGrid, 0.0) {
            return Err(cancelled());
        }
        let folder = catalogue_folder(&workspace.import.source);
        let (catalog, workspace) = workspace.detach();
        let (predictions, predictions_note, predictions_time) = match read {
            Some((Ok(p), time)) => {
                let note = read_note(&p, &beside);
                (Some(align(&catalog, p)), note, Some(time))
            }
            Some((Err(e), time)) => (None, format!("predictions not loaded: {e}"), Some(time)),
            None => (
                None,
                format!("no {} beside the catalogue", predictions::FILE_NAME),
                None,
            ),
        };
        progress(OpenStage::PrepareGrid, 0.5);
        let edited = journal
            .iter()
            .filter_map(|e| catalog.position(&e.product).map(|p| p as u32))
            .collect();
        let recent_edits = journal[journal.len().saturating_sub(LOG_START)..].to_vec();
        // Reviews of products no longer in the catalogue stay in the store, unused.
        let reviews = reviews
            .into_iter()
            .filter_map(|r| Some(((catalog.position(&r.product)? as u32, r.task), r)))
            .collect();
        let taxonomy = catalog.taxonomy();
        times.finish();
        Ok(Opened {
            request: request.clone(),
            workspace,
            catalog: Arc::new(catalog),
            taxonomy,
            edited,
            recent_edits,
            reviews,
            predictions,
            predictions_note,
            folder,
            elapsed: started.elapsed(),
            stages: times,
            predictions_time,
        })
    })
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
                Ok(loaded) => events.send(Event::PredictionsLoaded(loaded)),
                Err(e) => events.send(Event::PredictionsFailed(e.to_string())),
            }
        },
    )
}

/// Generates the demo catalogue into `data_dir/demo` on first use (reporting progress), then
/// opens it. Its predictions come from its audit, which the window computes once it is open.
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

/// Makes sure `folder` holds the demo catalogue, and no generated predictions beside it (an
/// earlier version wrote them there; generated predictions are not shown to users).
pub fn prepare_demo(folder: &Path, events: &EventSender) -> Result<(), String> {
    if !folder.join("manifest.csv").is_file() {
        let progress = |done, total| events.offer(Event::DemoProgressed { done, total });
        generate(folder, &DemoOptions::default(), &progress).map_err(|e| e.to_string())?;
    }
    let beside = folder.join(predictions::FILE_NAME);
    if Predictions::read(&beside).is_ok_and(|p| is_generated(&p)) {
        std::fs::remove_file(&beside)
            .map_err(|e| format!("cannot remove {}: {e}", beside.display()))?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::import::ImportOptions;
    use crate::runs::generated::generate_fake;
    use std::sync::Mutex;

    /// A small manifest with predictions beside it (in another order than the catalogue's, and
    /// missing one product), in `dir`.
    fn catalogue(dir: &Path) -> PathBuf {
        let mut text = String::from("product_id,name,images,colour\n");
        for i in 0..50 {
            text.push_str(&format!("p{i},Product {i},,{}\n", ["Red", "Blue"][i % 2]));
        }
        let manifest = dir.join("manifest.csv");
        std::fs::write(&manifest, text).unwrap();
        let catalog = crate::catalog::import::import(&manifest, &ImportOptions::default())
            .unwrap()
            .catalog;
        let fake = generate_fake(&catalog, 1, 0.5);
        let mut reordered = Catalog::new(dir);
        for product in catalog.products().iter().rev().skip(1) {
            reordered
                .push(crate::catalog::ProductDraft {
                    id: product.id.to_string(),
                    ..Default::default()
                })
                .unwrap();
        }
        fake.write(&dir.join(predictions::FILE_NAME), &reordered)
            .unwrap();
        manifest
    }

    type Seen = Arc<Mutex<Vec<(OpenStage, f32)>>>;

    fn recording() -> (OpenProgress, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let progress: OpenProgress = Arc::new(move |stage, fraction| {
            record.lock().unwrap().push((stage, fraction));
            true
        });
        (progress, seen)
    }

    #[test]
    fn an_open_reports_every_stage_in_order_each_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = catalogue(dir.path());
        let (progress, seen) = recording();
        let opened = open_with(&OpenRequest::path(&manifest), progress).unwrap();
        let seen = seen.lock().unwrap().clone();
        let mut starts: Vec<OpenStage> = Vec::new();
        for &(stage, fraction) in &seen {
            assert!((0.0..=1.0).contains(&fraction), "{seen:?}");
            if starts.last() != Some(&stage) {
                assert_eq!(fraction, 0.0, "a stage starts at zero: {seen:?}");
                starts.push(stage);
            }
        }
        assert_eq!(
            starts,
            OpenStage::ALL,
            "each stage once, in order: {seen:?}"
        );
        let timed: Vec<OpenStage> = opened.stages.stages.iter().map(|s| s.0).collect();
        assert_eq!(timed, OpenStage::ALL);
        assert!(opened.predictions_time.is_some());
        let products = opened.catalog.products();
        let by_name = &opened.catalog.text_orders().by_name;
        assert_eq!(by_name.len(), products.len());
        assert!(
            by_name
                .windows(2)
                .all(|w| products[w[0] as usize].name <= products[w[1] as usize].name)
        );
        // Lined up by id whatever the file's order; the product it lacks has no line.
        let loaded = opened.predictions.unwrap();
        for (position, product) in opened.catalog.products().iter().enumerate() {
            let row = loaded.rows[position];
            assert_eq!(row.and_then(|r| loaded.predictions.product_id(r)), {
                (position != 49).then_some(&*product.id)
            });
        }
    }

    #[test]
    fn answering_false_stops_the_open_at_that_stage() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = catalogue(dir.path());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let progress: OpenProgress = Arc::new(move |stage, _| {
            record.lock().unwrap().push(stage);
            stage != OpenStage::OpenStore
        });
        let error = open_with(&OpenRequest::path(&manifest), progress).unwrap_err();
        assert!(error.ends_with("cancelled"), "{error}");
        let seen = seen.lock().unwrap();
        assert_eq!(seen.last(), Some(&OpenStage::OpenStore), "{seen:?}");
    }

    #[test]
    fn the_demo_shows_no_generated_predictions_and_keeps_a_model_s() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("demo");
        let options = DemoOptions {
            products: 12,
            image_size: 32,
            ..DemoOptions::default()
        };
        generate(&folder, &options, &|_, _| {}).unwrap();
        let catalog = import(&folder, &ImportOptions::default()).unwrap().catalog;
        let beside = folder.join(predictions::FILE_NAME);
        // What an earlier version generated beside the demo.
        generate_fake(&catalog, 1, 0.95)
            .write(&beside, &catalog)
            .unwrap();
        let (tx, _rx) = crossbeam_channel::bounded(16);
        let events = EventSender {
            tx,
            wake: Arc::new(|| {}),
        };
        prepare_demo(&folder, &events).unwrap();
        assert!(!beside.exists(), "generated predictions are not shown");
        let opened = open(&OpenRequest::path(&folder)).unwrap();
        assert!(opened.predictions.is_none());

        // A model's predictions put there stay.
        let mut model = generate_fake(&catalog, 1, 0.95);
        model.header.run = "my-run".into();
        model.write(&beside, &catalog).unwrap();
        prepare_demo(&folder, &events).unwrap();
        assert!(beside.is_file());
    }
}
