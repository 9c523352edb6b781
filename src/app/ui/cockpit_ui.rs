//! The training cockpit: the runs panel (every audit and run of the catalogue and any run
//! folder opened from disk, with stop, resume and "use its predictions"; an audit with one
//! progress bar over its folds, each fold listed as a run), and the tabs: curves, confusion
//! matrix, comparison, first-layer kernels.

use super::{compare_ui, confusion_ui, curves_ui, new_run_ui};
use crate::app::cockpit::{
    AuditEntry, AuditStatus, Cockpit, CockpitTab, KernelsView, RunEntry, View,
};
use crate::app::command::DialogPurpose;
use crate::app::command::{CockpitCommand, Command};
use crate::app::state::AppState;
use crate::runs::history::RunStatus;
use crate::runs::predictions::FILE_NAME;

/// Draws the cockpit (the menu and status bars are drawn around it).
pub fn cockpit_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    let cockpit = &state.cockpit;
    egui::Panel::left("runs")
        .resizable(true)
        .default_size(320.0)
        .show(ui, |ui| runs_ui(ui, state, commands));
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            let tabs = [
                ("Curves", CockpitTab::Curves),
                ("Confusion", CockpitTab::Confusion),
                ("Compare", CockpitTab::Compare),
                ("Kernels", CockpitTab::Kernels),
            ];
            for (label, tab) in tabs {
                if ui.selectable_label(cockpit.tab == tab, label).clicked() && cockpit.tab != tab {
                    commands.push(Command::Cockpit(CockpitCommand::SetCockpitTab(tab)));
                }
            }
        });
        ui.separator();
        match cockpit.tab {
            CockpitTab::Curves => curves_ui::curves_ui(ui, cockpit, commands),
            CockpitTab::Confusion => confusion_ui::confusion_ui(ui, cockpit, commands),
            CockpitTab::Compare => compare_ui::compare_ui(ui, cockpit, commands),
            CockpitTab::Kernels => kernels_ui(ui, cockpit, commands),
        }
    });
    if let Some(form) = &cockpit.new_run {
        new_run_ui::new_run_ui(ui.ctx(), form, commands);
    }
}

fn runs_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    let cockpit = &state.cockpit;
    ui.horizontal(|ui| {
        ui.heading("Runs");
        if ui
            .add_enabled(state.session.is_some(), egui::Button::new("New run…"))
            .on_disabled_hover_text("open a catalogue first")
            .clicked()
        {
            commands.push(Command::Cockpit(CockpitCommand::ShowNewRun));
        }
        if ui
            .add_enabled(state.session.is_some(), egui::Button::new("New audit…"))
            .on_hover_text(
                "train one model per fold, each predicting the products it did not train on: \
                 out-of-fold predictions for every product, to find wrong labels",
            )
            .on_disabled_hover_text("open a catalogue first")
            .clicked()
        {
            commands.push(Command::Cockpit(CockpitCommand::ShowNewAudit));
        }
        if ui
            .button("Open run folder…")
            .on_hover_text("follow a run another process writes, e.g. a CLI run on a GPU server")
            .clicked()
        {
            commands.push(Command::ShowDialog(DialogPurpose::OpenRun));
        }
    });
    if let Some(session) = &state.session {
        ui.horizontal(|ui| {
            match &session.predictions {
                Some(p) => {
                    ui.weak(format!(
                        "Predictions in the workspace: {}",
                        p.predictions.header.run
                    ));
                    if let Some(text) = super::provenance_text(ui, "", &p.provenance) {
                        ui.label(text);
                    }
                }
                None => {
                    ui.weak("Predictions in the workspace: none");
                }
            };
        });
    }
    if let Some(dir) = &cockpit.runs_dir {
        ui.weak(format!("Runs folder: {}", dir.display()));
    }
    ui.separator();
    if cockpit.runs.is_empty() && cockpit.audits.is_empty() {
        ui.label("No runs yet for this catalogue.");
    }
    egui::ScrollArea::vertical().show(ui, |ui| {
        for audit in cockpit.audits.iter().rev() {
            audit_card(ui, state, audit, commands);
        }
        for run in cockpit.runs.iter().rev() {
            run_card(ui, state, run, commands);
        }
    });
}

