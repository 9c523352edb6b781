//! The predictions file a model run writes and the workspace reads: `predictions.jsonl`.
//!
//! # Format, version 1
//!
//! JSON Lines, UTF-8. The first line is a header:
//!
//! ```json
//! {"format":"vitrine-predictions","version":1,"run":"runs/2026-05-01-resnet",
//!  "classes":{"gender":["Men","Women"],"colour":["Black","Navy Blue"],...}}
//! ```
//!
//! `run` names the run that wrote the file (a name or a path; generated predictions,
//! [`super::generated`], say `synthetic: ...`). `classes` lists, per task, the classes of the
//! model's head for that task; a task without a head is absent. Every following line is one
//! product:
//!
//! ```json
//! {"product_id":"MH01-Gray","split":"validation",
//!  "tasks":{"colour":{"label":"Gray","top":[["Black",0.81],["Gray",0.12],["Navy Blue",0.04]]}}}
//! ```
//!
//! - `split`: `"train"`, `"validation"`, `"test"` or `null` (not used by the run).
//! - `tasks`: per task with a head, `label` is the product's label when the run read it (or
//!   `null`), and `top` the model's best classes with their probabilities, most probable first,
//!   at most [`MAX_TOP`] of them, each class one of the header's `classes` for that task.
//!
//! Readers skip lines they cannot understand and report each with its line number; a newer
//! `version` is refused. Writers write to a temporary file and rename it into place, so a
//! reader never sees half a file.
//!
//! Pure: serde only, no egui, no burn.

use super::classes::HeadClasses;
use crate::atomic_file::AtomicFile;
use crate::catalog::{Catalog, Task};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The value of the header's `format` field.
pub const FORMAT: &str = "vitrine-predictions";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// Most classes a product's `top` list may hold.
pub const MAX_TOP: usize = 5;
/// The file name looked for beside a catalogue and in a run folder.
pub const FILE_NAME: &str = "predictions.jsonl";
/// How many malformed lines a read keeps as warnings; the rest are counted.
const MAX_WARNINGS: usize = 1000;

/// The first line of a predictions file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version, [`VERSION`] for this build.
    pub version: u32,
    /// The run that wrote the file (name or path).
    pub run: String,
    /// Per task with a head: its classes.
    pub classes: BTreeMap<Task, Vec<String>>,
}

impl Header {
    /// A version-1 header for `run` with the given heads.
    pub fn new(run: impl Into<String>, classes: BTreeMap<Task, Vec<String>>) -> Self {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            run: run.into(),
            classes,
        }
    }
}

/// Which part of a run's data split a product was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Trained on.
    Train,
    /// Used to choose the model.
    Validation,
    /// Held out.
    Test,
}

/// One task's prediction for one product, as written in the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPrediction {
    /// The product's label when the run read it.
    pub label: Option<String>,
    /// The best classes with their probabilities, most probable first.
    pub top: Vec<(String, f32)>,
}

/// One product line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductPrediction {
    /// The product id.
    pub product_id: String,
    /// The product's split in the run.
    pub split: Option<Split>,
    /// Per task with a head.
    pub tasks: BTreeMap<Task, TaskPrediction>,
}

/// Reading or writing a predictions file failed.
#[derive(Debug, thiserror::Error)]
pub enum PredictionsError {
    /// The file could not be read or written.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The first line is not a predictions header.
    #[error("{}:1: not a vitrine predictions header: {detail}", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The file was written by a newer build.
    #[error("{}: predictions version {found} is newer than this build reads ({VERSION})", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// A product line could not be serialised.
    #[error("{}: {reason}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: serde_json::Error,
    },
}

/// A line the reader skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

/// A task's prediction in memory: classes as indices into the header's class list.
#[derive(Debug, Clone, PartialEq)]
struct StoredTask {
    label: Option<Box<str>>,
    top: Vec<(u32, f32)>,
}

#[derive(Debug, Clone, PartialEq)]
struct StoredProduct {
    split: Option<Split>,
    tasks: [Option<StoredTask>; 5],
}

