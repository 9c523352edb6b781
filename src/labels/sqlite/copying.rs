//! A file store's side of copying journals between stores (see [`crate::labels::copy`]).

use super::SqliteStore;
use crate::labels::copy::{CopyReport, Incoming, copy_entries, outgoing};
use crate::labels::store::{LabelBase, StoreError};
use rusqlite::OptionalExtension;
use std::collections::HashMap;

impl SqliteStore {
    /// This store's id in origin keys (set by its first writing open).
    pub(crate) fn uid(&mut self) -> Result<String, StoreError> {
        let uid: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'uid'", [], |r| r.get(0))
            .optional()
            .map_err(self.sql())?;
        uid.ok_or_else(|| StoreError::Corrupt {
            path: self.path.clone(),
            id: 0,
            detail: "the store has no id yet: open it for writing once (any labels command \
                     that changes something) and copy again"
                .into(),
        })
    }

    /// Every journal entry, oldest first, with its origin key.
    pub(crate) fn outgoing(&mut self) -> Result<Vec<Incoming>, StoreError> {
        let uid = self.uid()?;
        let mut origins: HashMap<i64, String> = HashMap::new();
        if self
            .conn
            .prepare("SELECT origin FROM edits LIMIT 0")
            .is_ok()
        {
            let mut stmt = self
                .conn
                .prepare("SELECT id, origin FROM edits WHERE origin IS NOT NULL")
                .map_err(self.sql())?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(self.sql())?;
            for row in rows {
                let (id, origin) = row.map_err(self.sql())?;
                origins.insert(id, origin);
            }
        }
        Ok(outgoing(self.journal(0)?, origins, &uid))
    }

    /// Copies `entries` (from the store named `from`) into this store, over `base`.
    pub(crate) fn copy_in(
        &mut self,
        base: &impl LabelBase,
        entries: &[Incoming],
        from: &str,
    ) -> Result<CopyReport, StoreError> {
        let uid = self.uid()?;
        let tx = self.begin()?;
        copy_entries(tx, base, entries, &uid, from, None)
    }
}
