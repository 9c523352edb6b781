//! The cockpit's one-off jobs, each on a named thread of its own: comparing two runs,
//! predicting from a checkpoint, reading the first-layer kernels, writing a file, freeing a
//! closed catalogue. Each but the last reports its result, or its failure (a panic, or no
//! thread to run on), as one event.

use super::{EventSender, spawn};
use crate::app::cockpit::ComparisonView;
use crate::app::event::{Event, RunEvent};
use crate::catalog::Catalog;
use crate::runs::compare::compare_runs;
use std::path::PathBuf;
use std::sync::Arc;

/// Starts `work` on a thread named `name`; a panic in it, or a thread that cannot start, is
/// reported as the event `failed` makes of the message.
fn start(
    name: &str,
    events: &EventSender,
    failed: impl Fn(String) -> Event + Send + Clone + 'static,
    work: impl FnOnce() + Send + 'static,
) {
    if let Err(message) = spawn(name, events, failed.clone(), work) {
        events.send(failed(message));
    }
}

/// Compares runs `a` and `b` on `catalog`; reports [`RunEvent::Compared`].
pub fn compare(a: PathBuf, b: PathBuf, catalog: Arc<Catalog>, events: &EventSender) {
    let (failed_a, failed_b) = (a.clone(), b.clone());
    let failed = move |message| {
        Event::Run(RunEvent::Compared(Box::new(ComparisonView {
            a: failed_a.clone(),
            b: failed_b.clone(),
            result: Err(message),
        })))
    };
    let reply = events.clone();
    start("vitrine-compare", events, failed, move || {
        let result = compare_runs(&a, &b, &catalog).map_err(|e| e.to_string());
        // Let go of the catalogue before reporting, so the UI can edit it in place again.
        drop(catalog);
        reply.send(Event::Run(RunEvent::Compared(Box::new(ComparisonView {
            a,
            b,
            result,
        }))));
    });
}

/// Writes predictions from the latest checkpoint of `run`; reports [`RunEvent::Predicted`].
pub fn predict(run: PathBuf, events: &EventSender) {
    let failed_run = run.clone();
    let failed = move |message| {
        Event::Run(RunEvent::Predicted {
            run: failed_run.clone(),
            result: Err(message),
        })
    };
    let reply = events.clone();
    start("vitrine-predict", events, failed, move || {
        // On the CPU: a GPU may be busy training this very run.
        let result = crate::ml::saved::predict_run(&run, None, None, &["cpu".to_string()])
            .map(|summary| summary.predictions)
            .map_err(|e| e.to_string());
        reply.send(Event::Run(RunEvent::Predicted { run, result }));
    });
}

/// Reads the first-layer kernels of the latest checkpoint of `run` and draws them; reports
/// [`RunEvent::KernelsRead`].
pub fn read_kernels(run: PathBuf, events: &EventSender) {
    let failed_run = run.clone();
    let failed = move |message| {
        Event::Run(RunEvent::KernelsRead {
            run: failed_run.clone(),
            result: Err(message),
        })
    };
    let reply = events.clone();
    start("vitrine-kernels", events, failed, move || {
        let result = crate::ml::saved::first_kernels(&run)
            .map(|tiles| {
                let image = tile_image(&tiles);
                (tiles, image)
            })
            .map_err(|e| e.to_string());
        reply.send(Event::Run(RunEvent::KernelsRead { run, result }));
    });
}

/// Writes `text` to `path`; reports [`RunEvent::FileWritten`] or [`RunEvent::WriteFailed`].
pub fn write_file(path: PathBuf, text: String, events: &EventSender) {
    let failed = |message| Event::Run(RunEvent::WriteFailed(message));
    let reply = events.clone();
    start("vitrine-write", events, failed, move || {
        reply.send(match std::fs::write(&path, text) {
            Ok(()) => Event::Run(RunEvent::FileWritten(path)),
            Err(e) => Event::Run(RunEvent::WriteFailed(format!("{}: {e}", path.display()))),
        });
    });
}

