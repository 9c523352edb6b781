//! One entry of the edit journal.

use crate::catalog::Task;
use crate::catalog::text::{escape, printable};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// Where a label change came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EditSource {
    /// A moderator typed or picked the value.
    Human,
    /// A moderator accepted the model's prediction.
    AcceptedPrediction,
    /// Part of a bulk relabel or an applied edit file.
    Bulk,
    /// Reverted an earlier change.
    Undo,
    /// Re-applied an undone change.
    Redo,
    /// A reviewer reverted someone's change.
    Revert,
}

impl EditSource {
    /// Name as stored and printed.
    pub fn name(self) -> &'static str {
        match self {
            EditSource::Human => "human",
            EditSource::AcceptedPrediction => "accepted-prediction",
            EditSource::Bulk => "bulk",
            EditSource::Undo => "undo",
            EditSource::Redo => "redo",
            EditSource::Revert => "revert",
        }
    }
}

impl fmt::Display for EditSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EditSource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "human" => Ok(EditSource::Human),
            "accepted-prediction" => Ok(EditSource::AcceptedPrediction),
            "bulk" => Ok(EditSource::Bulk),
            "undo" => Ok(EditSource::Undo),
            "redo" => Ok(EditSource::Redo),
            "revert" => Ok(EditSource::Revert),
            other => Err(format!("unknown edit source '{other}'")),
        }
    }
}

/// A label change as recorded in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    /// Journal sequence number (increasing).
    pub id: i64,
    /// Edits made together (a bulk relabel) share a batch and are undone together.
    pub batch: i64,
    /// The product id.
    pub product: String,
    /// The task.
    pub task: Task,
    /// The label before (`None`: no label).
    pub old: Option<String>,
    /// The label after (`None`: label cleared).
    pub new: Option<String>,
    /// Who made it.
    pub author: String,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Where it came from.
    pub source: EditSource,
    /// Optional free text.
    pub reason: Option<String>,
    /// For undo and redo entries, the journal entry they revert or re-apply.
    pub reverts: Option<i64>,
}

impl Edit {
    /// Time as RFC 3339 (UTC, seconds).
    pub fn time(&self) -> String {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(self.time_ms as u64);
        humantime::format_rfc3339_seconds(time).to_string()
    }
}

impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {} {}: {} -> {} ({}, {})",
            self.id,
            self.time(),
            printable(&self.product),
            self.task,
            printable(self.old.as_deref().unwrap_or("(none)")),
            printable(self.new.as_deref().unwrap_or("(none)")),
            printable(&self.author),
            self.source
        )?;
        if let Some(reason) = &self.reason {
            write!(f, " \"{}\"", escape(reason, true))?;
        }
        Ok(())
    }
}
