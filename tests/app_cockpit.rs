//! The training cockpit driven headless through egui_kittest (no window, no GPU): launch a
//! small run on a demo catalogue, see the curves receive points, stop it, resume it, open a
//! confusion-matrix cell in the moderator grid, train a single-image run, compare the two and
//! check the table against `vitrine evaluate --json`, export it, draw the first-layer kernels.

mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vitrine::app::cockpit::{CockpitTab, RunEntry, View};
use vitrine::app::command::CockpitCommand;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::catalog::demo::{DemoOptions, generate};
use vitrine::runs::MetricsRecord;
use vitrine::runs::compare::validation_products;
use vitrine::runs::history::RunStatus;
use vitrine::runs::predictions::Predictions;

const TIMEOUT: Duration = Duration::from_secs(600);

fn harness<'a>(start: Start, data_dir: &Path) -> Harness<'a, WorkspaceApp> {
    common::window::harness(start, data_dir)
}

/// Steps frames until `done` holds, at most [`TIMEOUT`].
fn wait(harness: &mut Harness<'_, WorkspaceApp>, what: &str, done: impl Fn(&WorkspaceApp) -> bool) {
    common::window::wait(harness, what, TIMEOUT, done)
}

/// Clicks the widget labelled `label`, then steps two frames: one that applies the click, one
/// that draws what it changed.
fn click(harness: &mut Harness<'_, WorkspaceApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// The cockpit's entry of the run in `run`.
fn entry<'h>(harness: &'h Harness<'_, WorkspaceApp>, run: &Path) -> &'h RunEntry {
    entry_of(harness.state(), run)
}

/// [`entry`] from the app itself (inside a wait).
fn entry_of<'a>(app: &'a WorkspaceApp, run: &Path) -> &'a RunEntry {
    app.state.cockpit.run(run).expect("a listed run")
}

/// The selected run's folder.
fn selected(app: &WorkspaceApp) -> PathBuf {
    app.state.cockpit.selected.clone().expect("a selected run")
}

fn status(app: &WorkspaceApp, run: &Path) -> RunStatus {
    app.state.cockpit.run(run).unwrap().history.status.clone()
}

/// Opens the New run dialog, sets it to a run that trains in seconds, and starts it.
fn launch(harness: &mut Harness<'_, WorkspaceApp>, name: &str, single_image: bool, epochs: usize) {
    click(harness, "New run…");
    let mut form = harness
        .state()
        .state
        .cockpit
        .new_run
        .clone()
        .expect("the dialog");
    form.name = name.into();
    form.image_size = 32;
    form.batch = 16;
    form.set_epochs(epochs);
    form.learning_rate = 0.05;
    form.single_image = single_image;
    form.tasks = [false, true, true, false, false]; // colour and type
    harness.state_mut().apply(CockpitCommand::EditNewRun(form));
    harness.step();
    click(harness, "Start training");
    assert!(
        harness.state().state.cockpit.new_run.is_none(),
        "the dialog closed"
    );
}

#[derive(serde::Deserialize)]
struct Evaluation {
    tasks: std::collections::BTreeMap<Task, TaskScore>,
    mean_accuracy: f32,
}

#[derive(serde::Deserialize)]
struct TaskScore {
    accuracy: f32,
    correct: usize,
    labelled: usize,
}

fn evaluate(run: &Path, per_product: bool) -> Evaluation {
    let mut command = common::vitrine();
    command.arg("evaluate").arg(run).arg("--json");
    if per_product {
        command.arg("--per-product");
    }
    serde_json::from_slice(&common::stdout_of(command)).unwrap()
}

