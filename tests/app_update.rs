//! The workspace's state changes driven by commands alone, with no window and no drawing: the
//! store worker's acknowledgements, undo/redo and bulk batches.

mod common;

use std::time::{Duration, Instant};
use vitrine::app::command::Command;
use vitrine::app::keys::KeyAction;
use vitrine::app::opening::OpenRequest;
use vitrine::app::selection::Step;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;
use vitrine::labels::EditSource;

fn settle(app: &mut WorkspaceApp, ctx: &egui::Context, done: impl Fn(&WorkspaceApp) -> bool) {
    let started = Instant::now();
    while !done(app) {
        app.logic(ctx);
        assert!(started.elapsed() < Duration::from_secs(60), "timed out");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn colour(app: &WorkspaceApp, position: u32) -> Option<String> {
    let session = app.state.session.as_ref().unwrap();
    session.label(position, Task::Colour).map(String::from)
}

#[test]
fn set_undo_redo_and_bulk_through_the_store_worker() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 30);
    let ctx = egui::Context::default();
    let start = Start::Open(OpenRequest::path(&manifest));
    let mut app = WorkspaceApp::new(&ctx, start, dir.path().join("data")).unwrap();
    settle(&mut app, &ctx, |a| a.state.session.is_some());
    assert_eq!(app.state.matches.len(), 30);
    assert_eq!(
        app.state.selection.focus,
        Some(0),
        "the first product is focused"
    );
    assert_eq!(colour(&app, 0).as_deref(), Some("Red"));

    app.apply(Command::SetLabel {
        task: Task::Colour,
        value: Some("Teal".into()),
        source: EditSource::Human,
        targets: vec![0],
    });
    assert_eq!(
        colour(&app, 0).as_deref(),
        Some("Red"),
        "shown once durable, not before"
    );
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert_eq!(colour(&app, 0).as_deref(), Some("Teal"), "a new class");
    assert!(app.state.matches_stale);

    app.apply(Command::Key(KeyAction::Undo));
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert_eq!(colour(&app, 0).as_deref(), Some("Red"));
    app.apply(Command::Key(KeyAction::Redo));
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert_eq!(colour(&app, 0).as_deref(), Some("Teal"));
    app.apply(Command::Key(KeyAction::Redo));
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert_eq!(app.state.message.as_ref().unwrap().text, "nothing to redo");

    // Five products by keyboard, one bulk batch, one confirmation, one undo.
    for _ in 0..4 {
        app.apply(Command::Key(KeyAction::Move {
            step: Step::Next,
            extend: true,
        }));
    }
    assert_eq!(app.state.selection.targets(), vec![0, 1, 2, 3, 4]);
    app.apply(Command::OpenPicker(Task::Colour));
    app.apply(Command::PickerQuery("bl".into()));
    app.apply(Command::PickerChoose("Black".into()));
    assert!(app.state.picker.is_none());
    assert_eq!(app.state.bulk.as_ref().unwrap().targets.len(), 5);
    app.apply(Command::ConfirmBulk);
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert!((0..5).all(|p| colour(&app, p).as_deref() == Some("Black")));
    // p3 was already Black: the batch changes four labels.
    assert_eq!(
        app.state.session_edits,
        3 + 4,
        "set, undo, redo, then the batch"
    );
    app.apply(Command::Key(KeyAction::Undo));
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert_eq!(colour(&app, 0).as_deref(), Some("Teal"));
    assert_eq!(colour(&app, 1).as_deref(), Some("Blue"));
    assert_eq!(colour(&app, 4).as_deref(), Some("Red"));

    // The edited filter sees the store's journal.
    let edited = vitrine::app::filter::Filter {
        edited: vitrine::app::filter::EditedChoice::Edited,
        ..Default::default()
    };
    app.apply(Command::SetFilter(edited));
    assert_eq!(app.state.matches, vec![0, 1, 2, 4], "p3 never changed");
}

