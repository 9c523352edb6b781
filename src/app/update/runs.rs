//! The training runs' events: records read from their logs, preparation, failures, their
//! threads ending, and the answers of the cockpit's jobs (comparison, kernels, predictions,
//! files written).

use super::audit_runs;
use super::cockpit::refresh_curves;
use crate::app::cockpit::View;
use crate::app::cockpit::{KernelsView, run_name};
use crate::app::command::Command;
use crate::app::effect::{Effect, Queue};
use crate::app::event::RunEvent;
use crate::app::state::AppState;
use crate::runs::MetricsRecord;
use crate::runs::history::RunStatus;

/// Applies a run or cockpit job event; `ctx` creates the kernels' texture.
pub fn apply(state: &mut AppState, ctx: &egui::Context, event: RunEvent, queue: &mut Queue) {
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
            state.error(format!("{name} failed: {message}"));
        }
        RunEvent::RunGone { run, deleted } => {
            cockpit.forget(&run);
            if deleted {
                state.notice(format!("{} was deleted", run_name(&run)));
            }
        }
        RunEvent::RunThreadEnded { run } => {
            queue.effect(Effect::RunEnded(run.clone()));
            let entry = cockpit.run_mut(&run);
            entry.training_here = false;
            entry.preparing = None;
        }
        RunEvent::AuditFound {
            audit,
            settings,
            finished,
        } => audit_runs::found(state, audit, *settings, finished),
        RunEvent::RunsScanned { runs_dir } => audit_runs::scanned(state, &runs_dir, queue),
        RunEvent::AuditReported { audit, event } => {
            audit_runs::reported(state, audit, event, queue)
        }
        RunEvent::AuditThreadEnded { audit } => audit_runs::thread_ended(state, audit, queue),
        RunEvent::DevicesFound(gpus) => cockpit.gpus = gpus,
        RunEvent::Compared(view) => {
            cockpit.comparing = false;
            if let Err(why) = &view.result {
                let why = why.clone();
                cockpit.comparison = Some(*view);
                state.error(format!("cannot compare: {why}"));
            } else {
                cockpit.comparison = Some(*view);
            }
        }
        RunEvent::KernelsRead { run, result } => {
            cockpit.reading_kernels.retain(|r| *r != run);
            let result = result.map(|(tiles, image)| {
                let name = format!("first-layer-kernels {}", run.display());
                let texture = ctx.load_texture(name, image, egui::TextureOptions::NEAREST);
                (tiles, texture)
            });
            // Kept: the kernels of the selected run and of the run beside it (a reload
            // replaces them).
            let (selected, beside) = (cockpit.selected.clone(), cockpit.kernels_beside.clone());
            cockpit.kernels.retain(|k| {
                k.run != run
                    && (Some(&k.run) == selected.as_ref() || Some(&k.run) == beside.as_ref())
            });
            cockpit.kernels.push(KernelsView { run, result });
        }
        RunEvent::Predicted { run, result } => {
            let entry = cockpit.run_mut(&run);
            entry.predicting = false;
            match result {
                Ok(file) => {
                    entry.has_predictions = true;
                    queue.command(Command::LoadPredictions(file));
                    state.cockpit.view = View::Workspace;
                }
                Err(why) => state.error(format!("cannot predict with {}: {why}", run_name(&run))),
            }
        }
        RunEvent::FileWritten(path) => state.notice(format!("wrote {}", path.display())),
        RunEvent::WriteFailed(why) => state.error(why),
    }
}
