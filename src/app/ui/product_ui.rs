//! The product view: the focused product's images large (zoom, previous/next), its five tasks
//! with label, the model's top classes and a disagreement mark, its most similar products,
//! and the label history.

use super::percent;
use crate::app::command::Command;
use crate::app::images::{ImageKey, ImageSize};
use crate::app::keys::KeyAction;
use crate::app::state::{AppState, Picture, Session};
use crate::catalog::Task;
use crate::labels::EditSource;
use crate::labels::change_review::{Verdict, reviewable};
use egui::{Color32, Rect, RichText, Sense, pos2, vec2};

/// Draws the product view; `large` when it replaces the grid.
pub fn product_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    large: bool,
    commands: &mut Vec<Command>,
) {
    let Some(position) = state.selection.focus else {
        ui.label("No product focused.");
        return;
    };
    let Some(product) = session.product(position) else {
        return;
    };
    let mut wanted = Vec::new();
    egui::ScrollArea::vertical()
        .id_salt("product")
        .show(ui, |ui| {
            ui.heading(&*product.id);
            if !product.name.is_empty() {
                ui.label(&*product.name);
            }
            let selected = state.selection.targets().len();
            if selected > 1 {
                ui.label(format!("{selected} products selected: E relabels them all"));
            }
            images_ui(ui, state, session, position, large, &mut wanted, commands);
            ui.separator();
            tasks_ui(ui, state, session, position, commands);
            super::decided_ui::decided_ui(ui, state, session, position, commands);
            ui.separator();
            super::similar_ui::similar_ui(ui, state, session, position, &mut wanted, commands);
            ui.separator();
            history_ui(ui, state, &product.id);
        });
    commands.push(Command::WantImages(wanted));
}

fn images_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    position: u32,
    large: bool,
    wanted: &mut Vec<ImageKey>,
    commands: &mut Vec<Command>,
) {
    let Some(product) = session.product(position) else {
        return;
    };
    if product.images.is_empty() {
        ui.weak("This product has no image.");
        return;
    }
    let index = state.image_index.min(product.images.len() - 1);
    let image = &product.images[index];
    ui.horizontal(|ui| {
        if ui.button("<").on_hover_text("previous image (,)").clicked() {
            commands.push(Command::Key(KeyAction::CycleImage(-1)));
        }
        ui.label(format!(
            "image {} of {}{}",
            index + 1,
            product.images.len(),
            image
                .view
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default()
        ));
        if ui.button(">").on_hover_text("next image (.)").clicked() {
            commands.push(Command::Key(KeyAction::CycleImage(1)));
        }
        let mut zoom = state.zoom;
        if ui
            .add(
                egui::Slider::new(&mut zoom, 0.25..=8.0)
                    .logarithmic(true)
                    .text("zoom"),
            )
            .changed()
        {
            commands.push(Command::SetZoom(zoom));
        }
    });
    let key = ImageKey {
        path: session.catalog.image_root.join(&*image.path).into(),
        size: ImageSize::Large,
    };
    let box_width = ui.available_width();
    let box_height = if large {
        (ui.available_height() * 0.6).max(300.0)
    } else {
        box_width * 1.2
    };
    egui::ScrollArea::both()
        .id_salt("zoomed")
        .max_height(box_height)
        .show(ui, |ui| match state.textures.get(&key) {
            Some(Picture::Ready(texture)) => {
                let size = texture.size_vec2();
                let fit = (box_width / size.x).min(box_height / size.y);
                let shown = size * fit * state.zoom;
                let response =
                    ui.add(egui::Image::new((texture.id(), shown)).sense(Sense::hover()));
                let scroll = ui.input(|i| {
                    if i.modifiers.command {
                        i.smooth_scroll_delta.y
                    } else {
                        0.0
                    }
                });
                if response.hovered() && scroll != 0.0 {
                    commands.push(Command::SetZoom(state.zoom * (1.0 + scroll / 200.0)));
                }
            }
            Some(Picture::Failed(reason)) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("! {}: {reason}", image.path),
                );
            }
            None => {
                ui.allocate_ui(vec2(box_width, box_height), |ui| {
                    ui.centered_and_justified(|ui| ui.spinner());
                });
            }
        });
    wanted.push(key);
    // The strip: every image of the product, click to show it large. Under each, when the
    // predictions say, a bar: its share of the pooled features (filled in the selection
    // colour for the photo that decided the focused task).
    let photos = session.photos(position);
    let decided = photos.and_then(|p| p.decided_by(state.focused_task));
    ui.horizontal_wrapped(|ui| {
        for (i, image) in product.images.iter().enumerate() {
            let key = ImageKey {
                path: session.catalog.image_root.join(&*image.path).into(),
                size: ImageSize::thumb_for(58.0 * ui.ctx().pixels_per_point()),
            };
            ui.vertical(|ui| {
                let response = thumb_ui(ui, state, &key, vec2(48.0, 58.0), i == index);
                if response.clicked() {
                    commands.push(Command::ShowImage(i));
                }
                if let Some(photos) = photos.filter(|p| i < p.photos()) {
                    share_bar(ui, photos.won(i), decided == Some(i)).on_hover_text(format!(
                        "photo {} holds {:.0}% of the pooled features{}",
                        session.photo_name(position, i),
                        photos.won(i) * 100.0,
                        if decided == Some(i) {
                            format!("; it decided {}", state.focused_task)
                        } else {
                            String::new()
                        }
                    ));
                }
            });
            wanted.push(key);
        }
    });
}

