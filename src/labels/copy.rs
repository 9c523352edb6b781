//! Moving between stores: copying one store's journal into another (`labels push`, a file's
//! into a team store; `labels pull`, the reverse for offline work).
//!
//! Every entry travels with an origin key: the one it has (written by a team store's window,
//! or copied before), else its store's id and its number there. An entry whose origin the
//! target already has is not copied again, nor one born in the target, so copying twice adds
//! nothing and a round trip brings nothing back. An entry is copied only where the target's
//! label still has the entry's old value; else it is a conflict, reported and left out (the
//! target's label stays), as are the later entries of that label. Copied entries keep their
//! source, reason and time; in a team store the author is the copier's role, and the reason
//! names who made the change in the store copied from.

use super::change_review::Refusal;
use super::edit::Edit;
use super::store::{Attribution, JournalTx, LabelBase, NewEntry, StoreError};
use crate::catalog::text::excerpt;
use serde::Serialize;
use std::collections::HashMap;

/// What a copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CopyReport {
    /// Entries copied.
    pub copied: usize,
    /// Entries the target had already (copied before).
    pub already: usize,
    /// Entries that came from the target in the first place.
    pub from_target: usize,
    /// Entries left out because the target's label differs from their old value.
    pub conflicts: Vec<Refusal>,
}

/// A journal entry with its origin key, as it is copied.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    pub edit: Edit,
    pub origin: String,
}

/// What a copy needs of an engine's write transaction beyond the journal's.
pub(crate) trait CopyTx: JournalTx {
    /// Whether the journal has an entry with origin key `origin`.
    fn has_origin(&mut self, origin: &str) -> Result<bool, StoreError>;
    /// Writes `entry` with origin key `origin`.
    fn insert_origin(&mut self, entry: &NewEntry<'_>, origin: &str) -> Result<Edit, StoreError>;
}

/// `journal` (oldest first) as it is copied out of the store whose id is `store`: each entry
/// with its origin key in `origins`, else one made of `store` and its number there.
pub(crate) fn outgoing(
    journal: Vec<Edit>,
    mut origins: HashMap<i64, String>,
    store: &str,
) -> Vec<Incoming> {
    journal
        .into_iter()
        .map(|edit| Incoming {
            origin: origins
                .remove(&edit.id)
                .unwrap_or_else(|| format!("{store}:{}", edit.id)),
            edit,
        })
        .collect()
}

/// Copies `entries` (oldest first, from the store named `from`) into `tx`, whose store's id
/// is `target`, over `base`, and commits. `author`: the author of every copied entry (a team
/// store's role), else each keeps its own.
pub(crate) fn copy_entries(
    mut tx: impl CopyTx,
    base: &impl LabelBase,
    entries: &[Incoming],
    target: &str,
    from: &str,
    author: Option<&str>,
) -> Result<CopyReport, StoreError> {
    let mut report = CopyReport::default();
    let born_here = format!("{target}:");
    // Entries of one batch in the store copied from stay one batch.
    let mut batches: HashMap<i64, i64> = HashMap::new();
    for (position, incoming) in entries.iter().enumerate() {
        let edit = &incoming.edit;
        if incoming.origin.starts_with(&born_here) {
            report.from_target += 1;
            continue;
        }
        if tx.has_origin(&incoming.origin)? {
            report.already += 1;
            continue;
        }
        let current = match tx.current(&edit.product, edit.task)? {
            Some((value, _)) => value,
            None => match base.position(&edit.product) {
                Some(p) => base.base_label(p, edit.task).map(String::from),
                None => {
                    report.conflicts.push(Refusal {
                        edit: edit.id,
                        reason: format!(
                            "product '{}' is not in the catalogue",
                            excerpt(&edit.product)
                        ),
                    });
                    continue;
                }
            },
        };
        if current != edit.old {
            let shown = |v: &Option<String>| {
                v.as_deref()
                    .map_or_else(|| "unlabelled".into(), |v| format!("'{}'", excerpt(v)))
            };
            report.conflicts.push(Refusal {
                edit: edit.id,
                reason: format!(
                    "{} of '{}' is {} here, not {} as the change found it; left out",
                    edit.task,
                    excerpt(&edit.product),
                    shown(&current),
                    shown(&edit.old)
                ),
            });
            continue;
        }
        let reason = match author {
            Some(copier) if copier != edit.author => {
                let made = format!("by {} in {from}", edit.author);
                Some(match &edit.reason {
                    Some(reason) => format!("{reason} ({made})"),
                    None => made,
                })
            }
            _ => edit.reason.clone(),
        };
        let by = Attribution {
            author: author.unwrap_or(&edit.author).to_string(),
            source: edit.source,
            reason,
        };
        let written = tx.insert_origin(
            &NewEntry {
                product: &edit.product,
                task: edit.task,
                old: edit.old.clone(),
                new: edit.new.clone(),
                by: &by,
                time_ms: edit.time_ms,
                batch: batches.get(&edit.batch).copied(),
                reverts: None,
                position,
            },
            &incoming.origin,
        )?;
        batches.entry(edit.batch).or_insert(written.batch);
        report.copied += 1;
    }
    tx.commit()?;
    Ok(report)
}
