//! Kaggle "Fashion Product Images": `styles.csv` and `images/<id>.jpg`.
//!
//! The real file has unquoted commas inside `productDisplayName` (its last column), literal
//! `NA` values, empty cells, and many rows whose image is not in the folder.

use super::columns::{Field, resolve};
use super::csv_rows::CsvRows;
use super::{Builder, Format, ImportError, ImportOptions, Imported};
use crate::catalog::file_index::{FileIndex, ImageFileError, resolve_image_path};
use crate::catalog::text::{excerpt, excerpt_list};
use crate::catalog::{ProductDraft, ProductImage, Task, normalise_label};
use std::path::Path;

fn default_columns(field: Field) -> &'static [&'static str] {
    match field {
        Field::ProductId => &["id"],
        Field::Name => &["productDisplayName"],
        Field::Images | Field::Views => &[],
        Field::Label(Task::Gender) => &["gender"],
        Field::Label(Task::Colour) => &["baseColour"],
        Field::Label(Task::Type) => &["masterCategory"],
        Field::Label(Task::Category) => &["subCategory"],
        Field::Label(Task::Subcategory) => &["articleType"],
    }
}

/// Reads `styles.csv` and indexes the `images/` folder beside it.
pub(crate) fn import(styles: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let folder = styles.parent().unwrap_or(Path::new("."));
    let image_root = options
        .image_root
        .clone()
        .unwrap_or_else(|| folder.join("images"));
    let mut b = Builder::new(image_root.clone()).with_progress(options);
    let mut rows = CsvRows::open(styles)?;
    let columns = resolve(styles, &rows.header, &options.columns, default_columns)?;
    let Some(&id_column) = columns.get(&Field::ProductId) else {
        return Err(ImportError::MissingColumn {
            path: styles.to_path_buf(),
            field: "product_id".into(),
            column: "id".into(),
            available: excerpt_list(&rows.header),
        });
    };
    for (&field, &i) in &columns {
        b.columns
            .insert(field.name().into(), rows.header[i].clone());
    }
    let width = rows.header.len();
    let name_column = columns.get(&Field::Name).copied();
    let used: Vec<usize> = columns.values().copied().collect();
    let mut files = FileIndex::new(&image_root);
    let (mut joined, mut without_image) = (0u64, 0u64);
    while let Some(mut row) = rows.next_row(&mut b)? {
        let field_count = row.len();
        if field_count > width {
            // Extra fields come from unquoted commas in the last column (the display name).
            if name_column == Some(width - 1) {
                let tail: Vec<&str> = row.record.iter().skip(width - 1).collect();
                let mut repaired: csv::StringRecord = row.record.iter().take(width - 1).collect();
                repaired.push_field(&tail.join(","));
                row.record = repaired;
                joined += 1;
                b.warn(
                    styles,
                    Some(row.line),
                    format!(
                        "{field_count} fields for {width} columns: unquoted commas in the \
                         product name; the extra fields were joined back into it"
                    ),
                );
            } else {
                b.warn(
                    styles,
                    Some(row.line),
                    format!("{field_count} fields for {width} columns; extra fields ignored"),
                );
            }
        } else if field_count < width {
            b.warn(
                styles,
                Some(row.line),
                format!("{field_count} fields for {width} columns; missing cells read as empty"),
            );
        }
        let cell = |i: usize| row.get(i).trim();
        let id = cell(id_column).to_string();
        let mut draft = ProductDraft {
            name: name_column.map(|i| cell(i).to_string()).unwrap_or_default(),
            ..Default::default()
        };
        for task in Task::ALL {
            if let Some(&i) = columns.get(&Field::Label(task)) {
                draft.labels[task.index()] = Some(cell(i).to_string());
            }
        }
        for (i, key) in rows.header.iter().enumerate() {
            if !used.contains(&i)
                && !rows.is_repeated(i)
                && let Some(value) = normalise_label(cell(i))
            {
                draft.attributes.push((key.clone(), value.to_string()));
            }
        }
        let file = resolve_image_path(&image_root, &format!("{id}.jpg"))
            .ok()
            .filter(|_| !id.is_empty());
        match file.map(|f| (files.find(&f), f)) {
            Some((Ok(()), file)) => draft.images.push(ProductImage {
                path: file.into(),
                view: None,
            }),
            Some((Err(ImageFileError::Missing), _)) | None => without_image += 1,
            Some((Err(e), file)) => {
                b.warn(
                    styles,
                    Some(row.line),
                    format!("image '{}' {e}; image skipped", excerpt(&file)),
                );
                without_image += 1;
            }
        }
        draft.id = id;
        b.push(styles, Some(row.line), draft);
    }
    if joined > 0 {
        b.notes.push(format!(
            "{joined} rows had unquoted commas in the product name; the name was rebuilt from the \
             extra fields, labels were unaffected"
        ));
    }
    b.notes.push(format!(
        "{without_image} rows have no image in {}: they are kept as products without images \
         (their labels count in vocabularies and the taxonomy and can be fixed; they are left out \
         of training)",
        image_root.display()
    ));
    Ok(b.finish(Format::Kaggle, styles))
}
