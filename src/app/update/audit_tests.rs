//! The review queue's transitions on a plain [`AppState`], with no worker running: the audit
//! is built on the test's thread as the audit worker would, the store's answers are applied
//! by hand, and each test checks the state and the requests queued.

use super::tests::{ctx, opened_from};
use super::{apply_command, apply_event};
use crate::app::audit_queue::{Outcome, tests::example};
use crate::app::command::{AuditCommand, Command};
use crate::app::effect::{AuditJob, Effect, Queue, StoreRequest};
use crate::app::event::{Event, SaveKind};
use crate::app::opening::OpenRequest;
use crate::app::state::AppState;
use crate::app::workers::audit;
use crate::catalog::Task;
use crate::labels::{Edit, EditSource, Keep, Review};
use std::path::{Path, PathBuf};

/// The catalogue of [`example`] as a manifest in `dir`, and its probabilities as an audit
/// folder `dir/audit`.
fn catalogue(dir: &Path) -> (PathBuf, PathBuf) {
    let (catalog, probabilities) = example();
    let mut text = String::from("product_id,name,images,colour\n");
    for product in catalog.products() {
        let colour = catalog.label_name(product, Task::Colour).unwrap();
        text.push_str(&format!("{},{},,{colour}\n", product.id, product.name));
    }
    let manifest = dir.join("manifest.csv");
    std::fs::write(&manifest, text).unwrap();
    let folder = dir.join("audit");
    probabilities
        .write(&folder.join(crate::runs::probabilities::FILE_NAME))
        .unwrap();
    (manifest, folder)
}

/// A state with the catalogue of `manifest` open, and the queue the open left.
fn opened(dir: &Path, manifest: &Path) -> (AppState, Queue) {
    opened_from(dir, OpenRequest::path(manifest))
}

/// The audit job queued, taken out of the queue.
fn audit_job(queue: &mut Queue) -> AuditJob {
    let mut jobs: Vec<AuditJob> = queue
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::OpenAudit(job) => Some(job),
            _ => None,
        })
        .collect();
    assert_eq!(jobs.len(), 1, "one audit job");
    jobs.remove(0)
}

/// The audit job queued, left in the queue.
fn audit_job_queued(queue: &Queue) -> &AuditJob {
    queue
        .effects()
        .iter()
        .find_map(|e| match e {
            Effect::OpenAudit(job) => Some(job),
            _ => None,
        })
        .expect("an audit job")
}

/// The look for the catalogue's last audit queued (its data folder and catalogue), taken out
/// of the queue with every other effect.
fn last_audit_asked(queue: &mut Queue) -> (PathBuf, PathBuf) {
    let asked: Vec<(PathBuf, PathBuf)> = queue
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::FindLastAudit {
                data_dir, source, ..
            } => Some((data_dir, source)),
            _ => None,
        })
        .collect();
    assert_eq!(asked.len(), 1, "the last audit is looked for once");
    asked.into_iter().next().unwrap()
}

/// Runs the queued audit job here and applies its answer.
fn run_audit_job(state: &mut AppState, queue: &mut Queue) {
    let job = audit_job(queue);
    let event = audit::load(job);
    apply_event(state, &ctx(), event, queue);
}

/// The catalogue position of the current card.
fn card(state: &AppState) -> (u32, Option<Outcome>) {
    let card = state.audit.queue.as_ref().unwrap().card().unwrap();
    (card.position, card.done)
}

fn store_requests(queue: &mut Queue) -> Vec<StoreRequest> {
    queue
        .take_effects()
        .into_iter()
        .filter_map(|e| match e {
            Effect::Store(request) => Some(request),
            _ => None,
        })
        .collect()
}

fn review_of(keep: &Keep, id: i64) -> Review {
    Review {
        id,
        product: keep.product.clone(),
        task: keep.task,
        label: keep.label.clone(),
        photos: keep.photos,
        author: "ada".into(),
        time_ms: 0,
        withdrawn: None,
    }
}

