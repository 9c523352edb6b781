//! Export of the corrected catalogue as a generic manifest (CSV or JSON Lines) that the
//! manifest importer reads back to the same products, images and labels.

use super::sqlite::side_files;
use crate::atomic_file::{create_folder, folder_of, write_atomically};
use crate::catalog::file_index::is_inside;
use crate::catalog::import::{Field, sidecar_path};
use crate::catalog::{Catalog, Product, Task};
use hashbrown::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An export that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing failed.
    #[error("{}: cannot write: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The CSV writer failed.
    #[error("{}: {reason}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: csv::Error,
    },
    /// The export's sidecar is there but was not written by an export: another catalogue's
    /// settings, or the user's.
    #[error(
        "{}: refusing to replace a sidecar that no vitrine export wrote (the export {} would be \
         read with it); move it or choose another file name",
        sidecar.display(),
        out.display()
    )]
    ForeignSidecar {
        /// The export asked for.
        out: PathBuf,
        /// Its sidecar.
        sidecar: PathBuf,
    },
    /// Another manifest of the export's stem would be read with the export's sidecar.
    #[error(
        "{}: its sidecar {} would also be read with {}; choose another file name",
        out.display(),
        sidecar.display(),
        other.display()
    )]
    SharedSidecar {
        /// The export asked for.
        out: PathBuf,
        /// Its sidecar.
        sidecar: PathBuf,
        /// The other manifest.
        other: PathBuf,
    },
    /// The extension is neither `.csv` nor `.jsonl`.
    #[error("{}: choose a .csv or .jsonl file name", .0.display())]
    UnknownFormat(PathBuf),
    /// The export would overwrite a file the catalogue is read from.
    #[error("{}: refusing to overwrite {what}; choose another file name", path.display())]
    WouldOverwrite {
        /// The file.
        path: PathBuf,
        /// What the file is to the catalogue.
        what: String,
    },
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    /// The manifest.
    pub manifest: PathBuf,
    /// The sidecar naming the image folder (when the manifest is not in it) and the columns
    /// of fields renamed to keep clear of attributes of the same name.
    pub sidecar: Option<PathBuf>,
    /// The image folder, absolute, when the sidecar records it outside the export's folder:
    /// a sidecar may not send an import there, so the export opens with `--images` it.
    pub images_outside: Option<PathBuf>,
    /// Products written.
    pub products: usize,
}

/// `path` with symbolic links and `.`/`..` resolved, also when the file does not exist yet
/// (its folder is resolved instead), so two spellings of one file compare equal.
fn canonical(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    match (std::fs::canonicalize(folder_of(path)), path.file_name()) {
        (Ok(folder), Some(name)) => folder.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

/// What `target` is to the catalogue read from `source` with the store `store`, if the
/// catalogue reads it: its source, sidecar, store (or the store's WAL files) or one of its
/// images.
fn read_by_catalogue(
    catalog: &Catalog,
    source: &Path,
    store: &Path,
    target: &Path,
) -> Option<String> {
    let target = canonical(target);
    let [wal, shm] = side_files(store);
    let inputs = [
        (source.to_path_buf(), "the catalogue's source file"),
        (sidecar_path(source), "the catalogue's sidecar"),
        (store.to_path_buf(), "the catalogue's label store"),
        (wal, "the label store's log"),
        (shm, "the label store's index"),
    ];
    if let Some((_, what)) = inputs.iter().find(|(p, _)| canonical(p) == target) {
        return Some(what.to_string());
    }
    let relative = target.strip_prefix(canonical(image_root(catalog))).ok()?;
    let relative = relative.to_str()?;
    catalog
        .products()
        .iter()
        .find(|p| p.images.iter().any(|i| &*i.path == relative))
        .map(|p| format!("an image of product '{}'", p.id))
}

/// The catalogue's image folder; an empty root (a manifest opened by its bare file name) is
/// the current folder.
fn image_root(catalog: &Catalog) -> &Path {
    if catalog.image_root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &catalog.image_root
    }
}

/// First line of every sidecar an export writes: tells it from one a user or another tool wrote.
const SIDECAR_MARKER: &str = "# Written by vitrine labels export";

/// Whether the sidecar at `path` was written by an export (it begins with [`SIDECAR_MARKER`]);
/// only the start of a regular file is read.
fn written_by_export(path: &Path) -> bool {
    use std::io::Read;
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return false;
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(SIDECAR_MARKER.len() as u64).read_to_end(&mut head))
        .is_ok_and(|_| head == SIDECAR_MARKER.as_bytes())
}

