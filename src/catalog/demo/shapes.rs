//! The outlines of every item kind and of the mannequin, as a few vector paths each.
//!
//! Shapes live in a 100 x 100 unit box centred on (50, 50); the renderer places, scales and
//! mirrors them. They are written in a tiny subset of SVG path syntax (absolute `M`, `L`, `Q`,
//! `C`, `Z`) because a garment is far easier to read and tweak as one line of coordinates than
//! as a dozen builder calls.

use super::taxonomy::Kind;
use tiny_skia::{Path, PathBuilder, Rect, Transform};

/// What colour a part is painted in; the renderer resolves inks against the product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ink {
    /// The product colour, lit and patterned. It covers most of the item, so the colour label
    /// is what a model sees.
    Body,
    /// The product colour darkened (or, below 1, lightened for black items) by the factor:
    /// collars, pockets, insides, straps of the same material.
    Shade(f32),
    /// The product's secondary colour: soles, buttons, drawstrings, watch faces.
    Trim,
    /// Polished metal scaled by the factor: zips, clasps, buckles, watch cases.
    Metal(f32),
    /// Black or white, whichever stands out from the trim (watch hands).
    Contrast,
    /// The mannequin's skin.
    Skin,
    /// The mannequin's own neutral clothes.
    Mannequin,
}

/// One painted part of a drawing.
#[derive(Debug, Clone)]
pub struct Part {
    /// The outline, in unit-box coordinates.
    pub path: Path,
    /// Its colour.
    pub ink: Ink,
    /// `Some(width)` to stroke the path as a line of that width instead of filling it.
    pub line: Option<f32>,
}

/// A drawing under construction. A path that fails to build is left out rather than failing
/// the render: they are all constants, and the tests check that none is left out.
#[derive(Debug, Default)]
struct Drawing {
    parts: Vec<Part>,
    /// Paths left out, so the tests can catch a typo in a shape.
    #[cfg(test)]
    failures: usize,
}

impl Drawing {
    fn push(&mut self, path: Option<Path>, ink: Ink, line: Option<f32>) -> &mut Self {
        match path {
            Some(path) => self.parts.push(Part { path, ink, line }),
            #[cfg(test)]
            None => self.failures += 1,
            #[cfg(not(test))]
            None => {}
        }
        self
    }

    fn fill(&mut self, ink: Ink, svg: &str) -> &mut Self {
        self.push(parse(svg), ink, None)
    }

    fn line(&mut self, ink: Ink, width: f32, svg: &str) -> &mut Self {
        self.push(parse(svg), ink, Some(width))
    }

    fn circle(&mut self, ink: Ink, x: f32, y: f32, r: f32) -> &mut Self {
        self.push(PathBuilder::from_circle(x, y, r), ink, None)
    }

    fn ring(&mut self, ink: Ink, width: f32, x: f32, y: f32, r: f32) -> &mut Self {
        self.push(PathBuilder::from_circle(x, y, r), ink, Some(width))
    }

    fn oval(&mut self, ink: Ink, left: f32, top: f32, right: f32, bottom: f32) -> &mut Self {
        let path = Rect::from_ltrb(left, top, right, bottom).and_then(PathBuilder::from_oval);
        self.push(path, ink, None)
    }

    /// Adds the parts of `other` moved by `(dx, dy)`.
    fn shifted(&mut self, other: Drawing, dx: f32, dy: f32) -> &mut Self {
        let shift = Transform::from_translate(dx, dy);
        for part in other.parts {
            self.push(part.path.transform(shift), part.ink, part.line);
        }
        self
    }
}

/// Parses absolute `M x y`, `L x y`, `Q x1 y1 x y`, `C x1 y1 x2 y2 x y` and `Z` commands.
fn parse(svg: &str) -> Option<Path> {
    let mut builder = PathBuilder::new();
    let mut tokens = svg.split_ascii_whitespace();
    while let Some(command) = tokens.next() {
        match command {
            "M" => {
                let [x, y] = numbers(&mut tokens)?;
                builder.move_to(x, y);
            }
            "L" => {
                let [x, y] = numbers(&mut tokens)?;
                builder.line_to(x, y);
            }
            "Q" => {
                let [x1, y1, x, y] = numbers(&mut tokens)?;
                builder.quad_to(x1, y1, x, y);
            }
            "C" => {
                let [x1, y1, x2, y2, x, y] = numbers(&mut tokens)?;
                builder.cubic_to(x1, y1, x2, y2, x, y);
            }
            "Z" => builder.close(),
            _ => return None,
        }
    }
    builder.finish()
}

