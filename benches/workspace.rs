//! Moderator workspace benchmarks: start to first frame, our work per frame while scrolling,
//! filter time and memory on generated catalogues; our work per frame in the Audit view's
//! review queue; thumbnail decoding of the Luma photos.
//!
//! Run with `cargo bench --bench workspace` (add `-- CASE` for one case). Each case runs in a
//! child process of its own so its memory figures are its own. Under `cargo test` (no
//! `--bench` argument) every case runs once at small scale, as a smoke test of this file.

mod common;

use egui_kittest::Harness;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vitrine::app::audit_queue::LoadedAudit;
use vitrine::app::cockpit::View;
use vitrine::app::command::{AuditCommand, CockpitCommand, Command};
use vitrine::app::event::Event;
use vitrine::app::filter::{Filter, FilterInputs, LabelChoice, SortKey, TaskScope, apply};
use vitrine::app::images::THUMB_TIERS;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::audit::confident::RankBy;
use vitrine::audit::report::build;
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::imaging::{decode_full_then_resize, decode_reduced, thumbnail};
use vitrine::runs::generated::generate_fake;
use vitrine::runs::predictions::FILE_NAME;
use vitrine::runs::predictions::Split;
use vitrine::runs::probabilities::{Probabilities, ProbabilitiesHeader, ProductProbabilities};
use vitrine::runs::provenance::FileKind;

const CASES: [&str; 6] = [
    "workspace-10k",
    "workspace-1m",
    "filter-1m",
    "thumbs-luma",
    "audit-1m",
    "map-100k",
];

fn main() {
    common::main(&CASES, None, run_case);
}

/// Set (to a folder) in the child process that only writes a case's catalogue there.
const WRITE_ONLY: &str = "VITRINE_BENCH_WRITE_ONLY";

fn run_case(case: &str) {
    let size = |full, smoke| if common::full() { full } else { smoke };
    let n = match case {
        "workspace-10k" => size(10_000, 1_000),
        "workspace-1m" | "filter-1m" | "audit-1m" => size(1_000_000, 2_000),
        "thumbs-luma" => size(60, 3),
        "map-100k" => size(100_000, 2_000),
        _ => unreachable!(),
    };
    if let Some(dir) = std::env::var_os(WRITE_ONLY) {
        write_catalogue(Path::new(&dir), n);
        return;
    }
    match case {
        "workspace-10k" | "workspace-1m" => workspace(case, n),
        "filter-1m" => filter(case, n),
        "audit-1m" => audit_view(case, n),
        "map-100k" => map_view(case, n),
        _ => thumbs(n),
    }
}

/// [`write_catalogue`] in a child process: the generator's memory (a whole catalogue and its
/// predictions, freed but kept by the allocator) would otherwise count in this process's
/// resident figures, which are the window's.
fn write_catalogue_apart(case: &str, dir: &Path) -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable");
    let status = std::process::Command::new(exe)
        .arg(case)
        .env(WRITE_ONLY, dir)
        .status()
        .expect("spawn the catalogue writer");
    assert!(status.success(), "writing the catalogue of {case} failed");
    dir.join("manifest.csv")
}

/// Resident and peak memory of this process, from /proc (Linux).
fn memory() -> String {
    format!(
        "RSS {}, peak {}",
        common::status_field("VmRSS:"),
        common::status_field("VmHWM:")
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() - 1) as f64 * p).round() as usize]
}

/// A manifest of `n` products (1-3 images each, names over 1,000 tiny files that are not real
/// JPEGs, so the grid shows its "corrupt" placeholders) with generated predictions beside it.
fn write_catalogue(dir: &Path, n: usize) -> PathBuf {
    let manifest = common::write_manifest(dir, n);
    let catalog = import(&manifest, &ImportOptions::default())
        .expect("import")
        .catalog;
    generate_fake(&catalog, 1, 0.9)
        .write(&dir.join(FILE_NAME), &catalog)
        .expect("predictions");
    manifest
}

