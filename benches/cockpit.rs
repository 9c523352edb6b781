//! The training cockpit's cost, headless (egui_kittest: layout and tessellation, no GPU):
//!
//! - `cockpit-frame`: the UI's own work per frame (events applied, panels laid out) while a
//!   run's log streams 20 records per second into a long history, on the curves and the
//!   confusion tabs (target: p99 under 8 ms);
//! - `cockpit-training`: training images/s of the same run started through the engine alone
//!   (as the CLI does) and from the app with the cockpit showing its curves, redrawn 4 times a
//!   second (as the app does: on each batch of records) and 60 times (continuous repaint)
//!   (target: within 5%).
//!
//! `cargo bench --bench cockpit` (full scale); `cargo test --bench cockpit` runs a smoke pass.

mod common;

use egui_kittest::Harness;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vitrine::app::cockpit::{CockpitTab, NewRunForm, View};
use vitrine::app::command::CockpitCommand;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::catalog::demo::{DemoOptions, generate};
use vitrine::ml::{TrainRequest, TrainingEvent};
use vitrine::runs::metrics::read_all;
use vitrine::runs::{MetricsRecord, MetricsWriter, RunConfig, RunFolder};

const CASES: [&str; 2] = ["cockpit-frame", "cockpit-training"];

fn main() {
    common::main(&CASES, None, run_case);
}

fn run_case(case: &str) {
    match case {
        "cockpit-frame" => frame(),
        "cockpit-training" => training(),
        _ => unreachable!(),
    }
}

/// The app plus the time each frame's own work took.
struct Timed {
    app: WorkspaceApp,
    times: Vec<Duration>,
}

fn harness<'a>(manifest: &Path, data_dir: &Path) -> Harness<'a, Timed> {
    let start = Start::Open(OpenRequest::path(manifest));
    let app = WorkspaceApp::new(&egui::Context::default(), start, data_dir.to_path_buf())
        .expect("the app");
    let mut harness = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(
            |ui, timed: &mut Timed| {
                let started = Instant::now();
                timed.app.frame(ui);
                timed.times.push(started.elapsed());
            },
            Timed {
                app,
                times: Vec::new(),
            },
        );
    let started = Instant::now();
    while harness.state().app.state.session.is_none() {
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "catalogue not opened"
        );
    }
    harness
}

fn demo(dir: &Path, products: usize) -> PathBuf {
    let options = DemoOptions {
        products,
        image_size: 48,
        ..DemoOptions::default()
    };
    generate(&dir.join("demo"), &options, &|_, _| {})
        .expect("demo catalogue")
        .manifest
}

fn classes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("class {i}")).collect()
}

fn iteration(i: usize, per_epoch: usize) -> MetricsRecord {
    let loss = 2.0 / (1.0 + i as f32 / 500.0);
    MetricsRecord::Iteration {
        epoch: i / per_epoch,
        iteration: i,
        loss,
        task_losses: Task::ALL.iter().map(|&t| (t, loss)).collect(),
        learning_rate: 0.01,
        images_per_second: 400.0,
    }
}

fn epoch(e: usize, sizes: &[usize; 5]) -> MetricsRecord {
    MetricsRecord::Epoch {
        epoch: e,
        train_loss: 1.0,
        validation_loss: Some(1.1),
        validation_task_losses: Task::ALL.iter().map(|&t| (t, 1.1)).collect(),
        accuracy: Task::ALL.iter().map(|&t| (t, 0.5)).collect(),
        mean_accuracy: Some(0.5),
        confusion: Task::ALL
            .iter()
            .map(|&t| {
                let n = sizes[t.index()];
                (
                    t,
                    (0..n)
                        .map(|r| (0..n).map(|c| ((r + c) % 7) as u32).collect())
                        .collect(),
                )
            })
            .collect(),
        images_per_second: 400.0,
        data_wait: 0.01,
        warmup_seconds: 0.0,
        seconds: 60.0,
    }
}

