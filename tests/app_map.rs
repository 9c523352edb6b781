//! The Map view, driven headless: entering it lays out the representation of the run shown,
//! a box dragged round one cluster opens its products in the grid, and a lasso drawn round
//! another does the same.

mod common;

use common::window::harness;
use egui::{Pos2, pos2};
use egui_kittest::kittest::Queryable;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use vitrine::app::cockpit::View;
use vitrine::app::command::{CockpitCommand, Command};
use vitrine::app::map::SelectTool;
use vitrine::app::opening::OpenRequest;
use vitrine::app::ui::{MapTransform, MapViewport};
use vitrine::app::{Start, WorkspaceApp};

type Harness<'a> = egui_kittest::Harness<'a, WorkspaceApp>;

/// A run over `catalogue` (products p0..p{n-1}) whose representations fall in four tight
/// clusters: product i in cluster i % 4.
fn run(dir: &Path, catalogue: &Path, n: usize) -> std::path::PathBuf {
    common::run_agreeing_on_colour(dir, catalogue, n, |i| {
        let mut row = vec![0.0f32; 8];
        row[i % 4] = 1.0;
        row[4 + i % 4] = (i / 4) as f32 * 0.01;
        row
    })
}

/// Each point's screen position, with its catalogue position.
fn on_screen(h: &Harness<'_>) -> Vec<(Pos2, u32)> {
    let rect = h.get_by_label("map").rect();
    let map = h.state().state.map.map().expect("a map is shown");
    let transform = MapTransform::fit(&map.points, rect, MapViewport::default());
    map.points
        .iter()
        .zip(&map.positions)
        .map(|(p, &position)| (transform.to_screen(*p), position))
        .collect()
}

/// The centre of cluster `cluster`'s points, the distance to its farthest member and to the
/// nearest point of another cluster.
fn cluster_circle(points: &[(Pos2, u32)], cluster: u32) -> (Pos2, f32, f32) {
    let members: Vec<Pos2> = points
        .iter()
        .filter(|(_, p)| p % 4 == cluster)
        .map(|(at, _)| *at)
        .collect();
    let centre = members.iter().fold(Pos2::ZERO, |sum, p| {
        sum + p.to_vec2() / members.len() as f32
    });
    let inner = members
        .iter()
        .map(|p| p.distance(centre))
        .fold(0.0, f32::max);
    let outer = points
        .iter()
        .filter(|(_, p)| p % 4 != cluster)
        .map(|(at, _)| at.distance(centre))
        .fold(f32::INFINITY, f32::min);
    (centre, inner, outer)
}

/// Drags the primary button along `path`, a frame per step.
fn drag_along(h: &mut Harness<'_>, path: &[Pos2]) {
    h.hover_at(path[0]);
    h.run_steps(2);
    h.drag_at(path[0]);
    h.step();
    for at in &path[1..] {
        h.hover_at(*at);
        h.step();
    }
    h.drop_at(*path.last().unwrap());
    h.run_steps(3);
}

fn chosen(h: &Harness<'_>) -> BTreeSet<u32> {
    let only = h
        .state()
        .state
        .filter
        .only
        .as_ref()
        .expect("products opened");
    assert!(only.title.contains("chosen on the map"), "{}", only.title);
    h.state().state.matches.iter().copied().collect()
}

#[test]
fn a_box_and_a_lasso_on_the_map_open_their_products_in_the_grid() {
    let dir = tempfile::tempdir().unwrap();
    let n = 40;
    let catalogue = common::small_catalogue(dir.path(), n);
    let run = run(dir.path(), &catalogue, n);
    let data = dir.path().join("data");
    // As `vitrine open CATALOGUE --predictions RUN --view map` starts: the map is laid out
    // once the predictions are shown.
    let start = Start::OpenThen(
        OpenRequest::path(&catalogue),
        vec![
            Command::Cockpit(CockpitCommand::SetView(View::Map)),
            Command::LoadPredictions(run.join("predictions.jsonl")),
        ],
    );
    let mut h = harness(start, &data);
    common::window::wait(&mut h, "the map", Duration::from_secs(120), |a| {
        a.state.map.map().is_some()
    });
    assert_eq!(h.state().state.cockpit.view, View::Map);
    h.run_steps(2);
    assert_eq!(h.state().state.map.map().unwrap().points.len(), n);
    let cluster = |c: u32| -> BTreeSet<u32> { (0..n as u32).filter(|p| p % 4 == c).collect() };

    // A box round cluster 0.
    let points = on_screen(&h);
    let (centre, inner, outer) = cluster_circle(&points, 0);
    let half = inner + 4.0;
    assert!(
        outer > half * 1.5,
        "cluster 0 stands apart ({inner}, {outer})"
    );
    drag_along(
        &mut h,
        &[
            centre - egui::vec2(half, half),
            centre,
            centre + egui::vec2(half, half),
        ],
    );
    assert_eq!(chosen(&h), cluster(0));

    // A lasso (an octagon drawn round it) round cluster 2, back in the Map view.
    h.state_mut().apply(CockpitCommand::SetView(View::Map));
    h.run_steps(2);
    h.get_by_label("lasso").click();
    h.run_steps(2);
    assert_eq!(h.state().state.map.select, SelectTool::Lasso);
    let points = on_screen(&h);
    let (centre, inner, outer) = cluster_circle(&points, 2);
    // The octagon's sides are nearer than its corners: cos(22.5°) of them.
    let r = inner / 0.92 + 4.0;
    assert!(outer > r + 2.0, "cluster 2 stands apart ({inner}, {outer})");
    let octagon: Vec<Pos2> = (0..=8)
        .map(|k| {
            let a = k as f32 * std::f32::consts::TAU / 8.0;
            pos2(centre.x + r * a.cos(), centre.y + r * a.sin())
        })
        .collect();
    drag_along(&mut h, &octagon);
    assert_eq!(chosen(&h), cluster(2));
}
