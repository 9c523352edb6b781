//! The training cockpit's commands: launching, stopping and following runs (and audits, see
//! [`super::audit_runs`]), the curves' settings, the confusion matrix's cells, the comparison
//! and the kernels view. The work they start (training, reading logs, comparing, predicting)
//! is queued as effects.

use super::{audit_runs, matches};
use crate::app::cockpit::{
    CockpitTab, DEFAULT_FOLDS, NewRunForm, PendingProducts, RunEntry, View, run_name,
};
use crate::app::command::{CockpitCommand, Command};
use crate::app::effect::{Effect, Queue};
use crate::app::filter::{Filter, ProductSet};
use crate::app::state::AppState;
use crate::ml::TrainRequest;
use crate::runs::RunConfig;
use crate::runs::compare::validation_products;
use crate::runs::history::Curves;
use crate::runs::predictions::FILE_NAME;
use std::path::{Path, PathBuf};

/// A folder name for a new run: the time, the mode and the backbone; for an audit,
/// `audit-` and the time.
fn default_run_name(form: &NewRunForm) -> String {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let stamp: String = now
        .trim_end_matches('Z')
        .chars()
        .map(|c| if c == ':' || c == 'T' { '-' } else { c })
        .collect();
    if form.folds.is_some() {
        return format!("audit-{stamp}");
    }
    let mode = if form.single_image { "single" } else { "multi" };
    format!("{stamp}-{mode}-{}", form.backbone.name())
}

/// Rebuilds a run's curves when they were built with another smoothing weight.
pub fn refresh_curves(entry: &mut RunEntry, smoothing: f32) {
    let smoothing = smoothing as f64;
    if entry.curves.smoothing() != smoothing {
        entry.curves = Curves::of(&entry.history, smoothing);
    }
}

