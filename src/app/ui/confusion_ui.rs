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
        egui::ComboBox::from_id_salt("confusion-epoch")
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
        for &t in &tasks {
            if ui.selectable_label(t == task, t.name()).clicked() && t != task {
                commands.push(Command::Cockpit(CockpitCommand::SelectConfusionTask(t)));
            }
        }
    });
    let (Some(matrix), Some(classes)) = (epoch.confusion.get(&task), history.classes.get(&task))
    else {
        ui.label(format!("no matrix for {task} at this epoch"));
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
    egui::ScrollArea::both().show(ui, |ui| {
        egui::Grid::new(("confusion", task.index()))
            .spacing([2.0, 2.0])
            .show(ui, |ui| {
                ui.label("label \\ predicted");
                for (c, name) in classes.iter().enumerate() {
                    ui.label(egui::RichText::new(short(name)).small())
                        .on_hover_text(format!("column {c}: predicted {name}"));
                }
                ui.label("recall");
                ui.end_row();
                for (r, row) in matrix.iter().enumerate() {
                    let name = classes.get(r).map_or("?", String::as_str);
                    let total: u32 = row.iter().sum();
                    ui.label(short(name)).on_hover_text(name);
                    for (c, &count) in row.iter().enumerate() {
                        let share = count as f32 / total.max(1) as f32;
                        let fill =
                            match (count, r == c) {
                                (0, _) => egui::Color32::TRANSPARENT,
                                (_, true) => egui::Color32::from_rgb(40, 120, 60)
                                    .gamma_multiply(0.15 + share),
                                (_, false) => egui::Color32::from_rgb(170, 50, 50)
                                    .gamma_multiply(0.15 + share),
                            };
                        let text = if count > 0 {
                            count.to_string()
                        } else {
                            String::new()
                        };
                        let cell = ui
                            .add_enabled(
                                run.has_predictions && count > 0,
                                egui::Button::new(text)
                                    .fill(fill)
                                    .min_size(egui::vec2(34.0, 20.0)),
                            )
                            .on_hover_text(format!(
                                "label {name}, predicted {}: {count}",
                                classes.get(c).map_or("?", String::as_str)
                            ));
                        if cell.clicked() {
                            commands.push(Command::Cockpit(CockpitCommand::OpenConfusionCell {
                                run: run.folder.clone(),
                                task,
                                label: r,
                                predicted: c,
                            }));
                        }
                    }
                    let recall = row.get(r).copied().unwrap_or(0) as f32 / total.max(1) as f32;
                    ui.label(format!("{recall:.2}"));
                    ui.end_row();
                }
            });
    });
}

/// A class name cut to fit a column.
fn short(name: &str) -> String {
    const MAX: usize = 12;
    if name.chars().count() <= MAX {
        name.to_string()
    } else {
        let cut: String = name.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}
