//! Catalogue importers, one file per source format, and the import report.
//!
//! [`import`] detects the format from the path (a folder or a file), reads it into a
//! [`Catalog`] and reports what it found, with a warning (file and line) for everything it had
//! to skip or repair. Only unreadable or unrecognisable input is an error.

mod check;
mod columns;
mod csv_rows;
mod kaggle;
mod magento;
mod manifest;
mod source;

pub use check::check_images;
pub use columns::{ColumnMap, Field};
pub use csv_rows::open_file;
pub use manifest::sidecar_path;
pub use source::Source;

use super::text::excerpt;
use super::{Catalog, DuplicateProduct, ProductDraft, ProductParts, Task};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many warnings a report keeps; the rest are counted.
const MAX_WARNINGS: usize = 1000;

/// A source format the importers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Kaggle "Fashion Product Images": `styles.csv` + `images/<id>.jpg`.
    Kaggle,
    /// Generic manifest, CSV.
    ManifestCsv,
    /// Generic manifest, JSON Lines.
    ManifestJsonl,
    /// Magento 2 product CSV export.
    Magento,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Kaggle => "kaggle",
            Format::ManifestCsv => "manifest-csv",
            Format::ManifestJsonl => "manifest-jsonl",
            Format::Magento => "magento",
        })
    }
}

/// Options that change how a catalogue is read.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Column mapping overrides (`colour=baseColour`, `product_id=group_id`, ...).
    pub columns: ColumnMap,
    /// Folder image paths are relative to, when not the format's default.
    pub image_root: Option<PathBuf>,
    /// Told how far the read got; can cancel it.
    pub progress: Option<ImportProgress>,
}

/// Rows between two calls of an [`ImportProgress`].
pub const PROGRESS_EVERY: u64 = 4096;
/// Shortest row length, in bytes, the guess of a file's row count assumes.
const MIN_ROW_GUESS: u64 = 64;

/// Called every [`PROGRESS_EVERY`] rows with (bytes read, file size); returning `false`
/// cancels the import ([`ImportError::Cancelled`]).
#[derive(Clone)]
pub struct ImportProgress(Arc<dyn Fn(u64, u64) -> bool + Send + Sync>);

impl ImportProgress {
    /// Wraps a callback.
    pub fn new(callback: impl Fn(u64, u64) -> bool + Send + Sync + 'static) -> Self {
        ImportProgress(Arc::new(callback))
    }
}

impl std::fmt::Debug for ImportProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportProgress")
    }
}

/// Something the importer skipped or repaired, with where it found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The file concerned.
    pub file: PathBuf,
    /// 1-based line in that file, where known.
    pub line: Option<u64>,
    /// What happened and what was done about it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Per-task figures of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskSummary {
    /// Number of distinct classes.
    pub classes: usize,
    /// Number of products with a label for the task.
    pub labelled: u64,
}

/// What an import found. Serialised as the `--json` output of `vitrine import`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The format detected.
    pub format: Format,
    /// The file or folder read.
    pub source: PathBuf,
    /// Folder image paths are relative to.
    pub image_root: PathBuf,
    /// Data rows read from the source.
    pub rows: u64,
    /// Products in the catalogue, with or without images.
    pub products: usize,
    /// Products with at least one existing image.
    pub products_with_images: usize,
    /// Images over all products.
    pub images: usize,
    /// Products with two or more images.
    pub multi_image_products: usize,
    /// Products whose source lists no image, or only images that do not exist.
    pub products_without_images: usize,
    /// Per task: classes and labelled products.
    pub tasks: BTreeMap<Task, TaskSummary>,
    /// Which source column feeds each field.
    pub columns: BTreeMap<String, String>,
    /// Classes under more than one parent in the taxonomy.
    pub taxonomy_issues: Vec<super::TaxonomyIssue>,
    /// How the importer treated special cases (informational).
    pub notes: Vec<String>,
    /// Skipped or repaired input, at most [`MAX_WARNINGS`] kept besides those of lost or
    /// mangled rows, which are all kept.
    pub warnings: Vec<Warning>,
    /// Warnings in all, including those not kept.
    pub warnings_total: usize,
}

