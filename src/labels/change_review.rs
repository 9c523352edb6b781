//! Reviewing others' changes: a reviewer sees a queue of label changes nobody reviewed yet
//! (newest first, filterable by author, task and source) and approves or reverts each, or a
//! whole batch. A revert is itself a journal entry (source `revert`, naming the entry it
//! reverts), written only where the label still has the changed value; either verdict is kept
//! beside the entry, so the history shows each change as approved, reverted or unreviewed.
//!
//! The rules live here once ([`judge`]), over each engine's write transaction
//! ([`ReviewTx`]); in a team store only the reviewer role may give a verdict (grants and row
//! level security), in a file anyone may, but never on their own change.

use super::edit::{Edit, EditSource};
use super::store::{Attribution, JournalTx, NewEntry, StoreError, now_ms};
use crate::catalog::Task;
use crate::catalog::text::excerpt;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What a reviewer decided about a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The change stands, checked.
    Approved,
    /// The change was reverted (by a journal entry of its own).
    Reverted,
}

impl Verdict {
    /// Name as stored and printed.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Reverted => "reverted",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "approved" => Ok(Verdict::Approved),
            "reverted" => Ok(Verdict::Reverted),
            other => Err(format!("unknown verdict '{other}'")),
        }
    }
}

/// A verdict on one journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judgement {
    /// The entry judged.
    pub edit: i64,
    /// Approved or reverted.
    pub verdict: Verdict,
    /// Who judged it.
    pub reviewer: String,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// For a revert, the journal entry that reverted it.
    pub revert: Option<i64>,
}

impl fmt::Display for Judgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} by {}", self.verdict, excerpt(&self.reviewer))?;
        if let Some(revert) = self.revert {
            write!(f, " (#{revert})")?;
        }
        Ok(())
    }
}

/// Which changes a queue shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueFilter {
    /// Only this author's.
    pub author: Option<String>,
    /// Only this task's.
    pub task: Option<Task>,
    /// Only changes from this source (human, bulk or accepted-prediction).
    pub source: Option<EditSource>,
    /// At most this many, the newest.
    pub limit: usize,
}

impl Default for QueueFilter {
    fn default() -> Self {
        QueueFilter {
            author: None,
            task: None,
            source: None,
            limit: 200,
        }
    }
}

/// Changes waiting for a verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeQueue {
    /// The newest first, at most the filter's limit.
    pub changes: Vec<Edit>,
    /// How many match the filter in all.
    pub total: usize,
    /// The authors with changes waiting (for a filter), sorted.
    pub authors: Vec<String>,
}

/// A change a verdict was refused on, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The entry.
    pub edit: i64,
    /// Why nothing was done to it.
    pub reason: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}: {}", self.edit, self.reason)
    }
}

/// What a verdict on several changes did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Judged {
    /// The verdicts written.
    pub judgements: Vec<Judgement>,
    /// The revert entries written (one per reverted change), one batch.
    pub reverts: Vec<Edit>,
    /// The changes left as they were, and why.
    pub refused: Vec<Refusal>,
}

/// Whether entries from `source` are changes a reviewer judges (undo, redo and revert entries
/// are not: they follow from a change).
pub fn reviewable(source: EditSource) -> bool {
    matches!(
        source,
        EditSource::Human | EditSource::Bulk | EditSource::AcceptedPrediction
    )
}

/// What a verdict needs of an engine's write transaction beyond the journal's.
pub(crate) trait ReviewTx: JournalTx {
    /// Journal entry `id`.
    fn entry(&mut self, id: i64) -> Result<Option<Edit>, StoreError>;
    /// The ids of the entries of `batch`.
    fn batch_members(&mut self, batch: i64) -> Result<Vec<i64>, StoreError>;
    /// The verdict on entry `id`.
    fn judgement(&mut self, id: i64) -> Result<Option<Judgement>, StoreError>;
    /// Writes a verdict.
    fn write_judgement(&mut self, judgement: &Judgement) -> Result<(), StoreError>;
}

