//! Two windows, each with its own data folder, on one team store (a real PostgreSQL server):
//! an edit in one appears in the other within a second, named by its author; the later of two
//! changes to one label wins in both; undo in a window never overwrites the other's newer
//! label; the status bar says which store each window writes to.

mod common;

use common::postgres::cluster;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vitrine::app::command::Command;
use vitrine::app::keys::KeyAction;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::labels::EditSource;

fn window<'a>(manifest: &Path, store: String, data: &Path) -> Harness<'a, WorkspaceApp> {
    let request = OpenRequest {
        store: Some(PathBuf::from(store)),
        ..OpenRequest::path(manifest)
    };
    let mut h = common::window::harness(Start::Open(request), data);
    common::window::wait(&mut h, "the catalogue", Duration::from_secs(60), |a| {
        a.state.session.is_some()
    });
    h
}

fn colour(app: &WorkspaceApp, position: u32) -> Option<String> {
    let session = app.state.session.as_ref().unwrap();
    session.label(position, Task::Colour).map(String::from)
}

fn set_colour(h: &mut Harness<'_, WorkspaceApp>, position: u32, value: &str) {
    h.state_mut().apply(Command::SetLabel {
        task: Task::Colour,
        value: Some(value.into()),
        source: EditSource::Human,
        targets: vec![position],
    });
    common::window::wait(h, "the store", Duration::from_secs(30), |a| {
        a.state.labels_settled()
    });
}

/// Steps both windows until `done` holds for `h`; returns how long it took.
fn until(
    h: &mut Harness<'_, WorkspaceApp>,
    other: &mut Harness<'_, WorkspaceApp>,
    what: &str,
    done: impl Fn(&WorkspaceApp) -> bool,
) -> Duration {
    let started = Instant::now();
    loop {
        h.step();
        other.step();
        if done(h.state()) {
            h.step();
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn two_windows_share_one_team_store_live() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 6);
    for role in ["ann", "bob"] {
        cluster.role(role, "vitrine_moderator", "pw");
    }
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    let mut a = window(&manifest, cluster.url("ann"), &data_a);
    let mut b = window(&manifest, cluster.url("bob"), &data_b);
    a.get_by_label_contains("team store");
    assert!(
        a.query_by_label_contains("as ann").is_some(),
        "the status bar names the store and the role"
    );

    set_colour(&mut a, 0, "Teal");
    let took = until(&mut b, &mut a, "ann's edit in bob's window", |app| {
        colour(app, 0).as_deref() == Some("Teal")
    });
    assert!(took < Duration::from_secs(1), "{took:?}");
    let notice = b.state().state.message.as_ref().unwrap().text.clone();
    assert!(notice.contains("ann changed the colour of p0"), "{notice}");

    // Both change one label: the later wins, in both windows, and both changes are journalled.
    set_colour(&mut a, 1, "Olive");
    set_colour(&mut b, 1, "Maroon");
    until(
        &mut a,
        &mut b,
        "bob's later change in ann's window",
        |app| colour(app, 1).as_deref() == Some("Maroon"),
    );
    // Ann lost: told at once, and her product view marks the label.
    let told = a.state().state.message.as_ref().unwrap();
    assert!(
        told.error && told.text.contains("over your edit"),
        "{}",
        told.text
    );
    a.state_mut().apply(Command::FocusProduct(1));
    a.step();
    a.step();
    a.get_by_label("changed by bob");
    // Ann's undo would overwrite bob's newer label: refused, his label kept.
    let _ = a.state_mut().state.message.take();
    a.state_mut().apply(Command::Key(KeyAction::Undo));
    until(&mut a, &mut b, "the undo's answer", |app| {
        app.state.message.is_some()
    });
    let refusal = a.state().state.message.as_ref().unwrap().text.clone();
    assert!(refusal.contains("cannot undo"), "{refusal}");
    for _ in 0..20 {
        a.step();
        b.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(colour(a.state(), 1).as_deref(), Some("Maroon"));
    assert_eq!(colour(b.state(), 1).as_deref(), Some("Maroon"));
    let mut check = vitrine::labels::open_workspace(
        &manifest,
        &vitrine::catalog::import::ImportOptions::default(),
        Some(Path::new(&cluster.url("ann"))),
    )
    .unwrap();
    let history = check.store.history("p1").unwrap();
    let authors: Vec<&str> = history.iter().map(|e| e.author.as_str()).collect();
    assert_eq!(authors, ["ann", "bob"], "no undo written over bob's label");
}

#[test]
fn a_reviewer_reverts_a_change_from_the_changes_panel() {
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    cluster.role("cara", "vitrine_moderator", "pw");
    cluster.role("lena", "vitrine_reviewer", "pw");
    let mut cara = window(&manifest, cluster.url("cara"), &dir.path().join("c"));
    let mut lena = window(&manifest, cluster.url("lena"), &dir.path().join("l"));
    let before = colour(cara.state(), 2);
    set_colour(&mut cara, 2, "Black");
    set_colour(&mut cara, 3, "Red");
    lena.state_mut()
        .apply(Command::TogglePanel(vitrine::app::command::Panel::Changes));
    until(
        &mut lena,
        &mut cara,
        "cara's change in lena's queue",
        |app| {
            app.state
                .changes
                .queue
                .as_ref()
                .is_some_and(|q| q.changes.iter().any(|e| e.author == "cara"))
        },
    );
    until(
        &mut lena,
        &mut cara,
        "both changes in lena's queue",
        |app| {
            app.state
                .changes
                .queue
                .as_ref()
                .is_some_and(|q| q.total == 2)
        },
    );
    // Another reviewer approves the change of p3: lena's queue follows by itself.
    cluster.role("milo", "vitrine_reviewer", "pw");
    let mut milo = vitrine::labels::open_workspace(
        &manifest,
        &vitrine::catalog::import::ImportOptions::default(),
        Some(Path::new(&cluster.url("milo"))),
    )
    .unwrap();
    let queue = milo
        .store
        .change_queue(&Default::default(), "milo")
        .unwrap();
    let p3 = queue.changes.iter().find(|e| e.product == "p3").unwrap().id;
    milo.store
        .judge(
            &mut milo.catalog,
            &[p3],
            false,
            "milo",
            vitrine::labels::change_review::Verdict::Approved,
        )
        .unwrap();
    until(
        &mut lena,
        &mut cara,
        "milo's verdict in lena's queue",
        |app| {
            app.state
                .changes
                .queue
                .as_ref()
                .is_some_and(|q| q.total == 1)
        },
    );
    lena.get_by_label_contains("1 waiting");
    lena.get_by_label("Revert").click();
    until(&mut lena, &mut cara, "the revert in lena's window", |app| {
        colour(app, 2) == before
    });
    until(&mut cara, &mut lena, "the revert in cara's window", |app| {
        colour(app, 2) == before
    });
    until(&mut lena, &mut cara, "an empty queue", |app| {
        app.state
            .changes
            .queue
            .as_ref()
            .is_some_and(|q| q.total == 0)
    });
    // Cara's product view shows her change reverted by lena.
    cara.state_mut().apply(Command::FocusProduct(2));
    until(
        &mut cara,
        &mut lena,
        "the history with its verdict",
        |app| {
            app.state
                .history
                .as_ref()
                .is_some_and(|h| h.product == "p2" && !h.verdicts.is_empty())
        },
    );
    cara.get_by_label_contains("reverted by lena");
}
