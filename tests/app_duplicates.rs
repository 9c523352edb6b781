//! The Duplicates view, driven headless: Find duplicates lists the cluster of two products
//! sharing a photo with their differing colours marked; one click gives the whole cluster one
//! colour as one batch; Not duplicates journals the pair and drops the cluster.

mod common;

use common::window::harness;
use egui_kittest::kittest::Queryable;
use std::time::Duration;
use vitrine::app::cockpit::View;
use vitrine::app::command::CockpitCommand;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, WorkspaceApp};
use vitrine::catalog::Task;

fn wait(
    h: &mut egui_kittest::Harness<'_, WorkspaceApp>,
    what: &str,
    done: impl Fn(&WorkspaceApp) -> bool,
) {
    common::window::wait(h, what, Duration::from_secs(60), done);
}

fn colour(app: &WorkspaceApp, id: &str) -> Option<String> {
    let session = app.state.session.as_ref().unwrap();
    let p = session.catalog.position(id).unwrap() as u32;
    session.label(p, Task::Colour).map(String::from)
}

#[test]
fn the_duplicates_view_relabels_a_cluster_in_one_batch_and_marks_one_apart() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::copies_catalogue(dir.path());
    let store = dir.path().join("labels.sqlite");
    let data = dir.path().join("data");
    let request = OpenRequest {
        store: Some(store.clone()),
        ..OpenRequest::path(&catalogue)
    };
    let mut h = harness(Start::Open(request), &data);
    wait(&mut h, "the catalogue", |a| a.state.session.is_some());
    h.state_mut()
        .apply(CockpitCommand::SetView(View::Duplicates));
    h.run_steps(2);
    h.get_by_label("Find duplicates").click();
    wait(&mut h, "the clusters", |a| {
        a.state.duplicates.report.is_some()
    });
    h.run_steps(2);
    h.check_accessibility();
    assert!(
        h.query_by_label_contains("1 clusters, 1 with conflicting labels: exact copies only")
            .is_some()
    );
    assert!(h.query_by_label_contains("labels differ: colour").is_some());
    assert!(h.query_by_label_contains("same photo file").is_some());

    // Give the whole cluster Red: one batch.
    h.get_by_label("all Red").click();
    wait(&mut h, "the cluster's new colour", |a| {
        a.state.labels_settled() && colour(a, "p1").as_deref() == Some("Red")
    });
    assert_eq!(colour(h.state(), "p0").as_deref(), Some("Red"));
    let log = &h.state().state.edit_log;
    assert_eq!(log.last().unwrap().product, "p1");
    h.run_steps(2);
    // The labels agree now: nothing is marked as differing any more.
    assert!(h.query_by_label_contains("labels differ").is_none());

    // Not duplicates: journalled, the cluster gone, and a new search does not raise it.
    h.get_by_label("Not duplicates").click();
    h.run_steps(2);
    wait(&mut h, "the mark", |a| !a.state.duplicates.apart.is_empty());
    assert_eq!(
        h.state().state.duplicates.apart,
        vec![("p0".to_string(), "p1".to_string())]
    );
    h.get_by_label("Find duplicates").click();
    wait(&mut h, "the new search", |a| {
        a.state.duplicates.running.is_none()
            && a.state.duplicates.report.as_ref().is_some_and(|r| {
                r.as_ref()
                    .is_ok_and(|(r, _)| r.clusters.is_empty() && r.marked_apart == 1)
            })
    });
}
