//! Drawing one view of a product with tiny-skia: backdrop, framing, drop shadow, the lit and
//! patterned item with outlines and details, and the mannequin of model views.

use super::DemoError;
use super::shapes::{self, Ink, Part};
use super::spec::{Background, ProductSpec, View};
use super::taxonomy::{Family, Pattern};
use tiny_skia::{
    Color, FillRule, GradientStop, LineCap, LineJoin, LinearGradient, Mask, Paint, Path,
    PathBuilder, Pixmap, Point, Rect, SpreadMode, Stroke, Transform,
};

/// How a view places the item in the frame.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Framing {
    /// Flip left-right: profile items (shoes, caps) show their other side from the back.
    mirror: bool,
    /// Horizontal scale: a side view is a narrower silhouette.
    squeeze: f32,
    /// Draw the back details.
    back: bool,
    /// Magnification: above 1 crops into the item, below 1 leaves room for the mannequin.
    zoom: f32,
    /// The unit-box point put at the centre of the frame.
    focus: (f32, f32),
}

fn framing(family: Family, view: View) -> Framing {
    let profile = matches!(family, Family::Shoe | Family::Cap);
    let front = Framing {
        mirror: false,
        squeeze: 1.0,
        back: false,
        zoom: 1.0,
        focus: if family == Family::Cap {
            (45.0, 50.0)
        } else {
            (50.0, 50.0)
        },
    };
    match view {
        View::Front => front,
        View::Back => Framing {
            mirror: profile,
            back: true,
            ..front
        },
        View::Side => Framing {
            // Profiles and watches are narrow already; squeezing them more leaves a sliver.
            squeeze: if profile || family == Family::Watch {
                0.8
            } else {
                0.62
            },
            ..front
        },
        View::Detail => {
            let (zoom, focus) = match family {
                Family::Top => (2.6, (50.0, 42.0)),
                Family::Bottom => (2.6, (50.0, 30.0)),
                Family::Dress => (2.6, (50.0, 50.0)),
                Family::Shoe => (2.6, (50.0, 55.0)),
                Family::Bag => (2.6, (50.0, 68.0)),
                Family::Cap => (2.6, (50.0, 44.0)),
                Family::Watch => (2.0, (50.0, 62.0)),
            };
            Framing {
                zoom,
                focus,
                ..front
            }
        }
        View::Model => {
            let focus = match family {
                Family::Bottom => (50.0, 35.0),
                Family::Cap => (55.0, 70.0),
                _ => (50.0, 52.0),
            };
            Framing {
                zoom: 0.68,
                focus,
                ..front
            }
        }
    }
}

/// Renders `view` of `spec` as a `size` x `size` opaque image.
pub fn render(spec: &ProductSpec, view: View, size: u32) -> Result<Pixmap, DemoError> {
    let mut pixmap = Pixmap::new(size, size).ok_or(DemoError::Canvas { size })?;
    paint_background(&mut pixmap, spec.scene.background);
    let family = spec.kind.family();
    let framing = framing(family, view);
    let pixels = size as f32;
    let scale = pixels / 100.0 * spec.scene.scale * framing.zoom;
    let width = match family {
        Family::Top | Family::Bottom | Family::Dress => spec.gender.width(),
        Family::Shoe | Family::Bag | Family::Cap | Family::Watch => 1.0,
    };
    let mirror = if framing.mirror { -1.0 } else { 1.0 };
    let transform = Transform::from_translate(
        pixels * (0.5 + spec.scene.offset.0),
        pixels * (0.5 + spec.scene.offset.1),
    )
    .pre_rotate(spec.scene.tilt)
    .pre_scale(scale * width * framing.squeeze * mirror, scale)
    .pre_translate(-framing.focus.0, -framing.focus.1);
    let painter = Painter {
        spec,
        transform,
        size,
    };
    let mut canvas = Canvas {
        pixmap: &mut pixmap,
        painter: &painter,
    };
    if view == View::Model {
        for part in &shapes::mannequin(spec.kind) {
            canvas.draw(part)?;
        }
    }
    let item = shapes::item(spec.kind, framing.back);
    canvas.shadow(&item, pixels);
    for part in &item {
        canvas.draw(part)?;
    }
    Ok(pixmap)
}

