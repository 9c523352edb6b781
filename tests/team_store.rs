//! The team store against a real PostgreSQL server: identity from the database role, roles
//! that cannot write even with their own SQL client, live edits between windows, concurrent
//! writers, a client killed in the middle of a batch, SQL-looking values. (The behaviour
//! suite shared with the file engine is in `label_store.rs`; the server outage in
//! `team_store_outage.rs`.)

mod common;

use common::postgres::{Cluster, cluster};
use common::{change, colour, human};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::labels::{Change, Edit, StoreError, Workspace, open_workspace};

fn open_as(cluster: &Cluster, manifest: &Path, role: &str) -> Workspace {
    cluster.role(role, "vitrine_moderator", "pw");
    let store = PathBuf::from(cluster.url(role));
    open_workspace(manifest, &ImportOptions::default(), Some(&store)).unwrap()
}

/// Each label's journal entries chain: every entry's old value is the previous one's new
/// value (the first's, the imported label).
fn assert_chains(journal: &[Edit], imported: &dyn Fn(&str, Task) -> Option<String>) {
    let mut last: HashMap<(String, Task), Option<String>> = HashMap::new();
    for edit in journal {
        let key = (edit.product.clone(), edit.task);
        let before = last
            .get(&key)
            .cloned()
            .unwrap_or_else(|| imported(&edit.product, edit.task));
        assert_eq!(
            edit.old, before,
            "entry #{} breaks its label's chain",
            edit.id
        );
        last.insert(key, edit.new.clone());
    }
}

#[test]
fn the_author_is_the_database_role_whatever_the_caller_says() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let mut ws = open_as(cluster, &manifest, "dana");
    assert_eq!(ws.store.role(), Some("dana"));
    assert_eq!(ws.store_report.role.as_deref(), Some("dana"));
    let edit = ws
        .store
        .set(
            &mut ws.catalog,
            change("p0", Task::Colour, "Navy"),
            &human("someone-else"),
        )
        .unwrap()
        .unwrap();
    assert_eq!(edit.author, "dana");
    // Undo is one's own: the name given is not used either.
    let undone = ws.store.undo(&mut ws.catalog, "someone-else").unwrap();
    assert_eq!(undone.len(), 1);
    assert_eq!(ws.store.history("p0").unwrap()[1].author, "dana");
}

#[test]
fn a_reader_cannot_write_even_with_its_own_sql_client() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let mut writer = open_as(cluster, &manifest, "moe");
    writer
        .store
        .set(
            &mut writer.catalog,
            change("p1", Task::Colour, "Teal"),
            &human("moe"),
        )
        .unwrap();
    cluster.role("rita", "vitrine_reader", "pw");
    let store = PathBuf::from(cluster.url("rita"));
    let mut reader = open_workspace(&manifest, &ImportOptions::default(), Some(&store)).unwrap();
    assert_eq!(colour(&reader, "p1").as_deref(), Some("Teal"), "reads");
    let refused = reader
        .store
        .set(
            &mut reader.catalog,
            change("p1", Task::Colour, "Red"),
            &human("rita"),
        )
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::Denied { ref role, .. } if role == "rita"),
        "{refused}"
    );
    assert!(refused.to_string().contains("may not"), "{refused}");
    // Its own SQL: every table refuses it.
    let mut sql = cluster.client("rita");
    for statement in [
        "INSERT INTO vitrine.edits(id, catalogue, batch, product, task, new, author, time_ms, \
         source, state, state_changed) SELECT 999999, id, 999999, 'p1', 'colour', 'Red', \
         'rita', 0, 'human', 'done', 999999 FROM vitrine.catalogues LIMIT 1",
        "UPDATE vitrine.current SET value = 'Red'",
        "DELETE FROM vitrine.edits",
        "UPDATE vitrine.edits SET new = 'Red'",
        "INSERT INTO vitrine.reviews(catalogue, product, task, label, photos, time_ms, changed) \
         SELECT id, 'p1', 'colour', 'Red', '0', 0, 1 FROM vitrine.catalogues LIMIT 1",
    ] {
        let error = sql.batch_execute(statement).unwrap_err();
        assert_eq!(
            error.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {error}"
        );
    }
    assert_eq!(colour(&writer, "p1").as_deref(), Some("Teal"));
}

