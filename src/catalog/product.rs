//! A product and its photos.

use super::task::Task;
use super::vocabulary::ClassId;
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
