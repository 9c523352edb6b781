//! The product view's Similar strip, driven headless: the run's representations are found
//! beside its predictions, the focused product's neighbours appear with their labels (a
//! differing one marked), a click opens one, and "Show all" lists them in the grid in order.

mod common;

use common::window::harness;
use egui_kittest::kittest::Queryable;
use std::path::Path;
use std::time::Duration;
use vitrine::app::command::Command;
use vitrine::app::opening::OpenRequest;
use vitrine::app::similar::SimilarStatus;
use vitrine::app::{Start, WorkspaceApp};

fn wait(
    h: &mut egui_kittest::Harness<'_, WorkspaceApp>,
    what: &str,
    done: impl Fn(&WorkspaceApp) -> bool,
) {
    common::window::wait(h, what, Duration::from_secs(60), done);
}

/// A run over `catalogue` (products p0..p{n-1}) whose predictions agree with every colour and
/// whose representations put p0, p5, p10, ... on one line (p5 nearest to p0, then p10, ...).
fn run(dir: &Path, catalogue: &Path, n: usize) -> std::path::PathBuf {
    common::run_agreeing_on_colour(dir, catalogue, n, |i| {
        let mut row = vec![0.0f32; 8];
        row[i % 5] = 1.0;
        // Within a cluster, later products lean further away from the first.
        row[5 + i % 3] = (i / 5) as f32 * 0.05;
        row
    })
}

#[test]
fn the_similar_strip_shows_neighbours_opens_one_and_lists_them_all_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 40);
    let run = run(dir.path(), &catalogue, 40);
    let data = dir.path().join("data");
    let mut h = harness(Start::Open(OpenRequest::path(&catalogue)), &data);
    wait(&mut h, "the catalogue", |a| a.state.session.is_some());
    assert_eq!(h.state().state.similar.status, SimilarStatus::NoRun);
    h.state_mut()
        .apply(Command::LoadPredictions(run.join("predictions.jsonl")));
    wait(&mut h, "the representations", |a| {
        matches!(a.state.similar.status, SimilarStatus::Ready { .. })
    });
    // The product view of p0 asks for its neighbours.
    h.state_mut().apply(Command::FocusProduct(0));
    wait(&mut h, "p0's neighbours", |a| {
        a.state.similar.of(0).is_some()
    });
    let found = h.state().state.similar.of(0).unwrap().clone().unwrap();
    let ids: Vec<&str> = found.iter().take(3).map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["p5", "p10", "p15"]);
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("run run, exact search over 40 products")
            .is_some()
    );
    // p5 is Blue, p0 Red: its label is marked as differing; p20 (Red) is not.
    assert!(h.query_all_by_label("≠ Blue").count() >= 1);
    assert_eq!(h.query_all_by_label("≠ Red").count(), 0);
    assert!(h.query_all_by_label("Red").count() >= 1);

    // "Show all": p0 and its neighbours in the grid, most similar first.
    h.get_by_label("Show all").click();
    h.run_steps(2);
    let state = &h.state().state;
    assert_eq!(&state.matches[..4], &[0, 5, 10, 15]);
    assert!(
        state
            .filter
            .only
            .as_ref()
            .unwrap()
            .title
            .contains("most similar")
    );

    // A click on a neighbour opens it.
    h.state_mut().apply(Command::FocusProduct(10));
    h.run_steps(2);
    assert_eq!(h.state().state.selection.focus, Some(10));
    assert_eq!(h.state().state.focus_at, Some(2));
    wait(&mut h, "p10's neighbours", |a| {
        a.state.similar.of(10).is_some()
    });
}