#[test]
fn a_moderator_cannot_write_under_another_name() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 2);
    let mut ws = open_as(cluster, &manifest, "mallory");
    ws.store
        .set(
            &mut ws.catalog,
            change("p0", Task::Colour, "Lime"),
            &human("mallory"),
        )
        .unwrap();
    open_as(cluster, &manifest, "victor");
    let mut sql = cluster.client("mallory");
    let forged = sql.batch_execute(
        "INSERT INTO vitrine.edits(id, catalogue, batch, product, task, new, author, time_ms, \
         source, state, state_changed) SELECT nextval('vitrine.edit_ids'), id, 1, 'p0', \
         'colour', 'Red', 'victor', 0, 'human', 'done', 1 FROM vitrine.catalogues LIMIT 1",
    );
    assert!(forged.is_err(), "row level security refuses another author");
    // Nor can it rewrite history, its own or anyone's.
    let rewritten = sql.execute("UPDATE vitrine.edits SET new = 'Red'", &[]);
    assert!(
        rewritten.is_err(),
        "no column but the undo state may change"
    );
    let stolen = sql
        .execute(
            "UPDATE vitrine.edits SET state = 'dead' WHERE author <> 'mallory'",
            &[],
        )
        .unwrap();
    assert_eq!(stolen, 0, "another's undo history is out of reach");
}

