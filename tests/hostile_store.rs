//! The label store, the `labels` commands and the export under hostile or careless use:
//! exports onto the catalogue's own files, batches that change a label twice, exports that
//! must re-import as is, foreign and damaged databases, read-only stores, and values that try
//! to forge journal lines or send escape codes.

mod common;

use common::{change, colour, human};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::labels::{
    Attribution, EditSource, ExportError, StoreError, export, open_workspace,
    open_workspace_read_only,
};

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

// 1. Exports onto the catalogue's own files.

#[test]
fn export_onto_a_file_the_catalogue_reads_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path();
    catalogue_with_images(folder);
    succeeds(vitrine_in(
        folder,
        &["labels", "set", "manifest.csv", "p0", "colour", "Blue"],
    ));
    let kaggle = folder.join("kaggle");
    std::fs::create_dir_all(kaggle.join("images")).unwrap();
    std::fs::write(
        kaggle.join("styles.csv"),
        "id,gender,masterCategory,subCategory,articleType,baseColour,productDisplayName\n\
         1,Men,Apparel,Topwear,Tshirts,Red,Shirt\n",
    )
    .unwrap();
    std::fs::write(kaggle.join("images/1.jpg"), b"x").unwrap();
    let absolute = folder.join("manifest.csv").to_string_lossy().into_owned();
    let cases: [(&str, &str, &str); 6] = [
        ("manifest.csv", "manifest.csv", "manifest.csv"),
        ("manifest.csv", &absolute, "manifest.csv"),
        ("manifest.csv", "./img/../manifest.csv", "manifest.csv"),
        // Beside manifest.csv, manifest.jsonl's sidecar would be manifest.csv's own.
        ("manifest.csv", "manifest.jsonl", "manifest.vitrine.toml"),
        ("manifest.csv", "img/b.csv", "b.csv"),
        ("kaggle", "kaggle/styles.csv", "styles.csv"),
    ];
    let before: Vec<(PathBuf, Vec<u8>)> = walk(folder)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    for (catalogue, out, named) in cases {
        let output = vitrine_in(folder, &["labels", "export", catalogue, "--out", out]);
        let message = stderr(&output);
        assert!(!output.status.success(), "{out}: export went through");
        assert!(
            message.contains(named) && message.contains("refusing to overwrite"),
            "{out}: {message}"
        );
    }
    // The store itself, named like a manifest.
    succeeds(vitrine_in(
        folder,
        &[
            "labels",
            "set",
            "manifest.csv",
            "p1",
            "gender",
            "Women",
            "--store",
            "labels.csv",
        ],
    ));
    let store_bytes = std::fs::read(folder.join("labels.csv")).unwrap();
    let output = vitrine_in(
        folder,
        &[
            "labels",
            "export",
            "manifest.csv",
            "--store",
            "labels.csv",
            "--out",
            "labels.csv",
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("label store"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(folder.join("labels.csv")).unwrap(),
        store_bytes
    );
    for (path, bytes) in before {
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{}", path.display());
    }
    assert!(
        walk(folder)
            .iter()
            .all(|p| !p.to_string_lossy().contains("partial")),
        "no temporary file left: {:?}",
        walk(folder)
    );
    // The catalogue still opens, with its edit.
    let ws = open_workspace(
        &folder.join("manifest.csv"),
        &ImportOptions::default(),
        None,
    )
    .unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Blue"));
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn the_library_export_the_window_uses_refuses_the_catalogue_and_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue_with_images(dir.path());
    let ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let before = std::fs::read(&manifest).unwrap();
    let err = export(&ws.catalog, &ws.import.source, ws.store.path(), &manifest).unwrap_err();
    assert!(matches!(err, ExportError::WouldOverwrite { .. }), "{err}");
    assert!(err.to_string().contains("manifest.csv"), "{err}");
    assert_eq!(std::fs::read(&manifest).unwrap(), before);
}

#[test]
fn an_export_goes_through_a_temporary_file_that_touches_no_other_file() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = catalogue_with_images(dir.path());
    let ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    // A file of the user's that an export's temporary name must not take over.
    let theirs = dir.path().join("corrected.partial");
    std::fs::write(&theirs, b"someone's notes").unwrap();
    let before = names(dir.path());
    let out = dir.path().join("corrected.csv");
    export(&ws.catalog, &ws.import.source, ws.store.path(), &out).unwrap();
    assert_eq!(std::fs::read(&theirs).unwrap(), b"someone's notes");
    let mut expected = before;
    expected.insert("corrected.csv".into());
    assert_eq!(names(dir.path()), expected);
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

// 3. Exports that re-import as is.

/// Asserts that `again` holds the products of `original`: ids, names, photos (the same files),
/// views, labels and attributes.
fn assert_same_products(
    original: &vitrine::catalog::Catalog,
    again: &vitrine::catalog::Catalog,
    what: &str,
) {
    assert_eq!(again.len(), original.len(), "{what}");
    let resolve = |catalog: &vitrine::catalog::Catalog, path: &str| {
        let root = if catalog.image_root.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &catalog.image_root
        };
        std::fs::canonicalize(root.join(path)).unwrap()
    };
    for (a, b) in original.products().iter().zip(again.products()) {
        assert_eq!(a.id, b.id, "{what}");
        assert_eq!(a.name, b.name, "{what}");
        let photos = |c, p: &vitrine::catalog::Product| -> Vec<(PathBuf, Option<String>)> {
            p.images
                .iter()
                .map(|i| (resolve(c, &i.path), i.view.as_deref().map(String::from)))
                .collect()
        };
        assert_eq!(photos(original, a), photos(again, b), "{what} {}", a.id);
        for task in Task::ALL {
            assert_eq!(
                original.label_name(a, task),
                again.label_name(b, task),
                "{what}: {task} of {}",
                a.id
            );
        }
        let attributes = |c: &vitrine::catalog::Catalog, p: &vitrine::catalog::Product| {
            p.attributes
                .iter()
                .map(|(k, v)| (c.attribute_key_name(*k).to_string(), v.to_string()))
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            attributes(original, a),
            attributes(again, b),
            "{what}: attributes of {}",
            a.id
        );
    }
}

