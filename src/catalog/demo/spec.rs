//! One product as drawn from its random stream: kind, gender, colour, pattern, views and the
//! photo set-up. Every random choice of a product is made here, so rendering is a pure
//! function of the spec and products can be rendered in any order, on any thread.

use super::taxonomy::{COLOURS, Colour, Family, Gender, Kind, Pattern};
use rand::Rng;
use rand::seq::IndexedRandom;

/// A photo of a product, written to the manifest's `views` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The packshot; always the first image.
    Front,
    /// The back of the item, with different details (no buttons, strap side, ...).
    Back,
    /// A narrower three-quarter view.
    Side,
    /// A zoomed crop showing the material and its details.
    Detail,
    /// The item worn by a plain mannequin.
    Model,
}

impl View {
    /// The tag written to the manifest and used in file names.
    pub fn tag(self) -> &'static str {
        match self {
            View::Front => "front",
            View::Back => "back",
            View::Side => "side",
            View::Detail => "detail",
            View::Model => "model",
        }
    }

    /// The views a family can have besides the front, in the order shops list them. Only
    /// things people wear on the body or head get a model view.
    pub fn extras(family: Family) -> &'static [View] {
        match family {
            Family::Top | Family::Bottom | Family::Dress | Family::Cap => {
                &[View::Back, View::Side, View::Detail, View::Model]
            }
            Family::Shoe | Family::Bag | Family::Watch => &[View::Back, View::Side, View::Detail],
        }
    }
}

/// The backdrop of a product's photos.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Background {
    /// A flat colour.
    Solid([u8; 3]),
    /// A linear gradient from the top (or top-left corner) to the bottom (or bottom-right).
    Gradient {
        /// Colour at the start.
        from: [u8; 3],
        /// Colour at the end.
        to: [u8; 3],
        /// Corner to corner rather than top to bottom.
        diagonal: bool,
    },
}

/// How a product is photographed; the same for all its views, as in a real studio session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scene {
    /// The backdrop.
    pub background: Background,
    /// Size of the item as a fraction of the frame.
    pub scale: f32,
    /// Offset of the item from the frame centre, as fractions of the frame.
    pub offset: (f32, f32),
    /// Rotation of the item, in degrees.
    pub tilt: f32,
    /// Skin tone of the mannequin in model views.
    pub skin: [u8; 3],
    /// Colour of the mannequin's own clothes in model views: a neutral far from the product's.
    pub mannequin: [u8; 3],
}

/// Everything needed to label and draw one product.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductSpec {
    /// Product id, e.g. `p0042`.
    pub id: String,
    /// What the item is.
    pub kind: Kind,
    /// Who it is sold to.
    pub gender: Gender,
    /// Its named colour (the truth).
    pub colour: &'static Colour,
    /// The colour actually drawn: the palette RGB with this product's jitter, since dye lots
    /// and photo lighting differ.
    pub rgb: [u8; 3],
    /// Secondary colour: soles, buttons, drawstrings, watch faces.
    pub trim: [u8; 3],
    /// Surface pattern (apparel only; everything else is solid).
    pub pattern: Pattern,
    /// Style word of the name ("Slim", "Classic", ...).
    pub style: &'static str,
    /// Views in manifest order; the front comes first.
    pub views: Vec<View>,
    /// The photo set-up.
    pub scene: Scene,
}

