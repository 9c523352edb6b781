//! The menu bar: File, Edit, View.

use crate::app::cockpit::View;
use crate::app::command::DialogPurpose;
use crate::app::command::{CockpitCommand, Command, Panel};
use crate::app::keys::KeyAction;
use crate::app::state::AppState;

/// Draws the menu bar.
pub fn menu_ui(ui: &mut egui::Ui, state: &AppState, commands: &mut Vec<Command>) {
    let open = state.session.is_some();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            open_buttons_ui(ui, commands);
            ui.menu_button("Open recent", |ui| {
                if state.recent.is_empty() {
                    ui.label("(none yet)");
                }
                for recent in &state.recent {
                    if ui.button(super::recent_name(recent)).clicked() {
                        commands.push(Command::OpenCatalogue(recent.clone()));
                    }
                }
            });
            if ui
                .add_enabled(open, egui::Button::new("Connect to team store…"))
                .on_hover_text("share the labels with a team: a PostgreSQL store")
                .clicked()
            {
                commands.push(Command::Connect(crate::app::command::ConnectCommand::Show));
            }
            ui.separator();
            if ui
                .add_enabled(open, egui::Button::new("Load predictions…"))
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogPurpose::LoadPredictions));
            }
            if ui
                .add_enabled(open, egui::Button::new("Open audit…"))
                .on_hover_text("an audit folder (vitrine audit --out): its review queue")
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogPurpose::OpenAudit));
            }
            if ui
                .add_enabled(open, egui::Button::new("Export corrected catalogue…"))
                .clicked()
            {
                commands.push(Command::ShowDialog(DialogPurpose::Export));
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            let items = [
                ("Undo  (Ctrl+Z)", KeyAction::Undo),
                ("Redo  (Ctrl+Shift+Z)", KeyAction::Redo),
                ("Select all matches  (Ctrl+A)", KeyAction::SelectAll),
                ("Relabel the selection…  (E)", KeyAction::OpenPicker),
            ];
            for (label, action) in items {
                if ui.add_enabled(open, egui::Button::new(label)).clicked() {
                    commands.push(Command::Key(action));
                }
            }
        });
        ui.menu_button("View", |ui| {
            let toggles = [
                ("Edit log", state.panels.edit_log, Panel::EditLog),
                ("Warnings", state.panels.warnings, Panel::Warnings),
                ("Keys (?)", state.panels.help, Panel::Help),
                ("Changes to review", state.panels.changes, Panel::Changes),
            ];
            for (label, on, panel) in toggles {
                if ui.selectable_label(on, label).clicked() {
                    commands.push(Command::TogglePanel(panel));
                }
            }
            if ui
                .selectable_label(state.product_view, "Product view (Space)")
                .clicked()
            {
                commands.push(Command::Key(KeyAction::ToggleProductView));
            }
            ui.separator();
            if ui.button("Open run folder…").clicked() {
                commands.push(Command::ShowDialog(DialogPurpose::OpenRun));
            }
            let mut size = state.card_size;
            if ui
                .add(egui::Slider::new(&mut size, 100.0..=400.0).text("card size"))
                .changed()
            {
                commands.push(Command::SetCardSize(size));
            }
        });
        ui.separator();
        let view = state.cockpit.view;
        let views = [
            ("Workspace", View::Workspace),
            ("Audit", View::Audit),
            ("Training", View::Training),
            ("Duplicates", View::Duplicates),
            ("Map", View::Map),
        ];
        for (label, target) in views {
            if ui.selectable_label(view == target, label).clicked() && view != target {
                commands.push(Command::Cockpit(CockpitCommand::SetView(target)));
            }
        }
    });
}

/// The three ways to open a catalogue, shared by the File menu and the start screen.
pub fn open_buttons_ui(ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    if ui.button("Open catalogue file…").clicked() {
        commands.push(Command::ShowDialog(DialogPurpose::OpenFile));
    }
    if ui.button("Open catalogue folder…").clicked() {
        commands.push(Command::ShowDialog(DialogPurpose::OpenFolder));
    }
    if ui.button("Open the demo catalogue").clicked() {
        commands.push(Command::OpenDemo);
    }
}
