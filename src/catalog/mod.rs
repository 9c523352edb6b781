//! The product catalogue: products, their photos and labels, vocabularies and taxonomy.
//!
//! Pure data: this layer imports neither egui nor burn.

pub mod demo;
pub mod file_index;
pub mod import;
pub mod key_index;
mod product;
mod task;
mod taxonomy;
pub mod text;
mod vocabulary;

pub use product::{AttributeKey, PhotoSignature, Product, ProductImage};
pub use task::{Task, UnknownTask};
pub use taxonomy::{Taxonomy, TaxonomyIssue};
pub use vocabulary::{ClassId, Vocabulary};

use hashbrown::HashMap;
use key_index::KeyIndex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Label values that mean "no label" in real catalogues (Kaggle's `NA`, empty cells).
const MISSING_VALUES: [&str; 3] = ["", "NA", "N/A"];

/// Normalises a raw label cell: trimmed, `None` for empty or `NA`-like values.
pub fn normalise_label(raw: &str) -> Option<&str> {
    let value = raw.trim();
    (!MISSING_VALUES.contains(&value)).then_some(value)
}

/// A whole catalogue in memory.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Folder image paths are relative to.
    pub image_root: PathBuf,
    products: Vec<Product>,
    /// Product id -> position, keyed by the products' own ids (no copy of them).
    index: KeyIndex,
    vocabularies: [Vocabulary; 5],
    attribute_keys: Vec<Box<str>>,
    attribute_index: HashMap<Box<str>, AttributeKey>,
    /// Positions by name and by id, computed once (see [`Catalog::text_orders`]); shared, so
    /// another thread can fill it without holding the catalogue ([`Catalog::text_orders_job`]).
    orders: Arc<OnceLock<TextOrders>>,
}

/// A catalogue's positions sorted by product name and by product id, ties in catalogue order:
/// sorting the grid by either then walks one list instead of comparing strings (a sort of
/// 1,000,000 names took 200 ms). Names and ids never change once imported, so the lists hold
/// for the catalogue's life.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextOrders {
    /// Positions by name.
    pub by_name: Box<[u32]>,
    /// Positions by id.
    pub by_id: Box<[u32]>,
}

impl TextOrders {
    /// The orders of products with these names and ids (one of each per position).
    pub fn of(names: &[Arc<str>], ids: &[Arc<str>]) -> Self {
        TextOrders {
            by_name: order_of(names),
            by_id: order_of(ids),
        }
    }
}

/// Positions `0..keys.len()` sorted by key, ties by position.
fn order_of(keys: &[Arc<str>]) -> Box<[u32]> {
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    // Unstable is fine: the position breaks ties, so no two elements compare equal.
    order.sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]).then(a.cmp(&b)));
    order.into_boxed_slice()
}

/// A product id that is already in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate product id '{}'", text::excerpt(.0))]
pub struct DuplicateProduct(pub String);

/// A product as an importer reads it, before interning.
#[derive(Debug, Clone, Default)]
pub struct ProductDraft {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Photos, already resolved relative to the image root.
    pub images: Vec<ProductImage>,
    /// Raw label per task (normalised on insert).
    pub labels: [Option<String>; 5],
    /// Other attributes.
    pub attributes: Vec<(String, String)>,
}

/// A product as an importer reads it, borrowed from its row: [`ProductDraft`] without a copy
/// of each cell.
#[derive(Debug)]
pub struct ProductParts<'a, K, V> {
    /// Unique id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Photos, already resolved relative to the image root.
    pub images: Vec<ProductImage>,
    /// Raw label per task (normalised on insert).
    pub labels: [Option<&'a str>; 5],
    /// Other attributes, (key, value).
    pub attributes: &'a [(K, V)],
}

impl Catalog {
    /// An empty catalogue whose images live under `image_root`.
    pub fn new(image_root: impl Into<PathBuf>) -> Self {
        Catalog {
            image_root: image_root.into(),
            ..Default::default()
        }
    }

    /// Adds a product; fails (and changes nothing) if its id is taken.
    pub fn push(&mut self, draft: ProductDraft) -> Result<usize, DuplicateProduct> {
        self.push_parts(ProductParts {
            id: &draft.id,
            name: &draft.name,
            images: draft.images,
            labels: draft.labels.each_ref().map(Option::as_deref),
            attributes: &draft.attributes,
        })
    }

