//! Generic manifest, CSV or JSON Lines: one product per row.
//!
//! Columns: `product_id`, `images` (`|`-separated paths relative to the manifest), optional
//! `name`, `views`, any of the five label columns; every other column is kept as an attribute.
//! A mapping (`colour=baseColour`) comes from the command line or from a sidecar file
//! `<manifest stem>.vitrine.toml` beside the manifest:
//!
//! ```toml
//! image_root = "photos"   # optional; relative to the manifest's folder, and inside it
//! [columns]
//! colour = "baseColour"
//! product_id = "group_id"
//! ```
//!
//! A sidecar travels with the catalogue, so it is trusted less than the command line: its
//! `image_root` must lie inside the manifest's folder (links resolved); a folder elsewhere is
//! an error naming the sidecar's line, and is used only when given with `--images`.

use super::columns::{ColumnMap, Field, resolve};
use super::csv_rows::{CsvRows, open_file};
use super::{Builder, Format, ImportError, ImportOptions, Imported};
use crate::catalog::file_index::{FileIndex, ImageFileError, is_inside};
use crate::catalog::text::{excerpt, excerpt_list};
use crate::catalog::{ProductImage, ProductParts, Task, normalise_label};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The UTF-8 byte order mark some editors write first; not part of the text.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The sidecar file of a manifest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sidecar {
    /// Folder image paths are relative to (relative to the manifest's folder, or absolute;
    /// inside that folder either way).
    pub image_root: Option<toml::Spanned<PathBuf>>,
    /// `field = "column"` pairs.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// Path of the sidecar file of `manifest`.
pub fn sidecar_path(manifest: &Path) -> PathBuf {
    let stem = manifest
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    manifest.with_file_name(format!("{stem}.vitrine.toml"))
}

/// The mapping and image root of the sidecar of `manifest`. `trusted_root`: the user gave
/// the image folder on the command line, so the sidecar's is not used and not checked.
fn read_sidecar(
    manifest: &Path,
    trusted_root: bool,
) -> Result<(ColumnMap, Option<PathBuf>), ImportError> {
    let path = sidecar_path(manifest);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((ColumnMap::default(), None));
        }
        Err(reason) => return Err(ImportError::Io { path, reason }),
        Ok(meta) if !meta.is_file() => return Err(ImportError::NotAFile(path)),
        Ok(_) => {}
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(reason) => return Err(ImportError::Io { path, reason }),
    };
    let sidecar: Sidecar = toml::from_str(&text).map_err(|e| ImportError::BadSidecar {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let items: Vec<String> = sidecar
        .columns
        .iter()
        .map(|(field, column)| format!("{field}={column}"))
        .collect();
    let map = ColumnMap::parse(&items).map_err(|e| ImportError::BadSidecar {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let folder = manifest.parent().unwrap_or(Path::new("."));
    let Some(spanned) = sidecar.image_root.filter(|_| !trusted_root) else {
        return Ok((map, None));
    };
    let line = text[..spanned.span().start].matches('\n').count() as u64 + 1;
    let root = folder.join(spanned.get_ref());
    if !is_inside(folder, &root) {
        return Err(ImportError::ImageRootOutside {
            sidecar: path,
            line,
            root: spanned.into_inner(),
        });
    }
    Ok((map, Some(root)))
}

/// One manifest row, whatever its syntax, borrowed from the CSV record or the JSON object
/// where it can be: nothing is copied until the catalogue keeps it (a copy of every cell and
/// row showed at 1,000,000 rows).
#[derive(Debug, Default)]
struct Row<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    images: Vec<Cow<'a, str>>,
    views: Vec<Cow<'a, str>>,
    labels: [Option<Cow<'a, str>>; 5],
    attributes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Shared state of a manifest import.
struct Reader {
    b: Builder,
    file: PathBuf,
    root: PathBuf,
    files: FileIndex,
}

impl Reader {
    fn new(manifest: &Path, options: &ImportOptions) -> Result<(Self, ColumnMap), ImportError> {
        let (sidecar_map, sidecar_root) = read_sidecar(manifest, options.image_root.is_some())?;
        let folder = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        let root = options
            .image_root
            .clone()
            .or(sidecar_root)
            .unwrap_or(folder);
        let map = options.columns.clone().or(&sidecar_map);
        Ok((
            Reader {
                b: Builder::new(root.clone()).with_progress(options),
                file: manifest.to_path_buf(),
                files: FileIndex::new(root.clone()),
                root,
            },
            map,
        ))
    }

    fn add(&mut self, line: u64, row: &Row<'_>) {
        let mut images = Vec::with_capacity(row.images.len());
        if !row.views.is_empty() && row.views.len() != row.images.len() {
            self.b.warn(
                &self.file,
                Some(line),
                format!(
                    "{} view tags for {} images; view tags ignored",
                    row.views.len(),
                    row.images.len()
                ),
            );
        }
        let views_match = row.views.len() == row.images.len();
        for (i, raw) in row.images.iter().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let path = match self.files.resolve(raw) {
                Ok(path) => path,
                Err(e) => {
                    self.b
                        .warn(&self.file, Some(line), format!("{e}; image skipped"));
                    continue;
                }
            };
            let message = match self.files.find(&path) {
                Ok(()) => None,
                Err(ImageFileError::Missing) => Some(format!(
                    "image '{}' not found under {}; image skipped",
                    excerpt(raw),
                    self.root.display()
                )),
                Err(e) => Some(format!("image '{}' {e}; image skipped", excerpt(raw))),
            };
            if let Some(message) = message {
                self.b.warn(&self.file, Some(line), message);
                continue;
            }
            let view = views_match
                .then(|| normalise_label(&row.views[i]))
                .flatten()
                .map(Into::into);
            images.push(ProductImage {
                path: path.into(),
                view,
            });
        }
        self.b.push_parts(
            &self.file,
            Some(line),
            ProductParts {
                id: row.id.trim(),
                name: row.name.trim(),
                images,
                labels: row.labels.each_ref().map(Option::as_deref),
                attributes: &row.attributes,
            },
        );
    }

    fn finish(mut self, format: Format) -> Imported {
        let without = self.b.catalog.len() - self.b.catalog.products_with_images();
        if without > 0 {
            self.b.notes.push(format!(
                "{without} products have no existing image: they are kept (their labels can be \
                 fixed) and left out of training"
            ));
        }
        self.b.finish(format, &self.file)
    }
}

fn split_list(value: &str) -> Vec<Cow<'_, str>> {
    if value.trim().is_empty() {
        return Vec::new();
    }
    value.split('|').map(|s| Cow::Borrowed(s.trim())).collect()
}

/// Reads a CSV manifest.
pub(crate) fn import_csv(
    manifest: &Path,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let (mut r, map) = Reader::new(manifest, options)?;
    let mut rows = CsvRows::open(manifest)?;
    let columns = resolve(manifest, &rows.header, &map, Field::default_columns)?;
    if !columns.contains_key(&Field::ProductId) {
        return Err(ImportError::MissingColumn {
            path: manifest.to_path_buf(),
            field: "product_id".into(),
            column: Field::ProductId.default_columns().join(" or "),
            available: excerpt_list(&rows.header),
        });
    }
    if !columns.contains_key(&Field::Images) {
        r.b.warn(
            manifest,
            Some(1),
            format!(
                "no images column (looked for {}); products have no images",
                Field::Images.default_columns().join(", ")
            ),
        );
    }
    for (&field, &i) in &columns {
        r.b.columns
            .insert(field.name().into(), rows.header[i].clone());
    }
    let attribute_columns: Vec<usize> = (0..rows.header.len())
        .filter(|&i| !columns.values().any(|&c| c == i) && !rows.is_repeated(i))
        .collect();
    if !attribute_columns.is_empty() {
        let names: Vec<&str> = attribute_columns
            .iter()
            .map(|&i| rows.header[i].as_str())
            .collect();
        r.b.notes.push(format!(
            "columns kept as attributes: {}",
            excerpt_list(&names)
        ));
    }
    let width = rows.header.len();
    // Looked up once, not per cell and row.
    let column = |field: Field| columns.get(&field).copied();
    let (id_column, name_column) = (column(Field::ProductId), column(Field::Name));
    let (images_column, views_column) = (column(Field::Images), column(Field::Views));
    let label_columns = Task::ALL.map(|task| column(Field::Label(task)));
    while let Some(csv_row) = rows.next_row(&mut r.b)? {
        let count = csv_row.len();
        if count != width {
            let what = if count > width {
                "extra fields ignored"
            } else {
                "missing cells read as empty"
            };
            r.b.warn(
                rows.path(),
                Some(csv_row.line),
                format!("{count} fields for {width} columns; {what}"),
            );
        }
        let cell = |column: Option<usize>| column.map_or("", |i| csv_row.get(i));
        let row = Row {
            id: cell(id_column).into(),
            name: cell(name_column).into(),
            images: split_list(cell(images_column)),
            views: split_list(cell(views_column)),
            labels: label_columns.map(|column| normalise_label(cell(column)).map(Cow::Borrowed)),
            attributes: attribute_columns
                .iter()
                .filter_map(|&i| {
                    let value = normalise_label(csv_row.get(i))?;
                    Some((Cow::Borrowed(rows.header[i].as_str()), Cow::Borrowed(value)))
                })
                .collect(),
        };
        r.add(csv_row.line, &row);
    }
    Ok(r.finish(Format::ManifestCsv))
}

fn json_text(value: &serde_json::Value) -> Option<Cow<'_, str>> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(Cow::Borrowed(s)),
        other => Some(Cow::Owned(other.to_string())),
    }
}

