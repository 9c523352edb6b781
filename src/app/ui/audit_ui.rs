//! The Audit view: the review queue of the open audit. A header (the audit, where its
//! probabilities come from, the progress, one tab per task), the list of suspected issues
//! (virtualised, the current one highlighted), the current card (photos, given label,
//! suggestion, the model's top classes, each witness, tier and score) and the task's noise
//! matrix (a cell narrows the list to its products; a whole cell can be accepted at once).

use super::grid_ui::{fit, thumb_picture};
use super::percent;
use crate::app::audit_queue::{AuditQueue, Card, Outcome};
use crate::app::command::{AuditCommand, Command};
use crate::app::images::{ImageKey, ImageSize};
use crate::app::keys::AUDIT_HELP;
use crate::app::state::{AppState, Picture, Session};
use crate::audit::combine::Tier;
use crate::audit::report::{TaskReport, product_texts};
use egui::text::{LayoutJob, TextFormat};
use egui::{Align2, Color32, FontId, Rect, RichText, Sense, pos2, vec2};

/// Height of a row of the list.
const ROW: f32 = 20.0;
/// Widest a photo of the card is drawn, in points (they share one row).
const PHOTO_WIDTH: f32 = 220.0;
/// Height over width of a photo's box (the Luma photos are portrait).
const PHOTO_ASPECT: f32 = 1.2;
/// Most photos a card shows.
const PHOTOS: usize = 6;

/// Draws the Audit view.
pub fn audit_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    let Some(audit) = &state.audit.queue else {
        egui::CentralPanel::default().show(ui, |ui| {
            if let Some(folder) = &state.audit.loading {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("reading the audit {}…", folder.display()));
                });
            } else {
                ui.label(
                    "No audit open. File > Open audit… opens an audit folder made by \
                     `vitrine audit CATALOG --out DIR` (or a run folder with probabilities): \
                     its suspected wrong labels, ranked, to review here one by one.",
                );
            }
        });
        return;
    };
    egui::Panel::top("audit_header").show(ui, |ui| header_ui(ui, state, audit, commands));
    let Some((report, _)) = audit.current() else {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.label("The audit has no task with labels to review.");
        });
        return;
    };
    egui::Panel::left("audit_list")
        .resizable(true)
        .default_size(320.0)
        .show(ui, |ui| list_ui(ui, session, audit, commands));
    egui::Panel::right("audit_matrix")
        .resizable(true)
        .default_size(430.0)
        .show(ui, |ui| matrix_ui(ui, audit, report, commands));
    let mut wanted = Vec::new();
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .id_salt("audit_card")
            .show(ui, |ui| {
                card_ui(ui, state, session, audit, &mut wanted, commands)
            });
    });
    commands.push(Command::WantImages(wanted));
    confirm_ui(ui.ctx(), state, session, audit, commands);
}

fn header_ui(ui: &mut egui::Ui, state: &AppState, audit: &AuditQueue, commands: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        ui.strong(format!("Audit {}", audit.name))
            .on_hover_text(audit.folder.display().to_string());
        ui.separator();
        match audit.report.provenance {
            Some(p) if p.is_biased() => {
                ui.colored_label(ui.visuals().warn_fg_color, p.label())
                    .on_hover_text(
                        "the model trained on these products' labels, wrong ones included: \
                         its ranking favours the labels it fit (an audit's out-of-fold \
                         predictions do not)",
                    );
            }
            Some(p) => {
                ui.label(p.label())
                    .on_hover_text("every product predicted by a model that never saw its label");
            }
            None => {
                ui.weak("provenance unknown");
            }
        }
        ui.separator();
        let (reviewed, total) = audit
            .tasks()
            .fold((0, 0), |(r, t), (_, q)| (r + q.reviewed(), t + q.total()));
        ui.label(format!("reviewed {reviewed} / {total}"));
        if state.audit.loading.is_some() {
            ui.separator();
            ui.spinner();
            ui.label("reading another audit…");
        }
    });
    ui.horizontal(|ui| {
        let current = audit.current().map(|(t, _)| t.task);
        for (i, (report, queue)) in audit.tasks().enumerate() {
            let open = queue.total() - queue.reviewed();
            let text = format!("{} ({open})", report.task);
            let tab = ui
                .selectable_label(current == Some(report.task), text)
                .on_hover_text(format!(
                    "{} in the queue, {} reviewed; about {} wrong labels left",
                    queue.total(),
                    queue.reviewed(),
                    audit.estimated_left(i)
                ));
            if tab.clicked() {
                commands.push(AuditCommand::SetTask(report.task).into());
            }
        }
    });
    let Some((report, queue)) = audit.current() else {
        return;
    };
    let index = audit
        .tasks()
        .position(|(t, _)| t.task == report.task)
        .unwrap_or(0);
    ui.horizontal(|ui| {
        ui.label(format!(
            "{}: reviewed {} / {}; about {} wrong labels left (noise matrix {}, {} fixed since)",
            report.task,
            queue.reviewed(),
            queue.total(),
            audit.estimated_left(index),
            report.estimated_errors(),
            queue.fixed()
        ));
        if let Some(accuracy) = report.accuracy {
            ui.separator();
            ui.label(format!("model accuracy {accuracy:.2}"));
        }
        if report.kept > 0 {
            ui.separator();
            ui.label(format!("{} left out: kept by a review", report.kept));
        }
    });
}