    /// [`Catalog::push`] of a product borrowed from its source row.
    pub fn push_parts<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        parts: ProductParts<'_, K, V>,
    ) -> Result<usize, DuplicateProduct> {
        if self.position(parts.id).is_some() {
            return Err(DuplicateProduct(parts.id.to_string()));
        }
        let mut labels = [None; 5];
        for task in Task::ALL {
            if let Some(value) = parts.labels[task.index()].and_then(normalise_label) {
                let vocabulary = &mut self.vocabularies[task.index()];
                let id = vocabulary.intern(value);
                vocabulary.add_count(id);
                labels[task.index()] = Some(id);
            }
        }
        let attributes = parts
            .attributes
            .iter()
            .map(|(key, value)| (self.attribute_key(key.as_ref()), value.as_ref().into()))
            .collect();
        // A new product makes any orders computed before it wrong (also those a job computes).
        if self.orders.get().is_some() || Arc::strong_count(&self.orders) > 1 {
            self.orders = Default::default();
        }
        let position = self.products.len();
        let id: Arc<str> = parts.id.into();
        let products = &self.products;
        self.index
            .insert(&id, position as u32, |p| &products[p as usize].id);
        self.products.push(Product {
            id,
            name: parts.name.into(),
            images: parts.images.into(),
            labels,
            attributes,
        });
        Ok(position)
    }

    /// Makes room for `more` products (the index would otherwise rehash every id each time it
    /// doubles).
    pub fn reserve(&mut self, more: usize) {
        let products = &self.products;
        self.index.reserve(more, |p| &products[p as usize].id);
    }

    /// Interns an attribute key.
    pub fn attribute_key(&mut self, name: &str) -> AttributeKey {
        if let Some(&key) = self.attribute_index.get(name) {
            return key;
        }
        let key = AttributeKey(self.attribute_keys.len() as u32);
        self.attribute_keys.push(name.into());
        self.attribute_index.insert(name.into(), key);
        key
    }

    /// The name of an attribute key.
    pub fn attribute_key_name(&self, key: AttributeKey) -> &str {
        &self.attribute_keys[key.0 as usize]
    }

    /// The value of attribute `name` of `product`, if present.
    pub fn attribute<'a>(&self, product: &'a Product, name: &str) -> Option<&'a str> {
        let key = self.attribute_index.get(name)?;
        product
            .attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| &**v)
    }

    /// All products in source order.
    pub fn products(&self) -> &[Product] {
        &self.products
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// Whether the catalogue has no product.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// Position of the product with id `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        let products = &self.products;
        self.index
            .find(id, |p| &products[p as usize].id)
            .map(|p| p as usize)
    }

    /// The index of positions by product id (for a copy of the ids that keeps their
    /// positions, such as the label store's).
    pub fn id_index(&self) -> &KeyIndex {
        &self.index
    }

    /// The product with id `id`.
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.position(id).map(|i| &self.products[i])
    }

    /// The vocabulary of `task`.
    pub fn vocabulary(&self, task: Task) -> &Vocabulary {
        &self.vocabularies[task.index()]
    }

    /// The label name of `task` on `product`.
    pub fn label_name(&self, product: &Product, task: Task) -> Option<&str> {
        product
            .label(task)
            .map(|id| self.vocabularies[task.index()].name(id))
    }

    /// Sets (or clears) one label of the product at `position`, keeping class counts right.
    /// A new class name is added to the task's vocabulary.
    pub fn set_label(&mut self, position: usize, task: Task, value: Option<&str>) {
        let vocabulary = &mut self.vocabularies[task.index()];
        let slot = &mut self.products[position].labels[task.index()];
        if let Some(old) = slot.take() {
            vocabulary.remove_count(old);
        }
        if let Some(value) = value.and_then(normalise_label) {
            let id = vocabulary.intern(value);
            vocabulary.add_count(id);
            *slot = Some(id);
        }
    }

    /// The products' names and ids, shared.
    fn text_keys(&self) -> (Vec<Arc<str>>, Vec<Arc<str>>) {
        self.products
            .iter()
            .map(|p| (p.name.clone(), p.id.clone()))
            .unzip()
    }

    /// The positions sorted by name and by id, computed on first use, or waited for while a
    /// [`Catalog::text_orders_job`] computes them.
    pub fn text_orders(&self) -> &TextOrders {
        self.orders.get_or_init(|| {
            let (names, ids) = self.text_keys();
            TextOrders::of(&names, &ids)
        })
    }

    /// A job that computes [`Catalog::text_orders`] on any thread, holding the names and ids
    /// (shared) but not the catalogue, so the catalogue can be used, moved and changed
    /// meanwhile; a product added since makes the job's result go nowhere.
    pub fn text_orders_job(&self) -> impl FnOnce() + Send + 'static {
        let (names, ids) = self.text_keys();
        let orders = self.orders.clone();
        move || {
            orders.get_or_init(|| TextOrders::of(&names, &ids));
        }
    }

    /// The type > category > subcategory tree built from the current labels.
    pub fn taxonomy(&self) -> Taxonomy {
        Taxonomy::build(self)
    }

    /// Number of products with at least one image.
    pub fn products_with_images(&self) -> usize {
        self.products
            .iter()
            .filter(|p| !p.images.is_empty())
            .count()
    }

    /// Number of images over all products.
    pub fn image_count(&self) -> usize {
        self.products.iter().map(|p| p.images.len()).sum()
    }

    /// Number of products with two or more images.
    pub fn multi_image_products(&self) -> usize {
        self.products.iter().filter(|p| p.images.len() > 1).count()
    }

    /// Absolute path of an image.
    pub fn image_path(&self, image: &ProductImage) -> PathBuf {
        self.image_root.join(Path::new(&*image.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(id: &str, colour: &str) -> ProductDraft {
        let mut d = ProductDraft {
            id: id.into(),
            ..Default::default()
        };
        d.labels[Task::Colour.index()] = Some(colour.into());
        d.attributes.push(("season".into(), "Fall".into()));
        d
    }

    #[test]
    fn push_interns_labels_and_rejects_duplicates() {
        let mut c = Catalog::new("/tmp");
        c.push(draft("1", "Red")).unwrap();
        c.push(draft("2", "NA")).unwrap();
        assert_eq!(
            c.push(draft("1", "Blue")),
            Err(DuplicateProduct("1".into()))
        );
        assert_eq!(c.len(), 2);
        let p = c.product("1").unwrap();
        assert_eq!(c.label_name(p, Task::Colour), Some("Red"));
        assert_eq!(c.product("2").unwrap().label(Task::Colour), None);
        assert_eq!(c.attribute(p, "season"), Some("Fall"));
        assert_eq!(c.vocabulary(Task::Colour).len(), 1, "NA is not a class");
    }

    #[test]
    fn text_orders_follow_names_and_ids_and_a_new_product() {
        let mut c = Catalog::new("/tmp");
        for (id, name) in [("b", "Tee"), ("a", "Shirt"), ("c", "Tee")] {
            c.push(ProductDraft {
                id: id.into(),
                name: name.into(),
                ..Default::default()
            })
            .unwrap();
        }
        assert_eq!(&*c.text_orders().by_name, [1, 0, 2]);
        assert_eq!(&*c.text_orders().by_id, [1, 0, 2]);
        c.push(ProductDraft {
            id: "0".into(),
            name: "Cap".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(&*c.text_orders().by_name, [3, 1, 0, 2], "recomputed");
        // A job computes them elsewhere; one started before a new product goes nowhere.
        let job = c.text_orders_job();
        let stale = c.clone();
        c.push(ProductDraft {
            id: "d".into(),
            name: "Belt".into(),
            ..Default::default()
        })
        .unwrap();
        std::thread::spawn(job).join().unwrap();
        assert_eq!(&*c.text_orders().by_name, [4, 3, 1, 0, 2]);
        assert_eq!(&*stale.text_orders().by_id, [3, 1, 0, 2]);
        let fresh = c.clone();
        let job = fresh.text_orders_job();
        job();
        assert_eq!(&*fresh.text_orders().by_id, [3, 1, 0, 2, 4]);
    }

    #[test]
    fn set_label_moves_counts() {
        let mut c = Catalog::new("/tmp");
        c.push(draft("1", "Red")).unwrap();
        c.set_label(0, Task::Colour, Some("Blue"));
        let v = c.vocabulary(Task::Colour);
        assert_eq!(v.count(v.get("Red").unwrap()), 0);
        assert_eq!(v.count(v.get("Blue").unwrap()), 1);
        c.set_label(0, Task::Colour, None);
        assert_eq!(c.products()[0].label(Task::Colour), None);
        assert_eq!(c.vocabulary(Task::Colour).labelled(), 0);
    }
}
