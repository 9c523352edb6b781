//! The label store: an SQLite database (WAL, `synchronous=FULL`) holding the edit journal and
//! the current value of every edited label. Imported labels stay in the catalogue source; the
//! current labels are the imported ones with the store's overrides applied.
//!
//! Every write runs in an `IMMEDIATE` transaction and is durable when the call returns, so a
//! crash or `kill -9` loses nothing that was acknowledged, and several processes can edit one
//! store (SQLite serialises the writers; each reads the latest value inside its transaction).

use super::edit::{Edit, EditSource};
use crate::catalog::{Catalog, Task};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
";

const EDIT_COLUMNS: &str =
    "id, batch, product, task, old, new, author, time_ms, source, reason, reverts";

/// A failure of the label store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("label store {}: {reason}", path.display())]
    Sqlite {
        /// The store file.
        path: PathBuf,
        /// The SQLite error.
        reason: rusqlite::Error,
    },
    /// The store's folder could not be created.
    #[error("label store {}: {reason}", path.display())]
    Io {
        /// The folder.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The store was written by a newer build.
    #[error("label store {}: schema version {found} is newer than this build reads ({SCHEMA_VERSION}); nothing was changed", path.display())]
    Schema {
        /// The store file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// A journal entry cannot be read back.
    #[error("label store {}: journal entry #{id} is unreadable: {detail}", path.display())]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// The entry.
        id: i64,
        /// What is wrong.
        detail: String,
    },
    /// An edit names a product the catalogue does not have.
    #[error("unknown product '{}'", crate::catalog::text::excerpt(.0))]
    UnknownProduct(String),
    /// Undo or redo found the label changed since by someone else; the entry is dropped from
    /// the undo history and the newer label is kept.
    #[error(
        "cannot {action} #{id}: {task} of '{}' is now {} (changed since by {by}); the newer label is kept and #{id} leaves the {action} history",
        crate::catalog::text::excerpt(product),
        crate::catalog::text::excerpt(found)
    )]
    Conflict {
        /// `undo` or `redo`.
        action: &'static str,
        /// The journal entry.
        id: i64,
        /// Its product.
        product: String,
        /// Its task.
        task: Task,
        /// The value found.
        found: String,
        /// Who wrote the value found.
        by: String,
    },
}

/// One label change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The product id.
    pub product: String,
    /// The task.
    pub task: Task,
    /// The new label (`None` clears it).
    pub value: Option<String>,
}

/// Who makes a change, how, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The author's name.
    pub author: String,
    /// Where the change comes from.
    pub source: EditSource,
    /// Optional free text.
    pub reason: Option<String>,
}

/// What opening a store against a catalogue found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OpenReport {
    /// The store file.
    pub path: PathBuf,
    /// The store was created by this open.
    pub created: bool,
    /// Edited labels applied onto the catalogue.
    pub overrides: usize,
    /// Edited labels of products no longer in the catalogue (kept in the store, not applied).
    pub orphaned: usize,
    /// Products in the catalogue that were not there when the store was last opened.
    pub added: usize,
    /// Products gone from the catalogue since the store was last opened.
    pub removed: usize,
    /// Up to ten added product ids.
    pub added_sample: Vec<String>,
    /// Up to ten removed product ids.
    pub removed_sample: Vec<String>,
    /// The catalogue the store was made for, when it is not the one opened now.
    pub other_catalogue: Option<String>,
}

/// An open label store.
#[derive(Debug)]
pub struct LabelStore {
    conn: Connection,
    path: PathBuf,
    /// Highest journal id already reflected in the caller's catalogue.
    seen: i64,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Order-independent fingerprint of the product ids. Only compared with itself: a mismatch
/// (for example after a toolchain change alters the hasher) just triggers the full comparison.
fn fingerprint<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let (mut sum, mut count) = (0u64, 0u64);
    for id in ids {
        let mut h = std::hash::DefaultHasher::new();
        id.hash(&mut h);
        sum = sum.wrapping_add(h.finish());
        count += 1;
    }
    format!("{count}:{sum:016x}")
}

