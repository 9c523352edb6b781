//! A team store's side of copying journals between stores (see [`crate::labels::copy`]):
//! entries copied in are journalled under the copier's role.

use super::{TeamStore, TeamWriting};
use crate::labels::copy::{CopyReport, CopyTx, Incoming, copy_entries, outgoing};
use crate::labels::edit::Edit;
use crate::labels::store::{LabelBase, NewEntry, StoreError};
use std::collections::HashMap;

impl TeamStore {
    /// The catalogue's id in origin keys.
    pub(crate) fn uid(&mut self) -> Result<String, StoreError> {
        let catalogue = self.writable_catalogue()?;
        Ok(self
            .client
            .query_one(
                "SELECT uid FROM vitrine.catalogues WHERE id = $1",
                &[&catalogue],
            )
            .map_err(self.fail.of("read the catalogues"))?
            .get(0))
    }

    /// Every journal entry of the catalogue, oldest first, with its origin key.
    pub(crate) fn outgoing(&mut self) -> Result<Vec<Incoming>, StoreError> {
        let uid = self.uid()?;
        let catalogue = self.writable_catalogue()?;
        let origins: HashMap<i64, String> = self
            .client
            .query(
                "SELECT id, origin FROM vitrine.edits \
                 WHERE catalogue = $1 AND origin IS NOT NULL",
                &[&catalogue],
            )
            .map_err(self.fail.of("read the journal"))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(outgoing(self.journal(0)?, origins, &uid))
    }

    /// Copies `entries` (from the store named `from`) into the catalogue, over `base`, as
    /// the store's role.
    pub(crate) fn copy_in(
        &mut self,
        base: &impl LabelBase,
        entries: &[Incoming],
        from: &str,
    ) -> Result<CopyReport, StoreError> {
        let uid = self.uid()?;
        let role = self.fail.role.clone();
        let attempt = self
            .begin(None)
            .and_then(|tx| copy_entries(tx, base, entries, &uid, from, Some(&role)));
        let report = self.reached(attempt)?;
        // What was copied reaches this store's holders (and others') as others' edits do.
        self.edits_told = true;
        Ok(report)
    }
}

impl CopyTx for TeamWriting<'_> {
    fn has_origin(&mut self, origin: &str) -> Result<bool, StoreError> {
        Ok(self.by_origin(origin)?.is_some())
    }

    fn insert_origin(&mut self, entry: &NewEntry<'_>, origin: &str) -> Result<Edit, StoreError> {
        self.insert_as(entry, Some(origin))
    }
}