fn colour([r, g, b]: [u8; 3]) -> Color {
    Color::from_rgba8(r, g, b, 255)
}

fn solid(rgb: [u8; 3]) -> Paint<'static> {
    let mut paint = Paint::default();
    paint.set_color(colour(rgb));
    paint.anti_alias = true;
    paint
}

/// Perceived brightness, 0 to 255.
fn luma([r, g, b]: [u8; 3]) -> f32 {
    0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b)
}

/// `rgb` darkened by `factor`; very dark colours are lightened instead, because a darker
/// shade of black would hide every detail of a black item.
fn tone(rgb: [u8; 3], factor: f32) -> [u8; 3] {
    if luma(rgb) < 70.0 && factor < 1.0 {
        rgb.map(|c| (f32::from(c) + (1.0 - factor) * 130.0).min(255.0) as u8)
    } else {
        rgb.map(|c| (f32::from(c) * factor).round().clamp(0.0, 255.0) as u8)
    }
}

fn paint_background(pixmap: &mut Pixmap, background: Background) {
    let size = pixmap.width() as f32;
    match background {
        Background::Solid(rgb) => pixmap.fill(colour(rgb)),
        Background::Gradient { from, to, diagonal } => {
            let end = if diagonal {
                Point::from_xy(size, size)
            } else {
                Point::from_xy(0.0, size)
            };
            let shader = LinearGradient::new(
                Point::from_xy(0.0, 0.0),
                end,
                vec![
                    GradientStop::new(0.0, colour(from)),
                    GradientStop::new(1.0, colour(to)),
                ],
                SpreadMode::Pad,
                Transform::identity(),
            );
            // A degenerate gradient cannot happen for a non-empty frame; fall back to the
            // start colour rather than leave the frame transparent.
            pixmap.fill(colour(from));
            if let (Some(shader), Some(rect)) = (shader, Rect::from_xywh(0.0, 0.0, size, size)) {
                let paint = Paint {
                    shader,
                    anti_alias: true,
                    ..Paint::default()
                };
                pixmap.fill_rect(rect, &paint, Transform::identity(), None);
            }
        }
    }
}

/// Resolves inks and paints for one product view.
struct Painter<'a> {
    spec: &'a ProductSpec,
    transform: Transform,
    size: u32,
}

impl Painter<'_> {
    fn rgb(&self, ink: Ink) -> [u8; 3] {
        let spec = self.spec;
        match ink {
            Ink::Body => spec.rgb,
            Ink::Shade(factor) => tone(spec.rgb, factor),
            Ink::Trim => spec.trim,
            Ink::Metal(factor) => tone([204, 204, 200], factor),
            Ink::Contrast if luma(spec.trim) > 128.0 => [24, 24, 26],
            Ink::Contrast => [240, 240, 240],
            Ink::Skin => spec.scene.skin,
            Ink::Mannequin => spec.scene.mannequin,
        }
    }

    /// The product colour lit from above: lighter at the top of the item, darker at the
    /// bottom, the palette colour in the middle.
    fn lit_body(&self) -> Paint<'static> {
        let rgb = self.spec.rgb;
        let light = rgb.map(|c| (f32::from(c) * 1.1 + 6.0).min(255.0) as u8);
        let dark = tone(rgb, 0.86);
        let shader = LinearGradient::new(
            Point::from_xy(0.0, 5.0),
            Point::from_xy(0.0, 95.0),
            vec![
                GradientStop::new(0.0, colour(light)),
                GradientStop::new(0.5, colour(rgb)),
                GradientStop::new(1.0, colour(dark)),
            ],
            SpreadMode::Pad,
            Transform::identity(),
        );
        match shader {
            Some(shader) => Paint {
                shader,
                anti_alias: true,
                ..Paint::default()
            },
            None => solid(rgb),
        }
    }

    /// Paint for the pattern over the body: a shade of the product colour, so the pattern
    /// never changes which colour the item is.
    fn pattern_paint(&self, alpha: f32) -> Paint<'static> {
        let [r, g, b] = tone(self.spec.rgb, 0.7);
        let mut paint = Paint::default();
        paint.set_color(Color::from_rgba8(r, g, b, (alpha * 255.0) as u8));
        paint.anti_alias = true;
        paint
    }
}