/// Answers the store requests as a store would: each change saved, each keep saved as review
/// `next_review`, `next_review + 1`, ...
fn answer(state: &mut AppState, queue: &mut Queue, requests: Vec<StoreRequest>, next_review: i64) {
    let mut review = next_review;
    for request in requests {
        let event = match request {
            StoreRequest::Set {
                id, task, changes, ..
            } => {
                let session = state.session.as_ref().unwrap();
                let edits = changes
                    .into_iter()
                    .map(|(product, new)| Edit {
                        id: 1,
                        batch: 1,
                        old: session
                            .catalog
                            .product(&product)
                            .and_then(|p| session.catalog.label_name(p, task))
                            .map(String::from),
                        product,
                        task,
                        new,
                        author: "ada".into(),
                        time_ms: 0,
                        source: EditSource::AcceptedPrediction,
                        reason: None,
                        reverts: None,
                    })
                    .collect();
                Event::LabelsSaved {
                    request: Some(id),
                    edits,
                    kind: SaveKind::Change,
                }
            }
            StoreRequest::Keep { id, keep } => {
                review += 1;
                Event::ReviewSaved {
                    request: id,
                    review: review_of(&keep, review - 1),
                }
            }
            other => panic!("unexpected {other:?}"),
        };
        apply_event(state, &ctx(), event, queue);
    }
}

#[test]
fn opening_an_audit_builds_its_queue_on_the_worker_shows_its_predictions_and_remembers_it() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    // The catalogue's last audit is looked for with the catalogue: it has none yet.
    let (data_dir, source) = last_audit_asked(&mut queue);
    assert!(
        audit::last(&data_dir, &source).is_none(),
        "no audit remembered"
    );

    apply_command(&mut state, Command::OpenAudit(folder.clone()), &mut queue);
    assert_eq!(state.audit.loading.as_deref(), Some(folder.as_path()));
    let job = audit_job(&mut queue);
    assert_eq!(job.folder, folder);
    let event = audit::load(job);
    apply_event(&mut state, &ctx(), event, &mut queue);
    assert!(state.audit.loading.is_none());
    let audit = state.audit.queue.as_ref().expect("the queue");
    assert_eq!(audit.name, "audit");
    assert_eq!(card(&state), (3, None), "the surest suspect first");
    let commands: Vec<&Command> = queue.commands().collect();
    assert!(
        matches!(commands.as_slice(), [Command::LoadPredictions(p)] if *p == folder.join("predictions.jsonl")),
        "{commands:?}"
    );
    let notice = &state.message.as_ref().unwrap().text;
    assert!(
        notice.contains("colour 4") && notice.contains("out-of-fold"),
        "{notice}"
    );

    // Remembered: the catalogue's next opening reopens it.
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    let (data_dir, source) = last_audit_asked(&mut queue);
    let remembered = audit::last(&data_dir, &source).expect("remembered");
    let generation = state.audit.generation;
    apply_event(
        &mut state,
        &ctx(),
        Event::AuditRemembered {
            generation,
            folder: remembered,
        },
        &mut queue,
    );
    assert!(audit_job_queued(&queue).reopening);
    run_audit_job(&mut state, &mut queue);
    assert_eq!(
        state.audit.queue.as_ref().unwrap().folder,
        std::path::absolute(&folder).unwrap()
    );

    // An answer to an older job is ignored.
    apply_command(&mut state, Command::OpenAudit(folder.clone()), &mut queue);
    let old = audit_job(&mut queue);
    apply_command(&mut state, Command::OpenAudit(folder.clone()), &mut queue);
    let event = audit::load(old);
    state.audit.queue = None;
    apply_event(&mut state, &ctx(), event, &mut queue);
    assert!(state.audit.queue.is_none());
    assert!(state.audit.loading.is_some(), "the newer job still runs");
}

