//! The review of others' changes in the window: the queue the store worker last read, the
//! filter it was read with, and whether a newer read is on its way.

use crate::labels::change_review::{ChangeQueue, QueueFilter};

/// The Changes panel's state.
#[derive(Debug, Default)]
pub struct ChangesState {
    /// Which changes to show.
    pub filter: QueueFilter,
    /// The queue as last read (`None`: not read yet).
    pub queue: Option<ChangeQueue>,
    /// Why the last read failed.
    pub error: Option<String>,
    /// A read is on its way.
    pub asking: bool,
    /// Something changed since the read on its way was asked for: ask again when it comes.
    pub stale: bool,
}

impl ChangesState {
    /// The number of entries of `batch` in the queue shown.
    pub fn batch_len(&self, batch: i64) -> usize {
        self.queue
            .as_ref()
            .map_or(0, |q| q.changes.iter().filter(|e| e.batch == batch).count())
    }
}
