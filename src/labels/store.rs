//! The label store: current labels = imported labels + an edit journal (who, when, old -> new,
//! why), behind one interface with two engines: an SQLite file ([`super::sqlite`], the
//! default, for one machine) and a team store on PostgreSQL ([`super::team`], shared live by
//! several moderators). The rules of writing (an edit's old value, which batch an undo takes,
//! when undo is refused) live here once, over each engine's write transaction
//! ([`JournalTx`]); every write is durable when the call returns.

use super::change_review::{ChangeQueue, Judged, Judgement, QueueFilter, Verdict};
use super::copy::CopyReport;
use super::edit::{Edit, EditSource};
use super::review::{Keep, Review, Standing, Withdrawn};
use super::sqlite::SqliteStore;
use super::team::TeamStore;
use crate::catalog::text::excerpt;
use crate::catalog::{Catalog, Task};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

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
        /// The store file.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// The store was written by a newer build.
    #[error("label store {}: schema version {found} is newer than this build reads ({reads}); nothing was changed", path.display())]
    Schema {
        /// The store file.
        path: PathBuf,
        /// The version found.
        found: i64,
        /// The newest version this build reads.
        reads: i64,
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
    /// The file is an SQLite database of something else.
    #[error("label store {}: not a vitrine label store (its tables: {tables}); nothing was changed: give another --store file", path.display())]
    Foreign {
        /// The file.
        path: PathBuf,
        /// Some of its tables.
        tables: String,
    },
    /// The store lacks tables it needs, so its edits cannot be applied.
    #[error("label store {}: {missing} missing, so its edits cannot be applied; nothing was changed (restore the file from a backup)", path.display())]
    MissingTable {
        /// The store file.
        path: PathBuf,
        /// What is missing: `table 'current' is`, `tables 'current', 'products' are`.
        missing: String,
    },
    /// The store's path is a folder, a FIFO or a device, not a file.
    #[error("label store {}: not a regular file (a folder, FIFO or device); give a file path", path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
    },
    /// An edit names a product the catalogue does not have.
    #[error("unknown product '{}'", excerpt(.0))]
    UnknownProduct(String),
    /// Undo or redo found the label changed since by someone else; the entry is dropped from
    /// the undo history and the newer label is kept.
    #[error(
        "cannot {action} #{id}: {task} of '{}' is now {} (changed since by {}); the newer label is kept and #{id} leaves the {action} history",
        excerpt(product),
        excerpt(found),
        excerpt(by)
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
    /// A review to withdraw is not in the store.
    #[error("label store {}: no review #{id}; nothing was changed", path.display())]
    UnknownReview {
        /// The store file.
        path: PathBuf,
        /// The review.
        id: i64,
    },
    /// A review to withdraw was withdrawn already (by another window, say).
    #[error("label store {}: review #{id} was already withdrawn by {}; nothing was changed", path.display(), excerpt(by))]
    AlreadyWithdrawn {
        /// The store file.
        path: PathBuf,
        /// The review.
        id: i64,
        /// Who withdrew it.
        by: String,
    },
    /// A keep names no label: there is nothing to confirm.
    #[error("label store {}: cannot keep the {task} label of '{}': it has none; nothing was written", path.display(), excerpt(product))]
    NothingToKeep {
        /// The store file.
        path: PathBuf,
        /// The product.
        product: String,
        /// The task.
        task: Task,
    },
    /// The team store's server failed or refused a statement.
    #[error("team store {address}: {reason}")]
    Team {
        /// The store's address (no password).
        address: String,
        /// What the server or the connection said.
        reason: String,
    },
    /// The team store's server cannot be reached (down, restarting, or the network is away).
    #[error("team store {address}: cannot reach the server: {reason}")]
    Unreachable {
        /// The store's address (no password).
        address: String,
        /// What the connection said.
        reason: String,
    },
    /// The database role lacks a privilege the operation needs.
    #[error(
        "team store {address}: role '{}' may not {what} ({reason}); ask the store's administrator for the {needs} role (docs: README, team store)",
        excerpt(role)
    )]
    Denied {
        /// The store's address (no password).
        address: String,
        /// The database role.
        role: String,
        /// What was refused: `edit labels`, `create the schema`.
        what: String,
        /// The group role that may: `moderator`, `reviewer`.
        needs: &'static str,
        /// The server's message.
        reason: String,
    },
    /// A team store's address cannot be used.
    #[error("store address '{}': {reason}", excerpt(given))]
    Address {
        /// The address as given (a password in it is not repeated).
        given: String,
        /// What is wrong.
        reason: String,
    },
    /// A review cannot be read back.
    #[error("label store {}: review #{id} is unreadable: {detail}", path.display())]
    CorruptReview {
        /// The store file.
        path: PathBuf,
        /// The review.
        id: i64,
        /// What is wrong.
        detail: String,
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
    /// In a team store: the database role the journal names as the author of this window's
    /// edits (the server's `session_user`, whatever `--author` says).
    pub role: Option<String>,
}

