//! Pairs marked "not duplicates": a moderator looked at two products the duplicate search
//! joined and said they are different products; the pair is never raised again. Each mark is
//! a row with its author and time, written durably when the call returns; a mark is not
//! withdrawn.

use super::SqliteStore;
use crate::labels::store::{StoreError, now_ms};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

impl SqliteStore {
    /// Marks each pair of product ids (known products) as not duplicates, as `author`.
    /// Returns how many pairs were new (a pair marked before keeps its first mark).
    pub fn mark_not_duplicates(
        &mut self,
        pairs: &[(String, String)],
        author: &str,
    ) -> Result<usize, StoreError> {
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let time_ms = now_ms();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let mut added = 0;
        for (a, b) in pairs {
            if a == b {
                continue;
            }
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            added += tx
                .execute(
                    "INSERT OR IGNORE INTO not_duplicates(a, b, author, time_ms) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![a, b, author, time_ms],
                )
                .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        Ok(added)
    }

    /// Every pair marked not duplicates, lower id first (none in a store written before the
    /// table existed).
    pub fn not_duplicates(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = |reason| StoreError::Sqlite {
            path: self.path.clone(),
            reason,
        };
        let exists = self
            .conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'not_duplicates'",
                [],
                |_| Ok(()),
            )
            .optional()
            .map_err(sql)?
            .is_some();
        if !exists {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare("SELECT a, b FROM not_duplicates ORDER BY a, b")
            .map_err(sql)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)
    }
}