fn list_ui(ui: &mut egui::Ui, session: &Session, audit: &AuditQueue, commands: &mut Vec<Command>) {
    let Some((report, queue)) = audit.current() else {
        return;
    };
    if let Some((given, suggested)) = queue.cell {
        ui.horizontal(|ui| {
            let name = |c: usize| report.classes.get(c).map_or("?", String::as_str);
            let chip = format!(
                "{} -> {} ({})  x",
                name(given),
                name(suggested),
                queue.shown.len()
            );
            if ui
                .button(chip)
                .on_hover_text("only this noise-matrix cell's products: click to show them all")
                .clicked()
            {
                commands.push(AuditCommand::FilterCell(None).into());
            }
            let open = queue
                .shown
                .iter()
                .filter(|&&c| queue.done(c).is_none())
                .count();
            if ui
                .add_enabled(open > 0, egui::Button::new(format!("Accept all {open}…")))
                .on_hover_text(format!(
                    "set each to {} as one batch, after a confirmation",
                    name(suggested)
                ))
                .clicked()
            {
                commands.push(AuditCommand::AskAcceptCell.into());
            }
        });
        ui.separator();
    }
    if queue.shown.is_empty() {
        ui.weak(if queue.cell.is_some() {
            "No product of this cell is in the queue."
        } else {
            "Nothing to review for this task: no label is in doubt."
        });
        return;
    }
    let id = ui.make_persistent_id(("audit_list", report.task));
    // Scroll the current card into view when it changed (an action, a key, a filter), not
    // every frame: the list stays where the wheel put it otherwise.
    let shown_before: Option<usize> = ui.data(|d| d.get_temp(id));
    let mut area = egui::ScrollArea::vertical().id_salt(id).auto_shrink(false);
    if shown_before != Some(queue.cursor) {
        let offset = egui::scroll_area::State::load(ui.ctx(), ui.make_persistent_id(id))
            .map(|s| s.clamped_offset().y)
            .unwrap_or(0.0);
        let step = ROW + ui.spacing().item_spacing.y;
        let (top, view) = (queue.cursor as f32 * step, ui.available_height());
        if top < offset {
            area = area.vertical_scroll_offset(top);
        } else if top + step > offset + view {
            area = area.vertical_scroll_offset((top + step - view).max(0.0));
        }
        ui.data_mut(|d| d.insert_temp(id, queue.cursor));
    }
    let visuals = ui.visuals().clone();
    area.show_rows(ui, ROW, queue.shown.len(), |ui, range| {
        for row in range {
            let card = queue.shown[row];
            let Some(suspect) = report.queue.get(card as usize) else {
                continue;
            };
            let width = ui.available_width();
            let (rect, response) = ui.allocate_exact_size(vec2(width, ROW), Sense::click());
            let current = row == queue.cursor;
            if current {
                ui.painter()
                    .rect_filled(rect, 2.0, visuals.selection.bg_fill.gamma_multiply(0.5));
            } else if response.hovered() {
                ui.painter()
                    .rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
            }
            let id = report
                .positions
                .get(suspect.row)
                .and_then(|&p| session.product(p as u32))
                .map_or("?", |p| &*p.id);
            let name = |c: usize| report.classes.get(c).map_or("?", String::as_str);
            let done = queue.done(card);
            let mark = match done {
                Some(Outcome::Changed) => "fixed: ",
                Some(Outcome::Kept) => "kept: ",
                None => "",
            };
            let text = format!(
                "{mark}{}. {id}  {} -> {}",
                card + 1,
                name(suspect.given),
                name(suspect.suggestion())
            );
            let color = if done.is_some() {
                visuals.weak_text_color()
            } else {
                visuals.text_color()
            };
            let painter = ui.painter_at(rect);
            painter.text(
                rect.left_center() + vec2(4.0, 0.0),
                Align2::LEFT_CENTER,
                text,
                FontId::proportional(13.0),
                color,
            );
            painter.text(
                rect.right_center() - vec2(4.0, 0.0),
                Align2::RIGHT_CENTER,
                format!("{:.3}", suspect.combined),
                FontId::monospace(11.0),
                visuals.weak_text_color(),
            );
            let label = format!("queue row {} {id}", card + 1);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
            if response.clicked() {
                commands.push(AuditCommand::Select(row).into());
            }
        }
    });
}