#[test]
fn an_audit_that_cannot_be_read_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    queue.take_effects();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    apply_command(&mut state, Command::OpenAudit(empty.clone()), &mut queue);
    run_audit_job(&mut state, &mut queue);
    let message = state.message.clone().unwrap();
    assert!(message.error);
    assert!(
        message.text.contains(&*empty.to_string_lossy())
            && message.text.contains("probabilities.jsonl"),
        "{}",
        message.text
    );
    assert!(state.audit.loading.is_none());
    // Probabilities of another catalogue.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let text = std::fs::read_to_string(folder.join("probabilities.jsonl"))
        .unwrap()
        .replace("\"product_id\":\"p", "\"product_id\":\"q");
    std::fs::write(other.join("probabilities.jsonl"), text).unwrap();
    apply_command(&mut state, Command::OpenAudit(other), &mut queue);
    run_audit_job(&mut state, &mut queue);
    let message = state.message.clone().unwrap();
    assert!(
        message.error && message.text.contains("another catalogue"),
        "{}",
        message.text
    );
    // Nothing usable in the file.
    let damaged = dir.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    let text = std::fs::read_to_string(folder.join("probabilities.jsonl")).unwrap();
    let header = text.lines().next().unwrap();
    std::fs::write(
        damaged.join("probabilities.jsonl"),
        format!("{header}\n{{\"product_id\": 5}}\n"),
    )
    .unwrap();
    apply_command(&mut state, Command::OpenAudit(damaged), &mut queue);
    run_audit_job(&mut state, &mut queue);
    let message = state.message.clone().unwrap();
    assert!(
        message.error
            && message.text.contains("probabilities.jsonl")
            && message.text.contains("line 2"),
        "{}",
        message.text
    );
    // Without a catalogue there is nothing to audit.
    let mut state = AppState::new("ada".into(), dir.path().join("data"));
    apply_command(&mut state, Command::OpenAudit(folder), &mut queue);
    assert!(queue.effects().is_empty());
    assert!(
        state
            .message
            .unwrap()
            .text
            .contains("open a catalogue first")
    );
}