#[test]
fn launch_watch_stop_resume_open_a_cell_and_compare_single_with_multi_image() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        products: 90,
        image_size: 48,
        ..DemoOptions::default()
    };
    let manifest = generate(&dir.path().join("demo"), &options, &|_, _| {})
        .unwrap()
        .manifest;
    let data_dir = dir.path().join("data");
    let mut harness = harness(Start::Open(OpenRequest::path(&manifest)), &data_dir);
    wait(&mut harness, "the catalogue", |app| {
        app.state.session.is_some()
    });

    // Launch from the cockpit; the curves receive points while it trains.
    click(&mut harness, "Training");
    assert_eq!(harness.state().state.cockpit.view, View::Training);
    launch(&mut harness, "multi", false, 3);
    let multi = selected(harness.state());
    assert!(multi.starts_with(&data_dir), "runs live in the data folder");
    wait(&mut harness, "iterations", |app| {
        app.state
            .cockpit
            .run(&multi)
            .unwrap()
            .history
            .iterations
            .len()
            >= 3
    });
    harness.get_by_label("Loss (training per iteration, validation per epoch)");
    assert!(
        harness.query_all_by_label("multi").count() >= 2,
        "listed and titled"
    );

    // Stop: a checkpoint is kept, and the run can be resumed.
    click(&mut harness, "Stop");
    wait(&mut harness, "the stop", |app| {
        let run = app.state.cockpit.run(&multi).unwrap();
        run.history.status == RunStatus::Stopped && !run.training_here
    });
    let done_before = entry(&harness, &multi).history.iterations.len();
    click(&mut harness, "Resume");
    wait(&mut harness, "the resumed run to finish", |app| {
        let run = app.state.cockpit.run(&multi).unwrap();
        run.history.status == RunStatus::Finished && run.has_predictions && !run.training_here
    });
    let run = entry(&harness, &multi);
    assert_eq!(run.history.epochs.len(), 3);
    assert!(run.history.iterations.len() >= done_before);
    assert!(
        run.history
            .iterations
            .windows(2)
            .all(|w| w[0].iteration < w[1].iteration),
        "the redone work replaced the stopped epoch's points"
    );

    // A confusion-matrix cell opens its products in the grid, with the run's predictions.
    click(&mut harness, "Confusion");
    assert_eq!(harness.state().state.cockpit.tab, CockpitTab::Confusion);
    harness.step();
    // Every control can be reached by name (the epoch picker had none).
    harness.check_accessibility();
    let history = entry(&harness, &multi).history.clone();
    let matrix = &history.epochs.last().unwrap().confusion[&Task::Colour];
    let (label, predicted) = (0..matrix.len())
        .flat_map(|r| (0..matrix.len()).map(move |c| (r, c)))
        .max_by_key(|&(r, c)| matrix[r][c])
        .unwrap();
    harness
        .state_mut()
        .apply(CockpitCommand::OpenConfusionCell {
            run: multi.clone(),
            task: Task::Colour,
            label,
            predicted,
        });
    wait(&mut harness, "the cell's products", |app| {
        app.state.cockpit.view == View::Workspace && app.state.filter.only.is_some()
    });
    let state = &harness.state().state;
    let session = state.session.as_ref().unwrap();
    let predictions = Predictions::read(&multi.join("predictions.jsonl")).unwrap();
    let expected = validation_products(
        &predictions,
        &session.catalog,
        Task::Colour,
        Some(label),
        Some(predicted),
        false,
    );
    assert!(!expected.is_empty());
    assert_eq!(state.matches, expected);
    let shown = session.predictions.as_ref().unwrap();
    assert_eq!(
        shown.predictions.path.as_deref(),
        Some(multi.join("predictions.jsonl").as_path()),
        "the run's predictions are the ones shown"
    );
    let title = state.filter.only.as_ref().unwrap().title.clone();
    harness.get_by_label(&title);

    // A single-image run on the same split, then the side-by-side table.
    click(&mut harness, "Training");
    launch(&mut harness, "single", true, 2);
    let single = selected(harness.state());
    wait(&mut harness, "the single-image run", |app| {
        status(app, &single) == RunStatus::Finished
            && app.state.cockpit.run(&single).unwrap().has_predictions
    });
    click(&mut harness, "Compare");
    harness.state_mut().apply(CockpitCommand::SetComparisonRun {
        slot: 0,
        run: single.clone(),
    });
    harness.state_mut().apply(CockpitCommand::SetComparisonRun {
        slot: 1,
        run: multi.clone(),
    });
    harness.step();
    harness.check_accessibility();
    click(&mut harness, "Compare runs");
    wait(&mut harness, "the comparison", |app| {
        app.state.cockpit.comparison.is_some()
    });
    let view = harness.state().state.cockpit.comparison.clone().unwrap();
    let table = view.result.expect("a table");
    assert_eq!((table.a.as_str(), table.b.as_str()), ("single", "multi"));
    assert_eq!(
        table.common, table.products.0,
        "the same validation products"
    );
    let (single_eval, multi_eval) = (evaluate(&single, true), evaluate(&multi, false));
    for row in &table.rows {
        let (a, b) = (row.a.unwrap_or_default(), row.b.unwrap_or_default());
        match single_eval.tasks.get(&row.task) {
            Some(e) => {
                assert_eq!(
                    (a.correct, a.labelled),
                    (e.correct, e.labelled),
                    "{}",
                    row.task
                );
                assert!((a.accuracy() - e.accuracy).abs() < 1e-6);
            }
            None => assert!(row.a.is_none()),
        }
        match multi_eval.tasks.get(&row.task) {
            Some(e) => assert_eq!((b.correct, b.labelled), (e.correct, e.labelled)),
            None => assert!(row.b.is_none()),
        }
    }
    assert!((table.mean.0.unwrap() - single_eval.mean_accuracy).abs() < 1e-6);
    assert!((table.mean.1.unwrap() - multi_eval.mean_accuracy).abs() < 1e-6);
    harness.get_by_label("mean");

    // `vitrine compare` prints the same table.
    let mut compare = common::vitrine();
    compare
        .args(["compare", "--format", "csv"])
        .arg(&single)
        .arg(&multi);
    let printed = common::stdout_of(compare);
    assert_eq!(String::from_utf8_lossy(&printed), table.to_csv());
    let mut compare = common::vitrine();
    compare.args(["compare", "--json"]).arg(&single).arg(&multi);
    let json: serde_json::Value = serde_json::from_slice(&common::stdout_of(compare)).unwrap();
    let colour = &json["tasks"]["colour"];
    let row = &table.rows[Task::Colour.index()];
    assert_eq!(colour["a"]["correct"], row.a.unwrap().correct);
    assert_eq!(
        colour["b_right_a_wrong"].as_array().unwrap().len(),
        row.only_b.len()
    );
    assert!(
        json["tasks"].get("gender").is_none(),
        "colour and type only"
    );

    // Export as Markdown and CSV.
    for (markdown, name) in [(true, "table.md"), (false, "table.csv")] {
        let path = dir.path().join(name);
        harness.state_mut().apply(CockpitCommand::WriteComparison {
            path: path.clone(),
            markdown,
        });
        wait(&mut harness, "the export", |_| path.is_file());
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = if markdown {
            table.to_markdown()
        } else {
            table.to_csv()
        };
        assert_eq!(text, expected);
    }

    // A right/wrong list opens in the grid with the predictions of the run that got it wrong.
    let listed = table.rows.iter().find_map(|row| {
        let (list, wrong) = if row.only_a.is_empty() {
            (&row.only_b, &single)
        } else {
            (&row.only_a, &multi)
        };
        (!list.is_empty()).then(|| (list.clone(), wrong.clone()))
    });
    if let Some((positions, wrong)) = listed {
        harness.state_mut().apply(CockpitCommand::ShowRunProducts {
            run: wrong.clone(),
            title: "listed".into(),
            positions: positions.clone(),
        });
        wait(&mut harness, "the listed products", |app| {
            app.state.session.as_ref().is_some_and(|s| {
                s.predictions
                    .as_ref()
                    .and_then(|p| p.predictions.path.clone())
                    == Some(wrong.join("predictions.jsonl"))
            }) && app.state.matches == positions
        });
        click(&mut harness, "Training");
    }

    // The first convolution layer of the selected run, as RGB tiles.
    harness
        .state_mut()
        .apply(CockpitCommand::SelectRun(multi.clone()));
    click(&mut harness, "Kernels");
    wait(&mut harness, "the kernels", |app| {
        app.state.cockpit.kernels_of(&multi).is_some()
            && app.state.cockpit.reading_kernels.is_empty()
    });
    let kernels = harness.state().state.cockpit.kernels_of(&multi).unwrap();
    let (tiles, _) = kernels.result.as_ref().expect("kernels");
    assert_eq!((tiles.count, tiles.size), (16, 3));
    assert_eq!(tiles.epoch, 2);
    // The single-image run's kernels beside them, on one screen.
    harness
        .state_mut()
        .apply(CockpitCommand::SetKernelsBeside(Some(single.clone())));
    wait(&mut harness, "the kernels beside", |app| {
        app.state.cockpit.kernels_of(&single).is_some()
            && app.state.cockpit.reading_kernels.is_empty()
    });
    harness.run_steps(2);
    assert!(harness.state().state.cockpit.kernels_of(&multi).is_some());
    assert_eq!(
        harness
            .query_all_by_label_contains("kernels of 3x3 px")
            .count(),
        2,
        "both runs' kernels are shown"
    );

    // A run folder opened from disk is followed like one trained here.
    let copy = dir.path().join("elsewhere");
    std::fs::create_dir_all(&copy).unwrap();
    for file in ["config.json", "metrics.jsonl"] {
        std::fs::copy(multi.join(file), copy.join(file)).unwrap();
    }
    harness
        .state_mut()
        .apply(CockpitCommand::FollowRun(copy.clone()));
    wait(&mut harness, "the followed run", |app| {
        app.state
            .cockpit
            .run(&copy)
            .is_some_and(|r| r.history.status == RunStatus::Finished)
    });
    let followed = entry(&harness, &copy);
    assert_eq!(
        followed.history.epochs,
        entry(&harness, &multi).history.epochs
    );

    // A folder that holds no run says why.
    let empty = dir.path().join("not-a-run");
    std::fs::create_dir_all(&empty).unwrap();
    harness
        .state_mut()
        .apply(CockpitCommand::FollowRun(empty.clone()));
    wait(&mut harness, "the empty folder's entry", |app| {
        app.state
            .cockpit
            .run(&empty)
            .is_some_and(|r| r.config.is_some())
    });
    let why = match &entry(&harness, &empty).config {
        Some(Err(why)) => why.clone(),
        other => panic!("{other:?}"),
    };
    assert!(why.contains("config.json"), "{why}");
    harness.get_by_label(&why);

    // Forgetting a folder takes it off the list and out of the folders remembered for the next
    // sessions; the folder stays.
    harness
        .state_mut()
        .apply(CockpitCommand::ForgetRun(empty.clone()));
    wait(
        &mut harness,
        "the forgotten folder to leave the list",
        |app| app.state.cockpit.run(&empty).is_none(),
    );
    assert!(empty.is_dir());
    let remembered = std::fs::read_to_string(data_dir.join("runs/opened.json")).unwrap();
    assert!(remembered.contains("elsewhere"), "{remembered}");
    assert!(!remembered.contains("not-a-run"), "{remembered}");

    // A followed run folder deleted on disk leaves the list, with a notice.
    let doomed = dir.path().join("doomed");
    std::fs::create_dir_all(&doomed).unwrap();
    std::fs::copy(multi.join("config.json"), doomed.join("config.json")).unwrap();
    harness
        .state_mut()
        .apply(CockpitCommand::FollowRun(doomed.clone()));
    wait(&mut harness, "the doomed run's configuration", |app| {
        app.state
            .cockpit
            .run(&doomed)
            .is_some_and(|r| r.config.is_some())
    });
    std::fs::remove_dir_all(&doomed).unwrap();
    wait(&mut harness, "the deleted run to leave the list", |app| {
        app.state.cockpit.run(&doomed).is_none()
    });
    harness.get_by_label_contains("doomed was deleted");

    // Closing the window stops a run it trains, after a checkpoint to resume from: also one
    // stopped and resumed before (its first launch's end must not count for the second).
    click(&mut harness, "Training");
    launch(&mut harness, "closed", false, 50);
    let closed = selected(harness.state());
    let iterations = |app: &WorkspaceApp| entry_of(app, &closed).history.iterations.len();
    wait(&mut harness, "the last run's first iterations", |app| {
        iterations(app) > 0
    });
    click(&mut harness, "Stop");
    wait(&mut harness, "the last run's stop", |app| {
        entry_of(app, &closed).resumable()
    });
    click(&mut harness, "Resume");
    let before = iterations(harness.state());
    wait(&mut harness, "the last run's resumed iterations", |app| {
        entry_of(app, &closed).history.status == RunStatus::Running && iterations(app) > before
    });
    assert_eq!(harness.state_mut().workers.runs.shutdown(TIMEOUT), 0);
    let (log, _) = vitrine::runs::metrics::read_all(&closed.join("metrics.jsonl")).unwrap();
    assert!(
        matches!(log.last(), Some(MetricsRecord::Stopped { .. })),
        "{:?}",
        log.last()
    );
    let stops = log
        .iter()
        .filter(|r| matches!(r, MetricsRecord::Stopped { .. }))
        .count();
    assert_eq!(stops, 2);
    let checkpoint = vitrine::runs::RunFolder::at(&closed)
        .latest_checkpoint()
        .unwrap();
    assert!(checkpoint.is_some_and(|c| !c.complete));

    // The opened folder is listed again in the next session, with the runs of the catalogue.
    drop(harness);
    let mut again = common::window::harness(Start::Open(OpenRequest::path(&manifest)), &data_dir);
    wait(&mut again, "the runs of the next session", |app| {
        let runs = &app.state.cockpit;
        [&multi, &single, &copy].iter().all(|r| {
            runs.run(r)
                .is_some_and(|e| e.history.status == RunStatus::Finished)
        }) && runs.run(&closed).is_some_and(|e| e.resumable())
    });
    assert!(again.state().state.cockpit.run(&empty).is_none());
}
