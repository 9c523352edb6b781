//! The Duplicates view: the clusters of the open catalogue, conflicting labels first, each
//! with its products' photos side by side and their labels (those that differ marked); one
//! click gives the whole cluster one label (one batch), opens it in the grid, or marks it as
//! not duplicates.

use super::product_ui::thumb_ui;
use crate::app::command::{CockpitCommand, Command, DuplicatesCommand};
use crate::app::images::{ImageKey, ImageSize};
use crate::app::state::{AppState, Session};
use crate::catalog::Task;
use crate::labels::EditSource;
use crate::similarity::copies::Copy;
use crate::similarity::duplicates::{Cluster, Evidence};
use egui::{RichText, vec2};
use std::collections::BTreeSet;

/// One product's photo in a cluster, in points.
const THUMB: egui::Vec2 = vec2(96.0, 115.0);
/// The height of one cluster's row.
const ROW: f32 = 250.0;

/// Draws the view.
pub fn duplicates_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    let duplicates = &state.duplicates;
    let mut wanted = Vec::new();
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            let running = duplicates.running.is_some();
            if ui
                .add_enabled(!running, egui::Button::new("Find duplicates"))
                .on_hover_text(
                    "exact copies among the photos, and near duplicates by the representation of the run shown",
                )
                .clicked()
            {
                commands.push(Command::Duplicates(DuplicatesCommand::Find));
            }
            let mut fraction = duplicates.fraction;
            let slider = ui
                .add_enabled(
                    !duplicates.exact_only,
                    egui::Slider::new(&mut fraction, 0.02..=0.5).text("x median neighbour distance"),
                )
                .on_hover_text(
                    "near duplicates: closer than this fraction of the median distance of a product to its nearest neighbour (0.13, cleanlab's default)",
                );
            if slider.changed() {
                commands.push(Command::Duplicates(DuplicatesCommand::SetFraction(fraction)));
            }
            let mut exact = duplicates.exact_only;
            if ui.checkbox(&mut exact, "exact copies only").changed() {
                commands.push(Command::Duplicates(DuplicatesCommand::SetExactOnly(exact)));
            }
        });
        if let Some((done, total)) = duplicates.running {
            ui.horizontal(|ui| {
                ui.spinner();
                let fraction = if total > 0 { done as f32 / total as f32 } else { 0.0 };
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .text(format!("comparing photos: {done} of {total}"))
                        .desired_width(320.0),
                );
                if ui.button("Cancel").clicked() {
                    commands.push(Command::Duplicates(DuplicatesCommand::Cancel));
                }
            });
        }
        let Some(report) = &duplicates.report else {
            if duplicates.running.is_none() {
                ui.weak("No search yet: Find duplicates looks at every photo, and at the representation of the run whose predictions are shown.");
            }
            return;
        };
        let (report, what) = match report {
            Ok(found) => found,
            Err(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
                return;
            }
        };
        let conflicting = report.clusters.iter().filter(|c| !c.conflicts.is_empty()).count();
        ui.label(format!(
            "{} clusters, {conflicting} with conflicting labels: {what}; {} photos compared, {} pairs share a photo{}{}",
            report.clusters.len(),
            report.photos,
            report.copy_pairs,
            report
                .near
                .as_ref()
                .map(|n| format!(
                    ", {} near-duplicate pairs under distance {:.4}",
                    n.pairs.len(),
                    n.radius
                ))
                .unwrap_or_default(),
            if report.unreadable.is_empty() {
                String::new()
            } else {
                format!(", {} photos unreadable", report.unreadable.len())
            }
        ));
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("clusters")
            .auto_shrink([false, false])
            .show_rows(ui, ROW, report.clusters.len(), |ui, rows| {
                for index in rows {
                    let cluster = &report.clusters[index];
                    ui.allocate_ui(vec2(ui.available_width(), ROW), |ui| {
                        cluster_ui(ui, state, session, index, cluster, &mut wanted, commands);
                    });
                }
            });
    });
    commands.push(Command::WantImages(wanted));
}