/// The import options an export written outside the catalogue's folder re-imports with: its
/// sidecar's image folder lies outside the export's folder, which is refused unless the image
/// folder is given (`--images`), as the export says.
fn outside_images(export: &Path, images: &Path) -> ImportOptions {
    let refused = import(export, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("outside the catalogue folder") && refused.contains("--images"),
        "{refused}"
    );
    ImportOptions {
        image_root: Some(images.to_path_buf()),
        ..ImportOptions::default()
    }
}

#[test]
fn an_export_with_attributes_named_like_the_fields_reimports_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("catalogue");
    std::fs::create_dir_all(folder.join("photos")).unwrap();
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        std::fs::write(folder.join("photos").join(name), b"x").unwrap();
    }
    // The fields come from other columns, so columns named like a field (or like one of the
    // names the importer looks for) are attributes.
    let manifest = folder.join("manifest.csv");
    std::fs::write(
        &manifest,
        "sku,title,photos,angles,base,kind,product_id,name,images,views,color,id,image,\
         view_tags,type,gender,vitrine_name\n\
         s1,Shirt,photos/a.jpg|photos/b.jpg,front|back,Red,Apparel,P-1,a name,x.jpg,side,teal,\
         7,y.jpg,top,cotton,Men,odd\n\
         s2,Shoe,photos/c.jpg,,,Footwear,P-2,another,z.jpg,,navy,8,,,leather,Women,\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("manifest.vitrine.toml"),
        "[columns]\nproduct_id = \"sku\"\nname = \"title\"\nimages = \"photos\"\n\
         views = \"angles\"\ncolour = \"base\"\ntype = \"kind\"\n",
    )
    .unwrap();
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    assert_eq!(
        ws.catalog
            .attribute(ws.catalog.product("s1").unwrap(), "name"),
        Some("a name")
    );
    ws.store
        .set(
            &mut ws.catalog,
            change("s2", Task::Gender, "Men"),
            &human("a"),
        )
        .unwrap();
    let out = dir.path().join("out");
    // Of different stems: manifests of one stem would share one sidecar.
    for name in ["corrected.csv", "corrected_lines.jsonl"] {
        let file = out.join(name);
        export(&ws.catalog, &ws.import.source, ws.store.path(), &file).unwrap();
        let again = import(&file, &outside_images(&file, &folder)).unwrap();
        assert_eq!(
            again.report.warnings_total, 0,
            "{name}: {:#?}",
            again.report.warnings
        );
        assert_same_products(&ws.catalog, &again.catalog, name);
    }
    // Exported into the image folder itself (no image_root needed) it re-imports too.
    let file = folder.join("corrected.jsonl");
    export(&ws.catalog, &ws.import.source, ws.store.path(), &file).unwrap();
    let again = import(&file, &ImportOptions::default()).unwrap();
    assert_same_products(&ws.catalog, &again.catalog, "in the image folder");
}