/// An edit made while a team store's server was away that the server refused when it was
/// sent: someone had changed the label since this window last saw it. Their label is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The product id.
    pub product: String,
    /// The task.
    pub task: Task,
    /// The label this window had set.
    pub wanted: Option<String>,
    /// The label the server has, which stays.
    pub found: Option<String>,
    /// Who set the label the server has.
    pub by: String,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = |v: &Option<String>| {
            v.as_deref()
                .map_or_else(|| "(none)".into(), |v| format!("'{}'", excerpt(v)))
        };
        write!(
            f,
            "not sent: your {} of '{}' ({}) made offline; {} had set it to {} meanwhile, which is kept",
            self.task,
            excerpt(&self.product),
            value(&self.wanted),
            excerpt(&self.by),
            value(&self.found)
        )
    }
}

/// Where a team store's edits stand with its server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerState {
    /// The last look or write could not reach the server.
    pub offline: bool,
    /// Edits in the outbox, waiting to be sent.
    pub waiting: usize,
    /// The outbox file (`None`: opened for reading, with no outbox).
    pub outbox: Option<PathBuf>,
    /// Why the server refused the oldest waiting write when it was last sent (the edits stay
    /// waiting, in order, and are sent once it accepts them); `None` when it did not.
    pub refused: Option<String>,
}

/// An open label store: an SQLite file or a team store.
#[derive(Debug)]
pub enum LabelStore {
    /// The embedded SQLite engine (one file, several processes on one machine).
    File(SqliteStore),
    /// The PostgreSQL engine (one server, a team); boxed, being five times the file's size.
    Team(Box<TeamStore>),
}

/// Runs `$body` on the engine behind `$store`, bound as `$engine`.
macro_rules! engine {
    ($store:expr, $engine:ident => $body:expr) => {
        match $store {
            LabelStore::File($engine) => $body,
            LabelStore::Team($engine) => $body,
        }
    };
}

