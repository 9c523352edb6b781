//! Verdicts on others' changes in a file store (see [`crate::labels::change_review`]): anyone
//! may judge a change but its author.

use super::{SqliteStore, Writing, select_edits};
use crate::labels::change_review::{
    ChangeQueue, Judged, Judgement, QueueFilter, ReviewTx, Verdict, judge, waiting_sql,
};
use crate::labels::edit::Edit;
use crate::labels::store::StoreError;
use rusqlite::{OptionalExtension, params};

const JUDGEMENT_COLUMNS: &str = "edit, verdict, reviewer, time_ms, revert";

impl SqliteStore {
    /// Gives `verdict` as `reviewer` on the entries `ids` (see [`judge`]).
    pub(crate) fn judge(
        &mut self,
        ids: &[i64],
        whole_batches: bool,
        reviewer: &str,
        verdict: Verdict,
    ) -> Result<Judged, StoreError> {
        let tx = self.begin()?;
        let judged = judge(tx, ids, whole_batches, reviewer, verdict)?;
        self.seen.wrote(&judged.reverts);
        Ok(judged)
    }

    /// The changes waiting for `reviewer`'s verdict that `filter` lets through, newest first.
    pub(crate) fn change_queue(
        &mut self,
        filter: &QueueFilter,
        reviewer: &str,
    ) -> Result<ChangeQueue, StoreError> {
        if !self.has_table("verdicts")? {
            return Ok(ChangeQueue::default());
        }
        let param = |n: usize| format!("?{n}");
        let waiting = waiting_sql("edits", "verdicts", param, true);
        let task = filter.task.map(|t| t.name());
        let source = filter.source.map(|s| s.name());
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let changes = select_edits(
            &self.conn,
            &self.path,
            &format!("WHERE {waiting} ORDER BY id DESC LIMIT ?5"),
            params![reviewer, filter.author, task, source, limit],
        )?;
        let total: i64 = self
            .conn
            .query_row(
                &format!("SELECT COUNT(*) FROM edits WHERE {waiting}"),
                params![reviewer, filter.author, task, source],
                |r| r.get(0),
            )
            .map_err(self.sql())?;
        let anyone = waiting_sql("edits", "verdicts", param, false);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT DISTINCT author FROM edits WHERE {anyone} ORDER BY author"
            ))
            .map_err(self.sql())?;
        let authors = stmt
            .query_map(params![reviewer, None::<&str>, task, source], |r| r.get(0))
            .map_err(self.sql())?
            .collect::<Result<Vec<String>, _>>()
            .map_err(self.sql())?;
        Ok(ChangeQueue {
            changes,
            total: total as usize,
            authors,
        })
    }

    /// Whether a verdict was given (by anyone, in any process) since the last call: the
    /// verdicts are never deleted, so their number tells.
    pub(crate) fn verdicts_changed(&mut self) -> Result<bool, StoreError> {
        if !self.has_table("verdicts")? {
            return Ok(false);
        }
        let count: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM verdicts", [], |r| r.get(0))
            .map_err(self.sql())?;
        let changed = self.verdicts_seen.is_some_and(|seen| seen != count);
        self.verdicts_seen = Some(count);
        Ok(changed)
    }

    /// The verdicts on the journal entries of `product`, oldest entry first.
    pub(crate) fn judgements(&mut self, product: &str) -> Result<Vec<Judgement>, StoreError> {
        if !self.has_table("verdicts")? {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {JUDGEMENT_COLUMNS} FROM verdicts \
                 WHERE edit IN (SELECT id FROM edits WHERE product = ?1) ORDER BY edit"
            ))
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([product], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .map_err(self.sql())?;
        let mut judgements = Vec::new();
        for row in rows {
            let (edit, verdict, reviewer, time_ms, revert) = row.map_err(self.sql())?;
            judgements.push(Judgement {
                edit,
                verdict: verdict.parse().map_err(|detail| StoreError::Corrupt {
                    path: self.path.clone(),
                    id: edit,
                    detail,
                })?,
                reviewer,
                time_ms,
                revert,
            });
        }
        Ok(judgements)
    }

    /// Whether the store has table `name` (a store of an older build opened for reading may
    /// lack one).
    fn has_table(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(self.sql())
    }
}

