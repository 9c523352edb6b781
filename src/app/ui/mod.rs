//! The panels, one file each: `*_ui(ui, &AppState, &mut Vec<Command>)`. They read the state
//! and describe what the user asked for; they never change the state or touch a file.

mod audit_ui;
mod changes_ui;
mod cockpit_ui;
mod compare_ui;
mod confusion_ui;
mod connect_ui;
mod curves_ui;
mod decided_ui;
mod duplicates_ui;
mod filter_ui;
mod grid_ui;
mod log_ui;
mod map_ui;
mod menu_ui;
mod new_run_ui;
mod overlays_ui;
mod product_ui;
mod similar_ui;
mod start_ui;
mod status_ui;

pub use map_ui::{MapTransform, MapViewport};

use super::cockpit::View;
use super::command::Command;
use super::keys;
use super::opening::OpenRequest;
use super::state::AppState;

/// How the recent list names a remembered open: the catalogue, and its team store if any.
fn recent_name(recent: &OpenRequest) -> String {
    let catalogue = recent.source.catalogue.display();
    match recent.store.as_deref().and_then(|p| p.to_str()) {
        Some(store) if crate::labels::team::is_team(store) => format!("{catalogue}  ({store})"),
        _ => catalogue.to_string(),
    }
}

/// Draws the whole window.
pub fn root_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    keyboard(ui, state, commands);
    dropped_files(ui, commands);
    egui::Panel::top("menu").show(ui, |ui| menu_ui::menu_ui(ui, state, commands));
    egui::Panel::bottom("status").show(ui, |ui| status_ui::status_ui(ui, state, commands));
    connect_ui::connect_ui(ui.ctx(), state, commands);
    if state.cockpit.view == View::Training {
        cockpit_ui::cockpit_ui(ui, state, commands);
        return;
    }
    let Some(session) = &state.session else {
        egui::CentralPanel::default().show(ui, |ui| start_ui::start_ui(ui, state, commands));
        return;
    };
    if state.cockpit.view == View::Audit {
        audit_ui::audit_ui(ui, state, session, commands);
        overlays_ui::overlays_ui(ui.ctx(), state, session, commands);
        return;
    }
    if state.cockpit.view == View::Duplicates {
        duplicates_ui::duplicates_ui(ui, state, session, commands);
        overlays_ui::overlays_ui(ui.ctx(), state, session, commands);
        return;
    }
    if state.cockpit.view == View::Map {
        map_ui::map_ui(ui, state, session, commands);
        overlays_ui::overlays_ui(ui.ctx(), state, session, commands);
        return;
    }
    if state.panels.changes {
        egui::Panel::bottom("changes")
            .resizable(true)
            .default_size(240.0)
            .show(ui, |ui| {
                changes_ui::changes_ui(ui, state, session, commands)
            });
    }
    if state.panels.edit_log {
        egui::Panel::bottom("edit_log")
            .resizable(true)
            .default_size(180.0)
            .show(ui, |ui| log_ui::log_ui(ui, state));
    }
    egui::Panel::left("filters")
        .resizable(true)
        .default_size(230.0)
        .show(ui, |ui| filter_ui::filter_ui(ui, state, session, commands));
    if state.product_view {
        egui::CentralPanel::default().show(ui, |ui| {
            product_ui::product_ui(ui, state, session, true, commands)
        });
    } else {
        egui::Panel::right("product")
            .resizable(true)
            .default_size(360.0)
            .show(ui, |ui| {
                product_ui::product_ui(ui, state, session, false, commands)
            });
        egui::CentralPanel::default().show(ui, |ui| grid_ui::grid_ui(ui, state, session, commands));
    }
    overlays_ui::overlays_ui(ui.ctx(), state, session, commands);
}

/// Turns key presses into commands, unless a text field or a dialog has the keyboard.
fn keyboard(ui: &egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    if state.picker.is_some()
        || state.bulk.is_some()
        || state.audit.confirm.is_some()
        || state.cockpit.view == View::Training
        || state.cockpit.view == View::Duplicates
        || ui.ctx().egui_wants_keyboard_input()
    {
        return;
    }
    let audit = state.cockpit.view == View::Audit;
    let pressed: Vec<(egui::Key, egui::Modifiers)> = ui.input(|i| {
        i.events
            .iter()
            .filter_map(|e| match e {
                egui::Event::Key {
                    key,
                    pressed: true,
                    modifiers,
                    ..
                } => Some((*key, *modifiers)),
                _ => None,
            })
            .collect()
    });
    for (key, modifiers) in pressed {
        if audit {
            if let Some(command) = keys::audit_action(key, modifiers) {
                commands.push(command.into());
            }
        } else if let Some(action) = keys::action(key, modifiers) {
            commands.push(Command::Key(action));
        }
    }
}

fn dropped_files(ui: &egui::Ui, commands: &mut Vec<Command>) {
    let dropped: Vec<_> = ui.input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect()
    });
    if let Some(path) = dropped.into_iter().next() {
        commands.push(Command::OpenCatalogue(OpenRequest::path(path)));
    }
}

/// Gives a widget drawn without a label of its own (a combo box showing only its value) its
/// accessible name, so that screen readers, and the window tests, can find it.
fn name_widget(response: &egui::Response, name: &str) {
    response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, response.enabled(), name));
}

/// The words saying which predictions are shown (`out-of-fold`, `held-out`, `in-sample
/// (biased)`: [`ProvenanceMix::words`]) after `lead`, in the warning colour when biased; `None`
/// when no prediction says.
fn provenance_text(
    ui: &egui::Ui,
    lead: &str,
    mix: &crate::app::opening::ProvenanceMix,
) -> Option<egui::RichText> {
    let (words, biased) = mix.words()?;
    let text = egui::RichText::new(format!("{lead}{words}"));
    Some(if biased {
        text.color(ui.visuals().warn_fg_color)
    } else {
        text
    })
}

/// Percent text of a probability.
fn percent(p: f32) -> String {
    format!("{:.0}%", p * 100.0)
}
