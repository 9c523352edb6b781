//! The Map view: the representation of the run shown, laid out in 2-D, as one scatter painted
//! into a single texture (a disc per point, at the screen's pixels, repainted only when the
//! map, its colours, the zoom or the pan change; every other frame draws one textured quad,
//! whatever the number of points). Colour by any
//! task's label, prediction or disagreement; hover a point for its photo and labels; click it
//! to focus it (ringed, and shown in the product panel); drag a box or draw a lasso round
//! products to open them in the grid; scroll to zoom, drag with the right or middle button to pan,
//! double-click to fit.

use super::product_ui::{product_ui, thumb_ui};
use crate::app::command::{CockpitCommand, Command, DialogPurpose, MapCommand};
use crate::app::images::{ImageKey, ImageSize};
use crate::app::map::{ColourBy, SelectTool, ShownMap};
use crate::app::state::{AppState, Session};
use crate::catalog::Task;
use crate::similarity::map::{MapStage, bounds};
use crate::similarity::map_colours::BACKGROUND;
use crate::similarity::map_picture::{dot_radius, paint_dots};
use egui::{Color32, Pos2, Rect, RichText, Sense, Vec2, pos2, vec2};

/// How close, in points, the pointer must be to a point to hover or click it.
const PICK: f32 = 8.0;
/// Legend entries shown before "and N more".
const LEGEND: usize = 14;
/// The hover card's photo.
const THUMB: Vec2 = vec2(120.0, 144.0);

/// Where the map's units land on the screen: fitted to a rectangle, then zoomed and panned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapTransform {
    /// The screen point of the map's centre (before panning).
    pub origin: Pos2,
    /// Screen points per map unit.
    pub scale: f32,
    /// The map point drawn at `origin`.
    pub centre: [f32; 2],
}

impl MapTransform {
    /// Fits `points` into `rect` with a margin, then applies `view`.
    pub fn fit(points: &[[f32; 2]], rect: Rect, view: MapViewport) -> MapTransform {
        let [lo, hi] = bounds(points).unwrap_or([[0.0, 0.0], [1.0, 1.0]]);
        let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(f32::MIN_POSITIVE);
        let side = (rect.width().min(rect.height()) - 24.0).max(10.0);
        MapTransform {
            origin: rect.center() + view.pan,
            scale: side / extent * view.zoom,
            centre: [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0],
        }
    }

    /// The screen position of map point `p` (up is up).
    pub fn to_screen(&self, p: [f32; 2]) -> Pos2 {
        pos2(
            self.origin.x + (p[0] - self.centre[0]) * self.scale,
            self.origin.y - (p[1] - self.centre[1]) * self.scale,
        )
    }
}

/// What the points' picture depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PictureKey {
    revision: u64,
    transform: MapTransform,
    clip: Rect,
    radius: f32,
    size: [usize; 2],
}

/// The zoom and pan the user chose; kept in egui's memory, as a scroll offset is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapViewport {
    /// 1: the whole map fits.
    pub zoom: f32,
    /// Screen points the map moved by.
    pub pan: Vec2,
}

impl Default for MapViewport {
    fn default() -> Self {
        MapViewport {
            zoom: 1.0,
            pan: Vec2::ZERO,
        }
    }
}

/// The picture's size in pixels for `clip`: the screen's pixels, at most `max_side` a side.
fn picture_size(clip: Rect, pixels_per_point: f32, max_side: usize) -> [usize; 2] {
    let side = |points: f32| ((points * pixels_per_point).round() as usize).clamp(1, max_side);
    [side(clip.width()), side(clip.height())]
}

