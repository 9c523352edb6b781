//! The edit log: durable journal entries, newest first, virtualised.

use crate::app::state::AppState;

/// Draws the edit log.
pub fn log_ui(ui: &mut egui::Ui, state: &AppState) {
    ui.horizontal(|ui| {
        ui.strong("Edit log");
        ui.weak(format!(
            "{} entries shown (the latest at open, then every change acknowledged by the store)",
            state.edit_log.len()
        ));
    });
    let row = ui.text_style_height(&egui::TextStyle::Body);
    egui::ScrollArea::vertical()
        .id_salt("edit_log")
        .auto_shrink(false)
        .show_rows(ui, row, state.edit_log.len(), |ui, range| {
            let newest_first = state.edit_log.iter().rev();
            for edit in newest_first.skip(range.start).take(range.len()) {
                ui.label(edit.to_string());
            }
        });
}