impl LabelStore {
    /// Opens (creating if needed) the SQLite store at `path` for `catalog`, whose source is
    /// named `catalogue`, and applies the edited labels onto `catalog` (see
    /// [`SqliteStore::open`]).
    pub fn open(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(LabelStore, OpenReport), StoreError> {
        let (store, report) = SqliteStore::open(path, catalogue, catalog)?;
        Ok((LabelStore::File(store), report))
    }

    /// [`LabelStore::open`], leaving the recording of the catalogue's products, where they
    /// changed, to [`LabelStore::record_products`] (the report is the same).
    pub fn open_recording_later(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(LabelStore, OpenReport), StoreError> {
        let (store, report) = SqliteStore::open_recording_later(path, catalogue, catalog)?;
        Ok((LabelStore::File(store), report))
    }

    /// Opens the SQLite store at `path` for reading only (see [`SqliteStore::open_read_only`]).
    pub fn open_read_only(
        path: &Path,
        catalogue: &str,
        catalog: &mut Catalog,
    ) -> Result<(LabelStore, OpenReport), StoreError> {
        let (store, report) = SqliteStore::open_read_only(path, catalogue, catalog)?;
        Ok((LabelStore::File(store), report))
    }

    /// Opens the team store at `address` for the catalogue `identity` (see
    /// [`super::team::identity`]), migrating its schema, and applies the edited labels onto
    /// `catalog`. Edits made while the server is away wait in the outbox file `outbox`
    /// (without one, they are refused).
    pub fn open_team(
        address: &super::team::TeamAddress,
        identity: &str,
        catalog: &mut Catalog,
        outbox: Option<&Path>,
    ) -> Result<(LabelStore, OpenReport), StoreError> {
        let (store, report) = TeamStore::open(address, identity, catalog, Recording::Now, outbox)?;
        Ok((LabelStore::Team(Box::new(store)), report))
    }

    /// Records the catalogue's products (`ids`, those it was opened with) if opening left it
    /// for later ([`LabelStore::open_recording_later`]); else does nothing.
    pub fn record_products(&mut self, ids: &[Arc<str>]) -> Result<(), StoreError> {
        engine!(self, s => s.record_products(ids))
    }

    /// The store: its file, or a team store's address (no password) as a path, which every
    /// `--store` takes back.
    pub fn path(&self) -> &Path {
        engine!(self, s => s.path())
    }

    /// In a team store, the database role every edit of this store is journalled under (it
    /// replaces the author callers give); `None` for a file.
    pub fn role(&self) -> Option<&str> {
        match self {
            LabelStore::File(_) => None,
            LabelStore::Team(s) => Some(s.role()),
        }
    }

    /// In a team store, whether its server is reachable and how many edits wait in the outbox
    /// for it; `None` for a file.
    pub fn server_state(&self) -> Option<ServerState> {
        match self {
            LabelStore::File(_) => None,
            LabelStore::Team(s) => Some(s.server_state()),
        }
    }

    /// The edits made offline that the server refused since the last call (the label had
    /// changed meanwhile); always empty for a file.
    pub fn take_lost(&mut self) -> Vec<Lost> {
        match self {
            LabelStore::File(_) => Vec::new(),
            LabelStore::Team(s) => s.take_lost(),
        }
    }

    /// How often a holder should call [`LabelStore::new_edits`] to see others' edits: a file
    /// is read again each time; a team store only looks at the notifications its server has
    /// already sent, so it is asked often and answers at once.
    pub fn sync_interval(&self) -> Duration {
        match self {
            LabelStore::File(_) => Duration::from_secs(2),
            LabelStore::Team(_) => Duration::from_millis(100),
        }
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
        let edits = engine!(self, s => s.write(&*catalog, changes, |c| (c, None), by))?;
        apply(catalog, &edits);
        Ok(edits)
    }

    /// [`LabelStore::set_many`] with a reason for each change (`by.reason` where it has none).
    pub fn set_many_with_reasons(
        &mut self,
        catalog: &mut Catalog,
        changes: &[(Change, Option<String>)],
        by: &Attribution,
    ) -> Result<Vec<Edit>, StoreError> {
        let edits =
            engine!(self, s => s.write(&*catalog, changes, |(c, r)| (c, r.as_deref()), by))?;
        apply(catalog, &edits);
        Ok(edits)
    }

    /// [`LabelStore::set_many`] over `base` (the labels as imported), applying the edits to no
    /// catalogue: for an owner that keeps none and hands the edits on (the window's store
    /// worker).
    pub fn set_many_over(
        &mut self,
        base: &impl LabelBase,
        changes: &[Change],
        by: &Attribution,
    ) -> Result<Vec<Edit>, StoreError> {
        engine!(self, s => s.write(base, changes, |c| (c, None), by))
    }

    /// Undoes the latest batch of `author` still in effect. Returns the undo entries written
    /// (empty when there is nothing to undo).
    pub fn undo(&mut self, catalog: &mut Catalog, author: &str) -> Result<Vec<Edit>, StoreError> {
        let edits = self.undo_edits(author)?;
        apply(catalog, &edits);
        Ok(edits)
    }

    /// Re-applies the latest batch `author` undid. Returns the redo entries written (empty
    /// when there is nothing to redo).
    pub fn redo(&mut self, catalog: &mut Catalog, author: &str) -> Result<Vec<Edit>, StoreError> {
        let edits = self.redo_edits(author)?;
        apply(catalog, &edits);
        Ok(edits)
    }

    /// [`LabelStore::undo`], applying the entries to no catalogue (see
    /// [`LabelStore::set_many_over`]).
    pub fn undo_edits(&mut self, author: &str) -> Result<Vec<Edit>, StoreError> {
        engine!(self, s => s.revert(author, Direction::Undo))
    }

    /// [`LabelStore::redo`], applying the entries to no catalogue.
    pub fn redo_edits(&mut self, author: &str) -> Result<Vec<Edit>, StoreError> {
        engine!(self, s => s.revert(author, Direction::Redo))
    }

    /// Every journal entry of `product`, oldest first.
    pub fn history(&mut self, product: &str) -> Result<Vec<Edit>, StoreError> {
        engine!(self, s => s.history(product))
    }

    /// Journal entries after `after`, oldest first.
    pub fn journal(&mut self, after: i64) -> Result<Vec<Edit>, StoreError> {
        engine!(self, s => s.journal(after))
    }

    /// The latest `limit` journal entries, oldest first.
    pub fn latest(&mut self, limit: u64) -> Result<Vec<Edit>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        engine!(self, s => s.latest(limit))
    }

    /// Number of journal entries.
    pub fn journal_len(&mut self) -> Result<i64, StoreError> {
        engine!(self, s => s.journal_len())
    }

    /// Applies the entries other processes wrote since this store last looked, and returns
    /// them.
    pub fn sync(&mut self, catalog: &mut Catalog) -> Result<Vec<Edit>, StoreError> {
        let edits = self.new_edits()?;
        apply(catalog, &edits);
        Ok(edits)
    }

    /// The entries other processes wrote since this store last looked (see
    /// [`LabelStore::sync`]), applied to no catalogue.
    pub fn new_edits(&mut self) -> Result<Vec<Edit>, StoreError> {
        engine!(self, s => s.new_edits())
    }

    /// The current value of every edited label: (product id, task, value).
    pub fn current_labels(&mut self) -> Result<Vec<(String, Task, Option<String>)>, StoreError> {
        engine!(self, s => s.current_labels())
    }

    /// Journals that `author` checked the label `keep.label` of `keep.product` (a product of
    /// `base`) for `keep.task` and kept it, with the product's photos then. Returns the review.
    pub fn keep(
        &mut self,
        base: &impl LabelBase,
        keep: &Keep,
        author: &str,
    ) -> Result<Review, StoreError> {
        engine!(self, s => s.keep(base, keep, author))
    }

    /// Withdraws review `id` as `author` (the row stays, marked withdrawn). Returns it with
    /// what stands for its product and task since.
    pub fn withdraw_review(&mut self, id: i64, author: &str) -> Result<Withdrawn, StoreError> {
        engine!(self, s => s.withdraw_review(id, author))
    }

    /// The standing reviews: per product and task, the latest one not withdrawn; oldest first.
    pub fn reviews(&mut self) -> Result<Vec<Review>, StoreError> {
        engine!(self, s => s.reviews())
    }

    /// What stands now for each product and task whose reviews changed since this store last
    /// looked (kept or withdrawn by another process, or by this one while another wrote),
    /// oldest change first.
    pub fn new_reviews(&mut self) -> Result<Vec<Standing>, StoreError> {
        engine!(self, s => s.new_reviews())
    }

    /// Marks each pair of product ids (products of `base`) as not duplicates, as `author`.
    /// Returns how many pairs were new (a pair marked before keeps its first mark).
    pub fn mark_not_duplicates(
        &mut self,
        base: &impl LabelBase,
        pairs: &[(String, String)],
        author: &str,
    ) -> Result<usize, StoreError> {
        for (a, b) in pairs {
            for id in [a, b] {
                if base.position(id).is_none() {
                    return Err(StoreError::UnknownProduct(id.clone()));
                }
            }
        }
        engine!(self, s => s.mark_not_duplicates(pairs, author))
    }

    /// The changes waiting for `reviewer`'s verdict that `filter` lets through, newest
    /// first (in a team store the reviewer is the store's role).
    pub fn change_queue(
        &mut self,
        filter: &QueueFilter,
        reviewer: &str,
    ) -> Result<ChangeQueue, StoreError> {
        engine!(self, s => s.change_queue(filter, reviewer))
    }

    /// Gives `verdict` as `reviewer` on the entries `ids` (with `whole_batches`, on every
    /// entry of their batches) and applies the reverts written onto `catalog` (see
    /// [`super::change_review`]).
    pub fn judge(
        &mut self,
        catalog: &mut Catalog,
        ids: &[i64],
        whole_batches: bool,
        reviewer: &str,
        verdict: Verdict,
    ) -> Result<Judged, StoreError> {
        let judged = self.judge_over(ids, whole_batches, reviewer, verdict)?;
        apply(catalog, &judged.reverts);
        Ok(judged)
    }

    /// [`LabelStore::judge`], applying the reverts to no catalogue.
    pub fn judge_over(
        &mut self,
        ids: &[i64],
        whole_batches: bool,
        reviewer: &str,
        verdict: Verdict,
    ) -> Result<Judged, StoreError> {
        engine!(self, s => s.judge(ids, whole_batches, reviewer, verdict))
    }

    /// Whether a verdict was given since the last call (by anyone): a holder showing a review
    /// queue reads it again. The first call only notes where the verdicts stand.
    pub fn verdicts_changed(&mut self) -> Result<bool, StoreError> {
        match self {
            LabelStore::File(s) => s.verdicts_changed(),
            LabelStore::Team(s) => Ok(s.verdicts_changed()),
        }
    }

    /// The verdicts on the journal entries of `product`.
    pub fn judgements(&mut self, product: &str) -> Result<Vec<Judgement>, StoreError> {
        engine!(self, s => s.judgements(product))
    }

    /// Copies this store's journal into `target`, over `base` (the catalogue `target` was
    /// opened with): idempotent, never over a label `target` changed (see [`super::copy`]).
    pub fn copy_to(
        &mut self,
        target: &mut LabelStore,
        base: &impl LabelBase,
    ) -> Result<CopyReport, StoreError> {
        let entries = engine!(self, s => s.outgoing())?;
        let from = self.path().display().to_string();
        engine!(target, t => t.copy_in(base, &entries, &from))
    }

    /// Every pair marked not duplicates, lower id first.
    pub fn not_duplicates(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        engine!(self, s => s.not_duplicates())
    }
}

/// What a store writes over: the products by id, and the label of one nobody edited yet (the
/// imported label, which a new edit replaces and records as its old value).
pub trait LabelBase {
    /// The position of the product with id `id`.
    fn position(&self, id: &str) -> Option<usize>;
    /// The label of `task` of the product at `position`, where no edit changed it.
    fn base_label(&self, position: usize, task: Task) -> Option<&str>;
}

impl LabelBase for Catalog {
    fn position(&self, id: &str) -> Option<usize> {
        Catalog::position(self, id)
    }