/// The next `N` tokens as numbers.
fn numbers<'a, const N: usize>(tokens: &mut impl Iterator<Item = &'a str>) -> Option<[f32; N]> {
    let mut out = [0.0; N];
    for slot in &mut out {
        *slot = tokens.next()?.parse().ok()?;
    }
    Some(out)
}

/// The parts of an item, back to front. `back` draws the back of the item: same silhouette,
/// other details (no buttons, collar or laces; straps and seams instead).
pub fn item(kind: Kind, back: bool) -> Vec<Part> {
    draw_item(kind, back).parts
}

fn draw_item(kind: Kind, back: bool) -> Drawing {
    let mut d = Drawing::default();
    match kind {
        Kind::Tshirt => tshirt(&mut d, back),
        Kind::Shirt => shirt(&mut d, back),
        Kind::Jacket => jacket(&mut d, back),
        Kind::Hoodie => hoodie(&mut d, back),
        Kind::Trousers => trousers(&mut d, back),
        Kind::Shorts => shorts(&mut d, back),
        Kind::Skirt => skirt(&mut d, back),
        Kind::Dress => dress(&mut d, back),
        Kind::Sneakers => sneakers(&mut d, back),
        Kind::Boots => boots(&mut d, back),
        Kind::Sandals => sandals(&mut d, back),
        Kind::Heels => heels(&mut d, back),
        Kind::Handbag => handbag(&mut d, back),
        Kind::Backpack => backpack(&mut d, back),
        Kind::Tote => tote(&mut d, back),
        Kind::Cap => cap(&mut d, back),
        Kind::Watch => watch(&mut d, back),
    }
    d
}

fn tshirt(d: &mut Drawing, back: bool) {
    // The neckline dips lower at the front than at the back.
    let neck = if back { 20 } else { 28 };
    d.fill(
        Ink::Body,
        &format!(
            "M 38 16 Q 50 {neck} 62 16 L 75 19 L 91 35 L 81 46 L 72 40 L 72 88 L 28 88 \
             L 28 40 L 19 46 L 9 35 L 25 19 Z"
        ),
    )
    .line(
        Ink::Shade(0.75),
        2.2,
        &format!("M 38 16.5 Q 50 {neck} 62 16.5"),
    )
    .line(Ink::Shade(0.82), 0.8, "M 28 84 L 72 84");
}

fn shirt(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Body,
        "M 40 14 L 60 14 L 75 18 L 85 42 L 91 82 L 80 84 L 72 48 L 72 90 L 28 90 L 28 48 \
         L 20 84 L 9 82 L 15 42 L 25 18 Z",
    )
    .line(Ink::Shade(0.8), 1.4, "M 80.5 80 L 90.5 78")
    .line(Ink::Shade(0.8), 1.4, "M 19.5 80 L 9.5 78");
    if back {
        d.fill(
            Ink::Shade(0.88),
            "M 40 12 Q 50 15 60 12 L 60 16 Q 50 20 40 16 Z",
        )
        .line(Ink::Shade(0.75), 0.7, "M 27 27 Q 50 31 73 27")
        .line(Ink::Shade(0.75), 0.7, "M 50 30 L 50 40");
    } else {
        d.fill(Ink::Shade(0.88), "M 40 13 L 51 27 L 35 23 Z")
            .fill(Ink::Shade(0.88), "M 60 13 L 49 27 L 65 23 Z")
            .line(Ink::Shade(0.7), 0.7, "M 50 27 L 50 90")
            .line(Ink::Shade(0.7), 0.7, "M 56 36 L 66 36 L 66 46 L 56 46 Z");
        for y in [34.0, 44.0, 54.0, 64.0, 74.0, 84.0] {
            d.circle(Ink::Trim, 50.0, y, 1.2);
        }
    }
}