/// Applies a training cockpit command.
pub fn apply(state: &mut AppState, command: CockpitCommand, queue: &mut Queue) {
    let cockpit = &mut state.cockpit;
    match command {
        CockpitCommand::SetView(view) => {
            cockpit.view = view;
            if view == View::Map {
                super::map::entered(state, queue);
            }
        }
        CockpitCommand::SetCockpitTab(tab) => {
            cockpit.tab = tab;
            match tab {
                CockpitTab::Kernels => read_kernels_of_selected(state, queue),
                CockpitTab::Compare if cockpit.compare == [None, None] => {
                    if let Some(pair) = cockpit.default_comparison() {
                        cockpit.compare = pair.map(Some);
                        start_comparison(state, queue);
                    }
                }
                _ => {}
            }
        }
        CockpitCommand::ShowNewRun | CockpitCommand::ShowNewAudit => {
            if state.session.is_none() {
                state.notice("open a catalogue to train on first");
                return;
            }
            let mut form = NewRunForm::defaults(cockpit.gpus, String::new());
            if matches!(command, CockpitCommand::ShowNewAudit) {
                form = form.audit(DEFAULT_FOLDS);
            }
            form.name = default_run_name(&form);
            cockpit.new_run = Some(form);
        }
        CockpitCommand::EditNewRun(form) => cockpit.new_run = Some(form),
        CockpitCommand::CloseNewRun => cockpit.new_run = None,
        CockpitCommand::StartRun => start_run(state, queue),
        CockpitCommand::StopRun(run) => {
            if cockpit.run(&run).is_some_and(|r| r.training_here) {
                state.notice(format!("stopping {} after this iteration", run_name(&run)));
                queue.effect(Effect::StopRun(run));
            }
        }
        CockpitCommand::ResumeRun(run) => resume_run(state, run, queue),
        CockpitCommand::StopAudit(audit) => audit_runs::stop(state, audit, queue),
        CockpitCommand::ResumeAudit(audit) => audit_runs::resume(state, audit, queue),
        CockpitCommand::FollowRun(run) => {
            queue.effect(Effect::OpenRun(run.clone()));
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
                state.error(format!(
                    "{} is training here: stop it first",
                    run_name(&run)
                ));
            } else {
                queue.effect(Effect::ForgetRun(run));
            }
        }
        CockpitCommand::SelectRun(run) => {
            let smoothing = cockpit.smoothing;
            refresh_curves(cockpit.run_mut(&run), smoothing);
            cockpit.selected = Some(run);
            cockpit.epoch = None;
            if cockpit.tab == CockpitTab::Kernels {
                read_kernels_of_selected(state, queue);
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
            resolve_pending(state, queue);
        }
        CockpitCommand::ShowMisclassified { run, task } => {
            cockpit.pending = Some(PendingProducts::Misclassified { run, task });
            resolve_pending(state, queue);
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
            resolve_pending(state, queue);
        }
        CockpitCommand::ShowProducts { title, positions } => {
            let count = positions.len();
            state.filter = Filter {
                only: Some(ProductSet::new(title.clone(), positions)),
                ..Filter::default()
            };
            state.cockpit.view = View::Workspace;
            state.product_view = false;
            matches::refilter(state, queue);
            matches::focus_first(state);
            state.scroll_to_focus = true;
            state.notice(format!("{title}: {count} products"));
        }
        CockpitCommand::SetComparisonRun { slot, run } => {
            if let Some(place) = cockpit.compare.get_mut(slot) {
                *place = Some(run);
            }
        }
        CockpitCommand::Compare => start_comparison(state, queue),
        CockpitCommand::WriteComparison { path, markdown } => {
            let Some(Ok(table)) = cockpit.comparison.as_ref().map(|c| c.result.as_ref()) else {
                state.notice("compare two runs first");
                return;
            };
            let text = if markdown {
                table.to_markdown()
            } else {
                table.to_csv()
            };
            queue.effect(Effect::WriteFile { path, text });
        }
        CockpitCommand::ReadKernels(run) => read_kernels(state, run, queue),
        CockpitCommand::SetKernelsBeside(run) => {
            state.cockpit.kernels_beside = run;
            read_kernels_of_selected(state, queue);
        }
        CockpitCommand::PredictRun(run) => predict(state, run, queue),
    }
}

/// The run configuration of the open catalogue's import (path, columns, image folder).
fn catalogue_config(state: &AppState) -> Option<RunConfig> {
    let session = state.session.as_ref()?;
    let mut config = RunConfig::default();
    config.set_source(session.request.source.clone());
    Some(config)
}

