//! Every class's probability for every product, as a run or an audit wrote them:
//! `probabilities.jsonl`, beside `predictions.jsonl` (which keeps only the best
//! [`super::predictions::MAX_TOP`] classes). The label audit reads this file.
//!
//! # Format, version 1
//!
//! JSON Lines, UTF-8. The first line is a header:
//!
//! ```json
//! {"format":"vitrine-probabilities","version":1,"run":"runs/2026-05-01-resnet",
//!  "classes":{"gender":["Men","Women"],"colour":["Black","Navy Blue","Red"]},"kind":"run"}
//! ```
//!
//! `run` names the run that wrote the file; `classes` lists, per task with a head, the head's
//! classes in the head's order; `kind` (optional) is what wrote the file, as in the
//! predictions file ([`FileKind`]). Every following line is one product:
//!
//! ```json
//! {"product_id":"MH01-Gray","split":"validation","fold":3,
//!  "tasks":{"gender":[0.9,0.1],"colour":[0.7,0.2,0.1]}}
//! ```
//!
//! - `split`: `"train"`, `"validation"`, `"test"` or `null`; `fold` (optional, absent when
//!   none): the audit fold whose model predicted the product. Together they give the line's
//!   [`Provenance`].
//! - `tasks`: per task, the probability of each of the header's classes for that task, in the
//!   header's order: numbers in 0..1 that sum to 1 within [`SUM_TOLERANCE`]. A task may be
//!   absent from a line (the model did not predict it there).
//!
//! A file that does not start with a header of this format, or whose version is newer, is
//! refused whole. A product line that cannot be used (not JSON, a task the header lacks, a
//! row of the wrong length, a probability that is not a number (NaN is written as `null`),
//! negative, above 1, or a row that does not sum to 1, a product already read) is skipped and
//! reported with its line number. Writers write to a temporary file and rename it into place,
//! so a reader never sees half a file.
//!
//! Pure: serde only, no egui, no burn.

use super::predictions::{Ids, LineWarning, MIN_LINE_GUESS, Split, Text, keep_warning};
use super::provenance::{FileKind, Provenance, pack_fold, unpack_fold};
use crate::atomic_file::AtomicFile;
use crate::catalog::Task;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The value of the header's `format` field.
pub const FORMAT: &str = "vitrine-probabilities";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;
/// The file name in a run folder and an audit folder.
pub const FILE_NAME: &str = "probabilities.jsonl";
/// How far a row's sum may be from 1 (the file's decimals round each value).
pub const SUM_TOLERANCE: f64 = 1e-3;

/// The first line of a probabilities file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbabilitiesHeader {
    /// Always [`FORMAT`].
    pub format: String,
    /// Format version, [`VERSION`] for this build.
    pub version: u32,
    /// The run that wrote the file (name or path).
    pub run: String,
    /// Per task with a head: its classes, in the head's order.
    pub classes: BTreeMap<Task, Vec<String>>,
    /// What wrote the file, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
}

impl ProbabilitiesHeader {
    /// A version-1 header for `run` with the given heads (no `kind`).
    pub fn new(run: impl Into<String>, classes: BTreeMap<Task, Vec<String>>) -> Self {
        ProbabilitiesHeader {
            format: FORMAT.into(),
            version: VERSION,
            run: run.into(),
            classes,
            kind: None,
        }
    }
}

/// One product line of the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductProbabilities {
    /// The product id.
    pub product_id: String,
    /// The product's split in the run.
    pub split: Option<Split>,
    /// The audit fold whose model predicted the product, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fold: Option<u32>,
    /// Per task: the probability of each of the header's classes, in its order.
    pub tasks: BTreeMap<Task, Vec<f32>>,
}

/// Reading or writing a probabilities file failed.
#[derive(Debug, thiserror::Error)]
pub enum ProbabilitiesError {
    /// The file could not be read or written.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The first line is not a probabilities header.
    #[error("{}:1: not a vitrine probabilities header: {detail}", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The file was written by a newer build.
    #[error("{}: probabilities version {found} is newer than this build reads ({VERSION})", path.display())]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// A line could not be serialised.
    #[error("{}: {reason}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: serde_json::Error,
    },
}

/// The rows of one task: which lines have it and their probabilities, one row after another.
#[derive(Debug, Clone, Default)]
struct Column {
    classes: Vec<String>,
    rows: Vec<u32>,
    values: Vec<f32>,
}