fn jacket(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Body,
        "M 40 12 L 60 12 L 77 17 L 88 42 L 93 84 L 81 86 L 75 50 L 75 88 L 25 88 L 25 50 \
         L 19 86 L 7 84 L 12 42 L 23 17 Z",
    )
    .fill(Ink::Shade(0.82), "M 39 6 L 61 6 L 61 15 Q 50 18 39 15 Z")
    .fill(Ink::Shade(0.82), "M 25 83 L 75 83 L 75 88 L 25 88 Z")
    .fill(Ink::Shade(0.82), "M 7 84 L 8 79 L 20 81 L 19 86 Z")
    .fill(Ink::Shade(0.82), "M 93 84 L 92 79 L 80 81 L 81 86 Z");
    if back {
        d.line(Ink::Shade(0.72), 0.7, "M 25 40 Q 50 45 75 40");
    } else {
        d.line(Ink::Metal(0.9), 1.2, "M 50 6 L 50 88")
            .line(Ink::Shade(0.55), 1.2, "M 31 60 L 36 72")
            .line(Ink::Shade(0.55), 1.2, "M 69 60 L 64 72");
    }
}

fn hoodie(d: &mut Drawing, back: bool) {
    let body = "M 38 15 L 62 15 L 76 19 L 86 44 L 90 84 L 79 86 L 73 50 L 73 89 L 27 89 \
                L 27 50 L 21 86 L 10 84 L 14 44 L 24 19 Z";
    if back {
        // From behind the hood lies flat on the shoulders, with a centre seam.
        d.fill(Ink::Body, body)
            .fill(
                Ink::Body,
                "M 36 14 Q 34 -2 50 -2 Q 66 -2 64 14 L 58 30 Q 50 34 42 30 Z",
            )
            .line(Ink::Shade(0.7), 0.6, "M 50 -2 L 50 32");
    } else {
        d.fill(Ink::Body, "M 36 18 Q 34 2 50 2 Q 66 2 64 18 Z")
            .fill(Ink::Body, body)
            .fill(
                Ink::Shade(0.45),
                "M 41 17 Q 40 6 50 6 Q 60 6 59 17 Q 50 24 41 17 Z",
            )
            .fill(Ink::Shade(0.9), "M 35 62 L 65 62 L 70 80 L 30 80 Z")
            .line(Ink::Trim, 1.1, "M 46 21 L 45 36")
            .line(Ink::Trim, 1.1, "M 54 21 L 55 36");
    }
    d.fill(Ink::Shade(0.85), "M 27 84 L 73 84 L 73 89 L 27 89 Z");
}

fn trousers(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Body,
        "M 30 12 L 70 12 L 75 92 L 54 92 L 50 36 L 46 92 L 25 92 Z",
    )
    .fill(Ink::Shade(0.85), "M 30 8 L 70 8 L 70 14 L 30 14 Z")
    .line(Ink::Shade(0.85), 0.5, "M 37 30 L 36 92")
    .line(Ink::Shade(0.85), 0.5, "M 63 30 L 64 92");
    waist_details(d, back, 8.0, 14.0);
}

fn shorts(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Body,
        "M 26 23 L 74 23 L 80 80 L 53 82 L 50 52 L 47 82 L 20 80 Z",
    )
    .fill(Ink::Shade(0.85), "M 26 16 L 74 16 L 74 23 L 26 23 Z")
    .line(Ink::Shade(0.8), 0.8, "M 20.4 76 L 47.4 78")
    .line(Ink::Shade(0.8), 0.8, "M 52.6 78 L 79.6 76");
    waist_details(d, back, 16.0, 23.0);
}