/// A catalogue and its import report.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The products.
    pub catalog: Catalog,
    /// What the import found.
    pub report: ImportReport,
}

/// Input that could not be imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The path does not exist.
    #[error("{}: no such file or folder", .0.display())]
    NotFound(PathBuf),
    /// A file could not be read.
    #[error("{}: cannot read: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// A file has no content.
    #[error("{}: the file is empty", .0.display())]
    Empty(PathBuf),
    /// A catalogue path names a folder, FIFO, socket or device rather than a file.
    #[error("{}: not a regular file", .0.display())]
    NotAFile(PathBuf),
    /// A catalogue file is UTF-16 text.
    #[error("{} is UTF-16 encoded; save it as UTF-8", .0.display())]
    Utf16(PathBuf),
    /// A catalogue file is UTF-32 text.
    #[error("{} is UTF-32 encoded; save it as UTF-8", .0.display())]
    Utf32(PathBuf),
    /// The import was cancelled through its [`ImportProgress`].
    #[error("{}: cancelled", .0.display())]
    Cancelled(PathBuf),
    /// The format could not be recognised.
    #[error("{}: {detail}", path.display())]
    UnknownFormat {
        /// The path given.
        path: PathBuf,
        /// What was looked for.
        detail: String,
    },
    /// A required or mapped column is absent.
    #[error(
        "{}: no column '{}' for {field} (columns: {available})",
        path.display(),
        excerpt(column)
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// What the column would feed.
        field: String,
        /// The column looked for.
        column: String,
        /// The columns the file has, as [`crate::catalog::text::excerpt_list`] gives them.
        available: String,
    },
    /// A `task=column` mapping that cannot be parsed.
    #[error(
        "bad column mapping '{}': expected FIELD=COLUMN with FIELD one of product_id, name, images, views, gender, colour, type, category, subcategory",
        excerpt(.0)
    )]
    BadMapping(String),
    /// A mapping file beside a manifest that cannot be parsed.
    #[error("{}: {message}", path.display())]
    BadSidecar {
        /// The file.
        path: PathBuf,
        /// The parse error.
        message: String,
    },
    /// A sidecar's `image_root` lies outside the catalogue's folder.
    #[error(
        "{}:{line}: image_root '{}' is outside the catalogue folder; a catalogue may only read \
         images beside it, give the folder with --images to use it anyway",
        sidecar.display(),
        excerpt(&root.to_string_lossy())
    )]
    ImageRootOutside {
        /// The sidecar file.
        sidecar: PathBuf,
        /// Its line that sets `image_root`.
        line: u64,
        /// The folder it names.
        root: PathBuf,
    },
    /// The image folder given (`--images`) is missing or not a folder.
    #[error("{}: {problem}; give the folder the image paths are relative to", path.display())]
    BadImageFolder {
        /// The folder given.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// The CSV layer failed in a way that stops reading.
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// The reason.
        message: String,
    },
}

/// Collects products and warnings while a source is read.
#[derive(Debug)]
pub(crate) struct Builder {
    pub catalog: Catalog,
    pub warnings: Vec<Warning>,
    pub warnings_total: usize,
    pub rows: u64,
    pub notes: Vec<String>,
    pub columns: BTreeMap<String, String>,
    /// Source line of each product, by position (names the first row of a duplicate id).
    lines: Vec<Option<u64>>,
    progress: Option<ImportProgress>,
}

impl Builder {
    pub fn new(image_root: PathBuf) -> Self {
        Builder {
            catalog: Catalog::new(image_root),
            warnings: Vec::new(),
            warnings_total: 0,
            rows: 0,
            notes: Vec::new(),
            columns: BTreeMap::new(),
            lines: Vec::new(),
            progress: None,
        }
    }

