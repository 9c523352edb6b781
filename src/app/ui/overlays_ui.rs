//! Windows over the workspace: the class picker, the bulk confirmation, the key list and the
//! warnings.

use crate::app::command::{Command, Panel};
use crate::app::keys::HELP;
use crate::app::state::{AppState, Session};
use crate::app::update::picker_choices;
use egui::{Key, Modifiers};

/// Draws whichever overlays are open.
pub fn overlays_ui(
    ctx: &egui::Context,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    picker_ui(ctx, state, commands);
    bulk_ui(ctx, state, session, commands);
    if state.panels.help {
        help_ui(ctx, session, commands);
    }
    if state.panels.warnings {
        warnings_ui(ctx, session, commands);
    }
}

fn picker_ui(ctx: &egui::Context, state: &AppState, commands: &mut Vec<Command>) {
    let Some(picker) = &state.picker else {
        return;
    };
    let choices = picker_choices(state);
    // Keys first, before the text field sees them.
    let (down, up, enter, escape, tab) = ctx.input_mut(|i| {
        (
            i.consume_key(Modifiers::NONE, Key::ArrowDown),
            i.consume_key(Modifiers::NONE, Key::ArrowUp),
            i.consume_key(Modifiers::NONE, Key::Enter),
            i.consume_key(Modifiers::NONE, Key::Escape),
            i.consume_key(Modifiers::NONE, Key::Tab),
        )
    });
    if down {
        commands.push(Command::PickerMove(1));
    }
    if up {
        commands.push(Command::PickerMove(-1));
    }
    if tab {
        commands.push(Command::PickerToggleTaxonomy);
    }
    if escape {
        commands.push(Command::ClosePicker);
    }
    if enter && let Some(choice) = choices.get(picker.highlighted) {
        commands.push(Command::PickerChoose(choice.name.clone()));
    }
    let title = if picker.targets.len() > 1 {
        format!("Set {} of {} products", picker.task, picker.targets.len())
    } else {
        format!("Set {}", picker.task)
    };
    egui::Window::new(title)
        .id(egui::Id::unique("picker"))
        .collapsible(false)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 80.0])
        .show(ctx, |ui| {
            let mut query = picker.query.clone();
            let edit = ui.add(
                egui::TextEdit::singleline(&mut query)
                    .hint_text("type to search")
                    .id_salt("picker_query"),
            );
            edit.request_focus();
            if query != picker.query {
                commands.push(Command::PickerQuery(query));
            }
            let mut ignore = picker.ignore_taxonomy;
            if ui
                .checkbox(&mut ignore, "all classes, ignoring the taxonomy (Tab)")
                .changed()
            {
                commands.push(Command::PickerToggleTaxonomy);
            }
            egui::ScrollArea::vertical()
                .max_height(320.0)
                .show(ui, |ui| {
                    if choices.is_empty() {
                        ui.weak("no class matches");
                    }
                    for (i, choice) in choices.iter().enumerate() {
                        let text = if choice.new {
                            format!("+ new class \"{}\"", choice.name)
                        } else {
                            format!("{}  ({})", choice.name, choice.count)
                        };
                        let response = ui.selectable_label(i == picker.highlighted, text);
                        if i == picker.highlighted {
                            response.scroll_to_me(None);
                        }
                        if response.clicked() {
                            commands.push(Command::PickerChoose(choice.name.clone()));
                        }
                    }
                });
            ui.weak("Up/Down choose, Enter set, Esc cancel");
        });
}

fn bulk_ui(ctx: &egui::Context, state: &AppState, session: &Session, commands: &mut Vec<Command>) {
    let Some(bulk) = &state.bulk else {
        return;
    };
    let (enter, escape) = ctx.input_mut(|i| {
        (
            i.consume_key(Modifiers::NONE, Key::Enter),
            i.consume_key(Modifiers::NONE, Key::Escape),
        )
    });
    if enter {
        commands.push(Command::ConfirmBulk);
    }
    if escape {
        commands.push(Command::CancelBulk);
    }
    egui::Modal::new(egui::Id::unique("bulk")).show(ctx, |ui| {
        ui.heading(format!(
            "Set {} to {} on {} products?",
            bulk.task,
            bulk.description,
            bulk.targets.len()
        ));
        let sample: Vec<&str> = bulk
            .targets
            .iter()
            .take(8)
            .filter_map(|&p| session.product(p).map(|p| &*p.id))
            .collect();
        ui.label(format!(
            "{}{}",
            sample.join(", "),
            if bulk.targets.len() > sample.len() {
                ", …"
            } else {
                ""
            }
        ));
        ui.label("One batch: Ctrl+Z undoes it whole.");
        ui.horizontal(|ui| {
            if ui.button("Apply (Enter)").clicked() {
                commands.push(Command::ConfirmBulk);
            }
            if ui.button("Cancel (Esc)").clicked() {
                commands.push(Command::CancelBulk);
            }
        });
    });
}

fn help_ui(ctx: &egui::Context, session: &Session, commands: &mut Vec<Command>) {
    let mut open = true;
    egui::Window::new("Keys")
        .open(&mut open)
        .collapsible(false)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            egui::Grid::new("keys")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    for (keys, what) in HELP {
                        ui.strong(*keys);
                        ui.label(*what);
                        ui.end_row();
                    }
                });
            ui.separator();
            match &session.predictions {
                Some(p) => ui.label(format!("Predictions shown: {}", p.predictions.header.run)),
                None => ui.label(
                    "No predictions loaded: the number keys and Enter need them; E works always.",
                ),
            };
        });
    if !open {
        commands.push(Command::TogglePanel(Panel::Help));
    }
}

fn warnings_ui(ctx: &egui::Context, session: &Session, commands: &mut Vec<Command>) {
    let mut open = true;
    egui::Window::new("Warnings")
        .open(&mut open)
        .default_size([640.0, 400.0])
        .show(ctx, |ui| {
            let import = &session.import;
            ui.strong(format!(
                "Import of {} ({}): {} warnings",
                import.source.display(),
                import.format,
                import.warnings_total
            ));
            for issue in &import.taxonomy_issues {
                ui.label(format!(
                    "taxonomy: {} '{}' sits under {} parents",
                    issue.task,
                    issue.class,
                    issue.parents.len()
                ));
            }
            let store = &session.store_report;
            ui.label(format!(
                "Label store {}: {} edited labels applied, {} of removed products kept",
                store.path.display(),
                store.overrides,
                store.orphaned
            ));
            ui.label(format!("Predictions: {}", session.predictions_note));
            ui.separator();
            let row = ui.text_style_height(&egui::TextStyle::Body);
            let predictions = session
                .predictions
                .as_ref()
                .map(|p| p.predictions.warnings.as_slice())
                .unwrap_or_default();
            let lines = import.warnings.len() + predictions.len();
            egui::ScrollArea::vertical().auto_shrink(false).show_rows(
                ui,
                row,
                lines,
                |ui, range| {
                    for i in range {
                        if let Some(w) = import.warnings.get(i) {
                            ui.label(w.to_string());
                        } else if let Some(w) = predictions.get(i - import.warnings.len()) {
                            ui.label(format!("predictions line {}: {}", w.line, w.message));
                        }
                    }
                },
            );
        });
    if !open {
        commands.push(Command::TogglePanel(Panel::Warnings));
    }
}