#[test]
fn an_export_of_a_catalogue_opened_by_its_bare_file_name_reimports_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("catalogue");
    std::fs::create_dir_all(&folder).unwrap();
    let manifest = catalogue_with_images(&folder);
    succeeds(vitrine_in(
        &folder,
        &["labels", "set", "manifest.csv", "p1", "colour", "Red"],
    ));
    let original = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    for out in [
        "../out/corrected.csv",
        "../out/corrected_lines.jsonl",
        "beside.csv",
        "beside.jsonl",
    ] {
        succeeds(vitrine_in(
            &folder,
            &["labels", "export", "manifest.csv", "--out", out],
        ));
        let file = folder.join(out);
        let options = if out.starts_with("..") {
            outside_images(&file, &folder)
        } else {
            ImportOptions::default()
        };
        let again = import(&file, &options).unwrap();
        assert_eq!(
            again.report.warnings_total, 0,
            "{out}: {:#?}",
            again.report.warnings
        );
        assert_same_products(&original.catalog, &again.catalog, out);
    }
}

// 4. Damaged and foreign stores.

#[test]
fn a_store_missing_a_table_is_refused_naming_the_file_and_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let store = dir.path().join("manifest.labels.sqlite");
    {
        let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
        ws.store
            .set(
                &mut ws.catalog,
                change("p0", Task::Colour, "Blue"),
                &human("a"),
            )
            .unwrap();
    }
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute_batch("DROP TABLE current").unwrap();
    drop(conn);
    let before = std::fs::read(&store).unwrap();
    let err = open_workspace(&manifest, &ImportOptions::default(), None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("manifest.labels.sqlite") && message.contains("'current'"),
        "{message}"
    );
    let output = vitrine_in(dir.path(), &["labels", "log", "manifest.csv"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("'current'"), "{}", stderr(&output));
    assert_eq!(std::fs::read(&store).unwrap(), before, "left as it was");
}