/// Fly, button and slanted pockets at the front; patch pockets and belt loops at the back.
fn waist_details(d: &mut Drawing, back: bool, top: f32, bottom: f32) {
    if back {
        for x in [33.0, 50.0, 67.0] {
            d.line(
                Ink::Shade(0.7),
                1.2,
                &format!("M {x} {} L {x} {}", top - 1.0, bottom + 1.0),
            );
        }
        let (y0, y1) = (bottom + 6.0, bottom + 16.0);
        d.line(
            Ink::Shade(0.62),
            0.8,
            &format!("M 34 {y0} L 45 {y0} L 45 {y1} L 34 {y1} Z"),
        )
        .line(
            Ink::Shade(0.62),
            0.8,
            &format!("M 55 {y0} L 66 {y0} L 66 {y1} L 55 {y1} Z"),
        );
    } else {
        let (fly, pocket) = (bottom + 18.0, bottom + 10.0);
        d.line(Ink::Shade(0.6), 0.8, &format!("M 50 {bottom} L 50 {fly}"))
            .line(
                Ink::Shade(0.6),
                0.8,
                &format!("M 32 {bottom} Q 38 {} 40 {pocket}", bottom + 2.0),
            )
            .line(
                Ink::Shade(0.6),
                0.8,
                &format!("M 68 {bottom} Q 62 {} 60 {pocket}", bottom + 2.0),
            )
            .circle(Ink::Metal(1.0), 50.0, (top + bottom) / 2.0, 1.3);
    }
}

fn skirt(d: &mut Drawing, back: bool) {
    d.fill(Ink::Body, "M 35 22 L 65 22 L 80 82 Q 50 88 20 82 Z")
        .fill(Ink::Shade(0.85), "M 35 16 L 65 16 L 65 23 L 35 23 Z");
    if back {
        d.line(Ink::Metal(0.9), 0.9, "M 50 23 L 50 44")
            .circle(Ink::Metal(1.0), 50.0, 44.0, 1.2);
    } else {
        d.line(Ink::Shade(0.78), 0.7, "M 43 23 L 38 85")
            .line(Ink::Shade(0.78), 0.7, "M 50 23 L 50 86")
            .line(Ink::Shade(0.78), 0.7, "M 57 23 L 62 85");
    }
}

fn dress(d: &mut Drawing, back: bool) {
    d.line(Ink::Body, 2.4, "M 39 6 L 39 18")
        .line(Ink::Body, 2.4, "M 61 6 L 61 18");
    if back {
        // An open V back instead of the belt.
        d.fill(
            Ink::Body,
            "M 37 16 L 50 36 L 63 16 L 65 30 L 60 44 L 82 92 Q 50 98 18 92 L 40 44 L 35 30 Z",
        );
    } else {
        d.fill(
            Ink::Body,
            "M 37 16 Q 50 26 63 16 L 65 30 L 60 44 L 82 92 Q 50 98 18 92 L 40 44 L 35 30 Z",
        )
        .fill(Ink::Shade(0.7), "M 39.6 42 L 60.4 42 L 61.2 47 L 38.8 47 Z");
    }
}

fn sneakers(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Trim,
        "M 8 70 L 92 70 L 92 78 Q 92 83 86 83 L 14 83 Q 7 83 7 77 Z",
    )
    .fill(
        Ink::Body,
        "M 9 71 Q 9 58 22 54 L 44 46 L 52 32 Q 66 26 80 26 Q 90 28 91 40 L 92 71 Z",
    )
    .fill(
        Ink::Shade(0.45),
        "M 54 33 Q 66 28 80 27.5 Q 82 31 80 34 Q 66 35 55 38 Z",
    );
    if back {
        d.fill(
            Ink::Shade(0.75),
            "M 80 34 Q 88 34 91.5 40 L 92 62 L 82 62 Z",
        );
    } else {
        d.line(Ink::Trim, 2.2, "M 30 64 Q 60 62 78 42")
            .line(Ink::Trim, 1.3, "M 42 46 L 48 50")
            .line(Ink::Trim, 1.3, "M 45 41 L 51 45")
            .line(Ink::Trim, 1.3, "M 48 36 L 54 40");
    }
}

