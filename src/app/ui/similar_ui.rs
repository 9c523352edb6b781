//! The product view's Similar strip: the products nearest to the focused one by the model's
//! representation, as thumbnails with their label of the focused task (a label that differs
//! from the focused product's is marked); a click opens one, "Show all" lists them in the grid.

use super::product_ui::thumb_ui;
use crate::app::command::Command;
use crate::app::images::{ImageKey, ImageSize};
use crate::app::similar::SimilarStatus;
use crate::app::state::{AppState, Session};
use egui::{RichText, vec2};

/// Thumbnail box of one similar product, in points.
const THUMB: egui::Vec2 = vec2(64.0, 77.0);

/// Draws the strip for the product at catalogue position `position`.
pub fn similar_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    position: u32,
    wanted: &mut Vec<ImageKey>,
    commands: &mut Vec<Command>,
) {
    let similar = &state.similar;
    ui.horizontal(|ui| {
        ui.strong("Similar");
        match &similar.status {
            SimilarStatus::NoRun => {
                ui.weak("load a run's predictions to see the products its model finds similar");
            }
            SimilarStatus::Loading => {
                ui.spinner();
                ui.weak("reading the run's representations…");
            }
            SimilarStatus::Unavailable(reason) => {
                ui.weak(reason);
            }
            SimilarStatus::Ready {
                note,
                method,
                products,
            } => {
                ui.weak(format!("{note}, {method} over {products} products"));
                if similar.of(position).is_some_and(|f| f.is_ok())
                    && ui
                        .small_button("Show all")
                        .on_hover_text("list them in the grid, most similar first")
                        .clicked()
                {
                    commands.push(Command::ShowSimilar(position));
                }
            }
        }
    });
    if !matches!(similar.status, SimilarStatus::Ready { .. }) {
        return;
    }
    let found = match similar.of(position) {
        None => {
            commands.push(Command::WantSimilar(position));
            ui.spinner();
            return;
        }
        Some(Err(reason)) => {
            ui.weak(reason);
            return;
        }
        Some(Ok(found)) => found,
    };
    let task = state.focused_task;
    let own = session.label(position, task);
    let side = ImageSize::thumb_for(THUMB.y * ui.ctx().pixels_per_point());
    egui::ScrollArea::horizontal()
        .id_salt("similar")
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                for neighbour in found {
                    ui.vertical(|ui| {
                        ui.set_width(THUMB.x);
                        let Some(p) = neighbour.position else {
                            ui.weak(format!("{} (not in the catalogue)", neighbour.id));
                            return;
                        };
                        let Some(product) = session.product(p) else {
                            return;
                        };
                        let response = match product.images.first() {
                            Some(image) => {
                                let key = ImageKey {
                                    path: session.catalog.image_root.join(&*image.path).into(),
                                    size: side,
                                };
                                let response = thumb_ui(ui, state, &key, THUMB, false);
                                wanted.push(key);
                                response
                            }
                            None => ui.add_sized(THUMB, egui::Button::new("no image")),
                        };
                        let label = session.label(p, task);
                        let differs = own.is_some() && label.is_some() && label != own;
                        let label = label.unwrap_or("—");
                        if differs {
                            let text = RichText::new(format!("≠ {label}")).small();
                            ui.label(text.color(ui.visuals().warn_fg_color).strong())
                                .on_hover_text(format!(
                                    "{task} differs from this product's {}",
                                    own.unwrap_or_default()
                                ));
                        } else {
                            ui.label(RichText::new(label).small());
                        }
                        ui.label(
                            RichText::new(format!("{:.3}", neighbour.similarity))
                                .small()
                                .weak(),
                        );
                        if response
                            .on_hover_text(format!(
                                "{} {} (similarity {:.3}): click to open",
                                product.id, product.name, neighbour.similarity
                            ))
                            .clicked()
                        {
                            commands.push(Command::FocusProduct(p));
                        }
                    });
                }
            });
        });
}
