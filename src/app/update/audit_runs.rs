//! Audits in the cockpit: launching one from the "New audit" dialog, stopping and resuming
//! it, what its engine and the runs follower report, and the demo's own audit, started (or
//! resumed) in the background when the demo is opened without a finished one.
//!
//! An audit's folds are ordinary runs: their records come from their logs, as any run's
//! (see [`super::runs`]); here only the audit's own events are applied.

use super::cockpit::store_for;
use crate::app::cockpit::{AuditStatus, CockpitTab, DEMO_AUDIT, View, run_name};
use crate::app::command::Command;
use crate::app::effect::{Effect, Queue};
use crate::app::state::AppState;
use crate::ml::audit::{AuditEvent, AuditRequest, DEMO_FOLDS};
use crate::runs::RunConfig;
use crate::runs::audit::AuditSettings;
use std::path::{Path, PathBuf};

/// Launches a new audit of `folds` folds of `config` into `dir` (the window's label store
/// gives the labels), and lists it as training here.
pub fn launch(
    state: &mut AppState,
    dir: PathBuf,
    config: RunConfig,
    folds: u32,
    queue: &mut Queue,
) {
    let store = store_for(state, &config);
    queue.effect(Effect::LaunchAudit(Box::new(AuditRequest {
        dir: dir.clone(),
        config: config.clone(),
        folds,
        resume: false,
        store,
    })));
    // A launch that fails to start is reported as the audit's failure, then its thread's end.
    let entry = state.cockpit.audit_mut(&dir);
    entry.folds = Some(folds);
    entry.config = Some(config);
    entry.status = AuditStatus::Starting;
    entry.training_here = true;
    entry.error = None;
}

/// Launches the audit the dialog describes and shows the cockpit's curves.
pub fn start_from_dialog(
    state: &mut AppState,
    dir: PathBuf,
    config: RunConfig,
    folds: u32,
    queue: &mut Queue,
) {
    launch(state, dir, config, folds, queue);
    let cockpit = &mut state.cockpit;
    cockpit.new_run = None;
    cockpit.view = View::Training;
    cockpit.tab = CockpitTab::Curves;
}

/// Asks an audit training here to stop.
pub fn stop(state: &mut AppState, audit: PathBuf, queue: &mut Queue) {
    if state.cockpit.audit(&audit).is_some_and(|a| a.training_here) {
        state.notice(format!(
            "stopping {} after this iteration (resumable)",
            run_name(&audit)
        ));
        queue.effect(Effect::StopAudit(audit));
    }
}

/// Resumes a stopped, failed or interrupted audit here: its finished folds are kept.
pub fn resume(state: &mut AppState, audit: PathBuf, queue: &mut Queue) {
    let Some(entry) = state.cockpit.audit(&audit) else {
        return;
    };
    if entry.training_here {
        state.error(format!("{} is already training", entry.name()));
        return;
    }
    let (Some(config), Some(folds)) = (entry.config.clone(), entry.folds) else {
        let why = entry
            .error
            .clone()
            .unwrap_or_else(|| "no settings read".into());
        state.error(format!("cannot resume {}: {why}", entry.name()));
        return;
    };
    let store = store_for(state, &config);
    queue.effect(Effect::LaunchAudit(Box::new(AuditRequest {
        dir: audit.clone(),
        config,
        folds,
        resume: true,
        store,
    })));
    let entry = state.cockpit.audit_mut(&audit);
    entry.training_here = true;
    entry.status = AuditStatus::Starting;
    state.notice(format!("resuming {}", run_name(&audit)));
}

/// The runs follower read an audit folder's settings (or failed to), or saw it finish.
pub fn found(
    state: &mut AppState,
    audit: PathBuf,
    settings: Result<AuditSettings, String>,
    finished: bool,
) {
    let entry = state.cockpit.audit_mut(&audit);
    match settings {
        Ok(settings) => {
            entry.folds = Some(settings.folds);
            entry.config = Some(settings.config);
            entry.error = None;
        }
        Err(why) => entry.error = Some(why),
    }
    if finished {
        entry.status = AuditStatus::Finished;
    } else if !entry.training_here
        && !matches!(
            entry.status,
            AuditStatus::Stopped { .. } | AuditStatus::Failed { .. }
        )
    {
        entry.status = AuditStatus::Unfinished;
    }
}