/// Gives `verdict` as `reviewer` on the entries `ids` (with `whole_batches`, on every entry
/// of their batches) in `tx`, and commits. A change is refused, and left as it is, where it
/// is the reviewer's own, judged already, not a change (an undo, say), or (for a revert) its
/// label changed since; the others are judged. Reverts walk newest first, so a label two of
/// the changes touched ends at its value before both.
pub(crate) fn judge(
    mut tx: impl ReviewTx,
    ids: &[i64],
    whole_batches: bool,
    reviewer: &str,
    verdict: Verdict,
) -> Result<Judged, StoreError> {
    let mut wanted: BTreeMap<i64, Option<Edit>> = BTreeMap::new();
    let mut judged = Judged::default();
    for &id in ids {
        match tx.entry(id)? {
            Some(entry) if whole_batches => {
                for member in tx.batch_members(entry.batch)? {
                    wanted.entry(member).or_default();
                }
                wanted.insert(id, Some(entry));
            }
            Some(entry) => {
                wanted.insert(id, Some(entry));
            }
            None => judged.refused.push(Refusal {
                edit: id,
                reason: "no such journal entry".into(),
            }),
        }
    }
    // Newest first; the batch members not read above are read once here.
    let mut entries = Vec::new();
    for (id, entry) in wanted.into_iter().rev() {
        match entry {
            Some(entry) => entries.push(entry),
            None => entries.extend(tx.entry(id)?),
        }
    }
    if verdict == Verdict::Approved {
        entries.reverse();
    }
    let time_ms = now_ms();
    let by = Attribution {
        author: reviewer.to_string(),
        source: EditSource::Revert,
        reason: None,
    };
    for entry in entries {
        let refuse = |reason: String| Refusal {
            edit: entry.id,
            reason,
        };
        if !reviewable(entry.source) {
            judged.refused.push(refuse(format!(
                "a {} entry, not a change to review",
                entry.source
            )));
            continue;
        }
        if entry.author == reviewer {
            judged
                .refused
                .push(refuse("your own change: another reviewer judges it".into()));
            continue;
        }
        if let Some(earlier) = tx.judgement(entry.id)? {
            judged.refused.push(refuse(format!("already {earlier}")));
            continue;
        }
        let revert = match verdict {
            Verdict::Approved => None,
            Verdict::Reverted => {
                let current = tx.current(&entry.product, entry.task)?;
                if let Some((found, by_entry)) = current.filter(|(value, _)| *value != entry.new) {
                    let who = tx.author_of(by_entry)?;
                    judged.refused.push(refuse(format!(
                        "the label is now {} (changed since by {}); not reverted",
                        found.map_or("unlabelled".into(), |v| format!("'{}'", excerpt(&v))),
                        excerpt(&who)
                    )));
                    continue;
                }
                let written = tx.insert(&NewEntry {
                    product: &entry.product,
                    task: entry.task,
                    old: entry.new.clone(),
                    new: entry.old.clone(),
                    by: &Attribution {
                        reason: Some(format!("revert of #{}", entry.id)),
                        ..by.clone()
                    },
                    time_ms,
                    batch: judged.reverts.first().map(|e| e.batch),
                    reverts: Some(entry.id),
                    position: judged.reverts.len(),
                })?;
                let id = written.id;
                judged.reverts.push(written);
                Some(id)
            }
        };
        let judgement = Judgement {
            edit: entry.id,
            verdict,
            reviewer: reviewer.to_string(),
            time_ms,
            revert,
        };
        tx.write_judgement(&judgement)?;
        judged.judgements.push(judgement);
    }
    tx.commit()?;
    Ok(judged)
}

/// The condition, in SQL over the journal table `edits` and the verdicts table `verdicts`, of
/// a change waiting for a verdict: a change (not an undo, redo or revert) by someone other
/// than the reviewer, in effect or retired while in effect (never undone), with no verdict.
/// `param(n)` writes parameter `n`: 1 the reviewer, 2 the author or NULL, 3 the task or NULL,
/// 4 the source or NULL; without `by_author` parameter 2 is not used (the authors of a queue).
pub(crate) fn waiting_sql(
    edits: &str,
    verdicts: &str,
    param: impl Fn(usize) -> String,
    by_author: bool,
) -> String {
    let sources: Vec<String> = [
        EditSource::Human,
        EditSource::Bulk,
        EditSource::AcceptedPrediction,
    ]
    .iter()
    .map(|s| format!("'{}'", s.name()))
    .collect();
    let author = if by_author {
        format!(" AND ({p} IS NULL OR author = {p})", p = param(2))
    } else {
        String::new()
    };
    format!(
        "source IN ({sources}) AND author <> {reviewer} \
         AND (state = 'done' OR (state = 'dead' AND NOT EXISTS \
             (SELECT 1 FROM {edits} u WHERE u.reverts = {edits}.id))) \
         AND NOT EXISTS (SELECT 1 FROM {verdicts} v WHERE v.edit = {edits}.id){author} \
         AND ({task} IS NULL OR task = {task}) AND ({source} IS NULL OR source = {source})",
        sources = sources.join(", "),
        reviewer = param(1),
        task = param(3),
        source = param(4),
    )
}
