//! State transitions on a plain [`AppState`], with no worker running: each test applies
//! commands and events by hand and checks the state and what was queued. The catalogue is
//! opened synchronously on the test's thread, as the open worker would.

use super::{apply_command, apply_event};
use crate::app::cockpit::{NewRunForm, View};
use crate::app::command::{CockpitCommand, Command, DialogPurpose};
use crate::app::effect::{Effect, Queue, StoreRequest};
use crate::app::event::{Event, RequestId, RunEvent, SaveKind};
use crate::app::opening::OpenRequest;
use crate::app::state::AppState;
use crate::app::workers::open;
use crate::app::workers::store::STOPPED;
use crate::catalog::Task;
use crate::catalog::import::ImportOptions;
use crate::labels::{Edit, EditSource, Keep, Review, Standing, Withdrawal, Withdrawn};
use std::path::{Path, PathBuf};

/// A manifest of `n` products (no images) in `dir`.
fn manifest(dir: &Path, n: usize) -> PathBuf {
    let colours = ["Red", "Blue", "Green", "Black"];
    let mut text = String::from("product_id,name,images,gender,colour,type,category,subcategory\n");
    for i in 0..n {
        text.push_str(&format!(
            "p{i},Product {i},,Women,{},Apparel,Topwear,Tshirts\n",
            colours[i % colours.len()]
        ));
    }
    let path = dir.join("manifest.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// A state with a catalogue of `n` products open (opened on this thread), and the queue the
/// open left.
fn opened(dir: &Path, n: usize) -> (AppState, Queue) {
    opened_from(dir, OpenRequest::path(manifest(dir, n)))
}

/// A state with `request` open (opened on this thread), and the queue the open left.
pub(super) fn opened_from(dir: &Path, request: OpenRequest) -> (AppState, Queue) {
    let mut state = AppState::new("ada".into(), dir.join("data"));
    let mut queue = Queue::default();
    apply_command(
        &mut state,
        Command::OpenCatalogue(request.clone()),
        &mut queue,
    );
    let opened = open::open(&request).unwrap();
    apply_event(
        &mut state,
        &ctx(),
        Event::CatalogueOpened(Box::new(opened)),
        &mut queue,
    );
    (state, queue)
}

pub(super) fn ctx() -> egui::Context {
    egui::Context::default()
}

fn colour(state: &AppState, position: u32) -> Option<String> {
    let session = state.session.as_ref().unwrap();
    session.label(position, Task::Colour).map(String::from)
}

/// The one label change queued: its request id and changes.
fn queued_set(queue: &Queue) -> (RequestId, Vec<(String, Option<String>)>) {
    let sets: Vec<_> = queue
        .effects()
        .iter()
        .filter_map(|e| match e {
            Effect::Store(StoreRequest::Set { id, changes, .. }) => Some((*id, changes.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(sets.len(), 1, "{:?}", queue.effects());
    sets.into_iter().next().unwrap()
}

/// Sets the colour of the product at `target` to Teal, by hand.
fn teal(target: u32) -> Command {
    Command::SetLabel {
        task: Task::Colour,
        value: Some("Teal".into()),
        source: EditSource::Human,
        targets: vec![target],
    }
}

fn edit(product: &str, old: &str, new: &str) -> Edit {
    Edit {
        id: 1,
        batch: 1,
        product: product.into(),
        task: Task::Colour,
        old: Some(old.into()),
        new: Some(new.into()),
        author: "ada".into(),
        time_ms: 0,
        source: EditSource::Human,
        reason: None,
        reverts: None,
    }
}

#[test]
fn opening_queues_the_open_and_the_opened_catalogue_starts_its_store_first() {
    let dir = tempfile::tempdir().unwrap();
    let request = OpenRequest::path(manifest(dir.path(), 3));
    let mut state = AppState::new("ada".into(), dir.path().join("data"));
    let mut queue = Queue::default();
    apply_command(&mut state, Command::OpenCatalogue(request), &mut queue);
    assert!(state.opening.is_some());
    assert!(state.session.is_none());
    assert!(matches!(queue.effects(), [Effect::OpenCatalogue(_)]));

    let (state, mut queue) = opened(dir.path(), 3);
    assert!(state.opening.is_none());
    assert_eq!(state.matches, vec![0, 1, 2]);
    assert_eq!(state.selection.focus, Some(0));
    let effects = queue.take_effects();
    // The open's own effect, then the store worker before any request to it.
    let store = effects
        .iter()
        .position(|e| matches!(e, Effect::StartStore { .. }))
        .unwrap();
    let history = effects
        .iter()
        .position(|e| matches!(e, Effect::Store(StoreRequest::History(p)) if p == "p0"))
        .unwrap();
    assert!(store < history, "{effects:?}");
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::FollowCatalogueRuns { runs_dir, keep } if keep.is_empty() && runs_dir.starts_with(dir.path().join("data"))
    )));
}

#[test]
fn a_label_change_waits_on_its_request_id_and_shows_once_saved() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    queue.take_effects();
    apply_command(&mut state, teal(0), &mut queue);
    let (id, changes) = queued_set(&queue);
    assert_eq!(changes, vec![("p0".to_string(), Some("Teal".to_string()))]);
    assert!(!state.labels_settled());
    assert_eq!(
        colour(&state, 0).as_deref(),
        Some("Red"),
        "not before durable"
    );
    queue.take_effects();

    apply_event(
        &mut state,
        &ctx(),
        Event::LabelsSaved {
            request: Some(id),
            edits: vec![edit("p0", "Red", "Teal")],
            kind: SaveKind::Change,
        },
        &mut queue,
    );
    assert!(state.labels_settled());
    assert_eq!(colour(&state, 0).as_deref(), Some("Teal"));
    assert!(state.matches_stale);
    assert_eq!(state.session_edits, 1);
    // The focused product changed: its history is read again.
    assert!(matches!(
        queue.effects(),
        [Effect::Store(StoreRequest::History(p))] if p == "p0"
    ));
}

#[test]
fn each_answer_settles_its_own_request_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    apply_command(
        &mut state,
        Command::Key(crate::app::keys::KeyAction::Undo),
        &mut queue,
    );
    apply_command(
        &mut state,
        Command::Key(crate::app::keys::KeyAction::Redo),
        &mut queue,
    );
    let ids: Vec<RequestId> = queue
        .effects()
        .iter()
        .filter_map(|e| match e {
            Effect::Store(StoreRequest::Undo(id) | StoreRequest::Redo(id)) => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    apply_event(
        &mut state,
        &ctx(),
        Event::StoreFailed {
            request: Some(ids[1]),
            message: "disk full".into(),
        },
        &mut queue,
    );
    assert!(!state.labels_settled(), "the undo is still waiting");
    assert!(state.message.as_ref().is_some_and(|m| m.error));
    // An answer to nobody's request (another process's edits) settles nothing.
    apply_event(
        &mut state,
        &ctx(),
        Event::LabelsSaved {
            request: None,
            edits: vec![edit("p1", "Blue", "Navy")],
            kind: SaveKind::Elsewhere,
        },
        &mut queue,
    );
    assert!(!state.labels_settled());
    assert_eq!(colour(&state, 1).as_deref(), Some("Navy"));
    apply_event(
        &mut state,
        &ctx(),
        Event::LabelsSaved {
            request: Some(ids[0]),
            edits: Vec::new(),
            kind: SaveKind::Undo,
        },
        &mut queue,
    );
    assert!(state.labels_settled());
    assert_eq!(state.message.as_ref().unwrap().text, "nothing to undo");
}

#[test]
fn a_stopped_store_refuses_changes_without_queueing_them() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    apply_command(&mut state, teal(0), &mut queue);
    apply_event(
        &mut state,
        &ctx(),
        Event::StoreStopped("the vitrine-store thread failed: disk on fire".into()),
        &mut queue,
    );
    assert!(state.labels_settled(), "nothing waits on a stopped store");
    assert!(
        state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("disk on fire")
    );
    queue.take_effects();
    apply_command(&mut state, teal(1), &mut queue);
    assert!(queue.is_empty(), "{:?}", queue.effects());
    assert!(state.labels_settled());
    assert_eq!(state.message.as_ref().unwrap().text, STOPPED);
}

#[test]
fn a_closed_dialog_queues_its_command_instead_of_applying_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    queue.take_effects();
    let other = dir.path().join("other.csv");
    apply_event(
        &mut state,
        &ctx(),
        Event::DialogClosed {
            purpose: DialogPurpose::OpenFile,
            path: Some(other.clone()),
        },
        &mut queue,
    );
    assert!(state.opening.is_none(), "not applied yet");
    assert!(queue.effects().is_empty());
    let queued: Vec<_> = queue.commands().collect();
    assert!(
        matches!(queued.as_slice(), [Command::OpenCatalogue(r)] if r.source.catalogue == other),
        "{queued:?}"
    );
    // A dialog closed with nothing chosen queues nothing.
    let mut empty = Queue::default();
    apply_event(
        &mut state,
        &ctx(),
        Event::DialogClosed {
            purpose: DialogPurpose::Export,
            path: None,
        },
        &mut empty,
    );
    assert!(empty.is_empty());
}

#[test]
fn a_launch_that_fails_to_start_ends_as_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    queue.take_effects();
    let mut form = NewRunForm::defaults(0, "first".into());
    form.epochs = 1;
    state.cockpit.new_run = Some(form);
    apply_command(&mut state, CockpitCommand::StartRun.into(), &mut queue);
    let run = match queue.effects() {
        [Effect::LaunchRun(request)] => request.run_dir.clone(),
        other => panic!("{other:?}"),
    };
    assert!(run.ends_with("first"));
    assert!(state.cockpit.run(&run).unwrap().training_here);
    assert_eq!(state.cockpit.view, View::Training);
    queue.take_effects();

    // What the workers send when the engine's thread cannot start.
    for event in [
        RunEvent::RunFailed {
            run: run.clone(),
            message: "cannot start the training thread: out of threads".into(),
        },
        RunEvent::RunThreadEnded { run: run.clone() },
    ] {
        apply_event(&mut state, &ctx(), Event::Run(event), &mut queue);
    }
    let entry = state.cockpit.run(&run).unwrap();
    assert!(!entry.training_here);
    assert!(entry.preparing.is_none());
    assert!(
        state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("out of threads")
    );
    assert!(matches!(queue.effects(), [Effect::RunEnded(r)] if *r == run));
}

