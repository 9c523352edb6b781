//! The team engine of the label store: one PostgreSQL database shared by a team, holding many
//! catalogues (each keyed by its identity, [`identity`]), with the same journal, undo and
//! conflict rules as the file engine ([`super::store`]).
//!
//! - The author of every entry is the database role (`session_user`), whatever the caller
//!   says: row level security refuses any other name, so nobody writes under someone else's.
//! - Writers of one catalogue are serialised by an advisory lock held for the transaction, so
//!   each reads the latest label inside it (as SQLite's single writer does for a file).
//! - Another window's edit is announced by `NOTIFY` at its commit; a holder looks at the
//!   notifications received (no query) and reads the journal only when told.
//! - While the server cannot be reached, edits go to a durable outbox on this machine
//!   ([`outbox`]) and are sent, in order, when it is back: each only where the server still
//!   has the label this window saw (else it is [`Lost`], and the other's label stays), and
//!   each once, by its origin key.

mod address;
mod copying;
mod outbox;
pub mod schema;
mod verdicts;

pub use address::{Environment, TeamAddress, Tls, is_team};

use super::edit::Edit;
use super::review::{Keep, Review, Standing, Withdrawal, Withdrawn};
use super::store::{
    Attribution, Change, Direction, EntryState, JournalTx, LabelBase, Lost, NewEntry, OpenReport,
    Recording, Seen, ServerState, StoreError, apply, compare_products, fingerprint, now_ms, revert,
    write_batch,
};
use crate::catalog::{Catalog, Task, normalise_label};
use outbox::{Outbox, Outgoing, Pending};
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{GenericClient, Row};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The key space of vitrine's advisory locks (the two-key form: this, then a catalogue id).
const LOCK_SPACE: i32 = 0x7669_7472; // "vitr"
/// The advisory lock of migrations (second key).
const MIGRATION_LOCK: i32 = 0;
/// How often a holder reads the journal even without a notification (a notification can be
/// lost with a connection).
const LOOK_ANYWAY: Duration = Duration::from_secs(10);
/// How long a look for notifications waits for one to arrive.
const NOTIFICATION_WAIT: Duration = Duration::from_millis(2);
/// How long after a lost connection the next reconnect is tried.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);

const EDIT_COLUMNS: &str =
    "id, batch, product, task, old, new, author, time_ms, source, reason, reverts";
const REVIEW_COLUMNS: &str =
    "id, product, task, label, photos, author, time_ms, withdrawn_by, withdrawn_ms";

/// What identifies a catalogue in a team store, the same on every machine: the address's
/// `catalogue=NAME` where given, else the catalogue file's folder and name
/// (`myntra-fpi/styles.csv`), which a copy of the data has wherever it lies, unlike its path.
pub fn identity(source: &Path, address: &TeamAddress) -> String {
    if let Some(name) = address.catalogue() {
        return name.trim().to_string();
    }
    let name = |p: Option<&std::ffi::OsStr>| p.map(|n| n.to_string_lossy().into_owned());
    let file = name(source.file_name()).unwrap_or_default();
    match name(source.parent().and_then(Path::file_name)) {
        Some(folder) => format!("{folder}/{file}"),
        None => file,
    }
}

/// A one-line account of a PostgreSQL failure: the server's message with its detail and
/// hint, or the connection's error with its cause.
pub(crate) fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        let mut text = db.message().to_string();
        if let Some(detail) = db.detail() {
            text.push_str(&format!(" ({detail})"));
        }
        if let Some(hint) = db.hint() {
            text.push_str(&format!("; {hint}"));
        }
        return text;
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// Turns PostgreSQL failures into store errors: a refused privilege names the role and what
/// it tried, a lost connection is [`StoreError::Unreachable`].
#[derive(Debug, Clone)]
struct Failure {
    address: String,
    role: String,
}

impl Failure {
    fn of(&self, what: &'static str) -> impl Fn(postgres::Error) -> StoreError + '_ {
        self.needing(what, "moderator")
    }

    /// [`Failure::of`] for what only the group role `needs` may do.
    fn needing(
        &self,
        what: &'static str,
        needs: &'static str,
    ) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |error| {
            let reason = describe(&error);
            let code = error.code();
            if code == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
                return StoreError::Denied {
                    address: self.address.clone(),
                    role: self.role.clone(),
                    what: what.to_string(),
                    needs,
                    reason,
                };
            }
            let lost = error.is_closed()
                || error.as_db_error().is_none()
                || code.is_some_and(|c| {
                    c.code().starts_with("08")
                        || [
                            SqlState::ADMIN_SHUTDOWN,
                            SqlState::CRASH_SHUTDOWN,
                            SqlState::CANNOT_CONNECT_NOW,
                        ]
                        .contains(c)
                });
            if lost {
                StoreError::Unreachable {
                    address: self.address.clone(),
                    reason,
                }
            } else {
                StoreError::Team {
                    address: self.address.clone(),
                    reason: format!("{what}: {reason}"),
                }
            }
        }
    }
}

/// The statements of a write, prepared once per connection: each then costs one round trip,
/// not two (parse and run).
struct Statements {
    lock: postgres::Statement,
    current: postgres::Statement,
    insert: postgres::Statement,
    end_redo: postgres::Statement,
    latest_batch: postgres::Statement,
}

const LOCK_SQL: &str = "SELECT pg_advisory_xact_lock($1, $2::int)";
const CURRENT_SQL: &str = "SELECT value, edit FROM vitrine.current \
     WHERE catalogue = $1 AND product = $2 AND task = $3";
const INSERT_SQL: &str = "INSERT INTO vitrine.edits(id, batch, state_changed, catalogue, \
     product, task, old, new, author, time_ms, source, reason, reverts, state, origin) \
     SELECT n, COALESCE($1, n), n, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
     FROM (SELECT nextval('vitrine.edit_ids') AS n) AS next RETURNING id, batch";
const END_REDO_SQL: &str = "UPDATE vitrine.edits SET state = 'dead' \
     WHERE catalogue = $1 AND author = $2 AND state = 'undone'";
const LATEST_BATCH_SQL: &str = "SELECT batch FROM vitrine.edits \
     WHERE catalogue = $1 AND author = $2 AND state = $3 ORDER BY state_changed DESC LIMIT 1";