/// A bar 48 points wide, filled to `share`.
fn share_bar(ui: &mut egui::Ui, share: f32, decided: bool) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(vec2(48.0, 5.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 1.0, ui.visuals().extreme_bg_color);
    let mut bar = rect;
    bar.set_width(rect.width() * share.clamp(0.0, 1.0));
    let colour = if decided {
        ui.visuals().selection.bg_fill
    } else {
        Color32::GRAY
    };
    painter.rect_filled(bar, 1.0, colour);
    response
}

/// One clickable thumbnail of `size` points (a spinner box until decoded, "!" when it cannot
/// be), outlined when `selected`.
pub fn thumb_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    key: &ImageKey,
    size: egui::Vec2,
    selected: bool,
) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::click());
    let painter = ui.painter_at(rect);
    match super::grid_ui::thumb_picture(state, key) {
        Some(Picture::Ready(texture)) => {
            let fitted = super::grid_ui::fit(texture.size_vec2(), rect);
            painter.image(
                texture.id(),
                fitted,
                Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                Color32::WHITE,
            );
        }
        Some(Picture::Failed(_)) => {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "!",
                egui::FontId::proportional(16.0),
                ui.visuals().warn_fg_color,
            );
        }
        None => {
            painter.rect_filled(rect, 2.0, ui.visuals().extreme_bg_color);
        }
    }
    if selected {
        painter.rect_stroke(
            rect,
            2.0,
            ui.visuals().selection.stroke,
            egui::StrokeKind::Inside,
        );
    }
    response
}

fn tasks_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    position: u32,
    commands: &mut Vec<Command>,
) {
    if session.predictions.is_none() {
        ui.weak("No predictions loaded: labelling only (File > Load predictions…).");
    }
    if let Some((provenance, fold)) = session.provenance(position) {
        let mix = crate::app::opening::ProvenanceMix::one(Some(provenance));
        if let Some(text) = super::provenance_text(ui, "prediction: ", &mix) {
            ui.horizontal(|ui| {
                ui.label(text);
                if let Some(fold) = fold {
                    ui.weak(format!("by the model of fold {fold}"));
                }
            });
        }
    }
    let product_id = session
        .product(position)
        .map_or_else(String::new, |p| p.id.to_string());
    egui::Grid::new("tasks")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            for task in Task::ALL {
                let focused = task == state.focused_task;
                let name = RichText::new(task.name());
                if ui
                    .selectable_label(focused, if focused { name.strong() } else { name })
                    .on_hover_text("T / Shift+T cycles the focused task")
                    .clicked()
                {
                    commands.push(Command::FocusTask(task));
                }
                let label = session.label(position, task);
                let disagrees = session.disagrees(position, task);
                let text = RichText::new(label.unwrap_or("(no label)"));
                ui.label(if disagrees {
                    text.color(ui.visuals().warn_fg_color).strong()
                } else {
                    text
                });
                ui.horizontal(|ui| {
                    if let Some(mark) = session.overrides.get(&product_id, task) {
                        let text = if mark.journalled {
                            format!("changed by {}", crate::catalog::text::excerpt(&mark.by))
                        } else {
                            "not sent".to_string()
                        };
                        ui.colored_label(ui.visuals().error_fg_color, text)
                            .on_hover_text(mark.describe());
                    }
                    if disagrees {
                        ui.colored_label(ui.visuals().warn_fg_color, "!=")
                            .on_hover_text("the model's best class is not the label");
                    }
                    for (rank, (class, p)) in session.top(position, task).iter().take(3).enumerate()
                    {
                        let text = format!("{} {class} {}", rank + 1, percent(*p));
                        let current = label == Some(*class);
                        if ui
                            .add_enabled(!current, egui::Button::new(text).small())
                            .on_hover_text(format!(
                                "set {task} to {class} ({} with {task} focused)",
                                rank + 1
                            ))
                            .clicked()
                        {
                            commands.push(Command::SetLabel {
                                task,
                                value: Some(class.to_string()),
                                source: EditSource::AcceptedPrediction,
                                targets: vec![position],
                            });
                        }
                    }
                    if let Some(photo) = session.photos(position).and_then(|p| p.decided_by(task)) {
                        ui.weak(format!("decided by photo {}", session.photo_name(position, photo)))
                            .on_hover_text("the photo without which the predicted class's probability falls most (the run's predictions say)");
                    }
                });
                if ui
                    .small_button("edit…")
                    .on_hover_text("pick any class (E)")
                    .clicked()
                {
                    commands.push(Command::OpenPicker(task));
                }
                ui.end_row();
            }
        });
}

fn history_ui(ui: &mut egui::Ui, state: &AppState, product: &str) {
    ui.strong("History");
    match &state.history {
        Some(history) if history.product == product => {
            if history.edits.is_empty() {
                ui.weak("no change since import");
            }
            for edit in history.edits.iter().rev() {
                ui.horizontal(|ui| {
                    ui.label(format!(
                        "{}  {}: {} -> {}  ({}, {})",
                        edit.time(),
                        edit.task,
                        edit.old.as_deref().unwrap_or("—"),
                        edit.new.as_deref().unwrap_or("—"),
                        edit.author,
                        edit.source
                    ));
                    match history.verdicts.get(&edit.id) {
                        Some(j) if j.verdict == Verdict::Approved => {
                            ui.colored_label(Color32::from_rgb(60, 160, 90), j.to_string());
                        }
                        Some(j) => {
                            ui.colored_label(ui.visuals().warn_fg_color, j.to_string());
                        }
                        None if reviewable(edit.source) => {
                            ui.weak("unreviewed");
                        }
                        None => {}
                    }
                });
            }
        }
        _ => {
            ui.spinner();
        }
    }
}