    fn base_label(&self, position: usize, task: Task) -> Option<&str> {
        self.label_name(&self.products()[position], task)
    }
}

/// Applies journal entries to `catalog`.
pub(crate) fn apply(catalog: &mut Catalog, edits: &[Edit]) {
    for edit in edits {
        if let Some(position) = catalog.position(&edit.product) {
            catalog.set_label(position, edit.task, edit.new.as_deref());
        }
    }
}

/// Order-independent fingerprint of the product ids. Only compared with itself: a mismatch
/// (for example after a toolchain change alters the hasher) just triggers the full comparison.
pub(crate) fn fingerprint<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let (mut sum, mut count) = (0u64, 0u64);
    for id in ids {
        let mut h = std::hash::DefaultHasher::new();
        id.hash(&mut h);
        sum = sum.wrapping_add(h.finish());
        count += 1;
    }
    format!("{count}:{sum:016x}")
}

/// How many product ids an open report lists.
const SAMPLE: usize = 10;

/// Fills `report`'s products added and removed: `catalog`'s against `previous`, those the
/// store recorded when it was last opened.
pub(crate) fn compare_products(
    catalog: &Catalog,
    previous: &HashSet<String>,
    report: &mut OpenReport,
) {
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

/// Milliseconds since the Unix epoch, as journalled.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// When opening a store records the catalogue's products (for the next open's report of
/// products added and removed), if they changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recording {
    /// Read only: never.
    Never,
    /// In the open's transaction.
    Now,
    /// Through [`LabelStore::record_products`]: a new catalogue of 1,000,000 products is a
    /// second of inserts, which a window need not wait for.
    Later,
}

