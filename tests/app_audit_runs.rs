//! Audits in the window, driven headless through egui_kittest (no window, no GPU): the first
//! start opens the demo and computes its audit in the background; an audit launched from the
//! cockpit lists its folds as runs with one progress bar, stops, resumes, finishes and shows
//! its out-of-fold predictions, which the workspace says are out-of-fold.

mod common;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vitrine::app::cockpit::{AuditEntry, AuditStatus, DEMO_AUDIT, View};
use vitrine::app::command::CockpitCommand;
use vitrine::app::opening::{OpenRequest, ProvenanceMix};
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::demo::{DemoOptions, generate};

const TIMEOUT: Duration = Duration::from_secs(600);

fn wait(harness: &mut Harness<'_, WorkspaceApp>, what: &str, done: impl Fn(&WorkspaceApp) -> bool) {
    common::window::wait(harness, what, TIMEOUT, done)
}

fn click(harness: &mut Harness<'_, WorkspaceApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

fn audit<'a>(app: &'a WorkspaceApp, folder: &Path) -> &'a AuditEntry {
    app.state.cockpit.audit(folder).expect("a listed audit")
}

#[test]
fn the_first_start_opens_the_demo_at_once_and_computes_its_audit_in_the_background() {
    let data = tempfile::tempdir().unwrap();
    let mut h = common::window::harness(Start::Demo, data.path());
    wait(&mut h, "the demo catalogue", |a| a.state.session.is_some());
    let session = h.state().state.session.as_ref().unwrap();
    assert!(
        session.predictions.is_none(),
        "no generated predictions are shown: {}",
        session.predictions_note
    );
    assert!(!data.path().join("demo/predictions.jsonl").exists());
    let runs_dir = h.state().state.cockpit.runs_dir.clone().unwrap();
    let folder = runs_dir.join(DEMO_AUDIT);
    wait(&mut h, "the demo's audit", |a| {
        a.state
            .cockpit
            .audit(&folder)
            .is_some_and(|e| e.training_here)
    });
    assert_eq!(h.state().state.cockpit.view, View::Workspace);
    assert!(
        h.query_by_label_contains(&format!("auditing {DEMO_AUDIT}"))
            .is_some(),
        "its progress is in the status bar"
    );
    // Labelling works meanwhile: the grid shows the demo's products.
    assert_eq!(
        h.state().state.matches.len(),
        DemoOptions::default().products
    );
    // Closing the window stops the audit (resumable on the next start).
}

#[test]
fn an_audit_from_the_cockpit_lists_its_folds_stops_resumes_and_shows_its_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        products: 30,
        image_size: 32,
        ..DemoOptions::default()
    };
    let catalogue = dir.path().join("catalogue");
    generate(&catalogue, &options, &|_, _| {}).unwrap();
    let data = dir.path().join("data");
    let mut h = common::window::harness(Start::Open(OpenRequest::path(&catalogue)), &data);
    wait(&mut h, "the catalogue", |a| a.state.session.is_some());
    h.state_mut().apply(CockpitCommand::SetView(View::Training));
    h.step();
    click(&mut h, "New audit…");
    let mut form = h.state().state.cockpit.new_run.clone().expect("the dialog");
    assert_eq!(form.folds, Some(5));
    form.name = "audit-test".into();
    form.folds = Some(2);
    form.image_size = 32;
    form.batch = 16;
    form.set_epochs(2);
    form.learning_rate = 0.05;
    form.tasks = [false, true, true, false, false]; // colour and type
    h.state_mut().apply(CockpitCommand::EditNewRun(form));
    h.step();
    assert!(h.query_by_label("folds").is_some(), "the dialog has folds");
    click(&mut h, "Start audit");
    let folder: PathBuf = h
        .state()
        .state
        .cockpit
        .runs_dir
        .clone()
        .unwrap()
        .join("audit-test");
    assert!(audit(h.state(), &folder).training_here);
    assert!(
        h.query_by_label_contains("auditing audit-test: ").is_some(),
        "one bar in the status bar"
    );

    // Stopped during its first fold, it says so and can be resumed.
    wait(&mut h, "the first fold", |a| {
        audit(a, &folder).status == AuditStatus::Training { fold: 1 }
    });
    click(&mut h, "Stop audit");
    wait(&mut h, "the stop", |a| {
        let entry = audit(a, &folder);
        !entry.training_here && matches!(entry.status, AuditStatus::Stopped { .. })
    });
    click(&mut h, "Resume audit");
    wait(&mut h, "the audit's end", |a| {
        audit(a, &folder).status == AuditStatus::Finished
    });

    // Each fold was an ordinary run, its curves read from its log.
    for fold in [1, 2] {
        let run = folder.join(format!("fold-{fold}"));
        let entry = h.state().state.cockpit.run(&run).expect("the fold's run");
        assert_eq!(entry.name(), format!("audit-test/fold-{fold}"));
        wait(&mut h, "the fold's records", |a| {
            a.state
                .cockpit
                .run(&run)
                .is_some_and(|r| !r.history.iterations.is_empty())
        });
        assert!(
            h.query_all_by_label(&format!("audit-test/fold-{fold}"))
                .next()
                .is_some(),
            "listed in the runs panel"
        );
    }

    // OpenAudit was queued: the merged out-of-fold predictions are the session's.
    let merged = folder.join("predictions.jsonl");
    wait(&mut h, "the audit's predictions", |a| {
        let session = a.state.session.as_ref().unwrap();
        session
            .predictions
            .as_ref()
            .is_some_and(|p| p.predictions.path.as_deref() == Some(merged.as_path()))
    });
    let session = h.state().state.session.as_ref().unwrap();
    let loaded = session.predictions.as_ref().unwrap();
    assert_eq!(
        loaded.provenance,
        ProvenanceMix {
            out_of_fold: options.products,
            ..ProvenanceMix::default()
        }
    );
    h.state_mut()
        .apply(CockpitCommand::SetView(View::Workspace));
    h.run_steps(2);
    assert!(
        h.query_by_label("predictions: out-of-fold").is_some(),
        "the filter panel says what it ranks"
    );
}
