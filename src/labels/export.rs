//! Export of the corrected catalogue as a generic manifest (CSV or JSON Lines) that the
//! manifest importer reads back to the same products, images and labels.

use crate::catalog::import::sidecar_path;
use crate::catalog::{Catalog, Task};
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
    /// The extension is neither `.csv` nor `.jsonl`.
    #[error("{}: choose a .csv or .jsonl file name", .0.display())]
    UnknownFormat(PathBuf),
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExportSummary {
    /// The manifest.
    pub manifest: PathBuf,
    /// The sidecar naming the image folder, when the manifest is not in it.
    pub sidecar: Option<PathBuf>,
    /// Products written.
    pub products: usize,
}

const FIXED: [&str; 4] = ["product_id", "name", "images", "views"];

/// Writes `catalog` (with its current labels) to `out`, `.csv` or `.jsonl`. The file is
/// written beside and renamed into place, so a failed export never leaves half a manifest.
pub fn export(catalog: &Catalog, out: &Path) -> Result<ExportSummary, ExportError> {
    let io = |reason| ExportError::Io {
        path: out.to_path_buf(),
        reason,
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
    let folder = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(io)?;
    let temporary = out.with_extension("partial");
    let file = std::fs::File::create(&temporary).map_err(io)?;
    let mut writer = std::io::BufWriter::new(file);
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
    if jsonl {
        for product in catalog.products() {
            let mut object = serde_json::Map::new();
            object.insert("product_id".into(), (&*product.id).into());
            object.insert("name".into(), (&*product.name).into());
            let images: Vec<&str> = product.images.iter().map(|i| &*i.path).collect();
            let views: Vec<&str> = product
                .images
                .iter()
                .map(|i| i.view.as_deref().unwrap_or(""))
                .collect();
            object.insert("images".into(), images.into());
            if views.iter().any(|v| !v.is_empty()) {
                object.insert("views".into(), views.into());
            }
            for task in Task::ALL {
                if let Some(label) = catalog.label_name(product, task) {
                    object.insert(task.name().into(), label.into());
                }
            }
            for (key, value) in product.attributes.iter() {
                object.insert(catalog.attribute_key_name(*key).into(), (&**value).into());
            }
            serde_json::to_writer(&mut writer, &object).map_err(|e| io(e.into()))?;
            writer.write_all(b"\n").map_err(io)?;
        }
    } else {
        let csv_error = |reason| ExportError::Csv {
            path: out.to_path_buf(),
            reason,
        };
        let mut w = csv::Writer::from_writer(&mut writer);
        let header = FIXED
            .iter()
            .copied()
            .chain(Task::ALL.iter().map(|t| t.name()))
            .chain(key_names.iter().copied());
        w.write_record(header).map_err(csv_error)?;
        for product in catalog.products() {
            let images: Vec<&str> = product.images.iter().map(|i| &*i.path).collect();
            let views: Vec<&str> = product
                .images
                .iter()
                .map(|i| i.view.as_deref().unwrap_or(""))
                .collect();
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
                record.push(catalog.label_name(product, task).unwrap_or("").to_string());
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
    writer.flush().map_err(io)?;
    writer.get_ref().sync_all().map_err(io)?;
    drop(writer);
    std::fs::rename(&temporary, out).map_err(io)?;
    let same_folder =
        std::fs::canonicalize(folder).ok() == std::fs::canonicalize(&catalog.image_root).ok();
    let sidecar = if same_folder {
        None
    } else {
        let path = sidecar_path(out);
        let root = std::fs::canonicalize(&catalog.image_root).unwrap_or(catalog.image_root.clone());
        let text = format!(
            "# Written by vitrine labels export: image paths are relative to image_root.\n{}",
            toml::to_string(&toml::Table::from_iter([(
                "image_root".to_string(),
                toml::Value::String(root.to_string_lossy().into_owned()),
            )]))
            .unwrap_or_default()
        );
        std::fs::write(&path, text).map_err(|reason| ExportError::Io {
            path: path.clone(),
            reason,
        })?;
        Some(path)
    };
    Ok(ExportSummary {
        manifest: out.to_path_buf(),
        sidecar,
        products: catalog.len(),
    })
}