#[test]
fn a_foreign_database_is_refused_and_left_byte_for_byte_untouched() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 3);
    let foreign = dir.path().join("shop.db");
    {
        let conn = rusqlite::Connection::open(&foreign).unwrap();
        conn.execute_batch(
            "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE products(id TEXT PRIMARY KEY);
             INSERT INTO customers(name) VALUES ('Ada'), ('Grace');",
        )
        .unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    // Byte 18 and 19 of the header: 1 = rollback journal, 2 = WAL.
    assert_eq!((before[18], before[19]), (1, 1));
    let files = names(dir.path());
    for args in [
        &["labels", "set", "manifest.csv", "p0", "colour", "Blue"][..],
        &["labels", "log", "manifest.csv"][..],
        &["labels", "history", "manifest.csv", "p0"][..],
    ] {
        let mut args = args.to_vec();
        args.extend(["--store", "shop.db"]);
        let output = vitrine_in(dir.path(), &args);
        let message = stderr(&output);
        assert!(
            !output.status.success(),
            "{args:?} accepted a foreign database"
        );
        assert!(
            message.contains("shop.db") && message.contains("not a vitrine label store"),
            "{message}"
        );
    }
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    assert_eq!(names(dir.path()), files, "no -wal, -shm or journal left");
}

#[test]
fn an_empty_store_file_is_initialised() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let store = dir.path().join("empty.sqlite");
    std::fs::write(&store, b"").unwrap();
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), Some(&store)).unwrap();
    ws.store
        .set(
            &mut ws.catalog,
            change("p0", Task::Colour, "Blue"),
            &human("a"),
        )
        .unwrap();
    drop(ws);
    let ws = open_workspace(&manifest, &ImportOptions::default(), Some(&store)).unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Blue"));
}

// 5. Read-only commands and read-only stores.

#[test]
fn read_only_label_commands_create_no_store() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("catalogue");
    std::fs::create_dir_all(&dir).unwrap();
    common::small_catalogue(&dir, 3);
    let data = tempfile::tempdir().unwrap();
    let files = names(&dir);
    for args in [
        &["labels", "log", "manifest.csv"][..],
        &["labels", "history", "manifest.csv", "p0"][..],
        &["labels", "export", "manifest.csv", "--out", "../copy.csv"][..],
    ] {
        let output = common::vitrine()
            .current_dir(&dir)
            .env("VITRINE_DATA_DIR", data.path())
            .args(args)
            .output()
            .unwrap();
        let text = succeeds(output);
        if args[1] == "history" {
            assert!(text.contains("Red"), "the catalogue's own label: {text}");
        }
        assert_eq!(names(&dir), files, "{args:?} created a file");
    }
    assert!(
        !data.path().join("stores").exists(),
        "nothing in the data folder"
    );
    // With a store, reading it leaves no -wal or -shm file behind.
    succeeds(vitrine_in(
        &dir,
        &["labels", "set", "manifest.csv", "p0", "colour", "Blue"],
    ));
    let files = names(&dir);
    let log = succeeds(vitrine_in(&dir, &["labels", "log", "manifest.csv"]));
    assert!(log.contains("Red -> Blue"), "{log}");
    assert_eq!(names(&dir), files);
}

#[test]
fn refused_changes_and_an_undo_with_nothing_to_undo_create_no_store() {
    let top = tempfile::tempdir().unwrap();
    let dir = top.path().join("catalogue");
    std::fs::create_dir_all(&dir).unwrap();
    common::small_catalogue(&dir, 3);
    std::fs::write(
        dir.join("edits.csv"),
        "product_id,task,value\np0,colour,Blue\nnope,colour,Red\n",
    )
    .unwrap();
    let files = names(&dir);
    for (args, refused) in [
        (
            &["labels", "set", "manifest.csv", "nope", "colour", "Red"][..],
            true,
        ),
        (
            &["labels", "set", "manifest.csv", "p0", "colour", "Mauve"][..],
            true,
        ),
        (
            &["labels", "apply", "manifest.csv", "--edits", "edits.csv"][..],
            true,
        ),
        (&["labels", "undo", "manifest.csv"][..], false),
        (&["labels", "redo", "manifest.csv"][..], false),
    ] {
        let output = vitrine_in(&dir, args);
        assert_eq!(!output.status.success(), refused, "{args:?}: {output:?}");
        assert_eq!(names(&dir), files, "{args:?} created a file");
    }
    // A change that is accepted creates the store, as before.
    succeeds(vitrine_in(
        &dir,
        &["labels", "set", "manifest.csv", "p0", "colour", "Blue"],
    ));
    assert!(dir.join("manifest.labels.sqlite").is_file());
    let undone = succeeds(vitrine_in(&dir, &["labels", "undo", "manifest.csv"]));
    assert!(undone.contains("Blue -> Red"), "{undone}");
}