impl Statements {
    fn prepare(client: &mut postgres::Client, fail: &Failure) -> Result<Statements, StoreError> {
        let mut prepare = |sql: &str| client.prepare(sql).map_err(fail.of("prepare"));
        Ok(Statements {
            lock: prepare(LOCK_SQL)?,
            current: prepare(CURRENT_SQL)?,
            insert: prepare(INSERT_SQL)?,
            end_redo: prepare(END_REDO_SQL)?,
            latest_batch: prepare(LATEST_BATCH_SQL)?,
        })
    }
}

/// An open team store, for one catalogue.
pub struct TeamStore {
    client: postgres::Client,
    /// Prepared on first write (a reader never writes), again after a reconnect.
    statements: Option<Statements>,
    address: TeamAddress,
    /// The address as a path, as [`super::LabelStore::path`] gives it.
    path: PathBuf,
    fail: Failure,
    /// The catalogue's row; `None` in a read-only open of a catalogue the store has not met.
    catalogue: Option<i64>,
    seen: Seen,
    reviews_seen: i64,
    /// Products to record later ([`Recording::Later`]), with their fingerprint.
    products_unrecorded: Option<String>,
    /// A notification said the journal (or the reviews) grew since the last look.
    edits_told: bool,
    reviews_told: bool,
    verdicts_told: bool,
    last_look: Instant,
    last_review_look: Instant,
    /// When the notifications were last taken.
    notifications_at: Instant,
    /// When the connection was found lost (reconnects wait [`RECONNECT_AFTER`]).
    lost_at: Option<Instant>,
    /// This open's part of every origin key (random), and the writes it made.
    session: String,
    writes: u64,
    /// Where edits wait while the server is away; `None` when opened for reading.
    outbox: Option<Outbox>,
    /// The current value of every edited label as this store last knew it (the server's,
    /// with this window's waiting edits over it): the old value of an edit made offline.
    known: HashMap<(String, Task), Option<String>>,
    /// Edits the server refused when the outbox sent them, not yet taken by the holder.
    lost: Vec<Lost>,
    /// The server's entries of labels whose waiting edits were lost, not yet handed on: the
    /// holder shows the lost value until told.
    corrections: Vec<Edit>,
    /// The last look or write could not reach the server.
    offline: bool,
    /// Why the server refused the oldest waiting write the last time the outbox was sent (a
    /// privilege taken away meanwhile, say); the edits stay waiting, in order, until it
    /// accepts them.
    refused: Option<String>,
}

impl std::fmt::Debug for TeamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamStore")
            .field("address", &self.address)
            .field("role", &self.fail.role)
            .field("catalogue", &self.catalogue)
            .finish()
    }
}

impl TeamStore {
    /// Connects to the team store at `address`, migrates its schema (unless reading only),
    /// finds or registers the catalogue `identity`, and applies its edited labels onto
    /// `catalog`. A writing open keeps its outbox at `outbox` and sends what waits there
    /// from an earlier session.
    pub(crate) fn open(
        address: &TeamAddress,
        identity: &str,
        catalog: &mut Catalog,
        recording: Recording,
        outbox: Option<&Path>,
    ) -> Result<(TeamStore, OpenReport), StoreError> {
        let mut client = address.connect()?;
        let mut fail = Failure {
            address: address.shown().to_string(),
            role: String::new(),
        };
        let role: String = client
            .query_one("SELECT session_user::text", &[])
            .map_err(fail.of("read the role"))?
            .get(0);
        fail.role = role;
        // Listening first: an edit committed after this is announced, one before it is read.
        client
            .batch_execute("LISTEN vitrine_edits; LISTEN vitrine_reviews; LISTEN vitrine_verdicts")
            .map_err(fail.of("listen"))?;
        let write = recording != Recording::Never;
        let version = migrate(&mut client, &fail, write)?;
        let mut store = TeamStore {
            client,
            statements: None,
            address: address.clone(),
            path: PathBuf::from(address.shown()),
            fail,
            catalogue: None,
            seen: Seen::default(),
            reviews_seen: 0,
            products_unrecorded: None,
            edits_told: false,
            reviews_told: false,
            verdicts_told: false,
            last_look: Instant::now(),
            last_review_look: Instant::now(),
            notifications_at: Instant::now(),
            lost_at: None,
            session: format!("{:016x}", rand::random::<u64>()),
            writes: 0,
            outbox: None,
            known: HashMap::new(),
            lost: Vec::new(),
            corrections: Vec::new(),
            offline: false,
            refused: None,
        };
        let mut report = OpenReport {
            path: store.path.clone(),
            role: Some(store.fail.role.clone()),
            ..Default::default()
        };
        if version.is_none() {
            // Reading a database no vitrine ever wrote: the catalogue's own labels.
            return Ok((store, report));
        }
        store.prepare(identity, catalog, recording, &mut report)?;
        if let Some(path) = outbox.filter(|_| write) {
            let key = format!("{}|{}|{identity}", address.shown(), store.fail.role);
            store.outbox = Some(Outbox::open(path, &key)?);
            // What an earlier session left waiting goes first; a server gone again since the
            // open leaves it waiting.
            match store.flush() {
                Ok(sent) => apply(catalog, &sent),
                Err(StoreError::Unreachable { .. }) => store.offline = true,
                Err(other) => return Err(other),
            }
            let corrections = std::mem::take(&mut store.corrections);
            apply(catalog, &corrections);
        }
        Ok((store, report))
    }

