//! Audits in the cockpit as state transitions, with no worker running: launching one from
//! the "New audit" dialog, its one progress bar over the folds, stopping, failing, resuming,
//! finishing (which queues `OpenAudit`), and the demo's own audit on first start.

use super::tests::{ctx, opened_from};
use super::{apply_command, apply_event};
use crate::app::cockpit::{AuditStatus, DEMO_AUDIT, View};
use crate::app::command::{CockpitCommand, Command};
use crate::app::effect::{Effect, Queue};
use crate::app::event::{Event, RunEvent};
use crate::app::opening::OpenRequest;
use crate::app::state::AppState;
use crate::app::workers::open;
use crate::audit::report::AuditSummary;
use crate::catalog::Task;
use crate::ml::audit::{AuditEvent, AuditRequest, DEMO_FOLDS};
use crate::runs::audit::AuditSettings;
use crate::runs::{Backbone, MetricsRecord, RunConfig};
use std::collections::BTreeMap;
use std::path::Path;

/// A state with a catalogue of 8 products (no images) in `dir` open, as the open worker would
/// have opened it, and the effects of the open taken.
fn opened(dir: &Path) -> AppState {
    let mut text = String::from("product_id,name,images,colour\n");
    for i in 0..8 {
        text.push_str(&format!("p{i},Product {i},,{}\n", ["Red", "Blue"][i % 2]));
    }
    let manifest = dir.join("manifest.csv");
    std::fs::write(&manifest, text).unwrap();
    opened_from(dir, OpenRequest::path(manifest)).0
}

fn event(state: &mut AppState, event: RunEvent) -> Queue {
    let mut queue = Queue::default();
    apply_event(state, &ctx(), Event::Run(event), &mut queue);
    queue
}

fn command(state: &mut AppState, command: impl Into<Command>) -> Queue {
    let mut queue = Queue::default();
    apply_command(state, command.into(), &mut queue);
    queue
}

fn reported(state: &mut AppState, audit: &Path, report: AuditEvent) -> Queue {
    event(
        state,
        RunEvent::AuditReported {
            audit: audit.to_path_buf(),
            event: report,
        },
    )
}

/// The one audit launch queued.
fn launched(queue: &Queue) -> AuditRequest {
    match queue.effects() {
        [Effect::LaunchAudit(request)] => (**request).clone(),
        other => panic!("{other:?}"),
    }
}

/// Launches an audit of `folds` folds from the dialog, named `name`.
fn launch(state: &mut AppState, name: &str, folds: u32) -> AuditRequest {
    command(state, CockpitCommand::ShowNewAudit);
    let mut form = state.cockpit.new_run.clone().unwrap();
    form.name = name.into();
    form.folds = Some(folds);
    command(state, CockpitCommand::EditNewRun(form));
    launched(&command(state, CockpitCommand::StartRun))
}

/// What the runs follower reports of a fold's log: started with `epochs` epochs of two
/// iterations, then `iterations` iterations.
fn fold_records(state: &mut AppState, run: &Path, epochs: usize, iterations: usize) {
    let mut records = vec![MetricsRecord::Started {
        time_ms: 0,
        epochs,
        iterations_per_epoch: 2,
        train_samples: 4,
        validation_samples: 4,
        classes: BTreeMap::from([(Task::Colour, vec!["Blue".into(), "Red".into()])]),
        merged_into_other: BTreeMap::new(),
        resumed_at_epoch: None,
        devices: vec!["cpu".into()],
    }];
    records.extend((0..iterations).map(|i| MetricsRecord::Iteration {
        epoch: i / 2,
        iteration: i,
        loss: 1.0,
        task_losses: BTreeMap::new(),
        learning_rate: 0.01,
        images_per_second: 10.0,
    }));
    event(
        state,
        RunEvent::RunRecords {
            run: run.to_path_buf(),
            records,
            bad_lines: 0,
            has_predictions: false,
            error: None,
        },
    );
}

fn summary() -> AuditSummary {
    AuditSummary {
        audit: "audit-1".into(),
        provenance: Some(crate::runs::provenance::Provenance::OutOfFold),
        unknown: 0,
        unpredicted: 0,
        tasks: Vec::new(),
    }
}

