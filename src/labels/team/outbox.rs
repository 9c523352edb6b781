//! The team store's outbox: a small SQLite file on this machine holding the edits made while
//! the server could not be reached, in order, until they are sent. Each entry carries an
//! origin key, unique over every store and session, that the server journals with the entry:
//! an entry sent again (its first sending committed, but the acknowledgement was lost with
//! the connection) is recognised and not journalled twice.

use crate::catalog::Task;
use crate::labels::edit::EditSource;
use crate::labels::store::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pending(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the store and catalogue it is for: one outbox file serves one of each
    store TEXT NOT NULL,
    origin TEXT NOT NULL UNIQUE,
    -- entries of one write share it (the seq of its first entry), and are sent together
    batch INTEGER NOT NULL,
    product TEXT NOT NULL,
    task TEXT NOT NULL,
    old TEXT,
    new TEXT,
    source TEXT NOT NULL,
    reason TEXT,
    time_ms INTEGER NOT NULL
);
";

/// An edit waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Its place in the outbox (increasing).
    pub seq: i64,
    /// The key the server journals with it.
    pub origin: String,
    /// The write it was part of (the seq of the write's first entry).
    pub batch: i64,
    pub product: String,
    pub task: Task,
    /// The label this window saw before the edit: sent only if the server still has it.
    pub old: Option<String>,
    pub new: Option<String>,
    pub source: EditSource,
    pub reason: Option<String>,
    pub time_ms: i64,
}

/// An entry to add to the outbox.
pub(crate) struct Outgoing<'a> {
    pub origin: String,
    pub product: &'a str,
    pub task: Task,
    pub old: Option<String>,
    pub new: Option<String>,
    pub source: EditSource,
    pub reason: Option<String>,
    pub time_ms: i64,
}

/// The outbox file of one team store and catalogue, created by the first edit that waits.
#[derive(Debug)]
pub(crate) struct Outbox {
    /// `None` until the file exists.
    conn: Option<Connection>,
    path: PathBuf,
    /// The store and catalogue (address, role and identity) whose entries this is.
    store: String,
    waiting: usize,
}

impl Outbox {
    /// The outbox at `path` for the entries of `store`, opened if the file exists.
    pub(crate) fn open(path: &Path, store: &str) -> Result<Outbox, StoreError> {
        let mut outbox = Outbox {
            conn: None,
            path: path.to_path_buf(),
            store: store.to_string(),
            waiting: 0,
        };
        if path.exists() {
            outbox.connect()?;
        }
        Ok(outbox)
    }

    /// Opens (creating if needed) the file.
    fn connect(&mut self) -> Result<&mut Connection, StoreError> {
        let conn = match self.conn.take() {
            Some(conn) => conn,
            None => {
                let (conn, waiting) = Outbox::file(&self.path, &self.store)?;
                self.waiting = waiting;
                conn
            }
        };
        Ok(self.conn.insert(conn))
    }

