//! The map as a picture: every point drawn as a small disc on the map's background, fitted to
//! the picture with a margin, for the window's Export PNG and `vitrine map --png`.

use super::map::bounds;
use super::map_colours::BACKGROUND;
use crate::runs::folder::RunError;
use image::{Rgb, RgbImage};
use std::path::Path;

/// The picture's margin around the points, as a share of its side.
const MARGIN: f32 = 0.03;

/// Draws `points` in `colours` (one each) on a `width` x `height` picture; the point at
/// `highlight`, if any, is ringed in white and black.
pub fn draw(
    points: &[[f32; 2]],
    colours: &[[u8; 3]],
    width: u32,
    height: u32,
    highlight: Option<usize>,
) -> RgbImage {
    let mut picture = RgbImage::from_pixel(width, height, Rgb(BACKGROUND));
    let Some([lo, hi]) = bounds(points) else {
        return picture;
    };
    let (w, h) = (width as f32, height as f32);
    let side = w.min(h) * (1.0 - 2.0 * MARGIN);
    let scale = side / (hi[0] - lo[0]).max(hi[1] - lo[1]).max(f32::MIN_POSITIVE);
    let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
    // Up is up: the picture's rows grow downwards.
    let place = |p: [f32; 2]| {
        (
            w / 2.0 + (p[0] - centre[0]) * scale,
            h / 2.0 - (p[1] - centre[1]) * scale,
        )
    };
    let radius = dot_radius(points.len()) * (w.min(h) / 1000.0).max(0.5);
    let size = [width as usize, height as usize];
    let (pixels, _) = picture.as_chunks_mut::<3>();
    paint_dots(pixels, size, points, colours, radius, place, |c| c);
    if let Some(i) = highlight
        && let (Some(p), Some(colour)) = (points.get(i), colours.get(i))
    {
        let at = place(*p);
        disc(pixels, size, at, radius * 3.0 + 3.0, [0, 0, 0]);
        disc(pixels, size, at, radius * 3.0 + 1.5, [255, 255, 255]);
        disc(pixels, size, at, radius * 1.5, *colour);
    }
    picture
}

/// Paints every point as a disc of `radius` pixels into `pixels` (`width` x `height`, row by
/// row; pixel `(x, y)` is centred on `(x, y)`): point `i` lands at `place(points[i])` in
/// `pixel(colours[i])`, later points over earlier ones; points that are not finite or land
/// outside are skipped. The window's map and the PNG are both painted by it.
pub fn paint_dots<P: Copy>(
    pixels: &mut [P],
    size: [usize; 2],
    points: &[[f32; 2]],
    colours: &[[u8; 3]],
    radius: f32,
    place: impl Fn([f32; 2]) -> (f32, f32),
    pixel: impl Fn([u8; 3]) -> P,
) {
    for (p, colour) in points.iter().zip(colours) {
        if p[0].is_finite() && p[1].is_finite() {
            disc(pixels, size, place(*p), radius, pixel(*colour));
        }
    }
}

/// Writes `picture` as a PNG to `path` (atomically).
pub fn write_png(path: &Path, picture: &RgbImage) -> Result<(), RunError> {
    let mut bytes = Vec::new();
    picture
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| RunError::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    crate::runs::folder::write_atomically(path, &bytes)
}

/// A map's dot radius (in pixels of a 1,000-pixel picture, or in the window's points at zoom
/// 1): smaller for more points, so that dense regions keep their shape. The window and the
/// PNG draw with this one rule.
pub fn dot_radius(points: usize) -> f32 {
    if points > 20_000 {
        1.2
    } else if points > 2_000 {
        2.0
    } else {
        3.0
    }
}

/// A filled disc of `radius` pixels at `(x, y)`: the pixels whose centres it covers.
fn disc<P: Copy>(
    pixels: &mut [P],
    [width, height]: [usize; 2],
    (x, y): (f32, f32),
    radius: f32,
    value: P,
) {
    let span = |c: f32, len: usize| {
        let lo = (c - radius).ceil().max(0.0);
        let hi = (c + radius).floor().min(len as f32 - 1.0);
        (lo as usize, hi as usize, lo <= hi)
    };
    let ((x0, x1, x_in), (y0, y1, y_in)) = (span(x, width), span(y, height));
    if !(x_in && y_in) {
        return;
    }
    for py in y0..=y1 {
        let dy = py as f32 - y;
        let row = &mut pixels[py * width..(py + 1) * width];
        for (px, pixel) in row.iter_mut().enumerate().take(x1 + 1).skip(x0) {
            let dx = px as f32 - x;
            if dx * dx + dy * dy <= radius * radius {
                *pixel = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_land_where_the_map_puts_them() {
        let points = [[0.0, 0.0], [10.0, 10.0], [f32::NAN, 1.0]];
        let colours = [[255, 0, 0], [0, 0, 255], [0, 255, 0]];
        let picture = draw(&points, &colours, 200, 200, None);
        // The first point bottom left, the second top right; the NaN point is not drawn.
        assert_eq!(picture.get_pixel(6, 193).0, [255, 0, 0]);
        assert_eq!(picture.get_pixel(193, 6).0, [0, 0, 255]);
        assert!(picture.pixels().all(|p| p.0 != [0, 255, 0]));
        assert_eq!(picture.get_pixel(100, 100).0, BACKGROUND);
    }

    #[test]
    fn the_highlighted_point_is_ringed() {
        let points = [[0.0, 0.0], [10.0, 10.0]];
        let picture = draw(&points, &[[255, 0, 0]; 2], 200, 200, Some(1));
        let white = picture.pixels().filter(|p| p.0 == [255, 255, 255]).count();
        assert!(white > 10, "{white}");
    }
}