fn status_colour(ui: &egui::Ui, status: &RunStatus) -> egui::Color32 {
    match status {
        RunStatus::Running | RunStatus::Preparing(_) => egui::Color32::from_rgb(70, 140, 220),
        RunStatus::Finished => egui::Color32::from_rgb(60, 160, 80),
        RunStatus::Stopped => ui.visuals().warn_fg_color,
        RunStatus::Failed(_) => ui.visuals().error_fg_color,
        RunStatus::Waiting => ui.visuals().weak_text_color(),
    }
}

fn audit_colour(ui: &egui::Ui, status: &AuditStatus) -> egui::Color32 {
    match status {
        AuditStatus::Starting | AuditStatus::Training { .. } | AuditStatus::Merging => {
            egui::Color32::from_rgb(70, 140, 220)
        }
        AuditStatus::Finished => egui::Color32::from_rgb(60, 160, 80),
        AuditStatus::Stopped { .. } | AuditStatus::Unfinished => ui.visuals().warn_fg_color,
        AuditStatus::Failed { .. } => ui.visuals().error_fg_color,
    }
}

fn audit_card(
    ui: &mut egui::Ui,
    state: &AppState,
    audit: &AuditEntry,
    commands: &mut Vec<Command>,
) {
    let cockpit = &state.cockpit;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.strong(format!("audit {}", audit.name()));
            ui.colored_label(audit_colour(ui, &audit.status), audit.status.word());
        });
        if let Some(config) = &audit.config {
            let folds = audit
                .folds
                .map_or(String::new(), |k| format!("{k} folds of "));
            ui.weak(format!(
                "{folds}{}",
                crate::app::cockpit::config_kind(config)
            ));
        }
        if let Some(progress) = cockpit.audit_progress(audit) {
            // One bar over all folds, saying which fold.
            let percent = (progress.fraction * 100.0).floor();
            ui.add(
                egui::ProgressBar::new(progress.fraction)
                    .text(format!("{} · {percent:.0}%", progress.text)),
            );
        }
        if let AuditStatus::Failed { message, .. } = &audit.status {
            ui.colored_label(ui.visuals().error_fg_color, message);
        }
        if let Some(why) = &audit.error {
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
        ui.horizontal(|ui| {
            if audit.training_here
                && audit.status.working()
                && ui
                    .button("Stop audit")
                    .on_hover_text("stop after the fold's iteration; Resume goes on from there")
                    .clicked()
            {
                commands.push(Command::Cockpit(CockpitCommand::StopAudit(
                    audit.folder.clone(),
                )));
            }
            if audit.resumable(cockpit)
                && ui
                    .button("Resume audit")
                    .on_hover_text("finished folds are kept, the unfinished one goes on")
                    .clicked()
            {
                commands.push(Command::Cockpit(CockpitCommand::ResumeAudit(
                    audit.folder.clone(),
                )));
            }
            if audit.status == AuditStatus::Finished {
                let file = crate::runs::audit::AuditFolder::at(&audit.folder).predictions_path();
                let loaded = state
                    .session
                    .as_ref()
                    .and_then(|s| s.predictions.as_ref())
                    .and_then(|p| p.predictions.path.as_deref())
                    == Some(file.as_path());
                if ui
                    .add_enabled(!loaded, egui::Button::new("Open audit"))
                    .on_hover_text("show its out-of-fold predictions in the workspace")
                    .on_disabled_hover_text("its predictions are shown in the workspace")
                    .clicked()
                {
                    commands.push(Command::OpenAudit(audit.folder.clone()));
                }
            }
        });
    });
}