fn cluster_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    index: usize,
    cluster: &Cluster,
    wanted: &mut Vec<ImageKey>,
    commands: &mut Vec<Command>,
) {
    // Labels as they are now (a fix made since the search shows at once).
    let differing: Vec<Task> = Task::ALL
        .into_iter()
        .filter(|&task| {
            let labels: BTreeSet<&str> = cluster
                .members
                .iter()
                .filter_map(|&p| session.label(p, task))
                .collect();
            labels.len() > 1
        })
        .collect();
    let how = describe(cluster);
    ui.horizontal(|ui| {
        let title = RichText::new(format!(
            "#{} · {} products · {how}",
            index + 1,
            cluster.members.len()
        ))
        .strong();
        if differing.is_empty() {
            ui.label(title);
        } else {
            ui.label(title.color(ui.visuals().warn_fg_color));
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "labels differ: {}",
                    differing
                        .iter()
                        .map(|t| t.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        if ui.small_button("Open in grid").clicked() {
            commands.push(Command::Cockpit(CockpitCommand::ShowProducts {
                title: format!("duplicate cluster #{}", index + 1),
                positions: cluster.members.clone(),
            }));
        }
        if ui
            .small_button("Not duplicates")
            .on_hover_text("they are different products: journalled, never raised again")
            .clicked()
        {
            commands.push(Command::Duplicates(DuplicatesCommand::MarkApart(index)));
        }
    });
    // One label for the whole cluster, per task whose labels differ: one batch.
    for &task in &differing {
        ui.horizontal(|ui| {
            ui.label(format!("one {task} for the cluster:"));
            let labels: BTreeSet<&str> = cluster
                .members
                .iter()
                .filter_map(|&p| session.label(p, task))
                .collect();
            for label in labels {
                if ui
                    .small_button(format!("all {label}"))
                    .on_hover_text(format!(
                        "set {task} of all {} products to {label}, as one batch (undo takes it back whole)",
                        cluster.members.len()
                    ))
                    .clicked()
                {
                    commands.push(Command::SetLabel {
                        task,
                        value: Some(label.to_string()),
                        source: EditSource::Bulk,
                        targets: cluster.members.clone(),
                    });
                }
            }
        });
    }
    egui::ScrollArea::horizontal()
        .id_salt(("cluster", index))
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                for &p in &cluster.members {
                    let Some(product) = session.product(p) else {
                        continue;
                    };
                    ui.vertical(|ui| {
                        ui.set_width(THUMB.x + 40.0);
                        if let Some(image) = product.images.first() {
                            let key = ImageKey {
                                path: session.catalog.image_root.join(&*image.path).into(),
                                size: ImageSize::thumb_for(THUMB.y * ui.ctx().pixels_per_point()),
                            };
                            if thumb_ui(ui, state, &key, THUMB, false)
                                .on_hover_text(format!(
                                    "{} {}: click to open",
                                    product.id, product.name
                                ))
                                .clicked()
                            {
                                commands.push(Command::Cockpit(CockpitCommand::ShowProducts {
                                    title: format!("duplicate cluster #{}", index + 1),
                                    positions: cluster.members.clone(),
                                }));
                                commands.push(Command::FocusProduct(p));
                            }
                            wanted.push(key);
                        }
                        ui.label(RichText::new(&*product.id).small().strong());
                        for task in Task::ALL {
                            let label = session.label(p, task).unwrap_or("—");
                            let text = RichText::new(label).small();
                            if differing.contains(&task) {
                                ui.label(text.color(ui.visuals().warn_fg_color).strong())
                                    .on_hover_text(format!("{task} differs within the cluster"));
                            } else {
                                ui.label(text.weak());
                            }
                        }
                    });
                }
            });
        });
    ui.separator();
}

/// How the cluster's products were joined, for its title.
fn describe(cluster: &Cluster) -> String {
    let mut parts = Vec::new();
    let count =
        |f: &dyn Fn(&Evidence) -> bool| cluster.links.iter().filter(|l| f(&l.evidence)).count();
    let same_file = count(&|e| *e == Evidence::Copy(Copy::SameFile));
    let same_pixels = count(&|e| *e == Evidence::Copy(Copy::SamePixels));
    if same_file > 0 {
        parts.push("same photo file".to_string());
    }
    if same_pixels > 0 {
        parts.push("same pixels".to_string());
    }
    let closest = cluster
        .links
        .iter()
        .filter_map(|l| match l.evidence {
            Evidence::Near(d) => Some(d),
            Evidence::Copy(_) => None,
        })
        .reduce(f32::min);
    if let Some(d) = closest {
        // Copies re-encoded or resized sit at distances like 1e-6: four decimals would say 0.
        parts.push(format!("near duplicates (distance {d:.2e})"));
    }
    parts.join(", ")
}