/// Another manifest than `out` in its folder that the importer would read with the same
/// sidecar: a file of the same stem ending in `.csv`, `.jsonl` or `.ndjson`, in any case.
fn sharing_sidecar(out: &Path, folder: &Path) -> Option<PathBuf> {
    let stem = out.file_stem()?;
    let own = canonical(out);
    std::fs::read_dir(folder)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| {
            path.file_stem() == Some(stem)
                && path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["csv", "jsonl", "ndjson"].contains(&e.to_ascii_lowercase().as_str())
                })
                && canonical(path) != own
        })
}

/// A product's image paths and their view tags (`""` for an image without one), in order.
fn images_and_views(product: &Product) -> (Vec<&str>, Vec<&str>) {
    product
        .images
        .iter()
        .map(|i| (&*i.path, i.view.as_deref().unwrap_or("")))
        .unzip()
}

/// Column name for `field`, clear of the attribute names: `vitrine_<field>` when an attribute
/// already has the field's own name.
fn column_name(field: Field, attributes: &[&str]) -> String {
    let mut name = field.name().to_string();
    while attributes.contains(&name.as_str()) {
        name = format!("vitrine_{name}");
    }
    name
}

/// Writes `catalog` (with its current labels), read from `source` with the label store
/// `store`, to `out`, `.csv` or `.jsonl`, so that the manifest importer reads it back to the
/// same products, images, labels and attributes. Refuses to overwrite a file the catalogue is
/// read from. Files are written beside and renamed into place, so a failed export never leaves
/// half a manifest.
pub fn export(
    catalog: &Catalog,
    source: &Path,
    store: &Path,
    out: &Path,
) -> Result<ExportSummary, ExportError> {
    export_over(catalog, &[], source, store, out)
}

