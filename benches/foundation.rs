//! Foundation benchmarks: catalogue import, label-store writes and reads.
//!
//! Run with `cargo bench --bench foundation` (add `-- CASE` to run one case). Each case runs in
//! a child process of its own so its peak memory (VmHWM) is its own. Under `cargo test` (no
//! `--bench` argument) every case runs once at 1/100 scale, as a smoke test of this file.

mod common;

use std::time::{Duration, Instant};
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::labels::{Attribution, Change, EditSource, LabelStore, location, open_workspace};

const CASES: [&str; 4] = ["kaggle", "manifest-1m", "store-writes", "store-read-1m"];

/// Products in the large cases: 1,000,000 under `cargo bench`, 10,000 under `cargo test`.
fn large() -> usize {
    if common::full() { 1_000_000 } else { 10_000 }
}

fn main() {
    let header = format!("{:<16} {:>64} {:>12}", "case", "result", "peak memory");
    common::main(&CASES, Some(&header), run_case);
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn report(case: &str, result: String) {
    println!(
        "{case:<16} {result:>64} {:>12}",
        common::status_field("VmHWM:")
    );
}

fn run_case(case: &str) {
    match case {
        "kaggle" => kaggle(),
        "manifest-1m" => manifest_1m(),
        "store-writes" => store_writes(),
        "store-read-1m" => store_read_1m(),
        _ => unreachable!(),
    }
}

/// Real styles.csv (44,446 rows) + index of the 8,000 images.
fn kaggle() {
    let Some(data) = common::real_data("kaggle") else {
        return;
    };
    let folder = data.join("myntra-fpi");
    let runs = if large() == 1_000_000 { 10 } else { 1 };
    let times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let imported = import(&folder, &ImportOptions::default()).expect("import");
            assert_eq!(imported.report.products_with_images, 8000);
            start.elapsed()
        })
        .collect();
    report(
        "kaggle",
        format!(
            "median of {runs}: {:.1} ms",
            median(times).as_secs_f64() * 1e3
        ),
    );
}

/// A generated 1,000,000-product manifest.
fn manifest_1m() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = large();
    let manifest = common::write_manifest(dir.path(), n);
    let start = Instant::now();
    let imported = import(&manifest, &ImportOptions::default()).expect("import");
    let elapsed = start.elapsed();
    assert_eq!(imported.report.products, n);
    assert_eq!(imported.report.warnings_total, 0);
    report(
        "manifest-1m",
        format!("{n} products: {:.2} s", elapsed.as_secs_f64()),
    );
}

/// Durable single edits per second, and edits per second inside one batch.
fn store_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = common::write_manifest(dir.path(), 20_000.min(large()));
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).expect("open");
    let by = Attribution {
        author: "bench".into(),
        source: EditSource::Human,
        reason: None,
    };
    let n = large() / 1000;
    let start = Instant::now();
    for i in 0..n {
        let change = Change {
            product: format!("P{i:07}"),
            task: Task::Colour,
            value: Some(if i % 2 == 0 { "Purple" } else { "Yellow" }.into()),
        };
        ws.store.set(&mut ws.catalog, change, &by).expect("set");
    }
    let single = n as f64 / start.elapsed().as_secs_f64();
    let changes: Vec<Change> = (0..large().min(10_000) / 2)
        .map(|i| Change {
            product: format!("P{:07}", large().min(10_000) / 2 + i),
            task: Task::Gender,
            value: Some("Unisex".into()),
        })
        .collect();
    let start = Instant::now();
    ws.store
        .set_many(&mut ws.catalog, &changes, &by)
        .expect("batch");
    let batched = changes.len() as f64 / start.elapsed().as_secs_f64();
    report(
        "store-writes",
        format!("{single:.0} durable edits/s; {batched:.0}/s batched"),
    );
}

/// Current labels of 1,000,000 products with 100,000 edited: import, store open (applies the
/// edits), and a scan of all five labels of every product.
fn store_read_1m() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = large();
    let edited = n / 10;
    let manifest = common::write_manifest(dir.path(), n);
    {
        let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).expect("open");
        let changes: Vec<Change> = (0..edited)
            .map(|i| Change {
                product: format!("P{:07}", i * 10),
                task: Task::Colour,
                value: Some("Purple".into()),
            })
            .collect();
        let by = Attribution {
            author: "bench".into(),
            source: EditSource::Bulk,
            reason: None,
        };
        ws.store
            .set_many(&mut ws.catalog, &changes, &by)
            .expect("batch");
    }
    let start = Instant::now();
    let mut imported = import(&manifest, &ImportOptions::default()).expect("import");
    let import_time = start.elapsed();
    let store_path = location::locate(&imported.report.source, None);
    let canonical = std::fs::canonicalize(&manifest).expect("canonical");
    let start = Instant::now();
    let (_store, opened) = LabelStore::open(
        &store_path,
        &canonical.to_string_lossy(),
        &mut imported.catalog,
    )
    .expect("open store");
    let open_time = start.elapsed();
    let catalog = imported.catalog;
    let start = Instant::now();
    let mut purple = 0usize;
    for p in catalog.products() {
        for task in Task::ALL {
            if catalog.label_name(p, task) == Some("Purple") {
                purple += 1;
            }
        }
    }
    let scan = start.elapsed();
    assert_eq!(purple, edited);
    assert_eq!(opened.overrides, edited);
    report(
        "store-read-1m",
        format!(
            "{n} products, {edited} edited: import {:.1} s; store open {:.0} ms; scan {:.0} ms",
            import_time.as_secs_f64(),
            open_time.as_secs_f64() * 1e3,
            scan.as_secs_f64() * 1e3
        ),
    );
}
