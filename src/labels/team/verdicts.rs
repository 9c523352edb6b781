//! Verdicts on others' changes in a team store (see [`crate::labels::change_review`]): only a
//! member of the reviewer role gives them, in its own name, which the server enforces.

use super::{TeamStore, TeamWriting, select_edits};
use crate::labels::change_review::{
    ChangeQueue, Judged, Judgement, QueueFilter, ReviewTx, Verdict, judge, waiting_sql,
};
use crate::labels::edit::Edit;
use crate::labels::store::StoreError;
use postgres::Row;
use std::path::PathBuf;

const JUDGEMENT_COLUMNS: &str = "edit, verdict, reviewer, time_ms, revert";
/// The group role that gives verdicts.
const REVIEWER: &str = "vitrine_reviewer";

impl TeamStore {
    /// Gives `verdict` as the store's role on the entries `ids` (see [`judge`]); `reviewer`
    /// is ignored: in a team store one judges as oneself.
    pub(crate) fn judge(
        &mut self,
        ids: &[i64],
        whole_batches: bool,
        _reviewer: &str,
        verdict: Verdict,
    ) -> Result<Judged, StoreError> {
        self.reconnect_if_lost()?;
        let fail = self.fail.clone();
        let may: bool = self
            .client
            .query_one(
                "SELECT pg_has_role(session_user, $1, 'MEMBER')",
                &[&REVIEWER],
            )
            .map_err(fail.of("read the role"))?
            .get(0);
        if !may {
            return Err(StoreError::Denied {
                address: fail.address.clone(),
                role: fail.role.clone(),
                what: format!("{} others' changes", verdict_verb(verdict)),
                needs: "reviewer",
                reason: format!("not a member of {REVIEWER}"),
            });
        }
        let role = fail.role.clone();
        let origin = self.next_origin();
        let attempt = self
            .begin(Some(origin))
            .and_then(|tx| judge(tx, ids, whole_batches, &role, verdict));
        let judged = self.reached(attempt)?;
        self.seen.wrote(&judged.reverts);
        self.learn(&judged.reverts);
        Ok(judged)
    }

    /// The changes waiting for the store role's verdict that `filter` lets through.
    pub(crate) fn change_queue(
        &mut self,
        filter: &QueueFilter,
        _reviewer: &str,
    ) -> Result<ChangeQueue, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(ChangeQueue::default());
        };
        let fail = self.fail.clone();
        let role = fail.role.clone();
        let param = |n: usize| format!("${n}::text");
        let waiting = waiting_sql("vitrine.edits", "vitrine.verdicts", param, true);
        let task = filter.task.map(|t| t.name());
        let source = filter.source.map(|s| s.name());
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let changes = select_edits(
            &mut self.client,
            &fail,
            &format!("WHERE catalogue = $5 AND {waiting} ORDER BY id DESC LIMIT $6"),
            &[&role, &filter.author, &task, &source, &catalogue, &limit],
        )?;
        let total: i64 = self
            .client
            .query_one(
                &format!("SELECT COUNT(*) FROM vitrine.edits WHERE catalogue = $5 AND {waiting}"),
                &[&role, &filter.author, &task, &source, &catalogue],
            )
            .map_err(fail.of("read the journal"))?
            .get(0);
        // Parameter 2 unused: numbered from 3 on, the others keep their places.
        let anyone = waiting_sql("vitrine.edits", "vitrine.verdicts", param, false);
        let authors = self
            .client
            .query(
                &format!(
                    "SELECT DISTINCT author FROM vitrine.edits \
                     WHERE catalogue = $5 AND $2::text IS NULL AND {anyone} ORDER BY author"
                ),
                &[&role, &None::<&str>, &task, &source, &catalogue],
            )
            .map_err(fail.of("read the journal"))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(ChangeQueue {
            changes,
            total: total as usize,
            authors,
        })
    }

    /// Whether a verdict was given (by anyone) since the last call, as the server's
    /// notifications tell (taken at the last look at the edits).
    pub(crate) fn verdicts_changed(&mut self) -> bool {
        std::mem::take(&mut self.verdicts_told)
    }

    /// The verdicts on the journal entries of `product`.
    pub(crate) fn judgements(&mut self, product: &str) -> Result<Vec<Judgement>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        let fail = self.fail.clone();
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT {JUDGEMENT_COLUMNS} FROM vitrine.verdicts WHERE edit IN \
                     (SELECT id FROM vitrine.edits WHERE catalogue = $1 AND product = $2) \
                     ORDER BY edit"
                ),
                &[&catalogue, &product],
            )
            .map_err(fail.of("read the verdicts"))?;
        rows.iter()
            .map(|row| judgement_of(row, &fail.address))
            .collect()
    }
}

fn verdict_verb(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approved => "approve",
        Verdict::Reverted => "revert",
    }
}

fn judgement_of(row: &Row, address: &str) -> Result<Judgement, StoreError> {
    let edit: i64 = row.get(0);
    let verdict: &str = row.get(1);
    Ok(Judgement {
        edit,
        verdict: verdict.parse().map_err(|detail| StoreError::Corrupt {
            path: PathBuf::from(address),
            id: edit,
            detail,
        })?,
        reviewer: row.get(2),
        time_ms: row.get(3),
        revert: row.get(4),
    })
}

impl ReviewTx for TeamWriting<'_> {
    fn entry(&mut self, id: i64) -> Result<Option<Edit>, StoreError> {
        let fail = self.fail.clone();
        Ok(select_edits(
            &mut self.tx,
            &fail,
            "WHERE catalogue = $1 AND id = $2",
            &[&self.catalogue, &id],
        )?
        .pop())
    }

    fn batch_members(&mut self, batch: i64) -> Result<Vec<i64>, StoreError> {
        Ok(self
            .tx
            .query(
                "SELECT id FROM vitrine.edits WHERE catalogue = $1 AND batch = $2 ORDER BY id",
                &[&self.catalogue, &batch],
            )
            .map_err(self.fail.of("read the journal"))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn judgement(&mut self, id: i64) -> Result<Option<Judgement>, StoreError> {
        let address = self.fail.address.clone();
        self.tx
            .query_opt(
                &format!("SELECT {JUDGEMENT_COLUMNS} FROM vitrine.verdicts WHERE edit = $1"),
                &[&id],
            )
            .map_err(self.fail.of("read the verdicts"))?
            .map(|row| judgement_of(&row, &address))
            .transpose()
    }

    fn write_judgement(&mut self, j: &Judgement) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO vitrine.verdicts(edit, catalogue, verdict, reviewer, time_ms, revert) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &j.edit,
                    &self.catalogue,
                    &j.verdict.name(),
                    &j.reviewer,
                    &j.time_ms,
                    &j.revert,
                ],
            )
            .map(drop)
            .map_err(self.fail.needing("judge changes", "reviewer"))
    }
}