impl ReviewTx for Writing<'_> {
    fn entry(&mut self, id: i64) -> Result<Option<Edit>, StoreError> {
        let path = self.path;
        Ok(select_edits(&self.tx, path, "WHERE id = ?1", params![id])?.pop())
    }

    fn batch_members(&mut self, batch: i64) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .tx
            .prepare("SELECT id FROM edits WHERE batch = ?1 ORDER BY id")
            .map_err(self.sql())?;
        let ids = stmt
            .query_map([batch], |r| r.get(0))
            .map_err(self.sql())?
            .collect::<Result<Vec<i64>, _>>()
            .map_err(self.sql())?;
        Ok(ids)
    }

    fn judgement(&mut self, id: i64) -> Result<Option<Judgement>, StoreError> {
        let row = self
            .tx
            .query_row(
                &format!("SELECT {JUDGEMENT_COLUMNS} FROM verdicts WHERE edit = ?1"),
                [id],
                |r| {
                    Ok((
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(self.sql())?;
        row.map(|(verdict, reviewer, time_ms, revert)| {
            Ok(Judgement {
                edit: id,
                verdict: verdict.parse().map_err(|detail| StoreError::Corrupt {
                    path: self.path.to_path_buf(),
                    id,
                    detail,
                })?,
                reviewer,
                time_ms,
                revert,
            })
        })
        .transpose()
    }

    fn write_judgement(&mut self, j: &Judgement) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO verdicts(edit, verdict, reviewer, time_ms, revert) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![j.edit, j.verdict.name(), j.reviewer, j.time_ms, j.revert],
            )
            .map(drop)
            .map_err(self.sql())
    }
}

#[cfg(test)]
mod tests {
    use crate::labels::change_review::{QueueFilter, Verdict};
    use crate::labels::store::{Attribution, Change};
    use crate::labels::{EditSource, LabelStore, StoreError};

    fn catalogue(dir: &std::path::Path) -> crate::catalog::Catalog {
        let manifest = dir.join("manifest.csv");
        std::fs::write(
            &manifest,
            "product_id,name,images,colour\np1,One,,Red\np2,Two,,Blue\np3,Three,,\n",
        )
        .unwrap();
        crate::catalog::import::import(&manifest, &Default::default())
            .unwrap()
            .catalog
    }

    fn by(author: &str, source: EditSource) -> Attribution {
        Attribution {
            author: author.into(),
            source,
            reason: None,
        }
    }

    fn colour(product: &str, value: &str) -> Change {
        Change {
            product: product.into(),
            task: crate::catalog::Task::Colour,
            value: Some(value.into()),
        }
    }

    #[test]
    fn a_reviewer_approves_and_reverts_others_changes_and_never_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = catalogue(dir.path());
        let (mut store, _) =
            LabelStore::open(&dir.path().join("s.sqlite"), "c", &mut catalog).unwrap();
        let human = by("ann", EditSource::Human);
        let first = store
            .set(&mut catalog, colour("p1", "Black"), &human)
            .unwrap()
            .unwrap();
        let bulk = store
            .set_many(
                &mut catalog,
                &[colour("p2", "Green"), colour("p3", "Pink")],
                &by("ann", EditSource::Bulk),
            )
            .unwrap();
        store
            .set(
                &mut catalog,
                colour("p1", "White"),
                &by("lee", EditSource::Human),
            )
            .unwrap();
        assert!(
            !store.verdicts_changed().unwrap(),
            "the first call notes where they stand"
        );
        let queue = store.change_queue(&QueueFilter::default(), "lee").unwrap();
        let ids: Vec<i64> = queue.changes.iter().map(|e| e.id).collect();
        assert_eq!(
            ids,
            [bulk[1].id, bulk[0].id, first.id],
            "newest first, not lee's own"
        );
        assert_eq!(queue.authors, ["ann"]);
        let bulk_only = QueueFilter {
            source: Some(EditSource::Bulk),
            ..Default::default()
        };
        assert_eq!(store.change_queue(&bulk_only, "lee").unwrap().total, 2);
        // Reverting ann's p1 is refused: lee changed it since.
        let judged = store
            .judge(&mut catalog, &[first.id], false, "lee", Verdict::Reverted)
            .unwrap();
        assert!(judged.judgements.is_empty());
        assert!(
            judged.refused[0].reason.contains("changed since by lee"),
            "{:?}",
            judged.refused
        );
        // Reverting the bulk batch through one of its entries reverts both, journalled.
        let judged = store
            .judge(&mut catalog, &[bulk[0].id], true, "lee", Verdict::Reverted)
            .unwrap();
        assert_eq!(judged.judgements.len(), 2);
        assert_eq!(judged.reverts.len(), 2);
        assert!(
            judged
                .reverts
                .iter()
                .all(|e| e.source == EditSource::Revert)
        );
        let label = |c: &crate::catalog::Catalog, id: &str| {
            c.label_name(c.product(id).unwrap(), crate::catalog::Task::Colour)
                .map(String::from)
        };
        assert_eq!(label(&catalog, "p2").as_deref(), Some("Blue"));
        assert_eq!(label(&catalog, "p3"), None);
        store
            .judge(&mut catalog, &[first.id], false, "lee", Verdict::Approved)
            .unwrap();
        assert!(
            store
                .change_queue(&QueueFilter::default(), "lee")
                .unwrap()
                .changes
                .is_empty()
        );
        assert!(store.verdicts_changed().unwrap());
        assert!(!store.verdicts_changed().unwrap());
        // Judged once; one's own change is not for oneself to judge.
        let again = store
            .judge(&mut catalog, &[first.id], false, "cy", Verdict::Reverted)
            .unwrap();
        assert!(again.refused[0].reason.contains("already approved by lee"));
        let own = store
            .judge(
                &mut catalog,
                &[first.id + 3],
                false,
                "lee",
                Verdict::Approved,
            )
            .unwrap();
        assert!(own.refused[0].reason.contains("your own change"));
        let history = store.judgements("p2").unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].verdict, Verdict::Reverted);
        assert_eq!(
            history[0].revert,
            Some(
                judged
                    .reverts
                    .iter()
                    .find(|e| e.product == "p2")
                    .unwrap()
                    .id
            )
        );
        // The author's undo of the reverted batch is refused: the label changed since.
        assert!(matches!(
            store.undo(&mut catalog, "ann"),
            Err(StoreError::Conflict { .. })
        ));
    }
}