#[test]
fn predictions_written_by_a_run_are_loaded_by_a_queued_command() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    queue.take_effects();
    let run = dir.path().join("runs").join("r1");
    state.cockpit.run_mut(&run).predicting = true;
    let file = run.join("predictions.jsonl");
    apply_event(
        &mut state,
        &ctx(),
        Event::Run(RunEvent::Predicted {
            run: run.clone(),
            result: Ok(file.clone()),
        }),
        &mut queue,
    );
    let entry = state.cockpit.run(&run).unwrap();
    assert!(!entry.predicting && entry.has_predictions);
    assert_eq!(state.cockpit.view, View::Workspace);
    assert!(!state.loading_predictions, "not applied yet");
    let queued: Vec<_> = queue.commands().collect();
    assert!(matches!(queued.as_slice(), [Command::LoadPredictions(p)] if *p == file));
    let command = queue.next_command().unwrap();
    apply_command(&mut state, command, &mut queue);
    assert!(state.loading_predictions);
    assert!(matches!(
        queue.effects(),
        [Effect::LoadPredictions { path, .. }] if *path == file
    ));
}

#[test]
fn cancelling_with_nothing_opening_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, _) = opened(dir.path(), 2);
    let mut queue = Queue::default();
    apply_command(&mut state, Command::CancelOpen, &mut queue);
    assert!(queue.is_empty());
    apply_command(&mut state, Command::OpenDemo, &mut queue);
    apply_command(&mut state, Command::CancelOpen, &mut queue);
    assert!(matches!(
        queue.effects(),
        [Effect::OpenDemo, Effect::CancelOpen]
    ));
}

