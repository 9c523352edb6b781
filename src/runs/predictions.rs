//! The predictions file a model run writes and the workspace reads: `predictions.jsonl`.
//!
//! # Format, version 2
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
//! model's head for that task; a task without a head is absent. An optional `kind` says what
//! wrote the file ([`FileKind`]): `"run"` (one model predicting every product) or
//! `"out-of-fold"` (an audit's fold models merged); files without it are read as before.
//! Every following line is one product:
//!
//! ```json
//! {"product_id":"MH01-Gray","split":"validation","fold":3,
//!  "tasks":{"colour":{"label":"Gray","top":[["Black",0.81],["Gray",0.12],["Navy Blue",0.04]]}}}
//! ```
//!
//! - `split`: `"train"`, `"validation"`, `"test"` or `null` (not used by the run).
//! - `fold` (optional, absent when none): the audit fold whose model, trained on the other
//!   folds, predicted the product; at most [`MAX_FOLD`](super::provenance::MAX_FOLD). A
//!   line's [`Provenance`] follows from its split and fold ([`Provenance::of`]): in-sample,
//!   held-out or out-of-fold.
//! - `tasks`: per task with a head, `label` is the product's label when the run read it (or
//!   `null`), and `top` the model's best classes with their probabilities, most probable first,
//!   at most [`MAX_TOP`] of them, each class one of the header's `classes` for that task.
//!
//! - `photos` (version 2, optional; written by multi-image runs for products with two photos or
//!   more): which photo decided, measured by what the model does.
//!   `{"won":[0.61,0.39],"tasks":{"colour":{"without":[0.41,0.88],"decided_by":0}}}`:
//!   `won`, per photo in the product's order, the share of the pooled features whose maximum
//!   it holds (the element-wise max-pool picks each feature from one photo); per task,
//!   `without` the predicted class's probability with that photo left out of the max-pool,
//!   and `decided_by` the photo whose absence lowers it most (absent when none lowers it).
//!   At most [`MAX_PHOTOS`] photos. Version-1 files (without it) read as before.
//!
//! Readers skip lines they cannot understand and report each with its line number; a newer
//! `version` is refused. Writers write to a temporary file and rename it into place, so a
//! reader never sees half a file.
//!
//! Pure: serde only, no egui, no burn.

use super::classes::HeadClasses;
use super::provenance::{FileKind, Provenance, pack_fold, unpack_fold};
use crate::atomic_file::AtomicFile;
use crate::catalog::key_index::KeyIndex;
use crate::catalog::{Catalog, Task};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The value of the header's `format` field.
pub const FORMAT: &str = "vitrine-predictions";
/// The version this build writes; it reads every version up to it (1 lacks `photos`).
pub const VERSION: u32 = 2;
/// Most photos a line's `photos` may describe.
pub const MAX_PHOTOS: usize = 8;
/// Most classes a product's `top` list may hold.
pub const MAX_TOP: usize = 5;
/// The file name looked for beside a catalogue and in a run folder.
pub const FILE_NAME: &str = "predictions.jsonl";
/// How many malformed lines a read keeps as warnings; the rest are counted.
pub(super) const MAX_WARNINGS: usize = 1000;

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
    /// What wrote the file, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
}

impl Header {
    /// A header of this build's version for `run` with the given heads (no `kind`).
    pub fn new(run: impl Into<String>, classes: BTreeMap<Task, Vec<String>>) -> Self {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            run: run.into(),
            classes,
            kind: None,
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

/// Which photo decided one task of a product (see the module's `photos`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoTask {
    /// Per photo: the predicted class's probability with that photo left out of the max-pool.
    pub without: Vec<f32>,
    /// The photo whose absence lowers the prediction most, when one lowers it at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<usize>,
}

/// Each photo's part in a product's prediction (multi-image runs, version 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoParts {
    /// Per photo: the share of the pooled features whose maximum it holds.
    pub won: Vec<f32>,
    /// Per task with a head.
    pub tasks: BTreeMap<Task, PhotoTask>,
}

/// What a read file keeps of a line's [`PhotoParts`] (a few bytes, as the grid and the product
/// view need them): the photos' shares of the pooled features in 255ths and each task's
/// deciding photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoShares {
    photos: u8,
    won: [u8; MAX_PHOTOS],
    decided: [u8; 5],
}

/// A task no photo decided (or a line without `photos`).
const UNDECIDED: u8 = u8::MAX;