    /// Finds (or registers) the catalogue, reports how its products changed, applies its
    /// edited labels and notes how far the journal and the reviews go.
    fn prepare(
        &mut self,
        identity: &str,
        catalog: &mut Catalog,
        recording: Recording,
        report: &mut OpenReport,
    ) -> Result<(), StoreError> {
        let fail = self.fail.clone();
        let mut tx = self.client.transaction().map_err(fail.of("open"))?;
        let found = tx
            .query_opt(
                "SELECT id, products FROM vitrine.catalogues WHERE identity = $1",
                &[&identity],
            )
            .map_err(fail.of("read the catalogues"))?;
        let (id, known): (i64, Option<String>) = match found {
            Some(row) => (row.get(0), row.get(1)),
            None if recording == Recording::Never => return Ok(()),
            None => {
                // Another window may register it meanwhile: then its row is read.
                let inserted = tx
                    .query_opt(
                        "INSERT INTO vitrine.catalogues(identity) VALUES ($1) \
                         ON CONFLICT (identity) DO NOTHING RETURNING id, products",
                        &[&identity],
                    )
                    .map_err(fail.of("register the catalogue"))?;
                report.created = inserted.is_some();
                let row = match inserted {
                    Some(row) => row,
                    None => tx
                        .query_one(
                            "SELECT id, products FROM vitrine.catalogues WHERE identity = $1",
                            &[&identity],
                        )
                        .map_err(fail.of("read the catalogues"))?,
                };
                (row.get(0), row.get(1))
            }
        };
        let print = fingerprint(catalog.products().iter().map(|p| &*p.id));
        if known.as_deref() != Some(print.as_str()) {
            if known.is_some() {
                let previous: HashSet<String> = tx
                    .query(
                        "SELECT id FROM vitrine.products WHERE catalogue = $1",
                        &[&id],
                    )
                    .map_err(fail.of("read the products"))?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                compare_products(catalog, &previous, report);
            }
            match recording {
                Recording::Never => {}
                Recording::Now => {
                    let ids: Vec<&str> = catalog.products().iter().map(|p| &*p.id).collect();
                    record(&mut tx, id, &ids, &print).map_err(fail.of("record the products"))?
                }
                Recording::Later => self.products_unrecorded = Some(print),
            }
        }
        for row in tx
            .query(
                "SELECT product, task, value FROM vitrine.current WHERE catalogue = $1",
                &[&id],
            )
            .map_err(fail.of("read the labels"))?
        {
            let product: &str = row.get(0);
            let task: &str = row.get(1);
            let value: Option<&str> = row.get(2);
            // A task this build does not know is left out, as in a file store.
            let Ok(task) = task.parse::<Task>() else {
                continue;
            };
            match catalog.position(product) {
                Some(position) => {
                    catalog.set_label(position, task, value);
                    report.overrides += 1;
                }
                None => report.orphaned += 1,
            }
            self.known
                .insert((product.to_string(), task), value.map(String::from));
        }
        let seen: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(id), 0) FROM vitrine.edits WHERE catalogue = $1",
                &[&id],
            )
            .map_err(fail.of("read the journal"))?
            .get(0);
        let reviews_seen: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(changed), 0) FROM vitrine.reviews WHERE catalogue = $1",
                &[&id],
            )
            .map_err(fail.of("read the reviews"))?
            .get(0);
        tx.commit().map_err(fail.of("open"))?;
        self.catalogue = Some(id);
        self.seen = Seen::up_to(seen);
        self.reviews_seen = reviews_seen;
        Ok(())
    }

    /// The address as a path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The database role every entry of this store is written under.
    pub fn role(&self) -> &str {
        &self.fail.role
    }

    /// Records the catalogue's products (`ids`) if opening left it for later.
    pub(crate) fn record_products(&mut self, ids: &[Arc<str>]) -> Result<(), StoreError> {
        let (Some(print), Some(catalogue)) = (self.products_unrecorded.clone(), self.catalogue)
        else {
            return Ok(());
        };
        let fail = self.fail.clone();
        let mut tx = self
            .client
            .transaction()
            .map_err(fail.of("record the products"))?;
        let ids: Vec<&str> = ids.iter().map(|id| &**id).collect();
        record(&mut tx, catalogue, &ids, &print).map_err(fail.of("record the products"))?;
        tx.commit().map_err(fail.of("record the products"))?;
        self.products_unrecorded = None;
        Ok(())
    }

    /// The catalogue's row, or the refusal of a write to a store opened for reading a
    /// catalogue it has not met.
    fn writable_catalogue(&self) -> Result<i64, StoreError> {
        self.catalogue.ok_or_else(|| StoreError::Team {
            address: self.fail.address.clone(),
            reason: "opened for reading, and the store has no labels of this catalogue yet; \
                     nothing was written"
                .into(),
        })
    }

    /// A write transaction holding the catalogue's write lock; its entries' origin keys start
    /// with `origin`.
    fn begin(&mut self, origin: Option<String>) -> Result<TeamWriting<'_>, StoreError> {
        self.reconnect_if_lost()?;
        let catalogue = self.writable_catalogue()?;
        let fail = self.fail.clone();
        let sql = match &mut self.statements {
            Some(sql) => sql,
            none => none.insert(Statements::prepare(&mut self.client, &fail)?),
        };
        let mut tx = self.client.transaction().map_err(fail.of("edit labels"))?;
        tx.execute(&sql.lock, &[&LOCK_SPACE, &(catalogue as i32)])
            .map_err(fail.of("edit labels"))?;
        Ok(TeamWriting {
            tx,
            sql,
            catalogue,
            fail,
            origin,
        })
    }

    /// The origin key prefix of the next write: this open's, and the write's number.
    fn next_origin(&mut self) -> String {
        self.writes += 1;
        format!("{}:{}", self.session, self.writes)
    }

    /// Where this store stands with its server.
    pub(crate) fn server_state(&self) -> ServerState {
        ServerState {
            offline: self.offline || self.client.is_closed(),
            waiting: self.outbox.as_ref().map_or(0, Outbox::waiting),
            outbox: self.outbox.as_ref().map(|o| o.path().to_path_buf()),
            refused: self.refused.clone(),
        }
    }

    /// The waiting edits the server refused since the last call.
    pub(crate) fn take_lost(&mut self) -> Vec<Lost> {
        std::mem::take(&mut self.lost)
    }

    /// Notes `edits` (written, sent, or read) as the labels' current values.
    fn learn(&mut self, edits: &[Edit]) {
        for edit in edits {
            self.known
                .insert((edit.product.clone(), edit.task), edit.new.clone());
        }
    }

    /// Records the outcome of a statement that needed the server.
    fn reached<T>(&mut self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        match &result {
            // A refusal is the server's answer: it was reached.
            Ok(_) | Err(StoreError::Denied { .. }) => self.offline = false,
            Err(StoreError::Unreachable { .. }) => self.offline = true,
            Err(_) => {}
        }
        result
    }

    /// Sends the outbox's waiting edits, oldest write first, each write in one transaction,
    /// and removes each write once it committed. An edit whose origin the journal already
    /// has (sent before, the answer lost) is not sent again; one whose label the server no
    /// longer has at the value this window saw is [`Lost`]. Returns the entries sent, which
    /// the holder already shows.
    fn flush(&mut self) -> Result<Vec<Edit>, StoreError> {
        if self.outbox.as_ref().is_none_or(|o| o.waiting() == 0) {
            return Ok(Vec::new());
        }
        let Some(mut outbox) = self.outbox.take() else {
            return Ok(Vec::new());
        };
        let result = self.send(&mut outbox);
        self.outbox = Some(outbox);
        match &result {
            Ok(_) => self.refused = None,
            Err(StoreError::Unreachable { .. }) => {}
            Err(other) => self.refused = Some(other.to_string()),
        }
        self.reached(result)
    }

    fn send(&mut self, outbox: &mut Outbox) -> Result<Vec<Edit>, StoreError> {
        self.reconnect_if_lost()?;
        let pending = outbox.pending()?;
        let role = self.fail.role.clone();
        let mut all_sent = Vec::new();
        for write in pending.chunk_by(|a, b| a.batch == b.batch) {
            let mut tx = self.begin(None)?;
            let mut sent: Vec<Edit> = Vec::new();
            let mut lost = Vec::new();
            let mut corrections = Vec::new();
            let mut batch = None;
            for (position, p) in write.iter().enumerate() {
                if let Some(earlier) = tx.by_origin(&p.origin)? {
                    sent.push(earlier);
                    continue;
                }
                if let Some((found, edit)) = tx.current(&p.product, p.task)?
                    && found != p.old
                {
                    let theirs = tx.entry_of_current(edit)?;
                    lost.push(Lost {
                        product: p.product.clone(),
                        task: p.task,
                        wanted: p.new.clone(),
                        found,
                        by: theirs.author.clone(),
                    });
                    corrections.push(theirs);
                    continue;
                }
                let by = Attribution {
                    author: role.clone(),
                    source: p.source,
                    reason: p.reason.clone(),
                };
                let entry = NewEntry {
                    product: &p.product,
                    task: p.task,
                    old: p.old.clone(),
                    new: p.new.clone(),
                    by: &by,
                    time_ms: p.time_ms,
                    batch,
                    reverts: None,
                    position,
                };
                let edit = tx.insert_as(&entry, Some(&p.origin))?;
                batch = Some(edit.batch);
                sent.push(edit);
            }
            if batch.is_some() {
                tx.end_redo(&role)?;
            }
            tx.commit()?;
            outbox.remove_batch(write[0].batch)?;
            self.seen.wrote(&sent);
            self.learn(&sent);
            self.learn(&corrections);
            self.lost.extend(lost);
            self.corrections.extend(corrections);
            all_sent.extend(sent);
        }
        Ok(all_sent)
    }

    /// Writes `changes` as one batch to the outbox (see [`write_batch`]), over the labels
    /// this store knows; `origin` prefixes their origin keys.
    fn write_offline<T>(
        &mut self,
        base: &impl LabelBase,
        changes: &[T],
        parts: impl Fn(&T) -> (&Change, Option<&str>),
        by: &Attribution,
        origin: &str,
    ) -> Result<Vec<Edit>, StoreError> {
        let Some(outbox) = self.outbox.as_mut() else {
            return Err(StoreError::Unreachable {
                address: self.fail.address.clone(),
                reason: "opened for reading, so there is no outbox to keep edits in".into(),
            });
        };
        let mut added = Vec::new();
        let mut origins = Vec::new();
        let tx = OfflineWriting {
            address: &self.fail.address,
            outbox,
            known: &self.known,
            overlay: HashMap::new(),
            origin,
            entries: Vec::new(),
            added: &mut added,
            origins: &mut origins,
        };
        let mut edits = write_batch(tx, base, changes, parts, by)?;
        // The outbox numbers its entries: an edit made offline shows as #-N until it is sent.
        let seqs: HashMap<&str, &Pending> = added.iter().map(|p| (p.origin.as_str(), p)).collect();
        for (edit, origin) in edits.iter_mut().zip(&origins) {
            if let Some(p) = seqs.get(origin.as_str()) {
                edit.id = -p.seq;
                edit.batch = -p.batch;
            }
        }
        self.learn(&edits);
        Ok(edits)
    }

    /// The caller's attribution with the store's role as the author.
    fn as_role(&self, by: &Attribution) -> Attribution {
        Attribution {
            author: self.fail.role.clone(),
            ..by.clone()
        }
    }

    /// Writes `changes` as one batch (see [`write_batch`]), as the store's role.
    pub(crate) fn write<T>(
        &mut self,
        base: &impl LabelBase,
        changes: &[T],
        parts: impl Fn(&T) -> (&Change, Option<&str>),
        by: &Attribution,
    ) -> Result<Vec<Edit>, StoreError> {
        let by = self.as_role(by);
        let origin = self.next_origin();
        // Edits keep their order: while some wait, a new one waits behind them.
        if self.outbox.as_ref().is_some_and(|o| o.waiting() > 0) && self.flush().is_err() {
            return self.write_offline(base, changes, &parts, &by, &origin);
        }
        let attempt = self
            .begin(Some(origin.clone()))
            .and_then(|tx| write_batch(tx, base, changes, &parts, &by));
        match self.reached(attempt) {
            Ok(edits) => {
                self.seen.wrote(&edits);
                self.learn(&edits);
                Ok(edits)
            }
            // The write may have committed before the connection went: sent again from the
            // outbox, the same origin keys make it count once.
            Err(StoreError::Unreachable { .. }) if self.outbox.is_some() => {
                self.write_offline(base, changes, &parts, &by, &origin)
            }
            Err(other) => Err(other),
        }
    }

    /// Undoes or redoes the store role's latest batch (see [`revert`]); `author` is ignored:
    /// in a team store one undoes one's own edits.
    pub(crate) fn revert(
        &mut self,
        _author: &str,
        direction: Direction,
    ) -> Result<Vec<Edit>, StoreError> {
        let role = self.fail.role.clone();
        if self.outbox.as_ref().is_some_and(|o| o.waiting() > 0) {
            self.flush()?;
        }
        let origin = self.next_origin();
        let attempt = self
            .begin(Some(origin))
            .and_then(|tx| revert(tx, &role, direction));
        let edits = self.reached(attempt)?;
        self.seen.wrote(&edits);
        self.learn(&edits);
        Ok(edits)
    }

    /// Every journal entry of `product`, oldest first.
    pub(crate) fn history(&mut self, product: &str) -> Result<Vec<Edit>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        let fail = self.fail.clone();
        select_edits(
            &mut self.client,
            &fail,
            "WHERE catalogue = $1 AND product = $2 ORDER BY id",
            &[&catalogue, &product],
        )
    }

    /// Journal entries after `after`, oldest first.
    pub(crate) fn journal(&mut self, after: i64) -> Result<Vec<Edit>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        let fail = self.fail.clone();
        select_edits(
            &mut self.client,
            &fail,
            "WHERE catalogue = $1 AND id > $2 ORDER BY id",
            &[&catalogue, &after],
        )
    }

    /// The latest `limit` journal entries, oldest first.
    pub(crate) fn latest(&mut self, limit: i64) -> Result<Vec<Edit>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        let fail = self.fail.clone();
        let mut edits = select_edits(
            &mut self.client,
            &fail,
            "WHERE catalogue = $1 ORDER BY id DESC LIMIT $2",
            &[&catalogue, &limit],
        )?;
        edits.reverse();
        Ok(edits)
    }

    /// Number of journal entries of the catalogue.
    pub(crate) fn journal_len(&mut self) -> Result<i64, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(0);
        };
        Ok(self
            .client
            .query_one(
                "SELECT COUNT(*) FROM vitrine.edits WHERE catalogue = $1",
                &[&catalogue],
            )
            .map_err(self.fail.of("read the journal"))?
            .get(0))
    }

    /// Takes the notifications the server has sent (without waiting for any).
    fn take_notifications(&mut self) {
        let Some(catalogue) = self.catalogue else {
            return;
        };
        let mine = catalogue.to_string();
        self.notifications_at = Instant::now();
        let mut notifications = self.client.notifications();
        // A short wait rather than none: the connection reads its socket only when its
        // runtime turns, which a wait lets it do.
        let mut iter = notifications.timeout_iter(NOTIFICATION_WAIT);
        // An error here is the connection's, and the next statement reports it.
        while let Ok(Some(told)) = iter.next() {
            if told.payload() == mine {
                match told.channel() {
                    "vitrine_edits" => self.edits_told = true,
                    "vitrine_reviews" => self.reviews_told = true,
                    "vitrine_verdicts" => self.verdicts_told = true,
                    _ => {}
                }
            }
        }
    }

    /// After a lost connection, connects again (at most every [`RECONNECT_AFTER`]) and
    /// listens again; what was missed meanwhile is read at the next look. A connection whose
    /// last statement found the server unreachable counts as lost though the client may not
    /// have seen it close yet (a terminated backend answers its next statement with
    /// `admin_shutdown` before the socket's end is read).
    fn reconnect_if_lost(&mut self) -> Result<(), StoreError> {
        if !self.client.is_closed() && !self.offline {
            return Ok(());
        }
        let unreachable = || StoreError::Unreachable {
            address: self.fail.address.clone(),
            reason: "the connection was lost; trying again".into(),
        };
        if self
            .lost_at
            .is_some_and(|at| at.elapsed() < RECONNECT_AFTER)
        {
            return Err(unreachable());
        }
        self.lost_at = Some(Instant::now());
        let mut client = self.address.connect()?;
        client
            .batch_execute("LISTEN vitrine_edits; LISTEN vitrine_reviews; LISTEN vitrine_verdicts")
            .map_err(self.fail.of("listen"))?;
        self.client = client;
        self.statements = None;
        self.lost_at = None;
        self.offline = false;
        self.edits_told = true;
        self.reviews_told = true;
        self.verdicts_told = true;
        Ok(())
    }

    /// The entries others wrote since this store last looked: read only when a notification
    /// said so, or every [`LOOK_ANYWAY`].
    pub(crate) fn new_edits(&mut self) -> Result<Vec<Edit>, StoreError> {
        let looked = self.look();
        let found = self.reached(looked)?;
        let mut edits = std::mem::take(&mut self.corrections);
        edits.extend(found);
        self.learn(&edits);
        Ok(edits)
    }

    /// Sends what waits, then reads what others wrote if told to.
    fn look(&mut self) -> Result<Vec<Edit>, StoreError> {
        self.reconnect_if_lost()?;
        self.flush()?;
        self.take_notifications();
        if !self.edits_told && self.last_look.elapsed() < LOOK_ANYWAY {
            return Ok(Vec::new());
        }
        self.edits_told = false;
        self.last_look = Instant::now();
        let journal = self.journal(self.seen.upto())?;
        Ok(self.seen.others(journal))
    }

    /// The current value of every edited label: (product id, task, value).
    pub(crate) fn current_labels(
        &mut self,
    ) -> Result<Vec<(String, Task, Option<String>)>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        let rows = self
            .client
            .query(
                "SELECT product, task, value FROM vitrine.current WHERE catalogue = $1",
                &[&catalogue],
            )
            .map_err(self.fail.of("read the labels"))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let task: &str = r.get(1);
                Some((r.get(0), task.parse().ok()?, r.get(2)))
            })
            .collect())
    }

    /// Journals a review by the store's role (see [`super::LabelStore::keep`]).
    pub(crate) fn keep(
        &mut self,
        base: &impl LabelBase,
        keep: &Keep,
        _author: &str,
    ) -> Result<Review, StoreError> {
        if base.position(&keep.product).is_none() {
            return Err(StoreError::UnknownProduct(keep.product.clone()));
        }
        let Some(label) = normalise_label(&keep.label) else {
            return Err(StoreError::NothingToKeep {
                path: self.path.clone(),
                product: keep.product.clone(),
                task: keep.task,
            });
        };
        let role = self.fail.role.clone();
        let mut tx = self.begin(None)?;
        let changed = tx.next_review_change()?;
        let time_ms = now_ms();
        let id: i64 = tx
            .tx
            .query_one(
                "INSERT INTO vitrine.reviews(catalogue, product, task, label, photos, author, \
                 time_ms, changed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                &[
                    &tx.catalogue,
                    &keep.product,
                    &keep.task.name(),
                    &label,
                    &keep.photos.to_string(),
                    &role,
                    &time_ms,
                    &changed,
                ],
            )
            .map_err(tx.fail.of("keep a label"))?
            .get(0);
        tx.commit()?;
        self.saw_review_change(changed);
        Ok(Review {
            id,
            product: keep.product.clone(),
            task: keep.task,
            label: label.to_string(),
            photos: keep.photos,
            author: role,
            time_ms,
            withdrawn: None,
        })
    }

    /// Withdraws review `id` as the store's role.
    pub(crate) fn withdraw_review(
        &mut self,
        id: i64,
        _author: &str,
    ) -> Result<Withdrawn, StoreError> {
        let role = self.fail.role.clone();
        let path = self.path.clone();
        let mut tx = self.begin(None)?;
        let catalogue = tx.catalogue;
        let fail = tx.fail.clone();
        let Some(mut review) = select_reviews(
            &mut tx.tx,
            &fail,
            "WHERE catalogue = $1 AND id = $2",
            &[&catalogue, &id],
        )?
        .pop() else {
            return Err(StoreError::UnknownReview { path, id });
        };
        if let Some(withdrawal) = review.withdrawn {
            return Err(StoreError::AlreadyWithdrawn {
                path,
                id,
                by: withdrawal.author,
            });
        }
        let changed = tx.next_review_change()?;
        let time_ms = now_ms();
        tx.tx
            .execute(
                "UPDATE vitrine.reviews SET withdrawn_by = $1, withdrawn_ms = $2, changed = $3 \
                 WHERE id = $4",
                &[&role, &time_ms, &changed, &id],
            )
            .map_err(fail.of("withdraw a review"))?;
        let standing = standing(&mut tx.tx, &fail, catalogue, &review.product, review.task)?;
        tx.commit()?;
        self.saw_review_change(changed);
        review.withdrawn = Some(Withdrawal {
            author: role,
            time_ms,
        });
        Ok(Withdrawn { review, standing })
    }

    /// The standing reviews: per product and task, the latest one not withdrawn.
    pub(crate) fn reviews(&mut self) -> Result<Vec<Review>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        let fail = self.fail.clone();
        select_reviews(
            &mut self.client,
            &fail,
            "WHERE id IN (SELECT MAX(id) FROM vitrine.reviews WHERE catalogue = $1 \
             AND withdrawn_ms IS NULL GROUP BY product, task) ORDER BY id",
            &[&catalogue],
        )
    }

    /// What stands now for each product and task whose reviews changed since the last look.
    pub(crate) fn new_reviews(&mut self) -> Result<Vec<Standing>, StoreError> {
        self.reconnect_if_lost()?;
        // A holder asks for edits and then reviews: the notifications taken for the one
        // serve the other, without a second wait.
        if self.notifications_at.elapsed() > NOTIFICATION_WAIT * 5 {
            self.take_notifications();
        }
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        if !self.reviews_told && self.last_review_look.elapsed() < LOOK_ANYWAY {
            return Ok(Vec::new());
        }
        self.reviews_told = false;
        self.last_review_look = Instant::now();
        let fail = self.fail.clone();
        let mut tx = self
            .client
            .transaction()
            .map_err(fail.of("read the reviews"))?;
        let latest: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(changed), 0) FROM vitrine.reviews WHERE catalogue = $1",
                &[&catalogue],
            )
            .map_err(fail.of("read the reviews"))?
            .get(0);
        if latest <= self.reviews_seen {
            return Ok(Vec::new());
        }
        let keys: Vec<(String, String)> = tx
            .query(
                "SELECT product, task FROM vitrine.reviews WHERE catalogue = $1 AND changed > $2 \
                 GROUP BY product, task ORDER BY MIN(changed)",
                &[&catalogue, &self.reviews_seen],
            )
            .map_err(fail.of("read the reviews"))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut changes = Vec::with_capacity(keys.len());
        for (product, task) in keys {
            let Ok(task) = task.parse::<Task>() else {
                continue;
            };
            let review = standing(&mut tx, &fail, catalogue, &product, task)?;
            changes.push(Standing {
                product,
                task,
                review,
            });
        }
        tx.commit().map_err(fail.of("read the reviews"))?;
        self.reviews_seen = latest;
        Ok(changes)
    }

    /// As the file engine's: an own change counts as seen only when nothing came between.
    fn saw_review_change(&mut self, changed: i64) {
        if changed == self.reviews_seen + 1 {
            self.reviews_seen = changed;
        }
    }

    /// Marks pairs as not duplicates, as the store's role; returns how many were new.
    pub(crate) fn mark_not_duplicates(
        &mut self,
        pairs: &[(String, String)],
        _author: &str,
    ) -> Result<usize, StoreError> {
        let role = self.fail.role.clone();
        let mut tx = self.begin(None)?;
        let time_ms = now_ms();
        let mut added = 0;
        for (a, b) in pairs {
            if a == b {
                continue;
            }
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            added += tx
                .tx
                .execute(
                    "INSERT INTO vitrine.not_duplicates(catalogue, a, b, author, time_ms) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[&tx.catalogue, a, b, &role, &time_ms],
                )
                .map_err(tx.fail.of("mark products not duplicates"))? as usize;
        }
        tx.commit()?;
        Ok(added)
    }

    /// Every pair marked not duplicates, lower id first.
    pub(crate) fn not_duplicates(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let Some(catalogue) = self.catalogue else {
            return Ok(Vec::new());
        };
        Ok(self
            .client
            .query(
                "SELECT a, b FROM vitrine.not_duplicates WHERE catalogue = $1 ORDER BY a, b",
                &[&catalogue],
            )
            .map_err(self.fail.of("read the not-duplicates marks"))?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }
}