#[test]
fn an_older_filter_answer_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    state.filter_generation = 5;
    state.filtering = true;
    apply_event(
        &mut state,
        &ctx(),
        Event::FilterFinished {
            generation: 4,
            matches: vec![2],
            elapsed: Default::default(),
        },
        &mut queue,
    );
    assert_eq!(state.matches, vec![0, 1, 2]);
    assert!(state.filtering);
    apply_event(
        &mut state,
        &ctx(),
        Event::FilterFinished {
            generation: 5,
            matches: vec![2],
            elapsed: Default::default(),
        },
        &mut queue,
    );
    assert_eq!(state.matches, vec![2]);
    assert!(!state.filtering);
}

#[test]
fn the_catalogue_closed_by_another_open_is_freed_by_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    assert!(
        !queue
            .effects()
            .iter()
            .any(|e| matches!(e, Effect::Discard(_))),
        "nothing to free at the first open"
    );
    queue.take_effects();
    let other = tempfile::tempdir().unwrap();
    let request = OpenRequest::path(manifest(other.path(), 2));
    let opened = open::open(&request).unwrap();
    apply_event(
        &mut state,
        &ctx(),
        Event::CatalogueOpened(Box::new(opened)),
        &mut queue,
    );
    assert_eq!(state.session.as_ref().unwrap().catalog.len(), 2);
    let freed: Vec<usize> = queue
        .effects()
        .iter()
        .filter_map(|e| match e {
            Effect::Discard(session) => Some(session.catalog.len()),
            _ => None,
        })
        .collect();
    assert_eq!(freed, vec![3]);
}

