//! The status bar: catalogue, counts, edits this session, predictions, background jobs.

use crate::app::command::Command;
use crate::app::state::AppState;

/// A team store's link to its server: offline with the edits waiting, or sending them.
fn server_ui(ui: &mut egui::Ui, server: &crate::labels::ServerState) {
    let outbox = server
        .outbox
        .as_ref()
        .map_or_else(String::new, |p| format!(" in {}", p.display()));
    if server.offline {
        ui.separator();
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("offline, {}", waiting(server.waiting)),
        )
        .on_hover_text(format!(
            "the server cannot be reached; edits keep going to the outbox{outbox} and are \
             sent, in order, when it is back (one whose label someone changed meanwhile is \
             not sent, and is marked)"
        ));
    } else if server.waiting > 0
        && let Some(reason) = &server.refused
    {
        ui.separator();
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("refused by the server, {}", waiting(server.waiting)),
        )
        .on_hover_text(format!(
            "the server refused the oldest waiting edit: {reason}. The edits stay in the \
             outbox{outbox}, in order, and are sent once the server accepts them"
        ));
    } else if server.waiting > 0 {
        ui.separator();
        ui.label(format!("sending: {}", waiting(server.waiting)))
            .on_hover_text(format!("edits made offline, waiting{outbox}"));
    }
}

/// "1 edit waiting", "3 edits waiting".
fn waiting(n: usize) -> String {
    format!("{n} edit{} waiting", if n == 1 { "" } else { "s" })
}

/// Draws the status bar.
pub fn status_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if let Some(session) = &state.session {
            ui.strong(session.name())
                .on_hover_text(session.request.source.catalogue.display().to_string());
            ui.separator();
            let store = &session.store_report;
            match &store.role {
                Some(role) => ui
                    .label(format!("team store {} as {role}", store.path.display()))
                    .on_hover_text(
                        "edits go to this PostgreSQL store, journalled under the database                          role; others' edits appear here as they make them",
                    ),
                None => ui
                    .label(format!(
                        "store {}",
                        store
                            .path
                            .file_name()
                            .map_or_else(|| store.path.display().to_string(), |n| n
                                .to_string_lossy()
                                .into_owned())
                    ))
                    .on_hover_text(format!("edits go to {}", store.path.display())),
            };
            if let Some(server) = &session.server {
                server_ui(ui, server);
            }
            ui.separator();
            ui.label(format!("{} products", session.catalog.len()));
            ui.separator();
            ui.label(format!("{} matches", state.matches.len()));
            ui.separator();
            ui.label(format!("{} edits this session", state.session_edits));
            ui.separator();
            match &session.predictions {
                Some(p) => {
                    ui.label(format!("predictions: {}", p.predictions.header.run))
                        .on_hover_text(&session.predictions_note);
                    match super::provenance_text(ui, "", &p.provenance) {
                        Some(text) => ui.label(text).on_hover_text(
                            "where the predictions come from: out-of-fold and held-out ones \
                             were made without the product's label; in-sample ones by a model \
                             that trained on it (a ranking by disagreement favours the labels \
                             it fit, wrong ones included)",
                        ),
                        None => ui.weak("provenance unknown"),
                    }
                }
                None => ui
                    .label("no predictions: labelling only")
                    .on_hover_text(&session.predictions_note),
            };
        }
        jobs_ui(ui, state);
        if let Some(message) = &state.message {
            ui.separator();
            let text = egui::RichText::new(&message.text);
            let text = if message.error {
                text.color(ui.visuals().error_fg_color)
            } else {
                text
            };
            ui.label(text);
            if ui.small_button("x").on_hover_text("dismiss").clicked() {
                commands.push(Command::DismissMessage);
            }
        }
    });
}

fn jobs_ui(ui: &mut egui::Ui, state: &AppState) {
    let job = |ui: &mut egui::Ui, text: String, progress: Option<f32>| {
        ui.separator();
        match progress {
            Some(p) => {
                // The text beside the bar, not in it: a stage's title is longer than the bar.
                ui.label(text);
                ui.add(
                    egui::ProgressBar::new(p)
                        .desired_width(120.0)
                        .show_percentage(),
                );
            }
            None => {
                ui.spinner();
                ui.label(text);
            }
        }
    };
    if let Some(opening) = &state.opening {
        let text = match opening.stage {
            Some(stage) => format!("opening, {}", stage.title()),
            None => format!("opening {}", opening.what),
        };
        job(ui, text, opening.progress);
    }
    if state.filtering {
        job(ui, "filtering".into(), None);
    }
    if !state.store_waiting.is_empty() {
        job(ui, "saving".into(), None);
    }
    if let Some(path) = &state.exporting {
        job(ui, format!("exporting {}", path.display()), None);
    }
    if let Some(folder) = &state.audit.loading {
        let name = crate::app::cockpit::run_name(folder);
        job(ui, format!("opening the audit {name}"), None);
    }
    if state.loading_predictions {
        job(ui, "loading predictions".into(), None);
    }
    for audit in state.cockpit.audits.iter().filter(|a| a.training_here) {
        let progress = state.cockpit.audit_progress(audit);
        let text = progress
            .as_ref()
            .map_or("starting".to_string(), |p| p.text.clone());
        job(
            ui,
            format!("auditing {}: {text}", audit.name()),
            progress.map(|p| p.fraction),
        );
    }
    for run in state.cockpit.runs.iter().filter(|r| r.training_here) {
        let h = &run.history;
        let fraction =
            (h.epochs_planned > 0).then(|| (h.progress() / h.epochs_planned as f64) as f32);
        job(ui, format!("training {}", run.name()), fraction);
    }
    if state.images_pending > 0 {
        job(
            ui,
            format!("decoding {} images", state.images_pending),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::ServerState;
    use egui_kittest::kittest::Queryable;

    fn shown(server: ServerState) -> egui_kittest::Harness<'static, ServerState> {
        let mut harness = egui_kittest::Harness::new_ui_state(
            |ui, server: &mut ServerState| {
                ui.horizontal(|ui| server_ui(ui, server));
            },
            server,
        );
        harness.run();
        harness
    }

    #[test]
    fn the_server_line_says_offline_refused_or_sending() {
        let server = ServerState {
            offline: true,
            waiting: 1,
            outbox: None,
            refused: None,
        };
        shown(server.clone()).get_by_label("offline, 1 edit waiting");
        let refused = ServerState {
            offline: false,
            waiting: 2,
            refused: Some("role 'rex' may not edit labels".into()),
            ..server.clone()
        };
        shown(refused).get_by_label("refused by the server, 2 edits waiting");
        let sending = ServerState {
            offline: false,
            waiting: 3,
            ..server
        };
        shown(sending).get_by_label("sending: 3 edits waiting");
    }
}