impl Column {
    /// Checks the row that starts at `start` in `values` (the last one pushed).
    fn check_row(&self, task: Task, start: usize) -> Result<(), String> {
        let row = &self.values[start..];
        if row.len() != self.classes.len() {
            return Err(format!(
                "task {task}: {} probabilities for the header's {} classes",
                row.len(),
                self.classes.len()
            ));
        }
        for (i, (&p, class)) in row.iter().zip(&self.classes).enumerate() {
            let at = i + 1;
            if p.is_nan() {
                return Err(format!(
                    "task {task}: probability {at} ('{class}') is not a number"
                ));
            }
            if !(0.0..=1.0).contains(&p) {
                return Err(format!(
                    "task {task}: probability {at} ('{class}') is {p}, not in 0..1"
                ));
            }
        }
        let sum: f64 = row.iter().map(|&p| f64::from(p)).sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(format!(
                "task {task}: the probabilities sum to {sum:.4}, not 1 (within {SUM_TOLERANCE})"
            ));
        }
        Ok(())
    }
}

/// The rows of one task, for building a rows x classes matrix without copying.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskRows<'a> {
    /// The lines that have the task, in file order.
    pub rows: &'a [u32],
    /// Their probabilities: `rows.len()` rows of `classes` values.
    pub values: &'a [f32],
    /// Values in a row (the head's classes).
    pub classes: usize,
}

impl<'a> TaskRows<'a> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no line has the task.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The probabilities of the `i`-th row (of line `rows[i]`).
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.values[i * self.classes..(i + 1) * self.classes]
    }
}

/// A whole probabilities file in memory: per task one flat matrix of the lines that have it,
/// product ids in one buffer; no allocation per line.
#[derive(Debug, Clone)]
pub struct Probabilities {
    /// The file's header.
    pub header: ProbabilitiesHeader,
    /// Where it was read from, if from a file.
    pub path: Option<PathBuf>,
    columns: [Column; 5],
    splits: Vec<Option<Split>>,
    folds: Vec<u16>,
    ids: Ids,
    /// Lines skipped while reading, at most 1,000 kept.
    pub warnings: Vec<LineWarning>,
    /// Lines skipped in all.
    pub warnings_total: usize,
}

/// A product line as read, its probabilities already in the columns.
#[derive(Debug, Default)]
struct LineIn<'a> {
    product_id: Option<Text<'a>>,
    split: Option<Split>,
    fold: Option<u32>,
    has_tasks: bool,
    present: [bool; 5],
    /// The first thing wrong with the line's tasks, said without the product (whose id may
    /// come later in the line).
    problem: Option<String>,
}

impl LineIn<'_> {
    fn problem(&mut self, message: impl FnOnce() -> String) {
        if self.problem.is_none() {
            self.problem = Some(message());
        }
    }
}

impl Probabilities {
    /// An empty set for `header`.
    pub fn new(header: ProbabilitiesHeader) -> Self {
        let mut columns: [Column; 5] = Default::default();
        for (task, classes) in &header.classes {
            columns[task.index()].classes = classes.clone();
        }
        Probabilities {
            header,
            path: None,
            columns,
            splits: Vec::new(),
            folds: Vec::new(),
            ids: Ids::default(),
            warnings: Vec::new(),
            warnings_total: 0,
        }
    }

    /// Reads a probabilities file; unusable product lines become warnings.
    pub fn read(path: &Path) -> Result<Probabilities, ProbabilitiesError> {
        let io = |reason| ProbabilitiesError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let bad_header = |detail: String| ProbabilitiesError::BadHeader {
            path: path.to_path_buf(),
            detail,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            return Err(bad_header("the file is empty".into()));
        }
        let first = std::str::from_utf8(&line).map_err(|e| bad_header(e.to_string()))?;
        let header: ProbabilitiesHeader =
            serde_json::from_str(first.trim()).map_err(|e| bad_header(e.to_string()))?;
        if header.format != FORMAT {
            return Err(bad_header(format!(
                "format is '{}', expected '{FORMAT}'",
                header.format
            )));
        }
        if header.version > VERSION {
            return Err(ProbabilitiesError::Version {
                path: path.to_path_buf(),
                found: header.version,
            });
        }
        let mut probabilities = Probabilities::new(header);
        probabilities.path = Some(path.to_path_buf());
        let mut number = 1u64;
        loop {
            line.clear();
            let read = reader.read_until(b'\n', &mut line).map_err(io)?;
            if read == 0 {
                break;
            }
            number += 1;
            if number == 2 {
                probabilities.reserve(size / (read as u64).max(MIN_LINE_GUESS));
            }
            // Bytes, not a String: a line of invalid UTF-8 is one warning, not the end.
            let text = match std::str::from_utf8(&line) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(&line),
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            if let Err(message) = probabilities.read_line(text) {
                probabilities.warn(number, message);
            }
        }
        probabilities.shrink();
        Ok(probabilities)
    }