    /// Reports progress through `options`' callback, if any.
    pub fn with_progress(mut self, options: &ImportOptions) -> Self {
        self.progress = options.progress.clone();
        self
    }

    /// Counts a row read from `file` (`done` of `total` bytes); every [`PROGRESS_EVERY`] rows
    /// tells the callback, which may cancel.
    pub fn row_read(&mut self, file: &Path, done: u64, total: u64) -> Result<(), ImportError> {
        self.rows += 1;
        if self.rows == PROGRESS_EVERY && done > 0 {
            // Room for the rows still to come, guessed from those so far (the id index would
            // otherwise rehash every id at each doubling), at most one per MIN_ROW_GUESS bytes
            // so that a file cannot make the import reserve much for nothing.
            let per_row = (done / self.rows).max(MIN_ROW_GUESS);
            let more = total.saturating_sub(done) / per_row;
            self.catalog.reserve(usize::try_from(more).unwrap_or(0));
        }
        if self.rows.is_multiple_of(PROGRESS_EVERY)
            && let Some(progress) = &self.progress
            && !(progress.0)(done, total)
        {
            return Err(ImportError::Cancelled(file.to_path_buf()));
        }
        Ok(())
    }

    /// Records a warning (kept if under the cap, always counted).
    pub fn warn(&mut self, file: &Path, line: Option<u64>, message: impl Into<String>) {
        self.record(
            file,
            line,
            message.into(),
            self.warnings.len() < MAX_WARNINGS,
        );
    }

    /// Records a warning that rows were lost or mangled (a runaway quote, a repeated column):
    /// kept past the cap, which a file of thousands of missing images would otherwise fill
    /// first. Such warnings are few: one per runaway quote or header column.
    pub fn warn_kept(&mut self, file: &Path, line: Option<u64>, message: impl Into<String>) {
        self.record(file, line, message.into(), true);
    }

    fn record(&mut self, file: &Path, line: Option<u64>, message: String, keep: bool) {
        self.warnings_total += 1;
        if keep {
            self.warnings.push(Warning {
                file: file.to_path_buf(),
                line,
                message,
            });
        }
    }

    /// Adds a product, or warns (naming both lines) if its id was seen before.
    pub fn push(&mut self, file: &Path, line: Option<u64>, draft: ProductDraft) {
        self.push_parts(
            file,
            line,
            ProductParts {
                id: &draft.id,
                name: &draft.name,
                images: draft.images,
                labels: draft.labels.each_ref().map(Option::as_deref),
                attributes: &draft.attributes,
            },
        );
    }

    /// [`Builder::push`] of a product borrowed from its source row.
    pub fn push_parts<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        file: &Path,
        line: Option<u64>,
        parts: ProductParts<'_, K, V>,
    ) {
        if parts.id.trim().is_empty() {
            self.warn(file, line, "row has an empty product id; skipped");
            return;
        }
        match self.catalog.push_parts(parts) {
            Ok(_) => self.lines.push(line),
            Err(DuplicateProduct(id)) => {
                let first_line = self.catalog.position(&id).and_then(|p| self.lines[p]);
                let first = match first_line {
                    Some(l) => format!("line {l}"),
                    None => "an earlier row".to_string(),
                };
                self.warn(
                    file,
                    line,
                    format!(
                        "duplicate product id '{}' (first seen at {first}); this row is skipped",
                        excerpt(&id)
                    ),
                );
            }
        }
    }

    /// Finishes the import: computes the summary figures.
    pub fn finish(self, format: Format, source: &Path) -> Imported {
        let catalog = self.catalog;
        let tasks = Task::ALL
            .iter()
            .map(|&t| {
                let v = catalog.vocabulary(t);
                (
                    t,
                    TaskSummary {
                        classes: v.by_frequency().iter().filter(|r| r.2 > 0).count(),
                        labelled: v.labelled(),
                    },
                )
            })
            .collect();
        let mut warnings = self.warnings;
        if self.warnings_total > warnings.len() {
            warnings.push(Warning {
                file: source.to_path_buf(),
                line: None,
                message: format!(
                    "{} more warnings not listed",
                    self.warnings_total - warnings.len()
                ),
            });
        }
        let products_with_images = catalog.products_with_images();
        let report = ImportReport {
            format,
            source: source.to_path_buf(),
            image_root: catalog.image_root.clone(),
            rows: self.rows,
            products: catalog.len(),
            products_with_images,
            images: catalog.image_count(),
            multi_image_products: catalog.multi_image_products(),
            products_without_images: catalog.len() - products_with_images,
            tasks,
            columns: self.columns,
            taxonomy_issues: catalog.taxonomy().issues().to_vec(),
            notes: self.notes,
            warnings,
            warnings_total: self.warnings_total,
        };
        Imported { catalog, report }
    }
}