/// Brings the schema to [`schema::VERSION`] (when `write`), under the migrations' advisory
/// lock. Returns the version found or reached; `None` when reading a database without the
/// schema.
fn migrate(
    client: &mut postgres::Client,
    fail: &Failure,
    write: bool,
) -> Result<Option<i64>, StoreError> {
    let current = |client: &mut postgres::Client| -> Result<Option<i64>, StoreError> {
        let exists: bool = client
            .query_one("SELECT to_regclass('vitrine.migrations') IS NOT NULL", &[])
            .map_err(fail.of("read the schema"))?
            .get(0);
        if !exists {
            return Ok(None);
        }
        let version: Option<i32> = client
            .query_one("SELECT MAX(version) FROM vitrine.migrations", &[])
            .map_err(fail.of("read the schema"))?
            .get(0);
        Ok(Some(version.map_or(0, i64::from)))
    };
    let newer = |found: i64| StoreError::Schema {
        path: PathBuf::from(&fail.address),
        found,
        reads: schema::VERSION,
    };
    let found = current(client)?;
    if let Some(found) = found.filter(|v| *v > schema::VERSION) {
        return Err(newer(found));
    }
    if !write || found == Some(schema::VERSION) {
        return Ok(found);
    }
    let mut tx = client
        .transaction()
        .map_err(fail.of("migrate the schema"))?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&LOCK_SPACE, &MIGRATION_LOCK],
    )
    .map_err(fail.of("migrate the schema"))?;
    tx.batch_execute(schema::MIGRATIONS_TABLE)
        .map_err(fail.of("create the schema (the first open of a team store needs a role that may create schemas and roles)"))?;
    let version: Option<i32> = tx
        .query_one("SELECT MAX(version) FROM vitrine.migrations", &[])
        .map_err(fail.of("read the schema"))?
        .get(0);
    let from = version.map_or(0, i64::from);
    if from > schema::VERSION {
        return Err(newer(from));
    }
    for (i, migration) in schema::MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.batch_execute(migration)
            .map_err(fail.of("migrate the schema (run the first open of a team store, or one after an upgrade, as a role that may create schemas and roles)"))?;
        tx.execute(
            "INSERT INTO vitrine.migrations(version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )
        .map_err(fail.of("migrate the schema"))?;
    }
    tx.commit().map_err(fail.of("migrate the schema"))?;
    Ok(Some(schema::VERSION))
}

