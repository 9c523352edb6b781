//! Opening a catalogue, as plain data: what is asked for ([`OpenRequest`], also what the
//! recent list remembers), what an open produced ([`Opened`]), and the stages the open worker
//! reports and the progress view shows ("stage 2 of 4: opening the label store").

use crate::catalog::import::Source;
use crate::catalog::{Catalog, Task, Taxonomy};
use crate::labels::{DetachedStore, Edit, Review};
use crate::runs::predictions::Predictions;
use crate::runs::provenance::Provenance;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A catalogue to open and how; also what the recent list remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRequest {
    /// The catalogue and how to read it.
    #[serde(flatten)]
    pub source: Source,
    /// Label store file, when not the default location.
    #[serde(default)]
    pub store: Option<PathBuf>,
}

impl OpenRequest {
    /// Opens `path` with the default options.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        OpenRequest {
            source: Source::new(path),
            store: None,
        }
    }
}

/// A remembered catalogue.
pub type Recent = OpenRequest;

/// Predictions lined up with a catalogue.
#[derive(Debug, Clone)]
pub struct LoadedPredictions {
    /// The predictions.
    pub predictions: Arc<Predictions>,
    /// Per catalogue position, the product's line.
    pub rows: Arc<Vec<Option<u32>>>,
    /// Where the predictions come from, line by line, counted.
    pub provenance: ProvenanceMix,
}

/// How many predictions are of each provenance: whether the model saw the labels it is
/// compared with wherever predictions are ranked or filtered by disagreement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProvenanceMix {
    /// Predictions of products the model trained on.
    pub in_sample: usize,
    /// Predictions of a run's validation and test products.
    pub held_out: usize,
    /// Predictions by the fold model that did not train on the product.
    pub out_of_fold: usize,
}

impl ProvenanceMix {
    /// The lines of `predictions`, counted by provenance.
    pub fn of(predictions: &Predictions) -> Self {
        let mut mix = ProvenanceMix::default();
        for row in 0..predictions.len() as u32 {
            mix.add(predictions.provenance_at(row));
        }
        mix
    }

    /// One prediction's (none: a product the run did not use).
    pub fn one(provenance: Option<Provenance>) -> Self {
        let mut mix = ProvenanceMix::default();
        mix.add(provenance);
        mix
    }

    fn add(&mut self, provenance: Option<Provenance>) {
        match provenance {
            Some(Provenance::InSample) => self.in_sample += 1,
            Some(Provenance::HeldOut) => self.held_out += 1,
            Some(Provenance::OutOfFold) => self.out_of_fold += 1,
            None => {}
        }
    }

    /// The words that say which predictions are shown (`out-of-fold`, `held-out`,
    /// `in-sample (biased)`, or each with its count when mixed, the biased first), and whether
    /// any is biased (then shown as a warning); `None` when no line says.
    pub fn words(&self) -> Option<(String, bool)> {
        let parts: Vec<(Provenance, usize)> = [
            (Provenance::InSample, self.in_sample),
            (Provenance::HeldOut, self.held_out),
            (Provenance::OutOfFold, self.out_of_fold),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
        let text = match parts.as_slice() {
            [] => return None,
            [(only, _)] => only.label().to_string(),
            mixed => mixed
                .iter()
                .map(|(p, n)| format!("{} {n}", p.label()))
                .collect::<Vec<_>>()
                .join(", "),
        };
        Some((text, self.in_sample > 0))
    }
}

/// Everything an open produced.
#[derive(Debug)]
pub struct Opened {
    /// What was opened.
    pub request: OpenRequest,
    /// The label store with what it needs of the catalogue, for the store worker.
    pub workspace: DetachedStore,
    /// The catalogue: the window's, and the only one.
    pub catalog: Arc<Catalog>,
    /// Its taxonomy.
    pub taxonomy: Taxonomy,
    /// Positions of products with at least one journal entry.
    pub edited: HashSet<u32>,
    /// The latest journal entries, oldest first.
    pub recent_edits: Vec<Edit>,
    /// The standing reviews of products in the catalogue, by position and task.
    pub reviews: HashMap<(u32, Task), Review>,
    /// Predictions found beside the catalogue.
    pub predictions: Option<LoadedPredictions>,
    /// What happened to the predictions (none found, read with warnings, failed).
    pub predictions_note: String,
    /// The folder the catalogue lives in (where dialogs start).
    pub folder: PathBuf,
    /// How long the open took.
    pub elapsed: Duration,
    /// How long each stage took (reading the predictions: waiting for their thread).
    pub stages: StageTimes,
    /// How long reading the predictions took on their own thread, if there were any.
    pub predictions_time: Option<Duration>,
}

/// A one-line account of a predictions file just read.
pub fn read_note(predictions: &Predictions, path: &Path) -> String {
    let mut note = format!("{} products from {}", predictions.len(), path.display());
    if predictions.warnings_total > 0 {
        note.push_str(&format!(
            " ({} lines skipped, see Warnings)",
            predictions.warnings_total
        ));
    }
    note
}

/// One stage of opening a catalogue, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpenStage {
    /// Reading the catalogue file and checking its images (its fraction: bytes read).
    ReadCatalogue,
    /// Opening the label store, recording the products and applying the saved edits.
    OpenStore,
    /// Reading the predictions beside the catalogue (started with the catalogue, on a thread
    /// of its own; its fraction: bytes read).
    ReadPredictions,
    /// Lining the predictions up with the products and building the taxonomy.
    PrepareGrid,
}