/// A whole predictions file in memory, indexed by product id.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// The file's header.
    pub header: Header,
    /// Where it was read from, if from a file.
    pub path: Option<PathBuf>,
    classes: [Vec<Box<str>>; 5],
    heads: [HeadClasses; 5],
    products: Vec<StoredProduct>,
    index: HashMap<Box<str>, u32>,
    /// Lines skipped while reading, at most 1,000 kept.
    pub warnings: Vec<LineWarning>,
    /// Lines skipped in all.
    pub warnings_total: usize,
}

impl Predictions {
    /// An empty set for `header`.
    pub fn new(header: Header) -> Self {
        let mut classes: [Vec<Box<str>>; 5] = Default::default();
        let mut heads: [HeadClasses; 5] = Default::default();
        for (task, names) in &header.classes {
            classes[task.index()] = names.iter().map(|n| n.as_str().into()).collect();
            heads[task.index()] = HeadClasses::new(names);
        }
        Predictions {
            header,
            path: None,
            classes,
            heads,
            products: Vec::new(),
            index: HashMap::new(),
            warnings: Vec::new(),
            warnings_total: 0,
        }
    }

    /// Adds one product line; fails with a message when it does not fit the header.
    pub fn insert(&mut self, line: ProductPrediction) -> Result<(), String> {
        if self.index.contains_key(line.product_id.as_str()) {
            return Err(format!(
                "duplicate product '{}' (the first is kept)",
                line.product_id
            ));
        }
        let mut tasks: [Option<StoredTask>; 5] = Default::default();
        for (task, prediction) in line.tasks {
            let names = &self.classes[task.index()];
            if names.is_empty() {
                return Err(format!("task {task} has no classes in the header"));
            }
            if prediction.top.len() > MAX_TOP {
                return Err(format!(
                    "task {task}: {} classes in top, at most {MAX_TOP}",
                    prediction.top.len()
                ));
            }
            let mut top = Vec::with_capacity(prediction.top.len());
            for (class, probability) in prediction.top {
                let Some(position) = names.iter().position(|n| **n == class) else {
                    return Err(format!("task {task}: class '{class}' is not in the header"));
                };
                if !(0.0..=1.0).contains(&probability) {
                    return Err(format!(
                        "task {task}: probability {probability} of '{class}' is not in 0..1"
                    ));
                }
                top.push((position as u32, probability));
            }
            tasks[task.index()] = Some(StoredTask {
                label: prediction.label.map(String::into_boxed_str),
                top,
            });
        }
        let position = self.products.len() as u32;
        self.index
            .insert(line.product_id.into_boxed_str(), position);
        self.products.push(StoredProduct {
            split: line.split,
            tasks,
        });
        Ok(())
    }

    /// Reads a predictions file; malformed product lines become warnings.
    pub fn read(path: &Path) -> Result<Predictions, PredictionsError> {
        let io = |reason| PredictionsError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut reader = BufReader::new(file);
        let mut first = String::new();
        reader.read_line(&mut first).map_err(io)?;
        let header: Header =
            serde_json::from_str(first.trim()).map_err(|e| PredictionsError::BadHeader {
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        if header.format != FORMAT {
            return Err(PredictionsError::BadHeader {
                path: path.to_path_buf(),
                detail: format!("format is '{}', expected '{FORMAT}'", header.format),
            });
        }
        if header.version > VERSION {
            return Err(PredictionsError::Version {
                path: path.to_path_buf(),
                found: header.version,
            });
        }
        let mut predictions = Predictions::new(header);
        predictions.path = Some(path.to_path_buf());
        let mut line = Vec::new();
        let mut number = 1u64;
        loop {
            line.clear();
            // Bytes, not a String: a line of invalid UTF-8 is one warning, not the end.
            if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
                break;
            }
            number += 1;
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let outcome = serde_json::from_str::<ProductPrediction>(text)
                .map_err(|e| e.to_string())
                .and_then(|product| predictions.insert(product));
            if let Err(message) = outcome {
                predictions.warn(number, message);
            }
        }
        Ok(predictions)
    }

    fn warn(&mut self, line: u64, message: String) {
        self.warnings_total += 1;
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(LineWarning { line, message });
        }
    }

    /// Number of products with predictions.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// Whether no product has predictions.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// Whether the model has a head for `task`.
    pub fn has_task(&self, task: Task) -> bool {
        !self.classes[task.index()].is_empty()
    }

    /// The line of `product`, for repeated look-ups without hashing its id.
    pub fn row(&self, product: &str) -> Option<u32> {
        self.index.get(product).copied()
    }

