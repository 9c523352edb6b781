//! The cockpit's half of [`super::update`]: applies the training commands and the run events.
//! Nothing here blocks: runs train on the engine's thread, logs are read on `vitrine-runs`,
//! comparisons, kernels and exports run on one-off named threads.

use super::cockpit::{
    CockpitTab, ComparisonView, KernelsView, NewRunForm, PendingProducts, RunEntry, View, run_name,
};
use super::command::{CockpitCommand, Command};
use super::event::{Event, RunEvent};
use super::filter::{Filter, ProductSet};
use super::state::AppState;
use super::update::{apply_command, focus_first, notice, refilter, report};
use super::workers::dialog::DialogPurpose;
use super::workers::{Workers, spawn};
use crate::ml::TrainRequest;
use crate::runs::compare::{compare_runs, validation_products};
use crate::runs::history::{Curves, RunStatus};
use crate::runs::predictions::FILE_NAME;
use crate::runs::{MetricsRecord, RunConfig};
use std::path::{Path, PathBuf};

fn error(state: &mut AppState, text: impl Into<String>) {
    report(state, Err(text.into()));
}

/// A folder name for a new run: the time, the mode and the backbone.
pub fn default_run_name(form: &NewRunForm) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now
        .trim_end_matches('Z')
        .chars()
        .map(|c| if c == ':' || c == 'T' { '-' } else { c })
        .collect();
    let mode = if form.single_image { "single" } else { "multi" };
    format!("{stamp}-{mode}-{}", form.backbone.name())
}

/// Rebuilds a run's curves when they were built with another smoothing weight.
fn refresh_curves(entry: &mut RunEntry, smoothing: f32) {
    let smoothing = smoothing as f64;
    if entry.curves.smoothing() != smoothing {
        entry.curves = Curves::of(&entry.history, smoothing);
    }
}