/// A pixmap being painted for one product view.
struct Canvas<'a> {
    pixmap: &'a mut Pixmap,
    painter: &'a Painter<'a>,
}

impl Canvas<'_> {
    /// A soft shadow of the item's filled parts, cast down and to the right.
    fn shadow(&mut self, parts: &[Part], pixels: f32) {
        let mut builder = PathBuilder::new();
        for part in parts.iter().filter(|p| p.line.is_none()) {
            builder.push_path(&part.path);
        }
        if let Some(path) = builder.finish() {
            let mut paint = Paint::default();
            paint.set_color(Color::from_rgba8(0, 0, 0, 34));
            paint.anti_alias = true;
            let offset = self
                .painter
                .transform
                .post_translate(pixels * 0.015, pixels * 0.022);
            self.pixmap
                .fill_path(&path, &paint, FillRule::Winding, offset, None);
        }
    }

    fn draw(&mut self, part: &Part) -> Result<(), DemoError> {
        let painter = self.painter;
        let transform = painter.transform;
        let rgb = painter.rgb(part.ink);
        match part.line {
            Some(width) => {
                let stroke = Stroke {
                    width,
                    line_cap: LineCap::Round,
                    line_join: LineJoin::Round,
                    ..Stroke::default()
                };
                self.pixmap
                    .stroke_path(&part.path, &solid(rgb), &stroke, transform, None);
            }
            None => {
                let paint = if part.ink == Ink::Body {
                    painter.lit_body()
                } else {
                    solid(rgb)
                };
                self.pixmap
                    .fill_path(&part.path, &paint, FillRule::Winding, transform, None);
                if part.ink == Ink::Body && painter.spec.pattern != Pattern::Solid {
                    self.pattern(&part.path)?;
                }
                // A thin darker outline separates the item from a backdrop of similar
                // lightness, as the edge shading of a real photo does.
                let outline = Stroke {
                    width: 0.6,
                    line_join: LineJoin::Round,
                    ..Stroke::default()
                };
                self.pixmap.stroke_path(
                    &part.path,
                    &solid(tone(rgb, 0.6)),
                    &outline,
                    transform,
                    None,
                );
            }
        }
        Ok(())
    }

    /// The product's pattern, clipped to `body`.
    fn pattern(&mut self, body: &Path) -> Result<(), DemoError> {
        let painter = self.painter;
        let size = painter.size;
        let mut mask = Mask::new(size, size).ok_or(DemoError::Canvas { size })?;
        mask.fill_path(body, FillRule::Winding, true, painter.transform);
        let mut builder = PathBuilder::new();
        let alpha = match painter.spec.pattern {
            Pattern::Striped => {
                stripes(&mut builder, 7.0, 2.8, false);
                1.0
            }
            Pattern::Checked => {
                stripes(&mut builder, 9.0, 4.5, false);
                stripes(&mut builder, 9.0, 4.5, true);
                0.5
            }
            Pattern::Dotted => {
                for row in 0..24u8 {
                    for column in 0..24u8 {
                        let stagger = if row % 2 == 0 { 0.0 } else { 3.0 };
                        builder.push_circle(
                            -10.0 + 6.0 * f32::from(column) + stagger,
                            -10.0 + 6.0 * f32::from(row),
                            1.3,
                        );
                    }
                }
                1.0
            }
            Pattern::Solid => return Ok(()),
        };
        if let Some(path) = builder.finish() {
            // Even-odd would punch holes where checks cross; winding lets them overlap.
            self.pixmap.fill_path(
                &path,
                &painter.pattern_paint(alpha),
                FillRule::Winding,
                painter.transform,
                Some(&mask),
            );
        }
        Ok(())
    }
}