/// Applies an event of an audit training here.
pub fn reported(state: &mut AppState, audit: PathBuf, event: AuditEvent, queue: &mut Queue) {
    let name = run_name(&audit);
    match event {
        AuditEvent::Assigned { sizes, thin } => {
            let sizes: Vec<String> = sizes.iter().map(usize::to_string).collect();
            let mut text = format!(
                "{name}: {} folds of {} products",
                sizes.len(),
                sizes.join(", ")
            );
            if !thin.is_empty() {
                text.push_str(&format!(
                    " ({} classes have fewer products than folds: some folds' models train \
                     without them)",
                    thin.len()
                ));
            }
            state.notice(text);
        }
        AuditEvent::FoldStarted { fold, of, .. } => {
            let cockpit = &mut state.cockpit;
            let entry = cockpit.audit_mut(&audit);
            entry.folds = Some(of);
            entry.status = AuditStatus::Training { fold };
            let run = entry.fold_folder(fold);
            // The one watching the audit (nothing selected, or its previous fold) watches the
            // new fold's curves.
            let watching = cockpit
                .selected
                .as_ref()
                .is_none_or(|s| s.parent() == Some(audit.as_path()));
            let run_entry = cockpit.run_mut(&run);
            if run_entry.history.iterations.is_empty() {
                run_entry.preparing = Some("starting".into());
            }
            if watching {
                cockpit.selected = Some(run);
                cockpit.epoch = None;
            }
        }
        AuditEvent::FoldKept { .. } | AuditEvent::Fold { .. } => {}
        AuditEvent::Merging => state.cockpit.audit_mut(&audit).status = AuditStatus::Merging,
        AuditEvent::Finished(summary) => {
            state.cockpit.audit_mut(&audit).status = AuditStatus::Finished;
            let accuracy: Vec<String> = summary
                .tasks
                .iter()
                .filter_map(|t| Some(format!("{} {:.2}", t.task, t.accuracy?)))
                .collect();
            state.notice(format!(
                "{name} finished: out-of-fold accuracy {}",
                accuracy.join(", ")
            ));
            queue.command(Command::OpenAudit(audit));
        }
        AuditEvent::Stopped { fold } => {
            state.cockpit.audit_mut(&audit).status = AuditStatus::Stopped { fold };
            state.notice(format!(
                "{name} stopped during fold {fold}: Resume goes on from its checkpoint"
            ));
        }
        AuditEvent::Failed { fold, message } => {
            let where_ = fold.map(|f| format!(" in fold {f}")).unwrap_or_default();
            state.error(format!(
                "{name} failed{where_}: {message} (fix the cause and Resume: finished folds \
                 are kept)"
            ));
            state.cockpit.audit_mut(&audit).status = AuditStatus::Failed { fold, message };
        }
    }
}

/// The engine's thread of an audit launched here ended.
pub fn thread_ended(state: &mut AppState, audit: PathBuf, queue: &mut Queue) {
    queue.effect(Effect::AuditEnded(audit.clone()));
    let entry = state.cockpit.audit_mut(&audit);
    entry.training_here = false;
    if matches!(
        entry.status,
        AuditStatus::Starting | AuditStatus::Training { .. } | AuditStatus::Merging
    ) {
        entry.status = AuditStatus::Failed {
            fold: None,
            message: "the audit's thread ended without a result".into(),
        };
    }
}

/// The demo audit's folds score their held-out half every this many epochs (and after the
/// last): scoring it after each of the 32 epochs took a fifth of the first start (190 s in
/// all under Xvfb, 2026-12-06, over the 3 minutes it is meant to take).
pub(super) const DEMO_VALIDATE_EVERY: usize = 4;

/// Whether the open catalogue is the demo of this window's data folder.
fn demo_is_open(state: &AppState) -> bool {
    state
        .session
        .as_ref()
        .is_some_and(|s| s.request.source.catalogue == crate::paths::demo_dir(&state.data_dir))
}

/// A catalogue was opened: when it is the demo, its audit is decided once its runs folder is
/// scanned.
pub fn catalogue_opened(state: &mut AppState) {
    state.cockpit.demo_audit_scan = demo_is_open(state)
        .then(|| state.cockpit.runs_dir.clone())
        .flatten();
}

/// The runs follower reported every run and audit of `runs_dir`. For the demo just opened:
/// a finished audit's predictions are shown; else its audit is resumed, or started, in the
/// background (the default recipe on the CPU, the fewest folds), and shown when it finishes.
pub fn scanned(state: &mut AppState, runs_dir: &Path, queue: &mut Queue) {
    if state.cockpit.demo_audit_scan.as_deref() != Some(runs_dir) || !demo_is_open(state) {
        return;
    }
    state.cockpit.demo_audit_scan = None;
    let mine = |folder: &Path| folder.parent() == Some(runs_dir);
    let cockpit = &state.cockpit;
    if let Some(finished) = cockpit
        .audits
        .iter()
        .filter(|a| mine(&a.folder) && a.status == AuditStatus::Finished)
        .map(|a| a.folder.clone())
        .max()
    {
        // The catalogue's last audit may be reopening already.
        if state.audit.loading.is_none() && state.audit.queue.is_none() {
            queue.command(Command::OpenAudit(finished));
        }
        return;
    }
    let dir = runs_dir.join(DEMO_AUDIT);
    if let Some(entry) = cockpit.audit(&dir) {
        if !entry.training_here {
            resume(state, dir, queue);
        }
        return;
    }
    let Some(session) = &state.session else {
        return;
    };
    let mut config = RunConfig {
        validate_every: DEMO_VALIDATE_EVERY,
        ..RunConfig::default()
    };
    config.set_source(session.request.source.clone());
    launch(state, dir, config, DEMO_FOLDS, queue);
    state.notice(format!(
        "computing the demo's out-of-fold predictions in the background ({DEMO_FOLDS} \
         folds on the CPU); labelling works meanwhile"
    ));
}
