//! The embedded engine of the label store: an SQLite database (WAL, `synchronous=FULL`) holding the edit journal and
//! the current value of every edited label. Imported labels stay in the catalogue source; the
//! current labels are the imported ones with the store's overrides applied.
//!
//! Every write runs in an `IMMEDIATE` transaction and is durable when the call returns, so a
//! crash or `kill -9` loses nothing that was acknowledged, and several processes can edit one
//! store (SQLite serialises the writers; each reads the latest value inside its transaction).

use super::edit::Edit;
use super::store::{
    Attribution, Change, Direction, EntryState, JournalTx, LabelBase, NewEntry, OpenReport,
    Recording, Seen, StoreError, compare_products, fingerprint, revert, write_batch,
};
use crate::atomic_file::{create_folder, folder_of};
use crate::catalog::{Catalog, Task};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

mod copying;
mod not_duplicates;
mod reviews;
mod verdicts;

/// Schema version this build writes and reads.
const SCHEMA_VERSION: i64 = 1;
/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// How many added or removed product ids an open report lists.
const SAMPLE: usize = 10;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS edits(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch INTEGER NOT NULL,
    product TEXT NOT NULL,
    task TEXT NOT NULL,
    old TEXT,
    new TEXT,
    author TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    source TEXT NOT NULL,
    reason TEXT,
    reverts INTEGER,
    -- for human, accepted-prediction and bulk entries: done, undone, or dead (undone and
    -- then superseded by a new edit, so it can no longer be redone)
    state TEXT NOT NULL,
    -- journal id of the entry that last changed `state` (orders the undo and redo stacks)
    state_changed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS edits_product ON edits(product, id);
CREATE INDEX IF NOT EXISTS edits_stack ON edits(author, state, state_changed);
CREATE INDEX IF NOT EXISTS edits_batch ON edits(batch);
CREATE TABLE IF NOT EXISTS current(
    product TEXT NOT NULL,
    task TEXT NOT NULL,
    value TEXT,
    edit INTEGER NOT NULL,
    PRIMARY KEY(product, task)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS products(id TEXT PRIMARY KEY) WITHOUT ROWID;
-- Added within schema version 1: builds before it ignore the table, and a writing open of a
-- store made by them creates it (a reading open reads such a store as having no reviews).
CREATE TABLE IF NOT EXISTS reviews(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product TEXT NOT NULL,
    task TEXT NOT NULL,
    label TEXT NOT NULL,
    -- the product's photo signature when it was checked, 16 hexadecimal digits
    photos TEXT NOT NULL,
    author TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    -- who withdrew it and when; NULL while it stands (a review is never deleted)
    withdrawn_by TEXT,
    withdrawn_ms INTEGER,
    -- increasing over the table, set by the keep and again by the withdrawal: other
    -- processes pick up what changed since they last looked
    changed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_product ON reviews(product, task, id);
CREATE INDEX IF NOT EXISTS reviews_changed ON reviews(changed);
-- Added within schema version 1, as reviews: pairs of products a moderator marked as not
-- duplicates (lower id first), never raised as duplicates again; journalled by who and when.
-- Added within schema version 1, as reviews: a reviewer's verdict on a change (approved, or
-- reverted by the journal entry `revert`), one per change.
CREATE TABLE IF NOT EXISTS verdicts(
    edit INTEGER PRIMARY KEY,
    verdict TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    revert INTEGER
);
CREATE TABLE IF NOT EXISTS not_duplicates(
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    author TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    PRIMARY KEY(a, b)
) WITHOUT ROWID;
";

const EDIT_COLUMNS: &str =
    "id, batch, product, task, old, new, author, time_ms, source, reason, reverts";

/// An open SQLite label store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// What of the journal the caller's catalogue reflects.
    seen: Seen,
    /// The catalogue's products differ from those the store recorded, and recording them was
    /// left for later ([`SqliteStore::record_products`]).
    products_unrecorded: bool,
    /// The store has the reviews table (a store of an older build opened for reading may not).
    has_reviews: bool,
    /// Highest review change already reported to the caller ([`SqliteStore::new_reviews`]).
    reviews_seen: i64,
    /// The number of verdicts at the last look ([`SqliteStore::verdicts_changed`]).
    verdicts_seen: Option<i64>,
}

/// Replaces the recorded products by `ids`, whose fingerprint is `print`.
fn record<'a>(
    tx: &rusqlite::Transaction<'_>,
    ids: impl Iterator<Item = &'a str>,
    print: &str,
) -> Result<(), rusqlite::Error> {
    tx.execute("DELETE FROM products", [])?;
    let mut insert = tx.prepare("INSERT OR IGNORE INTO products(id) VALUES (?1)")?;
    for id in ids {
        insert.execute([id])?;
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('products', ?1)",
        [print],
    )?;
    Ok(())
}

