//! What the window shows before a catalogue is open: progress, or the ways to open one.

use crate::app::command::Command;
use crate::app::state::AppState;

/// Draws the start view.
pub fn start_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    ui.vertical_centered(|ui| {
        ui.add_space(ui.available_height() / 4.0);
        if let Some(opening) = &state.opening {
            ui.heading(format!("Opening {}", opening.what));
            if let Some(stage) = opening.stage {
                ui.label(stage.title());
            }
            match opening.progress {
                Some(p) => {
                    ui.add(egui::ProgressBar::new(p).show_percentage().desired_width(320.0));
                }
                None => {
                    ui.spinner();
                }
            }
            if ui.button("Cancel").clicked() {
                commands.push(Command::CancelOpen);
            }
            return;
        }
        ui.heading("vitrine — moderator workspace");
        ui.label("Open a catalogue: a folder (styles.csv, manifest.csv/.jsonl) or a file, or drop one here.");
        ui.horizontal(|ui| super::menu_ui::open_buttons_ui(ui, commands));
        if !state.recent.is_empty() {
            ui.add_space(12.0);
            ui.label("Recent:");
            for recent in &state.recent {
                if ui.link(super::recent_name(recent)).clicked() {
                    commands.push(Command::OpenCatalogue(recent.clone()));
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::opening::OpenStage;
    use crate::app::state::Opening;
    use egui_kittest::kittest::Queryable;

    #[test]
    fn the_progress_view_names_the_stage_of_the_open() {
        let mut state = AppState::new("ann".into(), std::path::PathBuf::new());
        state.opening = Some(Opening {
            what: "big.csv".into(),
            progress: Some(0.25),
            stage: Some(OpenStage::OpenStore),
        });
        let mut harness = egui_kittest::Harness::new_ui_state(
            |ui, state: &mut AppState| start_ui(ui, state, &mut Vec::new()),
            state,
        );
        harness.run();
        harness.get_by_label("Opening big.csv");
        harness.get_by_label("stage 2 of 4: opening the label store");
        harness.get_by_label("Cancel");
    }
}
