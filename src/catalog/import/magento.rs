//! Magento 2 product CSV export (`sku`, `product_type`, `categories`, `base_image`,
//! `additional_images`, `additional_attributes`, `configurable_variations`).
//!
//! A configurable product lists its simple SKUs (one per size and colour). The simple SKUs of
//! one parent and one colour show the same garment, so they become one multi-image product with
//! the id `<parent sku>-<colour>`; simple SKUs with no parent stay products of their own.
//! Gender, type, category and subcategory come from the category paths
//! (`Default Category/Men/Tops/Hoodies & Sweatshirts`), colour from the `color` attribute.

use super::columns::Field;
use super::csv_rows::CsvRows;
use super::{Builder, Format, ImportError, ImportOptions, Imported};
use crate::catalog::file_index::{FileIndex, ImageFileError, resolve_image_path};
use crate::catalog::text::{excerpt, excerpt_list};
use crate::catalog::{ProductDraft, ProductImage, Task};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Top-level category names that give a gender rather than a product type.
const GENDERS: [&str; 6] = ["Men", "Women", "Boys", "Girls", "Unisex", "Kids"];
/// Top-level category names that are merchandising, not taxonomy.
const MERCHANDISING: [&str; 5] = [
    "Collections",
    "Promotions",
    "Training",
    "What's New",
    "Sale",
];
/// Attributes that describe the listing, not the product.
const LISTING_ATTRIBUTES: [&str; 3] = ["has_options", "required_options", "size"];

/// One row of the export.
#[derive(Debug, Default)]
struct Record {
    line: u64,
    sku: String,
    product_type: String,
    name: String,
    categories: String,
    images: Vec<String>,
    attributes: Vec<(String, String)>,
    /// (simple sku, colour) of a configurable parent.
    variations: Vec<(String, String)>,
    /// Cells of columns named by an explicit mapping.
    mapped: BTreeMap<Task, String>,
}

impl Record {
    fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// `key=value,key=value` as Magento writes `additional_attributes`.
fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}

/// Gender, type, category and subcategory from a `categories` cell.
fn taxonomy_labels(categories: &str) -> [Option<String>; 5] {
    let mut labels: [Option<String>; 5] = Default::default();
    let paths = categories.split(',').map(|path| {
        path.split('/')
            .map(str::trim)
            .filter(|p| !p.is_empty() && *p != "Default Category")
            .collect::<Vec<_>>()
    });
    let mut gender_path = None;
    let mut type_path = None;
    for levels in paths {
        match levels.first() {
            Some(first) if GENDERS.contains(first) => {
                gender_path.get_or_insert(levels);
            }
            Some(first) if !MERCHANDISING.contains(first) => {
                type_path.get_or_insert(levels);
            }
            _ => {}
        }
    }
    let level = |levels: &Vec<&str>, i: usize| levels.get(i).map(|s| s.to_string());
    if let Some(levels) = gender_path {
        labels[Task::Gender.index()] = level(&levels, 0);
        labels[Task::Category.index()] = level(&levels, 1);
        labels[Task::Subcategory.index()] = level(&levels, 2);
    } else if let Some(levels) = type_path {
        labels[Task::Type.index()] = level(&levels, 0);
        labels[Task::Category.index()] = level(&levels, 1);
        labels[Task::Subcategory.index()] = level(&levels, 2);
    }
    labels
}

/// The view tag of a Magento image file name: `mh01-gray_back.jpg` -> `back`.
fn view_of(path: &str) -> Option<Box<str>> {
    let stem = Path::new(path).file_stem()?.to_str()?;
    let (_, tag) = stem.rsplit_once('_')?;
    (!tag.is_empty() && tag.chars().all(|c| c.is_ascii_alphanumeric())).then(|| tag.into())
}

