//! The Changes panel: others' label changes waiting for this window's verdict, newest first,
//! filtered by author, task and source, each (or its whole batch) approved or reverted with a
//! click; a click on the product focuses it.

use crate::app::command::{ChangesCommand, Command};
use crate::app::state::{AppState, Session};
use crate::catalog::Task;
use crate::catalog::text::excerpt;
use crate::labels::EditSource;
use crate::labels::change_review::{QueueFilter, Verdict};

/// The sources a change can come from, as the filter offers them.
const SOURCES: [EditSource; 3] = [
    EditSource::Human,
    EditSource::Bulk,
    EditSource::AcceptedPrediction,
];

/// Draws the Changes panel.
pub fn changes_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    let changes = &state.changes;
    let filter = &changes.filter;
    ui.horizontal(|ui| {
        ui.strong("Changes to review");
        match &changes.queue {
            Some(queue) => ui.label(format!(
                "{} waiting{}",
                queue.total,
                if queue.total > queue.changes.len() {
                    format!(", the newest {} shown", queue.changes.len())
                } else {
                    String::new()
                }
            )),
            None => ui.weak("reading…"),
        };
        if changes.asking {
            ui.spinner();
        }
        ui.separator();
        let mut wanted = filter.clone();
        let authors = changes
            .queue
            .as_ref()
            .map(|q| q.authors.clone())
            .unwrap_or_default();
        egui::ComboBox::from_id_salt("changes_author")
            .selected_text(
                filter
                    .author
                    .as_deref()
                    .map_or("any author".into(), excerpt),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut wanted.author, None, "any author");
                for author in authors {
                    let text = excerpt(&author).into_owned();
                    ui.selectable_value(&mut wanted.author, Some(author), text);
                }
            });
        egui::ComboBox::from_id_salt("changes_task")
            .selected_text(filter.task.map_or("any task", Task::name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut wanted.task, None, "any task");
                for task in Task::ALL {
                    ui.selectable_value(&mut wanted.task, Some(task), task.name());
                }
            });
        egui::ComboBox::from_id_salt("changes_source")
            .selected_text(filter.source.map_or("any source", EditSource::name))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut wanted.source, None, "any source");
                for source in SOURCES {
                    ui.selectable_value(&mut wanted.source, Some(source), source.name());
                }
            });
        if wanted != *filter {
            commands.push(Command::Changes(ChangesCommand::Filter(wanted)));
        }
        if ui
            .button("Refresh")
            .on_hover_text("read the queue again (others' verdicts)")
            .clicked()
        {
            commands.push(Command::Changes(ChangesCommand::Refresh));
        }
        let shown: Vec<i64> = changes
            .queue
            .as_ref()
            .map(|q| q.changes.iter().map(|e| e.id).collect())
            .unwrap_or_default();
        if ui
            .add_enabled(!shown.is_empty(), egui::Button::new("Approve all shown"))
            .clicked()
        {
            commands.push(judge(shown, false, Verdict::Approved));
        }
        if filter != &QueueFilter::default() && ui.button("Clear filter").clicked() {
            commands.push(Command::Changes(ChangesCommand::Filter(
                QueueFilter::default(),
            )));
        }
    });
    if let Some(error) = &changes.error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    if let Some(role) = &session.store_report.role {
        ui.weak(format!(
            "verdicts are given as {}; only members of the reviewer role may give them",
            excerpt(role)
        ));
    }
    let Some(queue) = &changes.queue else {
        return;
    };
    if queue.changes.is_empty() {
        ui.weak("nothing waiting: every change by others has a verdict");
        return;
    }
    ui.horizontal(|ui| {
        for (title, width) in ["#", "when", "author", "product", "task", "change", "source"]
            .into_iter()
            .zip(WIDTHS)
        {
            cell(ui, width, |ui| ui.strong(title));
        }
    });
    let row = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
    egui::ScrollArea::vertical()
        .id_salt("changes")
        .auto_shrink(false)
        .show_rows(ui, row, queue.changes.len(), |ui, range| {
            for edit in &queue.changes[range] {
                ui.horizontal(|ui| change_row(ui, state, session, edit, commands));
            }
        });
}

/// One change: what it did, who did it and how, and its verdict buttons.
fn change_row(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    edit: &crate::labels::Edit,
    commands: &mut Vec<Command>,
) {
    cell(ui, WIDTHS[0], |ui| ui.label(format!("#{}", edit.id)));
    cell(ui, WIDTHS[1], |ui| ui.label(edit.time()));
    cell(ui, WIDTHS[2], |ui| {
        ui.add(egui::Label::new(excerpt(&edit.author)).truncate())
    });
    let position = session.catalog.position(&edit.product);
    cell(ui, WIDTHS[3], |ui| {
        let link = ui.add_enabled(position.is_some(), egui::Link::new(excerpt(&edit.product)));
        if let Some(position) = position.filter(|_| link.clicked()) {
            commands.push(Command::FocusProduct(position as u32));
        }
        link
    });
    cell(ui, WIDTHS[4], |ui| ui.label(edit.task.name()));
    let value = |v: &Option<String>| {
        v.as_deref()
            .map_or("(none)".into(), |v| excerpt(v).into_owned())
    };
    cell(ui, WIDTHS[5], |ui| {
        let change = ui.add(
            egui::Label::new(format!("{} -> {}", value(&edit.old), value(&edit.new))).truncate(),
        );
        match &edit.reason {
            Some(reason) => change.on_hover_text(format!("why: {}", excerpt(reason))),
            None => change,
        }
    });
    cell(ui, WIDTHS[6], |ui| ui.label(edit.source.name()));
    if ui.small_button("Approve").clicked() {
        commands.push(judge(vec![edit.id], false, Verdict::Approved));
    }
    if ui
        .small_button("Revert")
        .on_hover_text(
            "set the label back, as a journal entry of its own (refused if the label changed \
             since)",
        )
        .clicked()
    {
        commands.push(judge(vec![edit.id], false, Verdict::Reverted));
    }
    let batch = state.changes.batch_len(edit.batch);
    if batch > 1 {
        ui.menu_button(format!("batch of {batch}"), |ui| {
            if ui.button("Approve the batch").clicked() {
                commands.push(judge(vec![edit.id], true, Verdict::Approved));
            }
            if ui.button("Revert the batch").clicked() {
                commands.push(judge(vec![edit.id], true, Verdict::Reverted));
            }
        });
    }
}

/// The widths of the columns: id, time, author, product, task, change, source.
const WIDTHS: [f32; 7] = [56.0, 150.0, 90.0, 130.0, 90.0, 220.0, 130.0];

/// A cell of `width`, its contents left-aligned and vertically centred.
fn cell(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui) -> egui::Response) {
    let size = egui::vec2(width, ui.spacing().interact_size.y);
    ui.allocate_ui_with_layout(
        size,
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_size(size);
            add(ui)
        },
    );
}

fn judge(ids: Vec<i64>, whole_batches: bool, verdict: Verdict) -> Command {
    Command::Changes(ChangesCommand::Judge {
        ids,
        whole_batches,
        verdict,
    })
}