/// Replaces the recorded products of `catalogue` by `ids` (binary `COPY`: a million ids in
/// about a second), with their fingerprint `print`.
fn record(
    tx: &mut postgres::Transaction<'_>,
    catalogue: i64,
    ids: &[&str],
    print: &str,
) -> Result<(), postgres::Error> {
    use postgres::binary_copy::BinaryCopyInWriter;
    use postgres::types::Type;
    tx.execute(
        "DELETE FROM vitrine.products WHERE catalogue = $1",
        &[&catalogue],
    )?;
    // The catalogue checks its ids are unique; a copy of a malformed one must not fail here.
    let mut unique: Vec<&str> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let sink = tx.copy_in("COPY vitrine.products(catalogue, id) FROM STDIN BINARY")?;
    let mut writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::TEXT]);
    for id in unique {
        writer.write(&[&catalogue, &id])?;
    }
    writer.finish()?;
    tx.execute(
        "UPDATE vitrine.catalogues SET products = $1 WHERE id = $2",
        &[&print, &catalogue],
    )?;
    Ok(())
}

/// A team store's write transaction, holding its catalogue's write lock.
struct TeamWriting<'a> {
    tx: postgres::Transaction<'a>,
    sql: &'a Statements,
    catalogue: i64,
    fail: Failure,
    /// The origin key prefix of the entries written (`PREFIX:POSITION`).
    origin: Option<String>,
}

