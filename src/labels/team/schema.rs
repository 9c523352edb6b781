//! The team store's schema, in the PostgreSQL schema `vitrine`, as numbered migrations that
//! run on open (in order, each in its own transaction, under an advisory lock so that two
//! windows opening a new store at once do not both migrate it).
//!
//! Who may do what is PostgreSQL's own business: three group roles, granted here, and row
//! level security so that nobody can write a journal entry, a review or a mark under another
//! name even with their own SQL client (`author = session_user`). The `current` table follows
//! the journal through a trigger (`SECURITY DEFINER`), so no role needs to write it.

/// The group roles: read only (browse, export), moderator (edit, review), reviewer (also
/// approves and reverts others' changes).
pub const ROLES: [&str; 3] = ["vitrine_reader", "vitrine_moderator", "vitrine_reviewer"];

/// The migrations, oldest first: migration `i + 1` is `MIGRATIONS[i]`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5];

/// The newest schema version this build writes and reads.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// The table of applied migrations (created before any migration runs).
pub const MIGRATIONS_TABLE: &str = "
CREATE SCHEMA IF NOT EXISTS vitrine;
CREATE TABLE IF NOT EXISTS vitrine.migrations(
    version integer PRIMARY KEY,
    applied_by text NOT NULL DEFAULT session_user,
    applied_at timestamptz NOT NULL DEFAULT now()
);
";

const V1: &str = r#"
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vitrine_reader') THEN
        CREATE ROLE vitrine_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vitrine_moderator') THEN
        CREATE ROLE vitrine_moderator NOLOGIN IN ROLE vitrine_reader;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vitrine_reviewer') THEN
        CREATE ROLE vitrine_reviewer NOLOGIN IN ROLE vitrine_moderator;
    END IF;
END
$$;

