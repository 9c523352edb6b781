//! The "New run" dialog: the training settings over the open catalogue, with defaults that
//! suit the machine (small backbone and the default recipe on the CPU, ZFNet and the
//! published recipe on every GPU). With folds it is the "New audit" dialog: the same recipe
//! for every fold's run.

use crate::app::cockpit::{MAX_FOLDS, MIN_FOLDS, NewRunForm};
use crate::app::command::{CockpitCommand, Command};
use crate::catalog::Task;
use crate::runs::Backbone;
use crate::runs::config::Recipe;
use crate::runs::gpu_settings::Autotune;

/// Draws the dialog.
pub fn new_run_ui(ctx: &egui::Context, form: &NewRunForm, commands: &mut Vec<Command>) {
    let mut edited = form.clone();
    let mut open = true;
    let mut start = false;
    let (title, start_label) = match form.folds {
        Some(_) => ("New audit", "Start audit"),
        None => ("New run", "Start training"),
    };
    egui::Window::new(title)
        .collapsible(false)
        .resizable(false)
        .open(&mut open)
        .show(ctx, |ui| {
            if form.folds.is_some() {
                ui.label(
                    "Each fold's model trains on the other folds and predicts its own: every \
                     product gets an out-of-fold prediction, from a model that never saw its \
                     label.",
                );
            }
            egui::Grid::new("new-run").num_columns(2).show(ui, |ui| {
                ui.label("name");
                ui.add(egui::TextEdit::singleline(&mut edited.name).desired_width(300.0));
                ui.end_row();
                if let Some(folds) = &mut edited.folds {
                    ui.label("folds");
                    ui.add(egui::DragValue::new(folds).range(MIN_FOLDS..=MAX_FOLDS))
                        .on_hover_text("one run per fold, each the recipe below");
                    ui.end_row();
                }
                ui.label("images");
                ui.horizontal(|ui| {
                    ui.radio_value(&mut edited.single_image, false, "multi-image (max-pooled)");
                    ui.radio_value(&mut edited.single_image, true, "single-image (ablation)");
                });
                ui.end_row();
                ui.label("backbone");
                ui.horizontal(|ui| {
                    for backbone in [Backbone::Small, Backbone::Zfnet] {
                        if ui
                            .radio(edited.backbone == backbone, backbone.name())
                            .clicked()
                            && edited.backbone != backbone
                        {
                            edited.backbone = backbone;
                            edited.image_size = backbone.default_image_size();
                        }
                    }
                });
                ui.end_row();
                ui.label("recipe");
                ui.horizontal(|ui| {
                    for recipe in Recipe::ALL {
                        if ui
                            .radio(edited.recipe == recipe, recipe.name())
                            .on_hover_text(recipe.describe())
                            .clicked()
                        {
                            edited.set_recipe(recipe);
                        }
                    }
                });
                ui.end_row();
                ui.label("optimiser");
                ui.label(edited.optimizer().name())
                    .on_hover_text("the recipe's; a configuration file (--config) can change it");
                ui.end_row();
                ui.label("image size");
                ui.add(
                    egui::DragValue::new(&mut edited.image_size)
                        .range(32..=512)
                        .suffix(" px"),
                );
                ui.end_row();
                ui.label("batch");
                ui.add(egui::DragValue::new(&mut edited.batch).range(1..=4096));
                ui.end_row();
                ui.label("epochs");
                let mut epochs = edited.epochs;
                if ui
                    .add(egui::DragValue::new(&mut epochs).range(1..=1000))
                    .changed()
                {
                    edited.set_epochs(epochs);
                }
                ui.end_row();
                ui.label("at least");
                ui.add(
                    egui::DragValue::new(&mut edited.min_iterations)
                        .range(0..=1_000_000)
                        .suffix(" iterations"),
                )
                .on_hover_text(
                    "a small catalogue trains more epochs to reach them (the drops move in \
                     proportion); 0: exactly the epochs above",
                );
                ui.end_row();
                ui.label("learning rate");
                ui.add(
                    egui::DragValue::new(&mut edited.learning_rate)
                        .range(1e-6..=1.0)
                        .speed(0.001)
                        .max_decimals(6),
                );
                ui.end_row();
                ui.label("warm-up");
                ui.add(
                    egui::DragValue::new(&mut edited.warmup_iterations)
                        .range(0..=100_000)
                        .suffix(" iterations"),
                )
                .on_hover_text("the learning rate rises linearly to its value over these");
                ui.end_row();
                ui.label("divide by 10 at epochs");
                ui.add(egui::TextEdit::singleline(&mut edited.lr_drops).desired_width(120.0));
                ui.end_row();
                ui.label("weight decay");
                ui.add(
                    egui::DragValue::new(&mut edited.weight_decay)
                        .range(0.0..=0.1)
                        .speed(0.0001)
                        .max_decimals(6),
                );
                ui.end_row();
                ui.label("devices");
                ui.horizontal(|ui| {
                    for (name, on) in &mut edited.devices {
                        ui.checkbox(on, name.as_str());
                    }
                });
                ui.end_row();
                if edited.devices.iter().any(|(name, _)| name != "cpu") {
                    ui.label("GPU kernels");
                    ui.horizontal(|ui| {
                        egui::ComboBox::from_id_salt("autotune")
                            .selected_text(format!("autotune {}", edited.gpu.autotune))
                            .show_ui(ui, |ui| {
                                for level in Autotune::ALL {
                                    ui.selectable_value(
                                        &mut edited.gpu.autotune,
                                        level,
                                        level.name(),
                                    );
                                }
                            })
                            .response
                            .on_hover_text(
                                "how finely cubecl buckets tensor sizes into tuning keys; \
                                 read once per process, at its first GPU run",
                            );
                        ui.checkbox(&mut edited.gpu.fusion, "fusion").on_hover_text(
                            "burn compiles element-wise operations into the kernels around them",
                        );
                    });
                    ui.end_row();
                }
                ui.label("group by");
                ui.add(
                    egui::TextEdit::singleline(&mut edited.group_by)
                        .hint_text("attribute, e.g. style_sku (empty: by product)")
                        .desired_width(300.0),
                );
                ui.end_row();
                ui.label("tasks");
                ui.horizontal(|ui| {
                    for task in Task::ALL {
                        ui.checkbox(&mut edited.tasks[task.index()], task.name());
                    }
                });
                ui.end_row();
            });
            if let Some(error) = &form.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
            }
            ui.horizontal(|ui| {
                start = ui.button(start_label).clicked();
                if ui.button("Cancel").clicked() {
                    commands.push(Command::Cockpit(CockpitCommand::CloseNewRun));
                }
            });
        });
    if edited != *form {
        edited.error = None;
        commands.push(Command::Cockpit(CockpitCommand::EditNewRun(edited)));
    }
    if start {
        commands.push(Command::Cockpit(CockpitCommand::StartRun));
    }
    if !open {
        commands.push(Command::Cockpit(CockpitCommand::CloseNewRun));
    }
}