/// How much of the journal the holder of a store's labels has been given: every entry up to
/// `upto`, and the store's own writes beyond it. Another writer's entry can come between
/// this store's last look and its own next write, so an own write does not move `upto`: the
/// next look returns what others wrote, without what this store wrote itself, and without an
/// entry of theirs that an own later entry of the same label superseded (the holder has the
/// newer value; applying the older one after it would undo it in the holder's eyes).
#[derive(Debug, Default)]
pub(crate) struct Seen {
    upto: i64,
    own: std::collections::BTreeMap<i64, (String, Task)>,
}

impl Seen {
    /// Everything up to entry `upto` is reflected.
    pub(crate) fn up_to(upto: i64) -> Self {
        Seen {
            upto,
            own: Default::default(),
        }
    }

    /// The entry after which to look.
    pub(crate) fn upto(&self) -> i64 {
        self.upto
    }

    /// Notes the store's own entries, reflected by the caller who wrote them.
    pub(crate) fn wrote(&mut self, edits: &[Edit]) {
        for edit in edits.iter().filter(|e| e.id > self.upto) {
            self.own.insert(edit.id, (edit.product.clone(), edit.task));
        }
    }

    /// The entries of `journal` (those after [`Seen::upto`], oldest first) the holder has not
    /// been given and still needs; all of them count as given from now on.
    pub(crate) fn others(&mut self, journal: Vec<Edit>) -> Vec<Edit> {
        if let Some(last) = journal.last() {
            self.upto = self.upto.max(last.id);
        }
        let own = std::mem::take(&mut self.own);
        let superseded = |edit: &Edit| {
            own.range(edit.id + 1..)
                .any(|(_, (product, task))| *product == edit.product && *task == edit.task)
        };
        let needed = journal
            .into_iter()
            .filter(|e| !own.contains_key(&e.id) && !superseded(e))
            .collect();
        self.own = own.into_iter().filter(|(id, _)| *id > self.upto).collect();
        needed
    }
}

