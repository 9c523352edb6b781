//! A product and its photos.

use super::task::Task;
use super::vocabulary::ClassId;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// One photo of a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductImage {
    /// Path relative to the catalogue's image root, with `/` separators.
    pub path: Box<str>,
    /// Optional view tag such as `front`, `back`, `detail`, `main`.
    pub view: Option<Box<str>>,
}

/// Interned key of a product attribute (see [`super::Catalog::attribute_key_name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttributeKey(pub u32);

/// A product: its photos in order, a label for each task (each optional), other attributes.
///
/// Everything but the labels is shared (`Arc`), so a copy of the catalogue costs a few words
/// per product, not its strings again, and the label store's worker keeps the ids it needs
/// without copying them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Unique id within the catalogue.
    pub id: Arc<str>,
    /// Display name (may be empty).
    pub name: Arc<str>,
    /// Ordered photos; empty when the source lists none that exist.
    pub images: Arc<[ProductImage]>,
    /// One optional label per task, indexed by [`Task::index`]. A missing label is not a class.
    pub labels: [Option<ClassId>; 5],
    /// Other columns of the source, as key/value pairs.
    pub attributes: Arc<[(AttributeKey, Box<str>)]>,
}

impl Product {
    /// The label of `task`, if set.
    pub fn label(&self, task: Task) -> Option<ClassId> {
        self.labels[task.index()]
    }

    /// The signature of the product's photos: their paths relative to the image root, in
    /// order (see [`PhotoSignature`]).
    pub fn photo_signature(&self) -> PhotoSignature {
        let mut hash = Sha256::new();
        for image in self.images.iter() {
            // Length-prefixed, so ["ab", "c"] and ["a", "bc"] differ.
            hash.update((image.path.len() as u64).to_le_bytes());
            hash.update(image.path.as_bytes());
        }
        let digest = hash.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        PhotoSignature(u64::from_be_bytes(first))
    }
}

/// A stable hash (SHA-256, its first 64 bits) of a product's photo paths relative to the
/// catalogue's image root, in order: it changes when a photo is added, removed, renamed or
/// reordered, and not when the image root moves; a file replaced under the same name, or a
/// changed view tag, keeps it. The same on every build and machine, so it can be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhotoSignature(pub u64);

impl fmt::Display for PhotoSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for PhotoSignature {
    type Err = String;

    /// Reads the 16 hexadecimal digits [`PhotoSignature`]'s `Display` writes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wrong = || {
            format!(
                "photo signature '{}' is not 16 hexadecimal digits",
                super::text::excerpt(s)
            )
        };
        // from_str_radix alone would take a sign.
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(wrong());
        }
        u64::from_str_radix(s, 16)
            .map(PhotoSignature)
            .map_err(|_| wrong())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_photos(paths: &[&str]) -> Product {
        Product {
            id: "p1".into(),
            name: "".into(),
            images: paths
                .iter()
                .map(|p| ProductImage {
                    path: (*p).into(),
                    view: None,
                })
                .collect(),
            labels: [None; 5],
            attributes: Vec::new().into(),
        }
    }

    #[test]
    fn the_photo_signature_follows_the_paths_in_order_and_nothing_else() {
        let signature = |paths: &[&str]| with_photos(paths).photo_signature();
        let two = signature(&["a/1.jpg", "a/2.jpg"]);
        assert_eq!(two, signature(&["a/1.jpg", "a/2.jpg"]));
        // Stored in label stores: the same on every build (SHA-256 of the length-prefixed paths).
        assert_eq!(two.to_string(), "8f16e2635b9b2a0d");
        assert_ne!(two, signature(&["a/2.jpg", "a/1.jpg"]), "reordered");
        assert_ne!(two, signature(&["a/1.jpg"]), "removed");
        assert_ne!(two, signature(&["a/1.jpg", "a/2.jpg", "a/3.jpg"]), "added");
        assert_ne!(two, signature(&["a/1.jpg", "a/2.png"]), "renamed");
        assert_ne!(signature(&["ab", "c"]), signature(&["a", "bc"]));
        assert_ne!(signature(&[]), signature(&[""]));
        let mut tagged = with_photos(&["a/1.jpg", "a/2.jpg"]);
        tagged.name = "Renamed".into();
        tagged.images = vec![
            ProductImage {
                path: "a/1.jpg".into(),
                view: Some("front".into()),
            },
            ProductImage {
                path: "a/2.jpg".into(),
                view: None,
            },
        ]
        .into();
        assert_eq!(
            tagged.photo_signature(),
            two,
            "views and names are not photos"
        );
        assert_eq!(two.to_string().parse::<PhotoSignature>(), Ok(two));
        assert!("xyz".parse::<PhotoSignature>().is_err());
        assert!("0123456789abcdeg".parse::<PhotoSignature>().is_err());
        assert!("+123456789abcdef".parse::<PhotoSignature>().is_err());
    }

    #[test]
    fn a_copy_of_a_product_is_a_few_words() {
        // Four shared pointers and the labels: what a copy of the catalogue costs a product.
        assert!(std::mem::size_of::<Product>() <= 104);
        let product = Product {
            id: "p1".into(),
            name: "Hoodie".into(),
            images: vec![ProductImage {
                path: "a.jpg".into(),
                view: None,
            }]
            .into(),
            labels: [None; 5],
            attributes: Vec::new().into(),
        };
        let copy = product.clone();
        assert!(Arc::ptr_eq(&product.id, &copy.id));
        assert!(Arc::ptr_eq(&product.images, &copy.images));
    }
}