/// Drops `value` on a thread of its own (here, if none can start): freeing a closed
/// catalogue of 1,000,000 products is a long frame's work.
pub fn discard<T: Send + 'static>(value: T) {
    // A thread that cannot start hands back its closure in the error, dropping `value` here.
    let _ = std::thread::Builder::new()
        .name("vitrine-discard".into())
        .spawn(move || drop(value));
}

/// The kernels side by side in a square-ish grid, one pixel apart on a grey background.
pub fn tile_image(tiles: &crate::ml::saved::KernelTiles) -> egui::ColorImage {
    let columns = (tiles.count as f64).sqrt().ceil().max(1.0) as usize;
    let rows = tiles.count.div_ceil(columns).max(1);
    let step = tiles.size + 1;
    let (width, height) = (columns * step + 1, rows * step + 1);
    let mut image = egui::ColorImage::filled([width, height], egui::Color32::from_gray(60));
    let area = tiles.size * tiles.size;
    for (f, tile) in tiles.rgb.chunks(area * 3).enumerate() {
        let (x0, y0) = ((f % columns) * step + 1, (f / columns) * step + 1);
        for (p, rgb) in tile.chunks(3).enumerate() {
            let (x, y) = (x0 + p % tiles.size, y0 + p / tiles.size);
            image.pixels[y * width + x] = egui::Color32::from_rgb(rgb[0], rgb[1], rgb[2]);
        }
    }
    image
}

/// Searches `job.catalog` for duplicate clusters (near duplicates by the representation behind
/// `job.predictions`, when given); reports [`DuplicatesEvent`]s.
/// Setting `cancel` stops it ([`DuplicatesEvent::Cancelled`]).
pub fn find_duplicates(
    job: crate::app::effect::DuplicatesJob,
    cancel: Arc<std::sync::atomic::AtomicBool>,
    events: &EventSender,
) {
    use crate::app::event::DuplicatesEvent;
    use crate::similarity::{Searcher, locate};
    let generation = job.generation;
    let failed = move |message| {
        Event::Duplicates(DuplicatesEvent::Found {
            generation,
            result: Err(message),
        })
    };
    let reply = events.clone();
    start("vitrine-duplicates", events, failed, move || {
        let representation = job.predictions.as_deref().map(|path| {
            let source = locate(path)?;
            let searcher = Searcher::open(&source, &mut |_| {})?;
            Ok::<_, crate::similarity::SimilarityError>((source.note, searcher))
        });
        let (what, searcher) = match representation {
            None => ("exact copies only (no run shown)".to_string(), None),
            Some(Ok((note, searcher))) => (
                format!("exact copies, and near duplicates by {note}"),
                Some(searcher),
            ),
            Some(Err(e)) => (format!("exact copies only: {e}"), None),
        };
        let progress = reply.clone();
        let report = crate::similarity::duplicates::find_duplicates(
            &job.catalog,
            searcher.as_ref(),
            job.fraction,
            &job.apart,
            &move |done, total| {
                if done % 64 == 0 || done == total {
                    progress.offer(Event::Duplicates(DuplicatesEvent::Progressed {
                        generation,
                        done,
                        total,
                    }));
                }
            },
            &cancel,
        );
        // Let go of the catalogue before reporting, so the UI can edit it in place again.
        drop(job);
        reply.send(Event::Duplicates(match report {
            Some(report) => DuplicatesEvent::Found {
                generation,
                result: Ok((report, what)),
            },
            None => DuplicatesEvent::Cancelled { generation },
        }));
    });
}