#[test]
fn another_windows_edit_arrives_within_a_second() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    let mut a = open_as(cluster, &manifest, "ann");
    let mut b = open_as(cluster, &manifest, "bob");
    let mut latencies = Vec::new();
    for i in 0..20 {
        let value = format!("Shade {i}");
        let written = Instant::now();
        a.store
            .set(
                &mut a.catalog,
                change("p2", Task::Colour, &value),
                &human("ann"),
            )
            .unwrap();
        let seen = loop {
            let edits = b.store.sync(&mut b.catalog).unwrap();
            if let Some(edit) = edits.last() {
                assert_eq!(edits.len(), 1, "each entry once");
                assert_eq!(edit.author, "ann");
                break written.elapsed();
            }
            assert!(
                written.elapsed() < Duration::from_secs(1),
                "not seen within 1 s"
            );
            std::thread::sleep(b.store.sync_interval());
        };
        assert_eq!(colour(&b, "p2").as_deref(), Some(value.as_str()));
        latencies.push(seen);
    }
    // The other window's own edit is not handed back to it as someone else's.
    b.store
        .set(
            &mut b.catalog,
            change("p3", Task::Colour, "Plum"),
            &human("bob"),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(b.store.new_edits().unwrap().is_empty());
    latencies.sort();
    eprintln!(
        "edit seen by another window: p50 {:?}, max {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
}

#[test]
fn four_writers_at_once_lose_nothing_and_every_chain_holds() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 50);
    let roles = ["w1", "w2", "w3", "w4"];
    for role in roles {
        cluster.role(role, "vitrine_moderator", "pw");
    }
    const EDITS: usize = 1000;
    let written: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = roles
            .iter()
            .map(|role| {
                let manifest = manifest.clone();
                scope.spawn(move || {
                    let mut ws = open_as(cluster, &manifest, role);
                    let mut count = 0;
                    for i in 0..EDITS {
                        // Overlapping products, values no other writer uses: every edit changes
                        // its label.
                        let product = format!("p{}", (i * 7) % 50);
                        let value = format!("{role}-{i}");
                        let task = if i % 2 == 0 {
                            Task::Colour
                        } else {
                            Task::Gender
                        };
                        let by = human(role);
                        let edits = if i % 10 == 0 {
                            ws.store
                                .set_many(
                                    &mut ws.catalog,
                                    &[
                                        change(&product, task, &value),
                                        change(&format!("p{}", (i + 1) % 50), task, &value),
                                    ],
                                    &by,
                                )
                                .unwrap()
                        } else {
                            ws.store
                                .set(&mut ws.catalog, change(&product, task, &value), &by)
                                .unwrap()
                                .into_iter()
                                .collect()
                        };
                        count += edits.len();
                    }
                    count
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut check = open_as(cluster, &manifest, "w1");
    let journal = check.store.journal(0).unwrap();
    assert_eq!(journal.len(), written.iter().sum::<usize>(), "nothing lost");
    let per_role = |role: &str| journal.iter().filter(|e| e.author == role).count();
    for (role, count) in roles.iter().zip(&written) {
        assert_eq!(per_role(role), *count, "{role}");
    }
    let fresh = vitrine::catalog::import::import(&manifest, &ImportOptions::default())
        .unwrap()
        .catalog;
    assert_chains(&journal, &|product, task| {
        let p = fresh.product(product).unwrap();
        fresh.label_name(p, task).map(String::from)
    });
    // The current labels are each label's last entry.
    let mut last = HashMap::new();
    for edit in &journal {
        last.insert((edit.product.clone(), edit.task), edit.new.clone());
    }
    let current = check.store.current_labels().unwrap();
    assert_eq!(current.len(), last.len());
    for (product, task, value) in current {
        assert_eq!(last[&(product, task)], value);
    }
}

#[test]
fn a_client_killed_in_the_middle_of_a_batch_leaves_all_or_nothing() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 2000);
    cluster.role("kim", "vitrine_moderator", "pw");
    let edits = dir.path().join("edits.csv");
    let mut text = String::from("product_id,task,value\n");
    for round in 0..5 {
        for i in 0..2000 {
            text.push_str(&format!("p{i},colour,Round {round}\n"));
        }
    }
    std::fs::write(&edits, text).unwrap();
    let mut child = common::vitrine()
        .args(["labels", "apply"])
        .arg(&manifest)
        .arg("--edits")
        .arg(&edits)
        .args(["--batch", "--new-class", "--store", &cluster.url("kim")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once its transaction is under way on the server.
    let mut admin = cluster.client(common::postgres::ADMIN);
    let started = Instant::now();
    loop {
        let busy: i64 = admin
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE usename = 'kim' \
                 AND xact_start IS NOT NULL AND backend_xid IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0);
        if busy > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the batch never began"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed before it finished");
    let mut ws = open_as(cluster, &manifest, "kim");
    let journal = ws.store.journal(0).unwrap();
    assert!(
        journal.is_empty() || journal.len() == 10_000,
        "all or nothing: {} entries",
        journal.len()
    );
}

#[test]
fn sql_looking_values_are_stored_verbatim() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(
        &manifest,
        "product_id,name,images,colour\n\"x'); DROP TABLE vitrine.edits;--\",Odd,,Red\np2,Two,,Blue\n",
    )
    .unwrap();
    let mut ws = open_as(cluster, &manifest, "sam");
    let values = [
        "Robert'); DROP TABLE vitrine.current;--",
        "$1 $$ \\ \" % _ ;",
        "Ünïcödé 蓝色",
    ];
    for value in values {
        ws.store
            .set_many(
                &mut ws.catalog,
                &[
                    change("x'); DROP TABLE vitrine.edits;--", Task::Colour, value),
                    Change {
                        product: "p2".into(),
                        task: Task::Colour,
                        value: Some(value.into()),
                    },
                ],
                &human("sam"),
            )
            .unwrap();
        let again = open_as(cluster, &manifest, "sam");
        assert_eq!(
            colour(&again, "x'); DROP TABLE vitrine.edits;--").as_deref(),
            Some(value)
        );
        assert_eq!(colour(&again, "p2").as_deref(), Some(value));
    }
    assert_eq!(ws.store.journal_len().unwrap(), 6);
}

#[test]
fn catalogues_are_kept_apart_and_identified_by_name_not_path() {
    let Some(cluster) = cluster() else { return };
    // The same catalogue in two places (two machines' copies): one identity, one journal.
    let root = tempfile::tempdir().unwrap();
    let here = root.path().join("here").join("shop");
    let there = root.path().join("there").join("shop");
    for dir in [&here, &there] {
        std::fs::create_dir_all(dir).unwrap();
        common::small_catalogue(dir, 3);
    }
    let mut a = open_as(cluster, &here.join("manifest.csv"), "ann");
    a.store
        .set(
            &mut a.catalog,
            change("p0", Task::Colour, "Coral"),
            &human("ann"),
        )
        .unwrap();
    let b = open_as(cluster, &there.join("manifest.csv"), "bob");
    assert_eq!(colour(&b, "p0").as_deref(), Some("Coral"));
    // A catalogue named otherwise in the address is another catalogue.
    let named = PathBuf::from(format!("{}?catalogue=another", cluster.url("bob")));
    let c = open_workspace(
        &there.join("manifest.csv"),
        &ImportOptions::default(),
        Some(&named),
    )
    .unwrap();
    assert_eq!(colour(&c, "p0").as_deref(), Some("Red"));
    assert!(c.store_report.created);
}

#[test]
fn a_password_on_the_command_line_is_refused_and_one_from_the_environment_is_used() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 2);
    cluster.role("pat", "vitrine_moderator", "s3cret");
    let with_password = cluster.tcp_url("pat").replace("pat@", "pat:s3cret@");
    let err = common::stderr_of_failure({
        let mut c = common::vitrine();
        c.args(["labels", "log"])
            .arg(&manifest)
            .args(["--store", &with_password]);
        c
    });
    assert!(err.contains("~/.pgpass"), "{err}");
    assert!(
        !err.contains("s3cret"),
        "the password is not repeated: {err}"
    );
    let mut ok = common::vitrine();
    ok.args(["labels", "set"])
        .arg(&manifest)
        .args(["p0", "colour", "Blue", "--store", &cluster.tcp_url("pat")])
        .env("PGPASSWORD", "s3cret");
    common::stdout_of(ok);
    let mut wrong = common::vitrine();
    wrong
        .args(["labels", "log"])
        .arg(&manifest)
        .args(["--store", &cluster.tcp_url("pat")])
        .env("PGPASSWORD", "wrong");
    let err = common::stderr_of_failure(wrong);
    assert!(err.contains("password authentication failed"), "{err}");
    // VITRINE_STORE names the store when --store does not.
    let mut log = common::vitrine();
    log.args(["labels", "log"])
        .arg(&manifest)
        .env("VITRINE_STORE", cluster.tcp_url("pat"))
        .env("PGPASSWORD", "s3cret");
    let out = String::from_utf8(common::stdout_of(log)).unwrap();
    assert!(out.contains("pat") && out.contains("Blue"), "{out}");
}