/// The points inside `clip` painted as discs of `radius` points on the map's background, in a
/// picture of `size` pixels that covers `clip`.
fn points_picture(
    points: &[[f32; 2]],
    colours: &[[u8; 3]],
    transform: &MapTransform,
    clip: Rect,
    radius: f32,
    size: [usize; 2],
) -> egui::ColorImage {
    let [r, g, b] = BACKGROUND;
    let mut picture = egui::ColorImage::filled(size, Color32::from_rgb(r, g, b));
    // Pixels per point, across and down; a pixel's centre is half a pixel in.
    let sx = size[0] as f32 / clip.width().max(1.0);
    let sy = size[1] as f32 / clip.height().max(1.0);
    let place = |p: [f32; 2]| {
        let at = transform.to_screen(p);
        (
            (at.x - clip.min.x) * sx - 0.5,
            (at.y - clip.min.y) * sy - 0.5,
        )
    };
    paint_dots(
        &mut picture.pixels,
        size,
        points,
        colours,
        radius * sx.min(sy),
        place,
        |[r, g, b]| Color32::from_rgb(r, g, b),
    );
    picture
}

/// The dot's radius in points: smaller for more points, growing a little with the zoom.
fn radius(points: usize, zoom: f32) -> f32 {
    (dot_radius(points) * zoom.sqrt()).min(6.0)
}

/// Draws the view.
pub fn map_ui(ui: &mut egui::Ui, state: &AppState, session: &Session, commands: &mut Vec<Command>) {
    egui::Panel::right("product")
        .resizable(true)
        .default_size(360.0)
        .show(ui, |ui| product_ui(ui, state, session, false, commands));
    egui::CentralPanel::default().show(ui, |ui| {
        tools_ui(ui, state, session, commands);
        let Some(shown) = &state.map.shown else {
            if state.map.running.is_none() {
                ui.weak(
                    "No map yet: load a run's predictions (its run folder holds the representation), then Compute map.",
                );
            }
            return;
        };
        let map = match shown {
            Ok(map) => map,
            Err(message) => {
                ui.colored_label(ui.visuals().error_fg_color, message);
                return;
            }
        };
        ui.horizontal_wrapped(|ui| {
            ui.weak(&map.note);
            if session.predictions_path().as_ref() != Some(&map.predictions) {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    "this map is of other predictions than those shown: Compute map lays out the run shown",
                );
            }
        });
        legend_ui(ui, map);
        scatter_ui(ui, state, session, map, commands);
    });
}

fn tools_ui(ui: &mut egui::Ui, state: &AppState, session: &Session, commands: &mut Vec<Command>) {
    let map = &state.map;
    ui.horizontal(|ui| {
        let can = map.running.is_none() && session.predictions_path().is_some();
        if ui
            .add_enabled(can, egui::Button::new("Compute map"))
            .on_hover_text("t-SNE of the representation of the run whose predictions are shown; saved in its folder and read back next time")
            .clicked()
        {
            commands.push(Command::Map(MapCommand::Compute));
        }
        ui.separator();
        ui.label("colour by");
        let colour_by = map.colour_by;
        let mut task = colour_by.task();
        let response = egui::ComboBox::from_id_salt("map_task")
            .selected_text(task.to_string())
            .show_ui(ui, |ui| {
                for t in Task::ALL {
                    ui.selectable_value(&mut task, t, t.to_string());
                }
            })
            .response;
        super::name_widget(&response, "map task");
        if task != colour_by.task() {
            commands.push(Command::Map(MapCommand::SetColourBy(colour_by.with_task(task))));
        }
        let modes = [
            (ColourBy::Label(task), "label"),
            (ColourBy::Prediction(task), "prediction"),
            (ColourBy::Disagrees(task), "disagrees"),
        ];
        for (mode, name) in modes {
            if ui.selectable_label(colour_by == mode, name).clicked() && colour_by != mode {
                commands.push(Command::Map(MapCommand::SetColourBy(mode)));
            }
        }
        ui.separator();
        ui.label("select");
        let tools = [
            (SelectTool::Box, "box", "drag a rectangle: its products open in the grid"),
            (SelectTool::Lasso, "lasso", "draw round the products to open in the grid"),
        ];
        for (tool, name, hint) in tools {
            if ui
                .selectable_label(map.select == tool, name)
                .on_hover_text(hint)
                .clicked()
                && map.select != tool
            {
                commands.push(Command::Map(MapCommand::SetSelectTool(tool)));
            }
        }
        ui.separator();
        if ui
            .add_enabled(map.map().is_some(), egui::Button::new("Export PNG…"))
            .clicked()
        {
            commands.push(Command::ShowDialog(DialogPurpose::ExportMap));
        }
    });
    if let Some(progress) = map.running {
        ui.horizontal(|ui| {
            ui.spinner();
            let (fraction, text) = match progress {
                None => (0.0, "reading the representation…".to_string()),
                Some(p) => {
                    let what = match p.stage {
                        MapStage::Neighbours => "finding neighbours",
                        MapStage::Layout => "laying out (epochs)",
                    };
                    (
                        p.done as f32 / p.total.max(1) as f32,
                        format!("{what}: {} of {}", p.done, p.total),
                    )
                }
            };
            ui.add(
                egui::ProgressBar::new(fraction)
                    .text(text)
                    .desired_width(320.0),
            );
            if ui.button("Cancel").clicked() {
                commands.push(Command::Map(MapCommand::Cancel));
            }
        });
    }
}

