//! Live curves of the selected run (and the runs overlaid on it): loss, per-task accuracy and
//! loss, learning rate and speed. The x axis is the epoch, fractional for iterations.
//!
//! Per frame the cost is bounded whatever the run's length: the series are computed when
//! records arrive (see [`Curves`]), each cut to a few hundred points.

use crate::app::cockpit::{Cockpit, RunEntry};
use crate::app::command::{CockpitCommand, Command};
use crate::runs::history::Curves;
use egui_plot::{AxisHints, Legend, Line, LineStyle, Plot, Points};

/// Height of one plot.
const PLOT_HEIGHT: f32 = 210.0;
/// The training loss.
const TRAINING: egui::Color32 = egui::Color32::from_rgb(0x76, 0xb7, 0xe6);
/// The validation loss.
const VALIDATION: egui::Color32 = egui::Color32::from_rgb(0xf2, 0x8e, 0x2b);
/// The mean accuracy.
const MEAN: egui::Color32 = egui::Color32::from_gray(230);
/// One colour per task, in [`Task::ALL`] order.
const TASK_COLOURS: [egui::Color32; 5] = [
    egui::Color32::from_rgb(0x4e, 0x79, 0xa7),
    egui::Color32::from_rgb(0xe1, 0x57, 0x59),
    egui::Color32::from_rgb(0x59, 0xa1, 0x4f),
    egui::Color32::from_rgb(0xf2, 0x8e, 0x2b),
    egui::Color32::from_rgb(0xb0, 0x7a, 0xa1),
];

/// "2 h 05 min", "4 min 10 s", "12 s".
pub fn duration_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

/// One line of facts about a run: status, progress, ETA, speed, latest accuracy.
pub fn run_facts(run: &RunEntry) -> String {
    let h = &run.history;
    let mut facts = vec![h.status.word().to_string()];
    if let Some(stage) = &run.preparing {
        facts.push(stage.clone());
    }
    if h.epochs_planned > 0 {
        facts.push(format!("epoch {:.1}/{}", h.progress(), h.epochs_planned));
    }
    if let Some(eta) = h.eta_seconds() {
        facts.push(format!("ETA {}", duration_text(eta)));
    }
    if let Some(p) = h.iterations.last() {
        facts.push(format!("{:.0} img/s", p.images_per_second));
    }
    if let Some(e) = h.epochs.last() {
        let scored = h.epochs.iter().rev().find_map(|e| e.mean_accuracy);
        facts.push(match scored {
            Some(m) => format!("mean accuracy {m:.3}"),
            None if h.samples.1 > 0 => "not validated yet".to_string(),
            None => "no validation split".to_string(),
        });
        facts.push(format!("data wait {:.0}%", e.data_wait * 100.0));
        let warmup: f32 = h.epochs.iter().map(|e| e.warmup_seconds).sum();
        if warmup > 0.0 {
            facts.push(format!("warm-up {warmup:.1} s (tuning, compiling)"));
        }
    }
    facts.join(" · ")
}