#[test]
fn only_a_reviewer_judges_changes_even_with_its_own_sql_client() {
    use vitrine::labels::change_review::{QueueFilter, Verdict};
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let mut nina = open_as(cluster, &manifest, "nina");
    let edit = nina
        .store
        .set(
            &mut nina.catalog,
            change("p0", Task::Colour, "Coral"),
            &human("nina"),
        )
        .unwrap()
        .unwrap();
    // Another moderator sees the queue but may not judge it.
    let mut omar = open_as(cluster, &manifest, "omar");
    let queue = omar
        .store
        .change_queue(&QueueFilter::default(), "omar")
        .unwrap();
    assert_eq!(queue.changes.len(), 1);
    let refused = omar
        .store
        .judge(
            &mut omar.catalog,
            &[edit.id],
            false,
            "omar",
            Verdict::Approved,
        )
        .unwrap_err();
    assert!(
        refused.to_string().contains("for the reviewer role"),
        "{refused}"
    );
    let mut sql = cluster.client("omar");
    for statement in [
        format!(
            "INSERT INTO vitrine.verdicts(edit, catalogue, verdict, time_ms) \
             SELECT id, catalogue, 'approved', 0 FROM vitrine.edits WHERE id = {}",
            edit.id
        ),
        "INSERT INTO vitrine.edits(id, catalogue, batch, product, task, new, time_ms, source, \
         state, state_changed) SELECT nextval('vitrine.edit_ids'), id, 1, 'p0', 'colour', \
         'Red', 0, 'revert', 'journal', 1 FROM vitrine.catalogues LIMIT 1"
            .to_string(),
    ] {
        let error = sql.batch_execute(&statement).unwrap_err();
        assert_eq!(
            error.code(),
            Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {error}"
        );
    }
    // A reviewer may, and only in its own name.
    cluster.role("pam", "vitrine_reviewer", "pw");
    let store = PathBuf::from(cluster.url("pam"));
    let mut pam = open_workspace(&manifest, &ImportOptions::default(), Some(&store)).unwrap();
    let judged = pam
        .store
        .judge(
            &mut pam.catalog,
            &[edit.id],
            false,
            "forged",
            Verdict::Reverted,
        )
        .unwrap();
    assert_eq!(judged.judgements[0].reviewer, "pam");
    assert_eq!(judged.reverts[0].author, "pam");
    let mut sql = cluster.client("pam");
    let forged = sql.batch_execute(&format!(
        "INSERT INTO vitrine.verdicts(edit, catalogue, verdict, reviewer, time_ms) \
         SELECT id, catalogue, 'approved', 'omar', 0 FROM vitrine.edits WHERE id = {}",
        judged.reverts[0].id
    ));
    assert!(forged.is_err(), "a verdict under another name is refused");
    nina.store.sync(&mut nina.catalog).unwrap();
    assert_eq!(colour(&nina, "p0"), edit.old);
}