fn run_card(ui: &mut egui::Ui, state: &AppState, run: &RunEntry, commands: &mut Vec<Command>) {
    let cockpit: &Cockpit = &state.cockpit;
    let selected = cockpit.selected.as_ref() == Some(&run.folder);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            if ui.selectable_label(selected, run.name()).clicked() && !selected {
                commands.push(Command::Cockpit(CockpitCommand::SelectRun(
                    run.folder.clone(),
                )));
            }
            ui.colored_label(
                status_colour(ui, &run.history.status),
                run.history.status.word(),
            );
        });
        ui.weak(run.kind());
        ui.label(curves_ui::run_facts(run));
        if run.history.epochs_planned > 0 {
            let fraction = run.history.progress() / run.history.epochs_planned as f64;
            ui.add(egui::ProgressBar::new(fraction as f32).desired_height(6.0));
        }
        if let RunStatus::Failed(why) = &run.history.status {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
        // A run launched here writes its configuration a moment after it is listed.
        let config_error = match &run.config {
            Some(Err(why)) if !run.training_here => Some(why),
            _ => None,
        };
        if let Some(why) = run.log_error.as_ref().or(config_error) {
            ui.colored_label(ui.visuals().warn_fg_color, why);
        }
        if run.history.bad_lines > 0 {
            ui.weak(format!(
                "{} unreadable log lines skipped",
                run.history.bad_lines
            ));
        }
        ui.horizontal(|ui| {
            let running = run.training_here && !run.history.status.ended();
            if running && ui.button("Stop").clicked() {
                commands.push(Command::Cockpit(CockpitCommand::StopRun(
                    run.folder.clone(),
                )));
            }
            if run.resumable()
                && ui
                    .button("Resume")
                    .on_hover_text("continue from the latest checkpoint")
                    .clicked()
            {
                commands.push(Command::Cockpit(CockpitCommand::ResumeRun(
                    run.folder.clone(),
                )));
            }
            let loaded = state
                .session
                .as_ref()
                .and_then(|s| s.predictions.as_ref())
                .and_then(|p| p.predictions.path.as_deref())
                == Some(run.folder.join(FILE_NAME).as_path());
            if run.has_predictions
                && ui
                    .add_enabled(!loaded, egui::Button::new("Use predictions"))
                    .on_hover_text("show this run's predictions in the moderator workspace")
                    .on_disabled_hover_text("shown in the workspace")
                    .clicked()
            {
                commands.push(Command::LoadPredictions(run.folder.join(FILE_NAME)));
                commands.push(Command::Cockpit(CockpitCommand::SetView(View::Workspace)));
            }
            let checkpoint = run.history.checkpoint.is_some();
            if !run.has_predictions && checkpoint {
                let predict = ui
                    .add_enabled(!run.predicting, egui::Button::new("Predict"))
                    .on_hover_text(
                        "write predictions from the latest checkpoint and show them in the workspace",
                    );
                if predict.clicked() {
                    commands.push(Command::Cockpit(CockpitCommand::PredictRun(run.folder.clone())));
                }
                if run.predicting {
                    ui.spinner();
                }
            }
            if !selected {
                let mut overlay = run.overlay;
                if ui
                    .checkbox(&mut overlay, "overlay")
                    .on_hover_text("draw its curves with the selected run's")
                    .changed()
                {
                    commands.push(Command::Cockpit(CockpitCommand::ToggleOverlay(
                        run.folder.clone(),
                    )));
                }
            }
            // A fold is listed as long as its audit is.
            if !run.training_here
                && run.audit.is_none()
                && ui
                    .small_button("Forget")
                    .on_hover_text(
                        "stop following this run and take it off the list; the folder stays on \
                         disk (a run in this catalogue's runs folder is listed again when the \
                         catalogue is reopened)",
                    )
                    .clicked()
            {
                commands.push(Command::Cockpit(CockpitCommand::ForgetRun(
                    run.folder.clone(),
                )));
            }
        });
    });
}