/// Where the class names of a suspect's witnesses stand, in words.
fn tier_words(tier: Tier) -> &'static str {
    match tier {
        Tier::BothAgree => {
            "two witnesses: the image and the text or the duplicates name the same class"
        }
        Tier::Both => {
            "two witnesses: the image and the text or the duplicates each name another class"
        }
        Tier::ImageOnly => "image only: the model doubts the label, the other witnesses are silent",
        Tier::DuplicateOnly => {
            "duplicates only: its duplicates carry another class, the model backs this label"
        }
        Tier::TextOnly => "text only: the text names another class, the model backs the label",
    }
}

fn card_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    audit: &AuditQueue,
    wanted: &mut Vec<ImageKey>,
    commands: &mut Vec<Command>,
) {
    let (Some(card), Some((report, queue))) = (audit.card(), audit.current()) else {
        ui.label("No card.");
        return;
    };
    let Some(product) = session.product(card.position) else {
        return;
    };
    let suspect = card.suspect;
    let name = |c: usize| report.classes.get(c).map_or("?", String::as_str);
    ui.horizontal(|ui| {
        ui.heading(&*product.id);
        ui.weak(format!(
            "#{} of {} in {}",
            card.index + 1,
            queue.total(),
            report.task
        ));
    });
    let texts = product_texts(product);
    if let Some(text) = &suspect.text {
        if text.text == 0 && !product.name.is_empty() {
            ui.label(highlighted(ui, &product.name, text.span.clone()));
        } else {
            ui.label(&*product.name);
        }
    } else if !product.name.is_empty() {
        ui.label(&*product.name);
    }
    photos_ui(ui, state, session, card, wanted);
    // The next card's photos, so moving on finds them ready.
    if let Some(next) = queue.shown.get(queue.cursor + 1)
        && let Some(p) = audit.position(*next).and_then(|p| session.product(p))
    {
        let (_, size) = photo_box(ui, p.images.len());
        for image in p.images.iter().take(PHOTOS) {
            wanted.push(ImageKey {
                path: session.catalog.image_root.join(&*image.path).into(),
                size,
            });
        }
    }
    ui.add_space(6.0);
    let current = session.label(card.position, card.task);
    egui::Grid::new("audit_card_facts")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.strong("Given");
            let given = name(suspect.given);
            match current {
                Some(now) if now != given => {
                    ui.label(format!("{now} (was {given} when audited)"));
                }
                Some(now) => {
                    ui.label(RichText::new(now).strong());
                }
                None => {
                    ui.label(format!("(none; was {given} when audited)"));
                }
            };
            ui.end_row();
            ui.strong("Suggested");
            let from = if suspect.tier == Tier::TextOnly {
                "the text's class".to_string()
            } else {
                format!("p {}", percent(suspect.image.suggested_probability as f32))
            };
            ui.label(
                RichText::new(format!("{}  ({from})", name(suspect.suggestion())))
                    .strong()
                    .color(ui.visuals().hyperlink_color),
            );
            ui.end_row();
            ui.strong("Model");
            ui.horizontal_wrapped(|ui| {
                for (rank, (_, class, p)) in audit.top_classes(suspect).iter().enumerate() {
                    let text = format!("{} {class} {}", rank + 1, percent(*p));
                    let response = ui
                        .add_enabled(
                            card.done.is_none() && current != Some(*class),
                            egui::Button::new(text).small(),
                        )
                        .on_hover_text(format!("set {} to {class} ({})", card.task, rank + 1));
                    if response.clicked() {
                        commands.push(AuditCommand::Choose(rank).into());
                    }
                }
            });
            ui.end_row();
            ui.strong("Image");
            let image = &suspect.image;
            ui.label(if image.flagged {
                format!(
                    "flagged by confident learning; {} {:.3} (lower: more likely wrong)",
                    report_rank(audit),
                    image.score
                )
            } else {
                format!(
                    "not flagged (the model finds {} most probable); {} {:.3}",
                    name(image.suggested),
                    report_rank(audit),
                    image.score
                )
            });
            ui.end_row();
            ui.strong("Text");
            match &suspect.text {
                Some(witness) => {
                    let text = texts.get(witness.text).copied().unwrap_or("");
                    let word = text.get(witness.span.clone()).unwrap_or("");
                    ui.label(format!(
                        "'{word}' in \"{text}\" names {}",
                        name(witness.class)
                    ));
                }
                None => {
                    ui.weak("silent (the text names no other class)");
                }
            }
            ui.end_row();
            ui.strong("Duplicates");
            match &suspect.duplicate {
                Some(witness) => {
                    ui.label(format!(
                        "{} of its {} labelled {} carry {}",
                        witness.agreeing,
                        witness.others,
                        if witness.copy {
                            "duplicates (sharing a photo)"
                        } else {
                            "look-alikes (near-duplicate representations)"
                        },
                        name(witness.class)
                    ));
                }
                None if state.duplicates.report.is_some() => {
                    ui.weak("silent (no duplicate carries another class)");
                }
                None => {
                    ui.weak("not searched (the Duplicates view finds them, then they speak here)");
                }
            }
            ui.end_row();
            ui.strong("Tier");
            ui.label(tier_words(suspect.tier));
            ui.end_row();
            ui.strong("Score");
            ui.label(format!(
                "{:.3} (tier + score: the queue's order)",
                suspect.combined
            ));
            ui.end_row();
        });
    ui.add_space(8.0);
    match card.done {
        Some(Outcome::Changed) => {
            ui.colored_label(
                ui.visuals().hyperlink_color,
                format!("Reviewed: changed to {}", current.unwrap_or("(none)")),
            );
        }
        Some(Outcome::Kept) => {
            ui.colored_label(
                ui.visuals().hyperlink_color,
                "Reviewed: kept (checked, it is right)",
            );
        }
        None => {}
    }
    ui.horizontal(|ui| {
        let open = card.done.is_none();
        let buttons = [
            ("Accept (Enter)", AuditCommand::Accept, open),
            ("Keep (K)", AuditCommand::Keep, open),
            ("Skip (S)", AuditCommand::Skip, true),
            ("Pick… (E)", AuditCommand::Pick, open),
            ("Undo (Ctrl+Z)", AuditCommand::Undo, audit.can_undo()),
        ];
        for (text, command, enabled) in buttons {
            if ui.add_enabled(enabled, egui::Button::new(text)).clicked() {
                commands.push(command.into());
            }
        }
    });
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        for (keys, what) in AUDIT_HELP {
            ui.weak(format!("{keys}: {what}  "));
        }
    });
}