/// The tables every store has.
const TABLES: [&str; 4] = ["meta", "edits", "current", "products"];

/// What a database file holds.
enum Contents {
    /// No schema at all: a new or empty file, fine to initialise.
    Empty,
    /// A vitrine store with all its tables.
    Store,
}

/// Tells a vitrine store from an empty file and from any other database, reading only.
fn contents(conn: &Connection, path: &Path) -> Result<Contents, StoreError> {
    let sql = |reason| StoreError::Sqlite {
        path: path.to_path_buf(),
        reason,
    };
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .map_err(sql)?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(sql)?;
        rows.collect::<Result<_, _>>().map_err(sql)?
    };
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
        .map_err(sql)?;
    if objects == 0 {
        return Ok(Contents::Empty);
    }
    let has = |table: &str| tables.iter().any(|t| t == table);
    // Recognised by its schema version, or by its journal's columns when `meta` is gone.
    let versioned = has("meta")
        && conn
            .query_row("SELECT 1 FROM meta WHERE key = 'schema'", [], |_| Ok(()))
            .optional()
            .ok()
            .flatten()
            .is_some();
    let journal = has("edits")
        && conn
            .prepare("SELECT batch, reverts, state, state_changed FROM edits LIMIT 0")
            .is_ok();
    if !versioned && !journal {
        let mut listed: Vec<&str> = tables.iter().take(SAMPLE).map(String::as_str).collect();
        if tables.len() > SAMPLE {
            listed.push("...");
        }
        return Err(StoreError::Foreign {
            path: path.to_path_buf(),
            tables: if listed.is_empty() {
                "none".into()
            } else {
                listed.join(", ")
            },
        });
    }
    let missing: Vec<&str> = TABLES.into_iter().filter(|t| !has(t)).collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|t| format!("'{t}'")).collect();
        return Err(StoreError::MissingTable {
            path: path.to_path_buf(),
            missing: match names.as_slice() {
                [one] => format!("table {one} is"),
                many => format!("tables {} are", many.join(", ")),
            },
        });
    }
    Ok(Contents::Store)
}

/// `path` as an SQLite URI (`file:` and the percent-encoded absolute path), so that options
/// such as `mode=ro` can follow it whatever characters the path holds.
fn uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for &byte in absolute.as_os_str().as_encoded_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// How a store is opened for reading.
enum Reading {
    /// As an ordinary SQLite connection that refuses writes (`query_only`): it shares the WAL
    /// with writers and, the last to close, removes the `-wal` and `-shm` files as a writer
    /// would.
    Shared,
    /// `mode=ro`: the store or its folder has no write permission, but a writer's `-wal` file
    /// is beside it, to be read too.
    ReadOnly,
    /// `mode=ro&immutable=1`: the store or its folder has no write permission and no writer's
    /// `-wal` file is beside it, so SQLite creates and locks nothing (also as root, which
    /// write permission bits do not stop).
    Immutable,
}

