//! The team store's server goes away (a crash, a cut connection) in the middle of a burst of
//! edits: the store keeps acknowledging edits into its outbox, sends them in order when the
//! server is back, each exactly once, and never overwrites a label someone changed meanwhile.
//! Its own cluster: stopping the server must not disturb the other tests, and the tests here
//! take turns.

mod common;

use common::postgres::cluster;
use common::{change, human};
use egui_kittest::kittest::Queryable;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use vitrine::app::command::Command;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::catalog::import::ImportOptions;
use vitrine::labels::EditSource;
use vitrine::labels::{Edit, Workspace, open_workspace};

/// One test at a time: one stops the server the others use.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Looks (applying what it gets) until the outbox is empty, the server back, for at most a
/// minute. Returns the entries the looks handed on.
fn until_sent(ws: &mut Workspace) -> Vec<Edit> {
    let started = Instant::now();
    let mut handed = Vec::new();
    while ws.store.server_state().is_some_and(|s| s.waiting > 0) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the outbox was never sent: {:?}",
            ws.store.server_state()
        );
        if let Ok(edits) = ws.store.sync(&mut ws.catalog) {
            handed.extend(edits);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    handed.extend(ws.store.sync(&mut ws.catalog).unwrap());
    handed
}

fn open(manifest: &std::path::Path, store: &str) -> Workspace {
    open_workspace(
        manifest,
        &ImportOptions::default(),
        Some(&PathBuf::from(store)),
    )
    .unwrap()
}

#[test]
fn acknowledged_edits_survive_a_server_restart_exactly_once() {
    let _turn = serial();
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5);
    cluster.role("olga", "vitrine_moderator", "pw");
    let mut ws = open(&manifest, &cluster.url("olga"));
    let mut acknowledged = Vec::new();
    let mut offline_seen = 0;
    let mut stopped_at = None;
    let mut restarted = false;
    for i in 0..300 {
        if i == 100 {
            cluster.stop();
            stopped_at = Some(Instant::now());
        }
        if !restarted && stopped_at.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            cluster.start_again();
            restarted = true;
        }
        let value = format!("Shade {i}");
        let written = ws
            .store
            .set(
                &mut ws.catalog,
                change(&format!("p{}", i % 5), Task::Colour, &value),
                &human("olga"),
            )
            .unwrap_or_else(|e| panic!("edit {i} refused: {e}"));
        assert!(written.is_some(), "every value is new");
        acknowledged.push(value);
        let state = ws.store.server_state().unwrap();
        if state.offline {
            offline_seen += 1;
            assert!(state.waiting > 0, "offline edits wait: {state:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(offline_seen > 0, "the outage was seen");
    if !restarted {
        cluster.start_again();
    }
    until_sent(&mut ws);
    assert!(!ws.store.server_state().unwrap().offline);
    assert!(ws.store.take_lost().is_empty(), "nobody else wrote");
    let journal = ws.store.journal(0).unwrap();
    let written: Vec<&str> = journal.iter().filter_map(|e| e.new.as_deref()).collect();
    for value in &acknowledged {
        let times = written.iter().filter(|w| *w == value).count();
        assert_eq!(
            times, 1,
            "{value} acknowledged, in the journal {times} times"
        );
    }
    assert_eq!(journal.len(), acknowledged.len());
    // In the order they were made, each label's chain unbroken.
    for product in 0..5 {
        let chain: Vec<_> = journal
            .iter()
            .filter(|e| e.product == format!("p{product}"))
            .collect();
        for pair in chain.windows(2) {
            assert_eq!(pair[1].old, pair[0].new, "{product}: {pair:?}");
        }
    }
    // Another window sees the last value of each label.
    let other = open(&manifest, &cluster.url("olga"));
    for product in 0..5 {
        let id = format!("p{product}");
        assert_eq!(
            common::colour(&other, &id),
            common::colour(&ws, &id),
            "{id}"
        );
    }

    // Edits waiting when the window closes are sent by the next open.
    cluster.stop();
    ws.store
        .set(
            &mut ws.catalog,
            change("p0", Task::Colour, "Left waiting"),
            &human("olga"),
        )
        .unwrap();
    assert_eq!(ws.store.server_state().unwrap().waiting, 1);
    drop(ws);
    cluster.start_again();
    let reopened = open(&manifest, &cluster.url("olga"));
    assert_eq!(reopened.store.server_state().unwrap().waiting, 0);
    assert_eq!(
        common::colour(&reopened, "p0").as_deref(),
        Some("Left waiting")
    );
}

#[test]
fn an_edit_made_offline_never_overwrites_a_label_changed_meanwhile() {
    let _turn = serial();
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    cluster.role("pia", "vitrine_moderator", "pw");
    cluster.role("quinn", "vitrine_moderator", "pw");
    let mut pia = open(&manifest, &cluster.url("pia"));
    let mut quinn = open(&manifest, &cluster.url("quinn"));
    // Pia's connection is cut: her edit waits.
    cluster.cut("pia");
    pia.store
        .set(
            &mut pia.catalog,
            change("p0", Task::Colour, "Pia's"),
            &human("pia"),
        )
        .unwrap();
    let state = pia.store.server_state().unwrap();
    assert!(state.offline && state.waiting == 1, "{state:?}");
    // Meanwhile Quinn changes p0.
    quinn
        .store
        .set(
            &mut quinn.catalog,
            change("p0", Task::Colour, "Quinn's"),
            &human("quinn"),
        )
        .unwrap();
    // Pia's next edit reconnects, sends what waits first, then goes through itself.
    pia.store
        .set(
            &mut pia.catalog,
            change("p1", Task::Colour, "Pia's too"),
            &human("pia"),
        )
        .unwrap();
    let handed = until_sent(&mut pia);
    let lost = pia.store.take_lost();
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(
        (lost[0].product.as_str(), lost[0].wanted.as_deref()),
        ("p0", Some("Pia's"))
    );
    assert_eq!(
        (lost[0].found.as_deref(), lost[0].by.as_str()),
        (Some("Quinn's"), "quinn")
    );
    assert!(
        lost[0]
            .to_string()
            .contains("quinn had set it to 'Quinn's'")
    );
    // Pia's window is told Quinn's label; p1 went through.
    assert!(handed.iter().any(|e| e.new.as_deref() == Some("Quinn's")));
    assert_eq!(common::colour(&pia, "p0").as_deref(), Some("Quinn's"));
    quinn.store.sync(&mut quinn.catalog).unwrap();
    assert_eq!(common::colour(&quinn, "p0").as_deref(), Some("Quinn's"));
    assert_eq!(common::colour(&quinn, "p1").as_deref(), Some("Pia's too"));
    let history = quinn.store.history("p0").unwrap();
    assert_eq!(history.len(), 1, "Pia's p0 was not journalled: {history:?}");
    // Pia's sent edit is hers, and she can undo it.
    let undone = pia.store.undo(&mut pia.catalog, "ignored").unwrap();
    assert_eq!(undone.len(), 1);
    assert_eq!(undone[0].product, "p1");
}

#[test]
fn a_window_stays_usable_while_the_server_is_away() {
    let _turn = serial();
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    cluster.role("rui", "vitrine_moderator", "pw");
    let request = OpenRequest {
        store: Some(PathBuf::from(cluster.url("rui"))),
        ..OpenRequest::path(&manifest)
    };
    let mut h = common::window::harness(Start::Open(request), &dir.path().join("data"));
    common::window::wait(&mut h, "the catalogue", Duration::from_secs(60), |a| {
        a.state.session.is_some()
    });
    let step_until =
        |h: &mut egui_kittest::Harness<'_, WorkspaceApp>,
         what: &str,
         done: &dyn Fn(&egui_kittest::Harness<'_, WorkspaceApp>) -> bool| {
            let started = Instant::now();
            while !done(h) {
                assert!(started.elapsed() < Duration::from_secs(30), "{what}");
                h.step();
                std::thread::sleep(Duration::from_millis(10));
            }
        };
    cluster.stop();
    h.state_mut().apply(Command::SetLabel {
        task: Task::Colour,
        value: Some("Offline teal".into()),
        source: EditSource::Human,
        targets: vec![0],
    });
    step_until(&mut h, "the edit kept offline", &|h| {
        h.query_by_label_contains("offline, 1 edit waiting")
            .is_some()
    });
    let app = h.state();
    assert!(app.state.labels_settled(), "the edit was acknowledged");
    let session = app.state.session.as_ref().unwrap();
    assert_eq!(session.label(0, Task::Colour), Some("Offline teal"));
    cluster.start_again();
    step_until(&mut h, "the outbox sent", &|h| {
        let server = h.state().state.session.as_ref().unwrap().server.clone();
        server.is_some_and(|s| !s.offline && s.waiting == 0)
    });
    h.step();
    assert!(h.query_by_label_contains("edit waiting").is_none());
    let notice = &h.state().state.message.as_ref().unwrap().text;
    assert!(notice.contains("server is back"), "{notice}");
    let mut check = open(&manifest, &cluster.url("rui"));
    let history = check.store.history("p0").unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].new.as_deref(), Some("Offline teal"));
    assert_eq!(history[0].author, "rui");
}