/// Applies a training cockpit command.
pub fn apply_cockpit_command(state: &mut AppState, workers: &mut Workers, command: CockpitCommand) {
    let cockpit = &mut state.cockpit;
    match command {
        CockpitCommand::SetView(view) => cockpit.view = view,
        CockpitCommand::SetCockpitTab(tab) => {
            cockpit.tab = tab;
            match tab {
                CockpitTab::Kernels => read_kernels_of_selected(state, workers),
                CockpitTab::Compare if cockpit.compare == [None, None] => {
                    if let Some(pair) = cockpit.default_comparison() {
                        cockpit.compare = pair.map(Some);
                        start_comparison(state, workers);
                    }
                }
                _ => {}
            }
        }
        CockpitCommand::ShowNewRun => {
            if state.session.is_none() {
                notice(state, "open a catalogue to train on first");
                return;
            }
            let mut form = NewRunForm::defaults(cockpit.gpus, String::new());
            form.name = default_run_name(&form);
            cockpit.new_run = Some(form);
        }
        CockpitCommand::EditNewRun(form) => cockpit.new_run = Some(form),
        CockpitCommand::CloseNewRun => cockpit.new_run = None,
        CockpitCommand::StartRun => start_run(state, workers),
        CockpitCommand::StopRun(run) => {
            if workers.runs.stop(&run) {
                notice(
                    state,
                    format!("stopping {} after this iteration", run_name(&run)),
                );
            }
        }
        CockpitCommand::ResumeRun(run) => resume_run(state, workers, run),
        CockpitCommand::FollowRun(run) => {
            workers.runs.open(run.clone());
            cockpit.run_mut(&run);
            cockpit.selected = Some(run);
            cockpit.view = View::Training;
        }
        CockpitCommand::ForgetRun(run) => {
            if cockpit
                .runs
                .iter()
                .any(|r| r.folder == run && r.training_here)
            {
                error(
                    state,
                    format!("{} is training here: stop it first", run_name(&run)),
                );
            } else {
                workers.runs.forget(run);
            }
        }
        CockpitCommand::SelectRun(run) => {
            let smoothing = cockpit.smoothing;
            refresh_curves(cockpit.run_mut(&run), smoothing);
            cockpit.selected = Some(run);
            cockpit.epoch = None;
            if cockpit.tab == CockpitTab::Kernels {
                read_kernels_of_selected(state, workers);
            }
        }
        CockpitCommand::ToggleOverlay(run) => {
            let smoothing = cockpit.smoothing;
            let entry = cockpit.run_mut(&run);
            entry.overlay = !entry.overlay;
            refresh_curves(entry, smoothing);
        }
        CockpitCommand::SetSmoothing(weight) => {
            // Only the curves drawn are rebuilt now (a slider drag sends this every frame); the
            // others when they are selected, overlaid or receive records.
            let smoothing = weight.clamp(0.0, 0.99);
            cockpit.smoothing = smoothing;
            let selected = cockpit.selected.clone();
            for run in &mut cockpit.runs {
                if run.overlay || Some(&run.folder) == selected.as_ref() {
                    refresh_curves(run, smoothing);
                }
            }
        }
        CockpitCommand::SelectEpoch(epoch) => cockpit.epoch = epoch,
        CockpitCommand::SelectConfusionTask(task) => cockpit.confusion_task = task,
        CockpitCommand::OpenConfusionCell {
            run,
            task,
            label,
            predicted,
        } => {
            cockpit.pending = Some(PendingProducts::Cell {
                run,
                task,
                label,
                predicted,
            });
            resolve_pending(state, workers);
        }
        CockpitCommand::ShowMisclassified { run, task } => {
            cockpit.pending = Some(PendingProducts::Misclassified { run, task });
            resolve_pending(state, workers);
        }
        CockpitCommand::ShowRunProducts {
            run,
            title,
            positions,
        } => {
            cockpit.pending = Some(PendingProducts::Listed {
                run,
                title,
                positions,
            });
            resolve_pending(state, workers);
        }
        CockpitCommand::ShowProducts { title, positions } => {
            let count = positions.len();
            state.filter = Filter {
                only: Some(ProductSet::new(title.clone(), positions)),
                ..Filter::default()
            };
            state.cockpit.view = View::Workspace;
            state.product_view = false;
            refilter(state, workers);
            focus_first(state);
            state.scroll_to_focus = true;
            notice(state, format!("{title}: {count} products"));
        }
        CockpitCommand::SetComparisonRun { slot, run } => {
            if let Some(place) = cockpit.compare.get_mut(slot) {
                *place = Some(run);
            }
        }
        CockpitCommand::Compare => start_comparison(state, workers),
        CockpitCommand::WriteComparison { path, markdown } => {
            let Some(Ok(table)) = cockpit.comparison.as_ref().map(|c| c.result.as_ref()) else {
                notice(state, "compare two runs first");
                return;
            };
            let text = if markdown {
                table.to_markdown()
            } else {
                table.to_csv()
            };
            let events = workers.sender();
            let failed = |message| Event::Run(RunEvent::WriteFailed(message));
            let started = spawn("vitrine-write", &events.clone(), failed, move || {
                events.send(match std::fs::write(&path, text) {
                    Ok(()) => Event::Run(RunEvent::FileWritten(path)),
                    Err(e) => Event::Run(RunEvent::WriteFailed(format!("{}: {e}", path.display()))),
                });
            });
            if let Err(e) = started {
                error(state, e);
            }
        }
        CockpitCommand::ReadKernels(run) => read_kernels(state, workers, run),
        CockpitCommand::PredictRun(run) => predict(state, workers, run),
    }
}

/// The run configuration of the open catalogue's import (path, columns, image folder).
fn catalogue_config(state: &AppState) -> Option<RunConfig> {
    let session = state.session.as_ref()?;
    Some(RunConfig {
        catalogue: session.request.path.clone(),
        columns: session.request.map.clone(),
        image_root: session.request.images.clone(),
        ..RunConfig::default()
    })
}

