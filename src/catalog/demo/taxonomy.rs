//! What the demo shop sells: item kinds under a type > category > subcategory tree, who each
//! kind is sold to, and the named colours with the RGB they are drawn in.
//!
//! Each [`Kind`] is exactly one subcategory, so a kind fixes all three taxonomy labels and the
//! tree is clean by construction:
//!
//! ```text
//! Apparel     > Topwear    > Tshirts, Shirts, Jackets, Hoodies
//!             > Bottomwear > Trousers, Shorts, Skirts
//!             > Dresses    > Dresses
//! Footwear    > Shoes      > Sneakers, Boots
//!             > Sandals    > Sandals, Heels
//! Accessories > Bags       > Handbags, Backpacks, Totes
//!             > Headwear   > Caps
//!             > Watches    > Watches
//! ```

/// Who a product is sold to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    /// Menswear.
    Men,
    /// Womenswear.
    Women,
    /// Sold to everybody.
    Unisex,
}

impl Gender {
    /// Every gender, in label order.
    pub const ALL: [Gender; 3] = [Gender::Men, Gender::Women, Gender::Unisex];

    /// The label written to the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Gender::Men => "Men",
            Gender::Women => "Women",
            Gender::Unisex => "Unisex",
        }
    }

    /// Horizontal scale of apparel silhouettes: cuts are slimmer for women and boxier for men,
    /// which makes the gender label (weakly) visible in the images.
    pub fn width(self) -> f32 {
        match self {
            Gender::Men => 1.1,
            Gender::Women => 0.86,
            Gender::Unisex => 1.0,
        }
    }
}

/// The drawing family of a kind: which shapes, views and model pose it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Worn on the upper body (T-shirts, shirts, jackets, hoodies).
    Top,
    /// Worn on the legs (trousers, shorts, skirts).
    Bottom,
    /// A dress.
    Dress,
    /// Footwear, drawn in profile.
    Shoe,
    /// A bag.
    Bag,
    /// A cap, drawn in profile.
    Cap,
    /// A wristwatch.
    Watch,
}

impl Family {
    /// Style words of product names ("Slim Shirt", "City Handbag").
    pub fn styles(self) -> &'static [&'static str] {
        match self {
            Family::Top => &["Slim", "Regular", "Relaxed", "Classic", "Oversized"],
            Family::Bottom => &["Slim", "Straight", "Relaxed", "Tailored", "Wide"],
            Family::Dress => &["Flowing", "Fitted", "Midi", "Classic", "Summer"],
            Family::Shoe => &["Classic", "Everyday", "Urban", "Comfort", "Retro"],
            Family::Bag => &["Classic", "Everyday", "City", "Compact", "Travel"],
            Family::Cap => &["Classic", "Sport", "Everyday", "Urban"],
            Family::Watch => &["Classic", "Minimal", "Sport", "Heritage"],
        }
    }
}

/// One kind of item, i.e. one leaf of the taxonomy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Short-sleeved T-shirt.
    Tshirt,
    /// Long-sleeved shirt with collar and buttons.
    Shirt,
    /// Zipped jacket.
    Jacket,
    /// Hooded sweatshirt.
    Hoodie,
    /// Full-length trousers.
    Trousers,
    /// Shorts.
    Shorts,
    /// A-line skirt.
    Skirt,
    /// Strapped dress.
    Dress,
    /// Low sneakers.
    Sneakers,
    /// Ankle boots.
    Boots,
    /// Strapped flat sandals.
    Sandals,
    /// High-heeled pumps.
    Heels,
    /// Handbag with a flap.
    Handbag,
    /// Backpack.
    Backpack,
    /// Tote bag.
    Tote,
    /// Baseball cap.
    Cap,
    /// Wristwatch.
    Watch,
}

impl Kind {
    /// Every kind, in taxonomy order.
    pub const ALL: [Kind; 17] = [
        Kind::Tshirt,
        Kind::Shirt,
        Kind::Jacket,
        Kind::Hoodie,
        Kind::Trousers,
        Kind::Shorts,
        Kind::Skirt,
        Kind::Dress,
        Kind::Sneakers,
        Kind::Boots,
        Kind::Sandals,
        Kind::Heels,
        Kind::Handbag,
        Kind::Backpack,
        Kind::Tote,
        Kind::Cap,
        Kind::Watch,
    ];