#[test]
fn accept_keep_skip_and_undo_go_through_the_store_and_the_card_moves_on() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    queue.take_effects();
    apply_command(&mut state, Command::OpenAudit(folder.clone()), &mut queue);
    run_audit_job(&mut state, &mut queue);
    queue.take_effects();
    while queue.next_command().is_some() {}

    // Enter: p3 (Blue, looks Red) is set to Red with the audit named, and Red is kept.
    apply_command(&mut state, AuditCommand::Accept.into(), &mut queue);
    let requests = store_requests(&mut queue);
    match requests.as_slice() {
        [
            StoreRequest::Set {
                task: Task::Colour,
                changes,
                source: EditSource::AcceptedPrediction,
                reason: Some(reason),
                ..
            },
            StoreRequest::Keep { keep, .. },
        ] => {
            assert_eq!(changes, &vec![("p3".to_string(), Some("Red".to_string()))]);
            assert!(reason.starts_with("audit audit: suggestion"), "{reason}");
            assert_eq!((keep.product.as_str(), keep.label.as_str()), ("p3", "Red"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(card(&state), (5, None), "the next card shows at once");
    answer(&mut state, &mut queue, requests, 10);
    let session = state.session.as_ref().unwrap();
    assert_eq!(session.label(3, Task::Colour), Some("Red"));
    assert!(session.kept(3, Task::Colour));
    let notice = &state.message.as_ref().unwrap().text;
    assert!(
        notice.contains("Blue -> Red"),
        "the change, not its review: {notice}"
    );

    // K keeps p5's label.
    apply_command(&mut state, AuditCommand::Keep.into(), &mut queue);
    let requests = store_requests(&mut queue);
    assert!(
        matches!(requests.as_slice(), [StoreRequest::Keep { keep, .. }] if keep.product == "p5" && keep.label == "Blue"),
        "{requests:?}"
    );
    answer(&mut state, &mut queue, requests, 20);
    let notice = &state.message.as_ref().unwrap().text;
    assert!(notice.starts_with("review #20"), "{notice}");
    // S skips p2: nothing asked of the store.
    assert_eq!(card(&state), (2, None));
    apply_command(&mut state, AuditCommand::Skip.into(), &mut queue);
    assert!(queue.effects().is_empty());
    assert_eq!(card(&state), (7, None));
    let progress = state.audit.queue.as_ref().unwrap().current().unwrap().1;
    assert_eq!((progress.reviewed(), progress.fixed()), (2, 1));

    // Ctrl+Z undoes the skip, then the keep (its review withdrawn), then the change (the
    // store's undo, and its review withdrawn).
    apply_command(&mut state, AuditCommand::Undo.into(), &mut queue);
    assert!(queue.effects().is_empty());
    assert_eq!(card(&state), (2, None));
    apply_command(&mut state, AuditCommand::Undo.into(), &mut queue);
    assert!(matches!(
        store_requests(&mut queue).as_slice(),
        [StoreRequest::Withdraw { review: 20, .. }]
    ));
    assert_eq!(card(&state), (5, None));
    apply_command(&mut state, AuditCommand::Undo.into(), &mut queue);
    assert!(matches!(
        store_requests(&mut queue).as_slice(),
        [
            StoreRequest::Undo(_),
            StoreRequest::Withdraw { review: 10, .. }
        ]
    ));
    assert_eq!(card(&state), (3, None));
    apply_command(&mut state, AuditCommand::Undo.into(), &mut queue);
    assert!(queue.effects().is_empty());
    assert!(
        state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("nothing to undo")
    );

    // An action the store has not answered yet cannot be undone: its batch is not known.
    apply_command(&mut state, AuditCommand::Choose(1).into(), &mut queue);
    let requests = store_requests(&mut queue);
    assert!(
        matches!(requests.first(), Some(StoreRequest::Set { changes, reason: Some(r), .. }) if changes[0].1.as_deref() == Some("Blue") && r.contains("class #2")),
        "{requests:?}"
    );
    apply_command(&mut state, AuditCommand::Undo.into(), &mut queue);
    assert!(queue.effects().is_empty());
    assert!(
        state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("still being saved")
    );
    assert_eq!(card(&state).0, 5);
}

#[test]
fn e_picks_a_class_for_the_card_and_a_refused_change_leaves_the_card_open() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    queue.take_effects();
    apply_command(&mut state, Command::OpenAudit(folder), &mut queue);
    run_audit_job(&mut state, &mut queue);
    queue.take_effects();
    apply_command(&mut state, AuditCommand::Pick.into(), &mut queue);
    let picker = state.picker.clone().expect("the picker");
    assert!(picker.audit && picker.targets == vec![3] && picker.task == Task::Colour);
    apply_command(&mut state, Command::PickerChoose("Teal".into()), &mut queue);
    let requests = store_requests(&mut queue);
    let Some(StoreRequest::Set {
        id,
        changes,
        source: EditSource::Human,
        reason: Some(reason),
        ..
    }) = requests.first()
    else {
        panic!("{requests:?}");
    };
    assert_eq!(changes, &vec![("p3".to_string(), Some("Teal".to_string()))]);
    assert!(reason.ends_with("picked"), "{reason}");
    assert_eq!(card(&state).0, 5);
    apply_event(
        &mut state,
        &ctx(),
        Event::StoreFailed {
            request: Some(*id),
            message: "disk full".into(),
        },
        &mut queue,
    );
    let audit = state.audit.queue.as_ref().unwrap();
    assert!(!audit.can_undo(), "nothing happened to undo");
    assert_eq!(audit.current().unwrap().1.reviewed(), 0);
}

#[test]
fn a_noise_cell_is_accepted_as_one_batch_after_a_confirmation_and_undone_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    queue.take_effects();
    apply_command(&mut state, Command::OpenAudit(folder), &mut queue);
    run_audit_job(&mut state, &mut queue);
    queue.take_effects();
    // Given Blue (1), found Red (0): p3, p5, p7.
    apply_command(
        &mut state,
        AuditCommand::FilterCell(Some((1, 0))).into(),
        &mut queue,
    );
    apply_command(&mut state, AuditCommand::AskAcceptCell.into(), &mut queue);
    let batch = state.audit.confirm.clone().expect("a confirmation first");
    assert_eq!(
        (batch.given.as_str(), batch.suggested.as_str()),
        ("Blue", "Red")
    );
    assert_eq!(batch.cards.len(), 3);
    assert!(
        queue.effects().is_empty(),
        "nothing before the confirmation"
    );
    apply_command(
        &mut state,
        AuditCommand::ConfirmAcceptCell.into(),
        &mut queue,
    );
    let requests = store_requests(&mut queue);
    match requests.as_slice() {
        [
            StoreRequest::Set {
                changes,
                reason: Some(reason),
                ..
            },
            keeps @ ..,
        ] => {
            let ids: Vec<&str> = changes.iter().map(|(p, _)| p.as_str()).collect();
            assert_eq!(ids, ["p3", "p5", "p7"]);
            assert!(reason.contains("noise cell Blue -> Red"), "{reason}");
            assert_eq!(keeps.len(), 3);
        }
        other => panic!("{other:?}"),
    }
    answer(&mut state, &mut queue, requests, 30);
    let audit = state.audit.queue.as_ref().unwrap();
    assert_eq!(audit.current().unwrap().1.fixed(), 3);
    assert!(audit.open_cards().is_empty());
    apply_command(&mut state, AuditCommand::Undo.into(), &mut queue);
    let undo = store_requests(&mut queue);
    assert_eq!(
        undo.len(),
        4,
        "one store undo and three withdrawals: {undo:?}"
    );
    assert!(matches!(undo[0], StoreRequest::Undo(_)));
    assert_eq!(state.audit.queue.as_ref().unwrap().open_cards().len(), 3);
}

#[test]
fn a_queue_rebuilt_from_the_labels_and_reviews_leaves_accepted_and_kept_products_out() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    queue.take_effects();
    apply_command(&mut state, Command::OpenAudit(folder.clone()), &mut queue);
    run_audit_job(&mut state, &mut queue);
    queue.take_effects();
    apply_command(&mut state, AuditCommand::Accept.into(), &mut queue);
    let accepted = store_requests(&mut queue);
    answer(&mut state, &mut queue, accepted, 1);
    apply_command(&mut state, AuditCommand::Keep.into(), &mut queue);
    let kept = store_requests(&mut queue);
    answer(&mut state, &mut queue, kept, 2);
    apply_command(&mut state, Command::OpenAudit(folder), &mut queue);
    run_audit_job(&mut state, &mut queue);
    let audit = state.audit.queue.as_ref().unwrap();
    let (report, _) = audit.current().unwrap();
    let positions: Vec<usize> = report
        .queue
        .iter()
        .map(|s| report.positions[s.row])
        .collect();
    assert!(
        !positions.contains(&3),
        "accepted (and kept as such): {positions:?}"
    );
    assert!(!positions.contains(&5), "kept: {positions:?}");
    assert_eq!(positions.len(), 2);
    assert_eq!(report.kept, 1, "p5, still flagged, left out by its review");
}

