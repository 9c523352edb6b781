//! The product grid: virtualised rows of cards (only the rows on screen are laid out), each with
//! its first image, an image count badge, the five labels and a mark where the prediction
//! disagrees.

use crate::app::command::Command;
use crate::app::images::{ImageKey, ImageSize, THUMB_TIERS};
use crate::app::selection::ClickMode;
use crate::app::state::{AppState, Picture, Session};
use crate::catalog::Task;
use egui::{Align2, Color32, FontId, Rect, Sense, Vec2, pos2, vec2};

const PAD: f32 = 6.0;
const LINE: f32 = 15.0;
/// Portrait photos (the Luma ones are 1274x1580) fill the image box.
const IMAGE_ASPECT: f32 = 1.2;

/// The thumbnail tier for the image box of a card of width `width` on this display.
fn thumb_size(ui: &egui::Ui, width: f32) -> ImageSize {
    ImageSize::thumb_for((width - 2.0 * PAD) * IMAGE_ASPECT * ui.ctx().pixels_per_point())
}

/// What to draw for the thumbnail `key`: itself, or while it loads (after a card size change)
/// the same photo at another tier.
pub fn thumb_picture<'a>(state: &'a AppState, key: &ImageKey) -> Option<&'a Picture> {
    state.textures.get(key).or_else(|| {
        THUMB_TIERS
            .into_iter()
            .map(|side| ImageKey {
                path: key.path.clone(),
                size: ImageSize::Thumb(side),
            })
            .find_map(|other| match state.textures.get(&other) {
                Some(picture @ Picture::Ready(_)) => Some(picture),
                _ => None,
            })
    })
}

/// Height of a card of width `width`.
pub fn card_height(width: f32) -> f32 {
    PAD + (width - 2.0 * PAD) * IMAGE_ASPECT + 4.0 + 6.0 * LINE + PAD
}

/// Draws the grid.
pub fn grid_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    commands: &mut Vec<Command>,
) {
    if state.matches.is_empty() {
        ui.centered_and_justified(|ui| ui.label("No product matches the filters."));
        return;
    }
    let spacing = ui.spacing().item_spacing;
    let width = state.card_size;
    let height = card_height(width);
    let columns =
        (((ui.available_width() + spacing.x) / (width + spacing.x)).floor() as usize).max(1);
    let rows = state.matches.len().div_ceil(columns);
    let row_step = height + spacing.y;
    let visible_rows = ((ui.available_height() / row_step).floor() as usize).max(1);
    if columns != state.columns || visible_rows != state.visible_rows {
        commands.push(Command::SetGridShape {
            columns,
            visible_rows,
        });
    }
    let mut area = egui::ScrollArea::vertical()
        .id_salt("grid")
        .auto_shrink(false);
    let focus_row = state.focus_index().map(|i| i / columns);
    let offset = egui::scroll_area::State::load(ui.ctx(), ui.make_persistent_id("grid"))
        .map(|s| s.clamped_offset().y)
        .unwrap_or(0.0);
    if state.scroll_to_focus {
        if let Some(row) = focus_row {
            let top = row as f32 * row_step;
            let view = ui.available_height();
            if top < offset {
                area = area.vertical_scroll_offset(top);
            } else if top + row_step > offset + view {
                area = area.vertical_scroll_offset((top + row_step - view).max(0.0));
            }
        }
        commands.push(Command::ScrolledToFocus);
    }
    let mut wanted = Vec::new();
    area.show_rows(ui, height, rows, |ui, range| {
        // The next row, after the visible ones, so scrolling down finds it ready.
        let prefetch = range.end..(range.end + 1).min(rows);
        for row in range {
            ui.horizontal(|ui| {
                for column in 0..columns {
                    let index = row * columns + column;
                    let Some(&position) = state.matches.get(index) else {
                        break;
                    };
                    card_ui(ui, state, session, index, position, &mut wanted, commands);
                }
            });
        }
        let size = thumb_size(ui, width);
        for row in prefetch {
            for &position in state.matches.iter().skip(row * columns).take(columns) {
                if let Some(key) = first_image(state, session, position, size) {
                    wanted.push(key);
                }
            }
        }
    });
    commands.push(Command::WantImages(wanted));
}