fn legend_ui(ui: &mut egui::Ui, map: &ShownMap) {
    ui.horizontal_wrapped(|ui| {
        for entry in map.legend.iter().take(LEGEND) {
            let (rect, _) = ui.allocate_exact_size(vec2(10.0, 10.0), Sense::hover());
            let [r, g, b] = entry.colour;
            ui.painter()
                .rect_filled(rect, 2.0, Color32::from_rgb(r, g, b));
            ui.label(RichText::new(format!("{} {}", entry.name, entry.count)).small());
        }
        if map.legend.len() > LEGEND {
            ui.weak(format!("and {} more", map.legend.len() - LEGEND));
        }
    });
}

fn scatter_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    map: &ShownMap,
    commands: &mut Vec<Command>,
) {
    let (response, painter) = ui.allocate_painter(ui.available_size(), Sense::click_and_drag());
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Canvas, true, "map"));
    let rect = response.rect;
    let id = response.id;
    let mut view: MapViewport = ui.data(|d| d.get_temp(id)).unwrap_or_default();

    // Zoom about the pointer, pan with the right or middle button, fit on double-click.
    if let Some(pointer) = response.hover_pos() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            let factor = (scroll * 0.003).exp();
            let zoom = (view.zoom * factor).clamp(0.5, 200.0);
            let applied = zoom / view.zoom;
            let anchor = rect.center() + view.pan;
            view.pan = (pointer - (pointer - anchor) * applied) - rect.center();
            view.zoom = zoom;
        }
    }
    if response.dragged_by(egui::PointerButton::Secondary)
        || response.dragged_by(egui::PointerButton::Middle)
    {
        view.pan += response.drag_delta();
    }
    if response.double_clicked() {
        view = MapViewport::default();
    }
    ui.data_mut(|d| d.insert_temp(id, view));

    let transform = MapTransform::fit(&map.points, rect, view);
    let painter = painter.with_clip_rect(rect);
    let radius = radius(map.points.len(), view.zoom);
    // The picture is kept while nothing it depends on changes (most frames only move the
    // pointer): drawing it again then costs one textured quad.
    let size = picture_size(
        rect,
        ui.ctx().pixels_per_point(),
        ui.input(|i| i.max_texture_side),
    );
    let key = PictureKey {
        revision: map.revision,
        transform,
        clip: rect,
        radius,
        size,
    };
    let cache_id = id.with("points");
    let cached: Option<(PictureKey, egui::TextureHandle)> = ui.data(|d| d.get_temp(cache_id));
    let texture = match cached {
        Some((cached_key, texture)) if cached_key == key => texture,
        cached => {
            let picture = points_picture(&map.points, &map.colours, &transform, rect, radius, size);
            let texture = match cached {
                Some((_, mut texture)) => {
                    texture.set(picture, egui::TextureOptions::NEAREST);
                    texture
                }
                None => ui
                    .ctx()
                    .load_texture("map points", picture, egui::TextureOptions::NEAREST),
            };
            ui.data_mut(|d| d.insert_temp(cache_id, (key, texture.clone())));
            texture
        }
    };
    let whole = Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0));
    painter.image(texture.id(), rect, whole, Color32::WHITE);

    // The focused product, ringed.
    if let Some(i) = state.selection.focus.and_then(|p| map.point_of(p)) {
        let at = transform.to_screen(map.points[i]);
        painter.circle_stroke(at, radius + 5.0, egui::Stroke::new(3.0, Color32::BLACK));
        painter.circle_stroke(at, radius + 5.0, egui::Stroke::new(1.5, Color32::WHITE));
    }

    // Box or lasso selection with the primary button: the outline is kept in egui's memory
    // while the drag lasts (screen points), and the products inside it open in the grid.
    let outline_key = id.with("outline");
    // A drag starts once the pointer has moved some way: the outline starts where the
    // button was pressed.
    if response.drag_started_by(egui::PointerButton::Primary)
        && let Some(at) = ui
            .input(|i| i.pointer.press_origin())
            .or(response.interact_pointer_pos())
    {
        ui.data_mut(|d| d.insert_temp(outline_key, vec![at]));
    }
    let mut outline: Vec<Pos2> = ui.data(|d| d.get_temp(outline_key)).unwrap_or_default();
    if let Some(now) = response.interact_pointer_pos()
        && response.dragged_by(egui::PointerButton::Primary)
        && !outline.is_empty()
    {
        match state.map.select {
            SelectTool::Box => outline.truncate(1),
            SelectTool::Lasso => {}
        }
        if outline.last().is_none_or(|last| last.distance(now) >= 2.0) {
            outline.push(now);
        }
        ui.data_mut(|d| d.insert_temp(outline_key, outline.clone()));
        draw_outline(&painter, state.map.select, &outline);
    }
    if response.drag_stopped_by(egui::PointerButton::Primary) {
        ui.data_mut(|d| d.remove::<Vec<Pos2>>(outline_key));
        if let Some(end) = response.interact_pointer_pos() {
            outline.push(end);
        }
        let chosen = Chosen::new(state.map.select, &outline);
        let positions: Vec<u32> = map
            .points
            .iter()
            .zip(&map.positions)
            .filter(|(p, _)| chosen.contains(transform.to_screen(**p)))
            .map(|(_, &position)| position)
            .collect();
        if !positions.is_empty() {
            commands.push(
                CockpitCommand::ShowProducts {
                    title: format!("{} products chosen on the map", positions.len()),
                    positions,
                }
                .into(),
            );
        }
    }

    // Hover and click: the nearest point under the pointer.
    let Some(pointer) = response.hover_pos() else {
        return;
    };
    let Some(i) = nearest_point(&map.points, &transform, pointer) else {
        return;
    };
    let position = map.positions[i];
    if response.clicked() {
        commands.push(Command::FocusProduct(position));
    }
    let at = transform.to_screen(map.points[i]);
    painter.circle_stroke(at, radius + 3.0, egui::Stroke::new(1.5, Color32::WHITE));
    let mut wanted = Vec::new();
    egui::Tooltip::always_open(
        ui.ctx().clone(),
        ui.layer_id(),
        id.with("hover"),
        egui::PopupAnchor::Pointer,
    )
    .show(|ui| hover_card_ui(ui, state, session, position, &mut wanted));
    commands.push(Command::WantImages(wanted));
}

