//! A product and its photos.

use super::task::Task;
use super::vocabulary::ClassId;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// Unique id within the catalogue.
    pub id: Box<str>,
    /// Display name (may be empty).
    pub name: Box<str>,
    /// Ordered photos; empty when the source lists none that exist.
    pub images: Vec<ProductImage>,
    /// One optional label per task, indexed by [`Task::index`]. A missing label is not a class.
    pub labels: [Option<ClassId>; 5],
    /// Other columns of the source, as key/value pairs.
    pub attributes: Vec<(AttributeKey, Box<str>)>,
}

impl Product {
    /// The label of `task`, if set.
    pub fn label(&self, task: Task) -> Option<ClassId> {
        self.labels[task.index()]
    }
}
