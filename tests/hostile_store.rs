//! The label store, the `labels` commands and the export under hostile or careless use:
//! exports onto the catalogue's own files, batches that change a label twice, exports that
//! must re-import as is, foreign and damaged databases, read-only stores, and values that try
//! to forge journal lines or send escape codes.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::labels::{Attribution, Change, EditSource, open_workspace};

fn human(author: &str) -> Attribution {
    Attribution {
        author: author.into(),
        source: EditSource::Human,
        reason: None,
    }
}

fn change(product: &str, task: Task, value: &str) -> Change {
    Change {
        product: product.into(),
        task,
        value: Some(value.into()),
    }
}

fn colour(ws: &vitrine::labels::Workspace, product: &str) -> Option<String> {
    let p = ws.catalog.product(product).unwrap();
    ws.catalog.label_name(p, Task::Colour).map(String::from)
}

/// Runs the CLI with `args` in `dir`.
fn vitrine_in(dir: &Path, args: &[&str]) -> Output {
    common::vitrine()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeds(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", stderr(&output));
    String::from_utf8(output.stdout).unwrap()
}

/// Every file name in `dir` (not recursive).
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// A manifest with photos (`img/a.jpg`, `img/b.csv`: importers look only for the file) and a
/// sidecar; returns its path.
fn catalogue_with_images(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("img")).unwrap();
    for name in ["a.jpg", "b.csv", "c.jpg"] {
        std::fs::write(dir.join("img").join(name), b"not really a photo").unwrap();
    }
    let manifest = dir.join("manifest.csv");
    std::fs::write(
        &manifest,
        "product_id,name,images,gender,colour\n\
         p0,Zero,img/a.jpg,Women,Red\n\
         p1,One,img/b.csv|img/c.jpg,Men,Blue\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("manifest.vitrine.toml"),
        "[columns]\ncolour = \"colour\"\n",
    )
    .unwrap();
    manifest
}

// 2. Batches that change one label twice; the reasons of a batch.

#[test]
fn a_batch_that_changes_a_label_twice_undoes_and_redoes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let bulk = Attribution {
        source: EditSource::Bulk,
        ..human("bo")
    };
    let edits = ws
        .store
        .set_many(
            &mut ws.catalog,
            &[
                change("p0", Task::Colour, "Purple"),
                change("p1", Task::Colour, "Black"),
                change("p0", Task::Colour, "Green"),
            ],
            &bulk,
        )
        .unwrap();
    assert_eq!(edits.len(), 3);
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Green"));
    let undone = ws.store.undo(&mut ws.catalog, "bo").unwrap();
    assert_eq!(undone.len(), 3);
    assert_eq!(
        colour(&ws, "p0").as_deref(),
        Some("Red"),
        "before the batch"
    );
    assert_eq!(colour(&ws, "p1").as_deref(), Some("Blue"));
    let redone = ws.store.redo(&mut ws.catalog, "bo").unwrap();
    assert_eq!(redone.len(), 3);
    assert_eq!(
        colour(&ws, "p0").as_deref(),
        Some("Green"),
        "after the batch"
    );
    assert_eq!(colour(&ws, "p1").as_deref(), Some("Black"));
    // Still in the history: it undoes again, and a reopened store agrees.
    ws.store.undo(&mut ws.catalog, "bo").unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Red"));
    drop(ws);
    let ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Red"));
    assert_eq!(colour(&ws, "p1").as_deref(), Some("Blue"));
}

#[test]
fn apply_batch_keeps_each_reason() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 4);
    std::fs::write(
        dir.path().join("edits.csv"),
        "product_id,task,value,reason\n\
         p0,colour,Blue,looks blue in photo 2\n\
         p1,colour,Red,\n\
         p2,colour,Black,per the supplier\n",
    )
    .unwrap();
    succeeds(vitrine_in(
        dir.path(),
        &[
            "labels",
            "apply",
            "manifest.csv",
            "--edits",
            "edits.csv",
            "--batch",
        ],
    ));
    let log = succeeds(vitrine_in(
        dir.path(),
        &["labels", "log", "manifest.csv", "--json"],
    ));
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    let reasons: Vec<(&str, Option<&str>)> = log
        .iter()
        .map(|e| (e["product"].as_str().unwrap(), e["reason"].as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("p0", Some("looks blue in photo 2")),
            ("p1", None),
            ("p2", Some("per the supplier"))
        ]
    );
    assert_eq!(log[0]["batch"], log[2]["batch"], "one batch");
}

// 6. Values that try to forge journal lines or send escape codes.

#[test]
fn log_and_history_print_values_and_reasons_escaped() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 3);
    let forged = "Blue\n#99 2026-01-01T00:00:00Z p1 colour: Red -> Green (admin, human)";
    let escape = "\u{1b}[2J\u{1b}[31mRed\u{7}";
    let bidi = "Gr\u{202e}neeé";
    for (product, value, reason) in [
        ("p0", forged, "fixed\r\nby \"admin\""),
        ("p1", escape, "\u{1b}]0;owned\u{7}"),
        ("p2", bidi, "café"),
    ] {
        succeeds(vitrine_in(
            dir.path(),
            &[
                "labels",
                "set",
                "manifest.csv",
                product,
                "colour",
                value,
                "--new-class",
                "--reason",
                reason,
            ],
        ));
    }
    let log = succeeds(vitrine_in(dir.path(), &["labels", "log", "manifest.csv"]));
    let history = succeeds(vitrine_in(
        dir.path(),
        &["labels", "history", "manifest.csv", "p0"],
    ));
    for text in [&log, &history] {
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "raw control characters: {text:?}"
        );
    }
    assert_eq!(log.lines().count(), 3, "one line per edit: {log}");
    assert!(log.contains(r"Blue\n#99"), "{log}");
    assert!(log.contains(r"\u{1b}[2J"), "{log}");
    assert!(log.contains(r"Gr\u{202e}neeé"), "{log}");
    assert!(log.contains(r#""fixed\r\nby \"admin\"""#), "{log}");
    assert!(log.contains("\"café\""), "{log}");
    assert!(history.contains(r"colour       Blue\n#99"), "{history}");
    // JSON keeps the values exact.
    let json = succeeds(vitrine_in(
        dir.path(),
        &["labels", "log", "manifest.csv", "--json"],
    ));
    let json: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert_eq!(json[0]["new"], forged);
}