fn first_image(
    state: &AppState,
    session: &Session,
    position: u32,
    size: ImageSize,
) -> Option<ImageKey> {
    let photo = session.card_photo(position, state.card_photo);
    let image = session.product(position)?.images.get(photo)?;
    Some(ImageKey {
        path: state.image_path(&image.path)?.into(),
        size,
    })
}

fn card_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    index: usize,
    position: u32,
    wanted: &mut Vec<ImageKey>,
    commands: &mut Vec<Command>,
) {
    let Some(product) = session.product(position) else {
        return;
    };
    let width = state.card_size;
    let (rect, response) = ui.allocate_exact_size(vec2(width, card_height(width)), Sense::click());
    let label = format!("product {}", product.id);
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
    if response.clicked() {
        let modifiers = ui.input(|i| i.modifiers);
        let mode = if modifiers.shift {
            ClickMode::Range
        } else if modifiers.command || modifiers.ctrl {
            ClickMode::Toggle
        } else {
            ClickMode::Replace
        };
        commands.push(Command::Click { index, mode });
    }
    if response.double_clicked() {
        commands.push(Command::Key(crate::app::keys::KeyAction::ToggleProductView));
    }
    let visuals = ui.visuals();
    let focused = state.selection.focus == Some(position);
    let selected = state.selection.contains(position);
    let painter = ui.painter_at(rect);
    let fill = if selected {
        visuals.selection.bg_fill.gamma_multiply(0.35)
    } else {
        visuals.faint_bg_color
    };
    painter.rect_filled(rect, 4.0, fill);
    if focused {
        painter.rect_stroke(
            rect,
            4.0,
            visuals.selection.stroke,
            egui::StrokeKind::Inside,
        );
    } else if response.hovered() {
        painter.rect_stroke(
            rect,
            4.0,
            visuals.widgets.hovered.bg_stroke,
            egui::StrokeKind::Inside,
        );
    }
    let image_rect = Rect::from_min_size(
        rect.min + vec2(PAD, PAD),
        vec2(width - 2.0 * PAD, (width - 2.0 * PAD) * IMAGE_ASPECT),
    );
    let text_color = visuals.text_color();
    let weak = visuals.weak_text_color();
    match product
        .images
        .get(session.card_photo(position, state.card_photo))
    {
        None => placeholder(&painter, image_rect, "no image", weak),
        Some(image) => {
            let key = ImageKey {
                path: session.catalog.image_root.join(&*image.path).into(),
                size: thumb_size(ui, width),
            };
            match thumb_picture(state, &key) {
                Some(Picture::Ready(texture)) => {
                    let fitted = fit(texture.size_vec2(), image_rect);
                    painter.image(
                        texture.id(),
                        fitted,
                        Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)),
                        Color32::WHITE,
                    );
                }
                Some(Picture::Failed(reason)) => {
                    placeholder(
                        &painter,
                        image_rect,
                        &format!("! {reason}"),
                        visuals.warn_fg_color,
                    );
                }
                None => {
                    painter.rect_filled(image_rect, 2.0, visuals.extreme_bg_color);
                }
            }
            wanted.push(key);
        }
    }
    if product.images.len() > 1 {
        let badge = format!("{} photos", product.images.len());
        let at = pos2(image_rect.right() - 4.0, image_rect.top() + 4.0);
        let galley = painter.layout_no_wrap(badge, FontId::proportional(11.0), Color32::WHITE);
        let badge_rect = Rect::from_min_size(
            at - vec2(galley.size().x + 8.0, 0.0),
            galley.size() + vec2(8.0, 4.0),
        );
        painter.rect_filled(badge_rect, 6.0, Color32::from_black_alpha(170));
        painter.galley(badge_rect.min + vec2(4.0, 2.0), galley, Color32::WHITE);
    }
    let mut y = image_rect.bottom() + 4.0;
    let x = rect.left() + PAD;
    let font = FontId::proportional(12.0);
    painter.text(
        pos2(x, y),
        Align2::LEFT_TOP,
        &*product.id,
        FontId::proportional(12.5),
        text_color,
    );
    y += LINE;
    for task in Task::ALL {
        let row = Rect::from_min_size(pos2(rect.left() + 2.0, y), vec2(width - 4.0, LINE));
        if focused && task == state.focused_task {
            painter.rect_filled(row, 2.0, visuals.selection.bg_fill.gamma_multiply(0.5));
        }
        let value = session.label(position, task).unwrap_or("—");
        let galley = painter.layout_no_wrap(value.to_string(), font.clone(), text_color);
        let end = galley.size().x;
        painter.galley(pos2(x, y), galley, text_color);
        if session.disagrees(position, task)
            && let Some((predicted, _)) = session.top(position, task).first()
        {
            painter.text(
                pos2(x + end + 4.0, y),
                Align2::LEFT_TOP,
                format!("!= {predicted}"),
                font.clone(),
                visuals.warn_fg_color,
            );
        }
        y += LINE;
    }
}

