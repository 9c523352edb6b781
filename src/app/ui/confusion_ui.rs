//! The confusion matrix of one task at one epoch (rows = label, columns = prediction); a cell
//! opens its products in the moderator grid, and the misclassified gallery opens every
//! validation product the run gets wrong on the task.

use crate::app::cockpit::Cockpit;
use crate::app::command::{CockpitCommand, Command};
use crate::catalog::Task;

/// Draws the confusion tab.
pub fn confusion_ui(ui: &mut egui::Ui, cockpit: &Cockpit, commands: &mut Vec<Command>) {
    let Some(run) = cockpit.selected_run() else {
        ui.label("Select a run.");
        return;
    };
    let history = &run.history;
    let Some(latest) = history.epochs.last() else {
        ui.label(format!(
            "{}: no epoch evaluated yet (the matrix comes with each epoch's validation).",
            run.name()
        ));
        return;
    };
    let epoch = cockpit
        .epoch
        .and_then(|e| history.epoch(e))
        .unwrap_or(latest);
    let tasks = history.tasks();
    let task = if tasks.contains(&cockpit.confusion_task) {
        cockpit.confusion_task
    } else {
        tasks.first().copied().unwrap_or(Task::Colour)
    };
    ui.horizontal(|ui| {
        ui.strong(run.name());
        let combo = egui::ComboBox::from_id_salt("confusion-epoch")
            .selected_text(format!("epoch {}", epoch.epoch + 1))
            .show_ui(ui, |ui| {
                for e in history.epochs.iter().rev() {
                    if ui
                        .selectable_label(e.epoch == epoch.epoch, format!("epoch {}", e.epoch + 1))
                        .clicked()
                    {
                        let chosen = (e.epoch != latest.epoch).then_some(e.epoch);
                        commands.push(Command::Cockpit(CockpitCommand::SelectEpoch(chosen)));
                    }
                }
            });
        super::name_widget(&combo.response, "epoch");
        for &t in &tasks {
            if ui.selectable_label(t == task, t.name()).clicked() && t != task {
                commands.push(Command::Cockpit(CockpitCommand::SelectConfusionTask(t)));
            }
        }
    });
    let (Some(matrix), Some(classes)) = (epoch.confusion.get(&task), history.classes.get(&task))
    else {
        ui.label(if epoch.mean_accuracy.is_none() && history.samples.1 > 0 {
            "not validated after this epoch (the run scores its validation products every few \
             epochs and after the last)"
                .to_string()
        } else if epoch.mean_accuracy.is_none() {
            "no validation split: the run trains on all its products, so there is no matrix"
                .to_string()
        } else {
            format!("no matrix for {task} at this epoch")
        });
        return;
    };
    let accuracy = epoch.accuracy[task.index()].unwrap_or(0.0);
    ui.horizontal(|ui| {
        ui.label(format!(
            "{task}: validation accuracy {accuracy:.3}; rows are labels, columns predictions."
        ));
        let gallery = ui.add_enabled(
            run.has_predictions,
            egui::Button::new(format!("Misclassified {task} gallery")),
        );
        if gallery
            .on_hover_text("the validation products the run's predictions get wrong, in the grid")
            .on_disabled_hover_text("predictions are written when the run finishes")
            .clicked()
        {
            commands.push(Command::Cockpit(CockpitCommand::ShowMisclassified {
                run: run.folder.clone(),
                task,
            }));
        }
    });
    if !run.has_predictions {
        ui.weak("Cells open their products once the run has written its predictions.");
    } else if cockpit.epoch.is_some_and(|e| e != latest.epoch) {
        ui.weak("Cells open the products of the run's final predictions.");
    }
    ui.separator();
    let layout = Layout {
        rows: matrix.len(),
        columns: classes.len(),
    };
    egui::ScrollArea::both().show(ui, |ui| {
        let (rect, response) = ui.allocate_exact_size(layout.size(), egui::Sense::click());
        // Painted, not 2,000 buttons: a 46-class matrix costs well under a millisecond.
        let painter = ui.painter_at(rect);
        let visible = ui.clip_rect();
        let text = ui.visuals().text_color();
        let weak = ui.visuals().weak_text_color();
        let small = egui::FontId::proportional(11.0);
        let body = egui::FontId::proportional(12.5);
        let origin = rect.min;
        painter.text(
            origin + egui::vec2(4.0, HEADER.y - 4.0),
            egui::Align2::LEFT_BOTTOM,
            "label \\ predicted",
            small.clone(),
            weak,
        );
        for (c, name) in classes.iter().enumerate() {
            let centre = layout.cell(origin, 0, c).center_top() - egui::vec2(0.0, 4.0);
            painter.text(
                centre,
                egui::Align2::CENTER_BOTTOM,
                short(name, 5),
                small.clone(),
                weak,
            );
        }
        let recall_x = layout.cell(origin, 0, layout.columns).left() + 6.0;
        painter.text(
            egui::pos2(recall_x, origin.y + HEADER.y - 4.0),
            egui::Align2::LEFT_BOTTOM,
            "recall",
            small.clone(),
            weak,
        );
        for (r, row) in matrix.iter().enumerate() {
            let row_rect = layout.cell(origin, r, 0);
            if row_rect.bottom() < visible.top() || row_rect.top() > visible.bottom() {
                continue;
            }
            let name = classes.get(r).map_or("?", String::as_str);
            painter.text(
                egui::pos2(origin.x + 4.0, row_rect.center().y),
                egui::Align2::LEFT_CENTER,
                short(name, 14),
                body.clone(),
                text,
            );
            let total: u32 = row.iter().sum();
            for (c, &count) in row.iter().enumerate() {
                if count == 0 {
                    continue;
                }
                let share = count as f32 / total.max(1) as f32;
                let base = if r == c {
                    egui::Color32::from_rgb(40, 120, 60)
                } else {
                    egui::Color32::from_rgb(170, 50, 50)
                };
                let cell = layout.cell(origin, r, c).shrink(1.0);
                painter.rect_filled(cell, 2.0, base.gamma_multiply(0.25 + 0.75 * share));
                painter.text(
                    cell.center(),
                    egui::Align2::CENTER_CENTER,
                    count.to_string(),
                    body.clone(),
                    text,
                );
            }
            let recall = row.get(r).copied().unwrap_or(0) as f32 / total.max(1) as f32;
            painter.text(
                egui::pos2(recall_x, row_rect.center().y),
                egui::Align2::LEFT_CENTER,
                format!("{recall:.2}"),
                body.clone(),
                text,
            );
        }
        let hovered = response
            .hover_pos()
            .and_then(|pos| layout.cell_at(pos - origin.to_vec2()));
        let Some((r, c)) = hovered else {
            return;
        };
        let count = matrix
            .get(r)
            .and_then(|row| row.get(c))
            .copied()
            .unwrap_or(0);
        painter.rect_stroke(
            layout.cell(origin, r, c),
            2.0,
            (1.5, ui.visuals().strong_text_color()),
            egui::StrokeKind::Inside,
        );
        let name = |i: usize| classes.get(i).map_or("?", String::as_str);
        let opens = run.has_predictions && count > 0;
        let response = response.on_hover_text_at_pointer(format!(
            "label {}, predicted {}: {count}{}",
            name(r),
            name(c),
            if opens { " (click to open them)" } else { "" }
        ));
        if opens && response.clicked() {
            commands.push(Command::Cockpit(CockpitCommand::OpenConfusionCell {
                run: run.folder.clone(),
                task,
                label: r,
                predicted: c,
            }));
        }
    });
}

