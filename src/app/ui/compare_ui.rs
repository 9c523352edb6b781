//! Two runs side by side in the published layout: per-task and mean accuracy with the
//! difference, and per task the products one gets right and the other wrong (opened in the
//! moderator grid). Exported as CSV or Markdown.

use crate::app::cockpit::{Cockpit, run_name};
use crate::app::command::DialogPurpose;
use crate::app::command::{CockpitCommand, Command};

/// Draws the comparison tab.
pub fn compare_ui(ui: &mut egui::Ui, cockpit: &Cockpit, commands: &mut Vec<Command>) {
    ui.label(
        "Compare two runs of this catalogue (single- vs multi-image, multi- vs single-task) on \
         their validation products, with the current labels.",
    );
    egui::Grid::new("compare-choice")
        .num_columns(3)
        .show(ui, |ui| {
            for (slot, letter) in ["A", "B"].iter().enumerate() {
                ui.strong(*letter);
                let chosen = cockpit.compare[slot].as_ref();
                let combo = egui::ComboBox::from_id_salt(("compare-run", slot))
                    .width(320.0)
                    .selected_text(chosen.map_or("choose a run".into(), |p| run_name(p)))
                    .show_ui(ui, |ui| {
                        for run in &cockpit.runs {
                            let label = if run.has_predictions {
                                run.name()
                            } else {
                                format!("{} (no predictions yet)", run.name())
                            };
                            let selected = chosen == Some(&run.folder);
                            if ui.selectable_label(selected, label).clicked() && !selected {
                                commands.push(Command::Cockpit(CockpitCommand::SetComparisonRun {
                                    slot,
                                    run: run.folder.clone(),
                                }));
                            }
                        }
                    });
                super::name_widget(&combo.response, &format!("run {letter}"));
                ui.weak(
                    chosen
                        .and_then(|p| cockpit.run(p))
                        .map_or(String::new(), |r| r.kind()),
                );
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        let ready = cockpit.compare.iter().all(Option::is_some) && !cockpit.comparing;
        if ui
            .add_enabled(ready, egui::Button::new("Compare runs"))
            .clicked()
        {
            commands.push(Command::Cockpit(CockpitCommand::Compare));
        }
        if cockpit.comparing {
            ui.spinner();
        }
        let table = cockpit
            .comparison
            .as_ref()
            .is_some_and(|c| c.result.is_ok());
        if ui
            .add_enabled(table, egui::Button::new("Export CSV…"))
            .clicked()
        {
            commands.push(Command::ShowDialog(DialogPurpose::ExportComparison {
                markdown: false,
            }));
        }
        if ui
            .add_enabled(table, egui::Button::new("Export Markdown…"))
            .clicked()
        {
            commands.push(Command::ShowDialog(DialogPurpose::ExportComparison {
                markdown: true,
            }));
        }
    });
    ui.separator();
    let Some(view) = &cockpit.comparison else {
        return;
    };
    let table = match &view.result {
        Ok(table) => table,
        Err(why) => {
            ui.colored_label(ui.visuals().error_fg_color, why);
            return;
        }
    };
    ui.label(format!(
        "A = {}, B = {}. Validation products: A {}, B {}; both {}.",
        table.a, table.b, table.products.0, table.products.1, table.common
    ));
    if table.products.0 != table.common || table.products.1 != table.common {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The runs' validation splits differ: accuracies are over different products.",
        );
    }
    for warning in &table.warnings {
        ui.colored_label(ui.visuals().warn_fg_color, warning);
    }
    // Each list opens with the predictions of the run that got its products wrong.
    let open =
        |commands: &mut Vec<Command>, run: &std::path::Path, title: String, positions: &[u32]| {
            commands.push(Command::Cockpit(CockpitCommand::ShowRunProducts {
                run: run.to_path_buf(),
                title,
                positions: positions.to_vec(),
            }));
        };
    egui::Grid::new("comparison-table")
        .striped(true)
        .num_columns(6)
        .spacing([18.0, 6.0])
        .show(ui, |ui| {
            for heading in [
                "task",
                "A",
                "B",
                "B − A",
                "A right, B wrong",
                "B right, A wrong",
            ] {
                ui.strong(heading);
            }
            ui.end_row();
            for row in &table.rows {
                ui.label(row.task.name());
                let cell = |s: Option<crate::runs::compare::TaskScore>| {
                    s.map_or("–".to_string(), |s| format!("{:.3}", s.accuracy()))
                };
                ui.label(cell(row.a));
                ui.label(cell(row.b));
                match row.difference() {
                    Some(d) => {
                        let colour = if d >= 0.0 {
                            egui::Color32::from_rgb(60, 160, 80)
                        } else {
                            egui::Color32::from_rgb(200, 70, 70)
                        };
                        ui.colored_label(colour, format!("{d:+.3}"));
                    }
                    None => {
                        ui.label("–");
                    }
                }
                // The products of "A right, B wrong" are shown with B's predictions.
                let lists = [
                    (&row.only_a, "A", "B", &view.b),
                    (&row.only_b, "B", "A", &view.a),
                ];
                for (list, who, other, wrong) in lists {
                    let button = ui.add_enabled(
                        !list.is_empty(),
                        egui::Button::new(match list.len() {
                            1 => "1 product".to_string(),
                            n => format!("{n} products"),
                        }),
                    );
                    if button.clicked() {
                        open(
                            commands,
                            wrong,
                            format!("{}: {who} right, {other} wrong", row.task),
                            list,
                        );
                    }
                }
                ui.end_row();
            }
            ui.strong("mean");
            let mean = |m: Option<f32>| m.map_or("–".to_string(), |m| format!("{m:.3}"));
            ui.strong(mean(table.mean.0));
            ui.strong(mean(table.mean.1));
            ui.strong(
                table
                    .mean_difference()
                    .map_or("–".to_string(), |d| format!("{d:+.3}")),
            );
            ui.end_row();
        });
    ui.separator();
    ui.weak(format!(
        "Reference (published, 224 px): multi-image mean 0.731, single-image 0.703. Runs: {}, {}.",
        view.a.display(),
        view.b.display()
    ));
}
