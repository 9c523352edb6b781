//! Bad input gives a clear warning or error naming the file (and line), never a panic, and
//! never loses an edit.

mod common;

use std::path::Path;
use vitrine::catalog::import::{ColumnMap, ImportOptions, Warning, check_images, import};

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> std::path::PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs the CLI; asserts it did not panic (exit code 101) and returns (code, stdout, stderr).
fn cli(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = common::vitrine().args(args).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(code, 101, "panicked: {stderr}");
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn warned(warnings: &[Warning], file: &Path, line: u64, text: &str) -> bool {
    warnings
        .iter()
        .any(|w| w.file == file && w.line == Some(line) && w.message.contains(text))
}

#[test]
fn missing_and_empty_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.csv");
    let err = import(&missing, &ImportOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("nope.csv") && err.to_string().contains("no such"),
        "{err}"
    );
    let (code, _, stderr) = cli(&["import".as_ref(), missing.as_os_str()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nope.csv"), "{stderr}");
    // The window is not opened on predictions that are not there.
    let absent = dir.path().join("no-run");
    let (code, _, stderr) = cli(&[
        "open".as_ref(),
        missing.as_os_str(),
        "--predictions".as_ref(),
        absent.as_os_str(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no-run") && stderr.contains("no such file"),
        "{stderr}"
    );

    let empty = write(dir.path(), "empty.csv", "");
    let err = import(&empty, &ImportOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("empty.csv: the file is empty"),
        "{err}"
    );
    let empty_jsonl = write(dir.path(), "empty.jsonl", "");
    assert!(import(&empty_jsonl, &ImportOptions::default()).is_err());

    let nothing_here = tempfile::tempdir().unwrap();
    let err = import(nothing_here.path(), &ImportOptions::default()).unwrap_err();
    assert!(
        err.to_string().contains("no catalogue in this folder"),
        "{err}"
    );
    let odd = write(dir.path(), "catalogue.xlsx", "x");
    assert!(
        import(&odd, &ImportOptions::default())
            .unwrap_err()
            .to_string()
            .contains("unknown file type")
    );
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // A folder where a file is expected cannot be read as one, even by root.
    std::fs::create_dir(dir.path().join("styles.csv")).unwrap();
    let err = import(&dir.path().join("styles.csv"), &ImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("styles.csv"), "{err}");
}

#[test]
fn malformed_rows_duplicates_and_unknown_columns_are_warned_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.jpg", "not decoded at import");
    let manifest = write(
        dir.path(),
        "manifest.csv",
        "product_id,images,colour,season\n\
         p1,a.jpg,Red,Fall\n\
         p2,a.jpg,Blue,Fall,extra\n\
         p3\n\
         p1,a.jpg,Green,Fall\n\
         ,a.jpg,Green,Fall\n",
    );
    let r = import(&manifest, &ImportOptions::default()).unwrap().report;
    assert_eq!(r.products, 3);
    assert!(warned(&r.warnings, &manifest, 3, "5 fields for 4 columns"));
    assert!(warned(&r.warnings, &manifest, 4, "1 fields for 4 columns"));
    assert!(warned(
        &r.warnings,
        &manifest,
        5,
        "duplicate product id 'p1' (first seen at line 2)"
    ));
    assert!(warned(&r.warnings, &manifest, 6, "empty product id"));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("columns kept as attributes: season"))
    );

    let options = ImportOptions {
        columns: ColumnMap::parse(&["type=masterCategory"]).unwrap(),
        ..ImportOptions::default()
    };
    let err = import(&manifest, &options).unwrap_err().to_string();
    assert!(
        err.contains("manifest.csv") && err.contains("no column 'masterCategory'"),
        "{err}"
    );
    let (code, _, stderr) = cli(&[
        "import".as_ref(),
        manifest.as_os_str(),
        "--map".as_ref(),
        "size=Size".as_ref(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("bad column mapping 'size=Size'"),
        "{stderr}"
    );
    let no_id = write(dir.path(), "noid.csv", "sku_code,colour\nx,Red\n");
    let err = import(&no_id, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no column") && err.contains("product_id"),
        "{err}"
    );
}

#[test]
fn non_utf8_text_is_repaired_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"product_id,name,colour\np1,Caf".to_vec();
    bytes.extend([0xe9, b',']); // Latin-1 e-acute
    bytes.extend(b"Red\np2,Plain,Blue\n");
    let manifest = write(dir.path(), "manifest.csv", &bytes);
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    assert_eq!(imported.report.products, 2);
    assert!(warned(
        &imported.report.warnings,
        &manifest,
        2,
        "not valid UTF-8"
    ));
    assert_eq!(
        &*imported.catalog.product("p1").unwrap().name,
        "Caf\u{fffd}"
    );

    let mut jsonl = b"{\"product_id\": \"p1\", \"name\": \"Caf".to_vec();
    jsonl.extend([0xe9]);
    jsonl.extend(b"\"}\n{bad json\n[1,2]\n{\"product_id\": \"p2\", \"colour\": \"Red\", \"images\": [\"../../etc/passwd\"]}\n");
    let manifest = write(dir.path(), "m.jsonl", &jsonl);
    let r = import(&manifest, &ImportOptions::default()).unwrap().report;
    assert_eq!(r.products, 2);
    assert!(warned(&r.warnings, &manifest, 1, "not valid UTF-8"));
    assert!(warned(&r.warnings, &manifest, 2, "malformed JSON"));
    assert!(warned(&r.warnings, &manifest, 3, "not a JSON object"));
    assert!(warned(
        &r.warnings,
        &manifest,
        4,
        "escapes the catalogue folder"
    ));
}

#[test]
fn escaping_and_missing_image_paths_are_skipped_with_warnings() {
    let outer = tempfile::tempdir().unwrap();
    write(outer.path(), "secret.jpg", "x");
    let dir = outer.path().join("catalogue");
    write(&dir, "images/ok.jpg", "x");
    let manifest = write(
        &dir,
        "manifest.csv",
        format!(
            "product_id,images\np1,images/ok.jpg|../secret.jpg|{}|images/gone.jpg\n",
            outer.path().join("secret.jpg").display()
        ),
    );
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let r = &imported.report;
    assert_eq!(imported.catalog.product("p1").unwrap().images.len(), 1);
    assert!(warned(
        &r.warnings,
        &manifest,
        2,
        "'../secret.jpg' escapes the catalogue folder"
    ));
    assert!(
        r.warnings
            .iter()
            .filter(|w| w.message.contains("escapes"))
            .count()
            == 2
    );
    assert!(warned(
        &r.warnings,
        &manifest,
        2,
        "image 'images/gone.jpg' not found"
    ));
}

#[test]
fn corrupt_and_truncated_images_are_found_by_the_image_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut good = Vec::new();
    image::RgbImage::from_pixel(64, 64, image::Rgb([200, 30, 30]))
        .write_to(
            &mut std::io::Cursor::new(&mut good),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    write(dir.path(), "good.jpg", &good);
    write(dir.path(), "truncated.jpg", &good[..good.len() / 3]);
    write(
        dir.path(),
        "garbage.jpg",
        b"GIF89a? no, just text pretending",
    );
    let manifest = write(
        dir.path(),
        "manifest.csv",
        "product_id,images\np1,good.jpg\np2,truncated.jpg\np3,garbage.jpg|good.jpg\n",
    );
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let bad = check_images(&imported.catalog, 2);
    let files: Vec<_> = bad
        .iter()
        .map(|w| w.file.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(files, ["truncated.jpg", "garbage.jpg"], "{bad:#?}");
    assert!(bad[0].message.contains("product 'p2'"));

    let (code, stdout, _) = cli(&[
        "import".as_ref(),
        manifest.as_os_str(),
        "--check-images".as_ref(),
        "--json".as_ref(),
    ]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["warnings"].as_array().unwrap().len(), 2);
}

#[test]
fn kaggle_quirks_in_a_small_styles_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "images/1.jpg", "x");
    let styles = write(
        dir.path(),
        "styles.csv",
        "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName\n\
         1,Men,Apparel,Topwear,Shirts,NA,Fall,2011,Casual,Plain Shirt\n\
         2,Women,Apparel,Topwear,Tops,Red,,,NA,Tops, Tees, and more\n\
         3,Men,Apparel,Topwear\n",
    );
    let imported = import(dir.path(), &ImportOptions::default()).unwrap();
    let (c, r) = (&imported.catalog, &imported.report);
    assert_eq!(r.products, 3);
    assert_eq!(r.products_with_images, 1);
    assert_eq!(&*c.product("2").unwrap().name, "Tops, Tees, and more");
    assert!(warned(&r.warnings, &styles, 3, "12 fields for 10 columns"));
    assert!(warned(&r.warnings, &styles, 4, "4 fields for 10 columns"));
    assert_eq!(
        c.product("1")
            .unwrap()
            .label(vitrine::catalog::Task::Colour),
        None
    );
    let header_only = tempfile::tempdir().unwrap();
    write(
        header_only.path(),
        "styles.csv",
        "id,gender,masterCategory,subCategory,articleType\n",
    );
    assert_eq!(
        import(header_only.path(), &ImportOptions::default())
            .unwrap()
            .report
            .products,
        0
    );
}

#[test]
fn bad_edits_change_nothing_and_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    let apply = |edits: &Path| {
        cli(&[
            "labels".as_ref(),
            "apply".as_ref(),
            "--edits".as_ref(),
            edits.as_os_str(),
            manifest.as_os_str(),
        ])
    };
    let edits = write(
        dir.path(),
        "edits.csv",
        "product_id,task,value\np0,colour,Blue\np9,colour,Blue\n",
    );
    let (code, _, stderr) = apply(&edits);
    assert_eq!(code, 1);
    assert!(stderr.contains("edits.csv:3: no product 'p9'"), "{stderr}");
    let edits = write(
        dir.path(),
        "edits2.csv",
        "product_id,task,value\np0,size,XL\n",
    );
    let (code, _, stderr) = apply(&edits);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("edits2.csv:2") && stderr.contains("unknown task 'size'"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(&[
        "labels".as_ref(),
        "set".as_ref(),
        manifest.as_os_str(),
        "p0".as_ref(),
        "colour".as_ref(),
        "Blu".as_ref(),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("did you mean Blue?"), "{stderr}");
    let (code, _, stderr) = cli(&[
        "labels".as_ref(),
        "set".as_ref(),
        manifest.as_os_str(),
        "nope".as_ref(),
        "colour".as_ref(),
        "Blue".as_ref(),
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no product 'nope'"), "{stderr}");
    let (code, stdout, _) = cli(&["labels".as_ref(), "log".as_ref(), manifest.as_os_str()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("no edits"), "nothing was written: {stdout}");
}

#[test]
fn training_commands_refuse_bad_input_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 4);
    let os = |s: &str| std::ffi::OsString::from(s);
    // An unknown device, an impossible configuration, an unreadable configuration file.
    for (extra, expected) in [
        (vec!["--devices", "tpu"], "unknown device"),
        (vec!["--batch", "0"], "batch must be at least 1"),
        (
            vec!["--config", "/nonexistent/run.json"],
            "/nonexistent/run.json",
        ),
    ] {
        let run = dir.path().join("run");
        let mut args = vec![
            os("train"),
            catalogue.clone().into(),
            os("--out"),
            run.clone().into(),
        ];
        args.extend(extra.iter().map(|a| os(a)));
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let (code, _, stderr) = cli(&refs);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    assert!(
        !dir.path().join("run").exists(),
        "no run folder is left by refused input"
    );
    // A catalogue without photos cannot be trained on, and the run says why.
    let run = dir.path().join("run");
    let (train, out) = (os("train"), os("--out"));
    let train_args = [
        train.as_os_str(),
        catalogue.as_os_str(),
        out.as_os_str(),
        run.as_os_str(),
    ];
    let (code, _, stderr) = cli(&train_args);
    assert_eq!(code, 1);
    assert!(stderr.contains("no product has a photo"), "{stderr}");
    // Training into that folder again is refused, and its log is left as it was.
    let log = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let (code, _, stderr) = cli(&train_args);
    assert_eq!(code, 1);
    assert!(stderr.contains("already holds a run"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(run.join("metrics.jsonl")).unwrap(),
        log
    );
    // Evaluating a folder that holds no run names it.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, stderr) = cli(&[os("evaluate").as_os_str(), empty.as_os_str()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("config.json"), "{stderr}");
}

#[test]
fn a_long_import_reports_progress_and_can_be_cancelled() {
    use std::sync::{Arc, Mutex};
    use vitrine::catalog::import::{ImportError, ImportProgress};
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 20_000);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let options = ImportOptions {
        progress: Some(ImportProgress::new(move |done, total| {
            record.lock().unwrap().push((done, total));
            true
        })),
        ..ImportOptions::default()
    };
    assert_eq!(import(&manifest, &options).unwrap().catalog.len(), 20_000);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 4, "every 4096 rows");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0 && w[1].0 <= w[1].1));
    let cancelled = ImportOptions {
        progress: Some(ImportProgress::new(|_, _| false)),
        ..ImportOptions::default()
    };
    let error = import(&manifest, &cancelled).unwrap_err();
    assert!(
        matches!(error, ImportError::Cancelled(ref p) if p == &manifest),
        "{error}"
    );
}