fn json_list(value: Option<&serde_json::Value>) -> Vec<Cow<'_, str>> {
    match value {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(json_text).collect(),
        Some(other) => match json_text(other) {
            Some(Cow::Borrowed(text)) => split_list(text),
            Some(Cow::Owned(text)) => split_list(&text)
                .into_iter()
                .map(|part| Cow::Owned(part.into_owned()))
                .collect(),
            None => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Reads a JSON Lines manifest: one object per line with the same keys as the CSV columns;
/// `images` and `views` may be arrays or `|`-separated strings.
pub(crate) fn import_jsonl(
    manifest: &Path,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let (mut r, map) = Reader::new(manifest, options)?;
    let io_error = |reason| ImportError::Io {
        path: manifest.to_path_buf(),
        reason,
    };
    let (file, len) = open_file(manifest)?;
    let key_for =
        |field: Field, object: &serde_json::Map<String, serde_json::Value>| match map.get(field) {
            Some(column) => Some(column.to_string()),
            None => field
                .default_columns()
                .iter()
                .find(|c| object.contains_key(**c))
                .map(|c| c.to_string()),
        };
    let mut reader = BufReader::new(file);
    let mut bytes = Vec::new();
    let mut line = 0u64;
    let mut done = 0u64;
    loop {
        bytes.clear();
        let read = reader.read_until(b'\n', &mut bytes).map_err(io_error)?;
        if read == 0 {
            break;
        }
        done += read as u64;
        line += 1;
        if line == 1 && bytes.starts_with(UTF8_BOM) {
            bytes.drain(..UTF8_BOM.len());
        }
        let text = match std::str::from_utf8(&bytes) {
            Ok(text) => text.to_string(),
            Err(_) => {
                r.b.warn(
                    manifest,
                    Some(line),
                    "text is not valid UTF-8; invalid bytes replaced with U+FFFD",
                );
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        r.b.row_read(manifest, done, len)?;
        let object = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => {
                r.b.warn(manifest, Some(line), "not a JSON object; line skipped");
                continue;
            }
            Err(e) => {
                r.b.warn(
                    manifest,
                    Some(line),
                    format!("malformed JSON ({e}); line skipped"),
                );
                continue;
            }
        };
        let mut used = Vec::new();
        let mut take = |field: Field| {
            let key = key_for(field, &object)?;
            let value = object.get(&key);
            used.push(key);
            value
        };
        let mut row = Row {
            id: take(Field::ProductId)
                .and_then(json_text)
                .unwrap_or_default(),
            name: take(Field::Name).and_then(json_text).unwrap_or_default(),
            images: json_list(take(Field::Images)),
            views: json_list(take(Field::Views)),
            ..Default::default()
        };
        for task in Task::ALL {
            row.labels[task.index()] = take(Field::Label(task)).and_then(json_text);
        }
        for (key, value) in &object {
            if !used.contains(key)
                && let Some(value) = json_text(value).filter(|v| normalise_label(v).is_some())
            {
                row.attributes.push((Cow::Borrowed(key.as_str()), value));
            }
        }
        if row.id.trim().is_empty() {
            r.b.warn(manifest, Some(line), "no product id; line skipped");
            continue;
        }
        r.add(line, &row);
    }
    for (field, column) in map.entries() {
        r.b.columns.insert(field.name().into(), column.to_string());
    }
    Ok(r.finish(Format::ManifestJsonl))
}
