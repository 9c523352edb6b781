//! "Which photo decided" in the product view: per task, how far the predicted class's
//! probability falls with each photo left out of the max-pool, and the photo it falls most
//! without (computed on a worker when asked for).

use crate::app::command::Command;
use crate::app::state::{AppState, Session};
use egui::{Color32, RichText, vec2};

/// Draws the section for the product at catalogue position `position`.
pub fn decided_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    position: u32,
    commands: &mut Vec<Command>,
) {
    if session.predictions.is_none() {
        return;
    }
    let answer = state.decided.of(position);
    ui.horizontal(|ui| {
        ui.strong("Which photo decided");
        if state.decided.asking == Some(position) {
            ui.spinner();
        } else if answer.is_none()
            && ui
                .small_button("Find out")
                .on_hover_text(
                    "the run's model predicts this product again with each photo left out of the max-pool",
                )
                .clicked()
        {
            commands.push(Command::Decide(position));
        }
    });
    let decision = match answer {
        None => return,
        Some(Err(reason)) => {
            ui.weak(reason);
            return;
        }
        Some(Ok(decision)) => decision,
    };
    let n = decision.photos.len();
    if n < 2 {
        ui.weak("one photo: it alone decides");
        return;
    }
    let views: Vec<String> = (0..n).map(|i| session.photo_name(position, i)).collect();
    egui::Grid::new("decided").num_columns(3).show(ui, |ui| {
        for (task, d) in &decision.tasks {
            ui.label(task.name());
            ui.label(format!("{} {:.0}%", d.class, d.probability * 100.0));
            ui.horizontal(|ui| {
                for (j, drop) in d.drop.iter().enumerate() {
                    let (rect, response) =
                        ui.allocate_exact_size(vec2(36.0, 12.0), egui::Sense::hover());
                    let painter = ui.painter_at(rect);
                    painter.rect_filled(rect, 1.0, ui.visuals().extreme_bg_color);
                    let share = (drop / d.probability.max(1e-6)).clamp(0.0, 1.0);
                    let mut bar = rect;
                    bar.set_width(rect.width() * share);
                    let colour = if d.decided_by == Some(j) {
                        ui.visuals().selection.bg_fill
                    } else {
                        Color32::GRAY
                    };
                    painter.rect_filled(bar, 1.0, colour);
                    response.on_hover_text(format!(
                        "without photo {}: {} {:.1}% ({:+.1} points)",
                        views.get(j).cloned().unwrap_or_default(),
                        d.class,
                        d.without[j] * 100.0,
                        -drop * 100.0
                    ));
                }
                match d.decided_by {
                    Some(j) => ui.label(
                        RichText::new(format!(
                            "decided by photo {}",
                            views.get(j).cloned().unwrap_or_default()
                        ))
                        .small(),
                    ),
                    None => ui.weak("no photo holds it up alone"),
                };
            });
            ui.end_row();
        }
    });
}