impl TeamWriting<'_> {
    /// The journal's entry with origin key `origin`.
    fn by_origin(&mut self, origin: &str) -> Result<Option<Edit>, StoreError> {
        let fail = self.fail.clone();
        Ok(select_edits(
            &mut self.tx,
            &fail,
            "WHERE catalogue = $1 AND origin = $2",
            &[&self.catalogue, &origin],
        )?
        .pop())
    }

    /// The journal entry `id`, which the current label names.
    fn entry_of_current(&mut self, id: i64) -> Result<Edit, StoreError> {
        super::change_review::ReviewTx::entry(self, id)?.ok_or_else(|| StoreError::Corrupt {
            path: PathBuf::from(&self.fail.address),
            id,
            detail: "the current label names an entry the journal lacks".into(),
        })
    }

    /// Writes `entry` with origin key `origin`.
    fn insert_as(
        &mut self,
        entry: &NewEntry<'_>,
        origin: Option<&str>,
    ) -> Result<Edit, StoreError> {
        let by = entry.by;
        let row = self
            .tx
            .query_one(
                &self.sql.insert,
                &[
                    &entry.batch,
                    &self.catalogue,
                    &entry.product,
                    &entry.task.name(),
                    &entry.old,
                    &entry.new,
                    &by.author,
                    &entry.time_ms,
                    &by.source.name(),
                    &by.reason,
                    &entry.reverts,
                    &entry.state().name(),
                    &origin,
                ],
            )
            .map_err(self.fail.of("edit labels"))?;
        Ok(Edit {
            id: row.get(0),
            batch: row.get(1),
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

    /// The next value of the reviews' `changed` counter (under the write lock).
    fn next_review_change(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .tx
            .query_one(
                "SELECT COALESCE(MAX(changed), 0) + 1 FROM vitrine.reviews WHERE catalogue = $1",
                &[&self.catalogue],
            )
            .map_err(self.fail.of("keep a label"))?
            .get(0))
    }
}

impl JournalTx for TeamWriting<'_> {
    fn current(
        &mut self,
        product: &str,
        task: Task,
    ) -> Result<Option<(Option<String>, i64)>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                &self.sql.current,
                &[&self.catalogue, &product, &task.name()],
            )
            .map_err(self.fail.of("edit labels"))?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn insert(&mut self, entry: &NewEntry<'_>) -> Result<Edit, StoreError> {
        let origin = self
            .origin
            .as_ref()
            .map(|prefix| format!("{prefix}:{}", entry.position));
        self.insert_as(entry, origin.as_deref())
    }

    fn end_redo(&mut self, author: &str) -> Result<(), StoreError> {
        self.tx
            .execute(&self.sql.end_redo, &[&self.catalogue, &author])
            .map(drop)
            .map_err(self.fail.of("edit labels"))
    }

    fn latest_batch(&mut self, author: &str, state: EntryState) -> Result<Option<i64>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                &self.sql.latest_batch,
                &[&self.catalogue, &author, &state.name()],
            )
            .map_err(self.fail.of("undo"))?
            .map(|r| r.get(0)))
    }

    fn batch_entries(&mut self, batch: i64, state: EntryState) -> Result<Vec<Edit>, StoreError> {
        let fail = self.fail.clone();
        select_edits(
            &mut self.tx,
            &fail,
            "WHERE batch = $1 AND state = $2 ORDER BY id DESC",
            &[&batch, &state.name()],
        )
    }

    fn author_of(&mut self, id: i64) -> Result<String, StoreError> {
        Ok(self
            .tx
            .query_one("SELECT author FROM vitrine.edits WHERE id = $1", &[&id])
            .map_err(self.fail.of("undo"))?
            .get(0))
    }

    fn retire_batch(&mut self, batch: i64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE vitrine.edits SET state = 'dead' WHERE batch = $1",
                &[&batch],
            )
            .map(drop)
            .map_err(self.fail.of("undo"))
    }

    fn set_state(&mut self, id: i64, state: EntryState, by: i64) -> Result<(), StoreError> {
        self.tx
            .execute(
                "UPDATE vitrine.edits SET state = $1, state_changed = $2 WHERE id = $3",
                &[&state.name(), &by, &id],
            )
            .map(drop)
            .map_err(self.fail.of("undo"))
    }

    fn commit(self) -> Result<(), StoreError> {
        let fail = self.fail;
        self.tx.commit().map_err(fail.of("edit labels"))
    }
}