#[test]
fn duplicates_found_while_an_audit_is_shown_speak_in_its_queue() {
    use crate::app::event::DuplicatesEvent;
    use crate::audit::combine::Tier;
    use crate::similarity::copies::Copy;
    use crate::similarity::duplicates::{Cluster, DuplicateReport, Evidence, Link};
    let dir = tempfile::tempdir().unwrap();
    let (manifest, folder) = catalogue(dir.path());
    let (mut state, mut queue) = opened(dir.path(), &manifest);
    apply_command(&mut state, Command::OpenAudit(folder), &mut queue);
    let job = audit_job(&mut queue);
    assert!(job.duplicates.is_empty(), "none searched yet");
    let event = audit::load(job);
    apply_event(&mut state, &ctx(), event, &mut queue);
    // Two products the model is sure of, with different colours, share a photo.
    let report = &state.audit.queue.as_ref().unwrap().report;
    let colour = report.task(Task::Colour).unwrap();
    let queued: Vec<usize> = colour
        .queue
        .iter()
        .map(|s| colour.positions[s.row])
        .collect();
    let session = state.session.as_ref().unwrap();
    let label = |p: u32| session.label(p, Task::Colour).map(String::from);
    let outside: Vec<u32> = (0..session.catalog.len() as u32)
        .filter(|p| !queued.contains(&(*p as usize)) && label(*p).is_some())
        .collect();
    let (a, b) = outside
        .iter()
        .flat_map(|&a| outside.iter().map(move |&b| (a, b)))
        .find(|&(a, b)| a < b && label(a) != label(b))
        .expect("two unsuspected products of different colours");
    let found = DuplicateReport {
        clusters: vec![Cluster {
            members: vec![a, b],
            links: vec![Link {
                a,
                b,
                evidence: Evidence::Copy(Copy::SameFile),
            }],
            conflicts: vec![Task::Colour],
        }],
        photos: 2,
        copy_pairs: 1,
        near: None,
        unreadable: Vec::new(),
        marked_apart: 0,
    };
    let generation = state.duplicates.generation;
    apply_event(
        &mut state,
        &ctx(),
        Event::Duplicates(DuplicatesEvent::Found {
            generation,
            result: Ok((found, "exact copies".into())),
        }),
        &mut queue,
    );
    let job = audit_job_queued(&queue);
    assert_eq!(job.duplicates.len(), 1, "the audit is read again with them");
    run_audit_job(&mut state, &mut queue);
    let report = &state.audit.queue.as_ref().unwrap().report;
    let colour = report.task(Task::Colour).unwrap();
    for p in [a, b] {
        let suspect = colour
            .queue
            .iter()
            .find(|s| colour.positions[s.row] == p as usize)
            .expect("each member of the conflicting pair is in the queue");
        assert_eq!(suspect.tier, Tier::DuplicateOnly);
        assert!(suspect.duplicate.as_ref().unwrap().copy);
    }
}