impl PhotoShares {
    fn of(parts: &PhotoParts) -> PhotoShares {
        let mut shares = PhotoShares {
            photos: parts.won.len() as u8,
            won: [0; MAX_PHOTOS],
            decided: [UNDECIDED; 5],
        };
        for (slot, share) in shares.won.iter_mut().zip(&parts.won) {
            *slot = (share.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
        for (task, part) in &parts.tasks {
            if let Some(photo) = part.decided_by {
                shares.decided[task.index()] = photo as u8;
            }
        }
        shares
    }

    /// How many photos the line describes.
    pub fn photos(&self) -> usize {
        self.photos as usize
    }

    /// Photo `photo`'s share of the pooled features (0 for a photo the line lacks).
    pub fn won(&self, photo: usize) -> f32 {
        if photo < self.photos() {
            f32::from(self.won[photo]) / 255.0
        } else {
            0.0
        }
    }

    /// The photo that decided `task`, if one did.
    pub fn decided_by(&self, task: Task) -> Option<usize> {
        let photo = self.decided[task.index()];
        (photo != UNDECIDED).then_some(photo as usize)
    }
}

/// Checks a line's `photos`: at most [`MAX_PHOTOS`], shares and probabilities in 0..1, each
/// task's list as long as `won` and its deciding photo among them.
fn check_photos(parts: &PhotoParts) -> Result<(), String> {
    let n = parts.won.len();
    if n > MAX_PHOTOS {
        return Err(format!("photos: {n} photos, at most {MAX_PHOTOS}"));
    }
    let unit = |v: &f32| (0.0..=1.0).contains(v);
    if !parts.won.iter().all(unit) {
        return Err("photos: a share in won is not in 0..1".into());
    }
    for (task, part) in &parts.tasks {
        if part.without.len() != n {
            return Err(format!(
                "photos: task {task} lists {} photos, won {n}",
                part.without.len()
            ));
        }
        if !part.without.iter().all(unit) {
            return Err(format!("photos: task {task}: a probability is not in 0..1"));
        }
        if part.decided_by.is_some_and(|photo| photo >= n) {
            return Err(format!(
                "photos: task {task}: decided_by is not one of its {n} photos"
            ));
        }
    }
    Ok(())
}

/// One product line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductPrediction {
    /// The product id.
    pub product_id: String,
    /// The product's split in the run.
    pub split: Option<Split>,
    /// The audit fold whose model predicted the product, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<u32>,
    /// Per task with a head.
    pub tasks: BTreeMap<Task, TaskPrediction>,
    /// Which photo decided (multi-image runs; version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos: Option<PhotoParts>,
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
    /// The read was stopped through its progress callback.
    #[error("{}: reading cancelled", .0.display())]
    Cancelled(PathBuf),
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

/// Counts a skipped line in `total` and keeps it in `warnings` while they hold fewer than
/// [`MAX_WARNINGS`] (a file of bad lines must not fill memory with messages).
pub(super) fn keep_warning(
    warnings: &mut Vec<LineWarning>,
    total: &mut usize,
    line: u64,
    message: String,
) {
    *total += 1;
    if warnings.len() < MAX_WARNINGS {
        warnings.push(LineWarning { line, message });
    }
}

/// A task a line does not predict (the model has no head for it, or skipped the product).
const ABSENT: u8 = u8::MAX;
/// A task whose label the run did not read.
const NO_LABEL: u32 = u32::MAX;
/// Shortest line length, in bytes, the guess of a file's line count assumes (a realistic line
/// with one task is longer), so a file cannot make the reader reserve much for nothing.
pub(super) const MIN_LINE_GUESS: u64 = 64;
/// Lines between two calls of a read's progress callback.
const PROGRESS_EVERY: u64 = 4096;

/// One product line in memory, in a few words: its best classes lie in [`Predictions`]'s one
/// `top` buffer from `first` on, task after task (`counts`, [`ABSENT`] for a task the line
/// lacks); its labels are indices into the per-task label names ([`NO_LABEL`]: none); its fold
/// packed in 16 bits (the padding the other fields left: 32 bytes a line still).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Line {
    first: u32,
    labels: [u32; 5],
    counts: [u8; 5],
    split: Option<Split>,
    fold: u16,
}

/// Strings numbered in order of first appearance (class and label names: a handful each).
#[derive(Debug, Clone, Default)]
struct Names {
    names: Vec<Box<str>>,
    index: hashbrown::HashMap<Box<str>, u32>,
}

impl Names {
    /// The number of `name`, numbering it if it is new; the first of equal names keeps its
    /// number (a header that repeats a class finds the first, as a scan of the list would).
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), id);
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }
}

/// The product ids of the lines, in one buffer, found through a [`KeyIndex`]: no allocation
/// per line (also the probabilities file's, [`super::probabilities`]).
#[derive(Debug, Clone, Default)]
pub(super) struct Ids {
    text: String,
    ends: Vec<usize>,
    index: KeyIndex,
}

impl Ids {
    /// The id of line `row` (which must exist).
    pub(super) fn get(&self, row: u32) -> &str {
        id_at(&self.text, &self.ends, row)
    }

