//! The command line end to end: import --json, demo, labels set/undo/redo/history/export.

mod common;

use std::ffi::OsStr;
use std::path::Path;

fn run(args: &[&OsStr]) -> (i32, String, String) {
    let out = common::vitrine().args(args).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&OsStr]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stdout
}

fn json(args: &[&OsStr]) -> serde_json::Value {
    let stdout = ok(args);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn import_json_has_the_documented_fields() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let manifest = data.join("magento-luma/manifest_colourways.csv");
    let report = json(&["import".as_ref(), manifest.as_os_str(), "--json".as_ref()]);
    assert_eq!(report["format"], "manifest-csv");
    assert_eq!(report["products"], 420);
    assert_eq!(report["products_with_images"], 420);
    assert_eq!(report["images"], 673);
    assert_eq!(report["multi_image_products"], 148);
    assert_eq!(report["tasks"]["colour"]["classes"], 11);
    assert_eq!(report["tasks"]["colour"]["labelled"], 420);
    assert!(report["taxonomy_issues"].is_array());
    assert!(report["warnings"].is_array());

    let styles = data.join("myntra-fpi");
    let report = json(&["import".as_ref(), styles.as_os_str(), "--json".as_ref()]);
    assert_eq!(report["products_with_images"], 8000);
    let warning = &report["warnings"][0];
    assert!(warning["file"].as_str().unwrap().ends_with("styles.csv"));
    assert!(warning["line"].as_u64().is_some());
    let human = ok(&["import".as_ref(), styles.as_os_str()]);
    assert!(
        human.contains("products without images") || human.contains("without images"),
        "{human}"
    );
}

fn labels(catalogue: &Path, args: &[&str]) -> String {
    let mut all: Vec<&OsStr> = vec!["labels".as_ref(), args[0].as_ref(), catalogue.as_os_str()];
    all.extend(args[1..].iter().map(|a| OsStr::new(*a)));
    ok(&all)
}

#[test]
fn demo_generates_imports_and_takes_label_edits() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let summary = json(&[
        "demo".as_ref(),
        "--out".as_ref(),
        demo.as_os_str(),
        "--products".as_ref(),
        "40".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(summary["products"], 40);
    let report = json(&["import".as_ref(), demo.as_os_str(), "--json".as_ref()]);
    assert_eq!(report["products"], 40);
    assert_eq!(report["warnings"].as_array().unwrap().len(), 0);
    assert!(report["multi_image_products"].as_u64().unwrap() > 0);

    let first = std::fs::read_to_string(demo.join("manifest.csv")).unwrap();
    let product = first
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let history = || -> serde_json::Value {
        serde_json::from_str(&labels(&demo, &["history", &product, "--json"])).unwrap()
    };
    let before = history()["labels"]["colour"].clone();
    let target = if before == "Red" { "Blue" } else { "Red" };
    let set: serde_json::Value = serde_json::from_str(&labels(
        &demo,
        &[
            "set",
            &product,
            "colour",
            target,
            "--author",
            "ann",
            "--reason",
            "photo is red",
            "--json",
        ],
    ))
    .unwrap();
    assert_eq!(set[0]["old"], before);
    assert_eq!(set[0]["new"], target);
    assert_eq!(history()["labels"]["colour"], target);
    assert_eq!(history()["history"][0]["reason"], "photo is red");

    let undone = labels(&demo, &["undo", "--author", "ann"]);
    assert!(undone.contains("undo"), "{undone}");
    assert_eq!(history()["labels"]["colour"], before);
    labels(&demo, &["redo", "--author", "ann"]);
    assert_eq!(history()["labels"]["colour"], target);
    let log = labels(&demo, &["log"]);
    assert_eq!(log.lines().count(), 3, "{log}");

    let out = dir.path().join("export/corrected.csv");
    labels(&demo, &["export", "--out", out.to_str().unwrap()]);
    // The photos stay in the demo folder, outside the export's: a sidecar may not point there
    // on its own, the command line does.
    let reimported = json(&[
        "import".as_ref(),
        out.as_os_str(),
        "--images".as_ref(),
        demo.as_os_str(),
        "--json".as_ref(),
    ]);
    assert_eq!(reimported["products"], 40);
    assert_eq!(reimported["warnings"].as_array().unwrap().len(), 0);
    let exported = std::fs::read_to_string(&out).unwrap();
    assert!(
        exported
            .lines()
            .any(|l| l.starts_with(&format!("{product},")) && l.contains(target))
    );
}

#[test]
fn read_only_catalogue_gets_its_store_in_the_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let Some(real) = common::shared_data() else {
        return;
    };
    let manifest = real.join("magento-luma/manifest_colourways.csv");
    let out = common::vitrine()
        .env("VITRINE_DATA_DIR", data.path())
        .args(["labels", "set"])
        .arg(&manifest)
        .args(["MH01-Gray", "colour", "Black", "--author", "ci"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stores: Vec<String> = std::fs::read_dir(data.path().join("stores"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".labels.sqlite"))
        .collect();
    assert_eq!(stores.len(), 1, "{stores:?}");
    assert!(stores[0].starts_with("manifest_colourways-"));
    let history = common::vitrine()
        .env("VITRINE_DATA_DIR", data.path())
        .args(["labels", "history"])
        .arg(&manifest)
        .arg("MH01-Gray")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&history.stdout).contains("Gray -> Black"));
}

#[test]
fn a_reviewer_queues_approves_and_reverts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    let manifest_arg = manifest.as_os_str();
    let set = |product: &str, value: &str| {
        ok(&[
            "labels".as_ref(),
            "set".as_ref(),
            manifest_arg,
            product.as_ref(),
            "colour".as_ref(),
            value.as_ref(),
            "--author".as_ref(),
            "ann".as_ref(),
        ])
    };
    set("p0", "Green");
    set("p1", "Black");
    let command = |verb: &str, rest: &[&str]| {
        let mut args: Vec<&OsStr> = vec!["labels".as_ref(), verb.as_ref(), manifest_arg];
        args.extend(rest.iter().map(|a| OsStr::new(*a)));
        args.extend([OsStr::new("--author"), OsStr::new("lee")]);
        run(&args)
    };
    let (code, queue, _) = command("queue", &["--json"]);
    assert_eq!(code, 0);
    let queue: serde_json::Value = serde_json::from_str(&queue).unwrap();
    assert_eq!(queue["total"], 2);
    let newest = queue["changes"][0]["id"].as_i64().unwrap().to_string();
    let oldest = queue["changes"][1]["id"].as_i64().unwrap().to_string();
    let (code, out, err) = command("revert", &[&newest]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("reverted by lee"), "{out}");
    let (code, out, _) = command("approve", &[&oldest]);
    assert_eq!(code, 0);
    assert!(out.contains("approved by lee"), "{out}");
    let (code, queue, _) = command("queue", &[]);
    assert_eq!(code, 0);
    assert!(
        queue.starts_with("0 changes waiting for lee's verdict"),
        "{queue}"
    );
    // Judged once; the history shows each verdict.
    let (code, _, err) = command("approve", &[&oldest]);
    assert_ne!(code, 0);
    assert!(err.contains("already approved by lee"), "{err}");
    let history = labels(&manifest, &["history", "p1"]);
    assert!(history.contains("[reverted by lee (#"), "{history}");
    assert!(history.contains("(lee, revert) \"revert of #"), "{history}");
    let (code, _, err) = command("queue", &["--source", "undo"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("only human, bulk and accepted-prediction"),
        "{err}"
    );
}
