//! The map's colours: one rule for the window's scatter and the PNG export. A colour label
//! is drawn in its own colour where the name is a known one (the published post's colour-only
//! picture reads at a glance that way); any other class gets a colour of a fixed categorical
//! palette by its index among the task's classes, so a class keeps its colour between maps.

/// The background the points are drawn on: a middle grey, on which white and black points
/// both show.
pub const BACKGROUND: [u8; 3] = [96, 96, 100];
/// A point without the value asked for (no label, no prediction).
pub const MISSING: [u8; 3] = [150, 150, 150];
/// A point whose prediction disagrees with its label.
pub const DISAGREES: [u8; 3] = [235, 52, 40];
/// A point whose prediction agrees with its label.
pub const AGREES: [u8; 3] = [70, 170, 120];

/// Kelly's 22 colours of maximum contrast, less white, black and the greys (the background).
const PALETTE: [[u8; 3]; 19] = [
    [243, 195, 0],
    [135, 86, 146],
    [243, 132, 0],
    [161, 202, 241],
    [190, 0, 50],
    [194, 178, 128],
    [0, 136, 86],
    [230, 143, 172],
    [0, 103, 165],
    [249, 147, 121],
    [96, 78, 151],
    [246, 166, 0],
    [179, 68, 108],
    [220, 211, 0],
    [136, 45, 23],
    [141, 182, 0],
    [101, 69, 34],
    [226, 88, 34],
    [43, 61, 38],
];

/// Colour names of the retail catalogues (Myntra's `baseColour`, the demo's colours) and how
/// they look; names are compared without case.
const NAMED: [(&str, [u8; 3]); 48] = [
    ("black", [20, 20, 22]),
    ("white", [248, 248, 246]),
    ("off white", [236, 232, 220]),
    ("cream", [240, 228, 196]),
    ("beige", [214, 196, 160]),
    ("skin", [226, 186, 152]),
    ("nude", [222, 180, 150]),
    ("peach", [250, 180, 140]),
    ("grey", [140, 142, 146]),
    ("grey melange", [170, 170, 172]),
    ("charcoal", [60, 64, 68]),
    ("steel", [120, 134, 146]),
    ("silver", [196, 198, 204]),
    ("metallic", [170, 170, 180]),
    ("navy blue", [26, 38, 100]),
    ("blue", [38, 104, 206]),
    ("turquoise blue", [40, 190, 200]),
    ("teal", [0, 128, 128]),
    ("sea green", [46, 139, 87]),
    ("green", [40, 150, 60]),
    ("olive", [110, 120, 40]),
    ("lime green", [150, 220, 50]),
    ("fluorescent green", [90, 255, 80]),
    ("khaki", [190, 176, 120]),
    ("yellow", [250, 214, 30]),
    ("mustard", [214, 170, 30]),
    ("gold", [212, 175, 55]),
    ("orange", [246, 130, 30]),
    ("rust", [183, 65, 14]),
    ("copper", [184, 115, 51]),
    ("bronze", [160, 110, 50]),
    ("tan", [200, 150, 100]),
    ("brown", [120, 72, 36]),
    ("coffee brown", [90, 56, 36]),
    ("mushroom brown", [150, 120, 100]),
    ("taupe", [130, 115, 100]),
    ("red", [204, 32, 40]),
    ("maroon", [120, 20, 36]),
    ("burgundy", [128, 0, 40]),
    ("rose", [230, 120, 140]),
    ("pink", [240, 140, 180]),
    ("magenta", [210, 40, 150]),
    ("mauve", [200, 150, 190]),
    ("lavender", [190, 170, 230]),
    ("purple", [120, 50, 150]),
    ("multi", [250, 250, 120]),
    ("indigo", [60, 40, 140]),
    ("violet", [150, 80, 220]),
];

/// The colour of class `name`, the `index`-th class of its task; `colour_task`: the task is
/// the colour task, whose known names are drawn in their own colour.
pub fn class_colour(name: &str, index: usize, colour_task: bool) -> [u8; 3] {
    if colour_task && let Some(rgb) = named(name) {
        return rgb;
    }
    PALETTE[index % PALETTE.len()]
}