/// Draws the box or the lasso being dragged.
fn draw_outline(painter: &egui::Painter, tool: SelectTool, outline: &[Pos2]) {
    let stroke = egui::Stroke::new(1.0, Color32::WHITE);
    match (tool, outline) {
        (SelectTool::Box, [start, .., now]) => {
            let chosen = Rect::from_two_pos(*start, *now);
            painter.rect_filled(chosen, 0.0, Color32::from_white_alpha(24));
            painter.rect_stroke(chosen, 0.0, stroke, egui::StrokeKind::Inside);
        }
        (SelectTool::Lasso, [_, _, ..]) => {
            painter.add(egui::Shape::closed_line(outline.to_vec(), stroke));
        }
        _ => {}
    }
}

/// The part of the screen a drag chose: a box, or a lasso's polygon.
#[derive(Debug, Clone, PartialEq)]
enum Chosen {
    /// Nothing (a drag too short to outline anything).
    Nothing,
    /// The box between the drag's ends.
    Box(Rect),
    /// The lasso's outline, closed by a straight line, with its bounding box.
    Lasso(Vec<Pos2>, Rect),
}

impl Chosen {
    fn new(tool: SelectTool, outline: &[Pos2]) -> Chosen {
        match (tool, outline) {
            (SelectTool::Box, [start, .., end]) => Chosen::Box(Rect::from_two_pos(*start, *end)),
            (SelectTool::Lasso, [_, _, _, ..]) => {
                Chosen::Lasso(outline.to_vec(), Rect::from_points(outline))
            }
            _ => Chosen::Nothing,
        }
    }