/// Draws the curves tab.
pub fn curves_ui(ui: &mut egui::Ui, cockpit: &Cockpit, commands: &mut Vec<Command>) {
    let Some(run) = cockpit.selected_run() else {
        ui.label("Select a run, or start one with New run.");
        return;
    };
    ui.horizontal(|ui| {
        ui.strong(run.name());
        ui.label(run_facts(run));
    });
    ui.horizontal(|ui| {
        let mut smoothing = cockpit.smoothing;
        if ui
            .add(egui::Slider::new(&mut smoothing, 0.0..=0.99).text("smoothing"))
            .changed()
        {
            commands.push(Command::Cockpit(CockpitCommand::SetSmoothing(smoothing)));
        }
        let validated = run
            .history
            .epochs
            .iter()
            .filter(|e| e.mean_accuracy.is_some())
            .count();
        ui.weak(format!(
            "{} iterations, {} epochs, {validated} of them validated",
            run.history.iterations.len(),
            run.history.epochs.len()
        ));
    });
    let main = &run.curves;
    let overlays: Vec<(String, &Curves)> = cockpit
        .runs
        .iter()
        .filter(|r| r.overlay && r.folder != run.folder)
        .map(|r| (r.name(), &r.curves))
        .collect();
    let link = egui::Id::unique("cockpit-x");
    let plot = |id: &str| {
        Plot::new(id)
            .height(PLOT_HEIGHT)
            .legend(Legend::default())
            .link_cursor(link, [true, false])
            .include_x(0.0)
            // Epoch numbers are short: label every step that leaves them 24 points apart.
            .custom_x_axes(vec![
                AxisHints::new_x().label("epoch").label_spacing(24.0..=36.0),
            ])
    };
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.columns(2, |columns| {
            columns[0].label("Loss (training per iteration, validation per epoch)");
            plot("loss").show(&mut columns[0], |p| {
                p.line(Line::new("training", main.train_loss.points()).color(TRAINING));
                p.line(
                    Line::new("training (epoch mean)", main.epoch_train_loss.clone())
                        .color(TRAINING)
                        .style(LineStyle::dotted_dense()),
                );
                p.line(
                    Line::new("validation", main.validation_loss.clone())
                        .color(VALIDATION)
                        .width(2.0),
                );
                p.points(
                    Points::new("validation", main.validation_loss.clone())
                        .color(VALIDATION)
                        .radius(3.0),
                );
                for (name, s) in &overlays {
                    p.line(
                        Line::new(format!("{name}: training"), s.train_loss.points())
                            .style(LineStyle::dashed_loose()),
                    );
                    p.line(
                        Line::new(format!("{name}: validation"), s.validation_loss.clone())
                            .style(LineStyle::dashed_loose()),
                    );
                }
            });
            columns[1].label("Validation accuracy per task");
            plot("accuracy")
                .include_y(0.0)
                .include_y(1.0)
                .show(&mut columns[1], |p| {
                    for (task, points) in &main.accuracy {
                        let colour = TASK_COLOURS[task.index()];
                        p.line(Line::new(task.name(), points.clone()).color(colour));
                        p.points(
                            Points::new(task.name(), points.clone())
                                .color(colour)
                                .radius(3.0),
                        );
                    }
                    p.line(
                        Line::new("mean", main.mean_accuracy.clone())
                            .color(MEAN)
                            .width(2.5),
                    );
                    for (name, s) in &overlays {
                        for (task, points) in &s.accuracy {
                            p.line(
                                Line::new(format!("{name}: {task}"), points.clone())
                                    .color(TASK_COLOURS[task.index()])
                                    .style(LineStyle::dashed_loose()),
                            );
                        }
                        p.line(
                            Line::new(format!("{name}: mean"), s.mean_accuracy.clone())
                                .style(LineStyle::dashed_loose()),
                        );
                    }
                });
            columns[0].label("Loss per task (training per iteration, validation dashed)");
            plot("task-loss").show(&mut columns[0], |p| {
                for (task, series) in &main.task_losses {
                    p.line(
                        Line::new(task.name(), series.points()).color(TASK_COLOURS[task.index()]),
                    );
                }
                // Named as the training line: one legend entry per task shows or hides both.
                for (task, points) in &main.validation_task_losses {
                    let colour = TASK_COLOURS[task.index()];
                    p.line(
                        Line::new(task.name(), points.clone())
                            .color(colour)
                            .style(LineStyle::dashed_loose()),
                    );
                    p.points(
                        Points::new(task.name(), points.clone())
                            .color(colour)
                            .radius(3.0),
                    );
                }
            });
            columns[1].label("Learning rate");
            plot("learning-rate")
                .include_y(0.0)
                .show(&mut columns[1], |p| {
                    p.line(Line::new("learning rate", main.learning_rate.points()));
                });
            columns[0].label("Training images per second");
            plot("speed").include_y(0.0).show(&mut columns[0], |p| {
                p.line(Line::new("images/s", main.speed.points()));
                for (name, s) in &overlays {
                    p.line(
                        Line::new(format!("{name}: images/s"), s.speed.points())
                            .style(LineStyle::dashed_loose()),
                    );
                }
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_text(12.4), "12 s");
        assert_eq!(duration_text(250.0), "4 min 10 s");
        assert_eq!(duration_text(7500.0), "2 h 05 min");
        assert_eq!(duration_text(-3.0), "0 s");
    }
}