/// The window opening the catalogue `manifest` (data folder `data`), headless, timing our
/// work in each frame (`WorkspaceApp::frame`) into the state's list.
fn timed_window(manifest: &Path, data: PathBuf) -> Harness<'static, (WorkspaceApp, Vec<Duration>)> {
    let app = WorkspaceApp::new(
        &egui::Context::default(),
        Start::Open(OpenRequest::path(manifest)),
        data,
    )
    .expect("app");
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(
            |ui, (app, times): &mut (WorkspaceApp, Vec<Duration>)| {
                let frame = Instant::now();
                app.frame(ui);
                times.push(frame.elapsed());
            },
            (app, Vec::new()),
        )
}

/// Start to first frame, our work per frame while scrolling, memory at rest.
fn workspace(case: &str, n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_catalogue_apart(case, dir.path());
    let data = dir.path().join("data");
    let started = Instant::now();
    let mut harness = timed_window(&manifest, data);
    while harness.state().0.state.session.is_none() {
        harness.step();
        assert!(
            harness
                .state()
                .0
                .state
                .message
                .as_ref()
                .is_none_or(|m| !m.error)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    harness.step();
    let first_frame = started.elapsed();
    let at_rest = memory();
    assert_eq!(harness.state().0.state.matches.len(), n);
    harness.state_mut().1.clear();
    // Scroll: a row down per frame, with a page jump every 20 frames.
    let frames = if common::full() { 600 } else { 40 };
    for i in 0..frames {
        let key = if i % 20 == 19 {
            egui::Key::PageDown
        } else {
            egui::Key::ArrowDown
        };
        harness.key_press(key);
        harness.step();
    }
    let focus = harness.state().0.state.focus_index().expect("focus");
    assert!(focus > frames, "the focus moved down the grid ({focus})");
    let mut times = std::mem::take(&mut harness.state_mut().1);
    println!(
        "workspace-{n}: start to first frame {:.2} s (open on the worker {:.2} s); our work per \
         frame while scrolling over {} frames: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; at rest {at_rest}",
        first_frame.as_secs_f64(),
        harness
            .state()
            .0
            .state
            .session
            .as_ref()
            .expect("session")
            .open_time
            .as_secs_f64(),
        times.len(),
        ms(percentile(&mut times, 0.5)),
        ms(percentile(&mut times, 0.99)),
        ms(percentile(&mut times, 1.0)),
    );
    // The filter on the worker: the UI keeps drawing frames while it runs.
    let text = Filter {
        text: "number 12".into(),
        ..Default::default()
    };
    let by_name = Filter {
        sort: SortKey::Name,
        ..Default::default()
    };
    for (what, filter) in [("text filter", text), ("sort by name", by_name)] {
        harness.state_mut().0.apply(Command::SetFilter(filter));
        let started = Instant::now();
        let mut frames_meanwhile = 0;
        while harness.state().0.state.filtering {
            harness.step();
            frames_meanwhile += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        println!(
            "workspace-{n}: {what} to result in the window {:.0} ms ({} frames drawn meanwhile)",
            ms(started.elapsed()),
            frames_meanwhile
        );
    }
}

/// Generated out-of-fold probabilities for the colour, category and subcategory of every
/// product of `catalog`: the model puts 30-99% on one class, the label's 85% of the time.
fn generated_probabilities(catalog: &vitrine::catalog::Catalog) -> Probabilities {
    let tasks = [Task::Colour, Task::Category, Task::Subcategory];
    let classes: BTreeMap<Task, Vec<String>> = tasks
        .iter()
        .map(|&task| {
            let names = catalog.vocabulary(task).by_frequency();
            (
                task,
                names.into_iter().map(|(_, n, _)| n.to_string()).collect(),
            )
        })
        .collect();
    let mut header = ProbabilitiesHeader::new("generated-audit", classes.clone());
    header.kind = Some(FileKind::OutOfFold);
    let mut probabilities = Probabilities::new(header);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for product in catalog.products() {
        let mut rows = BTreeMap::new();
        for &task in &tasks {
            let names = &classes[&task];
            let label = catalog
                .label_name(product, task)
                .and_then(|l| names.iter().position(|n| n == l))
                .unwrap_or(0);
            let top = if rng.random::<f32>() < 0.85 {
                label
            } else {
                rng.random_range(0..names.len())
            };
            let confidence = rng.random_range(0.3f32..0.99);
            let mut row: Vec<f32> = (0..names.len()).map(|_| rng.random::<f32>()).collect();
            let rest: f32 = row
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != top)
                .map(|(_, p)| p)
                .sum();
            for (k, p) in row.iter_mut().enumerate() {
                *p = if k == top {
                    confidence
                } else {
                    *p * (1.0 - confidence) / rest
                };
            }
            rows.insert(task, row);
        }
        probabilities
            .insert(ProductProbabilities {
                product_id: product.id.to_string(),
                split: Some(Split::Validation),
                fold: Some(1),
                tasks: rows,
            })
            .expect("a generated line");
    }
    probabilities
}

/// Our work per frame in the Audit view at `n` products: the review queue of generated
/// out-of-fold probabilities (no training), skipping and browsing cards, narrowing the list
/// to a noise-matrix cell and back, switching tasks.
fn audit_view(case: &str, n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_catalogue_apart(case, dir.path());
    let mut harness = timed_window(&manifest, dir.path().join("data"));
    while harness.state().0.state.session.is_none() {
        harness.step();
        std::thread::sleep(Duration::from_millis(2));
    }
    let catalog = harness
        .state()
        .0
        .state
        .session
        .as_ref()
        .expect("session")
        .catalog
        .clone();
    let started = Instant::now();
    let probabilities = generated_probabilities(&catalog);
    let generated = started.elapsed();
    let started = Instant::now();
    let report = build(
        &probabilities,
        &catalog,
        RankBy::NormalizedMargin,
        &|_, _| false,
        &[],
    )
    .expect("the report");
    let built = started.elapsed();
    drop(catalog);
    let suspects: Vec<String> = report
        .tasks
        .iter()
        .map(|t| format!("{} {}", t.task, t.queue.len()))
        .collect();
    let generation = harness.state().0.state.audit.generation;
    let ctx = harness.ctx.clone();
    harness.state_mut().0.handle(
        &ctx,
        Event::AuditOpened {
            generation,
            audit: Box::new(LoadedAudit {
                folder: dir.path().join("audit"),
                name: "generated".into(),
                report,
                probabilities: std::sync::Arc::new(probabilities),
            }),
        },
    );
    harness
        .state_mut()
        .0
        .apply(CockpitCommand::SetView(View::Audit));
    harness.run_steps(3);
    harness.state_mut().1.clear();
    let frames = if common::full() { 600 } else { 60 };
    for i in 0..frames {
        match i % 100 {
            40 => harness
                .state_mut()
                .0
                .apply(AuditCommand::FilterCell(Some((0, 1)))),
            70 => harness.state_mut().0.apply(AuditCommand::FilterCell(None)),
            90 => harness
                .state_mut()
                .0
                .apply(AuditCommand::SetTask(Task::Subcategory)),
            99 => harness
                .state_mut()
                .0
                .apply(AuditCommand::SetTask(Task::Colour)),
            _ if i % 2 == 0 => harness.key_press(egui::Key::S),
            _ => harness.key_press(egui::Key::ArrowDown),
        }
        harness.step();
    }
    let audit = harness
        .state()
        .0
        .state
        .audit
        .queue
        .as_ref()
        .expect("the queue");
    assert!(audit.card().is_some(), "a card shows");
    let mut times = std::mem::take(&mut harness.state_mut().1);
    println!(
        "audit-{n}: probabilities generated in {:.2} s, the report built in {:.2} s ({}); our \
         work per frame in the Audit view over {} frames (skipping, browsing, a noise cell, \
         tasks): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {}",
        generated.as_secs_f64(),
        built.as_secs_f64(),
        suspects.join(", "),
        times.len(),
        ms(percentile(&mut times, 0.5)),
        ms(percentile(&mut times, 0.99)),
        ms(percentile(&mut times, 1.0)),
        memory(),
    );
}

/// A map of every product of `catalog`: 40 clusters of t-SNE-like blobs.
fn generated_map(catalog: &vitrine::catalog::Catalog) -> vitrine::similarity::map::Map {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let centres: Vec<[f32; 2]> = (0..40)
        .map(|_| [rng.random_range(-60.0..60.0), rng.random_range(-60.0..60.0)])
        .collect();
    let (ids, points) = catalog
        .products()
        .iter()
        .enumerate()
        .map(|(i, product)| {
            let c = centres[i % centres.len()];
            let (r, a): (f32, f32) = (
                rng.random_range(0.0f32..1.0).sqrt() * 8.0,
                rng.random_range(0.0..std::f32::consts::TAU),
            );
            (
                product.id.to_string(),
                [c[0] + r * a.cos(), c[1] + r * a.sin()],
            )
        })
        .unzip();
    vitrine::similarity::map::Map {
        ids,
        points,
        perplexity: 30.0,
        epochs: 1000,
        neighbours: "generated".into(),
    }
}

/// Frame time in the Map view at `n` points: our work per frame (the whole window's) and
/// egui's tessellation of what it drew (the mesh of every point), while the pointer moves
/// over the points (hover card), the map zooms in and out about it and the colouring changes.
fn map_view(case: &str, n: usize) {
    use vitrine::app::command::MapCommand;
    use vitrine::app::event::{ComputedMap, MapEvent};
    use vitrine::app::map::ColourBy;
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_catalogue_apart(case, dir.path());
    let mut harness = timed_window(&manifest, dir.path().join("data"));
    let predictions = loop {
        let session = harness.state().0.state.session.as_ref();
        if let Some(path) = session.and_then(|s| s.predictions_path()) {
            break path;
        }
        harness.step();
        std::thread::sleep(Duration::from_millis(2));
    };
    let map = {
        let session = harness.state().0.state.session.as_ref().expect("session");
        generated_map(&session.catalog)
    };
    let generation = harness.state().0.state.map.generation;
    let ctx = harness.ctx.clone();
    harness.state_mut().0.handle(
        &ctx,
        Event::Map(MapEvent::Computed {
            generation,
            result: Ok(Box::new(ComputedMap {
                predictions,
                note: format!("{n} generated points"),
                map,
            })),
        }),
    );
    harness
        .state_mut()
        .0
        .apply(CockpitCommand::SetView(View::Map));
    harness.run_steps(3);
    let shown = harness.state().0.state.map.map().map(|m| m.points.len());
    assert_eq!(shown, Some(n), "the map shows every point");
    harness.state_mut().1.clear();
    let frames = if common::full() { 600 } else { 60 };
    let mut tessellation = Vec::with_capacity(frames);
    let mut vertices = 0;
    let mut repainted = 0;
    let mut mode = 0;
    for i in 0..frames {
        // The pointer circles over the map's middle; every 50 frames the map zooms in (then
        // out) about it, and every 150 the colouring changes.
        let a = i as f32 * 0.05;
        let pointer = egui::pos2(520.0 + 180.0 * a.cos(), 480.0 + 180.0 * a.sin());
        harness.hover_at(pointer);
        if i % 50 == 25 {
            let delta = if (i / 50) % 2 == 0 { 240.0 } else { -240.0 };
            harness.event(egui::Event::MouseWheel {
                unit: egui::MouseWheelUnit::Point,
                delta: egui::vec2(0.0, delta),
                phase: egui::TouchPhase::Move,
                source: egui::MouseWheelSource::Wheel,
                modifiers: egui::Modifiers::NONE,
            });
        }
        if i % 150 == 149 {
            mode += 1;
            let task = [Task::Colour, Task::Category, Task::Gender][mode % 3];
            let colour_by = [
                ColourBy::Label(task),
                ColourBy::Prediction(task),
                ColourBy::Disagrees(task),
            ][mode % 3];
            harness
                .state_mut()
                .0
                .apply(Command::Map(MapCommand::SetColourBy(colour_by)));
        }
        harness.step();
        let shapes = harness.output().shapes.clone();
        // The points' texture is repainted on the frames that zoom (smooth scrolling).
        repainted += usize::from(ctx.input(|input| input.smooth_scroll_delta.y != 0.0));
        let started = Instant::now();
        let primitives = ctx.tessellate(shapes, ctx.pixels_per_point());
        tessellation.push(started.elapsed());
        vertices = vertices.max(
            primitives
                .iter()
                .map(|p| match &p.primitive {
                    egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
                    egui::epaint::Primitive::Callback(_) => 0,
                })
                .sum::<usize>(),
        );
    }
    let picture = ctx
        .tex_manager()
        .read()
        .allocated()
        .find(|(_, meta)| meta.name == "map points")
        .map(|(_, meta)| meta.size);
    let Some([width, height]) = picture else {
        panic!("the points were not painted");
    };
    let mut ours = std::mem::take(&mut harness.state_mut().1);
    let mut both: Vec<Duration> = ours
        .iter()
        .zip(&tessellation)
        .map(|(a, b)| *a + *b)
        .collect();
    println!(
        "map-{n}: over {} frames (pointer over the points with its hover card, zooming, \
         recolouring): our work per frame p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; \
         tessellation p50 {:.2} ms, p99 {:.2} ms; both p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms \
         (points painted into a {width}x{height} texture, repainted on the {repainted} zooming frames; \
         up to {vertices} vertices); {}",
        ours.len(),
        ms(percentile(&mut ours, 0.5)),
        ms(percentile(&mut ours, 0.99)),
        ms(percentile(&mut ours, 1.0)),
        ms(percentile(&mut tessellation, 0.5)),
        ms(percentile(&mut tessellation, 0.99)),
        ms(percentile(&mut both, 0.5)),
        ms(percentile(&mut both, 0.99)),
        ms(percentile(&mut both, 1.0)),
        memory(),
    );
}

/// Filter time over the catalogue, for typical filters.
fn filter(case: &str, n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = write_catalogue_apart(case, dir.path());
    let opened = vitrine::app::workers::open::open(&OpenRequest::path(&manifest)).expect("open");
    println!(
        "filter-{n}: open {:.2} s: {}; the predictions read on a thread of their own in {:.2} s; {}",
        opened.elapsed.as_secs_f64(),
        opened.stages,
        opened.predictions_time.unwrap_or_default().as_secs_f64(),
        memory(),
    );
    let catalog = &opened.catalog;
    let predictions = opened.predictions.as_ref().expect("predictions");
    let edited = Default::default();
    let inputs = FilterInputs {
        catalog,
        predictions: Some(&predictions.predictions),
        prediction_rows: &predictions.rows,
        edited: &edited,
    };
    let red = catalog.vocabulary(Task::Colour).get("Red").expect("Red");
    let mut by_colour = Filter::default();
    by_colour.labels[Task::Colour.index()] = Some(LabelChoice::Class(red));
    let cases = [
        ("colour = Red", by_colour.clone()),
        (
            "text 'number 12'",
            Filter {
                text: "number 12".into(),
                ..Default::default()
            },
        ),
        (
            "prediction disagrees (any task)",
            Filter {
                disagreement: Some(TaskScope::Any),
                ..Default::default()
            },
        ),
        (
            "sort by confidence",
            Filter {
                sort: SortKey::Confidence(TaskScope::Any),
                ..Default::default()
            },
        ),
        (
            "confidence below 0.5 (any task)",
            Filter {
                confidence_below: Some((TaskScope::Any, 0.5)),
                ..Default::default()
            },
        ),
        (
            "sort by name",
            Filter {
                sort: SortKey::Name,
                ..Default::default()
            },
        ),
        (
            "sort by name, descending",
            Filter {
                sort: SortKey::Name,
                descending: true,
                ..Default::default()
            },
        ),
        (
            "sort by id",
            Filter {
                sort: SortKey::Id,
                ..Default::default()
            },
        ),
        (
            "sort by disagreements",
            Filter {
                sort: SortKey::Disagreement,
                ..Default::default()
            },
        ),
        (
            "colour = Red, sorted by name",
            Filter {
                sort: SortKey::Name,
                ..by_colour.clone()
            },
        ),
    ];
    // The same filters with rayon's pool cut to one thread: what the second core gives.
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool of one thread");
    for (name, filter) in cases {
        let runs = 5;
        let time = |run: &dyn Fn() -> Vec<u32>| {
            let mut times: Vec<Duration> = (0..runs)
                .map(|_| {
                    let started = Instant::now();
                    std::hint::black_box(run());
                    started.elapsed()
                })
                .collect();
            ms(percentile(&mut times, 0.5))
        };
        let both = time(&|| apply(&filter, inputs));
        let one = time(&|| one_thread.install(|| apply(&filter, inputs)));
        println!("filter-{n}: {name}: median of {runs} {both:.0} ms (one thread {one:.0} ms)");
    }
    println!("filter-{n}: {}", memory());
}

/// Luma photos (1274x1580 progressive JPEGs) to thumbnails of each tier on one core: reduced
/// decode (DCT scaling, and only the scans it reads) vs full decode + resize.
fn thumbs(count: usize) {
    let Some(real) = common::real_data("thumbs-luma") else {
        return;
    };
    let data = real.join("magento-luma");
    let imported = import(
        &data.join("manifest_colourways.csv"),
        &ImportOptions::default(),
    )
    .expect("Luma manifest");
    let paths: Vec<PathBuf> = imported
        .catalog
        .products()
        .iter()
        .flat_map(|p| p.images.iter().map(|i| imported.catalog.image_path(i)))
        .take(count)
        .collect();
    let rate = |d: Duration| paths.len() as f64 / d.as_secs_f64();
    for side in THUMB_TIERS {
        let time = |decode: &dyn Fn(&Path) -> Result<image::RgbaImage, String>| {
            let started = Instant::now();
            for path in &paths {
                let image = decode(path).expect("decode");
                assert!(image.width().max(image.height()) <= side);
            }
            started.elapsed()
        };
        // Warm the file cache so both measure decoding, not the disk.
        time(&|p| decode_reduced(p, side));
        let reduced = time(&|p| decode_reduced(p, side));
        let full = time(&|p| decode_full_then_resize(p, side));
        // The same decoder (jpeg-decoder) without any reduction: what the reduction saves.
        let same_decoder_full = time(&|p| {
            let image = decode_reduced(p, u16::MAX as u32)?;
            let scale = side as f32 / image.width().max(image.height()) as f32;
            let (w, h) = (image.width() as f32 * scale, image.height() as f32 * scale);
            Ok(image::imageops::thumbnail(&image, w as u32, h as u32))
        });
        let cache = tempfile::tempdir().expect("tempdir");
        time(&|p| thumbnail(p, side, Some(cache.path())));
        let cached = time(&|p| thumbnail(p, side, Some(cache.path())));
        println!(
            "thumbs-luma {side} px: {} photos, one core: reduced decode {:.0}/s; full decode + \
             resize: image crate (zune-jpeg) {:.0}/s ({:.1}x slower), jpeg-decoder {:.0}/s \
             ({:.1}x slower); from the disk cache {:.0}/s",
            paths.len(),
            rate(reduced),
            rate(full),
            full.as_secs_f64() / reduced.as_secs_f64(),
            rate(same_decoder_full),
            same_decoder_full.as_secs_f64() / reduced.as_secs_f64(),
            rate(cached),
        );
    }
}