    fn file(path: &Path, store: &str) -> Result<(Connection, usize), StoreError> {
        let sql = |reason| StoreError::Sqlite {
            path: path.to_path_buf(),
            reason,
        };
        crate::atomic_file::create_folder(crate::atomic_file::folder_of(path)).map_err(
            |reason| StoreError::Io {
                path: path.to_path_buf(),
                reason,
            },
        )?;
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        conn.execute_batch(SCHEMA).map_err(sql)?;
        let waiting: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM pending WHERE store = ?1",
                [store],
                |r| r.get(0),
            )
            .map_err(sql)?;
        Ok((conn, waiting as usize))
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |reason| StoreError::Sqlite {
            path: self.path.clone(),
            reason,
        }
    }

    /// The outbox file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// How many entries wait.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// Adds `entries` as one write, durably. Returns their outbox entries.
    pub(crate) fn add(&mut self, entries: &[Outgoing<'_>]) -> Result<Vec<Pending>, StoreError> {
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let store = self.store.clone();
        let tx = self.connect()?.transaction().map_err(sql)?;
        let mut added: Vec<Pending> = Vec::new();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO pending(store, origin, batch, product, task, old, new, source, \
                     reason, time_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT(origin) DO NOTHING RETURNING seq, batch",
                )
                .map_err(sql)?;
            for entry in entries {
                // Until the first entry has its seq, a write's batch is 0 and is set below.
                let batch = added.first().map_or(0, |p| p.batch);
                let row: Option<(i64, i64)> = insert
                    .query_row(
                        params![
                            store,
                            entry.origin,
                            batch,
                            entry.product,
                            entry.task.name(),
                            entry.old,
                            entry.new,
                            entry.source.name(),
                            entry.reason,
                            entry.time_ms
                        ],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()
                    .map_err(sql)?;
                // An origin already waiting (a write retried) is not added twice.
                let Some((seq, stored_batch)) = row else {
                    continue;
                };
                let batch = if stored_batch == 0 { seq } else { stored_batch };
                added.push(Pending {
                    seq,
                    origin: entry.origin.clone(),
                    batch,
                    product: entry.product.to_string(),
                    task: entry.task,
                    old: entry.old.clone(),
                    new: entry.new.clone(),
                    source: entry.source,
                    reason: entry.reason.clone(),
                    time_ms: entry.time_ms,
                });
            }
            if let Some(first) = added.first() {
                tx.execute(
                    "UPDATE pending SET batch = ?1 WHERE seq = ?1",
                    [first.batch],
                )
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)?;
        self.waiting += added.len();
        Ok(added)
    }

    /// Every waiting entry, oldest first.
    pub(crate) fn pending(&self) -> Result<Vec<Pending>, StoreError> {
        let Some(conn) = &self.conn else {
            return Ok(Vec::new());
        };
        let mut stmt = conn
            .prepare(
                "SELECT seq, origin, batch, product, task, old, new, source, reason, time_ms \
                 FROM pending WHERE store = ?1 ORDER BY seq",
            )
            .map_err(self.sql())?;
        let rows = stmt
            .query_map([&self.store], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, i64>(9)?,
                ))
            })
            .map_err(self.sql())?;
        let mut pending = Vec::new();
        for row in rows {
            let (seq, origin, batch, product, task, old, new, source, reason, time_ms) =
                row.map_err(self.sql())?;
            let corrupt = |detail: String| StoreError::Corrupt {
                path: self.path.clone(),
                id: seq,
                detail,
            };
            pending.push(Pending {
                seq,
                origin,
                batch,
                product,
                task: task
                    .parse()
                    .map_err(|e: crate::catalog::UnknownTask| corrupt(e.to_string()))?,
                old,
                new,
                source: source.parse().map_err(corrupt)?,
                reason,
                time_ms,
            });
        }
        Ok(pending)
    }

    /// Removes the entries of write `batch` (sent, or refused by a conflict).
    pub(crate) fn remove_batch(&mut self, batch: i64) -> Result<(), StoreError> {
        let Some(conn) = &self.conn else {
            return Ok(());
        };
        let removed = conn
            .execute(
                "DELETE FROM pending WHERE store = ?1 AND batch = ?2",
                params![self.store, batch],
            )
            .map_err(self.sql())?;
        self.waiting = self.waiting.saturating_sub(removed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(origin: &str, product: &str, new: &str) -> Outgoing<'static> {
        Outgoing {
            origin: origin.into(),
            product: Box::leak(product.to_string().into_boxed_str()),
            task: Task::Colour,
            old: None,
            new: Some(new.into()),
            source: EditSource::Human,
            reason: None,
            time_ms: 1,
        }
    }

    #[test]
    fn entries_wait_in_order_across_reopening_and_leave_by_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("outbox.sqlite");
        let mut outbox = Outbox::open(&path, "s1").unwrap();
        let first = outbox
            .add(&[
                outgoing("a:1:0", "p1", "Red"),
                outgoing("a:1:1", "p2", "Blue"),
            ])
            .unwrap();
        assert_eq!(first[0].batch, first[1].batch);
        let second = outbox.add(&[outgoing("a:2:0", "p1", "Black")]).unwrap();
        assert_ne!(second[0].batch, first[0].batch);
        assert!(
            outbox
                .add(&[outgoing("a:2:0", "p1", "Black")])
                .unwrap()
                .is_empty(),
            "an origin waits once"
        );
        // Another store's entries in the same file are not this store's.
        let mut other = Outbox::open(&path, "s2").unwrap();
        other.add(&[outgoing("b:1:0", "p1", "Pink")]).unwrap();
        drop(outbox);
        let mut outbox = Outbox::open(&path, "s1").unwrap();
        assert_eq!(outbox.waiting(), 3);
        let values: Vec<String> = outbox
            .pending()
            .unwrap()
            .into_iter()
            .filter_map(|p| p.new)
            .collect();
        assert_eq!(values, ["Red", "Blue", "Black"]);
        outbox.remove_batch(first[0].batch).unwrap();
        assert_eq!(outbox.waiting(), 1);
        assert_eq!(outbox.pending().unwrap()[0].origin, "a:2:0");
        assert_eq!(other.waiting(), 1);
    }
}