fn read_records(
    rows: &mut CsvRows,
    b: &mut Builder,
    options: &ImportOptions,
) -> Result<Vec<Record>, ImportError> {
    let column = |name: &str| rows.column(name);
    let required = ["sku", "product_type"];
    for name in required {
        if column(name).is_none() {
            return Err(ImportError::MissingColumn {
                path: rows.path().to_path_buf(),
                field: "a Magento export".into(),
                column: name.into(),
                available: excerpt_list(&rows.header),
            });
        }
    }
    let index = |name: &str| column(name);
    let (sku, kind, name, categories, base, additional, attributes, variations) = (
        index("sku"),
        index("product_type"),
        index("name"),
        index("categories"),
        index("base_image"),
        index("additional_images"),
        index("additional_attributes"),
        index("configurable_variations"),
    );
    let mapped: Vec<(Task, String, Option<usize>)> = options
        .columns
        .entries()
        .filter_map(|(field, column)| match field {
            Field::Label(task) => Some((task, column.to_string(), index(column))),
            _ => None,
        })
        .collect();
    let mut records = Vec::new();
    while let Some(row) = rows.next_row(b)? {
        let cell = |i: Option<usize>| i.map(|i| row.get(i).trim().to_string()).unwrap_or_default();
        let mut record = Record {
            line: row.line,
            sku: cell(sku),
            product_type: cell(kind),
            name: cell(name),
            categories: cell(categories),
            attributes: parse_pairs(&cell(attributes)),
            ..Default::default()
        };
        record.images = std::iter::once(cell(base))
            .chain(cell(additional).split(',').map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty() && s != "no_selection")
            .collect();
        record.variations = cell(variations)
            .split('|')
            .map(parse_pairs)
            .filter_map(|pairs| {
                let get = |k: &str| {
                    pairs
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                Some((get("sku")?, get("color").unwrap_or_default()))
            })
            .collect();
        for (task, column, position) in &mapped {
            let value = match position {
                Some(i) => cell(Some(*i)),
                None => record.attribute(column).unwrap_or_default().to_string(),
            };
            record.mapped.insert(*task, value);
        }
        records.push(record);
    }
    Ok(records)
}

/// Finds the folder the `/m/h/...jpg` image paths are relative to.
fn find_image_root(csv: &Path, records: &[Record], options: &ImportOptions) -> Option<PathBuf> {
    if let Some(root) = &options.image_root {
        return Some(root.clone());
    }
    let folder = csv.parent().unwrap_or(Path::new("."));
    let probe = records.iter().flat_map(|r| r.images.first()).next()?;
    let probe = probe.trim_start_matches('/');
    [
        folder.join("pub/media/catalog/product"),
        folder.join("images"),
        folder.join("../images"),
        folder.to_path_buf(),
    ]
    .into_iter()
    .find(|root| root.join(probe).is_file())
}

/// Reads a Magento product export.
pub(crate) fn import(csv: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let mut rows = CsvRows::open(csv)?;
    let mut b = Builder::new(PathBuf::new()).with_progress(options);
    let records = read_records(&mut rows, &mut b, options)?;
    let root = find_image_root(csv, &records, options);
    let image_root = root
        .clone()
        .unwrap_or_else(|| csv.parent().unwrap_or(Path::new(".")).to_path_buf());
    b.catalog.image_root = image_root.clone();
    if root.is_none() {
        b.warn(
            csv,
            None,
            "image folder not found (looked for pub/media/catalog/product, images and \
             ../images beside the file); give it with --images",
        );
    }
    for (key, column) in [
        ("product_id", "sku (+ colour for configurable products)"),
        ("gender", "categories"),
        ("type", "categories"),
        ("category", "categories"),
        ("subcategory", "categories"),
        ("colour", "additional_attributes: color"),
        ("images", "base_image, additional_images"),
    ] {
        b.columns.insert(key.into(), column.into());
    }
    let by_sku: HashMap<&str, &Record> = records.iter().map(|r| (r.sku.as_str(), r)).collect();
    let mut has_parent: HashSet<&str> = HashSet::new();
    let mut files = FileIndex::new(&image_root);
    let mut missing_images: HashSet<String> = HashSet::new();
    let mut image_list = |b: &mut Builder, record: &Record, into: &mut Vec<ProductImage>| {
        for raw in &record.images {
            let relative = raw.trim_start_matches('/');
            let Ok(path) = resolve_image_path(&image_root, relative) else {
                b.warn(
                    csv,
                    Some(record.line),
                    format!(
                        "image path '{}' escapes the image folder; skipped",
                        excerpt(raw)
                    ),
                );
                continue;
            };
            if into.iter().any(|i| *i.path == *path) {
                continue;
            }
            match files.find(&path) {
                Ok(()) => {}
                Err(ImageFileError::Missing) => {
                    if missing_images.insert(path.clone()) {
                        b.warn(
                            csv,
                            Some(record.line),
                            format!("image '{}' not found; skipped", excerpt(raw)),
                        );
                    }
                    continue;
                }
                Err(e) => {
                    b.warn(
                        csv,
                        Some(record.line),
                        format!("image '{}' {e}; skipped", excerpt(raw)),
                    );
                    continue;
                }
            }
            into.push(ProductImage {
                view: view_of(&path),
                path: path.into(),
            });
        }
    };
    let labels_of = |record: &Record, colour: Option<&str>| {
        let mut labels = taxonomy_labels(&record.categories);
        labels[Task::Colour.index()] = colour
            .filter(|c| !c.is_empty())
            .or(record.attribute("color"))
            .map(String::from);
        for (task, value) in &record.mapped {
            labels[task.index()] = Some(value.clone());
        }
        labels
    };
    let style_attributes = |record: &Record| -> Vec<(String, String)> {
        record
            .attributes
            .iter()
            .filter(|(k, _)| !LISTING_ATTRIBUTES.contains(&k.as_str()) && k != "color")
            .cloned()
            .collect()
    };
    for parent in records.iter().filter(|r| r.product_type == "configurable") {
        // Colours in order of first appearance, each with its simple SKUs.
        let mut colours: Vec<(String, Vec<&Record>)> = Vec::new();
        for (simple_sku, colour) in &parent.variations {
            has_parent.insert(simple_sku.as_str());
            let Some(simple) = by_sku.get(simple_sku.as_str()) else {
                b.warn(
                    csv,
                    Some(parent.line),
                    format!(
                        "variation '{}' of '{}' has no row; ignored",
                        excerpt(simple_sku),
                        excerpt(&parent.sku)
                    ),
                );
                continue;
            };
            match colours.iter_mut().find(|(c, _)| c == colour) {
                Some((_, simples)) => simples.push(simple),
                None => colours.push((colour.clone(), vec![simple])),
            }
        }
        for (colour, simples) in colours {
            let mut draft = ProductDraft {
                id: if colour.is_empty() {
                    parent.sku.clone()
                } else {
                    format!("{}-{colour}", parent.sku)
                },
                name: parent.name.clone(),
                labels: labels_of(parent, Some(&colour)),
                attributes: style_attributes(parent),
                ..Default::default()
            };
            draft
                .attributes
                .insert(0, ("style_sku".into(), parent.sku.clone()));
            let sizes: Vec<&str> = simples.iter().filter_map(|s| s.attribute("size")).collect();
            if !sizes.is_empty() {
                draft.attributes.push(("sizes".into(), sizes.join("|")));
            }
            for simple in &simples {
                image_list(&mut b, simple, &mut draft.images);
            }
            b.push(csv, Some(parent.line), draft);
        }
    }
    for record in records
        .iter()
        .filter(|r| r.product_type != "configurable" && !has_parent.contains(r.sku.as_str()))
    {
        let mut draft = ProductDraft {
            id: record.sku.clone(),
            name: record.name.clone(),
            labels: labels_of(record, None),
            attributes: style_attributes(record),
            ..Default::default()
        };
        if let Some(size) = record.attribute("size") {
            draft.attributes.push(("sizes".into(), size.to_string()));
        }
        image_list(&mut b, record, &mut draft.images);
        b.push(csv, Some(record.line), draft);
    }
    b.notes.push(format!(
        "{} configurable products grouped by colour into multi-image products; simple products \
         without a parent kept as they are",
        records
            .iter()
            .filter(|r| r.product_type == "configurable")
            .count()
    ));
    Ok(b.finish(Format::Magento, csv))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_give_gender_or_type() {
        let l = taxonomy_labels(
            "Default Category/Collections/Eco Friendly,Default Category/Men/Tops/Jackets,Default Category",
        );
        assert_eq!(l[Task::Gender.index()].as_deref(), Some("Men"));
        assert_eq!(l[Task::Category.index()].as_deref(), Some("Tops"));
        assert_eq!(l[Task::Subcategory.index()].as_deref(), Some("Jackets"));
        assert_eq!(l[Task::Type.index()], None);
        let gear = taxonomy_labels("Default Category/Gear/Bags");
        assert_eq!(gear[Task::Type.index()].as_deref(), Some("Gear"));
        assert_eq!(gear[Task::Category.index()].as_deref(), Some("Bags"));
    }

    #[test]
    fn views_from_file_names() {
        assert_eq!(view_of("m/h/mh01-gray_back.jpg").as_deref(), Some("back"));
        assert_eq!(view_of("m/b/mb01-blue-0.jpg"), None);
    }
}