/// [`export`] of `catalog` with the labels `edited` (product id, task, value; a store's
/// [`super::LabelStore::current_labels`]) over its own: for a catalogue that may not show
/// every durable edit yet.
pub fn export_over(
    catalog: &Catalog,
    edited: &[(String, Task, Option<String>)],
    source: &Path,
    store: &Path,
    out: &Path,
) -> Result<ExportSummary, ExportError> {
    let edited: HashMap<(usize, Task), Option<&str>> = edited
        .iter()
        .filter_map(|(id, task, value)| Some(((catalog.position(id)?, *task), value.as_deref())))
        .collect();
    let label = |position: usize, product: &Product, task: Task| match edited.get(&(position, task))
    {
        Some(value) => *value,
        None => catalog.label_name(product, task),
    };
    let extension = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let jsonl = match extension.as_deref() {
        Some("csv") => false,
        Some("jsonl" | "ndjson") => true,
        _ => return Err(ExportError::UnknownFormat(out.to_path_buf())),
    };
    let refuse = |path: &Path| match read_by_catalogue(catalog, source, store, path) {
        Some(what) => Err(ExportError::WouldOverwrite {
            path: path.to_path_buf(),
            what,
        }),
        None => Ok(()),
    };
    refuse(out)?;
    let folder = folder_of(out);
    create_folder(folder).map_err(|reason| ExportError::Io {
        path: out.to_path_buf(),
        reason,
    })?;
    // Attribute columns in order of first use.
    let mut keys = Vec::new();
    for product in catalog.products() {
        for (key, _) in product.attributes.iter() {
            if !keys.contains(key) {
                keys.push(*key);
            }
        }
    }
    let key_names: Vec<&str> = keys
        .iter()
        .map(|k| catalog.attribute_key_name(*k))
        .collect();
    let columns: Vec<(Field, String)> = Field::ALL
        .iter()
        .map(|&f| (f, column_name(f, &key_names)))
        .collect();
    let column = |field: Field| {
        columns
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, c)| c.as_str())
    };
    let renamed: Vec<(Field, &str)> = columns
        .iter()
        .filter(|(f, c)| f.name() != c)
        .map(|(f, c)| (*f, c.as_str()))
        .collect();
    // A JSON line leaves out empty fields, unless an attribute has a name the importer would
    // otherwise read for that field (an attribute `color` beside no colour label).
    let shadowed = |field: Field| {
        field
            .default_columns()
            .iter()
            .any(|c| key_names.contains(c))
    };
    let root = canonical(image_root(catalog));
    let same_folder = canonical(folder) == root;
    let sidecar = sidecar_path(out);
    let needs_sidecar = !same_folder || !renamed.is_empty();
    // An earlier export's sidecar would be read with this one: it is replaced too.
    let exists = std::fs::symlink_metadata(&sidecar).is_ok();
    let writes_sidecar = needs_sidecar || exists;
    if writes_sidecar {
        refuse(&sidecar)?;
        // The sidecar's readers are the manifests of its stem; with no other one beside the
        // export, a sidecar an export wrote was written for this file (or a removed one).
        if let Some(other) = sharing_sidecar(out, folder) {
            return Err(ExportError::SharedSidecar {
                out: out.to_path_buf(),
                sidecar,
                other,
            });
        }
        if exists && !written_by_export(&sidecar) {
            return Err(ExportError::ForeignSidecar {
                out: out.to_path_buf(),
                sidecar,
            });
        }
    }
    let csv_error = |reason| ExportError::Csv {
        path: out.to_path_buf(),
        reason,
    };
    let io = |reason| ExportError::Io {
        path: out.to_path_buf(),
        reason,
    };
    write_atomically(out, io, |writer| {
        if jsonl {
            for (position, product) in catalog.products().iter().enumerate() {
                let mut object = serde_json::Map::new();
                let mut put = |field: Field, value: serde_json::Value| {
                    object.insert(column(field).to_string(), value);
                };
                put(Field::ProductId, (&*product.id).into());
                put(Field::Name, (&*product.name).into());
                let (images, views) = images_and_views(product);
                put(Field::Images, images.into());
                if views.iter().any(|v| !v.is_empty()) || shadowed(Field::Views) {
                    put(Field::Views, views.into());
                }
                for task in Task::ALL {
                    let label = label(position, product, task);
                    if label.is_some() || shadowed(Field::Label(task)) {
                        put(Field::Label(task), label.into());
                    }
                }
                for (key, value) in product.attributes.iter() {
                    object.insert(catalog.attribute_key_name(*key).into(), (&**value).into());
                }
                serde_json::to_writer(&mut *writer, &object).map_err(|e| io(e.into()))?;
                writer.write_all(b"\n").map_err(io)?;
            }
        } else {
            let mut w = csv::Writer::from_writer(&mut *writer);
            let header = Field::ALL
                .iter()
                .map(|&f| column(f))
                .chain(key_names.iter().copied());
            w.write_record(header).map_err(csv_error)?;
            for (position, product) in catalog.products().iter().enumerate() {
                let (images, views) = images_and_views(product);
                let views = if views.iter().any(|v| !v.is_empty()) {
                    views.join("|")
                } else {
                    String::new()
                };
                let mut record = vec![
                    product.id.to_string(),
                    product.name.to_string(),
                    images.join("|"),
                    views,
                ];
                for task in Task::ALL {
                    record.push(label(position, product, task).unwrap_or("").to_string());
                }
                for key in &keys {
                    let value = product
                        .attributes
                        .iter()
                        .find(|(k, _)| k == key)
                        .map(|(_, v)| &**v);
                    record.push(value.unwrap_or("").to_string());
                }
                w.write_record(&record).map_err(csv_error)?;
            }
            w.flush().map_err(io)?;
        }
        Ok(())
    })?;
    if writes_sidecar {
        let mut table = toml::Table::new();
        if !same_folder {
            table.insert(
                "image_root".into(),
                toml::Value::String(root.to_string_lossy().into_owned()),
            );
        }
        if !renamed.is_empty() {
            let columns: toml::Table = renamed
                .iter()
                .map(|(f, c)| (f.name().to_string(), toml::Value::String(c.to_string())))
                .collect();
            table.insert("columns".into(), toml::Value::Table(columns));
        }
        let text = format!(
            "{SIDECAR_MARKER}: image paths are relative to image_root, and\n\
             # [columns] names the columns of fields renamed clear of attributes.\n{}",
            toml::to_string(&table).unwrap_or_default()
        );
        let io = |reason| ExportError::Io {
            path: sidecar.clone(),
            reason,
        };
        write_atomically(&sidecar, io, |writer| {
            writer.write_all(text.as_bytes()).map_err(io)
        })?;
    }
    let images_outside = (!same_folder && !is_inside(folder, &root)).then_some(root);
    Ok(ExportSummary {
        manifest: out.to_path_buf(),
        sidecar: writes_sidecar.then_some(sidecar),
        images_outside,
        products: catalog.len(),
    })
}
