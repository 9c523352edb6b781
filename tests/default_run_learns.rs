//! The default run, as `vitrine train` starts it without options and the cockpit's New run
//! dialog with its defaults on the CPU, learns the demo catalogue in minutes.

mod common;

use std::time::{Duration, Instant};
use vitrine::app::cockpit::NewRunForm;
use vitrine::catalog::Task;
use vitrine::catalog::demo::{DemoOptions, generate};
use vitrine::runs::metrics::read_all;
use vitrine::runs::{MetricsRecord, RunConfig, RunFolder};

/// What a new user gets on these two cores, with room for a busy machine.
const BUDGET: Duration = Duration::from_secs(180);
/// Validation colour accuracy the default run reaches (0.882 measured; chance is 1 in 12).
const COLOUR: f32 = 0.8;
/// Validation type accuracy it must reach: above the majority class (Apparel, 0.588) by 0.1.
/// Measured 0.745: shapes learned from a few examples (7 backpacks, 6 watches in the training
/// split) generalise slowly: 0.86 after 40 epochs at 32 px, with every training product right.
const TYPE: f32 = 0.68;

#[test]
fn the_default_run_learns_the_demo_catalogue_within_three_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = generate(
        &dir.path().join("demo"),
        &DemoOptions::default(),
        &|_, _| {},
    )
    .unwrap()
    .manifest;
    let run = RunFolder::at(dir.path().join("run"));
    let started = Instant::now();
    let mut train = common::vitrine();
    train
        .arg("train")
        .arg(&manifest)
        .arg("--out")
        .arg(run.root());
    common::stdout_of(train);
    let elapsed = started.elapsed();

    let (records, bad) = read_all(&run.metrics_path()).unwrap();
    assert!(bad.is_empty(), "{bad:?}");
    let per_epoch = records
        .iter()
        .find_map(|r| match r {
            MetricsRecord::Started {
                iterations_per_epoch,
                ..
            } => Some(*iterations_per_epoch),
            _ => None,
        })
        .expect("a started record");
    let accuracy = records
        .iter()
        .rev()
        .find_map(|r| match r {
            MetricsRecord::Epoch { accuracy, .. } => Some(accuracy),
            _ => None,
        })
        .expect("an epoch record");
    eprintln!("default run on the demo catalogue: {accuracy:?} in {elapsed:.1?}");
    assert!(accuracy[&Task::Colour] >= COLOUR, "{accuracy:?}");
    assert!(accuracy[&Task::Type] >= TYPE, "{accuracy:?}");
    assert!(elapsed < BUDGET, "{elapsed:?}");

    // The run trained what the cockpit's New run would have started on this catalogue.
    let form = NewRunForm::defaults(0, "run".into());
    let cockpit = form
        .config(RunConfig {
            catalogue: manifest,
            ..RunConfig::default()
        })
        .unwrap()
        .scheduled_for(per_epoch);
    assert_eq!(run.config().unwrap(), cockpit);
}