#[cfg(test)]
mod seen_tests {
    use super::*;

    fn entry(id: i64, product: &str) -> Edit {
        Edit {
            id,
            batch: id,
            product: product.into(),
            task: Task::Colour,
            old: None,
            new: Some(format!("v{id}")),
            author: "x".into(),
            time_ms: 0,
            source: EditSource::Human,
            reason: None,
            reverts: None,
        }
    }

    #[test]
    fn own_entries_and_the_older_ones_they_supersede_are_not_handed_back() {
        let mut seen = Seen::up_to(1);
        // Another writer's #2 (p1) and #3 (p2) came before this store's own #4 (p1).
        seen.wrote(&[entry(4, "p1")]);
        let journal = vec![entry(2, "p1"), entry(3, "p2"), entry(4, "p1")];
        let ids: Vec<i64> = seen.others(journal).iter().map(|e| e.id).collect();
        assert_eq!(ids, [3], "#2 is older than the own #4 of the same label");
        assert_eq!(seen.upto(), 4);
        assert!(seen.others(Vec::new()).is_empty());
        // A later foreign entry of the same label is handed on.
        seen.wrote(&[entry(6, "p2")]);
        let ids: Vec<i64> = seen
            .others(vec![entry(5, "p1"), entry(6, "p2"), entry(7, "p2")])
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, [5, 7]);
    }
}

