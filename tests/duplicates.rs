//! Duplicate clusters from the command line: exact copies among the photos of a catalogue,
//! near duplicates by a run's representation, conflicting labels first, and pairs marked
//! "not duplicates" never raised again.

mod common;

use std::path::{Path, PathBuf};
use vitrine::runs::embeddings::Embeddings;

/// A run whose representations put p4 and p5 almost on top of each other, the others apart.
fn run(dir: &Path, catalogue: &Path) -> PathBuf {
    let dim = 12;
    let mut values = Vec::new();
    for i in 0..12 {
        let mut row = vec![0.2f32; dim];
        row[if i == 5 { 4 } else { i }] = 1.0;
        if i == 5 {
            row[11] = 0.2001;
        }
        values.extend(row);
    }
    let embeddings = Embeddings {
        ids: (0..12).map(|i| format!("p{i}")).collect(),
        dim,
        values,
    };
    common::run_with_embeddings(dir, catalogue, &embeddings)
}

fn duplicates(args: &[&str]) -> serde_json::Value {
    let mut command = common::vitrine();
    command.arg("duplicates").args(args).arg("--json");
    serde_json::from_slice(&common::stdout_of(command)).unwrap()
}

fn members(cluster: &serde_json::Value) -> Vec<String> {
    cluster["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["product_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn exact_copies_and_near_duplicates_are_clustered_conflicts_first_and_marks_hold() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::copies_catalogue(dir.path());
    let store = dir.path().join("labels.sqlite");
    let store_arg = store.to_str().unwrap();
    let path = catalogue.to_str().unwrap();

    // A catalogue alone: exact copies only.
    let out = duplicates(&[path, "--store", store_arg]);
    assert_eq!(out["photos"], 12);
    assert_eq!(out["copy_pairs"], 1);
    assert!(out["near"].is_null());
    let clusters = out["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1);
    assert_eq!(members(&clusters[0]), ["p0", "p1"]);
    assert_eq!(clusters[0]["conflicts"], serde_json::json!(["colour"]));
    assert_eq!(clusters[0]["shares_photo"], true);

    // With a run: p4 and p5 too, after the conflicting cluster.
    let run = run(dir.path(), &catalogue);
    let run_arg = run.to_str().unwrap();
    let out = duplicates(&[run_arg, "--store", store_arg]);
    let clusters = out["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2, "{out}");
    assert_eq!(members(&clusters[0]), ["p0", "p1"]);
    assert_eq!(members(&clusters[1]), ["p4", "p5"]);
    assert_eq!(clusters[1]["shares_photo"], false);
    assert!(clusters[1]["conflicts"].as_array().unwrap().is_empty());
    assert!(out["near"]["radius"].as_f64().unwrap() > 0.0);
    assert_eq!(out["near"]["pairs"], 1);
    // --exact-only leaves the representation out.
    let out = duplicates(&[run_arg, "--store", store_arg, "--exact-only"]);
    assert_eq!(out["clusters"].as_array().unwrap().len(), 1);

    // Marked not duplicates: journalled in the store, never raised again.
    let out = duplicates(&[
        run_arg,
        "--store",
        store_arg,
        "--not-duplicates",
        "p5,p4",
        "--author",
        "ana",
    ]);
    let clusters = out["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1);
    assert_eq!(members(&clusters[0]), ["p0", "p1"]);
    assert_eq!(out["marked_not_duplicates"], 1);
    let conn = rusqlite::Connection::open(&store).unwrap();
    let (a, b, author): (String, String, String) = conn
        .query_row("SELECT a, b, author FROM not_duplicates", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(
        (a.as_str(), b.as_str(), author.as_str()),
        ("p4", "p5", "ana")
    );

    // The table lists the cluster with its differing labels.
    let mut command = common::vitrine();
    command
        .arg("duplicates")
        .arg(&catalogue)
        .args(["--store", store_arg]);
    let text = String::from_utf8(common::stdout_of(command)).unwrap();
    assert!(
        text.contains("1 clusters (1 with conflicting labels)"),
        "{text}"
    );
    assert!(text.contains("labels differ: colour"), "{text}");
}

#[test]
fn duplicates_refuses_bad_input_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::copies_catalogue(dir.path());
    // A photo that is not an image is reported and left out, not fatal.
    std::fs::write(dir.path().join("img/3.png"), b"broken").unwrap();
    let mut command = common::vitrine();
    command.arg("duplicates").arg(&catalogue).arg("--json");
    let output = command.output().unwrap();
    assert!(output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("3.png") && err.contains("left out"), "{err}");

    let fails = |args: &[&str]| {
        let mut command = common::vitrine();
        command.arg("duplicates").arg(&catalogue).args(args);
        common::stderr_of_failure(command)
    };
    assert!(fails(&["--threshold", "2"]).contains("a fraction between 0 and 1"));
    assert!(fails(&["--not-duplicates", "p0"]).contains("expected two product ids"));
    assert!(fails(&["--not-duplicates", "p0,nope"]).contains("nope"));
}
