-- Setting up a vitrine team store on a PostgreSQL server (13 or newer), run with psql as a
-- superuser (or a role with CREATEDB and CREATEROLE):
--
--     psql -h db.example -U postgres -f docs/team-store.sql
--
-- 1. The database, owned by an administrator role that vitrine's migrations run as. The first
--    `vitrine` command that opens a catalogue with
--    --store postgres://vitrine_admin@db.example/vitrine creates the schema `vitrine`, its
--    tables and the three group roles below, and grants them their rights (the schema's
--    migrations, src/labels/team/schema.rs: nothing here repeats them).
CREATE ROLE vitrine_admin LOGIN CREATEROLE PASSWORD 'change me';
CREATE DATABASE vitrine OWNER vitrine_admin;

-- 2. After that first open: one login role per person, in one of the groups.
--    vitrine_reader     browse and export; no edits, reviews or marks, even from psql
--    vitrine_moderator  edit labels, keep labels (reviews), mark "not duplicates"
--    vitrine_reviewer   a moderator who also approves or reverts others' changes (View >
--                       Changes to review, vitrine labels queue / approve / revert)
--    The journal names every edit by its role (session_user): nobody can write under
--    another name, and row level security refuses it even from a role's own SQL client.
CREATE ROLE ann LOGIN PASSWORD 'change me' IN ROLE vitrine_moderator;
CREATE ROLE bob LOGIN PASSWORD 'change me' IN ROLE vitrine_moderator;
CREATE ROLE lea LOGIN PASSWORD 'change me' IN ROLE vitrine_reviewer;
CREATE ROLE ivan LOGIN PASSWORD 'change me' IN ROLE vitrine_reader;

-- 3. Each person puts the password in ~/.pgpass (mode 0600), never in the address:
--        db.example:5432:vitrine:ann:the password
--    and connects with  vitrine open CATALOGUE --store postgres://ann@db.example/vitrine
--    (add ?sslmode=verify-full and the server's CA in ~/.postgresql/root.crt for TLS).