-- One row per catalogue, keyed by its identity (a name, the same on every machine).
CREATE TABLE vitrine.catalogues(
    id bigserial PRIMARY KEY,
    identity text NOT NULL UNIQUE,
    -- fingerprint of the products last recorded (see the products table)
    products text,
    created_by text NOT NULL DEFAULT session_user,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE vitrine.edit_ids;
CREATE TABLE vitrine.edits(
    id bigint PRIMARY KEY,
    catalogue bigint NOT NULL REFERENCES vitrine.catalogues(id),
    batch bigint NOT NULL,
    product text NOT NULL,
    task text NOT NULL,
    old text,
    new text,
    author text NOT NULL DEFAULT session_user,
    time_ms bigint NOT NULL,
    -- the server's clock, which no client sets
    at timestamptz NOT NULL DEFAULT now(),
    source text NOT NULL,
    reason text,
    reverts bigint,
    state text NOT NULL,
    state_changed bigint NOT NULL
);
CREATE INDEX edits_product ON vitrine.edits(catalogue, product, id);
CREATE INDEX edits_stack ON vitrine.edits(catalogue, author, state, state_changed);
CREATE INDEX edits_batch ON vitrine.edits(batch);
CREATE INDEX edits_after ON vitrine.edits(catalogue, id);

CREATE TABLE vitrine.current(
    catalogue bigint NOT NULL,
    product text NOT NULL,
    task text NOT NULL,
    value text,
    edit bigint NOT NULL,
    PRIMARY KEY(catalogue, product, task)
);

CREATE TABLE vitrine.products(
    catalogue bigint NOT NULL,
    id text NOT NULL,
    PRIMARY KEY(catalogue, id)
);

CREATE TABLE vitrine.reviews(
    id bigserial PRIMARY KEY,
    catalogue bigint NOT NULL REFERENCES vitrine.catalogues(id),
    product text NOT NULL,
    task text NOT NULL,
    label text NOT NULL,
    photos text NOT NULL,
    author text NOT NULL DEFAULT session_user,
    time_ms bigint NOT NULL,
    withdrawn_by text,
    withdrawn_ms bigint,
    changed bigint NOT NULL
);
CREATE INDEX reviews_product ON vitrine.reviews(catalogue, product, task, id);
CREATE INDEX reviews_changed ON vitrine.reviews(catalogue, changed);

CREATE TABLE vitrine.not_duplicates(
    catalogue bigint NOT NULL REFERENCES vitrine.catalogues(id),
    a text NOT NULL,
    b text NOT NULL,
    author text NOT NULL DEFAULT session_user,
    time_ms bigint NOT NULL,
    PRIMARY KEY(catalogue, a, b)
);

CREATE FUNCTION vitrine.follow_journal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = vitrine, pg_temp AS $f$
BEGIN
    INSERT INTO vitrine.current(catalogue, product, task, value, edit)
    VALUES (NEW.catalogue, NEW.product, NEW.task, NEW.new, NEW.id)
    ON CONFLICT (catalogue, product, task)
    DO UPDATE SET value = EXCLUDED.value, edit = EXCLUDED.edit;
    -- delivered at commit, once per transaction and catalogue
    PERFORM pg_notify('vitrine_edits', NEW.catalogue::text);
    RETURN NULL;
END
$f$;
CREATE TRIGGER follow_journal AFTER INSERT ON vitrine.edits
    FOR EACH ROW EXECUTE FUNCTION vitrine.follow_journal();

CREATE FUNCTION vitrine.tell_reviews() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_notify('vitrine_reviews', NEW.catalogue::text);
    RETURN NULL;
END
$f$;
CREATE TRIGGER tell_reviews AFTER INSERT OR UPDATE ON vitrine.reviews
    FOR EACH ROW EXECUTE FUNCTION vitrine.tell_reviews();

ALTER TABLE vitrine.edits ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON vitrine.edits FOR SELECT USING (true);
CREATE POLICY own_entries ON vitrine.edits FOR INSERT WITH CHECK (author = session_user);
CREATE POLICY own_history ON vitrine.edits FOR UPDATE
    USING (author = session_user) WITH CHECK (author = session_user);

ALTER TABLE vitrine.reviews ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON vitrine.reviews FOR SELECT USING (true);
CREATE POLICY own_reviews ON vitrine.reviews FOR INSERT WITH CHECK (author = session_user);
CREATE POLICY own_withdrawals ON vitrine.reviews FOR UPDATE
    USING (withdrawn_by IS NULL) WITH CHECK (withdrawn_by = session_user);

ALTER TABLE vitrine.not_duplicates ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON vitrine.not_duplicates FOR SELECT USING (true);
CREATE POLICY own_marks ON vitrine.not_duplicates FOR INSERT
    WITH CHECK (author = session_user);

GRANT USAGE ON SCHEMA vitrine TO vitrine_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA vitrine TO vitrine_reader;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA vitrine TO vitrine_moderator;
GRANT INSERT, UPDATE (products) ON vitrine.catalogues TO vitrine_moderator;
GRANT INSERT, DELETE ON vitrine.products TO vitrine_moderator;
GRANT INSERT, UPDATE (state, state_changed) ON vitrine.edits TO vitrine_moderator;
GRANT INSERT, UPDATE (withdrawn_by, withdrawn_ms, changed) ON vitrine.reviews
    TO vitrine_moderator;
GRANT INSERT ON vitrine.not_duplicates TO vitrine_moderator;
"#;

/// Origin keys: every entry a window writes carries one, unique over every window and
/// session, so an entry sent again from the outbox (its first sending committed, but the
/// acknowledgement was lost with the connection) is recognised and journalled once.
const V2: &str = "
ALTER TABLE vitrine.edits ADD COLUMN origin text;
CREATE UNIQUE INDEX edits_origin ON vitrine.edits(catalogue, origin);
";

/// Reviewing others' changes: a verdict per change, which only a reviewer gives (in their own
/// name), and revert entries, which only a reviewer writes.
const V3: &str = "
CREATE TABLE vitrine.verdicts(
    edit bigint PRIMARY KEY REFERENCES vitrine.edits(id),
    catalogue bigint NOT NULL REFERENCES vitrine.catalogues(id),
    verdict text NOT NULL CHECK (verdict IN ('approved', 'reverted')),
    reviewer text NOT NULL DEFAULT session_user,
    time_ms bigint NOT NULL,
    revert bigint REFERENCES vitrine.edits(id)
);
CREATE INDEX edits_reverts ON vitrine.edits(reverts);
ALTER TABLE vitrine.verdicts ENABLE ROW LEVEL SECURITY;
CREATE POLICY everyone_reads ON vitrine.verdicts FOR SELECT USING (true);
CREATE POLICY own_verdicts ON vitrine.verdicts FOR INSERT WITH CHECK (reviewer = session_user);
GRANT SELECT ON vitrine.verdicts TO vitrine_reader;
GRANT INSERT ON vitrine.verdicts TO vitrine_reviewer;

DROP POLICY own_entries ON vitrine.edits;
CREATE POLICY own_entries ON vitrine.edits FOR INSERT WITH CHECK (
    author = session_user
    AND (source <> 'revert' OR pg_has_role(session_user, 'vitrine_reviewer', 'MEMBER'))
);
";

/// Each catalogue's id in the origin keys of entries copied out of it (`labels pull`): a
/// copy pushed back is recognised as born here.
const V4: &str = "
ALTER TABLE vitrine.catalogues ADD COLUMN uid text NOT NULL
    DEFAULT 'team-' || md5(random()::text || clock_timestamp()::text);
";

/// A verdict is announced (`NOTIFY vitrine_verdicts`, at its commit), so open review queues
/// follow other reviewers.
const V5: &str = "
CREATE FUNCTION vitrine.tell_verdicts() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_notify('vitrine_verdicts', NEW.catalogue::text);
    RETURN NULL;
END
$f$;
CREATE TRIGGER tell_verdicts AFTER INSERT ON vitrine.verdicts
    FOR EACH ROW EXECUTE FUNCTION vitrine.tell_verdicts();
";