    /// The line of `id`.
    pub(super) fn find(&self, id: &str) -> Option<u32> {
        self.index
            .find(id, |row| id_at(&self.text, &self.ends, row))
    }

    /// Adds `id` as the next line's (it must not be there yet: [`Ids::find`] first).
    pub(super) fn push(&mut self, id: &str) {
        let row = self.ends.len() as u32;
        self.text.push_str(id);
        self.ends.push(self.text.len());
        let (text, ends) = (&self.text, &self.ends);
        self.index.insert(id, row, |r| id_at(text, ends, r));
    }

    /// Makes room in the index for `lines` more ids at once: growing step by step rehashes
    /// every id at each step.
    pub(super) fn reserve(&mut self, lines: usize) {
        let (text, ends) = (&self.text, &self.ends);
        self.index.reserve(lines, |r| id_at(text, ends, r));
    }

    /// Gives back what the buffers reserved while growing.
    pub(super) fn shrink(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

fn id_at<'a>(text: &'a str, ends: &[usize], row: u32) -> &'a str {
    let row = row as usize;
    let start = if row == 0 { 0 } else { ends[row - 1] };
    &text[start..ends[row]]
}

/// A string of a line as read: borrowed from the line unless it holds escapes.
#[derive(Debug, Default)]
pub(super) struct Text<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visit(std::marker::PhantomData))
    }
}

/// One task of a line as read, filled in place: its label, its best classes as numbers in the
/// header's class list, how many the file lists, and the first class the header lacks (with
/// its place in the list), so the line's checks can run in the file's order afterwards.
#[derive(Debug, Default)]
struct TaskIn<'a> {
    present: bool,
    label: Option<Text<'a>>,
    top: [(u32, f32); MAX_TOP],
    len: usize,
    unknown: Option<(usize, Text<'a>)>,
}

impl<'a> TaskIn<'a> {
    /// Records entry `top.len()` of the list: `class` (by name) with `probability`.
    fn push(&mut self, classes: &Names, class: Text<'a>, probability: f32) {
        if self.len < MAX_TOP {
            match classes.get(&class.0) {
                Some(number) => self.top[self.len] = (number, probability),
                None if self.unknown.is_none() => self.unknown = Some((self.len, class)),
                None => {}
            }
        }
        self.len += 1;
    }
}

/// A product line as read ([`ProductPrediction`] without its allocations), filled in place by
/// [`LineSeed`]: at 1,000,000 lines, moving per-task values out of each parse cost more than
/// the parse.
#[derive(Debug, Default)]
struct LineIn<'a> {
    product_id: Option<Text<'a>>,
    split: Option<Split>,
    fold: Option<u32>,
    tasks: [TaskIn<'a>; 5],
    photos: Option<Cow<'a, PhotoParts>>,
}

/// Reads a line's object into a [`LineIn`], class names resolved through the header's.
struct LineSeed<'s, 'a> {
    line: &'s mut LineIn<'a>,
    classes: &'s [Names; 5],
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
        let mut has_tasks = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "product_id" => self.line.product_id = Some(map.next_value()?),
                "split" => self.line.split = map.next_value()?,
                "fold" => self.line.fold = map.next_value()?,
                "photos" => {
                    self.line.photos = map.next_value::<Option<PhotoParts>>()?.map(Cow::Owned)
                }
                "tasks" => {
                    has_tasks = true;
                    map.next_value_seed(TasksSeed {
                        tasks: &mut self.line.tasks,
                        classes: self.classes,
                    })?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        if self.line.product_id.is_none() {
            return Err(serde::de::Error::missing_field("product_id"));
        }
        if !has_tasks {
            return Err(serde::de::Error::missing_field("tasks"));
        }
        Ok(())
    }
}

/// Reads a line's `tasks` object (a repeated task: the last wins, as in a map).
struct TasksSeed<'s, 'a> {
    tasks: &'s mut [TaskIn<'a>; 5],
    classes: &'s [Names; 5],
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
        f.write_str("a map")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(task) = map.next_key::<Task>()? {
            let slot = &mut self.tasks[task.index()];
            *slot = TaskIn {
                present: true,
                ..Default::default()
            };
            map.next_value_seed(TaskSeed {
                task: slot,
                classes: &self.classes[task.index()],
            })?;
        }
        Ok(())
    }
}

/// Reads one task's object: `label` and `top`.
struct TaskSeed<'s, 'a> {
    task: &'s mut TaskIn<'a>,
    classes: &'s Names,
}

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for TaskSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for TaskSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a task's prediction")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_top = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key.0 {
                "label" => self.task.label = map.next_value()?,
                "top" => {
                    has_top = true;
                    map.next_value_seed(TopSeed {
                        task: &mut *self.task,
                        classes: self.classes,
                    })?;
                }
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        if !has_top {
            return Err(serde::de::Error::missing_field("top"));
        }
        Ok(())
    }
}