#[test]
fn edits_the_server_refuses_when_sent_wait_in_order_and_say_why() {
    let _turn = serial();
    let Some(cluster) = cluster() else { return };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    cluster.role("rex", "vitrine_moderator", "pw");
    let mut rex = open(&manifest, &cluster.url("rex"));
    // Rex's connection is cut: his edit waits. Meanwhile he loses the right to edit labels.
    cluster.cut("rex");
    rex.store
        .set(
            &mut rex.catalog,
            change("p0", Task::Colour, "Rex's"),
            &human("rex"),
        )
        .unwrap();
    let mut admin = cluster.client(common::postgres::ADMIN);
    admin
        .batch_execute("REVOKE vitrine_moderator FROM rex; GRANT vitrine_reader TO rex;")
        .unwrap();
    // His next edit reaches the server, which refuses the waiting one: both wait, in order,
    // and the store says why, though it is online.
    rex.store
        .set(
            &mut rex.catalog,
            change("p1", Task::Colour, "Rex's too"),
            &human("rex"),
        )
        .unwrap();
    let state = rex.store.server_state().unwrap();
    assert!(!state.offline && state.waiting == 2, "{state:?}");
    let reason = state.refused.expect("the refusal is told");
    assert!(reason.contains("may not edit labels"), "{reason}");
    assert!(rex.store.take_lost().is_empty(), "nothing is given up");
    // Given the right back, the next look sends both, and the refusal is gone.
    admin
        .batch_execute("GRANT vitrine_moderator TO rex; REVOKE vitrine_reader FROM rex;")
        .unwrap();
    until_sent(&mut rex);
    let state = rex.store.server_state().unwrap();
    assert_eq!((state.waiting, state.refused), (0, None));
    let mut other = open(&manifest, &cluster.url("rex"));
    other.store.sync(&mut other.catalog).unwrap();
    assert_eq!(common::colour(&other, "p0").as_deref(), Some("Rex's"));
    assert_eq!(common::colour(&other, "p1").as_deref(), Some("Rex's too"));
}