    /// Parses one product line into the columns and keeps it, or leaves everything as it was.
    fn read_line(&mut self, text: &str) -> Result<(), String> {
        let marks = self.marks();
        let mut line = LineIn::default();
        let mut json = serde_json::Deserializer::from_str(text);
        let parsed = serde::de::DeserializeSeed::deserialize(
            LineSeed {
                line: &mut line,
                columns: &mut self.columns,
            },
            &mut json,
        )
        .and_then(|()| json.end());
        let outcome = match parsed {
            Ok(()) => self.keep(&line),
            Err(e) => Err(match &line.product_id {
                Some(id) => format!("product {}: {e}", id.0),
                None => e.to_string(),
            }),
        };
        if outcome.is_err() {
            self.roll_back(marks);
        }
        outcome
    }

    /// Adds one product line; fails with a message (and adds nothing) when it does not fit
    /// the header or breaks a rule of the format.
    pub fn insert(&mut self, line: ProductProbabilities) -> Result<(), String> {
        let marks = self.marks();
        let mut read = LineIn {
            product_id: Some(Text(Cow::Borrowed(&line.product_id))),
            split: line.split,
            fold: line.fold,
            has_tasks: true,
            ..Default::default()
        };
        for (&task, values) in &line.tasks {
            let column = &mut self.columns[task.index()];
            if column.classes.is_empty() {
                read.problem(|| format!("task {task} is not in the header"));
                continue;
            }
            read.present[task.index()] = true;
            let start = column.values.len();
            column.values.extend_from_slice(values);
            if let Err(message) = column.check_row(task, start) {
                read.problem(|| message);
            }
        }
        let outcome = self.keep(&read);
        if outcome.is_err() {
            self.roll_back(marks);
        }
        outcome
    }

    /// Where each column's values end: what a line that fails is rolled back to.
    fn marks(&self) -> [usize; 5] {
        std::array::from_fn(|t| self.columns[t].values.len())
    }

    fn roll_back(&mut self, marks: [usize; 5]) {
        for (column, mark) in self.columns.iter_mut().zip(marks) {
            column.values.truncate(mark);
        }
    }

    /// Checks a parsed line whose probabilities are in the columns already, then keeps it.
    fn keep(&mut self, line: &LineIn<'_>) -> Result<(), String> {
        let id = match &line.product_id {
            Some(id) => &*id.0,
            None => return Err("missing field `product_id`".into()),
        };
        if !line.has_tasks {
            return Err(format!("product {id}: missing field `tasks`"));
        }
        if let Some(problem) = &line.problem {
            return Err(format!("product {id}: {problem}"));
        }
        if self.ids.find(id).is_some() {
            return Err(format!("duplicate product '{id}' (the first is kept)"));
        }
        let fold = pack_fold(line.fold).map_err(|message| format!("product {id}: {message}"))?;
        let row = u32::try_from(self.splits.len())
            .ok()
            .filter(|&row| row < u32::MAX)
            .ok_or("too many products for one file")?;
        for (column, &present) in self.columns.iter_mut().zip(&line.present) {
            if present {
                column.rows.push(row);
            }
        }
        self.ids.push(id);
        self.splits.push(line.split);
        self.folds.push(fold);
        Ok(())
    }

    /// Makes room for about `lines` lines (guessed from the file's size and its first line).
    fn reserve(&mut self, lines: u64) {
        let lines = lines.min(u32::MAX as u64) as usize;
        self.ids.reserve(lines);
        self.splits.reserve(lines);
        self.folds.reserve(lines);
    }

    /// Gives back what the buffers reserved while growing.
    fn shrink(&mut self) {
        for column in &mut self.columns {
            column.rows.shrink_to_fit();
            column.values.shrink_to_fit();
        }
        self.splits.shrink_to_fit();
        self.folds.shrink_to_fit();
        self.ids.shrink();
    }

    fn warn(&mut self, line: u64, message: String) {
        keep_warning(&mut self.warnings, &mut self.warnings_total, line, message);
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.splits.len()
    }

    /// Whether there is no product.
    pub fn is_empty(&self) -> bool {
        self.splits.is_empty()
    }