/// Reads a task's `top` list of `[class, probability]` pairs.
struct TopSeed<'s, 'a> {
    task: &'s mut TaskIn<'a>,
    classes: &'s Names,
}

impl<'de: 'a, 'a> serde::de::DeserializeSeed<'de> for TopSeed<'_, 'a> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for TopSeed<'_, 'a> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // A list that was already there (a repeated `top`): the last wins.
        self.task.len = 0;
        self.task.unknown = None;
        while let Some((class, probability)) = seq.next_element::<(Text<'de>, f32)>()? {
            self.task.push(self.classes, class, probability);
        }
        Ok(())
    }
}

/// A whole predictions file in memory, indexed by product id: a few flat buffers (about 200
/// bytes a product with five heads), not a string and a vector per task and product.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// The file's header.
    pub header: Header,
    /// Where it was read from, if from a file.
    pub path: Option<PathBuf>,
    classes: [Vec<Box<str>>; 5],
    heads: [HeadClasses; 5],
    class_numbers: [Names; 5],
    lines: Vec<Line>,
    top: Vec<(u32, f32)>,
    labels: [Names; 5],
    /// Per line, what decided it; empty until a line has `photos` (then as long as the lines
    /// before it, `None` for each line without).
    photos: Vec<Option<PhotoShares>>,
    ids: Ids,
    /// Lines skipped while reading, at most 1,000 kept.
    pub warnings: Vec<LineWarning>,
    /// Lines skipped in all.
    pub warnings_total: usize,
}

impl Predictions {
    /// An empty set for `header`.
    pub fn new(header: Header) -> Self {
        let mut classes: [Vec<Box<str>>; 5] = Default::default();
        let mut class_numbers: [Names; 5] = Default::default();
        let mut heads: [HeadClasses; 5] = Default::default();
        for (task, names) in &header.classes {
            classes[task.index()] = names.iter().map(|n| n.as_str().into()).collect();
            heads[task.index()] = HeadClasses::new(names);
            for name in names {
                class_numbers[task.index()].intern(name);
            }
        }
        Predictions {
            header,
            path: None,
            classes,
            heads,
            class_numbers,
            lines: Vec::new(),
            top: Vec::new(),
            labels: Default::default(),
            photos: Vec::new(),
            ids: Ids::default(),
            warnings: Vec::new(),
            warnings_total: 0,
        }
    }

    /// Adds one product line; fails with a message when it does not fit the header.
    pub fn insert(&mut self, line: ProductPrediction) -> Result<(), String> {
        let mut read = LineIn {
            product_id: Some(Text(Cow::Borrowed(&line.product_id))),
            split: line.split,
            fold: line.fold,
            photos: line.photos.as_ref().map(Cow::Borrowed),
            ..Default::default()
        };
        for (task, prediction) in &line.tasks {
            let slot = &mut read.tasks[task.index()];
            slot.present = true;
            slot.label = prediction.label.as_deref().map(|l| Text(Cow::Borrowed(l)));
            for (class, probability) in &prediction.top {
                slot.push(
                    &self.class_numbers[task.index()],
                    Text(Cow::Borrowed(class)),
                    *probability,
                );
            }
        }
        self.insert_read(&read)
    }

    /// Checks a line against the header, then adds it whole (or nothing).
    fn insert_read(&mut self, line: &LineIn<'_>) -> Result<(), String> {
        let id = line.product_id.as_ref().map_or("", |id| &*id.0);
        if self.ids.find(id).is_some() {
            return Err(format!("duplicate product '{id}' (the first is kept)"));
        }
        let fold = pack_fold(line.fold)?;
        if let Some(parts) = &line.photos {
            check_photos(parts)?;
        }
        for task in Task::ALL {
            let prediction = &line.tasks[task.index()];
            if !prediction.present {
                continue;
            }
            let classes = &self.classes[task.index()];
            if classes.is_empty() {
                return Err(format!("task {task} has no classes in the header"));
            }
            if prediction.len > MAX_TOP {
                return Err(format!(
                    "task {task}: {} classes in top, at most {MAX_TOP}",
                    prediction.len
                ));
            }
            for (i, &(number, probability)) in prediction.top[..prediction.len].iter().enumerate() {
                if let Some((_, class)) = prediction.unknown.as_ref().filter(|(at, _)| *at == i) {
                    return Err(format!(
                        "task {task}: class '{}' is not in the header",
                        class.0
                    ));
                }
                if !(0.0..=1.0).contains(&probability) {
                    return Err(format!(
                        "task {task}: probability {probability} of '{}' is not in 0..1",
                        classes[number as usize]
                    ));
                }
            }
        }
        let first = u32::try_from(self.top.len())
            .ok()
            .filter(|first| first.checked_add(5 * MAX_TOP as u32).is_some())
            .ok_or("too many predictions for one file")?;
        let mut labels = [NO_LABEL; 5];
        let mut counts = [ABSENT; 5];
        for task in Task::ALL {
            let (i, prediction) = (task.index(), &line.tasks[task.index()]);
            if !prediction.present {
                continue;
            }
            counts[i] = prediction.len as u8;
            self.top
                .extend_from_slice(&prediction.top[..prediction.len]);
            if let Some(label) = &prediction.label {
                labels[i] = self.labels[i].intern(&label.0);
            }
        }
        self.ids.push(id);
        let row = self.lines.len();
        self.lines.push(Line {
            first,
            labels,
            counts,
            split: line.split,
            fold,
        });
        if let Some(parts) = &line.photos {
            self.photos.resize(row, None);
            self.photos.push(Some(PhotoShares::of(parts)));
        } else if !self.photos.is_empty() {
            self.photos.push(None);
        }
        Ok(())
    }