    /// The `(type, category, subcategory)` labels of the kind.
    pub fn labels(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Kind::Tshirt => ("Apparel", "Topwear", "Tshirts"),
            Kind::Shirt => ("Apparel", "Topwear", "Shirts"),
            Kind::Jacket => ("Apparel", "Topwear", "Jackets"),
            Kind::Hoodie => ("Apparel", "Topwear", "Hoodies"),
            Kind::Trousers => ("Apparel", "Bottomwear", "Trousers"),
            Kind::Shorts => ("Apparel", "Bottomwear", "Shorts"),
            Kind::Skirt => ("Apparel", "Bottomwear", "Skirts"),
            Kind::Dress => ("Apparel", "Dresses", "Dresses"),
            Kind::Sneakers => ("Footwear", "Shoes", "Sneakers"),
            Kind::Boots => ("Footwear", "Shoes", "Boots"),
            Kind::Sandals => ("Footwear", "Sandals", "Sandals"),
            Kind::Heels => ("Footwear", "Sandals", "Heels"),
            Kind::Handbag => ("Accessories", "Bags", "Handbags"),
            Kind::Backpack => ("Accessories", "Bags", "Backpacks"),
            Kind::Tote => ("Accessories", "Bags", "Totes"),
            Kind::Cap => ("Accessories", "Headwear", "Caps"),
            Kind::Watch => ("Accessories", "Watches", "Watches"),
        }
    }

    /// The noun a product name ends with.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Tshirt => "T-shirt",
            Kind::Shirt => "Shirt",
            Kind::Jacket => "Jacket",
            Kind::Hoodie => "Hoodie",
            Kind::Trousers => "Trousers",
            Kind::Shorts => "Shorts",
            Kind::Skirt => "Skirt",
            Kind::Dress => "Dress",
            Kind::Sneakers => "Sneakers",
            Kind::Boots => "Boots",
            Kind::Sandals => "Sandals",
            Kind::Heels => "Heels",
            Kind::Handbag => "Handbag",
            Kind::Backpack => "Backpack",
            Kind::Tote => "Tote Bag",
            Kind::Cap => "Cap",
            Kind::Watch => "Watch",
        }
    }

    /// The drawing family of the kind.
    pub fn family(self) -> Family {
        match self {
            Kind::Tshirt | Kind::Shirt | Kind::Jacket | Kind::Hoodie => Family::Top,
            Kind::Trousers | Kind::Shorts | Kind::Skirt => Family::Bottom,
            Kind::Dress => Family::Dress,
            Kind::Sneakers | Kind::Boots | Kind::Sandals | Kind::Heels => Family::Shoe,
            Kind::Handbag | Kind::Backpack | Kind::Tote => Family::Bag,
            Kind::Cap => Family::Cap,
            Kind::Watch => Family::Watch,
        }
    }

    /// Relative frequency in the catalogue: apparel dominates, as in real fashion shops, but
    /// every class keeps enough examples to be learnable.
    pub fn weight(self) -> u32 {
        match self {
            Kind::Tshirt => 12,
            Kind::Shirt | Kind::Trousers | Kind::Sneakers => 9,
            Kind::Dress | Kind::Handbag => 7,
            Kind::Jacket | Kind::Hoodie | Kind::Shorts | Kind::Heels => 6,
            Kind::Skirt | Kind::Boots | Kind::Sandals | Kind::Backpack => 5,
            Kind::Tote | Kind::Cap | Kind::Watch => 4,
        }
    }

    /// The genders the kind is sold to, with relative weights (dresses and heels only to
    /// women, caps and backpacks mostly unisex, ...).
    pub fn genders(self) -> &'static [(Gender, u32)] {
        use Gender::{Men, Unisex, Women};
        match self {
            Kind::Tshirt | Kind::Hoodie => &[(Men, 4), (Women, 4), (Unisex, 2)],
            Kind::Jacket | Kind::Sneakers => &[(Men, 4), (Women, 4), (Unisex, 1)],
            Kind::Shirt | Kind::Trousers | Kind::Boots | Kind::Watch => &[(Men, 3), (Women, 2)],
            Kind::Shorts | Kind::Sandals => &[(Men, 3), (Women, 3), (Unisex, 1)],
            Kind::Skirt | Kind::Dress | Kind::Heels | Kind::Handbag => &[(Women, 1)],
            Kind::Backpack => &[(Unisex, 4), (Men, 1), (Women, 1)],
            Kind::Tote => &[(Women, 3), (Unisex, 2)],
            Kind::Cap => &[(Unisex, 3), (Men, 2)],
        }
    }
}