    /// Whether the header has a head for `task`.
    pub fn has_task(&self, task: Task) -> bool {
        !self.columns[task.index()].classes.is_empty()
    }

    /// The classes of the head for `task`, in the order of every row (none without a head).
    pub fn classes(&self, task: Task) -> &[String] {
        &self.columns[task.index()].classes
    }

    /// The line of `product`.
    pub fn row(&self, product: &str) -> Option<u32> {
        self.ids.find(product)
    }

    /// The product id of line `row`.
    pub fn product_id(&self, row: u32) -> Option<&str> {
        ((row as usize) < self.len()).then(|| self.ids.get(row))
    }

    /// The product's split on line `row`.
    pub fn split_at(&self, row: u32) -> Option<Split> {
        *self.splits.get(row as usize)?
    }

    /// The audit fold whose model predicted line `row`, if any.
    pub fn fold_at(&self, row: u32) -> Option<u32> {
        unpack_fold(*self.folds.get(row as usize)?)
    }

    /// Whether line `row`'s probabilities are in-sample, held-out or out-of-fold
    /// ([`Provenance::of`]); `None` for a product the run did not use, or no such line.
    pub fn provenance_at(&self, row: u32) -> Option<Provenance> {
        let split = *self.splits.get(row as usize)?;
        Provenance::of(split, self.fold_at(row))
    }

    /// Every line that has `task`, with their probabilities as one rows x classes matrix
    /// (empty without a head).
    pub fn task_rows(&self, task: Task) -> TaskRows<'_> {
        let column = &self.columns[task.index()];
        TaskRows {
            rows: &column.rows,
            values: &column.values,
            classes: column.classes.len(),
        }
    }

    /// The probabilities of `task` on line `row`, in the order of [`Probabilities::classes`];
    /// `None` when the line lacks the task.
    pub fn probabilities_at(&self, row: u32, task: Task) -> Option<&[f32]> {
        let rows = self.task_rows(task);
        // Lines are added in order, so each column's rows are sorted.
        let i = rows.rows.binary_search(&row).ok()?;
        Some(rows.row(i))
    }

    /// Line `row` as the file writes it.
    pub fn line_at(&self, row: u32) -> Option<ProductProbabilities> {
        let product_id = self.product_id(row)?.to_string();
        let tasks = Task::ALL
            .into_iter()
            .filter_map(|task| Some((task, self.probabilities_at(row, task)?.to_vec())))
            .collect();
        Some(ProductProbabilities {
            product_id,
            split: self.split_at(row),
            fold: self.fold_at(row),
            tasks,
        })
    }

    /// Writes every line to `path` in the file format, in order.
    pub fn write(&self, path: &Path) -> Result<PathBuf, ProbabilitiesError> {
        let mut writer = ProbabilitiesWriter::create(path, self.header.clone())?;
        for row in 0..self.len() as u32 {
            if let Some(line) = self.line_at(row) {
                writer.write(&line)?;
            }
        }
        writer.finish()
    }
}

/// Reads a line's object: its fields, and each task's row straight into its column.
struct LineSeed<'s, 'a> {
    line: &'s mut LineIn<'a>,
    columns: &'s mut [Column; 5],
}

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for LineSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for LineSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a product line")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "product_id" => self.line.product_id = Some(map.next_value()?),
                "split" => self.line.split = map.next_value()?,
                "fold" => self.line.fold = map.next_value()?,
                "tasks" => {
                    self.line.has_tasks = true;
                    map.next_value_seed(TasksSeed {
                        line: &mut *self.line,
                        columns: &mut *self.columns,
                    })?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads a line's `tasks` object.
struct TasksSeed<'s, 'a> {
    line: &'s mut LineIn<'a>,
    columns: &'s mut [Column; 5],
}

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for TasksSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for TasksSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a map of tasks")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let task = Task::ALL.into_iter().find(|t| t.name() == key.0);
            let Some(task) = task.filter(|t| !self.columns[t.index()].classes.is_empty()) else {
                self.line
                    .problem(|| format!("task '{}' is not in the header", key.0));
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            };
            if self.line.present[task.index()] {
                self.line.problem(|| format!("task {task} appears twice"));
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            self.line.present[task.index()] = true;
            let column = &mut self.columns[task.index()];
            let start = column.values.len();
            map.next_value_seed(RowSeed(&mut column.values))?;
            if let Err(message) = column.check_row(task, start) {
                self.line.problem(|| message);
            }
        }
        Ok(())
    }
}

