//! The Map view: the 2-D layout of the representation of the run or audit whose predictions
//! are shown, coloured by a task's label, its prediction, or where the two disagree. Plain
//! data: the layout is computed (or read from the run folder's `map.json`) on a worker, and
//! the colours are worked out here when the map, the colouring or a label changes, never
//! while drawing.

use super::state::Session;
use crate::catalog::Task;
use crate::similarity::map::MapProgress;
use crate::similarity::map_colours::{AGREES, DISAGREES, LegendEntry, MISSING, colour_classes};
use std::path::PathBuf;

/// What the points' colours show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourBy {
    /// The task's label.
    Label(Task),
    /// The model's best class for the task.
    Prediction(Task),
    /// Whether the prediction disagrees with the label.
    Disagrees(Task),
}

impl ColourBy {
    /// The task coloured.
    pub fn task(self) -> Task {
        match self {
            ColourBy::Label(t) | ColourBy::Prediction(t) | ColourBy::Disagrees(t) => t,
        }
    }

    /// The same colouring of another task.
    pub fn with_task(self, task: Task) -> ColourBy {
        match self {
            ColourBy::Label(_) => ColourBy::Label(task),
            ColourBy::Prediction(_) => ColourBy::Prediction(task),
            ColourBy::Disagrees(_) => ColourBy::Disagrees(task),
        }
    }
}

/// How a primary-button drag on the map chooses products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectTool {
    /// The rectangle between where the drag began and where it is.
    Box,
    /// The free-hand outline the pointer draws (closed by a straight line).
    Lasso,
}

/// A map shown: the products found in the open catalogue, with their places and colours.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownMap {
    /// The predictions file whose run's representation was laid out.
    pub predictions: PathBuf,
    /// What was laid out, how, and whether it was read from the run folder.
    pub note: String,
    /// Each point's place.
    pub points: Vec<[f32; 2]>,
    /// Each point's catalogue position.
    pub positions: Vec<u32>,
    /// Each point's colour, for [`MapState::colour_by`].
    pub colours: Vec<[u8; 3]>,
    /// What the colours mean.
    pub legend: Vec<LegendEntry>,
    /// Changes whenever the colours do (unique in the process): what a cache of the drawn
    /// points is keyed by.
    pub revision: u64,
}

/// The next [`ShownMap::revision`].
fn next_revision() -> u64 {
    static REVISIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    REVISIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl ShownMap {
    /// The index of the point of catalogue `position`, if it is on the map.
    pub fn point_of(&self, position: u32) -> Option<usize> {
        self.positions.iter().position(|&p| p == position)
    }

    /// Works the colours out again from the session's labels and predictions.
    pub fn recolour(&mut self, session: &Session, colour_by: ColourBy) {
        self.revision = next_revision();
        let task = colour_by.task();
        match colour_by {
            ColourBy::Label(_) | ColourBy::Prediction(_) => {
                let names: Vec<Option<&str>> = self
                    .positions
                    .iter()
                    .map(|&p| match colour_by {
                        ColourBy::Label(_) => session.label(p, task),
                        _ => session.top(p, task).first().map(|&(name, _)| name),
                    })
                    .collect();
                (self.colours, self.legend) = colour_classes(&names, task == Task::Colour);
            }
            ColourBy::Disagrees(_) => {
                let mut counts = [0usize; 3];
                self.colours = self
                    .positions
                    .iter()
                    .map(|&p| {
                        let judged =
                            session.label(p, task).is_some() && !session.top(p, task).is_empty();
                        let (slot, colour) = if !judged {
                            (2, MISSING)
                        } else if session.disagrees(p, task) {
                            (0, DISAGREES)
                        } else {
                            (1, AGREES)
                        };
                        counts[slot] += 1;
                        colour
                    })
                    .collect();
                self.legend = [
                    ("disagrees", DISAGREES),
                    ("agrees", AGREES),
                    ("no label or prediction", MISSING),
                ]
                .into_iter()
                .zip(counts)
                .filter(|&(_, count)| count > 0)
                .map(|((name, colour), count)| LegendEntry {
                    name: name.into(),
                    colour,
                    count,
                })
                .collect();
            }
        }
    }
}

/// The view's state.
#[derive(Debug, Clone)]
pub struct MapState {
    /// Counts the computations started; answers of older ones are dropped.
    pub generation: u64,
    /// What the colours show.
    pub colour_by: ColourBy,
    /// How a drag chooses products.
    pub select: SelectTool,
    /// The computation running, and where it stands once it says.
    pub running: Option<Option<MapProgress>>,
    /// The map shown, or why the last one failed.
    pub shown: Option<Result<ShownMap, String>>,
}

impl Default for MapState {
    fn default() -> Self {
        MapState {
            generation: 0,
            colour_by: ColourBy::Label(Task::Colour),
            select: SelectTool::Box,
            running: None,
            shown: None,
        }
    }
}

impl MapState {
    /// The map shown, if one is.
    pub fn map(&self) -> Option<&ShownMap> {
        self.shown.as_ref()?.as_ref().ok()
    }
}