/// One entry of the map's legend: a class, its colour, and how many points carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegendEntry {
    /// The class name (or what the colour means: "disagrees", "no label").
    pub name: String,
    /// Its colour.
    pub colour: [u8; 3],
    /// Points in it.
    pub count: usize,
}

/// The colours of points named `names` (a class name each, `None`: the value is missing):
/// classes are numbered most frequent first (ties by name), so the palette's colours go to the
/// largest classes and only classes beyond its length share one; the legend lists them in that
/// order, the missing last.
pub fn colour_classes(
    names: &[Option<&str>],
    colour_task: bool,
) -> (Vec<[u8; 3]>, Vec<LegendEntry>) {
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    for name in names.iter().flatten() {
        *counts.entry(name).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let colours_of: std::collections::HashMap<&str, [u8; 3]> = ranked
        .iter()
        .enumerate()
        .map(|(index, &(name, _))| (name, class_colour(name, index, colour_task)))
        .collect();
    let colours = names
        .iter()
        .map(|name| {
            name.and_then(|n| colours_of.get(n).copied())
                .unwrap_or(MISSING)
        })
        .collect();
    let mut legend: Vec<LegendEntry> = ranked
        .iter()
        .map(|&(name, count)| LegendEntry {
            name: name.to_string(),
            colour: colours_of[name],
            count,
        })
        .collect();
    let missing = names.iter().filter(|n| n.is_none()).count();
    if missing > 0 {
        legend.push(LegendEntry {
            name: "none".into(),
            colour: MISSING,
            count: missing,
        });
    }
    (colours, legend)
}

/// How a colour name looks, if it is a known one.
pub fn named(name: &str) -> Option<[u8; 3]> {
    let name = name.trim();
    NAMED
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|&(_, rgb)| rgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_labels_are_drawn_in_their_colour_and_others_by_index() {
        assert_eq!(class_colour("Navy Blue", 3, true), [26, 38, 100]);
        assert_eq!(class_colour("navy blue", 3, true), [26, 38, 100]);
        // The same name of another task is a category like any other.
        assert_eq!(class_colour("Navy Blue", 3, false), PALETTE[3]);
        assert_eq!(class_colour("Plaid", 20, true), PALETTE[1]);
    }

    #[test]
    fn classes_are_numbered_and_listed_by_count() {
        let names = [Some("b"), Some("a"), None, Some("b"), Some("c")];
        let (colours, legend) = colour_classes(&names, false);
        assert_eq!(
            colours,
            vec![PALETTE[0], PALETTE[1], MISSING, PALETTE[0], PALETTE[2]]
        );
        // The palette's colours go to the largest classes: 19 classes of 45 all differ.
        let many: Vec<String> = (0..45).map(|i| format!("class {i:02}")).collect();
        let names: Vec<Option<&str>> = many
            .iter()
            .enumerate()
            .flat_map(|(i, n)| std::iter::repeat_n(Some(n.as_str()), 100 - i))
            .collect();
        let (_, legend_of_many) = colour_classes(&names, false);
        let mut largest: Vec<[u8; 3]> = legend_of_many[..PALETTE.len()]
            .iter()
            .map(|e| e.colour)
            .collect();
        largest.sort();
        largest.dedup();
        assert_eq!(largest.len(), PALETTE.len());
        let listed: Vec<(&str, usize)> =
            legend.iter().map(|e| (e.name.as_str(), e.count)).collect();
        assert_eq!(listed, vec![("b", 2), ("a", 1), ("c", 1), ("none", 1)]);
    }

    #[test]
    fn the_palette_stands_apart_from_the_background() {
        let far = |a: [u8; 3], b: [u8; 3]| {
            a.iter()
                .zip(b)
                .map(|(&x, y)| (x as i32 - y as i32).abs())
                .sum::<i32>()
        };
        for colour in PALETTE {
            assert!(far(colour, BACKGROUND) > 60, "{colour:?}");
        }
    }
}