/// Appends a task's list of probabilities to its column; anything but a number appends NaN
/// (what a NaN was written as, `null`, or a mistake), which the row's check then reports.
struct RowSeed<'s>(&'s mut Vec<f32>);

impl<'de> serde::de::DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RowSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of probabilities")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(Number(p)) = seq.next_element()? {
            self.0.push(p);
        }
        Ok(())
    }
}

/// A list element: its value when it is a number, NaN when it is anything else.
struct Number(f32);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl<'de> serde::de::Visitor<'de> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a probability")
    }

    fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
        Ok(Number(v as f32))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
        Ok(Number(v as f32))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
        Ok(Number(v as f32))
    }

    fn visit_unit<E>(self) -> Result<Number, E> {
        Ok(Number(f32::NAN))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Number, E> {
        Ok(Number(f32::NAN))
    }

    fn visit_str<E>(self, _: &str) -> Result<Number, E> {
        Ok(Number(f32::NAN))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Number, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Number(f32::NAN))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Number, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Number(f32::NAN))
    }
}

/// Writes a probabilities file: to a temporary file beside it, renamed into place by
/// [`ProbabilitiesWriter::finish`] (dropped before, it leaves the old file as it was).
#[derive(Debug)]
pub struct ProbabilitiesWriter {
    path: PathBuf,
    file: AtomicFile,
}