#[test]
fn new_audit_is_the_new_run_dialog_with_folds_and_launches_into_the_runs_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let queue = command(&mut state, CockpitCommand::ShowNewAudit);
    assert!(queue.is_empty());
    let form = state.cockpit.new_run.clone().unwrap();
    assert_eq!(form.folds, Some(5));
    assert!(form.name.starts_with("audit-"), "{}", form.name);
    assert_eq!(form.backbone, Backbone::Small, "the New run recipe");

    // Too few folds is refused in the dialog, naming the limits.
    let mut one = form.clone();
    one.folds = Some(1);
    command(&mut state, CockpitCommand::EditNewRun(one));
    assert!(command(&mut state, CockpitCommand::StartRun).is_empty());
    let error = state.cockpit.new_run.as_ref().unwrap().error.clone();
    assert_eq!(error.as_deref(), Some("an audit has 2 to 50 folds, not 1"));

    let request = launch(&mut state, "audit-1", 3);
    let runs_dir = state.cockpit.runs_dir.clone().unwrap();
    assert_eq!(request.dir, runs_dir.join("audit-1"));
    assert_eq!((request.folds, request.resume), (3, false));
    assert_eq!(request.config.catalogue, dir.path().join("manifest.csv"));
    let session = state.session.as_ref().unwrap();
    assert_eq!(request.store, Some(session.store_report.path.clone()));
    let audit = state.cockpit.audit(&request.dir).unwrap();
    assert!(audit.training_here);
    assert_eq!(audit.status, AuditStatus::Starting);
    assert_eq!(audit.folds, Some(3));
    assert!(state.cockpit.new_run.is_none());
    assert_eq!(state.cockpit.view, View::Training);

    // A second audit of the same name is refused.
    command(&mut state, CockpitCommand::ShowNewAudit);
    let mut again = state.cockpit.new_run.clone().unwrap();
    again.name = "audit-1".into();
    command(&mut state, CockpitCommand::EditNewRun(again));
    assert!(command(&mut state, CockpitCommand::StartRun).is_empty());
    let error = state.cockpit.new_run.as_ref().unwrap().error.clone();
    assert_eq!(error.as_deref(), Some("a run named 'audit-1' exists"));
}

#[test]
fn an_audit_has_one_progress_bar_over_its_folds_each_listed_as_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let audit = launch(&mut state, "audit-1", 2).dir;
    let progress = |state: &AppState| {
        let entry = state.cockpit.audit(&audit).unwrap();
        state.cockpit.audit_progress(entry).unwrap()
    };
    assert_eq!(progress(&state).fraction, 0.0);
    assert_eq!(progress(&state).text, "choosing the folds");

    reported(
        &mut state,
        &audit,
        AuditEvent::Assigned {
            sizes: vec![4, 4],
            thin: Vec::new(),
        },
    );
    assert_eq!(
        state.message.as_ref().unwrap().text,
        "audit-1: 2 folds of 4, 4 products"
    );
    let fold_1 = audit.join("fold-1");
    reported(
        &mut state,
        &audit,
        AuditEvent::FoldStarted {
            fold: 1,
            of: 2,
            resumed: false,
        },
    );
    // The fold is an ordinary run in the list, named by its audit, and its curves are shown.
    let run = state.cockpit.run(&fold_1).unwrap();
    assert_eq!(run.name(), "audit-1/fold-1");
    assert!(
        !run.resumable(),
        "an audit's fold is resumed with its audit"
    );
    assert_eq!(state.cockpit.selected.as_deref(), Some(fold_1.as_path()));
    fold_records(&mut state, &fold_1, 4, 4);
    // Fold 1 half trained: a quarter of the audit.
    assert_eq!(progress(&state).fraction, 0.25);
    assert_eq!(progress(&state).text, "fold 1/2, epoch 3/4");

    event(
        &mut state,
        RunEvent::RunRecords {
            run: fold_1.clone(),
            records: vec![MetricsRecord::Finished { time_ms: 1 }],
            bad_lines: 0,
            has_predictions: true,
            error: None,
        },
    );
    let fold_2 = audit.join("fold-2");
    reported(
        &mut state,
        &audit,
        AuditEvent::FoldStarted {
            fold: 2,
            of: 2,
            resumed: false,
        },
    );
    assert_eq!(
        state.cockpit.selected.as_deref(),
        Some(fold_2.as_path()),
        "the one watching the audit follows it to its next fold"
    );
    fold_records(&mut state, &fold_2, 4, 4);
    assert_eq!(progress(&state).fraction, 0.75);
    assert_eq!(progress(&state).text, "fold 2/2, epoch 3/4");
    assert!(state.cockpit.audit(&audit).unwrap().status.working());
}