/// A named colour of the palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    /// The label written to the manifest.
    pub name: &'static str,
    /// The RGB the colour is drawn in (before per-product jitter).
    pub rgb: [u8; 3],
    /// Relative frequency per gender (`[Men, Women, Unisex]`): menswear leans to dark and
    /// neutral colours, womenswear to pinks, purples and reds, as in real catalogues.
    pub weights: [u32; 3],
    /// Colours a cataloguer plausibly mistakes this one for; wrong colour labels prefer them.
    pub confused_with: &'static [&'static str],
}

impl Colour {
    /// Relative frequency of the colour in products for `gender`.
    pub fn weight(&self, gender: Gender) -> u32 {
        match gender {
            Gender::Men => self.weights[0],
            Gender::Women => self.weights[1],
            Gender::Unisex => self.weights[2],
        }
    }
}

/// The palette: twelve colours far enough apart in RGB to be learnable at 64 px.
pub const COLOURS: [Colour; 12] = [
    Colour {
        name: "Black",
        rgb: [28, 28, 30],
        weights: [6, 4, 5],
        confused_with: &["Navy Blue", "Grey"],
    },
    Colour {
        name: "White",
        rgb: [242, 242, 238],
        weights: [4, 4, 5],
        confused_with: &["Beige", "Grey"],
    },
    Colour {
        name: "Grey",
        rgb: [128, 130, 134],
        weights: [5, 2, 4],
        confused_with: &["Black", "White"],
    },
    Colour {
        name: "Navy Blue",
        rgb: [26, 38, 92],
        weights: [6, 2, 3],
        confused_with: &["Blue", "Black"],
    },
    Colour {
        name: "Blue",
        rgb: [38, 104, 206],
        weights: [4, 3, 3],
        confused_with: &["Navy Blue", "Purple"],
    },
    Colour {
        name: "Red",
        rgb: [204, 32, 40],
        weights: [2, 4, 3],
        confused_with: &["Pink", "Brown"],
    },
    Colour {
        name: "Green",
        rgb: [38, 134, 62],
        weights: [4, 2, 3],
        confused_with: &["Yellow", "Grey"],
    },
    Colour {
        name: "Yellow",
        rgb: [242, 204, 36],
        weights: [1, 3, 2],
        confused_with: &["Beige", "Green"],
    },
    Colour {
        name: "Pink",
        rgb: [242, 140, 182],
        weights: [1, 6, 2],
        confused_with: &["Red", "Purple"],
    },
    Colour {
        name: "Brown",
        rgb: [112, 70, 38],
        weights: [4, 2, 3],
        confused_with: &["Beige", "Black"],
    },
    Colour {
        name: "Beige",
        rgb: [218, 196, 158],
        weights: [2, 4, 3],
        confused_with: &["White", "Brown"],
    },
    Colour {
        name: "Purple",
        rgb: [112, 48, 146],
        weights: [1, 4, 2],
        confused_with: &["Pink", "Navy Blue"],
    },
];

/// The palette colour called `name`.
pub fn colour(name: &str) -> Option<&'static Colour> {
    COLOURS.iter().find(|c| c.name == name)
}

/// The surface pattern of a garment, written to the manifest's `pattern` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// One flat colour.
    Solid,
    /// Horizontal stripes in a shade of the product colour.
    Striped,
    /// A check of the product colour's shades.
    Checked,
    /// Small dots in a shade of the product colour.
    Dotted,
}

impl Pattern {
    /// The value written to the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Solid => "Solid",
            Pattern::Striped => "Striped",
            Pattern::Checked => "Checked",
            Pattern::Dotted => "Dotted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_tree_is_clean_and_every_kind_is_its_own_leaf() {
        let mut parent_of_category = HashMap::new();
        let mut parent_of_subcategory = HashMap::new();
        for kind in Kind::ALL {
            let (ty, category, subcategory) = kind.labels();
            assert_eq!(*parent_of_category.entry(category).or_insert(ty), ty);
            assert!(
                parent_of_subcategory
                    .insert(subcategory, category)
                    .is_none()
            );
            assert!(!kind.genders().is_empty());
        }
    }

    #[test]
    fn colour_names_are_unique_and_confusions_resolve() {
        for c in COLOURS {
            assert_eq!(colour(c.name), Some(&c));
            for other in c.confused_with {
                assert!(colour(other).is_some_and(|o| o.name != c.name));
            }
        }
    }
}