fn boots(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Shade(0.35),
        "M 8 73 L 90 73 L 90 84 L 66 84 L 64 80 L 12 80 Q 6 79 8 73 Z",
    )
    .fill(
        Ink::Body,
        "M 9 74 Q 8 62 22 59 L 48 54 L 50 12 L 86 12 L 90 74 Z",
    )
    .fill(Ink::Shade(0.6), "M 80 6 L 87 6 L 86.5 13 L 80.5 13 Z")
    .line(Ink::Shade(0.5), 0.8, "M 9 73 L 90 73");
    if back {
        d.line(Ink::Metal(0.9), 1.0, "M 78 16 L 80 68");
    } else {
        for i in 0..5u8 {
            let y = 50.0 - 8.0 * f32::from(i);
            let x = 48.0 + 0.5 * f32::from(i);
            d.line(
                Ink::Trim,
                1.3,
                &format!("M {x} {y} L {} {}", x + 8.0, y - 2.0),
            );
        }
    }
}

fn sandals(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Shade(0.6),
        "M 10 72 L 95 66 L 95 72 L 12 79 Q 7 77 10 72 Z",
    )
    .fill(
        Ink::Body,
        "M 6 64 Q 6 56 16 56 L 86 54 Q 95 54 95 61 L 95 66 L 10 72 Q 5 70 6 64 Z",
    );
    if back {
        d.fill(Ink::Body, "M 10 57 Q 30 14 62 54 L 48 55 Q 30 32 22 57 Z");
    } else {
        d.fill(Ink::Body, "M 12 57 Q 28 22 56 55 L 46 55.5 Q 28 36 22 57 Z")
            .line(Ink::Body, 4.5, "M 58 55 Q 64 36 72 54");
    }
    d.line(Ink::Body, 5.0, "M 76 54 Q 80 26 93 54")
        .circle(Ink::Metal(1.0), 90.0, 40.0, 2.2);
}

fn heels(d: &mut Drawing, back: bool) {
    d.fill(Ink::Shade(0.6), "M 78 56 L 88 52 L 86 90 L 82 90 Z")
        .fill(
            Ink::Body,
            "M 8 66 Q 9 57 22 56 Q 42 57 56 48 Q 70 38 86 36 L 90 42 L 88 54 Q 62 68 40 72 \
             L 14 74 Q 6 73 8 66 Z",
        )
        .line(Ink::Shade(0.4), 1.0, "M 14 74 L 40 72 Q 62 68 88 54");
    if !back {
        d.fill(
            Ink::Shade(0.4),
            "M 36 57 Q 52 55 64 45 Q 76 38 86 38 L 87 41 Q 74 44 64 51 Q 50 60 36 57 Z",
        );
    }
}

fn handbag(d: &mut Drawing, back: bool) {
    d.line(Ink::Shade(0.7), 3.0, "M 33 42 Q 33 16 50 16 Q 67 16 67 42")
        .fill(
            Ink::Body,
            "M 22 40 L 78 40 L 85 86 Q 85 89 82 89 L 18 89 Q 15 89 15 86 Z",
        );
    if back {
        // The strap rings and the long cross-body strap hang on the side.
        d.line(Ink::Shade(0.65), 0.8, "M 26 52 L 74 52")
            .line(Ink::Shade(0.6), 1.6, "M 21 43 Q 8 24 16 4")
            .circle(Ink::Metal(1.0), 21.5, 42.0, 1.8)
            .circle(Ink::Metal(1.0), 78.5, 42.0, 1.8);
    } else {
        d.fill(Ink::Shade(0.88), "M 22 40 L 78 40 L 80 60 Q 50 70 20 60 Z")
            .circle(Ink::Metal(1.0), 50.0, 63.0, 2.6);
    }
}

