//! How well the label audit finds the demo catalogue's planted wrong labels: the first start's
//! audit (the default demo, the default recipe, the first start's folds), scored per task
//! against `answers.csv` (precision and recall of the queue, precision of its first 10 and 20,
//! suggestions that are the truth), with its wall time.
//!
//! Run with `cargo bench --bench audit_quality`. Under `cargo test` (no `--bench` argument) it
//! runs once on a 60-product demo with 2 folds of 1 epoch, as a smoke test of this file.

mod common;

use std::time::Instant;
use vitrine::audit::confident::RankBy;
use vitrine::audit::quality::score;
use vitrine::audit::report::build;
use vitrine::catalog::demo::{DemoOptions, generate, read_answers};
use vitrine::labels::open_workspace_read_only;
use vitrine::ml::audit::{AuditRequest, run_to_end};
use vitrine::runs::RunConfig;
use vitrine::runs::audit::AuditFolder;
use vitrine::runs::probabilities::Probabilities;

fn main() {
    common::main(&["audit-quality-demo"], None, |_| audit_quality_demo());
}

fn audit_quality_demo() {
    let full = common::full();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = if full {
        DemoOptions::default()
    } else {
        DemoOptions {
            products: 60,
            image_size: 48,
            ..DemoOptions::default()
        }
    };
    let demo = generate(&dir.path().join("demo"), &options, &|_, _| {}).expect("the demo");
    let mut config = RunConfig {
        catalogue: demo.manifest.clone(),
        ..RunConfig::default()
    };
    let folds = if full {
        vitrine::ml::audit::DEMO_FOLDS
    } else {
        config = config.with_epochs(1);
        config.image_size = 32;
        2
    };
    let store = dir.path().join("labels.sqlite");
    let out = dir.path().join("audit");
    let started = Instant::now();
    let summary = run_to_end(
        AuditRequest {
            dir: out.clone(),
            config: config.clone(),
            folds,
            resume: false,
            store: Some(store.clone()),
        },
        &mut |_| {},
    )
    .expect("the audit finishes");
    let seconds = started.elapsed().as_secs_f64();
    let workspace = open_workspace_read_only(
        &config.catalogue,
        &config.source().options().expect("options"),
        Some(&store),
    )
    .expect("the demo opens");
    let probabilities =
        Probabilities::read(&AuditFolder::at(&out).probabilities_path()).expect("probabilities");
    let report = build(
        &probabilities,
        &workspace.catalog,
        RankBy::NormalizedMargin,
        &|_, _| false,
        &[],
    )
    .expect("the report");
    let answers = read_answers(&demo.manifest.with_file_name("answers.csv")).expect("answers");
    let quality = score(&report, &workspace.catalog, &answers, &[10, 20]);
    println!(
        "audit-quality-demo: {} products, {folds} folds, {:.0} s",
        options.products, seconds
    );
    println!("task         accuracy planted raised found precision recall p@10 p@20 truth");
    for (task, q) in summary.tasks.iter().zip(&quality) {
        let share = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
        println!(
            "{:<12} {:>8} {:>7} {:>6} {:>5} {:>9} {:>6} {:>4.2} {:>4.2} {:>5}",
            q.task.name(),
            share(task.accuracy),
            q.planted,
            q.raised,
            q.found,
            share(q.precision),
            share(q.recall),
            q.precision_at[0].1,
            q.precision_at[1].1,
            q.suggested_truth
        );
    }
}