    /// Reads a predictions file; malformed product lines become warnings.
    pub fn read(path: &Path) -> Result<Predictions, PredictionsError> {
        Self::read_with_progress(path, &|_, _| true)
    }

    /// [`Predictions::read`], telling `progress` how far it got (bytes read, file size) every
    /// few thousand lines; its answering `false` stops the read
    /// ([`PredictionsError::Cancelled`]).
    pub fn read_with_progress(
        path: &Path,
        progress: &dyn Fn(u64, u64) -> bool,
    ) -> Result<Predictions, PredictionsError> {
        let io = |reason| PredictionsError::Io {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut first = String::new();
        let mut done = reader.read_line(&mut first).map_err(io)? as u64;
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
        let mut spill = Vec::new();
        let mut number = 1u64;
        loop {
            let buffer = reader.fill_buf().map_err(io)?;
            if buffer.is_empty() {
                break;
            }
            // Lines are parsed where they lie in the reader's buffer; only one that straddles
            // the buffer's end is copied out.
            let (line, used, spilled) = match memchr::memchr(b'\n', buffer) {
                Some(end) => (&buffer[..end], end + 1, false),
                None => {
                    spill.clear();
                    let read = reader.read_until(b'\n', &mut spill).map_err(io)?;
                    (&spill[..], read, true)
                }
            };
            done += used as u64;
            number += 1;
            if number == 2 {
                predictions.reserve_index(size / (used as u64).max(MIN_LINE_GUESS));
            }
            // Bytes, not a String: a line of invalid UTF-8 is one warning, not the end.
            let text = match std::str::from_utf8(line) {
                Ok(text) => Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(line),
            };
            let text = text.trim();
            if !text.is_empty() {
                let mut read = LineIn::default();
                let mut json = serde_json::Deserializer::from_str(text);
                let outcome = serde::de::DeserializeSeed::deserialize(
                    LineSeed {
                        line: &mut read,
                        classes: &predictions.class_numbers,
                    },
                    &mut json,
                )
                .and_then(|()| json.end())
                .map_err(|e| e.to_string())
                .and_then(|()| predictions.insert_read(&read));
                if let Err(message) = outcome {
                    predictions.warn(number, message);
                }
            }
            if !spilled {
                reader.consume(used);
            }
            if number.is_multiple_of(PROGRESS_EVERY) && !progress(done, size) {
                return Err(PredictionsError::Cancelled(path.to_path_buf()));
            }
        }
        predictions.shrink();
        Ok(predictions)
    }

    /// Makes room in the id index for about `lines` lines (guessed from the file's size and
    /// its first line): growing step by step rehashes every id at each step.
    fn reserve_index(&mut self, lines: u64) {
        self.ids.reserve(lines.min(u32::MAX as u64) as usize);
    }

    /// Gives back what the buffers reserved while growing.
    fn shrink(&mut self) {
        self.lines.shrink_to_fit();
        self.top.shrink_to_fit();
        self.photos.shrink_to_fit();
        self.ids.shrink();
    }

    fn warn(&mut self, line: u64, message: String) {
        keep_warning(&mut self.warnings, &mut self.warnings_total, line, message);
    }

    /// Number of products with predictions.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no product has predictions.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether the model has a head for `task`.
    pub fn has_task(&self, task: Task) -> bool {
        !self.classes[task.index()].is_empty()
    }

    /// The line of `product`, for repeated look-ups without hashing its id.
    pub fn row(&self, product: &str) -> Option<u32> {
        self.ids.find(product)
    }

    /// The product id of line `row`.
    pub fn product_id(&self, row: u32) -> Option<&str> {
        ((row as usize) < self.lines.len()).then(|| self.ids.get(row))
    }

    /// The best classes (head class number, probability) of `task` on line `row`, most probable
    /// first; `None` when the line does not predict the task.
    fn task_top(&self, row: u32, task: Task) -> Option<&[(u32, f32)]> {
        let line = self.lines.get(row as usize)?;
        let count = line.counts[task.index()];
        if count == ABSENT {
            return None;
        }
        let before: usize = line.counts[..task.index()]
            .iter()
            .filter(|&&c| c != ABSENT)
            .map(|&c| c as usize)
            .sum();
        let start = line.first as usize + before;
        Some(&self.top[start..start + count as usize])
    }

    /// Which photo decided line `row`'s prediction, when the file says (multi-image runs).
    pub fn photos_at(&self, row: u32) -> Option<PhotoShares> {
        self.photos.get(row as usize).copied().flatten()
    }

    /// Whether any line says which photo decided.
    pub fn has_photos(&self) -> bool {
        // Filled only from the first line that says.
        !self.photos.is_empty()
    }

    /// [`Predictions::top`] by line.
    pub fn top_at(&self, row: u32, task: Task) -> Vec<(&str, f32)> {
        let names = &self.classes[task.index()];
        self.task_top(row, task)
            .map(|top| {
                top.iter()
                    .map(|&(class, p)| (&*names[class as usize], p))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// [`Predictions::predicted`] by line.
    pub fn predicted_at(&self, row: u32, task: Task) -> Option<&str> {
        let class = self.predicted_index_at(row, task)?;
        Some(&self.classes[task.index()][class as usize])
    }

    /// Position in the header's class list of `task` of the model's best class, by line.
    pub fn predicted_index_at(&self, row: u32, task: Task) -> Option<u32> {
        self.task_top(row, task)?.first().map(|&(class, _)| class)
    }

    /// [`Predictions::confidence`] by line.
    pub fn confidence_at(&self, row: u32, task: Task) -> Option<f32> {
        self.task_top(row, task)?.first().map(|&(_, p)| p)
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

    /// The label of `task` on line `row` when the run read it.
    fn label_at(&self, row: u32, task: Task) -> Option<&str> {
        let line = self.lines.get(row as usize)?;
        let label = line.labels[task.index()];
        (label != NO_LABEL).then(|| &*self.labels[task.index()].names[label as usize])
    }

    /// The product's label for `task` when the run read it.
    pub fn label_at_prediction(&self, product: &str, task: Task) -> Option<&str> {
        self.label_at(self.row(product)?, task)
    }

    /// [`Predictions::split`] by line.
    pub fn split_at(&self, row: u32) -> Option<Split> {
        self.lines.get(row as usize)?.split
    }

    /// The product's split in the run.
    pub fn split(&self, product: &str) -> Option<Split> {
        self.split_at(self.row(product)?)
    }

    /// The audit fold whose model predicted line `row`, if any.
    pub fn fold_at(&self, row: u32) -> Option<u32> {
        unpack_fold(self.lines.get(row as usize)?.fold)
    }

    /// Whether line `row`'s prediction is in-sample, held-out or out-of-fold
    /// ([`Provenance::of`]); `None` for a product the run did not use, or no such line.
    pub fn provenance_at(&self, row: u32) -> Option<Provenance> {
        let line = self.lines.get(row as usize)?;
        Provenance::of(line.split, unpack_fold(line.fold))
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
            let Some(row) = self.row(&product.id) else {
                continue;
            };
            let mut tasks = BTreeMap::new();
            for task in Task::ALL {
                if self.task_top(row, task).is_some() {
                    tasks.insert(
                        task,
                        TaskPrediction {
                            label: self.label_at(row, task).map(String::from),
                            top: self
                                .top_at(row, task)
                                .into_iter()
                                .map(|(c, p)| (c.to_string(), p))
                                .collect(),
                        },
                    );
                }
            }
            writer.write(&ProductPrediction {
                product_id: product.id.to_string(),
                split: self.split_at(row),
                fold: self.fold_at(row),
                tasks,
                photos: None,
            })?;
        }
        writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_photo_decided_is_read_from_version_2_lines_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let header = r#"{"format":"vitrine-predictions","version":2,"run":"r","classes":{"colour":["Red","Blue"],"gender":["Men","Women"]}}"#;
        let task = r#""tasks":{"colour":{"label":"Red","top":[["Red",0.9]]}}"#;
        let lines = [
            // Before any line with photos, and after: none.
            format!(r#"{{"product_id":"a",{task}}}"#),
            format!(
                r#"{{"product_id":"b",{task},"photos":{{"won":[0.25,0.75],"tasks":{{"colour":{{"without":[0.8,0.3],"decided_by":1}},"gender":{{"without":[0.5,0.5]}}}}}}}}"#
            ),
            format!(r#"{{"product_id":"c",{task}}}"#),
            // Damaged: a task's list is not as long as won; decided_by out of range; too many.
            format!(
                r#"{{"product_id":"d",{task},"photos":{{"won":[0.5,0.5],"tasks":{{"colour":{{"without":[0.8]}}}}}}}}"#
            ),
            format!(
                r#"{{"product_id":"e",{task},"photos":{{"won":[0.5,0.5],"tasks":{{"colour":{{"without":[0.8,0.1],"decided_by":2}}}}}}}}"#
            ),
            format!(
                r#"{{"product_id":"f",{task},"photos":{{"won":[0,0,0,0,0,0,0,0,1],"tasks":{{}}}}}}"#
            ),
        ];
        std::fs::write(&path, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
        let p = Predictions::read(&path).unwrap();
        assert!(p.has_photos());
        assert_eq!(p.len(), 3);
        let b = p.photos_at(p.row("b").unwrap()).unwrap();
        assert_eq!(b.photos(), 2);
        assert_eq!(b.decided_by(Task::Colour), Some(1));
        assert_eq!(b.decided_by(Task::Gender), None, "no photo lowers it");
        assert!((b.won(1) - 0.75).abs() < 1.0 / 255.0);
        assert_eq!(b.won(5), 0.0);
        assert_eq!(p.photos_at(p.row("a").unwrap()), None);
        assert_eq!(p.photos_at(p.row("c").unwrap()), None);
        let warned: Vec<u64> = p.warnings.iter().map(|w| w.line).collect();
        assert_eq!(warned, vec![5, 6, 7]);
        assert!(
            p.warnings[2].message.contains("at most 8"),
            "{}",
            p.warnings[2].message
        );

        // Written and read back; a version-1 file (without photos) still reads.
        let mut written = Predictions::new(Header::new("r", p.header.classes.clone()));
        let line = ProductPrediction {
            product_id: "x".into(),
            split: None,
            fold: None,
            tasks: BTreeMap::new(),
            photos: Some(PhotoParts {
                won: vec![1.0, 0.0],
                tasks: [(
                    Task::Colour,
                    PhotoTask {
                        without: vec![0.2, 0.9],
                        decided_by: Some(0),
                    },
                )]
                .into(),
            }),
        };
        let text = serde_json::to_string(&line).unwrap();
        assert!(text.contains(r#""photos":{"won":[1.0,0.0]"#), "{text}");
        written.insert(line).unwrap();
        assert_eq!(
            written.photos_at(0).unwrap().decided_by(Task::Colour),
            Some(0)
        );
        assert_eq!(Header::new("r", BTreeMap::new()).version, 2);
        let old = dir.path().join("old.jsonl");
        std::fs::write(
            &old,
            format!(
                "{}\n{}\n",
                header.replace(r#""version":2"#, r#""version":1"#),
                lines[0]
            ),
        )
        .unwrap();
        let p = Predictions::read(&old).unwrap();
        assert_eq!((p.len(), p.has_photos()), (1, false));
    }

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
    fn escaped_strings_repeated_keys_and_long_lists_read_as_the_format_says() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = concat!(
            r#"{"format":"vitrine-predictions","version":1,"run":"r","classes":{"colour":["Red","Navy \"Blue\"","other"]}}"#,
            "\n",
            // Escapes (owned strings), an unknown key, a repeated task (the last wins).
            r#"{"product_id":"a\u00e9","extra":[1,{"x":2}],"tasks":{"colour":{"label":"Red","top":[["Red",0.1]]},"colour":{"label":"R\u0065d","top":[["Navy \"Blue\"",0.7],["Red",0.2]]}}}"#,
            "\n",
            r#"{"product_id":"b","tasks":{"colour":{"label":null,"top":[["Red",0.1],["Red",0.1],["Red",0.1],["Red",0.1],["Red",0.1],["Purple",0.1]]}}}"#,
            "\n",
            r#"{"product_id":"c","tasks":{"colour":{"label":null}}}"#,
            "\n",
            r#"{"tasks":{}}"#,
            "\n",
            r#"{"product_id":"d","tasks":{"colour":{"label":null,"top":[["Red",2.0],["Purple",0.1]]}}}"#,
            "\n",
            r#"{"product_id":"e","tasks":{"colour":{"top":[]},"gender":{"top":[]}}}"#,
            "\n",
            r#"{"product_id":"f","split":"train","tasks":{"colour":{"label":"Red","top":[]}}}"#,
        );
        std::fs::write(&path, text).unwrap();
        let p = Predictions::read(&path).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            p.top("aé", Task::Colour),
            vec![("Navy \"Blue\"", 0.7), ("Red", 0.2)]
        );
        assert_eq!(p.label_at_prediction("aé", Task::Colour), Some("Red"));
        assert_eq!(p.product_id(0), Some("aé"));
        // A task with an empty list is there (with its label), without a best class.
        assert_eq!(p.label_at_prediction("f", Task::Colour), Some("Red"));
        assert_eq!(p.predicted("f", Task::Colour), None);
        assert_eq!(p.split("f"), Some(Split::Train));
        let messages: Vec<(u64, &str)> = p
            .warnings
            .iter()
            .map(|w| (w.line, w.message.as_str()))
            .collect();
        assert_eq!(messages.len(), 5, "{messages:?}");
        assert_eq!(messages[0], (3, "task colour: 6 classes in top, at most 5"));
        assert!(
            messages[1].1.starts_with("missing field `top`"),
            "{messages:?}"
        );
        assert!(
            messages[2].1.starts_with("missing field `product_id`"),
            "{messages:?}"
        );
        // Checked in the list's order: the probability before the unknown class.
        assert_eq!(
            messages[3],
            (6, "task colour: probability 2 of 'Red' is not in 0..1")
        );
        assert_eq!(messages[4], (7, "task gender has no classes in the header"));
    }

    #[test]
    fn folds_and_the_header_kind_are_read_written_and_say_the_provenance() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let text = concat!(
            r#"{"format":"vitrine-predictions","version":1,"run":"r","classes":{"colour":["Red","Blue"]},"kind":"out-of-fold"}"#,
            "\n",
            r#"{"product_id":"a","split":"train","fold":3,"tasks":{"colour":{"label":"Red","top":[["Blue",0.7]]}}}"#,
            "\n",
            r#"{"product_id":"b","split":"train","tasks":{"colour":{"label":"Red","top":[["Red",0.9]]}}}"#,
            "\n",
            r#"{"product_id":"c","split":"validation","fold":null,"tasks":{"colour":{"label":null,"top":[]}}}"#,
            "\n",
            r#"{"product_id":"d","split":null,"tasks":{"colour":{"label":null,"top":[]}}}"#,
            "\n",
            r#"{"product_id":"e","split":null,"fold":65535,"tasks":{"colour":{"label":null,"top":[]}}}"#,
            "\n",
        );
        std::fs::write(&path, text).unwrap();
        let p = Predictions::read(&path).unwrap();
        assert_eq!(p.header.kind, Some(FileKind::OutOfFold));
        let row = |id| p.row(id).unwrap();
        assert_eq!(p.fold_at(row("a")), Some(3));
        assert_eq!(p.fold_at(row("b")), None);
        assert_eq!(p.provenance_at(row("a")), Some(Provenance::OutOfFold));
        assert_eq!(p.provenance_at(row("b")), Some(Provenance::InSample));
        assert_eq!(p.provenance_at(row("c")), Some(Provenance::HeldOut));
        assert_eq!(p.provenance_at(row("d")), None);
        assert_eq!(p.provenance_at(99), None);
        assert_eq!(p.len(), 4);
        assert_eq!(
            p.warnings,
            vec![LineWarning {
                line: 6,
                message: "fold 65535 is beyond the largest, 65534".into(),
            }]
        );

        // Written back: the fold and the kind stay; a line without a fold writes none.
        let mut catalog = Catalog::new("/tmp");
        for id in ["a", "b", "c", "d"] {
            catalog
                .push(crate::catalog::ProductDraft {
                    id: id.into(),
                    ..Default::default()
                })
                .unwrap();
        }
        let again = dir.path().join("again.jsonl");
        p.write(&again, &catalog).unwrap();
        let written = std::fs::read_to_string(&again).unwrap();
        assert!(
            written
                .lines()
                .next()
                .unwrap()
                .contains(r#""kind":"out-of-fold""#)
        );
        assert!(
            written.contains(r#""split":"train","fold":3,"#),
            "{written}"
        );
        assert_eq!(written.matches("\"fold\"").count(), 1, "{written}");
        let q = Predictions::read(&again).unwrap();
        assert_eq!(q.fold_at(q.row("a").unwrap()), Some(3));
        assert_eq!(q.header, p.header);
    }

    #[test]
    fn a_file_without_kind_or_folds_reads_as_before_and_writes_neither() {
        let header = Header::new("r", [(Task::Colour, vec!["Red".to_string()])].into());
        let json = serde_json::to_string(&header).unwrap();
        assert!(!json.contains("kind"), "{json}");
        let line = ProductPrediction {
            product_id: "a".into(),
            split: Some(Split::Test),
            fold: None,
            tasks: BTreeMap::new(),
            photos: None,
        };
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(json, r#"{"product_id":"a","split":"test","tasks":{}}"#);
        let mut p = Predictions::new(header);
        p.insert(line).unwrap();
        assert_eq!(
            (p.fold_at(0), p.provenance_at(0)),
            (None, Some(Provenance::HeldOut))
        );
        // A fold keeps each line in the 32 bytes it took before.
        assert_eq!(std::mem::size_of::<Line>(), 32);
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