fn start_run(state: &mut AppState, workers: &mut Workers) {
    let (Some(base), Some(runs_dir), Some(form)) = (
        catalogue_config(state),
        state.cockpit.runs_dir.clone(),
        state.cockpit.new_run.clone(),
    ) else {
        return;
    };
    let config = match form.config(base) {
        Ok(config) => config,
        Err(why) => {
            if let Some(form) = &mut state.cockpit.new_run {
                form.error = Some(why);
            }
            return;
        }
    };
    let run_dir = runs_dir.join(form.name.trim());
    if state.cockpit.run(&run_dir).is_some() {
        if let Some(form) = &mut state.cockpit.new_run {
            form.error = Some(format!("a run named '{}' exists", form.name.trim()));
        }
        return;
    }
    let store = state.session.as_ref().map(|s| s.store_report.path.clone());
    let request = TrainRequest {
        run_dir: run_dir.clone(),
        config: config.clone(),
        resume: false,
        changes: Default::default(),
        store,
    };
    match workers.runs.launch(request, workers.sender()) {
        Ok(()) => {
            let cockpit = &mut state.cockpit;
            let entry = cockpit.run_mut(&run_dir);
            entry.config = Some(Ok(config));
            entry.training_here = true;
            entry.preparing = Some("starting".into());
            cockpit.selected = Some(run_dir);
            cockpit.epoch = None;
            cockpit.new_run = None;
            cockpit.view = View::Training;
            cockpit.tab = CockpitTab::Curves;
        }
        Err(why) => {
            if let Some(form) = &mut state.cockpit.new_run {
                form.error = Some(why);
            }
        }
    }
}

fn resume_run(state: &mut AppState, workers: &mut Workers, run: PathBuf) {
    let Some(entry) = state.cockpit.run(&run) else {
        return;
    };
    let config = match &entry.config {
        Some(Ok(config)) => config.clone(),
        Some(Err(why)) => {
            error(state, format!("cannot resume {}: {why}", entry.name()));
            return;
        }
        None => return,
    };
    // The run reads labels from this window's store when it trains on this catalogue.
    let store = state
        .session
        .as_ref()
        .filter(|s| s.request.path == config.catalogue)
        .map(|s| s.store_report.path.clone());
    let request = TrainRequest {
        run_dir: run.clone(),
        config,
        resume: true,
        changes: Default::default(),
        store,
    };
    match workers.runs.launch(request, workers.sender()) {
        Ok(()) => {
            let entry = state.cockpit.run_mut(&run);
            entry.training_here = true;
            entry.preparing = Some("resuming".into());
            notice(state, format!("resuming {}", run_name(&run)));
        }
        Err(why) => error(state, why),
    }
}

/// Shows the products waiting for a run's predictions: at once when they are the ones loaded,
/// else after loading them.
pub fn resolve_pending(state: &mut AppState, workers: &mut Workers) {
    let Some(pending) = state.cockpit.pending.clone() else {
        return;
    };
    let Some(session) = &state.session else {
        state.cockpit.pending = None;
        return;
    };
    let file = pending.run().join(FILE_NAME);
    let loaded = session
        .predictions
        .as_ref()
        .filter(|p| p.predictions.path.as_deref() == Some(file.as_path()));
    let Some(loaded) = loaded else {
        let has = state
            .cockpit
            .run(pending.run())
            .is_some_and(|r| r.has_predictions);
        if has {
            apply_command(state, workers, Command::LoadPredictions(file));
        } else {
            state.cockpit.pending = None;
            notice(
                state,
                "the run has no predictions yet: they are written when it finishes",
            );
        }
        return;
    };
    state.cockpit.pending = None;
    let predictions = &loaded.predictions;
    let name = run_name(pending.run());
    let (title, positions) = match pending {
        PendingProducts::Cell {
            task,
            label,
            predicted,
            ..
        } => {
            let classes = predictions.header.classes.get(&task);
            let class = |i: usize| {
                classes
                    .and_then(|c| c.get(i))
                    .cloned()
                    .unwrap_or_else(|| format!("#{i}"))
            };
            (
                format!(
                    "{name}: {task} labelled {}, predicted {} (validation)",
                    class(label),
                    class(predicted)
                ),
                validation_products(
                    predictions,
                    &session.catalog,
                    task,
                    Some(label),
                    Some(predicted),
                    false,
                ),
            )
        }
        PendingProducts::Misclassified { task, .. } => (
            format!("{name}: {task} predicted wrong (validation)"),
            validation_products(predictions, &session.catalog, task, None, None, true),
        ),
        PendingProducts::Listed {
            title, positions, ..
        } => (title, positions),
    };
    apply_command(
        state,
        workers,
        Command::Cockpit(CockpitCommand::ShowProducts { title, positions }),
    );
}