    fn task_at(&self, row: u32, task: Task) -> Option<&StoredTask> {
        self.products.get(row as usize)?.tasks[task.index()].as_ref()
    }

    fn task(&self, product: &str, task: Task) -> Option<&StoredTask> {
        self.task_at(self.row(product)?, task)
    }

    /// [`Predictions::top`] by line.
    pub fn top_at(&self, row: u32, task: Task) -> Vec<(&str, f32)> {
        let names = &self.classes[task.index()];
        self.task_at(row, task)
            .map(|t| {
                t.top
                    .iter()
                    .map(|&(class, p)| (&*names[class as usize], p))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// [`Predictions::predicted`] by line.
    pub fn predicted_at(&self, row: u32, task: Task) -> Option<&str> {
        let &(class, _) = self.task_at(row, task)?.top.first()?;
        Some(&self.classes[task.index()][class as usize])
    }

    /// Position in the header's class list of `task` of the model's best class, by line.
    pub fn predicted_index_at(&self, row: u32, task: Task) -> Option<u32> {
        self.task_at(row, task)?
            .top
            .first()
            .map(|&(class, _)| class)
    }

    /// [`Predictions::confidence`] by line.
    pub fn confidence_at(&self, row: u32, task: Task) -> Option<f32> {
        self.task_at(row, task)?.top.first().map(|&(_, p)| p)
    }

    /// The model's best classes for `task` of `product`, most probable first.
    pub fn top(&self, product: &str, task: Task) -> Vec<(&str, f32)> {
        self.row(product)
            .map(|row| self.top_at(row, task))
            .unwrap_or_default()
    }

    /// The model's most probable class for `task` of `product`.
    pub fn predicted(&self, product: &str, task: Task) -> Option<&str> {
        self.predicted_at(self.row(product)?, task)
    }

    /// The probability of the most probable class.
    pub fn confidence(&self, product: &str, task: Task) -> Option<f32> {
        self.confidence_at(self.row(product)?, task)
    }

    /// The product's label for `task` when the run read it.
    pub fn label_at_prediction(&self, product: &str, task: Task) -> Option<&str> {
        self.task(product, task)?.label.as_deref()
    }

    /// [`Predictions::split`] by line.
    pub fn split_at(&self, row: u32) -> Option<Split> {
        self.products.get(row as usize)?.split
    }

    /// The product's split in the run.
    pub fn split(&self, product: &str) -> Option<Split> {
        let row = *self.index.get(product)?;
        self.products[row as usize].split
    }

    /// The classes of the head for `task` (none without a head), for scoring labels by the
    /// one rule of [`HeadClasses::class_of`].
    pub fn head_classes(&self, task: Task) -> &HeadClasses {
        &self.heads[task.index()]
    }

    /// Whether the model's best class for `task` on line `row` stands for `label`
    /// ([`HeadClasses::agrees`]: the class of that name, or the head's `other` class when the
    /// head has no class of that name). `None` without a prediction.
    pub fn agrees_at(&self, row: u32, task: Task, label: &str) -> Option<bool> {
        let predicted = self.predicted_index_at(row, task)?;
        Some(self.heads[task.index()].agrees(predicted, label))
    }

    /// Whether the model's best class disagrees with the product's current label in `catalog`
    /// ([`Predictions::agrees_at`]). A product without a label, or without a prediction, does
    /// not disagree.
    pub fn disagrees(&self, catalog: &Catalog, product: &str, task: Task) -> bool {
        let label = catalog
            .product(product)
            .and_then(|p| catalog.label_name(p, task));
        self.disagrees_with(product, task, label)
    }

    /// Whether the model's best class disagrees with `label` (the fast path when the caller
    /// already has the label's name).
    pub fn disagrees_with(&self, product: &str, task: Task, label: Option<&str>) -> bool {
        match (self.row(product), label) {
            (Some(row), Some(label)) => self.agrees_at(row, task, label) == Some(false),
            _ => false,
        }
    }
}

/// Writes a predictions file: to a temporary file beside it, renamed into place by
/// [`PredictionsWriter::finish`] (dropped before, it leaves the old file as it was).
#[derive(Debug)]
pub struct PredictionsWriter {
    path: PathBuf,
    file: AtomicFile,
    header: Header,
}

impl PredictionsWriter {
    /// Starts writing `path` with `header`.
    pub fn create(path: &Path, header: Header) -> Result<Self, PredictionsError> {
        let io = |reason| PredictionsError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let file = AtomicFile::create(path).map_err(io)?;
        let mut writer = PredictionsWriter {
            path: path.to_path_buf(),
            file,
            header,
        };
        let line =
            serde_json::to_string(&writer.header).map_err(|reason| PredictionsError::Json {
                path: path.to_path_buf(),
                reason,
            })?;
        writeln!(writer.file.writer(), "{line}").map_err(io)?;
        Ok(writer)
    }

    /// Writes one product line. Classes are not checked here: readers skip a line that does
    /// not fit the header.
    pub fn write(&mut self, product: &ProductPrediction) -> Result<(), PredictionsError> {
        let line = serde_json::to_string(product).map_err(|reason| PredictionsError::Json {
            path: self.path.clone(),
            reason,
        })?;
        writeln!(self.file.writer(), "{line}").map_err(|reason| PredictionsError::Io {
            path: self.path.clone(),
            reason,
        })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn finish(self) -> Result<PathBuf, PredictionsError> {
        let path = self.path;
        self.file
            .commit()
            .map_err(|reason| PredictionsError::Io { path, reason })
    }
}

impl Predictions {
    /// Writes these predictions to `path` in the file format (used for generated ones).
    pub fn write(&self, path: &Path, catalog: &Catalog) -> Result<PathBuf, PredictionsError> {
        let mut writer = PredictionsWriter::create(path, self.header.clone())?;
        for product in catalog.products() {
            let Some(&row) = self.index.get(&*product.id) else {
                continue;
            };
            let stored = &self.products[row as usize];
            let mut tasks = BTreeMap::new();
            for task in Task::ALL {
                if let Some(t) = &stored.tasks[task.index()] {
                    let names = &self.classes[task.index()];
                    tasks.insert(
                        task,
                        TaskPrediction {
                            label: t.label.as_deref().map(String::from),
                            top: t
                                .top
                                .iter()
                                .map(|&(c, p)| (names[c as usize].to_string(), p))
                                .collect(),
                        },
                    );
                }
            }
            writer.write(&ProductPrediction {
                product_id: product.id.to_string(),
                split: stored.split,
                tasks,
            })?;
        }
        writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_warnings_with_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = concat!(
            r#"{"format":"vitrine-predictions","version":1,"run":"r","classes":{"colour":["Red","Blue"]}}"#,
            "\n",
            r#"{"product_id":"a","split":"test","tasks":{"colour":{"label":"Red","top":[["Blue",0.7],["Red",0.2]]}}}"#,
            "\nnot json\n",
            r#"{"product_id":"b","split":null,"tasks":{"colour":{"label":null,"top":[["Purple",0.9]]}}}"#,
            "\n",
            r#"{"product_id":"c","split":null,"tasks":{"colour":{"label":null,"top":[["Red",1.5]]}}}"#,
            "\n",
            r#"{"product_id":"a","split":null,"tasks":{}}"#,
            "\n\n",
        );
        std::fs::write(&path, text).unwrap();
        let p = Predictions::read(&path).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p.predicted("a", Task::Colour), Some("Blue"));
        assert_eq!(p.split("a"), Some(Split::Test));
        assert_eq!(p.label_at_prediction("a", Task::Colour), Some("Red"));
        assert!(p.disagrees_with("a", Task::Colour, Some("Red")));
        let lines: Vec<u64> = p.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6]);
        assert!(p.warnings[1].message.contains("Purple"));
    }

    #[test]
    fn bad_headers_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{\"a\":1}\n").unwrap();
        assert!(matches!(
            Predictions::read(&path),
            Err(PredictionsError::BadHeader { .. })
        ));
        std::fs::write(
            &path,
            r#"{"format":"vitrine-predictions","version":9,"run":"r","classes":{}}"#,
        )
        .unwrap();
        assert!(matches!(
            Predictions::read(&path),
            Err(PredictionsError::Version { found: 9, .. })
        ));
        assert!(matches!(
            Predictions::read(&dir.path().join("missing.jsonl")),
            Err(PredictionsError::Io { .. })
        ));
    }
}