/// Undo or redo.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Direction {
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

/// Where a journal entry stands in its author's undo and redo history (the engines also
/// write `dead`: undone and then superseded by a new edit, or refused by a conflict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryState {
    /// In effect (human, accepted-prediction and bulk entries).
    Done,
    /// Undone, and can be redone.
    Undone,
    /// An undo or redo entry, itself never undone.
    Journal,
}

impl EntryState {
    /// The name as stored.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EntryState::Done => "done",
            EntryState::Undone => "undone",
            EntryState::Journal => "journal",
        }
    }
}

/// A journal entry to write.
pub(crate) struct NewEntry<'a> {
    pub product: &'a str,
    pub task: Task,
    pub old: Option<String>,
    pub new: Option<String>,
    pub by: &'a Attribution,
    pub time_ms: i64,
    /// The batch it joins; `None` starts one, numbered by the entry's own id.
    pub batch: Option<i64>,
    /// The entry an undo or redo reverts.
    pub reverts: Option<i64>,
    /// Its place among the entries of its write (a team store's origin key names it).
    pub position: usize,
}

impl NewEntry<'_> {
    /// The state it is written with: undo and redo entries are not themselves undoable.
    pub(crate) fn state(&self) -> EntryState {
        if self.reverts.is_some() {
            EntryState::Journal
        } else {
            EntryState::Done
        }
    }
}