#[test]
fn evaluate_predict_and_compare_create_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    succeeds(vitrine_in(
        dir.path(),
        &[
            "demo",
            "--out",
            "demo",
            "--products",
            "24",
            "--image-size",
            "48",
        ],
    ));
    let manifest = names(&demo)
        .into_iter()
        .find(|n| n.starts_with("manifest."))
        .unwrap();
    let files = names(&demo);
    succeeds(vitrine_in(
        dir.path(),
        &[
            "train",
            &format!("demo/{manifest}"),
            "--out",
            "run",
            "--backbone",
            "small",
            "--image-size",
            "32",
            "--batch",
            "8",
            "--epochs",
            "1",
            "--min-class-examples",
            "1",
        ],
    ));
    assert_eq!(names(&demo), files, "train reads labels only");
    for args in [
        &["evaluate", "run"][..],
        &["predict", "run"][..],
        &["compare", "run", "run"][..],
    ] {
        succeeds(vitrine_in(dir.path(), args));
        assert_eq!(names(&demo), files, "{args:?} created a file");
    }
}

/// Restores write permission on drop, so the temporary folder can be removed.
#[cfg(unix)]
struct Locked(Vec<PathBuf>);

#[cfg(unix)]
impl Drop for Locked {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        for path in &self.0 {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_store_in_a_read_only_folder_can_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("shared");
    std::fs::create_dir_all(&folder).unwrap();
    common::small_catalogue(&folder, 3);
    succeeds(vitrine_in(
        &folder,
        &[
            "labels",
            "set",
            "manifest.csv",
            "p0",
            "colour",
            "Blue",
            "--author",
            "ann",
        ],
    ));
    let store = folder.join("manifest.labels.sqlite");
    // The catalogue changed since: a writable open would record its new product list.
    let manifest = folder.join("manifest.csv");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("p9,Nine,,Men,Red,Apparel,Topwear,Tshirts\n");
    std::fs::write(&manifest, text).unwrap();
    let before = std::fs::read(&store).unwrap();
    let files = names(&folder);
    let _locked = Locked(vec![store.clone(), folder.clone()]);
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let log = succeeds(vitrine_in(&folder, &["labels", "log", "manifest.csv"]));
    assert!(log.contains("Red -> Blue (ann, human)"), "{log}");
    let history = succeeds(vitrine_in(
        &folder,
        &["labels", "history", "manifest.csv", "p0"],
    ));
    assert!(history.contains("colour       Blue"), "{history}");
    succeeds(vitrine_in(
        &folder,
        &["labels", "export", "manifest.csv", "--out", "../copy.csv"],
    ));
    // The library's read-only open, whoever runs it (root ignores permission bits).
    let ws = open_workspace_read_only(
        &folder.join("manifest.csv"),
        &ImportOptions::default(),
        None,
    )
    .unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Blue"));
    drop(ws);
    assert_eq!(std::fs::read(&store).unwrap(), before);
    assert_eq!(
        names(&folder),
        files,
        "nothing created in the read-only folder"
    );
}

#[cfg(unix)]
#[test]
fn a_write_protected_store_can_be_read_and_is_not_written() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    {
        let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
        ws.store
            .set(
                &mut ws.catalog,
                change("p0", Task::Colour, "Blue"),
                &human("a"),
            )
            .unwrap();
    }
    let store = dir.path().join("manifest.labels.sqlite");
    let _locked = Locked(vec![store.clone()]);
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o444)).unwrap();
    // The catalogue changed since: a writable open would record its new product list.
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("p9,Nine,,Men,Red,Apparel,Topwear,Tshirts\n");
    std::fs::write(&manifest, text).unwrap();
    let before = std::fs::read(&store).unwrap();
    let ws = open_workspace_read_only(&manifest, &ImportOptions::default(), None).unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Blue"));
    assert_eq!(ws.store_report.added, 1);
    let mut ws = ws;
    let refused = ws.store.set(
        &mut ws.catalog,
        change("p1", Task::Colour, "Green"),
        &human("a"),
    );
    assert!(
        matches!(refused, Err(StoreError::Sqlite { .. })),
        "{refused:?}"
    );
    drop(ws);
    let log = succeeds(vitrine_in(dir.path(), &["labels", "log", "manifest.csv"]));
    assert!(log.contains("Red -> Blue"), "{log}");
    assert_eq!(std::fs::read(&store).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn a_write_protected_store_in_use_is_read_with_its_writers_latest_edits() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let mut writer = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    writer
        .store
        .set(
            &mut writer.catalog,
            change("p0", Task::Colour, "Blue"),
            &human("a"),
        )
        .unwrap();
    let store = dir.path().join("manifest.labels.sqlite");
    assert!(dir.path().join("manifest.labels.sqlite-wal").exists());
    let _locked = Locked(vec![store.clone()]);
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o444)).unwrap();
    let mut reader = open_workspace_read_only(&manifest, &ImportOptions::default(), None).unwrap();
    assert_eq!(colour(&reader, "p0").as_deref(), Some("Blue"));
    // The writer holds its file open, so it goes on writing; the reader follows.
    writer
        .store
        .set(
            &mut writer.catalog,
            change("p1", Task::Colour, "Green"),
            &human("a"),
        )
        .unwrap();
    assert_eq!(reader.store.sync(&mut reader.catalog).unwrap().len(), 1);
    assert_eq!(colour(&reader, "p1").as_deref(), Some("Green"));
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