impl LabelStore {
    /// Opens (creating if needed) the store at `path` for `catalog`, whose source is named
    /// `catalogue` (recorded to recognise a store opened with another catalogue), and applies
    /// the edited labels onto `catalog`.
    pub fn open(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(LabelStore, OpenReport), StoreError> {
        if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|reason| StoreError::Io {
                path: folder.to_path_buf(),
                reason,
            })?;
        }
        let created = !path.exists();
        let sql = |reason| StoreError::Sqlite {
            path: path.to_path_buf(),
            reason,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql)?;
        // FULL: in WAL mode NORMAL may lose the last commits on power loss.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql)?;
        let mut store = LabelStore {
            conn,
            path: path.to_path_buf(),
            seen: 0,
        };
        let report = store.prepare(catalogue, catalog, created)?;
        Ok((store, report))
    }

    fn sql(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |reason| StoreError::Sqlite {
            path: self.path.clone(),
            reason,
        }
    }

    fn prepare(
        &mut self,
        catalogue: &str,
        catalog: &mut Catalog,
        created: bool,
    ) -> Result<OpenReport, StoreError> {
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        tx.execute_batch(SCHEMA).map_err(sql)?;
        let meta = |key: &str| -> Result<Option<String>, StoreError> {
            tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
                .map_err(sql)
        };
        let version = meta("schema")?.and_then(|v| v.parse::<i64>().ok());
        if let Some(found) = version.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Schema { path, found });
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
                for p in catalog.products() {
                    if !previous.contains(&*p.id) {
                        report.added += 1;
                        if report.added_sample.len() < SAMPLE {
                            report.added_sample.push(p.id.to_string());
                        }
                    }
                }
                let mut removed: Vec<&String> = previous
                    .iter()
                    .filter(|id| catalog.position(id).is_none())
                    .collect();
                removed.sort();
                report.removed = removed.len();
                report.removed_sample = removed.into_iter().take(SAMPLE).cloned().collect();
            }
            tx.execute("DELETE FROM products", []).map_err(sql)?;
            {
                let mut insert = tx
                    .prepare("INSERT OR IGNORE INTO products(id) VALUES (?1)")
                    .map_err(sql)?;
                for p in catalog.products() {
                    insert.execute([&*p.id]).map_err(sql)?;
                }
            }
            tx.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('products', ?1)",
                [&print],
            )
            .map_err(sql)?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?1), ('catalogue', ?2)",
            params![SCHEMA_VERSION.to_string(), catalogue],
        )
        .map_err(sql)?;
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
        tx.commit().map_err(sql)?;
        self.seen = seen;
        Ok(report)
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sets one label. Returns `None` when the label already has that value.
    pub fn set(
        &mut self,
        catalog: &mut Catalog,
        change: Change,
        by: &Attribution,
    ) -> Result<Option<Edit>, StoreError> {
        Ok(self.set_many(catalog, &[change], by)?.pop())
    }

    /// Sets several labels in one transaction: they form one batch, undone together.
    /// Changes that would not change anything are left out of the result.
    pub fn set_many(
        &mut self,
        catalog: &mut Catalog,
        changes: &[Change],
        by: &Attribution,
    ) -> Result<Vec<Edit>, StoreError> {
        if let Some(unknown) = changes
            .iter()
            .find(|c| catalog.position(&c.product).is_none())
        {
            return Err(StoreError::UnknownProduct(unknown.product.clone()));
        }
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
        let mut edits = Vec::new();
        for change in changes {
            let stored: Option<Option<String>> = tx
                .query_row(
                    "SELECT value FROM current WHERE product = ?1 AND task = ?2",
                    params![change.product, change.task.name()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql)?;
            // No row: nobody ever edited this label, so the catalogue holds the imported value.
            let old = match stored {
                Some(value) => value,
                None => catalog
                    .product(&change.product)
                    .and_then(|p| catalog.label_name(p, change.task))
                    .map(String::from),
            };
            let new = change
                .value
                .as_deref()
                .and_then(crate::catalog::normalise_label)
                .map(String::from);
            if old == new {
                continue;
            }
            let batch = edits.first().map(|e: &Edit| e.batch);
            let edit = insert_edit(
                &tx,
                &change.product,
                change.task,
                old,
                new,
                by,
                time_ms,
                batch,
                None,
            )
            .map_err(sql)?;
            edits.push(edit);
        }
        if !edits.is_empty() {
            // A new edit ends the redo history of its author, as in any editor.
            tx.execute(
                "UPDATE edits SET state = 'dead' WHERE author = ?1 AND state = 'undone'",
                [&by.author],
            )
            .map_err(sql)?;
        }
        tx.commit().map_err(sql)?;
        self.apply(catalog, &edits);
        Ok(edits)
    }

    /// Undoes the latest batch of `author` still in effect. Returns the undo entries written
    /// (empty when there is nothing to undo).
    pub fn undo(&mut self, catalog: &mut Catalog, author: &str) -> Result<Vec<Edit>, StoreError> {
        self.revert(catalog, author, Direction::Undo)
    }

    /// Re-applies the latest batch `author` undid. Returns the redo entries written (empty
    /// when there is nothing to redo).
    pub fn redo(&mut self, catalog: &mut Catalog, author: &str) -> Result<Vec<Edit>, StoreError> {
        self.revert(catalog, author, Direction::Redo)
    }

    fn revert(
        &mut self,
        catalog: &mut Catalog,
        author: &str,
        direction: Direction,
    ) -> Result<Vec<Edit>, StoreError> {
        let path = self.path.clone();
        let sql = |reason| StoreError::Sqlite {
            path: path.clone(),
            reason,
        };
        let (from_state, to_state, source) = match direction {
            Direction::Undo => ("done", "undone", EditSource::Undo),
            Direction::Redo => ("undone", "done", EditSource::Redo),
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let batch: Option<i64> = tx
            .query_row(
                "SELECT batch FROM edits WHERE author = ?1 AND state = ?2 \
                 ORDER BY state_changed DESC LIMIT 1",
                params![author, from_state],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql)?;
        let Some(batch) = batch else {
            return Ok(Vec::new());
        };
        let targets = select_edits(
            &tx,
            &path,
            "WHERE batch = ?1 AND state = ?2 ORDER BY id DESC",
            params![batch, from_state],
        )?;
        // All or nothing: if any label of the batch was changed since, the batch leaves the
        // history and every label keeps its newer value.
        for target in &targets {
            let expected = match direction {
                Direction::Undo => &target.new,
                Direction::Redo => &target.old,
            };
            let current: Option<(Option<String>, i64)> = tx
                .query_row(
                    "SELECT value, edit FROM current WHERE product = ?1 AND task = ?2",
                    params![target.product, target.task.name()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(sql)?;
            if let Some((found, edit)) = current.filter(|(value, _)| value != expected) {
                let by: String = tx
                    .query_row("SELECT author FROM edits WHERE id = ?1", [edit], |r| {
                        r.get(0)
                    })
                    .map_err(sql)?;
                tx.execute("UPDATE edits SET state = 'dead' WHERE batch = ?1", [batch])
                    .map_err(sql)?;
                tx.commit().map_err(sql)?;
                return Err(StoreError::Conflict {
                    action: direction.name(),
                    id: target.id,
                    product: target.product.clone(),
                    task: target.task,
                    found: found.map_or("unlabelled".into(), |v| format!("'{v}'")),
                    by,
                });
            }
        }
        let by = Attribution {
            author: author.to_string(),
            source,
            reason: None,
        };
        let time_ms = now_ms();
        let mut written: Vec<Edit> = Vec::new();
        for target in &targets {
            let (old, new) = match direction {
                Direction::Undo => (target.new.clone(), target.old.clone()),
                Direction::Redo => (target.old.clone(), target.new.clone()),
            };
            let edit = insert_edit(
                &tx,
                &target.product,
                target.task,
                old,
                new,
                &by,
                time_ms,
                written.first().map(|e| e.batch),
                Some(target.id),
            )
            .map_err(sql)?;
            tx.execute(
                "UPDATE edits SET state = ?1, state_changed = ?2 WHERE id = ?3",
                params![to_state, edit.id, target.id],
            )
            .map_err(sql)?;
            written.push(edit);
        }
        tx.commit().map_err(sql)?;
        self.apply(catalog, &written);
        Ok(written)
    }

    /// Every journal entry of `product`, oldest first.
    pub fn history(&self, product: &str) -> Result<Vec<Edit>, StoreError> {
        select_edits(
            &self.conn,
            &self.path,
            "WHERE product = ?1 ORDER BY id",
            params![product],
        )
    }

    /// Journal entries after `after`, oldest first.
    pub fn journal(&self, after: i64) -> Result<Vec<Edit>, StoreError> {
        select_edits(
            &self.conn,
            &self.path,
            "WHERE id > ?1 ORDER BY id",
            params![after],
        )
    }

    /// Number of journal entries.
    pub fn journal_len(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM edits", [], |r| r.get(0))
            .map_err(self.sql())
    }

    /// Applies the entries other processes wrote since this store last looked, and returns
    /// them.
    pub fn sync(&mut self, catalog: &mut Catalog) -> Result<Vec<Edit>, StoreError> {
        let edits = self.journal(self.seen)?;
        self.apply(catalog, &edits);
        Ok(edits)
    }

    fn apply(&mut self, catalog: &mut Catalog, edits: &[Edit]) {
        for edit in edits {
            if let Some(position) = catalog.position(&edit.product) {
                catalog.set_label(position, edit.task, edit.new.as_deref());
            }
            self.seen = self.seen.max(edit.id);
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    Undo,
    Redo,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Direction::Undo => "undo",
            Direction::Redo => "redo",
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_edit(
    tx: &rusqlite::Transaction<'_>,
    product: &str,
    task: Task,
    old: Option<String>,
    new: Option<String>,
    by: &Attribution,
    time_ms: i64,
    batch: Option<i64>,
    reverts: Option<i64>,
) -> Result<Edit, rusqlite::Error> {
    // Undo and redo entries are not themselves undoable: their state stays 'journal'.
    let state = if reverts.is_some() { "journal" } else { "done" };
    tx.execute(
        "INSERT INTO edits(batch, product, task, old, new, author, time_ms, source, reason, \
         reverts, state, state_changed) VALUES (0, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 0)",
        params![
            product,
            task.name(),
            old,
            new,
            by.author,
            time_ms,
            by.source.name(),
            by.reason,
            reverts,
            state
        ],
    )?;
    let id = tx.last_insert_rowid();
    let batch = batch.unwrap_or(id);
    tx.execute(
        "UPDATE edits SET batch = ?1, state_changed = ?2 WHERE id = ?2",
        params![batch, id],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO current(product, task, value, edit) VALUES (?1, ?2, ?3, ?4)",
        params![product, task.name(), new, id],
    )?;
    Ok(Edit {
        id,
        batch,
        product: product.to_string(),
        task,
        old,
        new,
        author: by.author.clone(),
        time_ms,
        source: by.source,
        reason: by.reason.clone(),
        reverts,
    })
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