fn start_comparison(state: &mut AppState, workers: &mut Workers) {
    let cockpit = &state.cockpit;
    let [Some(a), Some(b)] = cockpit.compare.clone() else {
        notice(state, "choose runs A and B");
        return;
    };
    let Some(session) = &state.session else {
        return;
    };
    for run in [&a, &b] {
        if !cockpit.run(run).is_some_and(|r| r.has_predictions) {
            error(
                state,
                format!(
                    "{} has no predictions yet: they are written when it finishes",
                    run_name(run)
                ),
            );
            return;
        }
    }
    let catalog = session.catalog.clone();
    let events = workers.sender();
    state.cockpit.comparing = true;
    let (failed_a, failed_b) = (a.clone(), b.clone());
    let failed = move |message| {
        Event::Run(RunEvent::Compared(Box::new(ComparisonView {
            a: failed_a,
            b: failed_b,
            result: Err(message),
        })))
    };
    let started = spawn("vitrine-compare", &events.clone(), failed, move || {
        let result = compare_runs(&a, &b, &catalog).map_err(|e| e.to_string());
        // Let go of the catalogue before reporting, so the UI can edit it in place again.
        drop(catalog);
        events.send(Event::Run(RunEvent::Compared(Box::new(ComparisonView {
            a,
            b,
            result,
        }))));
    });
    if let Err(e) = started {
        state.cockpit.comparing = false;
        error(state, e);
    }
}

fn predict(state: &mut AppState, workers: &mut Workers, run: PathBuf) {
    let entry = state.cockpit.run_mut(&run);
    if entry.predicting {
        return;
    }
    entry.predicting = true;
    let events = workers.sender();
    let folder = run.clone();
    let failed_run = run.clone();
    let failed = move |message| {
        Event::Run(RunEvent::Predicted {
            run: failed_run,
            result: Err(message),
        })
    };
    let started = spawn("vitrine-predict", &events.clone(), failed, move || {
        // On the CPU: a GPU may be busy training this very run.
        let result = crate::ml::saved::predict_run(&run, None, None, &["cpu".to_string()])
            .map(|summary| summary.predictions)
            .map_err(|e| e.to_string());
        events.send(Event::Run(RunEvent::Predicted { run, result }));
    });
    if let Err(e) = started {
        state.cockpit.run_mut(&folder).predicting = false;
        error(state, e);
    }
}

fn read_kernels_of_selected(state: &mut AppState, workers: &mut Workers) {
    let Some(run) = state.cockpit.selected.clone() else {
        return;
    };
    let current = state.cockpit.kernels.as_ref().is_some_and(|f| f.run == run);
    if !current && !state.cockpit.reading_kernels {
        read_kernels(state, workers, run);
    }
}

