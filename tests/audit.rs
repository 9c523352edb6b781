//! `vitrine audit` and `vitrine issues` end to end on a small demo catalogue: every product
//! predicted once by the fold that held it out, the ranked issues feeding `labels apply`, a
//! failed fold resumed, and bad input refused by name.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use vitrine::runs::folds::FoldAssignment;
use vitrine::runs::predictions::Predictions;
use vitrine::runs::probabilities::Probabilities;
use vitrine::runs::provenance::Provenance;

fn run(args: &[&str]) -> Output {
    common::vitrine().args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A demo catalogue of `products` products (48 px photos) in `dir`.
fn demo(dir: &Path, products: usize) -> PathBuf {
    let out = dir.join("demo");
    let made = run(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--products",
        &products.to_string(),
        "--image-size",
        "48",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    out
}

/// `vitrine audit` with a recipe that trains in seconds.
fn audit(catalogue: &Path, out: &Path, store: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "audit",
        catalogue.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ];
    if !extra.contains(&"--folds") && !extra.contains(&"--resume") {
        args.extend(["--folds", "3"]);
    }
    if !extra.contains(&"--resume") {
        args.extend([
            "--epochs",
            "1",
            "--image-size",
            "32",
            "--batch",
            "16",
            "--min-class-examples",
            "2",
            "--tasks",
            "colour,type",
        ]);
    }
    args.extend(extra);
    run(&args)
}

#[test]
fn every_product_is_predicted_once_by_the_fold_that_held_it_out_and_issues_feed_labels_apply() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(dir.path(), 60);
    let store = dir.path().join("labels.sqlite");
    let out = dir.path().join("audit");
    let done = audit(&catalogue, &out, &store, &[]);
    assert!(done.status.success(), "{}", text(&done));
    assert!(text(&done).contains("finished"), "{}", text(&done));

    let folds = FoldAssignment::read(&out.join("folds.csv")).unwrap();
    assert_eq!(folds.count(), 3);
    assert_eq!(folds.len(), 60);
    let probabilities = Probabilities::read(&out.join("probabilities.jsonl")).unwrap();
    let predictions = Predictions::read(&out.join("predictions.jsonl")).unwrap();
    assert_eq!(probabilities.len(), 60);
    assert_eq!(predictions.len(), 60);
    for row in 0..probabilities.len() as u32 {
        let id = probabilities.product_id(row).unwrap();
        assert_eq!(probabilities.fold_at(row), folds.fold(id), "{id}");
        assert_eq!(
            probabilities.provenance_at(row),
            Some(Provenance::OutOfFold)
        );
        let line = predictions.row(id).unwrap();
        assert_eq!(predictions.fold_at(line), folds.fold(id));
    }
    assert!(out.join("summary.json").is_file());
    for fold in 1..=3 {
        assert!(out.join(format!("fold-{fold}/predictions.jsonl")).is_file());
    }

    // The issues as an edits file go straight into `labels apply`.
    let csv = run(&[
        "issues",
        out.to_str().unwrap(),
        "--format",
        "csv",
        "--store",
        store.to_str().unwrap(),
        "--limit",
        "3",
    ]);
    assert!(csv.status.success(), "{}", text(&csv));
    let edits = String::from_utf8(csv.stdout).unwrap();
    assert!(
        edits.starts_with("product_id,task,value,reason,"),
        "{edits}"
    );
    let lines = edits.lines().count();
    assert!(lines > 1, "the untrained folds leave some issues: {edits}");
    let file = dir.path().join("edits.csv");
    std::fs::write(&file, &edits).unwrap();
    let applied = run(&[
        "labels",
        "apply",
        "--store",
        store.to_str().unwrap(),
        catalogue.to_str().unwrap(),
        "--edits",
        file.to_str().unwrap(),
        "--new-class",
    ]);
    assert!(applied.status.success(), "{}", text(&applied));

    let table = run(&["issues", out.to_str().unwrap(), "--task", "colour"]);
    assert!(table.status.success(), "{}", text(&table));
    assert!(text(&table).contains("out-of-fold"), "{}", text(&table));
    // With the duplicates as a third witness: searched over the catalogue's photos and the
    // first fold's representation first.
    let with = run(&[
        "issues",
        out.to_str().unwrap(),
        "--task",
        "colour",
        "--duplicates",
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(with.status.success(), "{}", text(&with));
    assert!(
        text(&with).contains("clusters (") && text(&with).contains("photos in"),
        "{}",
        text(&with)
    );
    let json = run(&["issues", out.to_str().unwrap(), "--json", "--limit", "1"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed.as_array().unwrap().len(), 2, "colour and type");
}

#[test]
fn a_failed_fold_is_named_and_the_audit_resumes_keeping_finished_folds() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(dir.path(), 30);
    let store = dir.path().join("labels.sqlite");
    let out = dir.path().join("audit");
    // Fold 2's folder holds something that is not a run: the fold fails, fold 1 is kept.
    std::fs::create_dir_all(out.join("fold-2")).unwrap();
    let failed = audit(&catalogue, &out, &store, &[]);
    assert!(!failed.status.success());
    let message = text(&failed);
    assert!(message.contains("holds files but no run"), "{message}");
    // The audit folder refused to start in a folder of other files: nothing was created.
    assert!(!out.join("audit.json").exists(), "{message}");
    std::fs::remove_dir_all(&out).unwrap();

    let done = audit(&catalogue, &out, &store, &[]);
    assert!(done.status.success(), "{}", text(&done));
    // Damage fold 2's configuration, as a crash or a hand edit could.
    let config = out.join("fold-2/config.json");
    let good = std::fs::read(&config).unwrap();
    std::fs::write(&config, b"{ not json").unwrap();
    std::fs::write(out.join("fold-2/metrics.jsonl"), b"").unwrap();
    let broken = audit(&catalogue, &out, &store, &["--resume"]);
    assert!(!broken.status.success());
    let message = text(&broken);
    assert!(
        message.contains("fold 2") && message.contains("config.json"),
        "{message}"
    );
    assert!(message.contains("kept"), "fold 1 was kept: {message}");
    std::fs::write(&config, good).unwrap();
    // Trained to its end, its log lost: the resumed audit predicts with its checkpoint.
    let resumed = audit(&catalogue, &out, &store, &["--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert!(text(&resumed).contains("finished"), "{}", text(&resumed));
}

#[test]
fn bad_audits_and_bad_probabilities_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(dir.path(), 8);
    let store = dir.path().join("labels.sqlite");
    let out = dir.path().join("audit");
    // 8 products cannot make 5 folds of 2.
    let small = run(&[
        "audit",
        catalogue.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--folds",
        "5",
    ]);
    assert!(!small.status.success());
    let message = text(&small);
    assert!(
        message.contains("at least 10 products") && message.contains("5 folds"),
        "{message}"
    );
    assert!(!out.exists(), "nothing written: {message}");

    // A folder that is neither an audit nor a run.
    let neither = run(&["issues", dir.path().to_str().unwrap()]);
    assert!(!neither.status.success());
    assert!(
        text(&neither).contains("neither an audit"),
        "{}",
        text(&neither)
    );

    // Probabilities of another catalogue, and a NaN (written as null) in one line.
    let audit_dir = dir.path().join("fake");
    std::fs::create_dir_all(&audit_dir).unwrap();
    let settings = serde_json::json!({
        "format": "vitrine-audit", "version": 1, "folds": 2, "created_ms": 0,
        "config": {"catalogue": catalogue},
    });
    std::fs::write(audit_dir.join("audit.json"), settings.to_string()).unwrap();
    let header = r#"{"format":"vitrine-probabilities","version":1,"run":"x","classes":{"colour":["Red","Blue"]}}"#;
    std::fs::write(
        audit_dir.join("probabilities.jsonl"),
        format!(
            "{header}\n{}\n",
            r#"{"product_id":"elsewhere-1","split":"validation","fold":1,"tasks":{"colour":[0.5,0.5]}}"#
        ),
    )
    .unwrap();
    let other = run(&[
        "issues",
        audit_dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    assert!(!other.status.success());
    let message = text(&other);
    assert!(
        message.contains("probabilities.jsonl") && message.contains("another catalogue"),
        "{message}"
    );
    let first = Predictions::read(&catalogue.join("predictions.jsonl"))
        .ok()
        .and_then(|p| p.product_id(0).map(str::to_string));
    let id = first.unwrap_or_else(|| {
        let manifest = std::fs::read_to_string(catalogue.join("manifest.csv")).unwrap();
        manifest
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .to_string()
    });
    std::fs::write(
        audit_dir.join("probabilities.jsonl"),
        format!(
            "{header}\n{{\"product_id\":\"{id}\",\"split\":\"validation\",\"fold\":1,\"tasks\":{{\"colour\":[null,1.0]}}}}\n"
        ),
    )
    .unwrap();
    let nan = run(&[
        "issues",
        audit_dir.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]);
    let message = text(&nan);
    assert!(
        message.contains("probabilities.jsonl:2") && message.contains("not a number"),
        "{message}"
    );
    // The products the file lacks are said, not silently left out.
    assert!(message.contains("8 products of the catalogue"), "{message}");
    assert!(message.contains("not audited"), "{message}");
}

#[test]
fn a_single_image_audit_predicts_each_product_once_from_its_photos() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = demo(dir.path(), 24);
    let store = dir.path().join("labels.sqlite");
    let out = dir.path().join("audit");
    let done = audit(
        &catalogue,
        &out,
        &store,
        &["--single-image", "--folds", "2"],
    );
    assert!(done.status.success(), "{}", text(&done));
    let probabilities = Probabilities::read(&out.join("probabilities.jsonl")).unwrap();
    assert_eq!(
        probabilities.len(),
        24,
        "one line per product, not per photo"
    );
    let folds = FoldAssignment::read(&out.join("folds.csv")).unwrap();
    assert_eq!(folds.count(), 2);
}
