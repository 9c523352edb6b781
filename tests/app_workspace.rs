//! The moderator workspace driven headless through egui_kittest (no window, no GPU): open a
//! catalogue, filter, move with the keyboard, relabel, undo, bulk relabel, reopen — and check
//! the label store itself after each step.

mod common;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vitrine::app::command::Command;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::catalog::import::ImportOptions;
use vitrine::labels::open_workspace;

const TIMEOUT: Duration = Duration::from_secs(120);

fn harness<'a>(start: Start, data_dir: &Path) -> Harness<'a, WorkspaceApp> {
    common::window::harness(start, data_dir)
}

/// Steps frames until `done` holds, at most [`TIMEOUT`].
fn wait(harness: &mut Harness<'_, WorkspaceApp>, what: &str, done: impl Fn(&WorkspaceApp) -> bool) {
    common::window::wait(harness, what, TIMEOUT, done)
}

fn idle(app: &WorkspaceApp) -> bool {
    app.state.labels_settled()
}

fn press(harness: &mut Harness<'_, WorkspaceApp>, key: Key) {
    harness.key_press(key);
    harness.step();
}

fn type_text(harness: &mut Harness<'_, WorkspaceApp>, text: &str) {
    harness.event(egui::Event::Text(text.into()));
    harness.step();
}

/// The focused product's id and its label for `task`, as the window shows them.
fn focused(app: &WorkspaceApp, task: Task) -> (String, Option<String>) {
    let session = app.state.session.as_ref().unwrap();
    let position = app.state.selection.focus.unwrap();
    let product = session.product(position).unwrap();
    (
        product.id.to_string(),
        session.label(position, task).map(String::from),
    )
}

/// The label as the store has it, read through a fresh workspace (another "process").
fn stored(catalogue: &Path, store: Option<&Path>, product: &str, task: Task) -> Option<String> {
    let w = open_workspace(catalogue, &ImportOptions::default(), store).unwrap();
    let p = w.catalog.product(product).unwrap();
    w.catalog.label_name(p, task).map(String::from)
}