fn read_kernels(state: &mut AppState, workers: &mut Workers, run: PathBuf) {
    let events = workers.sender();
    state.cockpit.reading_kernels = true;
    let failed_run = run.clone();
    let failed = move |message| {
        Event::Run(RunEvent::KernelsRead {
            run: failed_run,
            result: Err(message),
        })
    };
    let started = spawn("vitrine-kernels", &events.clone(), failed, move || {
        let result = crate::ml::saved::first_kernels(&run)
            .map(|tiles| {
                let image = tile_image(&tiles);
                (tiles, image)
            })
            .map_err(|e| e.to_string());
        events.send(Event::Run(RunEvent::KernelsRead { run, result }));
    });
    if let Err(e) = started {
        state.cockpit.reading_kernels = false;
        error(state, e);
    }
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

/// Applies a run or cockpit job event; `ctx` creates the kernels' texture.
pub fn apply_run_event(
    state: &mut AppState,
    workers: &mut Workers,
    ctx: &egui::Context,
    event: RunEvent,
) {
    let now = state.cockpit.clock.elapsed().as_secs_f64();
    let cockpit = &mut state.cockpit;
    match event {
        RunEvent::RunFound { run, config } => {
            cockpit.run_mut(&run).config = Some(*config);
            if cockpit.selected.is_none() {
                cockpit.selected = Some(run);
            }
        }
        RunEvent::RunRecords {
            run,
            records,
            bad_lines,
            has_predictions,
            error,
        } => {
            let smoothing = cockpit.smoothing;
            let entry = cockpit.run_mut(&run);
            for record in &records {
                if matches!(record, MetricsRecord::Started { .. }) {
                    entry.preparing = None;
                }
                entry.history.push(record, now);
            }
            entry.curves.update(&entry.history);
            refresh_curves(entry, smoothing);
            entry.history.bad_lines += bad_lines;
            entry.has_predictions = has_predictions;
            entry.log_error = error;
        }
        RunEvent::RunPreparing { run, stage } => {
            let entry = cockpit.run_mut(&run);
            if entry.history.iterations.is_empty() || entry.preparing.is_some() {
                entry.preparing = Some(stage);
            }
        }
        RunEvent::RunFailed { run, message } => {
            let entry = cockpit.run_mut(&run);
            entry.preparing = None;
            if entry.history.status != RunStatus::Failed(message.clone()) {
                entry.history.status = RunStatus::Failed(message.clone());
            }
            let name = entry.name();
            error(state, format!("{name} failed: {message}"));
        }
        RunEvent::RunGone { run, deleted } => {
            cockpit.forget(&run);
            if deleted {
                notice(state, format!("{} was deleted", run_name(&run)));
            }
        }
        RunEvent::RunThreadEnded { run } => {
            workers.runs.ended(&run);
            let entry = cockpit.run_mut(&run);
            entry.training_here = false;
            entry.preparing = None;
        }
        RunEvent::DevicesFound(gpus) => cockpit.gpus = gpus,
        RunEvent::Compared(view) => {
            cockpit.comparing = false;
            if let Err(why) = &view.result {
                let why = why.clone();
                cockpit.comparison = Some(*view);
                error(state, format!("cannot compare: {why}"));
            } else {
                cockpit.comparison = Some(*view);
            }
        }
        RunEvent::KernelsRead { run, result } => {
            cockpit.reading_kernels = false;
            let result = result.map(|(tiles, image)| {
                let texture =
                    ctx.load_texture("first-layer-kernels", image, egui::TextureOptions::NEAREST);
                (tiles, texture)
            });
            cockpit.kernels = Some(KernelsView { run, result });
        }
        RunEvent::Predicted { run, result } => {
            let entry = cockpit.run_mut(&run);
            entry.predicting = false;
            match result {
                Ok(file) => {
                    entry.has_predictions = true;
                    apply_command(state, workers, Command::LoadPredictions(file));
                    state.cockpit.view = View::Workspace;
                }
                Err(why) => error(
                    state,
                    format!("cannot predict with {}: {why}", run_name(&run)),
                ),
            }
        }
        RunEvent::FileWritten(path) => notice(state, format!("wrote {}", path.display())),
        RunEvent::WriteFailed(why) => error(state, why),
    }
}

/// Turns a closed dialog of the cockpit into its command.
pub fn dialog_command(purpose: DialogPurpose, path: PathBuf) -> Option<Command> {
    match purpose {
        DialogPurpose::OpenRun => Some(Command::Cockpit(CockpitCommand::FollowRun(path))),
        DialogPurpose::ExportComparison { markdown } => {
            Some(Command::Cockpit(CockpitCommand::WriteComparison {
                path,
                markdown,
            }))
        }
        _ => None,
    }
}

/// The catalogue changed: follow its runs (runs training here go on and stay listed).
pub fn catalogue_changed(state: &mut AppState, workers: &mut Workers, source: &Path) {
    let cockpit = &mut state.cockpit;
    workers.runs.forget_all();
    cockpit.runs.retain(|r| r.training_here);
    for run in &cockpit.runs {
        workers.runs.follow(run.folder.clone());
    }
    if cockpit
        .selected
        .as_ref()
        .is_some_and(|s| cockpit.run(s).is_none())
    {
        cockpit.selected = None;
    }
    cockpit.compare = [None, None];
    cockpit.comparison = None;
    cockpit.pending = None;
    let runs_dir = crate::paths::runs_dir(&workers.data_dir, source);
    workers.runs.scan(runs_dir.clone());
    cockpit.runs_dir = Some(runs_dir);
}