// 6. Sidecars of other files, the `--images` hint, edits files and paths under a file.

/// A catalogue in `folder` whose name comes from `title` through its sidecar, so that its
/// attribute `name` makes an export rename the name field (and write a sidecar); returns it.
fn catalogue_with_renamed_field(folder: &Path) -> PathBuf {
    std::fs::create_dir_all(folder.join("img")).unwrap();
    std::fs::write(folder.join("img/a.jpg"), b"x").unwrap();
    let manifest = folder.join("manifest.csv");
    std::fs::write(
        &manifest,
        "product_id,title,name,images,colour\np0,Shirt,an attribute,img/a.jpg,Red\n\
         p1,Dress,another,,Blue\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("manifest.vitrine.toml"),
        "[columns]\nname = \"title\"\n",
    )
    .unwrap();
    manifest
}

#[test]
fn an_export_never_replaces_a_sidecar_it_did_not_write_or_that_another_manifest_reads() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("catalogue");
    let manifest = catalogue_with_images(&folder);
    let ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let export_to = |out: &Path| export(&ws.catalog, &ws.import.source, ws.store.path(), out);

    // Another catalogue's sidecar, beside its manifest of the same stem.
    let sc = dir.path().join("sc");
    std::fs::create_dir_all(&sc).unwrap();
    std::fs::write(sc.join("b.csv"), "sku,images\ns1,\n").unwrap();
    let mapping = "[columns]\nproduct_id = \"sku\"\n";
    std::fs::write(sc.join("b.vitrine.toml"), mapping).unwrap();
    let refused = export_to(&sc.join("b.jsonl")).unwrap_err().to_string();
    assert!(
        refused.contains("b.vitrine.toml") && refused.contains("b.csv"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read_to_string(sc.join("b.vitrine.toml")).unwrap(),
        mapping
    );
    assert_eq!(
        names(&sc),
        BTreeSet::from(["b.csv".into(), "b.vitrine.toml".into()])
    );
    assert_eq!(
        import(&sc.join("b.csv"), &ImportOptions::default())
            .unwrap()
            .catalog
            .len(),
        1
    );

    // A sidecar no export wrote, with no manifest beside it.
    let lone = dir.path().join("lone");
    std::fs::create_dir_all(&lone).unwrap();
    std::fs::write(lone.join("x.vitrine.toml"), mapping).unwrap();
    let refused = export_to(&lone.join("x.csv")).unwrap_err().to_string();
    assert!(refused.contains("x.vitrine.toml"), "{refused}");
    assert_eq!(names(&lone), BTreeSet::from(["x.vitrine.toml".into()]));

    // Two exports of one stem would share one sidecar: the second is refused, the first
    // still reads as it was written, and the first may be written again.
    let j2 = dir.path().join("j2");
    let first = j2.join("exp.jsonl");
    let summary = export_to(&first).unwrap();
    assert!(summary.sidecar.is_some());
    let sidecar = std::fs::read(j2.join("exp.vitrine.toml")).unwrap();
    let refused = export_to(&j2.join("exp.csv")).unwrap_err().to_string();
    assert!(
        refused.contains("exp.vitrine.toml") && refused.contains("exp.jsonl"),
        "{refused}"
    );
    assert!(!j2.join("exp.csv").exists());
    assert_eq!(std::fs::read(j2.join("exp.vitrine.toml")).unwrap(), sidecar);
    let again = import(&first, &outside_images(&first, &folder)).unwrap();
    assert_same_products(&ws.catalog, &again.catalog, "exp.jsonl");
    export_to(&first).unwrap();
    // Upper case extensions are read with the same sidecar too.
    std::fs::rename(&first, j2.join("exp.JSONL")).unwrap();
    let refused = export_to(&j2.join("exp.csv")).unwrap_err().to_string();
    assert!(refused.contains("exp.JSONL"), "{refused}");
}