fn backpack(d: &mut Drawing, back: bool) {
    d.line(Ink::Shade(0.6), 2.5, "M 43 22 Q 50 10 57 22").fill(
        Ink::Body,
        "M 36 20 L 64 20 Q 76 20 76 32 L 76 84 Q 76 90 70 90 L 30 90 Q 24 90 24 84 L 24 32 \
         Q 24 20 36 20 Z",
    );
    if back {
        d.fill(
            Ink::Shade(0.88),
            "M 32 28 L 68 28 Q 72 28 72 32 L 72 80 Q 72 84 68 84 L 32 84 Q 28 84 28 80 \
             L 28 32 Q 28 28 32 28 Z",
        )
        .fill(
            Ink::Shade(0.6),
            "M 31 24 Q 36 22 40 24 L 42 80 L 36 82 Q 30 60 31 24 Z",
        )
        .fill(
            Ink::Shade(0.6),
            "M 69 24 Q 64 22 60 24 L 58 80 L 64 82 Q 70 60 69 24 Z",
        );
    } else {
        d.line(Ink::Metal(0.9), 0.8, "M 27 36 Q 50 24 73 36")
            .fill(
                Ink::Shade(0.88),
                "M 34 56 L 66 56 Q 70 56 70 60 L 70 82 Q 70 85 66 85 L 34 85 Q 30 85 30 82 \
                 L 30 60 Q 30 56 34 56 Z",
            )
            .line(Ink::Metal(0.9), 0.8, "M 32 61 L 68 61")
            .circle(Ink::Metal(1.0), 64.0, 61.0, 1.3);
    }
}

fn tote(d: &mut Drawing, back: bool) {
    d.line(Ink::Shade(0.6), 3.0, "M 30 36 Q 50 6 70 36")
        .line(Ink::Shade(0.75), 3.0, "M 34 36 Q 50 2 66 36")
        .fill(Ink::Body, "M 18 34 L 82 34 L 77 90 L 23 90 Z");
    if back {
        d.circle(Ink::Metal(1.0), 50.0, 38.0, 1.6);
    } else {
        // The hem band and the brand's stitched patch.
        d.fill(Ink::Shade(0.86), "M 18 34 L 82 34 L 81.4 41 L 18.6 41 Z")
            .fill(Ink::Shade(0.8), "M 42 60 L 58 60 L 58 70 L 42 70 Z");
    }
}

fn cap(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Body,
        "M 26 64 Q 24 28 56 26 Q 84 26 86 62 L 86 66 L 26 66 Z",
    )
    .line(Ink::Shade(0.7), 0.6, "M 56 26 Q 50 46 48 64")
    .circle(Ink::Shade(0.8), 56.0, 26.0, 2.2)
    .line(Ink::Shade(0.75), 1.2, "M 26 64 L 86 64");
    if back {
        // The adjustable strap opening sits at the back of the crown.
        d.fill(Ink::Shade(0.3), "M 68 66 Q 70 54 78 54 Q 86 55 86 66 Z")
            .line(Ink::Metal(0.9), 1.2, "M 70 61 L 86 61");
    }
    d.fill(Ink::Shade(0.85), "M 32 62 Q 12 62 4 70 Q 22 74 40 68 Z");
}

fn watch(d: &mut Drawing, back: bool) {
    d.fill(
        Ink::Body,
        "M 40 2 L 60 2 Q 64 2 64 6 L 64 94 Q 64 98 60 98 L 40 98 Q 36 98 36 94 L 36 6 \
         Q 36 2 40 2 Z",
    )
    .fill(Ink::Metal(0.9), "M 66 46 L 71 46 L 71 54 L 66 54 Z")
    .circle(Ink::Metal(1.0), 50.0, 50.0, 18.0);
    for y in [76.0, 82.0, 88.0] {
        d.circle(Ink::Shade(0.45), 50.0, y, 1.0);
    }
    if back {
        d.ring(Ink::Metal(0.7), 0.8, 50.0, 50.0, 12.0)
            .ring(Ink::Metal(0.7), 0.6, 50.0, 50.0, 6.0)
            .line(Ink::Metal(0.9), 1.4, "M 35 14 L 65 14 L 65 22 L 35 22 Z");
    } else {
        d.circle(Ink::Trim, 50.0, 50.0, 14.5)
            .line(Ink::Contrast, 1.4, "M 50 50 L 50 39")
            .line(Ink::Contrast, 1.4, "M 50 50 L 58 54");
    }
}

/// The mannequin behind an item in a model view, in the item's unit box; empty for kinds
/// that are not worn on the body or head.
pub fn mannequin(kind: Kind) -> Vec<Part> {
    draw_mannequin(kind).parts
}