/// The review the store would write for `keep`.
fn review_of(keep: &Keep, id: i64, author: &str) -> Review {
    Review {
        id,
        product: keep.product.clone(),
        task: keep.task,
        label: keep.label.clone(),
        photos: keep.photos,
        author: author.into(),
        time_ms: 0,
        withdrawn: None,
    }
}

/// The one request queued: its effect.
fn queued_store_request(queue: &Queue) -> StoreRequest {
    match queue.effects() {
        [Effect::Store(request)] => request.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_kept_label_waits_on_its_request_and_holds_until_the_label_changes_or_it_is_withdrawn() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    queue.take_effects();
    let kept =
        |state: &AppState, position| state.session.as_ref().unwrap().kept(position, Task::Colour);
    apply_command(
        &mut state,
        Command::KeepLabel {
            product: 1,
            task: Task::Colour,
        },
        &mut queue,
    );
    let StoreRequest::Keep { id, keep } = queued_store_request(&queue) else {
        panic!("{:?}", queue.effects());
    };
    let photos = state
        .session
        .as_ref()
        .unwrap()
        .product(1)
        .unwrap()
        .photo_signature();
    assert_eq!(
        keep,
        Keep {
            product: "p1".into(),
            task: Task::Colour,
            label: "Blue".into(),
            photos,
        }
    );
    assert!(!state.labels_settled());
    assert!(!kept(&state, 1), "not before durable");
    queue.take_effects();

    let review = review_of(&keep, 7, "ada");
    apply_event(
        &mut state,
        &ctx(),
        Event::ReviewSaved {
            request: id,
            review: review.clone(),
        },
        &mut queue,
    );
    assert!(state.labels_settled());
    assert!(kept(&state, 1));
    assert!(!kept(&state, 0), "another product");
    assert!(
        !state.session.as_ref().unwrap().kept(1, Task::Type),
        "another task"
    );
    assert_eq!(
        state.message.as_ref().unwrap().text,
        "review #7: colour of p1 kept as Blue by ada"
    );

    // The label changed (here by another window): the review stands but holds no more.
    apply_event(
        &mut state,
        &ctx(),
        Event::LabelsSaved {
            request: None,
            edits: vec![edit("p1", "Blue", "Navy")],
            kind: SaveKind::Elsewhere,
        },
        &mut queue,
    );
    assert!(!kept(&state, 1));
    assert!(
        state
            .session
            .as_ref()
            .unwrap()
            .reviews
            .contains_key(&(1, Task::Colour))
    );
    queue.take_effects();

    // Withdrawn (Ctrl+Z in the queue): gone once durable.
    apply_command(
        &mut state,
        Command::WithdrawReview { review: 7 },
        &mut queue,
    );
    let StoreRequest::Withdraw { id, review: 7 } = queued_store_request(&queue) else {
        panic!("{:?}", queue.effects());
    };
    assert!(!state.labels_settled());
    assert!(
        state
            .session
            .as_ref()
            .unwrap()
            .reviews
            .contains_key(&(1, Task::Colour))
    );
    apply_event(
        &mut state,
        &ctx(),
        Event::ReviewWithdrawn {
            request: id,
            withdrawn: Withdrawn {
                review: Review {
                    withdrawn: Some(Withdrawal {
                        author: "ada".into(),
                        time_ms: 1,
                    }),
                    ..review.clone()
                },
                standing: None,
            },
        },
        &mut queue,
    );
    assert!(state.labels_settled());
    assert!(state.session.as_ref().unwrap().reviews.is_empty());
    assert_eq!(
        state.message.as_ref().unwrap().text,
        "withdrew review #7 (colour of p1 kept as Blue by ada)"
    );

    // Another window's keep is picked up; a refused keep settles and shows why.
    let theirs = review_of(
        &Keep {
            product: "p2".into(),
            task: Task::Colour,
            label: "Green".into(),
            photos,
        },
        8,
        "bob",
    );
    apply_event(
        &mut state,
        &ctx(),
        Event::ReviewsChanged(vec![Standing {
            product: "p2".into(),
            task: Task::Colour,
            review: Some(theirs),
        }]),
        &mut queue,
    );
    assert!(kept(&state, 2));
    queue.take_effects();
    apply_command(
        &mut state,
        Command::KeepLabel {
            product: 0,
            task: Task::Colour,
        },
        &mut queue,
    );
    let StoreRequest::Keep { id, .. } = queued_store_request(&queue) else {
        panic!("{:?}", queue.effects());
    };
    apply_event(
        &mut state,
        &ctx(),
        Event::StoreFailed {
            request: Some(id),
            message: "label store s.sqlite: disk full".into(),
        },
        &mut queue,
    );
    assert!(state.labels_settled());
    assert!(!kept(&state, 0));
    assert!(state.message.as_ref().is_some_and(|m| m.error));
}

#[test]
fn a_keep_takes_the_label_shown_and_an_unlabelled_product_has_none_to_keep() {
    let dir = tempfile::tempdir().unwrap();
    let (mut state, mut queue) = opened(dir.path(), 3);
    queue.take_effects();
    // A durable edit a filter job keeps from the catalogue: the label shown next.
    let session = state.session.as_mut().unwrap();
    session.unapplied.push(edit("p0", "Red", "Teal"));
    let mut cleared = edit("p1", "Blue", "Blue");
    cleared.new = None;
    session.unapplied.push(cleared);
    let keep = |state: &mut AppState, product, queue: &mut Queue| {
        apply_command(
            state,
            Command::KeepLabel {
                product,
                task: Task::Colour,
            },
            queue,
        )
    };
    keep(&mut state, 0, &mut queue);
    let StoreRequest::Keep { keep: teal, .. } = queued_store_request(&queue) else {
        panic!("{:?}", queue.effects());
    };
    assert_eq!(teal.label, "Teal");
    queue.take_effects();
    keep(&mut state, 1, &mut queue);
    assert!(queue.is_empty(), "{:?}", queue.effects());
    assert_eq!(
        state.message.as_ref().unwrap().text,
        "p1 has no colour label to keep"
    );
    assert_eq!(state.store_waiting.len(), 1, "only the first keep waits");
}

#[test]
fn a_kept_label_stays_kept_after_a_restart_until_the_photos_change() {
    let dir = tempfile::tempdir().unwrap();
    for photo in ["a.jpg", "b.jpg"] {
        std::fs::write(dir.path().join(photo), b"").unwrap();
    }
    let manifest = dir.path().join("manifest.csv");
    let write = |images: &str| {
        let text = format!("product_id,name,images,colour\np0,Zero,{images},Red\np1,One,,Blue\n");
        std::fs::write(&manifest, text).unwrap();
    };
    write("a.jpg");
    // Kept in an earlier session, through the store as its worker writes it.
    let mut workspace =
        crate::labels::open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let p0 = workspace.catalog.product("p0").unwrap();
    assert_eq!(p0.images.len(), 1);
    let keep = Keep {
        product: "p0".into(),
        task: Task::Colour,
        label: "Red".into(),
        photos: p0.photo_signature(),
    };
    let review = workspace
        .store
        .keep(&workspace.catalog, &keep, "ada")
        .unwrap();
    drop(workspace);

    let (state, _) = opened_from(dir.path(), OpenRequest::path(&manifest));
    let session = state.session.as_ref().unwrap();
    assert_eq!(session.reviews.get(&(0, Task::Colour)), Some(&review));
    assert!(session.kept(0, Task::Colour));
    // A photo added since: the product is raised again.
    write("a.jpg|b.jpg");
    let (state, _) = opened_from(dir.path(), OpenRequest::path(&manifest));
    let session = state.session.as_ref().unwrap();
    assert_eq!(session.product(0).unwrap().images.len(), 2);
    assert!(session.reviews.contains_key(&(0, Task::Colour)));
    assert!(!session.kept(0, Task::Colour));
}

#[test]
fn a_duplicate_search_waits_for_the_marks_runs_and_can_be_cancelled() {
    use crate::app::command::DuplicatesCommand;
    use crate::app::event::DuplicatesEvent;
    let dir = tempfile::tempdir().unwrap();
    let (mut state, _) = opened(dir.path(), 3);
    let mut queue = Queue::default();
    apply_command(
        &mut state,
        Command::Duplicates(DuplicatesCommand::Find),
        &mut queue,
    );
    // The store's marks first, then the search with them.
    assert!(matches!(
        queue.effects(),
        [Effect::Store(StoreRequest::NotDuplicates(pairs))] if pairs.is_empty()
    ));
    let mut queue = Queue::default();
    let marks = vec![("p0".to_string(), "p1".to_string())];
    let ctx = egui::Context::default();
    apply_event(
        &mut state,
        &ctx,
        Event::Duplicates(DuplicatesEvent::Marks(Ok(marks.clone()))),
        &mut queue,
    );
    let generation = match queue.effects() {
        [Effect::FindDuplicates(job)] => {
            assert_eq!(job.apart, marks);
            job.generation
        }
        other => panic!("{other:?}"),
    };
    assert!(state.duplicates.running.is_some());
    let mut queue = Queue::default();
    apply_command(
        &mut state,
        Command::Duplicates(DuplicatesCommand::Cancel),
        &mut queue,
    );
    assert!(matches!(queue.effects(), [Effect::CancelDuplicates]));
    apply_event(
        &mut state,
        &ctx,
        Event::Duplicates(DuplicatesEvent::Cancelled { generation }),
        &mut queue,
    );
    assert!(state.duplicates.running.is_none());
    assert!(state.duplicates.report.is_none());
    assert_eq!(
        state.message.as_ref().map(|m| m.text.as_str()),
        Some("duplicate search cancelled")
    );
}

#[test]
fn a_computed_map_is_placed_on_the_catalogue_and_coloured_by_the_choice() {
    use crate::app::command::MapCommand;
    use crate::app::event::{ComputedMap, MapEvent};
    use crate::app::map::ColourBy;
    use crate::similarity::map::Map;
    let dir = tempfile::tempdir().unwrap();
    let (mut state, _) = opened(dir.path(), 4);
    let mut queue = Queue::default();
    // No predictions shown: nothing to lay out.
    apply_command(&mut state, Command::Map(MapCommand::Compute), &mut queue);
    assert!(queue.effects().is_empty());
    assert!(state.map.running.is_none());
    let computed = |generation| {
        Event::Map(MapEvent::Computed {
            generation,
            result: Ok(Box::new(ComputedMap {
                predictions: dir.path().join("run/predictions.jsonl"),
                note: "run r".into(),
                map: Map {
                    ids: vec!["p0".into(), "elsewhere".into(), "p1".into(), "p2".into()],
                    points: vec![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]],
                    perplexity: 1.0,
                    epochs: 10,
                    neighbours: "exact".into(),
                },
            })),
        })
    };
    // An answer of an older computation is dropped.
    apply_event(&mut state, &ctx(), computed(7), &mut queue);
    assert!(state.map.shown.is_none());
    apply_event(&mut state, &ctx(), computed(0), &mut queue);
    let map = state.map.map().unwrap();
    assert_eq!(map.positions, vec![0, 1, 2]);
    assert!(
        map.note
            .contains("1 of its products are not in this catalogue")
    );
    // Coloured by colour label: Red, Blue, Green, in their own colours.
    let named = crate::similarity::map_colours::named;
    assert_eq!(
        map.colours,
        vec![
            named("Red").unwrap(),
            named("Blue").unwrap(),
            named("Green").unwrap()
        ]
    );
    // No predictions: every point is "no label or prediction".
    apply_command(
        &mut state,
        Command::Map(MapCommand::SetColourBy(ColourBy::Disagrees(Task::Colour))),
        &mut queue,
    );
    let map = state.map.map().unwrap();
    assert_eq!(map.legend.len(), 1);
    assert_eq!(map.legend[0].count, 3);
}