impl ProductSpec {
    /// Draws the product `id` from `rng`.
    pub fn draw(id: String, rng: &mut impl Rng) -> Self {
        let kind = pick(rng, &Kind::ALL.map(|k| (k, k.weight()))).unwrap_or(Kind::Tshirt);
        let gender = pick(rng, kind.genders()).unwrap_or(Gender::Unisex);
        let colour =
            pick(rng, &COLOURS.each_ref().map(|c| (c, c.weight(gender)))).unwrap_or(&COLOURS[0]);
        let rgb = jitter(rng, colour.rgb);
        let trim = pick_far(rng, &TRIMS, rgb, 90.0);
        let pattern = match kind.family() {
            Family::Top | Family::Bottom | Family::Dress => pick(
                rng,
                &[
                    (Pattern::Solid, 14),
                    (Pattern::Striped, 3),
                    (Pattern::Checked, 2),
                    (Pattern::Dotted, 1),
                ],
            )
            .unwrap_or(Pattern::Solid),
            Family::Shoe | Family::Bag | Family::Cap | Family::Watch => Pattern::Solid,
        };
        let style = kind
            .family()
            .styles()
            .choose(rng)
            .copied()
            .unwrap_or("Classic");
        let views = draw_views(rng, kind.family());
        let scene = draw_scene(rng, kind.family(), rgb);
        ProductSpec {
            id,
            kind,
            gender,
            colour,
            rgb,
            trim,
            pattern,
            style,
            views,
            scene,
        }
    }

    /// The display name, e.g. "Navy Blue Striped Slim Shirt". It describes the item as it
    /// is (the truth), as a copywriter looking at the product would, even when a label is
    /// deliberately wrong: the name is a clue for the moderator, like in real catalogues.
    pub fn name(&self) -> String {
        match self.pattern {
            Pattern::Solid => format!("{} {} {}", self.colour.name, self.style, self.kind.noun()),
            pattern => format!(
                "{} {} {} {}",
                self.colour.name,
                pattern.name(),
                self.style,
                self.kind.noun()
            ),
        }
    }
}

/// Secondary colours: off-white, charcoal and gum brown.
const TRIMS: [[u8; 3]; 3] = [[238, 236, 230], [44, 44, 48], [176, 128, 78]];

/// Skin tones of the model views.
const SKINS: [[u8; 3]; 5] = [
    [241, 205, 180],
    [224, 172, 138],
    [198, 140, 100],
    [150, 98, 66],
    [96, 64, 46],
];

/// Neutral colours the mannequin's own clothes are drawn in.
const MANNEQUIN_CLOTHES: [[u8; 3]; 3] = [[205, 205, 200], [140, 140, 140], [70, 72, 76]];

/// Picks an item with probability proportional to its weight; `None` only for a table
/// without weight (the tables are constants, so callers fall back to a plain default).
pub fn pick<T: Copy>(rng: &mut impl Rng, weighted: &[(T, u32)]) -> Option<T> {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut ticket = rng.random_range(0..total);
    for &(item, weight) in weighted {
        if ticket < weight {
            return Some(item);
        }
        ticket -= weight;
    }
    None
}

/// Euclidean distance between two colours.
pub fn distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(&x, y)| (f32::from(x) - f32::from(y)).powi(2))
        .sum::<f32>()
        .sqrt()
}

/// A random colour of `options` at least `min` away from `avoid`, or the farthest one when
/// none is, so trims and mannequins always stand out from the product.
fn pick_far(rng: &mut impl Rng, options: &[[u8; 3]], avoid: [u8; 3], min: f32) -> [u8; 3] {
    let far: Vec<[u8; 3]> = options
        .iter()
        .copied()
        .filter(|&c| distance(c, avoid) >= min)
        .collect();
    far.choose(rng).copied().unwrap_or_else(|| {
        options
            .iter()
            .copied()
            .max_by(|&a, &b| distance(a, avoid).total_cmp(&distance(b, avoid)))
            .unwrap_or(avoid.map(|c| 255 - c))
    })
}

/// The palette colour with a per-product shade and a little per-channel noise.
fn jitter(rng: &mut impl Rng, rgb: [u8; 3]) -> [u8; 3] {
    let shade = rng.random_range(0.9f32..1.1);
    rgb.map(|c| {
        let noisy = f32::from(c) * shade + rng.random_range(-5.0f32..5.0);
        noisy.round().clamp(0.0, 255.0) as u8
    })
}