fn kernels_ui(ui: &mut egui::Ui, cockpit: &Cockpit, commands: &mut Vec<Command>) {
    let Some(run) = cockpit.selected_run() else {
        ui.label("Select a run.");
        return;
    };
    ui.horizontal(|ui| {
        ui.label("first convolution layer, each kernel stretched to the full colour range");
        if ui.button("Reload").clicked() {
            commands.push(Command::Cockpit(CockpitCommand::ReadKernels(
                run.folder.clone(),
            )));
            if let Some(beside) = &cockpit.kernels_beside {
                commands.push(Command::Cockpit(CockpitCommand::ReadKernels(
                    beside.clone(),
                )));
            }
        }
        if !cockpit.reading_kernels.is_empty() {
            ui.spinner();
        }
        ui.separator();
        ui.label("beside");
        let beside = cockpit.kernels_beside.as_deref();
        let name = |folder: &std::path::Path| {
            cockpit
                .run(folder)
                .map_or_else(|| folder.display().to_string(), run_with_tasks)
        };
        let response = egui::ComboBox::from_id_salt("kernels_beside")
            .selected_text(beside.map_or_else(|| "nothing".to_string(), name))
            .width(260.0)
            .show_ui(ui, |ui| {
                if ui.selectable_label(beside.is_none(), "nothing").clicked() {
                    commands.push(Command::Cockpit(CockpitCommand::SetKernelsBeside(None)));
                }
                for other in cockpit.runs.iter().filter(|r| r.folder != run.folder) {
                    let chosen = beside == Some(other.folder.as_path());
                    if ui.selectable_label(chosen, run_with_tasks(other)).clicked() && !chosen {
                        commands.push(Command::Cockpit(CockpitCommand::SetKernelsBeside(Some(
                            other.folder.clone(),
                        ))));
                    }
                }
            })
            .response;
        super::name_widget(&response, "kernels beside");
    });
    let shown: Vec<&std::path::Path> = std::iter::once(run.folder.as_path())
        .chain(cockpit.kernels_beside.as_deref())
        .collect();
    let width = (ui.available_width() - 12.0 * (shown.len() - 1) as f32) / shown.len() as f32;
    ui.horizontal_top(|ui| {
        for folder in shown {
            ui.allocate_ui(egui::vec2(width, ui.available_height()), |ui| {
                ui.vertical(|ui| {
                    ui.strong(
                        cockpit
                            .run(folder)
                            .map_or_else(|| folder.display().to_string(), run_with_tasks),
                    );
                    kernels_of_ui(ui, cockpit.kernels_of(folder), width);
                });
            });
        }
    });
}

/// A run's name with the tasks it learns ("myntra-colour (colour only)").
fn run_with_tasks(run: &RunEntry) -> String {
    match &run.config {
        Some(Ok(config)) if config.tasks.len() == 1 => {
            format!("{} ({} only)", run.name(), config.tasks[0])
        }
        Some(Ok(config)) => format!("{} ({} tasks)", run.name(), config.tasks.len()),
        _ => run.name(),
    }
}

/// One run's kernel tiles, scaled to `width`.
fn kernels_of_ui(ui: &mut egui::Ui, view: Option<&KernelsView>, width: f32) {
    let Some(view) = view else {
        return;
    };
    match &view.result {
        Ok((tiles, texture)) => {
            ui.weak(format!(
                "{} kernels of {}x{} px, checkpoint of epoch {}",
                tiles.count,
                tiles.size,
                tiles.size,
                tiles.epoch + 1
            ));
            let size = texture.size_vec2();
            let scale = (width / size.x)
                .min(ui.available_height() / size.y)
                .max(1.0);
            ui.image(egui::load::SizedTexture::new(texture.id(), size * scale));
        }
        Err(why) => {
            ui.colored_label(ui.visuals().error_fg_color, why);
        }
    }
}