/// Parallel bands `width` wide every `step` units across the unit box and its margins.
fn stripes(builder: &mut PathBuilder, step: f32, width: f32, vertical: bool) {
    for i in 0..24u8 {
        let at = -20.0 + step * f32::from(i);
        let rect = if vertical {
            Rect::from_xywh(at, -20.0, width, 160.0)
        } else {
            Rect::from_xywh(-20.0, at, 160.0, width)
        };
        if let Some(rect) = rect {
            builder.push_rect(rect);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::demo::spec::Scene;
    use crate::catalog::demo::taxonomy::{COLOURS, Gender, Kind};

    fn spec(kind: Kind, colour: usize, background: [u8; 3]) -> ProductSpec {
        ProductSpec {
            id: "p0001".into(),
            kind,
            gender: Gender::Unisex,
            colour: &COLOURS[colour],
            rgb: COLOURS[colour].rgb,
            trim: [238, 236, 230],
            pattern: Pattern::Solid,
            style: "Classic",
            views: vec![View::Front],
            scene: Scene {
                background: Background::Solid(background),
                scale: 0.8,
                offset: (0.0, 0.0),
                tilt: 0.0,
                skin: [224, 172, 138],
                mannequin: [140, 140, 140],
            },
        }
    }

    fn pixel(pixmap: &Pixmap, x: u32, y: u32) -> [u8; 3] {
        let c = pixmap.pixel(x, y).unwrap().demultiply();
        [c.red(), c.green(), c.blue()]
    }

    fn near(a: [u8; 3], b: [u8; 3], tolerance: i32) -> bool {
        a.iter()
            .zip(b)
            .all(|(&x, y)| (i32::from(x) - i32::from(y)).abs() <= tolerance)
    }

    #[test]
    fn the_centre_shows_the_colour_and_the_corners_the_backdrop() {
        let size = 96;
        let background = [230, 226, 220];
        for (kind, colour) in [(Kind::Tshirt, 5), (Kind::Dress, 3), (Kind::Handbag, 6)] {
            let spec = spec(kind, colour, background);
            for view in [View::Front, View::Back, View::Detail] {
                let pixmap = render(&spec, view, size).unwrap();
                assert_eq!((pixmap.width(), pixmap.height()), (size, size));
                let centre = pixel(&pixmap, size / 2, size / 2 + 4);
                assert!(
                    near(centre, spec.rgb, 24),
                    "{kind:?} {view:?}: centre {centre:?}, colour {:?}",
                    spec.rgb
                );
                if view != View::Detail {
                    for (x, y) in [(1, 1), (size - 2, 1), (1, size - 2), (size - 2, size - 2)] {
                        assert_eq!(pixel(&pixmap, x, y), background, "{kind:?} {view:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_kind_and_view_draws_the_product_colour_over_a_good_part_of_the_frame() {
        let size = 64;
        for kind in Kind::ALL {
            let spec = spec(kind, 4, [235, 235, 235]);
            for &view in [View::Front].iter().chain(View::extras(kind.family())) {
                let pixmap = render(&spec, view, size).unwrap();
                let coloured = pixmap
                    .pixels()
                    .iter()
                    .filter(|p| near([p.red(), p.green(), p.blue()], spec.rgb, 30))
                    .count();
                let share = coloured as f32 / (size * size) as f32;
                assert!(share > 0.05, "{kind:?} {view:?}: {share}");
            }
        }
    }

    #[test]
    fn black_details_are_lightened_so_they_stay_visible() {
        assert!(luma(tone([28, 28, 30], 0.7)) > 60.0);
        assert_eq!(tone([200, 100, 0], 0.5), [100, 50, 0]);
    }
}