#[test]
fn luma_filter_fix_undo_bulk_and_reopen() {
    let Some(real) = common::shared_data() else {
        return;
    };
    let luma = || real.join("magento-luma/manifest_colourways.csv");
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("luma.labels.sqlite");
    let request = OpenRequest {
        store: Some(store.clone()),
        ..OpenRequest::path(luma())
    };
    let mut h = harness(Start::Open(request.clone()), data.path());
    wait(&mut h, "the catalogue", |a| a.state.session.is_some());
    let total = h.state().state.matches.len();
    assert!(total > 400, "{total} products");
    assert!(
        h.state()
            .state
            .session
            .as_ref()
            .unwrap()
            .predictions
            .is_none(),
        "Luma has no predictions: labelling only"
    );

    // Find a product by text: "/" puts the cursor in the search field.
    press(&mut h, Key::Slash);
    h.step();
    type_text(&mut h, "MH01-Gray");
    wait(&mut h, "the filter", |a| a.state.matches.len() == 1);
    press(&mut h, Key::Escape);
    h.step();
    press(&mut h, Key::Home);
    let (id, before) = focused(h.state(), Task::Colour);
    assert_eq!(id, "MH01-Gray");
    assert_eq!(before.as_deref(), Some("Gray"));

    // Fix its colour with the keyboard: E opens the picker, type, Enter.
    assert_eq!(h.state().state.focused_task, Task::Colour);
    press(&mut h, Key::E);
    assert!(h.state().state.picker.is_some());
    type_text(&mut h, "Black");
    press(&mut h, Key::Enter);
    wait(&mut h, "the store", |a| {
        idle(a) && a.state.session_edits == 1
    });
    assert_eq!(focused(h.state(), Task::Colour).1.as_deref(), Some("Black"));
    assert_eq!(
        stored(&luma(), Some(&store), &id, Task::Colour).as_deref(),
        Some("Black")
    );
    assert!(
        h.state()
            .state
            .edit_log
            .last()
            .unwrap()
            .to_string()
            .contains("Gray -> Black"),
        "the edit log shows the acknowledged change"
    );

    // Undo it.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    wait(&mut h, "the undo", |a| {
        idle(a) && a.state.session_edits == 2
    });
    assert_eq!(focused(h.state(), Task::Colour).1.as_deref(), Some("Gray"));
    assert_eq!(
        stored(&luma(), Some(&store), &id, Task::Colour).as_deref(),
        Some("Gray")
    );

    // Bulk-fix ten products: clear the search, extend the selection with Shift+J, relabel.
    h.state_mut().apply(Command::SetFilter(Default::default()));
    h.step();
    press(&mut h, Key::Home);
    for _ in 0..9 {
        h.key_press_modifiers(Modifiers::SHIFT, Key::J);
        h.step();
    }
    let targets = h.state().state.selection.targets();
    assert_eq!(targets.len(), 10);
    press(&mut h, Key::E);
    type_text(&mut h, "Purple");
    press(&mut h, Key::Enter);
    let bulk = h
        .state()
        .state
        .bulk
        .clone()
        .expect("a bulk change asks first");
    assert_eq!(bulk.targets.len(), 10);
    // A new window is laid out invisibly on its first frame.
    h.run_steps(2);
    assert!(h.query_by_label_contains("on 10 products?").is_some());
    press(&mut h, Key::Enter);
    wait(&mut h, "the bulk change", |a| {
        idle(a) && a.state.session_edits >= 3
    });
    let session = h.state().state.session.as_ref().unwrap();
    let ids: Vec<String> = targets
        .iter()
        .map(|&p| session.product(p).unwrap().id.to_string())
        .collect();
    for &p in &targets {
        assert_eq!(session.label(p, Task::Colour), Some("Purple"));
    }
    for id in &ids {
        assert_eq!(
            stored(&luma(), Some(&store), id, Task::Colour).as_deref(),
            Some("Purple")
        );
    }

    // Close and reopen: every fix is there.
    drop(h);
    let mut h = harness(Start::Open(request), data.path());
    wait(&mut h, "the reopened catalogue", |a| {
        a.state.session.is_some()
    });
    let session = h.state().state.session.as_ref().unwrap();
    for id in &ids {
        let p = session.catalog.product(id).unwrap();
        assert_eq!(session.catalog.label_name(p, Task::Colour), Some("Purple"));
    }
    assert!(
        h.state().state.edit_log.len() >= 11,
        "the log starts with the journal"
    );
    assert_eq!(
        h.state()
            .state
            .recent
            .first()
            .map(|r| r.source.catalogue.clone()),
        Some(luma()),
        "remembered as recent"
    );
}