#[test]
fn the_images_hint_is_printed_only_when_needed_and_names_the_absolute_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("catalogue");
    catalogue_with_renamed_field(&folder);
    // Into the image folder: the sidecar only renames columns.
    let out = succeeds(vitrine_in(
        &folder,
        &["labels", "export", "manifest.csv", "--out", "exp.csv"],
    ));
    assert!(!out.contains("--images"), "{out}");
    assert!(
        !std::fs::read_to_string(folder.join("exp.vitrine.toml"))
            .unwrap()
            .contains("image_root =")
    );
    // Into a folder above the images: the sidecar's image_root lies inside it.
    let out = succeeds(vitrine_in(
        &folder,
        &["labels", "export", "manifest.csv", "--out", "../above.csv"],
    ));
    assert!(!out.contains("--images"), "{out}");
    import(&dir.path().join("above.csv"), &ImportOptions::default()).unwrap();
    // Into a folder beside the images, the catalogue opened by its bare file name.
    let out = succeeds(vitrine_in(
        &folder,
        &["labels", "export", "manifest.csv", "--out", "sub/exp.csv"],
    ));
    let images = std::fs::canonicalize(&folder).unwrap();
    assert!(
        out.contains(&format!("--images {}", images.display())),
        "{out}"
    );
}

/// Runs `vitrine labels apply CATALOGUE --edits EDITS` in `dir`, failing the test if it runs
/// longer than ten seconds.
fn apply_within_seconds(dir: &Path, edits: &Path) -> Output {
    let mut child = common::vitrine()
        .current_dir(dir)
        .args(["labels", "apply", "manifest.csv", "--edits"])
        .arg(edits)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(10) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("apply --edits {} did not finish", edits.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn an_edits_file_with_an_unbalanced_quote_is_refused_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 4);
    let edits = dir.path().join("e.csv");
    std::fs::write(
        &edits,
        "product_id,task,value,reason\np1,colour,Black,fine\np2,colour,Black,\"unclosed\n\
         p3,colour,Black,r3\np0,colour,Black,r0\n",
    )
    .unwrap();
    let before = names(dir.path());
    let output = apply_within_seconds(dir.path(), &edits);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(
        message.contains("e.csv:3") && message.contains("quote"),
        "{message}"
    );
    // Checked before anything is written: not even a store was made.
    assert_eq!(names(dir.path()), before);
}