/// A write made while the server is away: over the labels the store knows, into its outbox
/// (durably, at [`JournalTx::commit`]). Undo and redo need the server.
struct OfflineWriting<'a> {
    /// The store's address (no password), for messages.
    address: &'a str,
    outbox: &'a mut Outbox,
    known: &'a HashMap<(String, Task), Option<String>>,
    /// The labels this write changed so far.
    overlay: HashMap<(String, Task), Option<String>>,
    origin: &'a str,
    entries: Vec<OwnedEntry>,
    /// Filled by the commit: the outbox entries added.
    added: &'a mut Vec<Pending>,
    /// The origin key of each entry written, in order.
    origins: &'a mut Vec<String>,
}

/// An entry of an offline write, until its commit.
struct OwnedEntry {
    origin: String,
    product: String,
    task: Task,
    old: Option<String>,
    new: Option<String>,
    by: Attribution,
    time_ms: i64,
}

impl OfflineWriting<'_> {
    fn needs_server(&self) -> StoreError {
        StoreError::Unreachable {
            address: self.address.to_string(),
            reason: "undo and redo wait until the server is back".into(),
        }
    }
}

impl JournalTx for OfflineWriting<'_> {
    fn current(
        &mut self,
        product: &str,
        task: Task,
    ) -> Result<Option<(Option<String>, i64)>, StoreError> {
        let key = (product.to_string(), task);
        Ok(self
            .overlay
            .get(&key)
            .or_else(|| self.known.get(&key))
            .map(|value| (value.clone(), 0)))
    }

    fn insert(&mut self, entry: &NewEntry<'_>) -> Result<Edit, StoreError> {
        let origin = format!("{}:{}", self.origin, entry.position);
        self.overlay
            .insert((entry.product.to_string(), entry.task), entry.new.clone());
        self.origins.push(origin.clone());
        self.entries.push(OwnedEntry {
            origin,
            product: entry.product.to_string(),
            task: entry.task,
            old: entry.old.clone(),
            new: entry.new.clone(),
            by: entry.by.clone(),
            time_ms: entry.time_ms,
        });
        Ok(Edit {
            id: 0,
            batch: 0,
            product: entry.product.to_string(),
            task: entry.task,
            old: entry.old.clone(),
            new: entry.new.clone(),
            author: entry.by.author.clone(),
            time_ms: entry.time_ms,
            source: entry.by.source,
            reason: entry.by.reason.clone(),
            reverts: None,
        })
    }

    fn end_redo(&mut self, _author: &str) -> Result<(), StoreError> {
        // Done when the outbox sends the write.
        Ok(())
    }

    fn latest_batch(&mut self, _: &str, _: EntryState) -> Result<Option<i64>, StoreError> {
        Err(self.needs_server())
    }

    fn batch_entries(&mut self, _: i64, _: EntryState) -> Result<Vec<Edit>, StoreError> {
        Err(self.needs_server())
    }

    fn author_of(&mut self, _: i64) -> Result<String, StoreError> {
        Err(self.needs_server())
    }

    fn retire_batch(&mut self, _: i64) -> Result<(), StoreError> {
        Err(self.needs_server())
    }

    fn set_state(&mut self, _: i64, _: EntryState, _: i64) -> Result<(), StoreError> {
        Err(self.needs_server())
    }

    fn commit(self) -> Result<(), StoreError> {
        let outgoing: Vec<Outgoing<'_>> = self
            .entries
            .iter()
            .map(|e| Outgoing {
                origin: e.origin.clone(),
                product: &e.product,
                task: e.task,
                old: e.old.clone(),
                new: e.new.clone(),
                source: e.by.source,
                reason: e.by.reason.clone(),
                time_ms: e.time_ms,
            })
            .collect();
        *self.added = self.outbox.add(&outgoing)?;
        Ok(())
    }
}