#[test]
fn push_and_pull_copy_journals_once_and_never_over_a_newer_label() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5);
    let options = ImportOptions::default();
    // Offline work in a file: a change, a batch, a change undone.
    let file = dir.path().join("offline.sqlite");
    let mut local = open_workspace(&manifest, &options, Some(&file)).unwrap();
    let by = human("uma");
    local
        .store
        .set(&mut local.catalog, change("p0", Task::Colour, "Black"), &by)
        .unwrap();
    local
        .store
        .set_many(
            &mut local.catalog,
            &[
                change("p1", Task::Colour, "Green"),
                change("p2", Task::Colour, "Red"),
            ],
            &by,
        )
        .unwrap();
    local
        .store
        .set(&mut local.catalog, change("p3", Task::Colour, "Blue"), &by)
        .unwrap();
    local.store.undo(&mut local.catalog, "uma").unwrap();
    // Meanwhile in the team store, vic changed p2.
    let mut vic = open_as(cluster, &manifest, "vic");
    vic.store
        .set(
            &mut vic.catalog,
            change("p2", Task::Colour, "Pink"),
            &human("vic"),
        )
        .unwrap();
    // Uma pushes (as her role, uma).
    let mut team = open_as(cluster, &manifest, "uma");
    let report = local.store.copy_to(&mut team.store, &team.catalog).unwrap();
    assert_eq!(report.copied, 4, "{report:?}");
    assert_eq!(report.conflicts.len(), 1, "{report:?}");
    assert!(
        report.conflicts[0].reason.contains("'Pink' here"),
        "{report:?}"
    );
    let again = local.store.copy_to(&mut team.store, &team.catalog).unwrap();
    assert_eq!((again.copied, again.already), (0, 4), "{again:?}");
    vic.store.sync(&mut vic.catalog).unwrap();
    assert_eq!(colour(&vic, "p0").as_deref(), Some("Black"));
    assert_eq!(colour(&vic, "p1").as_deref(), Some("Green"));
    assert_eq!(
        colour(&vic, "p2").as_deref(),
        Some("Pink"),
        "vic's label stays"
    );
    assert_eq!(
        colour(&vic, "p3"),
        colour(&local, "p3"),
        "the undo came too"
    );
    let history = vic.store.history("p1").unwrap();
    assert_eq!(history[0].author, "uma");
    // The command line says the same, and refuses a push into a file.
    let pushed = common::stdout_of({
        let mut c = common::vitrine();
        c.args(["labels", "push"])
            .arg(&manifest)
            .arg("--store")
            .arg(&file)
            .arg("--to")
            .arg(cluster.url("uma"));
        c
    });
    let pushed = String::from_utf8_lossy(&pushed);
    assert!(pushed.starts_with("0 entries copied"), "{pushed}");
    assert!(pushed.contains("4 there already"), "{pushed}");
    let refused = common::stderr_of_failure({
        let mut c = common::vitrine();
        c.args(["labels", "push"])
            .arg(&manifest)
            .arg("--store")
            .arg(&file)
            .arg("--to")
            .arg(dir.path().join("x.sqlite"));
        c
    });
    assert!(refused.contains("use labels pull"), "{refused}");

    // Pulling into a fresh file copies the team's journal; twice adds nothing; pushing that
    // file back adds nothing either.
    let pulled_file = dir.path().join("pulled.sqlite");
    let mut pulled = open_workspace(&manifest, &options, Some(&pulled_file)).unwrap();
    let report = team
        .store
        .copy_to(&mut pulled.store, &pulled.catalog)
        .unwrap();
    assert_eq!(report.copied, 5, "{report:?}");
    assert!(report.conflicts.is_empty());
    let mut pulled = open_workspace(&manifest, &options, Some(&pulled_file)).unwrap();
    assert_eq!(colour(&pulled, "p2").as_deref(), Some("Pink"));
    assert_eq!(pulled.store.history("p2").unwrap()[0].author, "vic");
    let again = team
        .store
        .copy_to(&mut pulled.store, &pulled.catalog)
        .unwrap();
    assert_eq!(again.copied, 0, "{again:?}");
    let back = pulled
        .store
        .copy_to(&mut team.store, &team.catalog)
        .unwrap();
    assert_eq!(back.copied, 0, "{back:?}");
    assert_eq!(back.already + back.from_target, 5, "{back:?}");
}