#[test]
fn a_stopped_audit_resumes_from_the_cockpit_with_its_own_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let first = launch(&mut state, "audit-1", 2);
    let audit = first.dir.clone();
    let queue = command(&mut state, CockpitCommand::StopAudit(audit.clone()));
    assert!(matches!(queue.effects(), [Effect::StopAudit(a)] if *a == audit));
    reported(&mut state, &audit, AuditEvent::Stopped { fold: 2 });
    let queue = event(
        &mut state,
        RunEvent::AuditThreadEnded {
            audit: audit.clone(),
        },
    );
    assert!(matches!(queue.effects(), [Effect::AuditEnded(a)] if *a == audit));
    let entry = state.cockpit.audit(&audit).unwrap();
    assert_eq!(entry.status, AuditStatus::Stopped { fold: 2 });
    assert!(!entry.training_here);
    assert!(entry.resumable(&state.cockpit));
    let progress = state.cockpit.audit_progress(entry).unwrap();
    assert_eq!(progress.text, "stopped during fold 2/2");
    // Stopping what no longer trains asks nothing of the workers.
    assert!(command(&mut state, CockpitCommand::StopAudit(audit.clone())).is_empty());

    let resumed = launched(&command(
        &mut state,
        CockpitCommand::ResumeAudit(audit.clone()),
    ));
    assert!(resumed.resume);
    assert_eq!(
        (resumed.dir, resumed.config, resumed.folds, resumed.store),
        (first.dir, first.config, first.folds, first.store)
    );
    let entry = state.cockpit.audit(&audit).unwrap();
    assert!(entry.training_here);
    assert!(!entry.resumable(&state.cockpit));
    // Resuming it again while it trains is refused.
    assert!(command(&mut state, CockpitCommand::ResumeAudit(audit.clone())).is_empty());
    assert!(state.message.as_ref().unwrap().error);
}

#[test]
fn a_failed_fold_fails_the_audit_saying_which_and_it_can_be_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let audit = launch(&mut state, "audit-1", 3).dir;
    let fold_2 = audit.join("fold-2");
    // What the relay sends: the fold run's failure, then the audit's.
    event(
        &mut state,
        RunEvent::RunFailed {
            run: fold_2.clone(),
            message: "out of memory".into(),
        },
    );
    reported(
        &mut state,
        &audit,
        AuditEvent::Failed {
            fold: Some(2),
            message: "out of memory".into(),
        },
    );
    event(
        &mut state,
        RunEvent::AuditThreadEnded {
            audit: audit.clone(),
        },
    );
    let message = state.message.clone().unwrap();
    assert!(message.error);
    assert_eq!(
        message.text,
        "audit-1 failed in fold 2: out of memory (fix the cause and Resume: finished folds are \
         kept)"
    );
    assert_eq!(
        state.cockpit.run(&fold_2).unwrap().name(),
        "audit-1/fold-2",
        "the failed fold is listed"
    );
    let entry = state.cockpit.audit(&audit).unwrap();
    assert_eq!(
        entry.status,
        AuditStatus::Failed {
            fold: Some(2),
            message: "out of memory".into()
        }
    );
    assert_eq!(
        state.cockpit.audit_progress(entry).unwrap().text,
        "fold 2/3 failed"
    );
    assert!(entry.resumable(&state.cockpit));
    assert!(launched(&command(&mut state, CockpitCommand::ResumeAudit(audit))).resume);
}