/// One engine's write transaction, serialised with every other writer of the same
/// catalogue's journal: what the rules of writing ([`write_batch`], [`revert`]) need. Dropping
/// it without [`JournalTx::commit`] rolls it back.
pub(crate) trait JournalTx {
    /// The stored value of a label and the entry that wrote it; `None`: nobody ever edited it.
    fn current(
        &mut self,
        product: &str,
        task: Task,
    ) -> Result<Option<(Option<String>, i64)>, StoreError>;
    /// Writes an entry and makes its value the label's current one.
    fn insert(&mut self, entry: &NewEntry<'_>) -> Result<Edit, StoreError>;
    /// Marks every entry `author` undid as dead: a new edit ends the author's redo history.
    fn end_redo(&mut self, author: &str) -> Result<(), StoreError>;
    /// The batch of `author`'s entry in `state` that changed state last.
    fn latest_batch(&mut self, author: &str, state: EntryState) -> Result<Option<i64>, StoreError>;
    /// The entries of `batch` in `state`, newest first.
    fn batch_entries(&mut self, batch: i64, state: EntryState) -> Result<Vec<Edit>, StoreError>;
    /// The author of entry `id`.
    fn author_of(&mut self, id: i64) -> Result<String, StoreError>;
    /// Marks every entry of `batch` dead.
    fn retire_batch(&mut self, batch: i64) -> Result<(), StoreError>;
    /// Sets the state of entry `id`, changed by entry `by`.
    fn set_state(&mut self, id: i64, state: EntryState, by: i64) -> Result<(), StoreError>;
    /// Commits.
    fn commit(self) -> Result<(), StoreError>;
}

/// Writes `changes` (products of `base`) as one batch by `by` in `tx`, leaving out those that
/// change nothing, and commits. The old value of a label nobody edited is `base`'s.
pub(crate) fn write_batch<T>(
    mut tx: impl JournalTx,
    base: &impl LabelBase,
    changes: &[T],
    parts: impl Fn(&T) -> (&Change, Option<&str>),
    by: &Attribution,
) -> Result<Vec<Edit>, StoreError> {
    if let Some(unknown) = changes
        .iter()
        .map(|c| parts(c).0)
        .find(|c| base.position(&c.product).is_none())
    {
        return Err(StoreError::UnknownProduct(unknown.product.clone()));
    }
    let time_ms = now_ms();
    let mut edits: Vec<Edit> = Vec::new();
    for (position, item) in changes.iter().enumerate() {
        let (change, reason) = parts(item);
        // No row: nobody ever edited this label, so it is the imported one.
        let old = match tx.current(&change.product, change.task)? {
            Some((value, _)) => value,
            None => base
                .position(&change.product)
                .and_then(|p| base.base_label(p, change.task))
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
        let explained;
        let by = match reason {
            Some(reason) => {
                explained = Attribution {
                    reason: Some(reason.to_string()),
                    ..by.clone()
                };
                &explained
            }
            None => by,
        };
        let edit = tx.insert(&NewEntry {
            product: &change.product,
            task: change.task,
            old,
            new,
            by,
            time_ms,
            batch: edits.first().map(|e| e.batch),
            reverts: None,
            position,
        })?;
        edits.push(edit);
    }
    if !edits.is_empty() {
        // A new edit ends the redo history of its author, as in any editor.
        tx.end_redo(&by.author)?;
    }
    tx.commit()?;
    Ok(edits)
}

/// Undoes (or redoes) the latest batch of `author` in `tx` and commits; refuses the whole
/// batch, and drops it from the history, where any of its labels was changed since.
pub(crate) fn revert(
    mut tx: impl JournalTx,
    author: &str,
    direction: Direction,
) -> Result<Vec<Edit>, StoreError> {
    let (from_state, to_state, source) = match direction {
        Direction::Undo => (EntryState::Done, EntryState::Undone, EditSource::Undo),
        Direction::Redo => (EntryState::Undone, EntryState::Done, EditSource::Redo),
    };
    let Some(batch) = tx.latest_batch(author, from_state)? else {
        return Ok(Vec::new());
    };
    let mut targets = tx.batch_entries(batch, from_state)?;
    // Undo walks the batch newest first and redo oldest first, so a label the batch changed
    // twice ends at its value before the batch (undo) or after it (redo).
    if let Direction::Redo = direction {
        targets.reverse();
    }
    // All or nothing: if any label of the batch was changed since, the batch leaves the
    // history and every label keeps its newer value. Only the first entry of each label in
    // walking order can be compared with the label as it is now.
    let mut checked = HashSet::new();
    for target in &targets {
        if !checked.insert((target.product.as_str(), target.task)) {
            continue;
        }
        let expected = match direction {
            Direction::Undo => &target.new,
            Direction::Redo => &target.old,
        };
        let current = tx.current(&target.product, target.task)?;
        if let Some((found, edit)) = current.filter(|(value, _)| value != expected) {
            let by = tx.author_of(edit)?;
            tx.retire_batch(batch)?;
            tx.commit()?;
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
    for (position, target) in targets.iter().enumerate() {
        let (old, new) = match direction {
            Direction::Undo => (target.new.clone(), target.old.clone()),
            Direction::Redo => (target.old.clone(), target.new.clone()),
        };
        let edit = tx.insert(&NewEntry {
            product: &target.product,
            task: target.task,
            old,
            new,
            by: &by,
            time_ms,
            batch: written.first().map(|e| e.batch),
            reverts: Some(target.id),
            position,
        })?;
        tx.set_state(target.id, to_state, edit.id)?;
        written.push(edit);
    }
    tx.commit()?;
    Ok(written)
}