#[test]
fn apply_reads_only_a_regular_non_empty_edits_file_of_a_sane_size() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 4);
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let fifo = dir.path().join("fifo.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(257 << 20)
        .unwrap();
    for (edits, expected) in [
        (PathBuf::from("/dev/zero"), "not a regular file"),
        (fifo.clone(), "not a regular file"),
        (dir.path().to_path_buf(), "not a regular file"),
        (empty, "empty"),
        (huge.clone(), "256 MiB"),
    ] {
        let output = apply_within_seconds(dir.path(), &edits);
        let message = stderr(&output);
        assert!(!output.status.success(), "{}: {message}", edits.display());
        assert!(
            message.contains(&edits.display().to_string()) && message.contains(expected),
            "{}: {message}",
            edits.display()
        );
    }
}

/// `text` as UTF-16 (little endian, with a byte order mark) or UTF-32 (the same).
fn encoded(text: &str, utf32: bool) -> Vec<u8> {
    if utf32 {
        std::iter::once('\u{feff}')
            .chain(text.chars())
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect()
    } else {
        std::iter::once(0xFEFF)
            .chain(text.encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect()
    }
}

#[test]
fn utf16_and_utf32_edits_files_and_catalogues_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 4);
    let edits = dir.path().join("e16.csv");
    std::fs::write(
        &edits,
        encoded("product_id,task,value\np1,colour,Black\n", false),
    )
    .unwrap();
    let output = apply_within_seconds(dir.path(), &edits);
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(
        message.contains("e16.csv is UTF-16 encoded; save it as UTF-8"),
        "{message}"
    );
    let catalogue = dir.path().join("utf32.csv");
    std::fs::write(&catalogue, encoded("product_id,images\np1,\n", true)).unwrap();
    let message = import(&catalogue, &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("utf32.csv is UTF-32 encoded; save it as UTF-8"),
        "{message}"
    );
}

#[test]
fn log_limit_is_one_or_more_and_any_larger_number_shows_everything() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 4);
    succeeds(vitrine_in(
        dir.path(),
        &["labels", "set", "manifest.csv", "p1", "colour", "Red"],
    ));
    let zero = vitrine_in(
        dir.path(),
        &["labels", "log", "manifest.csv", "--limit", "0"],
    );
    assert!(!zero.status.success());
    assert!(stderr(&zero).contains("--limit"), "{}", stderr(&zero));
    for limit in ["1", "18446744073709551615"] {
        let log = succeeds(vitrine_in(
            dir.path(),
            &["labels", "log", "manifest.csv", "--limit", limit],
        ));
        assert_eq!(log.lines().count(), 1, "--limit {limit}: {log}");
    }
}

#[test]
fn a_path_under_a_regular_file_names_the_part_that_is_not_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    common::small_catalogue(dir.path(), 4);
    std::fs::write(dir.path().join("afile"), b"a file").unwrap();
    for args in [
        &[
            "labels",
            "set",
            "manifest.csv",
            "p1",
            "colour",
            "Red",
            "--store",
            "afile/s.sqlite",
        ][..],
        &[
            "labels",
            "export",
            "manifest.csv",
            "--out",
            "afile/sub/x.csv",
        ],
    ] {
        let output = vitrine_in(dir.path(), args);
        let message = stderr(&output);
        assert!(!output.status.success());
        assert!(
            message.contains("afile is not a folder") && !message.contains("os error"),
            "{args:?}: {message}"
        );
    }
}