/// Finds which photo decided each task of product `id` by the run behind the predictions file
/// `predictions`; reports [`Event::Decided`].
pub fn decide(predictions: PathBuf, product: u32, id: String, events: &EventSender) {
    let failed = move |message| Event::Decided {
        product,
        result: Err(message),
    };
    let reply = events.clone();
    start("vitrine-decided", events, failed, move || {
        let folder = predictions.parent().unwrap_or(std::path::Path::new("."));
        let result = if crate::runs::audit::AuditFolder::is_audit(folder) {
            Err(
                "an audit's predictions come from several fold models: load one fold's run \
                 (a fold-N folder) to see which photo decided"
                    .to_string(),
            )
        } else {
            crate::ml::saved::decided_run(folder, &id).map_err(|e| e.to_string())
        };
        reply.send(Event::Decided { product, result });
    });
}

/// Lays out the representation behind the predictions file `predictions` (or reads the map
/// saved beside it for the same representation and settings, and saves one it computes);
/// reports [`MapEvent`]s. Setting `cancel` stops it ([`MapEvent::Cancelled`]).
pub fn compute_map(
    generation: u64,
    predictions: PathBuf,
    cancel: Arc<std::sync::atomic::AtomicBool>,
    events: &EventSender,
) {
    use crate::app::event::{ComputedMap, MapEvent};
    use crate::similarity::map::MapSettings;
    use crate::similarity::{Searcher, locate, map_file};
    let failed = move |message| {
        Event::Map(MapEvent::Computed {
            generation,
            result: Err(message),
        })
    };
    let reply = events.clone();
    start("vitrine-map", events, failed, move || {
        let started = std::time::Instant::now();
        let settings = MapSettings::default();
        let outcome = (|| {
            let source = locate(&predictions)?;
            let searcher = Searcher::open(&source, &mut |_| {})?;
            let products = searcher.vectors().len();
            let progress = reply.clone();
            let Some((map, origin)) = map_file::load_or_compute(
                &source.folder,
                &searcher,
                &settings,
                &source.note,
                false,
                &mut |p| {
                    progress.offer(Event::Map(MapEvent::Progressed {
                        generation,
                        progress: p,
                    }))
                },
                &cancel,
            )?
            else {
                return Ok(None);
            };
            let note = match origin {
                map_file::Origin::Read => format!(
                    "{}, {products} products, read from {}",
                    source.note,
                    source.folder.join(map_file::FILE).display()
                ),
                map_file::Origin::Computed { saved, .. } => format!(
                    "{}, {products} products, {} in {:.1} s ({})",
                    source.note,
                    map_file::method(&settings),
                    started.elapsed().as_secs_f32(),
                    match saved {
                        Ok(()) => "saved in the run folder".to_string(),
                        Err(e) => format!("not saved: {e}"),
                    }
                ),
            };
            Ok::<_, crate::similarity::SimilarityError>(Some((map, note)))
        })();
        reply.send(Event::Map(match outcome {
            Ok(Some((map, note))) => MapEvent::Computed {
                generation,
                result: Ok(Box::new(ComputedMap {
                    predictions,
                    note,
                    map,
                })),
            },
            Ok(None) => MapEvent::Cancelled { generation },
            Err(e) => MapEvent::Computed {
                generation,
                result: Err(e.to_string()),
            },
        }));
    });
}

/// Draws the map's points as a picture of 1,600 pixels square and writes it as a PNG to
/// `path`; reports [`RunEvent::FileWritten`] or [`RunEvent::WriteFailed`].
pub fn write_map_picture(
    path: PathBuf,
    points: Vec<[f32; 2]>,
    colours: Vec<[u8; 3]>,
    highlight: Option<usize>,
    events: &EventSender,
) {
    let failed = |message| Event::Run(RunEvent::WriteFailed(message));
    let reply = events.clone();
    start("vitrine-map-picture", events, failed, move || {
        use crate::similarity::map_picture::{draw, write_png};
        let picture = draw(&points, &colours, 1600, 1600, highlight);
        reply.send(match write_png(&path, &picture) {
            Ok(()) => Event::Run(RunEvent::FileWritten(path)),
            Err(e) => Event::Run(RunEvent::WriteFailed(e.to_string())),
        });
    });
}
