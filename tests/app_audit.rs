//! The review queue end to end, driven headless through egui_kittest: a small demo catalogue
//! and a quick out-of-fold audit of it made by the CLI, the audit opened in the window, one
//! suspect accepted with Enter, one kept with K, one accepted and undone with Ctrl+Z, and the
//! window restarted on the same label store and data folder: the accepted and the kept
//! products stay out of the queue, the undone one is back.

mod common;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vitrine::app::cockpit::View;
use vitrine::app::command::{CockpitCommand, Command};
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::catalog::import::ImportOptions;
use vitrine::labels::open_workspace;
use vitrine::runs::classes::OTHER;

const TIMEOUT: Duration = Duration::from_secs(120);

fn wait(harness: &mut Harness<'_, WorkspaceApp>, what: &str, done: impl Fn(&WorkspaceApp) -> bool) {
    common::window::wait(harness, what, TIMEOUT, done)
}

fn run(args: &[&str]) {
    let out = common::vitrine().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "vitrine {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A demo catalogue of 60 products and a 3-fold audit of its colour and type that trains in
/// seconds, in `dir`, on the label store `store`: the catalogue and the audit folder.
fn demo_and_audit(dir: &Path, store: &Path) -> (PathBuf, PathBuf) {
    let demo = dir.join("demo");
    let audit = dir.join("audit");
    let path = |p: &Path| p.to_str().unwrap().to_string();
    run(&[
        "demo",
        "--out",
        &path(&demo),
        "--products",
        "60",
        "--image-size",
        "48",
    ]);
    run(&[
        "audit",
        &path(&demo),
        "--out",
        &path(&audit),
        "--store",
        &path(store),
        "--folds",
        "3",
        "--epochs",
        "1",
        "--image-size",
        "32",
        "--batch",
        "16",
        "--min-class-examples",
        "2",
        "--tasks",
        "colour,type",
    ]);
    (demo, audit)
}

/// The current card: its product's position, id and the name of its suggestion.
fn card(app: &WorkspaceApp) -> (u32, String, String) {
    let audit = app.state.audit.queue.as_ref().expect("an audit");
    let card = audit.card().expect("a card");
    let (report, _) = audit.current().unwrap();
    let session = app.state.session.as_ref().unwrap();
    let id = session.product(card.position).unwrap().id.to_string();
    let suggestion = report.classes[card.suspect.suggestion()].clone();
    (card.position, id, suggestion)
}

/// The colour of `position` as the window shows it.
fn colour(app: &WorkspaceApp, position: u32) -> Option<String> {
    let session = app.state.session.as_ref().unwrap();
    session.label(position, Task::Colour).map(String::from)
}

fn kept(app: &WorkspaceApp, position: u32) -> bool {
    let session = app.state.session.as_ref().unwrap();
    session.kept(position, Task::Colour)
}

/// The colour as the store has it, read through a fresh workspace (another "process").
fn stored(catalogue: &Path, store: &Path, product: &str) -> Option<String> {
    let w = open_workspace(catalogue, &ImportOptions::default(), Some(store)).unwrap();
    let p = w.catalog.product(product).unwrap();
    w.catalog.label_name(p, Task::Colour).map(String::from)
}

fn press(harness: &mut Harness<'_, WorkspaceApp>, key: Key) {
    harness.key_press(key);
    harness.step();
}

/// Skips (S) to the first card whose suggestion is a class one can set (not the head's
/// `other`).
fn skip_to_a_settable_suggestion(harness: &mut Harness<'_, WorkspaceApp>) {
    for _ in 0..20 {
        if card(harness.state()).2 != OTHER {
            return;
        }
        press(harness, Key::S);
    }
    panic!("no card suggests a class");
}

#[test]
fn accept_keep_undo_and_restart_the_kept_and_the_accepted_stay_out_of_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("labels.sqlite");
    let (demo, audit) = demo_and_audit(dir.path(), &store);
    let data = dir.path().join("data");
    let request = OpenRequest {
        store: Some(store.clone()),
        ..OpenRequest::path(&demo)
    };
    let mut h = common::window::harness(Start::Open(request.clone()), &data);
    wait(&mut h, "the catalogue", |a| a.state.session.is_some());
    h.state_mut().apply(Command::OpenAudit(audit.clone()));
    h.state_mut().apply(CockpitCommand::SetView(View::Audit));
    wait(&mut h, "the audit and its predictions", |a| {
        a.state.audit.queue.is_some()
            && !a.state.loading_predictions
            && a.state
                .session
                .as_ref()
                .is_some_and(|s| s.predictions.is_some())
    });
    let session = h.state().state.session.as_ref().unwrap();
    assert_eq!(
        session.predictions.as_ref().unwrap().predictions.header.run,
        "audit",
        "the grid shows the audit's predictions"
    );
    assert_eq!(
        h.state()
            .state
            .audit
            .queue
            .as_ref()
            .unwrap()
            .current()
            .unwrap()
            .0
            .task,
        Task::Colour
    );
    h.run_steps(2);
    // Every control of the view can be reached by name.
    h.check_accessibility();
    assert!(
        h.query_all_by_label_contains("out-of-fold")
            .next()
            .is_some(),
        "the provenance"
    );
    assert!(
        h.query_all_by_label_contains("reviewed 0 /")
            .next()
            .is_some(),
        "the progress"
    );
    assert!(
        h.query_all_by_label_contains("Noise matrix: colour")
            .next()
            .is_some()
    );

    // Enter accepts the suggestion: the label changes in the store, and it is kept as such.
    skip_to_a_settable_suggestion(&mut h);
    let (accepted, accepted_id, suggestion) = card(h.state());
    press(&mut h, Key::Enter);
    wait(&mut h, "the accepted label", |a| {
        a.state.labels_settled() && kept(a, accepted)
    });
    assert_eq!(
        colour(h.state(), accepted).as_deref(),
        Some(suggestion.as_str())
    );
    assert_eq!(
        stored(&demo, &store, &accepted_id),
        Some(suggestion.clone())
    );
    let reason = h.state().state.edit_log.last().unwrap().reason.clone();
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.starts_with("audit audit:")),
        "{reason:?}"
    );

    // K keeps the next card's label.
    let (kept_one, _, _) = card(h.state());
    assert_ne!(kept_one, accepted, "the next card shows");
    let label = colour(h.state(), kept_one);
    press(&mut h, Key::K);
    wait(&mut h, "the keep", |a| {
        a.state.labels_settled() && kept(a, kept_one)
    });
    assert_eq!(colour(h.state(), kept_one), label);

    // Accept a third, then Ctrl+Z: its label is back and its review withdrawn.
    skip_to_a_settable_suggestion(&mut h);
    let (undone, undone_id, _) = card(h.state());
    let before = colour(h.state(), undone);
    press(&mut h, Key::Enter);
    wait(&mut h, "the third change", |a| {
        a.state.labels_settled() && kept(a, undone)
    });
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    wait(&mut h, "the undo", |a| {
        a.state.labels_settled() && !kept(a, undone) && colour(a, undone) == before
    });
    assert_eq!(card(h.state()).0, undone, "back on the card undone");
    assert_eq!(stored(&demo, &store, &undone_id), before);
    let reviewed = h
        .state()
        .state
        .audit
        .queue
        .as_ref()
        .unwrap()
        .current()
        .unwrap()
        .1
        .reviewed();
    assert_eq!(reviewed, 2);

    // Restart on the same store and data folder: the audit is reopened with the catalogue,
    // rebuilt from the current labels and reviews.
    drop(h);
    let mut h = common::window::harness(Start::Open(request), &data);
    wait(&mut h, "the reopened audit", |a| {
        a.state.audit.queue.is_some()
    });
    let audit = h.state().state.audit.queue.as_ref().unwrap();
    let (report, _) = audit.current().unwrap();
    assert_eq!(report.task, Task::Colour);
    let positions: Vec<u32> = report
        .queue
        .iter()
        .map(|s| report.positions[s.row] as u32)
        .collect();
    assert!(!positions.contains(&kept_one), "the kept one stays out");
    assert!(!positions.contains(&accepted), "the accepted one too");
    assert!(positions.contains(&undone), "the undone one is back");
    assert!(
        report.kept >= 1,
        "left out by their reviews: {}",
        report.kept
    );
}