#[test]
fn an_audit_thread_that_ends_without_a_result_is_failed_not_training_forever() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let audit = launch(&mut state, "audit-1", 2).dir;
    // What the workers send when the engine's thread cannot start.
    reported(
        &mut state,
        &audit,
        AuditEvent::Failed {
            fold: None,
            message: "cannot start the audit thread: out of threads".into(),
        },
    );
    event(
        &mut state,
        RunEvent::AuditThreadEnded {
            audit: audit.clone(),
        },
    );
    let entry = state.cockpit.audit(&audit).unwrap();
    assert!(!entry.training_here);
    assert!(matches!(
        entry.status,
        AuditStatus::Failed { fold: None, .. }
    ));
    assert!(
        state
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("out of threads")
    );

    let other = launch(&mut state, "audit-2", 2).dir;
    event(
        &mut state,
        RunEvent::AuditThreadEnded {
            audit: other.clone(),
        },
    );
    assert!(matches!(
        state.cockpit.audit(&other).unwrap().status,
        AuditStatus::Failed { fold: None, .. }
    ));
}

#[test]
fn a_finished_audit_queues_open_audit() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let audit = launch(&mut state, "audit-1", 2).dir;
    reported(&mut state, &audit, AuditEvent::Merging);
    let entry = state.cockpit.audit(&audit).unwrap();
    assert_eq!(entry.status, AuditStatus::Merging);
    assert_eq!(
        state.cockpit.audit_progress(entry).unwrap().text,
        "merging the folds' predictions"
    );
    let queue = reported(
        &mut state,
        &audit,
        AuditEvent::Finished(Box::new(summary())),
    );
    let commands: Vec<&Command> = queue.commands().collect();
    assert!(
        matches!(commands.as_slice(), [Command::OpenAudit(a)] if *a == audit),
        "{commands:?}"
    );
    let entry = state.cockpit.audit(&audit).unwrap();
    assert_eq!(entry.status, AuditStatus::Finished);
    assert_eq!(state.cockpit.audit_progress(entry).unwrap().fraction, 1.0);

    // The review queue opens it (its predictions then shown in the workspace).
    let queue = command(&mut state, Command::OpenAudit(audit.clone()));
    assert!(matches!(
        queue.effects(),
        [Effect::OpenAudit(job)] if job.folder == audit
    ));
    assert_eq!(state.audit.loading.as_deref(), Some(audit.as_path()));
}

#[test]
fn audits_found_on_disk_are_listed_with_their_folds_and_a_finished_one_is_not_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = opened(dir.path());
    let runs_dir = state.cockpit.runs_dir.clone().unwrap();
    let audit = runs_dir.join("audit-cli");
    let fold_1 = audit.join("fold-1");
    // A fold found before its audit is named once the audit is known.
    event(
        &mut state,
        RunEvent::RunFound {
            run: fold_1.clone(),
            config: Box::new(Ok(RunConfig::default())),
        },
    );
    let settings = AuditSettings::new(2, RunConfig::default(), 0);
    event(
        &mut state,
        RunEvent::AuditFound {
            audit: audit.clone(),
            settings: Box::new(Ok(settings.clone())),
            finished: false,
        },
    );
    assert_eq!(
        state.cockpit.run(&fold_1).unwrap().name(),
        "audit-cli/fold-1"
    );
    let entry = state.cockpit.audit(&audit).unwrap();
    assert_eq!(entry.status, AuditStatus::Unfinished);
    assert!(!entry.training_here);
    assert!(
        entry.resumable(&state.cockpit),
        "no fold trains: interrupted"
    );
    fold_records(&mut state, &fold_1, 2, 1);
    let entry = state.cockpit.audit(&audit).unwrap();
    assert!(
        !entry.resumable(&state.cockpit),
        "a fold trains (another process): not resumed here"
    );
    assert_eq!(
        state.cockpit.audit_progress(entry).unwrap().text,
        "fold 1/2, epoch 1/2"
    );
    event(
        &mut state,
        RunEvent::AuditFound {
            audit: audit.clone(),
            settings: Box::new(Ok(settings)),
            finished: true,
        },
    );
    let entry = state.cockpit.audit(&audit).unwrap();
    assert_eq!(entry.status, AuditStatus::Finished);
    assert!(!entry.resumable(&state.cockpit));
    // The scan of an ordinary catalogue starts no audit.
    let queue = event(&mut state, RunEvent::RunsScanned { runs_dir });
    assert!(queue.is_empty());
}