#[test]
fn demo_with_predictions_accepts_with_enter_and_number_keys() {
    let data = tempfile::tempdir().unwrap();
    // A demo catalogue outside the data folder (the window's own demo computes its audit),
    // with generated predictions beside it as the fixture.
    let folder = data.path().join("catalogue");
    let options = vitrine::catalog::demo::DemoOptions::default();
    vitrine::catalog::demo::generate(&folder, &options, &|_, _| {}).unwrap();
    let catalog = vitrine::catalog::import::import(&folder, &ImportOptions::default())
        .unwrap()
        .catalog;
    vitrine::runs::generated::generate_fake(&catalog, 7, 0.9)
        .write(&folder.join("predictions.jsonl"), &catalog)
        .unwrap();
    let mut h = harness(Start::Open(OpenRequest::path(&folder)), data.path());
    wait(&mut h, "the demo catalogue", |a| a.state.session.is_some());
    // Every control can be reached by name (the filter panel's combo boxes had none).
    h.check_accessibility();
    let manifest = folder.join("manifest.csv");
    let session = h.state().state.session.as_ref().unwrap();
    let predictions = session
        .predictions
        .as_ref()
        .expect("the predictions beside the catalogue");
    assert!(predictions.predictions.header.run.starts_with("synthetic"));

    // Show only products whose colour prediction disagrees, and accept the model's class.
    let filter = vitrine::app::filter::Filter {
        disagreement: Some(vitrine::app::filter::TaskScope::Only(Task::Colour)),
        ..Default::default()
    };
    h.state_mut().apply(Command::SetFilter(filter));
    h.step();
    assert!(!h.state().state.matches.is_empty());
    press(&mut h, Key::Home);
    let position = h.state().state.selection.focus.unwrap();
    let session = h.state().state.session.as_ref().unwrap();
    let top = session.top(position, Task::Colour);
    let (first, second) = (top[0].0.to_string(), top[1].0.to_string());
    let (id, _) = focused(h.state(), Task::Colour);
    assert!(
        h.query_by_label_contains("!=").is_some(),
        "the disagreement is marked"
    );

    press(&mut h, Key::Enter);
    wait(&mut h, "accepting", |a| {
        idle(a) && a.state.session_edits == 1
    });
    assert_eq!(focused(h.state(), Task::Colour).1, Some(first));
    press(&mut h, Key::Num2);
    wait(&mut h, "the second class", |a| {
        idle(a) && a.state.session_edits == 2
    });
    assert_eq!(stored(&manifest, None, &id, Task::Colour), Some(second));
    let history = h.state().state.edit_log.iter().rev().take(2);
    assert!(
        history
            .into_iter()
            .all(|e| e.source == vitrine::labels::EditSource::AcceptedPrediction)
    );

    // T moves the focused task; the help overlay lists the keys.
    press(&mut h, Key::T);
    assert_eq!(h.state().state.focused_task, Task::Type);
    press(&mut h, Key::F1);
    assert!(h.state().state.panels.help);
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("accept the model's prediction")
            .is_some()
    );
    press(&mut h, Key::F1);

    // A click on a card focuses it.
    h.state_mut().apply(Command::SetFilter(Default::default()));
    h.run_steps(2);
    h.get_by_label("product p0002").click();
    h.run_steps(2);
    let session = h.state().state.session.as_ref().unwrap();
    let focus = h.state().state.selection.focus.unwrap();
    assert_eq!(&*session.product(focus).unwrap().id, "p0002");
}

/// A file dropped on the window, as eframe hands it to egui.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

#[test]
fn a_dropped_file_and_a_dialog_answer_open_catalogues() {
    let dir = tempfile::tempdir().unwrap();
    let folder = |name: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    };
    let first = common::small_catalogue(&folder("a"), 12);
    let second = common::small_catalogue(&folder("b"), 7);
    let mut h = harness(Start::Nothing, &dir.path().join("data"));
    h.step();
    assert!(h.state().state.session.is_none());

    // Drag and drop: eframe puts the file in the frame's raw input.
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(first.clone())));
    wait(&mut h, "the dropped catalogue", |a| {
        a.state
            .session
            .as_ref()
            .is_some_and(|s| s.request.source.catalogue == first)
    });
    assert_eq!(h.state().state.matches.len(), 12);

    // File > Open: the rfd dialog runs on its own thread and answers with this event.
    let app = h.state_mut();
    app.handle(
        &egui::Context::default(),
        vitrine::app::event::Event::DialogClosed {
            purpose: vitrine::app::command::DialogPurpose::OpenFile,
            path: Some(second.clone()),
        },
    );
    wait(&mut h, "the chosen catalogue", |a| {
        a.state
            .session
            .as_ref()
            .is_some_and(|s| s.request.source.catalogue == second)
    });
    assert_eq!(h.state().state.matches.len(), 7);
    // Both are remembered as recent catalogues, the latest first.
    wait(&mut h, "the recent list", |a| {
        let paths: Vec<&Path> = a
            .state
            .recent
            .iter()
            .map(|r| r.source.catalogue.as_path())
            .collect();
        paths == [second.as_path(), first.as_path()]
    });
}