impl ProbabilitiesWriter {
    /// Starts writing `path` with `header`.
    pub fn create(path: &Path, header: ProbabilitiesHeader) -> Result<Self, ProbabilitiesError> {
        let file = AtomicFile::create(path).map_err(|reason| ProbabilitiesError::Io {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut writer = ProbabilitiesWriter {
            path: path.to_path_buf(),
            file,
        };
        writer.write_json(&header)?;
        Ok(writer)
    }

    /// Writes one product line. Rows are not checked here: readers skip a line that breaks
    /// the format's rules, naming the product (a NaN is written as `null`).
    pub fn write(&mut self, line: &ProductProbabilities) -> Result<(), ProbabilitiesError> {
        self.write_json(line)
    }

    fn write_json<T: Serialize>(&mut self, value: &T) -> Result<(), ProbabilitiesError> {
        let out = self.file.writer();
        serde_json::to_writer(&mut *out, value)
            .map_err(|reason| {
                if reason.is_io() {
                    ProbabilitiesError::Io {
                        path: self.path.clone(),
                        reason: reason.into(),
                    }
                } else {
                    ProbabilitiesError::Json {
                        path: self.path.clone(),
                        reason,
                    }
                }
            })
            .and_then(|()| {
                out.write_all(b"\n")
                    .map_err(|reason| ProbabilitiesError::Io {
                        path: self.path.clone(),
                        reason,
                    })
            })
    }

    /// Flushes, syncs and renames the file into place.
    pub fn finish(self) -> Result<PathBuf, ProbabilitiesError> {
        let path = self.path;
        self.file
            .commit()
            .map_err(|reason| ProbabilitiesError::Io { path, reason })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"format":"vitrine-probabilities","version":1,"run":"r","classes":{"gender":["Men","Women"],"colour":["Black","Gray","Red"]}}"#;

    fn header() -> ProbabilitiesHeader {
        ProbabilitiesHeader::new(
            "r",
            [
                (Task::Gender, vec!["Men".into(), "Women".into()]),
                (
                    Task::Colour,
                    vec!["Black".into(), "Gray".into(), "Red".into()],
                ),
            ]
            .into(),
        )
    }

    /// Reads a file of `HEADER` and `lines`.
    fn read(lines: &[&str]) -> Probabilities {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut text = format!("{HEADER}\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        Probabilities::read(&path).unwrap()
    }

    /// The lines of the warnings with their messages.
    fn warnings(p: &Probabilities) -> Vec<(u64, &str)> {
        p.warnings
            .iter()
            .map(|w| (w.line, w.message.as_str()))
            .collect()
    }

    const GOOD: &str = r#"{"product_id":"ok","split":"train","tasks":{"colour":[0.5,0.25,0.25]}}"#;

    /// The lines read besides a bad one keep their own rows whole.
    fn assert_only_good_kept(p: &Probabilities) {
        assert_eq!(p.len(), 1);
        let rows = p.task_rows(Task::Colour);
        assert_eq!((rows.rows, rows.values), (&[0][..], &[0.5, 0.25, 0.25][..]));
        assert!(p.task_rows(Task::Gender).is_empty());
    }

    fn line(
        id: &str,
        split: Option<Split>,
        fold: Option<u32>,
        colour: Vec<f32>,
    ) -> ProductProbabilities {
        ProductProbabilities {
            product_id: id.into(),
            split,
            fold,
            tasks: [(Task::Colour, colour)].into(),
        }
    }

    #[test]
    fn a_written_file_reads_back_with_its_rows_splits_and_folds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let header = ProbabilitiesHeader {
            kind: Some(FileKind::OutOfFold),
            ..header()
        };
        let mut writer = ProbabilitiesWriter::create(&path, header.clone()).unwrap();
        let mut a = line("a", Some(Split::Train), Some(2), vec![0.7, 0.2, 0.1]);
        a.tasks.insert(Task::Gender, vec![0.25, 0.75]);
        let b = line("b\"é", Some(Split::Validation), None, vec![0.0, 0.0, 1.0]);
        let c = ProductProbabilities {
            tasks: [(Task::Gender, vec![1.0, 0.0])].into(),
            ..line("c", None, None, vec![])
        };
        for l in [&a, &b, &c] {
            writer.write(l).unwrap();
        }
        writer.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(r#"{"format":"vitrine-probabilities","version":1,"#));
        assert!(text.contains(r#""kind":"out-of-fold""#));
        // Absent when none, as the format says.
        assert_eq!(text.matches("\"fold\"").count(), 1, "{text}");

        let p = Probabilities::read(&path).unwrap();
        assert_eq!(p.header, header);
        assert_eq!(p.path.as_deref(), Some(path.as_path()));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(p.len(), 3);
        assert_eq!(p.classes(Task::Colour), ["Black", "Gray", "Red"]);
        assert!(p.classes(Task::Type).is_empty() && !p.has_task(Task::Type));
        assert_eq!((p.row("b\"é"), p.product_id(1)), (Some(1), Some("b\"é")));
        assert_eq!((p.row("z"), p.product_id(3)), (None, None));
        assert_eq!(
            (p.split_at(0), p.fold_at(0), p.provenance_at(0)),
            (Some(Split::Train), Some(2), Some(Provenance::OutOfFold))
        );
        assert_eq!(p.provenance_at(1), Some(Provenance::HeldOut));
        assert_eq!(
            (p.fold_at(2), p.provenance_at(2), p.provenance_at(3)),
            (None, None, None)
        );
        let colour = p.task_rows(Task::Colour);
        assert_eq!(colour.rows, [0, 1]);
        assert_eq!(colour.classes, 3);
        assert_eq!(colour.values, [0.7, 0.2, 0.1, 0.0, 0.0, 1.0]);
        assert_eq!(colour.row(1), [0.0, 0.0, 1.0]);
        let gender = p.task_rows(Task::Gender);
        assert_eq!(
            (gender.rows, gender.values),
            (&[0, 2][..], &[0.25, 0.75, 1.0, 0.0][..])
        );
        assert_eq!(p.probabilities_at(2, Task::Colour), None);
        assert_eq!(p.probabilities_at(2, Task::Gender), Some(&[1.0, 0.0][..]));
        assert_eq!(p.line_at(0), Some(a.clone()));
        assert_eq!(p.line_at(1), Some(b.clone()));
        assert_eq!(p.line_at(2), Some(c.clone()));

        // Written from memory, the same file again.
        let again = dir.path().join("again.jsonl");
        p.write(&again).unwrap();
        assert_eq!(std::fs::read_to_string(&again).unwrap(), text);
    }

    #[test]
    fn inserted_lines_follow_the_rules_of_the_file_and_a_refused_one_adds_nothing() {
        let mut p = Probabilities::new(header());
        p.insert(line("a", Some(Split::Test), None, vec![0.5, 0.25, 0.25]))
            .unwrap();
        let mut bad = line("b", None, Some(1), vec![0.5, 0.5, 0.0]);
        bad.tasks.insert(Task::Gender, vec![f32::NAN, 1.0]);
        assert_eq!(
            p.insert(bad),
            Err("product b: task gender: probability 1 ('Men') is not a number".into())
        );
        assert_eq!(
            p.insert(ProductProbabilities {
                tasks: [(Task::Type, vec![1.0])].into(),
                ..line("c", None, None, vec![])
            }),
            Err("product c: task type is not in the header".into())
        );
        assert_eq!(
            p.insert(line("a", None, None, vec![1.0, 0.0, 0.0])),
            Err("duplicate product 'a' (the first is kept)".into())
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p.task_rows(Task::Colour).values, [0.5, 0.25, 0.25]);
        assert!(p.task_rows(Task::Gender).values.is_empty());
        p.insert(line("d", None, Some(4), vec![0.0, 1.0, 0.0]))
            .unwrap();
        assert_eq!(p.task_rows(Task::Colour).rows, [0, 1]);
        assert_eq!(p.provenance_at(1), Some(Provenance::OutOfFold));
    }

    #[test]
    fn bad_headers_refuse_the_whole_file_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let error = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Probabilities::read(&path).unwrap_err()
        };
        let shown = path.display().to_string();
        let not_json = error("{\"product_id\":\"a\"}\n").to_string();
        assert!(
            not_json.starts_with(&format!("{shown}:1: not a vitrine probabilities header: ")),
            "{not_json}"
        );
        assert_eq!(
            error("").to_string(),
            format!("{shown}:1: not a vitrine probabilities header: the file is empty")
        );
        let predictions =
            error(r#"{"format":"vitrine-predictions","version":1,"run":"r","classes":{}}"#);
        assert_eq!(
            predictions.to_string(),
            format!(
                "{shown}:1: not a vitrine probabilities header: format is 'vitrine-predictions', expected 'vitrine-probabilities'"
            )
        );
        let newer =
            error(r#"{"format":"vitrine-probabilities","version":2,"run":"r","classes":{}}"#);
        assert!(matches!(
            newer,
            ProbabilitiesError::Version { found: 2, .. }
        ));
        assert_eq!(
            newer.to_string(),
            format!("{shown}: probabilities version 2 is newer than this build reads (1)")
        );
        let missing = dir.path().join("missing.jsonl");
        let error = Probabilities::read(&missing).unwrap_err();
        assert!(matches!(error, ProbabilitiesError::Io { .. }));
        assert!(
            error
                .to_string()
                .starts_with(&missing.display().to_string()),
            "{error}"
        );
    }

    #[test]
    fn a_row_of_the_wrong_length_is_skipped_with_its_line() {
        let p = read(&[
            GOOD,
            r#"{"product_id":"short","split":null,"tasks":{"colour":[0.5,0.5]}}"#,
            r#"{"product_id":"long","split":null,"tasks":{"gender":[0.5,0.5,0.0]}}"#,
        ]);
        assert_eq!(
            warnings(&p),
            [
                (
                    3,
                    "product short: task colour: 2 probabilities for the header's 3 classes"
                ),
                (
                    4,
                    "product long: task gender: 3 probabilities for the header's 2 classes"
                ),
            ]
        );
        assert_only_good_kept(&p);
    }

    #[test]
    fn a_nan_written_as_null_or_any_non_number_is_not_a_number() {
        // What the writer makes of a NaN, as the reader sees it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut writer = ProbabilitiesWriter::create(&path, header()).unwrap();
        writer
            .write(&line("P", None, None, vec![0.5, 0.5, f32::NAN]))
            .unwrap();
        writer.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[0.5,0.5,null]"), "{text}");
        let written = Probabilities::read(&path).unwrap();
        assert_eq!(
            warnings(&written),
            [(
                2,
                "product P: task colour: probability 3 ('Red') is not a number"
            )]
        );
        assert!(written.is_empty());

        let p = read(&[
            // The product id after its tasks: the message still names it.
            r#"{"tasks":{"colour":[0.5,"0.5",0.0]},"product_id":"text","split":null}"#,
            GOOD,
            r#"{"product_id":"list","split":null,"tasks":{"colour":[[0.5],0.5,0.0]}}"#,
            r#"{"product_id":"object","split":null,"tasks":{"gender":[{"p":1},true]}}"#,
        ]);
        assert_eq!(
            warnings(&p),
            [
                (
                    2,
                    "product text: task colour: probability 2 ('Gray') is not a number"
                ),
                (
                    4,
                    "product list: task colour: probability 1 ('Black') is not a number"
                ),
                (
                    5,
                    "product object: task gender: probability 1 ('Men') is not a number"
                ),
            ]
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p.task_rows(Task::Colour).values, [0.5, 0.25, 0.25]);
    }

    #[test]
    fn a_negative_probability_or_one_above_1_is_skipped() {
        let p = read(&[
            GOOD,
            r#"{"product_id":"neg","split":null,"tasks":{"colour":[1.25,-0.25,0.0]}}"#,
            r#"{"product_id":"big","split":null,"tasks":{"gender":[1.5,-0.5]}}"#,
            r#"{"product_id":"huge","split":null,"tasks":{"gender":[1e39,0]}}"#,
        ]);
        assert_eq!(
            warnings(&p),
            [
                (
                    3,
                    "product neg: task colour: probability 1 ('Black') is 1.25, not in 0..1"
                ),
                (
                    4,
                    "product big: task gender: probability 1 ('Men') is 1.5, not in 0..1"
                ),
                (
                    5,
                    "product huge: task gender: probability 1 ('Men') is inf, not in 0..1"
                ),
            ]
        );
        assert_only_good_kept(&p);
    }

    #[test]
    fn a_row_that_does_not_sum_to_1_is_skipped() {
        let p = read(&[
            GOOD,
            r#"{"product_id":"low","split":null,"tasks":{"colour":[0.5,0.25,0.2]}}"#,
            r#"{"product_id":"high","split":null,"tasks":{"gender":[0.6,0.41]}}"#,
            // Within the tolerance: kept.
            r#"{"product_id":"near","split":null,"tasks":{"gender":[0.6,0.4009]}}"#,
        ]);
        assert_eq!(
            warnings(&p),
            [
                (
                    3,
                    "product low: task colour: the probabilities sum to 0.9500, not 1 (within 0.001)"
                ),
                (
                    4,
                    "product high: task gender: the probabilities sum to 1.0100, not 1 (within 0.001)"
                ),
            ]
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p.task_rows(Task::Gender).rows, [1]);
    }

    #[test]
    fn a_task_the_header_lacks_is_skipped() {
        let p = read(&[
            GOOD,
            r#"{"product_id":"material","split":null,"tasks":{"material":[1.0],"colour":[1,0,0]}}"#,
            r#"{"product_id":"type","split":null,"tasks":{"colour":[1,0,0],"type":[1.0]}}"#,
            r#"{"product_id":"twice","split":null,"tasks":{"gender":[1,0],"gender":[0,1]}}"#,
        ]);
        assert_eq!(
            warnings(&p),
            [
                (3, "product material: task 'material' is not in the header"),
                (4, "product type: task 'type' is not in the header"),
                (5, "product twice: task gender appears twice"),
            ]
        );
        assert_only_good_kept(&p);
    }

    #[test]
    fn a_duplicate_product_is_skipped_and_the_first_kept() {
        let p = read(&[
            GOOD,
            r#"{"product_id":"ok","split":"test","fold":1,"tasks":{"colour":[1,0,0],"gender":[1,0]}}"#,
        ]);
        assert_eq!(
            warnings(&p),
            [(3, "duplicate product 'ok' (the first is kept)")]
        );
        assert_only_good_kept(&p);
        assert_eq!((p.split_at(0), p.fold_at(0)), (Some(Split::Train), None));
    }

    #[test]
    fn lines_that_are_no_product_line_are_skipped_with_their_line_numbers() {
        let p = read(&[
            "not json",
            "",
            r#"{"split":null,"tasks":{"colour":[1,0,0]}}"#,
            r#"{"product_id":"no tasks","split":null}"#,
            r#"{"product_id":"bad split","split":"later","tasks":{}}"#,
            r#"{"product_id":"bad fold","split":null,"fold":65535,"tasks":{}}"#,
            GOOD,
            r#"{"product_id":"x","split":null,"tasks":{"colour":[1,0,0]}} trailing"#,
        ]);
        let found = warnings(&p);
        let lines: Vec<u64> = found.iter().map(|w| w.0).collect();
        assert_eq!(lines, [2, 4, 5, 6, 7, 9], "{found:?}");
        assert_eq!(found[1].1, "missing field `product_id`");
        assert_eq!(found[2].1, "product no tasks: missing field `tasks`");
        assert!(
            found[3]
                .1
                .starts_with("product bad split: unknown variant `later`"),
            "{found:?}"
        );
        assert_eq!(
            found[4].1,
            format!(
                "product bad fold: fold 65535 is beyond the largest, {}",
                crate::runs::provenance::MAX_FOLD
            )
        );
        assert_only_good_kept(&p);
    }

    #[test]
    fn at_most_1000_warnings_are_kept_and_the_rest_counted() {
        let bad = r#"{"product_id":"b","split":null,"tasks":{"colour":[1,1,1]}}"#;
        let lines: Vec<&str> = std::iter::once(GOOD)
            .chain(std::iter::repeat_n(bad, 1500))
            .collect();
        let p = read(&lines);
        assert_eq!((p.warnings.len(), p.warnings_total), (1000, 1500));
        assert_eq!(p.warnings[999].line, 1002);
        assert_only_good_kept(&p);
    }
}