/// A state whose data folder `data` holds a small demo catalogue, opened as the window opens
/// the demo, with the queue the open left.
fn demo_opened(data: &Path) -> (AppState, Queue) {
    let folder = crate::paths::demo_dir(data);
    let options = crate::catalog::demo::DemoOptions {
        products: 12,
        image_size: 32,
        ..Default::default()
    };
    crate::catalog::demo::generate(&folder, &options, &|_, _| {}).unwrap();
    let mut state = AppState::new("ada".into(), data.to_path_buf());
    let mut queue = Queue::default();
    apply_command(&mut state, Command::OpenDemo, &mut queue);
    assert!(matches!(
        queue.take_effects().as_slice(),
        [Effect::OpenDemo]
    ));
    let opened = open::open(&OpenRequest::path(&folder)).unwrap();
    apply_event(
        &mut state,
        &ctx(),
        Event::CatalogueOpened(Box::new(opened)),
        &mut queue,
    );
    (state, queue)
}

#[test]
fn the_first_start_opens_the_demo_at_once_and_starts_its_audit_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut state, mut queue) = demo_opened(&data);
    // Open at once, labelling: no generated predictions are shown.
    assert!(state.session.is_some() && state.opening.is_none());
    assert!(state.session.as_ref().unwrap().predictions.is_none());
    let runs_dir = match queue.take_effects().into_iter().find_map(|e| match e {
        Effect::FollowCatalogueRuns { runs_dir, .. } => Some(runs_dir),
        _ => None,
    }) {
        Some(runs_dir) => runs_dir,
        None => panic!("the demo's runs are followed"),
    };
    // A scan of another folder decides nothing.
    assert!(
        event(
            &mut state,
            RunEvent::RunsScanned {
                runs_dir: dir.path().join("elsewhere")
            }
        )
        .is_empty()
    );

    // Nothing found in its runs folder: the demo's audit starts, once.
    let queue = event(
        &mut state,
        RunEvent::RunsScanned {
            runs_dir: runs_dir.clone(),
        },
    );
    let request = launched(&queue);
    assert_eq!(request.dir, runs_dir.join(DEMO_AUDIT));
    assert_eq!((request.folds, request.resume), (DEMO_FOLDS, false));
    let mut expected = RunConfig {
        validate_every: super::audit_runs::DEMO_VALIDATE_EVERY,
        ..RunConfig::default()
    };
    expected.set_source(state.session.as_ref().unwrap().request.source.clone());
    assert_eq!(
        request.config, expected,
        "the default recipe on the demo, validated every few epochs"
    );
    assert!(expected.validate_every > 1);
    assert_eq!(request.config.devices, ["cpu"]);
    assert_eq!(request.config.backbone, Backbone::Small);
    let entry = state.cockpit.audit(&request.dir).unwrap();
    assert!(entry.training_here, "shown in the status bar");
    assert_eq!(state.cockpit.view, View::Workspace, "the workspace stays");
    assert!(
        event(&mut state, RunEvent::RunsScanned { runs_dir }).is_empty(),
        "a later scan starts nothing more"
    );
}

#[test]
fn the_demo_with_a_finished_audit_shows_it_and_an_unfinished_one_is_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut state, _) = demo_opened(&data);
    let runs_dir = state.cockpit.runs_dir.clone().unwrap();
    let audit = runs_dir.join(DEMO_AUDIT);
    let settings = AuditSettings::new(DEMO_FOLDS, RunConfig::default(), 0);
    let found = |finished| RunEvent::AuditFound {
        audit: audit.clone(),
        settings: Box::new(Ok(settings.clone())),
        finished,
    };
    event(&mut state, found(true));
    let queue = event(
        &mut state,
        RunEvent::RunsScanned {
            runs_dir: runs_dir.clone(),
        },
    );
    assert!(queue.effects().is_empty(), "no audit is started");
    let commands: Vec<&Command> = queue.commands().collect();
    assert!(
        matches!(commands.as_slice(), [Command::OpenAudit(a)] if *a == audit),
        "{commands:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let (mut state, _) = demo_opened(&dir.path().join("data"));
    let runs_dir = state.cockpit.runs_dir.clone().unwrap();
    let audit = runs_dir.join(DEMO_AUDIT);
    event(
        &mut state,
        RunEvent::AuditFound {
            audit: audit.clone(),
            settings: Box::new(Ok(settings)),
            finished: false,
        },
    );
    let request = launched(&event(&mut state, RunEvent::RunsScanned { runs_dir }));
    assert_eq!((request.dir, request.resume), (audit, true));
}