impl OpenStage {
    /// Every stage in order.
    pub const ALL: [OpenStage; 4] = [
        OpenStage::ReadCatalogue,
        OpenStage::OpenStore,
        OpenStage::ReadPredictions,
        OpenStage::PrepareGrid,
    ];

    /// 1-based number of the stage.
    pub fn number(self) -> usize {
        self as usize + 1
    }

    /// What the stage does, in words.
    pub fn name(self) -> &'static str {
        match self {
            OpenStage::ReadCatalogue => "reading the catalogue",
            OpenStage::OpenStore => "opening the label store",
            OpenStage::ReadPredictions => "reading the predictions",
            OpenStage::PrepareGrid => "preparing the grid",
        }
    }

    /// The stage as the progress view titles it: `stage 2 of 4: opening the label store`.
    pub fn title(self) -> String {
        format!(
            "stage {} of {}: {}",
            self.number(),
            Self::ALL.len(),
            self.name()
        )
    }
}

/// How long each stage of an open took, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimes {
    /// The stages and their times.
    pub stages: Vec<(OpenStage, Duration)>,
    /// When the running stage started.
    running: Option<Instant>,
}

impl StageTimes {
    /// Ends the running stage, if any, and starts `stage`.
    pub fn start(&mut self, stage: OpenStage) {
        self.finish();
        self.stages.push((stage, Duration::ZERO));
        self.running = Some(Instant::now());
    }

    /// Ends the running stage, if any.
    pub fn finish(&mut self) {
        if let (Some(since), Some((_, time))) = (self.running.take(), self.stages.last_mut()) {
            *time = since.elapsed();
        }
    }
}

impl std::fmt::Display for StageTimes {
    /// `reading the catalogue 2.31 s, opening the label store 0.40 s, ...`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (stage, time)) in self.stages.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {:.2} s", stage.name(), time.as_secs_f64())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provenance_words_say_which_predictions_and_mark_in_sample_ones_biased() {
        assert_eq!(ProvenanceMix::default().words(), None);
        assert_eq!(ProvenanceMix::one(None).words(), None);
        assert_eq!(
            ProvenanceMix::one(Some(Provenance::OutOfFold)).words(),
            Some(("out-of-fold".to_string(), false))
        );
        assert_eq!(
            ProvenanceMix::one(Some(Provenance::HeldOut)).words(),
            Some(("held-out".to_string(), false))
        );
        let run = ProvenanceMix {
            in_sample: 240,
            held_out: 60,
            out_of_fold: 0,
        };
        assert_eq!(
            run.words(),
            Some(("in-sample (biased) 240, held-out 60".to_string(), true))
        );
        assert_eq!(
            ProvenanceMix::one(Some(Provenance::InSample)).words(),
            Some(("in-sample (biased)".to_string(), true))
        );
    }

    #[test]
    fn stages_are_numbered_in_order() {
        let numbers: Vec<usize> = OpenStage::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);
        assert!(OpenStage::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            OpenStage::OpenStore.title(),
            "stage 2 of 4: opening the label store"
        );
        let times = StageTimes {
            stages: vec![
                (OpenStage::ReadCatalogue, Duration::from_millis(2310)),
                (OpenStage::OpenStore, Duration::from_millis(400)),
            ],
            running: None,
        };
        assert_eq!(
            times.to_string(),
            "reading the catalogue 2.31 s, opening the label store 0.40 s"
        );
        let mut clock = StageTimes::default();
        clock.start(OpenStage::ReadCatalogue);
        std::thread::sleep(Duration::from_millis(5));
        clock.start(OpenStage::OpenStore);
        clock.finish();
        let stages: Vec<OpenStage> = clock.stages.iter().map(|s| s.0).collect();
        assert_eq!(stages, [OpenStage::ReadCatalogue, OpenStage::OpenStore]);
        assert!(clock.stages[0].1 >= Duration::from_millis(5));
    }
}