fn report_rank(audit: &AuditQueue) -> &'static str {
    audit.report.rank_by.name()
}

/// The box of each photo of a card showing `count` photos, all in one row of the width
/// available, and its thumbnail tier on this display.
fn photo_box(ui: &egui::Ui, count: usize) -> (egui::Vec2, ImageSize) {
    let count = count.clamp(1, PHOTOS) as f32;
    let spacing = ui.spacing().item_spacing.x;
    let width = ((ui.available_width() - spacing * (count - 1.0)) / count).clamp(60.0, PHOTO_WIDTH);
    let size = vec2(width, width * PHOTO_ASPECT);
    (
        size,
        ImageSize::thumb_for(size.y * ui.ctx().pixels_per_point()),
    )
}

fn photos_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    card: Card<'_>,
    wanted: &mut Vec<ImageKey>,
) {
    let Some(product) = session.product(card.position) else {
        return;
    };
    if product.images.is_empty() {
        ui.weak("This product has no photo.");
        return;
    }
    let (photo, size) = photo_box(ui, product.images.len());
    ui.horizontal(|ui| {
        for image in product.images.iter().take(PHOTOS) {
            let key = ImageKey {
                path: session.catalog.image_root.join(&*image.path).into(),
                size,
            };
            let (rect, _) = ui.allocate_exact_size(photo, Sense::hover());
            let painter = ui.painter_at(rect);
            painter.rect_filled(rect, 3.0, ui.visuals().faint_bg_color);
            match thumb_picture(state, &key) {
                Some(Picture::Ready(texture)) => {
                    painter.image(
                        texture.id(),
                        fit(texture.size_vec2(), rect),
                        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                        Color32::WHITE,
                    );
                }
                Some(Picture::Failed(reason)) => {
                    painter.text(
                        rect.center(),
                        Align2::CENTER_CENTER,
                        format!("! {reason}"),
                        FontId::proportional(11.0),
                        ui.visuals().warn_fg_color,
                    );
                }
                None => {}
            }
            wanted.push(key);
        }
        if product.images.len() > PHOTOS {
            ui.weak(format!("+{} more", product.images.len() - PHOTOS));
        }
    });
}