/// Size of the label column and the header row, in points.
const HEADER: egui::Vec2 = egui::vec2(120.0, 22.0);
/// Size of one cell.
const CELL: egui::Vec2 = egui::vec2(38.0, 22.0);
/// Width of the recall column.
const RECALL: f32 = 50.0;

/// Where the cells of a `rows x columns` matrix lie, relative to its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Layout {
    rows: usize,
    columns: usize,
}

impl Layout {
    /// The whole matrix with its headers and the recall column.
    fn size(self) -> egui::Vec2 {
        egui::vec2(
            HEADER.x + self.columns as f32 * CELL.x + RECALL,
            HEADER.y + self.rows as f32 * CELL.y,
        )
    }

    /// The rectangle of cell (`row`, `column`) for a matrix whose corner is at `origin`.
    fn cell(self, origin: egui::Pos2, row: usize, column: usize) -> egui::Rect {
        egui::Rect::from_min_size(
            origin + HEADER + egui::vec2(column as f32 * CELL.x, row as f32 * CELL.y),
            CELL,
        )
    }

    /// The cell under `offset` (from the matrix's corner), if any.
    fn cell_at(self, offset: egui::Pos2) -> Option<(usize, usize)> {
        let inside = offset - HEADER;
        if inside.x < 0.0 || inside.y < 0.0 {
            return None;
        }
        let (row, column) = ((inside.y / CELL.y) as usize, (inside.x / CELL.x) as usize);
        (row < self.rows && column < self.columns).then_some((row, column))
    }
}

/// A class name cut to `max` characters.
fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_string()
    } else {
        let cut: String = name.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_positions_map_to_cells() {
        let layout = Layout {
            rows: 3,
            columns: 4,
        };
        let origin = egui::pos2(10.0, 20.0);
        let cell = layout.cell(origin, 2, 3);
        assert_eq!(
            layout.cell_at(cell.center() - origin.to_vec2()),
            Some((2, 3))
        );
        assert_eq!(layout.cell_at(egui::pos2(5.0, 5.0)), None, "the headers");
        let past = layout.cell(origin, 2, 4).center() - origin.to_vec2();
        assert_eq!(layout.cell_at(past), None, "the recall column");
        assert_eq!(
            layout.size(),
            egui::vec2(120.0 + 4.0 * 38.0 + 50.0, 22.0 + 3.0 * 22.0)
        );
        assert_eq!(short("Navy Blue", 5), "Navy…");
        assert_eq!(short("Red", 5), "Red");
    }
}