    /// Whether `p` lies inside (even-odd rule, so a lasso that crosses itself leaves out
    /// what it wound round twice).
    fn contains(&self, p: Pos2) -> bool {
        match self {
            Chosen::Nothing => false,
            Chosen::Box(rect) => rect.contains(p),
            Chosen::Lasso(polygon, bounds) => {
                if !bounds.contains(p) {
                    return false;
                }
                let mut inside = false;
                let mut j = polygon.len() - 1;
                for (i, a) in polygon.iter().enumerate() {
                    let b = polygon[j];
                    if (a.y > p.y) != (b.y > p.y)
                        && p.x < a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y)
                    {
                        inside = !inside;
                    }
                    j = i;
                }
                inside
            }
        }
    }
}

/// The point nearest `pointer`, if one lies within [`PICK`] points of it.
fn nearest_point(points: &[[f32; 2]], transform: &MapTransform, pointer: Pos2) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .map(|(i, p)| (i, transform.to_screen(*p).distance_sq(pointer)))
        .filter(|&(_, d)| d <= PICK * PICK)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

fn hover_card_ui(
    ui: &mut egui::Ui,
    state: &AppState,
    session: &Session,
    position: u32,
    wanted: &mut Vec<ImageKey>,
) {
    let Some(product) = session.product(position) else {
        return;
    };
    ui.horizontal(|ui| {
        if let Some(image) = product.images.first() {
            let key = ImageKey {
                path: session.catalog.image_root.join(&*image.path).into(),
                size: ImageSize::thumb_for(THUMB.y * ui.ctx().pixels_per_point()),
            };
            thumb_ui(ui, state, &key, THUMB, false);
            wanted.push(key);
        }
        ui.vertical(|ui| {
            ui.strong(product.id.to_string());
            egui::Grid::new("map_hover").num_columns(3).show(ui, |ui| {
                for task in Task::ALL {
                    ui.weak(task.to_string());
                    ui.label(session.label(position, task).unwrap_or("—"));
                    match session.top(position, task).first() {
                        Some(&(name, p)) => {
                            let text = format!("{name} {}", super::percent(p));
                            if session.disagrees(position, task) {
                                ui.colored_label(ui.visuals().warn_fg_color, text);
                            } else {
                                ui.weak(text);
                            }
                        }
                        None => {
                            ui.weak("");
                        }
                    }
                    ui.end_row();
                }
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_holds_what_lies_between_the_drags_ends_a_lasso_what_it_encloses() {
        let b = Chosen::new(
            SelectTool::Box,
            &[pos2(10.0, 10.0), pos2(5.0, 5.0), pos2(0.0, 20.0)],
        );
        assert!(b.contains(pos2(5.0, 15.0)));
        assert!(!b.contains(pos2(11.0, 15.0)));
        // An L-shaped lasso: its notch is outside, though inside its bounding box.
        let outline = [
            pos2(0.0, 0.0),
            pos2(10.0, 0.0),
            pos2(10.0, 4.0),
            pos2(4.0, 4.0),
            pos2(4.0, 10.0),
            pos2(0.0, 10.0),
        ];
        let lasso = Chosen::new(SelectTool::Lasso, &outline);
        assert!(lasso.contains(pos2(2.0, 8.0)));
        assert!(lasso.contains(pos2(8.0, 2.0)));
        assert!(!lasso.contains(pos2(8.0, 8.0)), "the notch");
        assert!(!lasso.contains(pos2(-1.0, 2.0)));
        // A drag too short to outline anything chooses nothing.
        assert_eq!(
            Chosen::new(SelectTool::Lasso, &outline[..2]),
            Chosen::Nothing
        );
        assert!(!Chosen::new(SelectTool::Box, &outline[..1]).contains(pos2(0.0, 0.0)));
    }

    #[test]
    fn the_map_fits_its_rectangle_up_is_up() {
        let points = [[0.0, 0.0], [10.0, 10.0]];
        let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(224.0, 124.0));
        let t = MapTransform::fit(&points, rect, MapViewport::default());
        let (a, b) = (t.to_screen(points[0]), t.to_screen(points[1]));
        assert!(rect.contains(a) && rect.contains(b));
        assert!(a.y > b.y && a.x < b.x, "{a:?} {b:?}");
        assert!(((b.x - a.x) - 100.0).abs() < 1e-3);
    }

    #[test]
    fn the_picture_holds_the_points_inside_at_the_screens_pixels() {
        let points = [[0.0, 0.0], [10.0, 10.0], [5.0, 5.0]];
        let colours = [[255, 0, 0], [0, 0, 255], [0, 255, 0]];
        let rect = Rect::from_min_size(pos2(100.0, 50.0), vec2(224.0, 224.0));
        let zoomed = MapViewport {
            zoom: 4.0,
            pan: Vec2::ZERO,
        };
        let t = MapTransform::fit(&points, rect, zoomed);
        // Two pixels per point, so the picture is 448 pixels a side.
        let size = picture_size(rect, 2.0, 4096);
        assert_eq!(size, [448, 448]);
        let picture = points_picture(&points, &colours, &t, rect, 2.0, size);
        let count = |c: [u8; 3]| {
            let c = Color32::from_rgb(c[0], c[1], c[2]);
            picture.pixels.iter().filter(|&&p| p == c).count()
        };
        // Zoomed 4 times about the centre: only the middle point is on screen, as a disc of
        // 4 pixels' radius (about 50 pixels) at the picture's centre.
        assert_eq!((count(colours[0]), count(colours[1])), (0, 0));
        assert!(
            (45..=60).contains(&count(colours[2])),
            "{}",
            count(colours[2])
        );
        assert_eq!(
            picture.pixels[224 * 448 + 224],
            Color32::from_rgb(0, 255, 0)
        );
        let [r, g, b] = BACKGROUND;
        assert_eq!(picture.pixels[0], Color32::from_rgb(r, g, b));
        // A screen larger than the largest texture is painted at fewer pixels.
        assert_eq!(picture_size(rect, 2.0, 300), [300, 300]);
    }

    #[test]
    fn a_point_is_picked_only_near_the_pointer() {
        let points = [[0.0, 0.0], [10.0, 10.0]];
        let rect = Rect::from_min_size(pos2(0.0, 0.0), vec2(224.0, 224.0));
        let t = MapTransform::fit(&points, rect, MapViewport::default());
        let at = t.to_screen(points[1]);
        assert_eq!(nearest_point(&points, &t, at + vec2(3.0, 3.0)), Some(1));
        assert_eq!(nearest_point(&points, &t, rect.center()), None);
    }
}