/// `text` with its byte range `span` drawn strong (the words the text witness matched).
fn highlighted(ui: &egui::Ui, text: &str, span: std::ops::Range<usize>) -> LayoutJob {
    let font = FontId::proportional(14.0);
    let plain = TextFormat::simple(font.clone(), ui.visuals().text_color());
    let strong = TextFormat {
        background: ui.visuals().warn_fg_color.gamma_multiply(0.35),
        ..TextFormat::simple(font, ui.visuals().strong_text_color())
    };
    let mut job = LayoutJob::default();
    match (
        text.get(..span.start),
        text.get(span.clone()),
        text.get(span.end..),
    ) {
        (Some(before), Some(word), Some(after)) => {
            job.append(before, 0.0, plain.clone());
            job.append(word, 0.0, strong);
            job.append(after, 0.0, plain);
        }
        _ => job.append(text, 0.0, plain),
    }
    job
}

/// Size of the class column and the header row, in points.
const HEADER: egui::Vec2 = egui::vec2(100.0, 22.0);
/// Size of one cell.
const CELL: egui::Vec2 = egui::vec2(34.0, 22.0);

fn matrix_ui(
    ui: &mut egui::Ui,
    audit: &AuditQueue,
    report: &TaskReport,
    commands: &mut Vec<Command>,
) {
    let joint = &report.audit.calibrated_joint;
    let classes = joint.classes();
    ui.strong(format!("Noise matrix: {}", report.task));
    ui.weak(
        "rows: the given class; columns: the class the model finds (calibrated confident \
         joint). Click a cell to review its products.",
    );
    let selected = audit.current().and_then(|(_, q)| q.cell);
    let largest = joint
        .cells()
        .iter()
        .enumerate()
        .filter(|(i, _)| i / classes.max(1) != i % classes.max(1))
        .map(|(_, &n)| n)
        .max()
        .unwrap_or(0)
        .max(1);
    let size = HEADER + vec2(classes as f32 * CELL.x, classes as f32 * CELL.y);
    egui::ScrollArea::both()
        .id_salt(("audit_matrix", report.task))
        .show(ui, |ui| {
            let (rect, response) = ui.allocate_exact_size(size, Sense::click());
            let label = format!("noise matrix of {}", report.task);
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Grid, true, &label));
            // Painted, only the cells in view: a 143-class matrix is 20,000 cells.
            let painter = ui.painter_at(rect);
            let visible = ui.clip_rect();
            let origin = rect.min;
            let text = ui.visuals().text_color();
            let weak = ui.visuals().weak_text_color();
            let small = FontId::proportional(11.0);
            let body = FontId::proportional(12.0);
            let cell = |r: usize, c: usize| {
                Rect::from_min_size(
                    origin + HEADER + vec2(c as f32 * CELL.x, r as f32 * CELL.y),
                    CELL,
                )
            };
            let name = |c: usize| report.classes.get(c).map_or("?", String::as_str);
            let columns = visible_range(
                visible.left() - origin.x - HEADER.x,
                visible.width(),
                CELL.x,
                classes,
            );
            let rows = visible_range(
                visible.top() - origin.y - HEADER.y,
                visible.height(),
                CELL.y,
                classes,
            );
            for c in columns.clone() {
                painter.text(
                    cell(0, c).center_top() - vec2(0.0, 4.0),
                    Align2::CENTER_BOTTOM,
                    short(name(c), 5),
                    small.clone(),
                    weak,
                );
            }
            for r in rows {
                let row = joint.row(r);
                painter.text(
                    pos2(origin.x + 4.0, cell(r, 0).center().y),
                    Align2::LEFT_CENTER,
                    short(name(r), 13),
                    body.clone(),
                    text,
                );
                for c in columns.clone() {
                    let count = row[c];
                    if count == 0 {
                        continue;
                    }
                    let area = cell(r, c).shrink(1.0);
                    let (fill, color) = if r == c {
                        // The labels the model agrees with: dimmed, they are not the point.
                        (Color32::from_gray(70).gamma_multiply(0.5), weak)
                    } else {
                        let share = count as f32 / largest as f32;
                        let red = Color32::from_rgb(190, 60, 50);
                        (red.gamma_multiply(0.25 + 0.75 * share), text)
                    };
                    painter.rect_filled(area, 2.0, fill);
                    painter.text(
                        area.center(),
                        Align2::CENTER_CENTER,
                        count.to_string(),
                        body.clone(),
                        color,
                    );
                }
            }
            if let Some((r, c)) = selected {
                painter.rect_stroke(
                    cell(r, c),
                    2.0,
                    (2.0, ui.visuals().selection.stroke.color),
                    egui::StrokeKind::Inside,
                );
            }
            let hovered = response.hover_pos().and_then(|pos| {
                let inside = pos - origin - HEADER;
                let (r, c) = ((inside.y / CELL.y).floor(), (inside.x / CELL.x).floor());
                (r >= 0.0 && c >= 0.0 && (r as usize) < classes && (c as usize) < classes)
                    .then_some((r as usize, c as usize))
            });
            let Some((r, c)) = hovered else {
                return;
            };
            painter.rect_stroke(
                cell(r, c),
                2.0,
                (1.5, ui.visuals().strong_text_color()),
                egui::StrokeKind::Inside,
            );
            let response = response.on_hover_text_at_pointer(format!(
                "given {}, the model finds {}: {} products (click to review them)",
                name(r),
                name(c),
                joint.get(r, c)
            ));
            if response.clicked() {
                commands.push(AuditCommand::FilterCell(Some((r, c))).into());
            }
        });
}

