//! The "Connect to team store" dialog: the address of a PostgreSQL team store to reopen the
//! open catalogue with. No password field: passwords come from PGPASSWORD or ~/.pgpass, so
//! the address can be shown and remembered in the recent list.

use crate::app::command::{Command, ConnectCommand};
use crate::app::state::AppState;

/// Draws the dialog, when shown.
pub fn connect_ui(ctx: &egui::Context, state: &AppState, commands: &mut Vec<Command>) {
    let Some(address) = &state.connect else {
        return;
    };
    egui::Window::new("Connect to team store")
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.label("Address of the team store (PostgreSQL):");
            let mut text = address.clone();
            let field = ui.add(
                egui::TextEdit::singleline(&mut text)
                    .desired_width(420.0)
                    .hint_text("postgres://user@host/database"),
            );
            if text != *address {
                commands.push(Command::Connect(ConnectCommand::Edit(text)));
            }
            let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.weak(
                "The password comes from PGPASSWORD or ~/.pgpass, never from the address; \
                 sslmode=require or verify-full for TLS; catalogue=NAME to name the catalogue \
                 in the store (default: its folder and file name).",
            );
            ui.horizontal(|ui| {
                if ui.button("Connect").clicked() || entered {
                    commands.push(Command::Connect(ConnectCommand::Connect));
                }
                let team = state
                    .session
                    .as_ref()
                    .is_some_and(|s| s.store_report.role.is_some());
                if ui
                    .add_enabled(team, egui::Button::new("Use the file store"))
                    .on_hover_text("reopen with the catalogue's own SQLite file")
                    .clicked()
                {
                    commands.push(Command::Connect(ConnectCommand::UseFile));
                }
                if ui.button("Cancel").clicked() {
                    commands.push(Command::Connect(ConnectCommand::Cancel));
                }
            });
        });
}