fn select_edits(
    client: &mut impl GenericClient,
    fail: &Failure,
    clause: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<Edit>, StoreError> {
    let rows = client
        .query(
            &format!("SELECT {EDIT_COLUMNS} FROM vitrine.edits {clause}"),
            params,
        )
        .map_err(fail.of("read the journal"))?;
    rows.iter().map(|row| edit_of(row, fail)).collect()
}

fn edit_of(row: &Row, fail: &Failure) -> Result<Edit, StoreError> {
    let id: i64 = row.get(0);
    let corrupt = |detail: String| StoreError::Corrupt {
        path: PathBuf::from(&fail.address),
        id,
        detail,
    };
    let task: &str = row.get(3);
    let source: &str = row.get(8);
    Ok(Edit {
        id,
        batch: row.get(1),
        product: row.get(2),
        task: task
            .parse()
            .map_err(|e: crate::catalog::UnknownTask| corrupt(e.to_string()))?,
        old: row.get(4),
        new: row.get(5),
        author: row.get(6),
        time_ms: row.get(7),
        source: source.parse().map_err(corrupt)?,
        reason: row.get(9),
        reverts: row.get(10),
    })
}

/// The latest review of `product` and `task` not withdrawn.
fn standing(
    client: &mut impl GenericClient,
    fail: &Failure,
    catalogue: i64,
    product: &str,
    task: Task,
) -> Result<Option<Review>, StoreError> {
    Ok(select_reviews(
        client,
        fail,
        "WHERE catalogue = $1 AND product = $2 AND task = $3 AND withdrawn_ms IS NULL \
         ORDER BY id DESC LIMIT 1",
        &[&catalogue, &product, &task.name()],
    )?
    .pop())
}

fn select_reviews(
    client: &mut impl GenericClient,
    fail: &Failure,
    clause: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<Review>, StoreError> {
    let rows = client
        .query(
            &format!("SELECT {REVIEW_COLUMNS} FROM vitrine.reviews {clause}"),
            params,
        )
        .map_err(fail.of("read the reviews"))?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.get(0);
            let corrupt = |detail: String| StoreError::CorruptReview {
                path: PathBuf::from(&fail.address),
                id,
                detail,
            };
            let task: &str = row.get(2);
            let photos: &str = row.get(4);
            let withdrawn_by: Option<String> = row.get(7);
            let withdrawn_ms: Option<i64> = row.get(8);
            Ok(Review {
                id,
                product: row.get(1),
                task: task
                    .parse()
                    .map_err(|e: crate::catalog::UnknownTask| corrupt(e.to_string()))?,
                label: row.get(3),
                photos: photos.parse().map_err(corrupt)?,
                author: row.get(5),
                time_ms: row.get(6),
                withdrawn: withdrawn_ms.map(|time_ms| Withdrawal {
                    author: withdrawn_by.unwrap_or_default(),
                    time_ms,
                }),
            })
        })
        .collect()
}