/// The indices of the cells of `step` points that a view of `length` points starting `from`
/// points into the matrix shows, of `count`.
fn visible_range(from: f32, length: f32, step: f32, count: usize) -> std::ops::Range<usize> {
    let first = (from / step).floor().max(0.0) as usize;
    let last = ((from + length) / step).ceil().max(0.0) as usize;
    first.min(count)..last.min(count)
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

fn confirm_ui(
    ctx: &egui::Context,
    state: &AppState,
    session: &Session,
    audit: &AuditQueue,
    commands: &mut Vec<Command>,
) {
    let Some(batch) = &state.audit.confirm else {
        return;
    };
    let (enter, escape) = ctx.input_mut(|i| {
        (
            i.consume_key(egui::Modifiers::NONE, egui::Key::Enter),
            i.consume_key(egui::Modifiers::NONE, egui::Key::Escape),
        )
    });
    if enter {
        commands.push(AuditCommand::ConfirmAcceptCell.into());
    }
    if escape {
        commands.push(AuditCommand::CancelAcceptCell.into());
    }
    egui::Modal::new(egui::Id::unique("audit_cell_batch")).show(ctx, |ui| {
        ui.heading(format!(
            "Set {} to {} on {} products given {}?",
            batch.task,
            batch.suggested,
            batch.cards.len(),
            batch.given
        ));
        let sample: Vec<&str> = batch
            .cards
            .iter()
            .take(8)
            .filter_map(|&c| audit.position(c).and_then(|p| session.product(p)))
            .map(|p| &*p.id)
            .collect();
        let more = if batch.cards.len() > sample.len() {
            ", …"
        } else {
            ""
        };
        ui.label(format!("{}{more}", sample.join(", ")));
        ui.label(
            "One batch, journalled with the audit's name: Ctrl+Z in the queue undoes it whole.",
        );
        ui.horizontal(|ui| {
            if ui.button("Apply (Enter)").clicked() {
                commands.push(AuditCommand::ConfirmAcceptCell.into());
            }
            if ui.button("Cancel (Esc)").clicked() {
                commands.push(AuditCommand::CancelAcceptCell.into());
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cells_in_view_are_painted() {
        assert_eq!(visible_range(0.0, 100.0, 20.0, 143), 0..5);
        assert_eq!(visible_range(-50.0, 100.0, 20.0, 143), 0..3);
        assert_eq!(visible_range(2800.0, 100.0, 20.0, 143), 140..143);
        assert_eq!(visible_range(5000.0, 100.0, 20.0, 143), 143..143);
        assert_eq!(short("Navy Blue", 5), "Navy…");
    }
}