fn start_run(state: &mut AppState, queue: &mut Queue) {
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
    if state.cockpit.run(&run_dir).is_some() || state.cockpit.audit(&run_dir).is_some() {
        if let Some(form) = &mut state.cockpit.new_run {
            form.error = Some(format!("a run named '{}' exists", form.name.trim()));
        }
        return;
    }
    if let Some(folds) = form.folds {
        audit_runs::start_from_dialog(state, run_dir, config, folds, queue);
        return;
    }
    let store = state.session.as_ref().map(|s| s.store_report.path.clone());
    queue.effect(Effect::LaunchRun(Box::new(TrainRequest {
        run_dir: run_dir.clone(),
        config: config.clone(),
        resume: false,
        changes: Default::default(),
        store,
    })));
    // A launch that fails to start is reported as the run's failure (RunFailed, then
    // RunThreadEnded), as a run failing in its first moments is.
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

fn resume_run(state: &mut AppState, run: PathBuf, queue: &mut Queue) {
    let Some(entry) = state.cockpit.run(&run) else {
        return;
    };
    if entry.training_here {
        state.error(format!("{} is already training", run_name(&run)));
        return;
    }
    let config = match &entry.config {
        Some(Ok(config)) => config.clone(),
        Some(Err(why)) => {
            state.error(format!("cannot resume {}: {why}", entry.name()));
            return;
        }
        None => return,
    };
    let store = store_for(state, &config);
    queue.effect(Effect::LaunchRun(Box::new(TrainRequest {
        run_dir: run.clone(),
        config,
        resume: true,
        changes: Default::default(),
        store,
    })));
    let entry = state.cockpit.run_mut(&run);
    entry.training_here = true;
    entry.preparing = Some("resuming".into());
    state.notice(format!("resuming {}", run_name(&run)));
}

/// The label store a run (or audit) of `config` reads labels from: this window's when it
/// trains on the open catalogue, else its catalogue's own.
pub fn store_for(state: &AppState, config: &RunConfig) -> Option<PathBuf> {
    state
        .session
        .as_ref()
        .filter(|s| s.request.source.catalogue == config.catalogue)
        .map(|s| s.store_report.path.clone())
}

/// Shows the products waiting for a run's predictions: at once when they are the ones loaded,
/// else after loading them.
pub fn resolve_pending(state: &mut AppState, queue: &mut Queue) {
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
            queue.command(Command::LoadPredictions(file));
        } else {
            state.cockpit.pending = None;
            state.notice("the run has no predictions yet: they are written when it finishes");
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
    queue.command(CockpitCommand::ShowProducts { title, positions });
}

fn start_comparison(state: &mut AppState, queue: &mut Queue) {
    let cockpit = &state.cockpit;
    let [Some(a), Some(b)] = cockpit.compare.clone() else {
        state.notice("choose runs A and B");
        return;
    };
    let Some(session) = &state.session else {
        return;
    };
    for run in [&a, &b] {
        if !cockpit.run(run).is_some_and(|r| r.has_predictions) {
            state.error(format!(
                "{} has no predictions yet: they are written when it finishes",
                run_name(run)
            ));
            return;
        }
    }
    let catalog = session.catalog.clone();
    state.cockpit.comparing = true;
    queue.effect(Effect::Compare { a, b, catalog });
}

fn predict(state: &mut AppState, run: PathBuf, queue: &mut Queue) {
    let entry = state.cockpit.run_mut(&run);
    if entry.predicting {
        return;
    }
    entry.predicting = true;
    queue.effect(Effect::Predict(run));
}

/// Reads the kernels of the selected run and of the run beside it, where they are not read
/// yet (or being read).
fn read_kernels_of_selected(state: &mut AppState, queue: &mut Queue) {
    let cockpit = &state.cockpit;
    let wanted: Vec<PathBuf> = [cockpit.selected.clone(), cockpit.kernels_beside.clone()]
        .into_iter()
        .flatten()
        .filter(|run| cockpit.kernels_of(run).is_none() && !cockpit.reading_kernels.contains(run))
        .collect();
    for run in wanted {
        read_kernels(state, run, queue);
    }
}

fn read_kernels(state: &mut AppState, run: PathBuf, queue: &mut Queue) {
    if !state.cockpit.reading_kernels.contains(&run) {
        state.cockpit.reading_kernels.push(run.clone());
    }
    queue.effect(Effect::ReadKernels(run));
}

/// The catalogue changed: follow its runs and audits (those training here go on and stay
/// listed, an audit with its folds).
pub fn catalogue_changed(state: &mut AppState, source: &Path, queue: &mut Queue) {
    let cockpit = &mut state.cockpit;
    cockpit.audits.retain(|a| a.training_here);
    let audits: Vec<PathBuf> = cockpit.audits.iter().map(|a| a.folder.clone()).collect();
    cockpit.runs.retain(|r| {
        r.training_here
            || r.folder
                .parent()
                .is_some_and(|p| audits.iter().any(|a| a == p))
    });
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
    let runs_dir = crate::paths::runs_dir(&state.data_dir, source);
    queue.effect(Effect::FollowCatalogueRuns {
        runs_dir: runs_dir.clone(),
        keep: (cockpit.runs.iter().map(|r| r.folder.clone()))
            .chain(audits)
            .collect(),
    });
    cockpit.runs_dir = Some(runs_dir);
}
