//! The Duplicates view: the clusters of the open catalogue (exact copies among its photos,
//! near duplicates by the representation of the run or audit shown), conflicting labels
//! first; plain data, the search runs on a worker.

use crate::similarity::duplicates::{DEFAULT_FRACTION, DuplicateReport};

/// The view's state.
#[derive(Debug, Clone)]
pub struct DuplicatesState {
    /// Counts the searches started; answers of older ones are dropped.
    pub generation: u64,
    /// Near duplicates: the fraction of the median nearest-neighbour distance.
    pub fraction: f32,
    /// Only exact copies, even with a run shown.
    pub exact_only: bool,
    /// A search is waiting for the store's "not duplicates" marks before it starts.
    pub waiting_for_marks: bool,
    /// The search running: photos compared and their total, once known.
    pub running: Option<(usize, usize)>,
    /// What the last search found (`Err`: why it failed), and what it searched.
    pub report: Option<Result<(DuplicateReport, String), String>>,
    /// Pairs of product ids marked not duplicates (from the store).
    pub apart: Vec<(String, String)>,
}

impl Default for DuplicatesState {
    fn default() -> Self {
        DuplicatesState {
            generation: 0,
            fraction: DEFAULT_FRACTION,
            exact_only: false,
            waiting_for_marks: false,
            running: None,
            report: None,
            apart: Vec::new(),
        }
    }
}