#[test]
fn tls_verify_full_checks_the_server_certificate() {
    use vitrine::labels::LabelStore;
    use vitrine::labels::team::{Environment, TeamAddress};
    let Some(cluster) = cluster() else { return };
    let Some(certificates) = cluster.certificates() else {
        return;
    };
    cluster.role("tess", "vitrine_moderator", "pw");
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 2);
    let env = Environment {
        vars: vec![("PGPASSWORD".into(), "pw".into())],
    };
    let address = |host: &str, query: &str| {
        TeamAddress::parse(
            &format!("postgres://tess@{host}:{}/vitrine?{query}", cluster.port()),
            &env,
        )
        .unwrap()
    };
    let ca = certificates.join("ca.crt");
    let other = certificates.join("other-ca.crt");
    let open = |address: &TeamAddress| {
        let mut catalog = import(&manifest, &ImportOptions::default())
            .unwrap()
            .catalog;
        LabelStore::open_team(address, "tls/manifest.csv", &mut catalog, None).map(|(s, _)| s)
    };
    // Verified against the authority that signed it, by name and by address: a write goes
    // through, over TLS.
    for host in ["localhost", "127.0.0.1"] {
        let query = format!("sslmode=verify-full&sslrootcert={}", ca.display());
        let mut store = open(&address(host, &query)).unwrap_or_else(|e| panic!("{host}: {e}"));
        let mut catalog = import(&manifest, &ImportOptions::default())
            .unwrap()
            .catalog;
        store
            .set(
                &mut catalog,
                change("p0", Task::Colour, &format!("Over TLS {host}")),
                &human("tess"),
            )
            .unwrap();
        let on: bool = cluster
            .client(common::postgres::ADMIN)
            .query_one(
                "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a \
                 ON a.pid = s.pid WHERE a.usename = 'tess'",
                &[],
            )
            .unwrap()
            .get(0);
        assert!(on, "every connection of tess is encrypted");
    }
    // Another authority: refused, saying why, and nothing is written.
    let query = format!("sslmode=verify-full&sslrootcert={}", other.display());
    let refused = open(&address("localhost", &query)).unwrap_err().to_string();
    assert!(refused.contains("certificate"), "{refused}");
    assert!(!refused.contains("pw"), "{refused}");
    // require: encrypted, not verified (as libpq's).
    open(&address("localhost", "sslmode=require")).unwrap();
}
