//! The first start's audit of the demo catalogue finds its planted wrong labels: the default
//! demo, the default recipe and the first start's folds, scored against `answers.csv`.
//! (`cargo bench --bench audit_quality` prints the same figures with the wall time.)

use vitrine::audit::confident::RankBy;
use vitrine::audit::quality::score;
use vitrine::audit::report::build;
use vitrine::catalog::Task;
use vitrine::catalog::demo::{DemoOptions, generate, read_answers};
use vitrine::labels::open_workspace_read_only;
use vitrine::ml::audit::{AuditRequest, DEMO_FOLDS, run_to_end};
use vitrine::runs::RunConfig;
use vitrine::runs::audit::AuditFolder;
use vitrine::runs::probabilities::Probabilities;

/// Colour: the share of the planted wrong colours the queue raises (measured 1.0: 4 of 4), and
/// the share of the queue's products whose colour label is a planted wrong one (measured 0.57:
/// 4 of 7, release build, 2026-12-07; a debug build's queue can differ by a few products; an
/// untrained model raises nearly every product, under 0.05). The bounds sit well
/// under the figures measured (README, "Label audit"), so a seed or thread-order change does not
/// trip them, but an audit that stopped learning does.
const COLOUR_RECALL: f64 = 0.5;
const COLOUR_PRECISION: f64 = 0.15;

#[test]
fn the_demo_audit_finds_most_planted_wrong_colours_near_the_top_of_its_queue() {
    let dir = tempfile::tempdir().unwrap();
    let demo = generate(
        &dir.path().join("demo"),
        &DemoOptions::default(),
        &|_, _| {},
    )
    .unwrap();
    let config = RunConfig {
        catalogue: demo.manifest.clone(),
        ..RunConfig::default()
    };
    let store = dir.path().join("labels.sqlite");
    let out = dir.path().join("audit");
    let summary = run_to_end(
        AuditRequest {
            dir: out.clone(),
            config: config.clone(),
            folds: DEMO_FOLDS,
            resume: false,
            store: Some(store.clone()),
        },
        &mut |_| {},
    )
    .unwrap();
    let workspace = open_workspace_read_only(
        &config.catalogue,
        &config.source().options().unwrap(),
        Some(&store),
    )
    .unwrap();
    let probabilities = Probabilities::read(&AuditFolder::at(&out).probabilities_path()).unwrap();
    let report = build(
        &probabilities,
        &workspace.catalog,
        RankBy::NormalizedMargin,
        &|_, _| false,
        &[],
    )
    .unwrap();
    let answers = read_answers(&demo.manifest.with_file_name("answers.csv")).unwrap();
    let quality = score(&report, &workspace.catalog, &answers, &[10]);
    let colour = quality.iter().find(|q| q.task == Task::Colour).unwrap();
    let accuracy = summary
        .tasks
        .iter()
        .find(|t| t.task == Task::Colour)
        .and_then(|t| t.accuracy);
    assert!(
        colour.planted > 0,
        "the demo plants wrong colours: {colour:?}"
    );
    assert!(
        colour.recall.unwrap_or(0.0) >= COLOUR_RECALL,
        "out-of-fold colour accuracy {accuracy:?}: {colour:?}"
    );
    assert!(
        colour.precision.unwrap_or(0.0) >= COLOUR_PRECISION,
        "out-of-fold colour accuracy {accuracy:?}: {colour:?}"
    );
    // The suggestion of a raised planted label is mostly the truth.
    assert!(
        2 * colour.suggested_truth >= colour.found,
        "out-of-fold colour accuracy {accuracy:?}: {colour:?}"
    );
}