/// The front, then a random subset of the family's other views in shop order.
fn draw_views(rng: &mut impl Rng, family: Family) -> Vec<View> {
    let extras = View::extras(family);
    let count = pick(rng, &[(1usize, 2), (2, 3), (3, 3), (4, 2), (5, 1)])
        .unwrap_or(1)
        .min(extras.len() + 1);
    let mut chosen = rand::seq::index::sample(rng, extras.len(), count - 1).into_vec();
    chosen.sort_unstable();
    let mut views = vec![View::Front];
    views.extend(chosen.into_iter().map(|i| extras[i]));
    views
}

/// A light studio backdrop far enough from the product colour to keep the item visible.
fn draw_background(rng: &mut impl Rng, rgb: [u8; 3]) -> Background {
    let mut tint = || {
        let light = rng.random_range(200.0f32..248.0);
        let hue = [(); 3].map(|()| rng.random_range(-14.0f32..14.0));
        hue.map(|h| (light + h).round().clamp(0.0, 255.0) as u8)
    };
    let mut base = tint();
    // Light products on light backdrops are hard to see even for people: retry a few times,
    // then fall back to a darker version of the last tint (a grey studio sweep).
    for _ in 0..6 {
        if distance(base, rgb) >= 70.0 {
            break;
        }
        base = tint();
    }
    if distance(base, rgb) < 70.0 {
        base = base.map(|c| (f32::from(c) * 0.68) as u8);
    }
    if rng.random_bool(0.35) {
        let step = rng.random_range(-28.0f32..28.0);
        let to = base.map(|c| (f32::from(c) + step).round().clamp(0.0, 255.0) as u8);
        Background::Gradient {
            from: base,
            to,
            diagonal: rng.random_bool(0.4),
        }
    } else {
        Background::Solid(base)
    }
}

/// The studio set-up of a product: backdrop, framing, mannequin.
fn draw_scene(rng: &mut impl Rng, family: Family, rgb: [u8; 3]) -> Scene {
    let background = draw_background(rng, rgb);
    // Shoes and caps are photographed at a jaunty angle; clothes hang straight.
    let max_tilt = match family {
        Family::Shoe | Family::Cap => 9.0,
        Family::Top | Family::Bottom | Family::Dress | Family::Bag | Family::Watch => 4.0,
    };
    Scene {
        background,
        scale: rng.random_range(0.72..0.92),
        offset: (rng.random_range(-0.05..0.05), rng.random_range(-0.05..0.05)),
        tilt: rng.random_range(-max_tilt..max_tilt),
        skin: SKINS.choose(rng).copied().unwrap_or(SKINS[0]),
        mannequin: pick_far(rng, &MANNEQUIN_CLOTHES, rgb, 80.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn views_start_with_the_front_and_follow_shop_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0usize; 6];
        for i in 0..500 {
            let spec = ProductSpec::draw(format!("p{i}"), &mut rng);
            assert_eq!(spec.views[0], View::Front);
            let extras = View::extras(spec.kind.family());
            let positions: Vec<usize> = spec.views[1..]
                .iter()
                .map(|v| extras.iter().position(|e| e == v).unwrap())
                .collect();
            assert!(
                positions.windows(2).all(|w| w[0] < w[1]),
                "{:?}",
                spec.views
            );
            counts[spec.views.len()] += 1;
        }
        assert!(
            counts[1] > 0 && counts[5] > 0 && counts[0] == 0,
            "{counts:?}"
        );
    }

    #[test]
    fn genders_follow_the_kind_and_names_read_well() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for i in 0..300 {
            let spec = ProductSpec::draw(format!("p{i}"), &mut rng);
            assert!(spec.kind.genders().iter().any(|(g, _)| *g == spec.gender));
            let name = spec.name();
            assert!(name.starts_with(spec.colour.name) && name.ends_with(spec.kind.noun()));
        }
    }

    #[test]
    fn the_backdrop_stands_out_from_the_product() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for colour in COLOURS {
            let background = draw_background(&mut rng, colour.rgb);
            let (Background::Solid(base) | Background::Gradient { from: base, .. }) = background;
            assert!(
                distance(base, colour.rgb) >= 50.0,
                "{} on {base:?}",
                colour.name
            );
        }
    }
}