fn draw_mannequin(kind: Kind) -> Drawing {
    let mut d = Drawing::default();
    match kind {
        Kind::Tshirt | Kind::Shirt | Kind::Jacket | Kind::Hoodie => {
            // Arms run inside the sleeves, so only the hands show below long ones.
            head(&mut d, 50.0, 2.0);
            d.line(Ink::Skin, 5.5, "M 19 40 L 15 84")
                .line(Ink::Skin, 5.5, "M 81 40 L 85 84")
                .circle(Ink::Skin, 15.0, 88.0, 3.5)
                .circle(Ink::Skin, 85.0, 88.0, 3.5)
                .fill(
                    Ink::Mannequin,
                    "M 29 84 L 71 84 L 70 132 L 53 132 L 50 104 L 47 132 L 30 132 Z",
                );
        }
        Kind::Dress => {
            head(&mut d, 50.0, -7.0);
            d.fill(Ink::Skin, "M 34 14 Q 50 8 66 14 L 64 30 L 36 30 Z")
                .line(Ink::Skin, 5.0, "M 35 15 L 29 60")
                .line(Ink::Skin, 5.0, "M 65 15 L 71 60")
                .line(Ink::Skin, 5.0, "M 44 90 L 43 130")
                .line(Ink::Skin, 5.0, "M 56 90 L 57 130");
        }
        Kind::Trousers | Kind::Shorts | Kind::Skirt => {
            // A plain T-shirt on top, bare legs under shorts and skirts.
            let (waist, legs) = match kind {
                Kind::Trousers => (8.0, None),
                Kind::Shorts => (16.0, Some((36.0, 64.0, 78.0))),
                _ => (16.0, Some((42.0, 58.0, 84.0))),
            };
            if let Some((left, right, top)) = legs {
                d.line(Ink::Skin, 7.0, &format!("M {left} {top} L {left} 130"))
                    .line(Ink::Skin, 7.0, &format!("M {right} {top} L {right} 130"));
            }
            let mut top = Drawing::default();
            tshirt(&mut top, false);
            for part in &mut top.parts {
                part.ink = Ink::Mannequin;
            }
            d.shifted(top, 0.0, waist - 86.0);
        }
        Kind::Cap => {
            d.fill(
                Ink::Mannequin,
                "M 26 100 Q 55 90 84 100 L 96 140 L 14 140 Z",
            )
            .fill(Ink::Skin, "M 48 84 L 64 84 L 64 100 L 48 100 Z")
            .oval(Ink::Skin, 30.0, 38.0, 80.0, 96.0);
        }
        Kind::Sneakers
        | Kind::Boots
        | Kind::Sandals
        | Kind::Heels
        | Kind::Handbag
        | Kind::Backpack
        | Kind::Tote
        | Kind::Watch => {}
    }
    d
}

/// A plain head and neck centred on `x`, the chin at `chin`.
fn head(d: &mut Drawing, x: f32, chin: f32) {
    d.fill(
        Ink::Skin,
        &format!(
            "M {} {chin} L {} {chin} L {} {} L {} {} Z",
            x - 5.0,
            x + 5.0,
            x + 5.0,
            chin + 22.0,
            x - 5.0,
            chin + 22.0
        ),
    )
    .oval(Ink::Skin, x - 9.0, chin - 22.0, x + 9.0, chin + 2.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mini_svg_parser_reads_every_command_and_rejects_garbage() {
        let path = parse("M 0 0 L 10 0 Q 10 10 5 10 C 2 10 0 8 0 5 Z").unwrap();
        let bounds = path.bounds();
        assert_eq!((bounds.left(), bounds.right()), (0.0, 10.0));
        assert!(parse("M 0 0 X 1 1").is_none());
        assert!(parse("M 0 0 L 1").is_none());
    }

    #[test]
    fn every_shape_builds_and_has_a_body() {
        for kind in Kind::ALL {
            for back in [false, true] {
                let drawing = draw_item(kind, back);
                assert_eq!(drawing.failures, 0, "{kind:?} back={back}");
                assert!(
                    drawing
                        .parts
                        .iter()
                        .any(|p| p.ink == Ink::Body && p.line.is_none()),
                    "{kind:?} back={back}"
                );
            }
            assert_eq!(draw_mannequin(kind).failures, 0, "{kind:?}");
        }
    }
}
