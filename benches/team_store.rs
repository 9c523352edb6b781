//! The team store (PostgreSQL) beside the file store (SQLite), on this machine: durable edits
//! per second with 1 and with 8 writers, opening the labels of 1,000,000 products, and how long
//! an edit takes to reach a second window. The server is a throwaway cluster on a local socket
//! with `fsync=on` (every acknowledged edit is on disk, as in the file store's
//! `synchronous=FULL`).
//!
//! Run with `cargo bench --bench team_store` (add `-- CASE` for one case). Under `cargo test`
//! each case runs once at a small scale.

mod common;

use common::postgres::{Cluster, durable_cluster};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::labels::{Attribution, Change, EditSource, LabelStore, open_workspace};

const CASES: [&str; 3] = ["team-writes", "team-open-1m", "team-latency"];

fn main() {
    let header = format!("{:<14} {:>90}", "case", "result");
    common::main(&CASES, Some(&header), run_case);
}

fn run_case(case: &str) {
    let Some(cluster) = durable_cluster() else {
        println!("{case:<14} {:>90}", "skipped: no PostgreSQL server");
        return;
    };
    let result = match case {
        "team-writes" => writes(cluster),
        "team-open-1m" => open_1m(cluster),
        "team-latency" => latency(cluster),
        _ => unreachable!(),
    };
    println!("{case:<14} {result:>90}");
}

fn by(author: &str) -> Attribution {
    Attribution {
        author: author.into(),
        source: EditSource::Human,
        reason: None,
    }
}

fn colour(i: usize, round: usize) -> Change {
    Change {
        product: format!("P{i:07}"),
        task: Task::Colour,
        value: Some(format!("Shade {round}-{i}")),
    }
}

/// The `--store` of writer `role` on each engine.
fn store_of(cluster: &Cluster, team: bool, role: &str) -> Option<PathBuf> {
    team.then(|| {
        cluster.role(role, "vitrine_moderator", "pw");
        PathBuf::from(cluster.url(role))
    })
}

/// Edits per second, each its own durable transaction, by `writers` threads at once.
fn edits_per_second(cluster: &Cluster, manifest: &Path, team: bool, writers: usize) -> f64 {
    let per_writer = if common::full() { 400 } else { 20 };
    let stores: Vec<Option<PathBuf>> = (0..writers)
        .map(|w| store_of(cluster, team, &format!("writer{w}")))
        .collect();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for (w, store) in stores.iter().enumerate() {
            scope.spawn(move || {
                let mut ws = open_workspace(manifest, &ImportOptions::default(), store.as_deref())
                    .expect("open");
                for i in 0..per_writer {
                    ws.store
                        .set(&mut ws.catalog, colour(w * per_writer + i, w), &by("bench"))
                        .expect("set");
                }
            });
        }
    });
    (writers * per_writer) as f64 / start.elapsed().as_secs_f64()
}

fn writes(cluster: &Cluster) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = common::write_manifest(dir.path(), 10_000);
    let mut parts = Vec::new();
    for writers in [1, 8] {
        let file = edits_per_second(cluster, &manifest, false, writers);
        let team = edits_per_second(cluster, &manifest, true, writers);
        parts.push(format!(
            "{writers} writer(s): team {team:.0}/s, file {file:.0}/s ({:.2}x)",
            team / file
        ));
    }
    parts.join("; ")
}

fn open_1m(cluster: &Cluster) -> String {
    let n = if common::full() { 1_000_000 } else { 10_000 };
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = common::write_manifest(dir.path(), n);
    let changes: Vec<Change> = (0..n / 10).map(|i| colour(i * 10, 0)).collect();
    let mut times = Vec::new();
    for team in [false, true] {
        let store = store_of(cluster, team, "opener");
        // First open: records the products; then 100,000 edited labels in one batch.
        let mut ws =
            open_workspace(&manifest, &ImportOptions::default(), store.as_deref()).expect("open");
        ws.store
            .set_many(&mut ws.catalog, &changes, &by("bench"))
            .expect("batch");
        drop(ws);
        let mut imported = import(&manifest, &ImportOptions::default()).expect("import");
        let start = Instant::now();
        let overrides = match &store {
            Some(address) => {
                let address = vitrine::labels::team::TeamAddress::parse(
                    &address.to_string_lossy(),
                    &vitrine::labels::team::Environment::process(),
                )
                .expect("address");
                let identity = vitrine::labels::team::identity(&imported.report.source, &address);
                let (_store, report) =
                    LabelStore::open_team(&address, &identity, &mut imported.catalog, None)
                        .expect("open team");
                report.overrides
            }
            None => {
                let path = vitrine::labels::location::locate(&imported.report.source, None);
                let name = std::fs::canonicalize(&manifest).expect("canonical");
                let (_store, report) =
                    LabelStore::open(&path, &name.to_string_lossy(), &mut imported.catalog)
                        .expect("open file");
                report.overrides
            }
        };
        assert_eq!(overrides, n / 10);
        times.push(start.elapsed());
    }
    format!(
        "{n} products, {} edited: store open team {:.2} s, file {:.2} s ({:.2}x)",
        n / 10,
        times[1].as_secs_f64(),
        times[0].as_secs_f64(),
        times[1].as_secs_f64() / times[0].as_secs_f64()
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// From one store's commit to another's `sync` returning it, the other polling on a thread of
/// its own at its store's interval, as the window's store worker does.
fn latency(cluster: &Cluster) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let manifest = common::write_manifest(dir.path(), 100);
    let rounds = if common::full() { 200 } else { 10 };
    let mut parts = Vec::new();
    for team in [true, false] {
        let open = |role: &str| {
            open_workspace(
                &manifest,
                &ImportOptions::default(),
                store_of(cluster, team, role).as_deref(),
            )
            .expect("open")
        };
        let (mut a, mut b) = (open("ann"), open("bob"));
        // The file store is looked at every 2 s: fewer rounds tell its figure well enough.
        let rounds = if team { rounds } else { rounds.min(30) };
        let (seen_tx, seen_rx) = crossbeam_channel::unbounded::<Instant>();
        let stop = std::sync::atomic::AtomicBool::new(false);
        let mut seen = Vec::new();
        std::thread::scope(|scope| {
            let stop = &stop;
            scope.spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(b.store.sync_interval());
                    for _ in b.store.sync(&mut b.catalog).expect("sync") {
                        seen_tx.send(Instant::now()).expect("send");
                    }
                }
            });
            for round in 0..rounds {
                a.store
                    .set(&mut a.catalog, colour(round % 100, round), &by("ann"))
                    .expect("set");
                let written = Instant::now();
                let at = seen_rx.recv().expect("seen");
                seen.push(at.saturating_duration_since(written));
                // A varying phase against the reader's polling, as in real use.
                std::thread::sleep(Duration::from_millis((round * 37 % 100) as u64));
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        seen.sort();
        parts.push(format!(
            "{}: p50 {:.0} ms, p99 {:.0} ms",
            if team { "team" } else { "file" },
            percentile(&seen, 0.5).as_secs_f64() * 1000.0,
            percentile(&seen, 0.99).as_secs_f64() * 1000.0
        ));
    }
    format!("edit seen by a second window: {}", parts.join("; "))
}