/// Reads the catalogue at `path` (a folder or a file), detecting its format.
pub fn import(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let (format, file) = detect(path)?;
    if let Some(root) = &options.image_root {
        check_image_folder(root)?;
    }
    match format {
        Format::Kaggle => kaggle::import(&file, options),
        Format::ManifestCsv => manifest::import_csv(&file, options),
        Format::ManifestJsonl => manifest::import_jsonl(&file, options),
        Format::Magento => magento::import(&file, options),
    }
}

/// Whether `a` and `b` name the same catalogue, however written: a folder and the manifest
/// file it is read from, relative and absolute paths, links.
pub fn same_catalogue(a: &Path, b: &Path) -> bool {
    let file = |path: &Path| {
        let file = detect(path).map_or_else(|_| path.to_path_buf(), |(_, file)| file);
        std::fs::canonicalize(&file)
            .or_else(|_| std::path::absolute(&file))
            .unwrap_or(file)
    };
    file(a) == file(b)
}

/// Refuses an image folder given by the user that is missing or not a folder: every image
/// would be "not found", one warning each, where the mistake is the folder.
fn check_image_folder(root: &Path) -> Result<(), ImportError> {
    let problem = match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => return Ok(()),
        Ok(_) => "not a folder".to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such folder".to_string(),
        Err(e) => format!("cannot read the folder: {e}"),
    };
    Err(ImportError::BadImageFolder {
        path: root.to_path_buf(),
        problem,
    })
}

/// Finds the format of `path` and the file to read.
pub fn detect(path: &Path) -> Result<(Format, PathBuf), ImportError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ImportError::NotFound(path.to_path_buf()),
        _ => ImportError::Io {
            path: path.to_path_buf(),
            reason: e,
        },
    })?;
    if meta.is_dir() {
        for (name, format) in [
            ("styles.csv", Format::Kaggle),
            ("manifest.csv", Format::ManifestCsv),
            ("manifest.jsonl", Format::ManifestJsonl),
        ] {
            let file = path.join(name);
            if file.is_file() {
                return Ok((format, file));
            }
            if file.exists() {
                return Err(ImportError::NotAFile(file));
            }
        }
        return Err(ImportError::UnknownFormat {
            path: path.to_path_buf(),
            detail: "no catalogue in this folder (looked for styles.csv, manifest.csv, \
                     manifest.jsonl); give the file itself for other formats"
                .into(),
        });
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("jsonl" | "ndjson") => Ok((Format::ManifestJsonl, path.to_path_buf())),
        Some("csv") => {
            let header = csv_rows::header(path)?;
            let has = |c: &str| header.iter().any(|h| h == c);
            let format = if has("sku") && has("product_type") {
                Format::Magento
            } else if has("masterCategory") && has("articleType") && has("id") {
                Format::Kaggle
            } else {
                Format::ManifestCsv
            };
            Ok((format, path.to_path_buf()))
        }
        _ => Err(ImportError::UnknownFormat {
            path: path.to_path_buf(),
            detail: "unknown file type (expected a folder, .csv or .jsonl)".into(),
        }),
    }
}