/// How to read the store at `path`: shared where it and its folder have write permission
/// bits, else without writing anything (see [`Reading`]).
fn reading(path: &Path) -> Reading {
    let read_only = |p: &Path| std::fs::metadata(p).map_or(true, |m| m.permissions().readonly());
    if !read_only(path) && !read_only(folder_of(path)) {
        Reading::Shared
    } else {
        unshared(path)
    }
}

/// The files SQLite keeps beside the store at `path` in WAL mode: its log (`-wal`) and the
/// log's index (`-shm`).
pub(crate) fn side_files(path: &Path) -> [PathBuf; 2] {
    ["-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// How to read the store at `path` without writing (nor creating) any file.
fn unshared(path: &Path) -> Reading {
    let [wal, _] = side_files(path);
    if wal.exists() {
        Reading::ReadOnly
    } else {
        Reading::Immutable
    }
}

/// Whether SQLite failed for want of write access (to the store, or to its folder for the
/// `-wal` and `-shm` files).
fn denied(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
    )
}

/// Opens the existing store at `path` for reading as `reading` says; `None` when the file
/// holds no schema yet.
fn connect(path: &Path, reading: Reading) -> Result<Option<Connection>, StoreError> {
    use rusqlite::OpenFlags;
    let sql = |reason| StoreError::Sqlite {
        path: path.to_path_buf(),
        reason,
    };
    let (mode, access) = match reading {
        Reading::Shared => ("rw", OpenFlags::SQLITE_OPEN_READ_WRITE),
        Reading::ReadOnly => ("ro", OpenFlags::SQLITE_OPEN_READ_ONLY),
        Reading::Immutable => ("ro&immutable=1", OpenFlags::SQLITE_OPEN_READ_ONLY),
    };
    // Without SQLITE_OPEN_CREATE: a store removed meanwhile is not created again.
    let flags = access | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags(format!("{}?mode={mode}", uri(path)), flags).map_err(sql)?;
    conn.pragma_update(None, "query_only", true).map_err(sql)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
    Ok(match contents(&conn, path)? {
        Contents::Store => Some(conn),
        Contents::Empty => None,
    })
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` for `catalog`, whose source is named
    /// `catalogue` (recorded to recognise a store opened with another catalogue), and applies
    /// the edited labels onto `catalog`. A database that is not a vitrine store, or a store
    /// missing a table, is refused and left untouched.
    pub fn open(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(SqliteStore, OpenReport), StoreError> {
        Self::open_writing(path, catalogue, catalog, Recording::Now)
    }

    /// [`SqliteStore::open`], leaving the recording of the catalogue's products, where they
    /// changed, to [`SqliteStore::record_products`] (the report is the same).
    pub fn open_recording_later(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(SqliteStore, OpenReport), StoreError> {
        Self::open_writing(path, catalogue, catalog, Recording::Later)
    }

    fn open_writing(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
        recording: Recording,
    ) -> Result<(SqliteStore, OpenReport), StoreError> {
        regular_or_absent(path)?;
        create_folder(folder_of(path)).map_err(|reason| StoreError::Io {
            path: path.to_path_buf(),
            reason,
        })?;
        let sql = |reason| StoreError::Sqlite {
            path: path.to_path_buf(),
            reason,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        // Looked at before anything is written: the WAL switch below already rewrites the header.
        let created = matches!(contents(&conn, path)?, Contents::Empty);
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // FULL: in WAL mode NORMAL may lose the last commits on power loss.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            seen: Seen::default(),
            products_unrecorded: false,
            has_reviews: false,
            reviews_seen: 0,
            verdicts_seen: None,
        };
        let report = store.prepare(catalogue, catalog, created, recording)?;
        Ok((store, report))
    }

    /// Opens the store at `path` for reading only and applies its edited labels onto `catalog`:
    /// nothing is created or written, a store without write permission (or in a read-only
    /// folder) can be read, and where no store exists the labels stay the catalogue's own (the
    /// store is then empty, and refuses writes).
    pub fn open_read_only(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(SqliteStore, OpenReport), StoreError> {
        regular_or_absent(path)?;
        let sql = |reason| StoreError::Sqlite {
            path: path.to_path_buf(),
            reason,
        };
        let conn = if path.exists() {
            match connect(path, reading(path)) {
                // Write permission bits do not say whether this user may write (a file of
                // someone else's): without it, read without writing anything.
                Err(StoreError::Sqlite { reason, .. }) if denied(&reason) => {
                    connect(path, unshared(path))?
                }
                other => other?,
            }
        } else {
            None
        };
        let conn = match conn {
            Some(conn) => conn,
            None => {
                // An empty store in memory: the same reads, no file.
                let conn = Connection::open_in_memory().map_err(sql)?;
                conn.execute_batch(SCHEMA).map_err(sql)?;
                conn.pragma_update(None, "query_only", true).map_err(sql)?;
                conn
            }
        };
        let mut store = SqliteStore {
            conn,
            path: path.to_path_buf(),
            seen: Seen::default(),
            products_unrecorded: false,
            has_reviews: false,
            reviews_seen: 0,
            verdicts_seen: None,
        };
        let report = store.prepare(catalogue, catalog, false, Recording::Never)?;
        Ok((store, report))
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |reason| StoreError::Sqlite {
            path: self.path.clone(),
            reason,
        }
    }

    /// Checks the schema version, reports how the catalogue changed and applies the edited
    /// labels onto `catalog`; unless [`Recording::Never`], also creates the schema and records
    /// the catalogue (its products as `recording` says).
    fn prepare(
        &mut self,
        catalogue: &str,
        catalog: &mut Catalog,
        created: bool,
        recording: Recording,
    ) -> Result<OpenReport, StoreError> {
        let write = recording != Recording::Never;
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let behavior = if write {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = self.conn.transaction_with_behavior(behavior).map_err(sql)?;
        if write {
            tx.execute_batch(SCHEMA).map_err(sql)?;
            // Added within schema version 1, as reviews: the origin key of an entry copied
            // from another store (see `labels::copy`), and this store's id in such keys.
            let has_origin = tx.prepare("SELECT origin FROM edits LIMIT 0").is_ok();
            if !has_origin {
                tx.execute_batch("ALTER TABLE edits ADD COLUMN origin TEXT")
                    .map_err(sql)?;
            }
            tx.execute_batch("CREATE UNIQUE INDEX IF NOT EXISTS edits_origin ON edits(origin)")
                .map_err(sql)?;
            tx.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('uid', ?1)",
                [format!("file-{:016x}", rand::random::<u64>())],
            )
            .map_err(sql)?;
        }
        let meta = |key: &str| -> Result<Option<String>, StoreError> {
            tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(sql)
        };
        let version = meta("schema")?.and_then(|v| v.parse::<i64>().ok());
        if let Some(found) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Schema {
                path,
                found,
                reads: SCHEMA_VERSION,
            });
        }
        let mut report = OpenReport {
            path: path.clone(),
            created,
            other_catalogue: meta("catalogue")?.filter(|c| c != catalogue),
            ..Default::default()
        };
        let print = fingerprint(catalog.products().iter().map(|p| &*p.id));
        let known = meta("products")?;
        if known.as_deref() != Some(print.as_str()) {
            let previous: HashSet<String> = {
                let mut stmt = tx.prepare("SELECT id FROM products").map_err(sql)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(sql)?;
                rows.collect::<Result<_, _>>().map_err(sql)?
            };
            if known.is_some() {
                compare_products(catalog, &previous, &mut report);
            }
        }
        if known.as_deref() != Some(print.as_str()) {
            match recording {
                Recording::Never => {}
                Recording::Now => {
                    record(&tx, catalog.products().iter().map(|p| &*p.id), &print).map_err(sql)?
                }
                Recording::Later => self.products_unrecorded = true,
            }
        }
        if write {
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?1), ('catalogue', ?2)",
                params![SCHEMA_VERSION.to_string(), catalogue],
            )
            .map_err(sql)?;
        }
        {
            let mut stmt = tx
                .prepare("SELECT product, task, value FROM current")
                .map_err(sql)?;
            let mut rows = stmt.query([]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let product: String = row.get(0).map_err(sql)?;
                let task: String = row.get(1).map_err(sql)?;
                let value: Option<String> = row.get(2).map_err(sql)?;
                let Ok(task) = task.parse::<Task>() else {
                    continue;
                };
                match catalog.position(&product) {
                    Some(position) => {
                        catalog.set_label(position, task, value.as_deref());
                        report.overrides += 1;
                    }
                    None => report.orphaned += 1,
                }
            }
        }
        let seen: i64 = tx
            .query_row("SELECT COALESCE(MAX(id), 0) FROM edits", [], |r| r.get(0))
            .map_err(sql)?;
        let has_reviews = tx
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reviews'",
                [],
                |_| Ok(()),
            )
            .optional()
            .map_err(sql)?
            .is_some();
        let reviews_seen: i64 = if has_reviews {
            tx.query_row("SELECT COALESCE(MAX(changed), 0) FROM reviews", [], |r| {
                r.get(0)
            })
            .map_err(sql)?
        } else {
            0
        };
        tx.commit().map_err(sql)?;
        self.seen = Seen::up_to(seen);
        self.has_reviews = has_reviews;
        self.reviews_seen = reviews_seen;
        Ok(report)
    }

    /// Records the catalogue's products (`ids`, those it was opened with) if opening left it
    /// for later ([`SqliteStore::open_recording_later`]); else does nothing.
    pub fn record_products(&mut self, ids: &[Arc<str>]) -> Result<(), StoreError> {
        if !self.products_unrecorded {
            return Ok(());
        }
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let print = fingerprint(ids.iter().map(|id| &**id));
        record(&tx, ids.iter().map(|id| &**id), &print).map_err(sql)?;
        tx.commit().map_err(sql)?;
        self.products_unrecorded = false;
        Ok(())
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `changes` as one batch (see [`write_batch`]) in an `IMMEDIATE` transaction.
    pub(crate) fn write<T>(
        &mut self,
        base: &impl LabelBase,
        changes: &[T],
        parts: impl Fn(&T) -> (&Change, Option<&str>),
        by: &Attribution,
    ) -> Result<Vec<Edit>, StoreError> {
        let tx = self.begin()?;
        let edits = write_batch(tx, base, changes, parts, by)?;
        self.seen.wrote(&edits);
        Ok(edits)
    }

    /// Undoes or redoes `author`'s latest batch (see [`revert`]).
    pub(crate) fn revert(
        &mut self,
        author: &str,
        direction: Direction,
    ) -> Result<Vec<Edit>, StoreError> {
        let tx = self.begin()?;
        let edits = revert(tx, author, direction)?;
        self.seen.wrote(&edits);
        Ok(edits)
    }

    /// A write transaction: `IMMEDIATE`, so it holds SQLite's one write lock from its start.
    fn begin(&mut self) -> Result<Writing<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|reason| StoreError::Sqlite {
                path: self.path.clone(),
                reason,
            })?;
        Ok(Writing {
            tx,
            path: &self.path,
        })
    }

    /// Every journal entry of `product`, oldest first.
    pub fn history(&mut self, product: &str) -> Result<Vec<Edit>, StoreError> {
        select_edits(
            &self.conn,
            &self.path,
            "WHERE product = ?1 ORDER BY id",
            params![product],
        )
    }

    /// Journal entries after `after`, oldest first.
    pub fn journal(&mut self, after: i64) -> Result<Vec<Edit>, StoreError> {
        select_edits(
            &self.conn,
            &self.path,
            "WHERE id > ?1 ORDER BY id",
            params![after],
        )
    }

    /// The latest `limit` journal entries, oldest first.
    pub(crate) fn latest(&mut self, limit: i64) -> Result<Vec<Edit>, StoreError> {
        let mut edits = select_edits(
            &self.conn,
            &self.path,
            "ORDER BY id DESC LIMIT ?1",
            params![limit],
        )?;
        edits.reverse();
        Ok(edits)
    }

    /// Number of journal entries.
    pub fn journal_len(&mut self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM edits", [], |r| r.get(0))
            .map_err(self.sql())
    }

    /// The entries other processes wrote since this store last looked (see
    /// [`super::LabelStore::sync`]), applied to no catalogue.
    pub fn new_edits(&mut self) -> Result<Vec<Edit>, StoreError> {
        let journal = self.journal(self.seen.upto())?;
        Ok(self.seen.others(journal))
    }

    /// The current value of every edited label: (product id, task, value).
    pub fn current_labels(&mut self) -> Result<Vec<(String, Task, Option<String>)>, StoreError> {
        let sql = self.sql();
        let mut stmt = self
            .conn
            .prepare("SELECT product, task, value FROM current")
            .map_err(&sql)?;
        let mut rows = stmt.query([]).map_err(&sql)?;
        let mut labels = Vec::new();
        while let Some(row) = rows.next().map_err(&sql)? {
            let task: String = row.get(1).map_err(&sql)?;
            // A task this build does not know is left out, as when the store is opened.
            if let Ok(task) = task.parse::<Task>() {
                labels.push((row.get(0).map_err(&sql)?, task, row.get(2).map_err(&sql)?));
            }
        }
        Ok(labels)
    }
}

/// An SQLite write transaction, as the rules of writing see it.
struct Writing<'a> {
    tx: rusqlite::Transaction<'a>,
    path: &'a Path,
}

impl Writing<'_> {
    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |reason| StoreError::Sqlite {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    /// Writes `entry` (with origin key `origin`, for an entry copied from another store) and
    /// makes its value the label's current one.
    fn insert_as(
        &mut self,
        entry: &NewEntry<'_>,
        origin: Option<&str>,
    ) -> Result<Edit, StoreError> {
        let sql = self.sql();
        let by = entry.by;
        // Every writing open made sure of the origin column (see `prepare`).
        self.tx
            .execute(
                "INSERT INTO edits(batch, product, task, old, new, author, time_ms, source, \
             reason, reverts, state, state_changed, origin) \
             VALUES (0, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0, ?11)",
                params![
                    entry.product,
                    entry.task.name(),
                    entry.old,
                    entry.new,
                    by.author,
                    entry.time_ms,
                    by.source.name(),
                    by.reason,
                    entry.reverts,
                    entry.state().name(),
                    origin
                ],
            )
            .map_err(&sql)?;
        let id = self.tx.last_insert_rowid();
        let batch = entry.batch.unwrap_or(id);
        self.tx
            .execute(
                "UPDATE edits SET batch = ?1, state_changed = ?2 WHERE id = ?2",
                params![batch, id],
            )
            .map_err(&sql)?;
        self.tx
            .execute(
                "INSERT OR REPLACE INTO current(product, task, value, edit) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![entry.product, entry.task.name(), entry.new, id],
            )
            .map_err(&sql)?;
        Ok(Edit {
            id,
            batch,
            product: entry.product.to_string(),
            task: entry.task,
            old: entry.old.clone(),
            new: entry.new.clone(),
            author: by.author.clone(),
            time_ms: entry.time_ms,
            source: by.source,
            reason: by.reason.clone(),
            reverts: entry.reverts,
        })
    }
}

impl JournalTx for Writing<'_> {
    fn current(
        &mut self,
        product: &str,
        task: Task,
    ) -> Result<Option<(Option<String>, i64)>, StoreError> {
        self.tx
            .query_row(
                "SELECT value, edit FROM current WHERE product = ?1 AND task = ?2",
                params![product, task.name()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.sql())
    }

    fn insert(&mut self, entry: &NewEntry<'_>) -> Result<Edit, StoreError> {
        self.insert_as(entry, None)
    }
    fn end_redo(&mut self, author: &str) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE edits SET state = 'dead' WHERE author = ?1 AND state = 'undone'",
                [author],
            )
            .map(drop)
            .map_err(self.sql())
    }

    fn latest_batch(&mut self, author: &str, state: EntryState) -> Result<Option<i64>, StoreError> {
        self.tx
            .query_row(
                "SELECT batch FROM edits WHERE author = ?1 AND state = ?2 \
                 ORDER BY state_changed DESC LIMIT 1",
                params![author, state.name()],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.sql())
    }

    fn batch_entries(&mut self, batch: i64, state: EntryState) -> Result<Vec<Edit>, StoreError> {
        select_edits(
            &self.tx,
            self.path,
            "WHERE batch = ?1 AND state = ?2 ORDER BY id DESC",
            params![batch, state.name()],
        )
    }

    fn author_of(&mut self, id: i64) -> Result<String, StoreError> {
        self.tx
            .query_row("SELECT author FROM edits WHERE id = ?1", [id], |r| r.get(0))
            .map_err(self.sql())
    }

    fn retire_batch(&mut self, batch: i64) -> Result<(), StoreError> {
        self.tx
            .execute("UPDATE edits SET state = 'dead' WHERE batch = ?1", [batch])
            .map(drop)
            .map_err(self.sql())
    }

    fn set_state(&mut self, id: i64, state: EntryState, by: i64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE edits SET state = ?1, state_changed = ?2 WHERE id = ?3",
                params![state.name(), by, id],
            )
            .map(drop)
            .map_err(self.sql())
    }

    fn commit(self) -> Result<(), StoreError> {
        let path = self.path;
        self.tx.commit().map_err(|reason| StoreError::Sqlite {
            path: path.to_path_buf(),
            reason,
        })
    }
}

/// Refuses a store path that names something other than a file (SQLite would fail on a
/// folder with an unhelpful message, and could block on a FIFO).
fn regular_or_absent(path: &Path) -> Result<(), StoreError> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(StoreError::NotAFile {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

fn select_edits(
    conn: &Connection,
    path: &Path,
    clause: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Edit>, StoreError> {
    let sql = |reason| StoreError::Sqlite {
        path: path.to_path_buf(),
        reason,
    };
    let mut stmt = conn
        .prepare(&format!("SELECT {EDIT_COLUMNS} FROM edits {clause}"))
        .map_err(sql)?;
    let mut rows = stmt.query(params).map_err(sql)?;
    let mut edits = Vec::new();
    while let Some(row) = rows.next().map_err(sql)? {
        let id: i64 = row.get(0).map_err(sql)?;
        let corrupt = |detail: String| StoreError::Corrupt {
            path: path.to_path_buf(),
            id,
            detail,
        };
        let task: String = row.get(3).map_err(sql)?;
        let source: String = row.get(8).map_err(sql)?;
        edits.push(Edit {
            id,
            batch: row.get(1).map_err(sql)?,
            product: row.get(2).map_err(sql)?,
            task: task
                .parse()
                .map_err(|e: crate::catalog::UnknownTask| corrupt(e.to_string()))?,
            old: row.get(4).map_err(sql)?,
            new: row.get(5).map_err(sql)?,
            author: row.get(6).map_err(sql)?,
            time_ms: row.get(7).map_err(sql)?,
            source: source.parse().map_err(corrupt)?,
            reason: row.get(9).map_err(sql)?,
            reverts: row.get(10).map_err(sql)?,
        });
    }
    Ok(edits)
}

impl crate::labels::copy::CopyTx for Writing<'_> {
    fn has_origin(&mut self, origin: &str) -> Result<bool, StoreError> {
        self.tx
            .query_row(
                "SELECT 1 FROM edits WHERE origin = ?1",
                [origin],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(self.sql())
    }

    fn insert_origin(&mut self, entry: &NewEntry<'_>, origin: &str) -> Result<Edit, StoreError> {
        self.insert_as(entry, Some(origin))
    }
}