fn percentile(times: &mut [Duration], p: f64) -> f64 {
    times.sort();
    times[((times.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

/// A run whose log already holds a long history, then grows by 20 records per second while the
/// cockpit draws it.
fn frame() {
    let full = common::full();
    let (history, seconds) = if full { (20_000, 20) } else { (500, 2) };
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = demo(dir.path(), 40);
    let data_dir = dir.path().join("data");
    let runs = vitrine::paths::runs_dir(&data_dir, &manifest);
    let folder = RunFolder::create(&runs.join("streaming"), &RunConfig::default()).expect("run");
    let per_epoch = 500;
    // The Myntra head sizes: gender, colour, type, category, subcategory.
    let sizes = [5, 46, 7, 45, 45];
    let mut log = MetricsWriter::append(&folder.metrics_path()).expect("log");
    log.write(&MetricsRecord::Started {
        time_ms: 0,
        epochs: 1_000,
        iterations_per_epoch: per_epoch,
        train_samples: 32_000,
        validation_samples: 8_000,
        classes: Task::ALL
            .iter()
            .map(|&t| (t, classes(sizes[t.index()])))
            .collect(),
        merged_into_other: Default::default(),
        resumed_at_epoch: None,
        devices: vec!["cuda:0".into()],
    })
    .expect("write");
    for i in 0..history {
        log.write(&iteration(i, per_epoch)).expect("write");
        if (i + 1) % per_epoch == 0 {
            log.write(&epoch(i / per_epoch, &sizes)).expect("write");
        }
    }
    let mut harness = harness(&manifest, &data_dir);
    let root = folder.root().to_path_buf();
    harness
        .state_mut()
        .app
        .apply(CockpitCommand::SetView(View::Training));
    harness
        .state_mut()
        .app
        .apply(CockpitCommand::SelectRun(root.clone()));
    let started = Instant::now();
    while harness
        .state()
        .app
        .state
        .cockpit
        .run(&root)
        .is_none_or(|r| r.history.iterations.len() < history)
    {
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "history not read"
        );
    }
    let writer = std::thread::spawn(move || {
        let mut i = history;
        let end = Instant::now() + Duration::from_secs(seconds * 2 + 2);
        while Instant::now() < end {
            log.write(&iteration(i, per_epoch)).expect("write");
            if (i + 1) % 25 == 0 {
                log.write(&epoch(i / per_epoch, &sizes)).expect("write");
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    println!(
        "cockpit-frame: {history} iterations in the log, growing by 20 records/s plus an epoch \
         record every 25; {seconds} s per tab at 60 frames/s"
    );
    for tab in [CockpitTab::Curves, CockpitTab::Confusion] {
        harness
            .state_mut()
            .app
            .apply(CockpitCommand::SetCockpitTab(tab));
        harness.step();
        harness.state_mut().times.clear();
        let before = harness
            .state()
            .app
            .state
            .cockpit
            .run(&root)
            .map_or(0, |r| r.history.records);
        let end = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < end {
            let frame = Instant::now();
            harness.step();
            std::thread::sleep(Duration::from_millis(16).saturating_sub(frame.elapsed()));
        }
        let received = harness
            .state()
            .app
            .state
            .cockpit
            .run(&root)
            .map_or(0, |r| r.history.records)
            - before;
        let times = &mut harness.state_mut().times;
        let frames = times.len();
        println!(
            "  {tab:?}: {frames} frames, {received} records received; own work per frame p50 \
             {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(times, 0.5),
            percentile(times, 0.99),
            percentile(times, 1.0)
        );
    }
    writer.join().expect("writer");
}

/// Mean training images/s of the epochs after the first (the first also decodes the photos).
fn steady_speed(records: &[MetricsRecord]) -> f64 {
    let speeds: Vec<f64> = records
        .iter()
        .filter_map(|r| match r {
            MetricsRecord::Epoch {
                epoch,
                images_per_second,
                ..
            } if *epoch > 0 => Some(*images_per_second as f64),
            _ => None,
        })
        .collect();
    speeds.iter().sum::<f64>() / speeds.len().max(1) as f64
}

fn training() {
    let full = common::full();
    let (products, epochs) = if full { (300, 4) } else { (40, 2) };
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = demo(dir.path(), products);
    let mut form = NewRunForm::defaults(0, "with-ui".into());
    form.set_epochs(epochs);
    let base = RunConfig {
        catalogue: manifest.clone(),
        ..RunConfig::default()
    };
    let config = form.config(base).expect("config");

    // The engine alone, as `vitrine train` runs it: first and again last, since a process's
    // later runs start with a warm allocator and caches.
    let alone = |name: &str| {
        let run_dir = dir.path().join(name);
        let handle = vitrine::ml::start(TrainRequest {
            run_dir: run_dir.clone(),
            config: config.clone(),
            resume: false,
            changes: Default::default(),
            store: None,
        })
        .expect("start");
        for event in handle.events() {
            if let TrainingEvent::Record(
                MetricsRecord::Finished { .. } | MetricsRecord::Failed { .. },
            ) = event
            {
                break;
            }
        }
        handle.join();
        let (records, _) = read_all(&RunFolder::at(&run_dir).metrics_path()).expect("log");
        steady_speed(&records)
    };
    let first = alone("alone-first");
    println!(
        "cockpit-training: small backbone 64 px, {products} products, {epochs} epochs on the \
         CPU, mean images/s of the epochs after the first:\n  engine alone (as the CLI), \
         first: {first:.1} img/s"
    );
    // The same run started from the cockpit showing its curves: at 4 frames/s (the app
    // repaints when records arrive: the runs thread reads logs 4 times a second), and at 60
    // (continuous repaint, as while the pointer moves over the plots).
    let data_dir = dir.path().join("data");
    let mut harness = harness(&manifest, &data_dir);
    harness
        .state_mut()
        .app
        .apply(CockpitCommand::SetView(View::Training));
    for fps in [4u64, 60] {
        harness.state_mut().app.apply(CockpitCommand::ShowNewRun);
        let mut run_form = form.clone();
        run_form.name = format!("with-ui-{fps}");
        harness
            .state_mut()
            .app
            .apply(CockpitCommand::EditNewRun(run_form));
        harness.state_mut().app.apply(CockpitCommand::StartRun);
        let run = harness
            .state()
            .app
            .state
            .cockpit
            .selected
            .clone()
            .expect("run");
        harness.state_mut().times.clear();
        let period = Duration::from_millis(1000 / fps);
        loop {
            let frame = Instant::now();
            harness.step();
            let app = &harness.state().app;
            let entry = app.state.cockpit.run(&run).expect("entry");
            if entry.history.status.ended() && !entry.training_here {
                break;
            }
            std::thread::sleep(period.saturating_sub(frame.elapsed()));
        }
        let (records, _) = read_all(&RunFolder::at(&run).metrics_path()).expect("log");
        let with_ui = steady_speed(&records);
        let times = &mut harness.state_mut().times;
        println!(
            "  from the cockpit at {fps} frames/s: {with_ui:.1} img/s ({:+.1}% against the \
             first), frame p99 {:.2} ms over {} frames",
            (with_ui / first - 1.0) * 100.0,
            percentile(times, 0.99),
            times.len()
        );
    }
    drop(harness);
    let last = alone("alone-last");
    println!("  engine alone (as the CLI), last: {last:.1} img/s");
}