fn placeholder(painter: &egui::Painter, rect: Rect, text: &str, color: Color32) {
    painter.rect_stroke(rect, 2.0, (1.0, color), egui::StrokeKind::Inside);
    let galley = painter.layout(
        text.to_string(),
        FontId::proportional(11.0),
        color,
        rect.width() - 8.0,
    );
    let at = rect.center() - galley.size() / 2.0;
    painter.galley(at, galley, color);
}

/// The largest rect of `size`'s aspect ratio centred in `outer`.
pub fn fit(size: Vec2, outer: Rect) -> Rect {
    let scale = (outer.width() / size.x).min(outer.height() / size.y);
    Rect::from_center_size(outer.center(), size * scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::DEFAULT_CARD_SIZE;

    #[test]
    fn the_default_card_takes_the_smallest_tier() {
        let ui_box = |card: f32, ppp: f32| (card - 2.0 * PAD) * IMAGE_ASPECT * ppp;
        assert_eq!(
            ImageSize::thumb_for(ui_box(DEFAULT_CARD_SIZE, 1.0)),
            ImageSize::Thumb(200)
        );
        assert_eq!(
            ImageSize::thumb_for(ui_box(DEFAULT_CARD_SIZE, 2.0)),
            ImageSize::Thumb(400)
        );
        assert_eq!(
            ImageSize::thumb_for(ui_box(400.0, 2.0)),
            ImageSize::Thumb(800)
        );
    }

    #[test]
    fn another_tier_stands_in_while_the_wanted_one_loads() {
        let ctx = egui::Context::default();
        let mut state = AppState::new("test".into(), std::path::PathBuf::new());
        let key = |side| ImageKey {
            path: std::path::Path::new("a.jpg").into(),
            size: ImageSize::Thumb(side),
        };
        assert!(thumb_picture(&state, &key(400)).is_none());
        let texture = ctx.load_texture("a", egui::ColorImage::example(), Default::default());
        state
            .textures
            .insert(key(200), Picture::Ready(texture.clone()), 100);
        assert!(matches!(
            thumb_picture(&state, &key(400)),
            Some(Picture::Ready(t)) if t.id() == texture.id()
        ));
        // A failure at one tier is not shown for another: that tier may still decode.
        state.textures = crate::app::state::TextureCache::new(1000);
        state
            .textures
            .insert(key(800), Picture::Failed("x".into()), 10);
        assert!(thumb_picture(&state, &key(400)).is_none());
        assert!(matches!(
            thumb_picture(&state, &key(800)),
            Some(Picture::Failed(_))
        ));
    }
}