#[test]
fn enter_and_number_keys_on_a_selection_set_each_product_to_its_own_prediction() {
    use vitrine::runs::predictions::{
        Header, PredictionsWriter, ProductPrediction, TaskPrediction,
    };
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 6);
    // Each product's top classes: p0 Green > Blue, p1 Blue > Green, p2 Black > Green, ...
    let classes = ["Green", "Blue", "Black"];
    let path = dir.path().join("predictions.jsonl");
    let header = Header::new(
        "t",
        [(Task::Colour, classes.map(String::from).to_vec())].into(),
    );
    let mut writer = PredictionsWriter::create(&path, header).unwrap();
    for i in 0..6usize {
        let first = classes[i % 3].to_string();
        let second = classes[(i + 1) % 3].to_string();
        writer
            .write(&ProductPrediction {
                product_id: format!("p{i}"),
                split: None,
                fold: None,
                tasks: [(
                    Task::Colour,
                    TaskPrediction {
                        label: None,
                        top: vec![(first, 0.7), (second, 0.2)],
                    },
                )]
                .into(),
                photos: None,
            })
            .unwrap();
    }
    writer.finish().unwrap();
    let ctx = egui::Context::default();
    let start = Start::Open(OpenRequest::path(&manifest));
    let mut app = WorkspaceApp::new(&ctx, start, dir.path().join("data")).unwrap();
    settle(&mut app, &ctx, |a| a.state.session.is_some());
    app.apply(Command::LoadPredictions(path));
    settle(&mut app, &ctx, |a| {
        a.state.session.as_ref().unwrap().predictions.is_some()
    });
    app.apply(Command::FocusTask(Task::Colour));
    for _ in 0..2 {
        app.apply(Command::Key(KeyAction::Move {
            step: Step::Next,
            extend: true,
        }));
    }
    // Enter on three products asks once, then sets each to its own prediction in one batch.
    app.apply(Command::Key(KeyAction::AcceptPrediction));
    let bulk = app.state.bulk.clone().expect("a confirmation first");
    assert_eq!(bulk.values, vec!["Green", "Blue", "Black"]);
    assert_eq!(bulk.source, EditSource::AcceptedPrediction);
    app.apply(Command::ConfirmBulk);
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    let now: Vec<Option<String>> = (0..3).map(|p| colour(&app, p)).collect();
    assert_eq!(
        now,
        [
            Some("Green".into()),
            Some("Blue".into()),
            Some("Black".into())
        ]
    );
    app.apply(Command::Key(KeyAction::Undo));
    settle(&mut app, &ctx, |a| a.state.labels_settled());
    assert_eq!(
        colour(&app, 1).as_deref(),
        Some("Blue"),
        "p1 was Blue before"
    );
    assert_eq!(
        colour(&app, 0).as_deref(),
        Some("Red"),
        "one undo undoes the batch"
    );
    // Key 2 picks each product's second class.
    app.apply(Command::Key(KeyAction::PickPrediction(1)));
    assert_eq!(
        app.state.bulk.as_ref().unwrap().values,
        vec!["Blue", "Black", "Green"]
    );
    app.apply(Command::CancelBulk);
    assert!(app.state.bulk.is_none());
}

#[test]
fn opening_a_large_catalogue_shows_progress_and_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 400_000);
    let ctx = egui::Context::default();
    let start = Start::Open(OpenRequest::path(&manifest));
    let mut app = WorkspaceApp::new(&ctx, start, dir.path().join("data")).unwrap();
    // Progress arrives while the file is read; then Cancel stops the open.
    settle(&mut app, &ctx, |a| {
        a.state
            .opening
            .as_ref()
            .is_some_and(|o| o.progress.is_some())
            || a.state.session.is_some()
    });
    assert!(
        app.state.session.is_none(),
        "still reading when progress came"
    );
    app.apply(Command::CancelOpen);
    settle(&mut app, &ctx, |a| a.state.opening.is_none());
    assert!(app.state.session.is_none());
    let message = app.state.message.as_ref().unwrap();
    assert!(
        message.text.starts_with("stopped opening"),
        "{}",
        message.text
    );
    assert!(!message.error);
}

#[test]
fn a_store_worker_that_stopped_is_reported_and_edits_are_refused_not_queued() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5);
    let ctx = egui::Context::default();
    let start = Start::Open(OpenRequest::path(&manifest));
    let mut app = WorkspaceApp::new(&ctx, start, dir.path().join("data")).unwrap();
    settle(&mut app, &ctx, |a| a.state.session.is_some());
    // What the store thread's boundary sends when the worker panicked.
    app.workers
        .sender()
        .send(vitrine::app::event::Event::StoreStopped(
            "the vitrine-store thread failed: disk on fire".into(),
        ));
    settle(&mut app, &ctx, |a| a.state.store_stopped);
    let message = app.state.message.clone().unwrap();
    assert!(message.error);
    assert!(message.text.contains("disk on fire"), "{}", message.text);
    assert!(
        message.text.contains("reopen the catalogue"),
        "{}",
        message.text
    );

    app.state.message = None;
    app.apply(Command::SetLabel {
        task: Task::Colour,
        value: Some("Teal".into()),
        source: EditSource::Human,
        targets: vec![0],
    });
    assert!(
        app.state.labels_settled(),
        "nothing waits on a stopped store"
    );
    let message = app.state.message.clone().unwrap();
    assert!(message.error && message.text.contains("label store stopped"));
    assert_eq!(colour(&app, 0).as_deref(), Some("Red"));
}
