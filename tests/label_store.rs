//! The label store: edits, undo/redo, batches, history, several writers, reopening, export.

mod common;

use common::postgres::Engine;
use common::{change, colour, human};

use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportOptions, import};
use vitrine::labels::{Attribution, Change, EditSource, StoreError, export, open_workspace};

#[test]
fn set_undo_redo_and_history() {
    for engine in Engine::all() {
        set_undo_redo_and_history_on(&engine);
    }
}

fn set_undo_redo_and_history_on(engine: &Engine) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 10);
    let store = engine.store("ann");
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), store.as_deref()).unwrap();
    assert!(ws.store_report.created, "{}", engine.name());
    if store.is_none() {
        assert_eq!(ws.store.path(), dir.path().join("manifest.labels.sqlite"));
    }
    let edit = ws
        .store
        .set(
            &mut ws.catalog,
            change("p0", Task::Colour, "Purple"),
            &human("ann"),
        )
        .unwrap()
        .unwrap();
    assert_eq!(edit.old.as_deref(), Some("Red"));
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Purple"));
    // Setting the same value again changes nothing.
    let same = ws.store.set(
        &mut ws.catalog,
        change("p0", Task::Colour, "Purple"),
        &human("ann"),
    );
    assert_eq!(same.unwrap(), None);
    ws.store
        .set(
            &mut ws.catalog,
            change("p0", Task::Colour, "Pink"),
            &human("ann"),
        )
        .unwrap();
    let undone = ws.store.undo(&mut ws.catalog, "ann").unwrap();
    assert_eq!(undone.len(), 1);
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Purple"));
    ws.store.undo(&mut ws.catalog, "ann").unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Red"));
    assert!(
        ws.store.undo(&mut ws.catalog, "ann").unwrap().is_empty(),
        "nothing left"
    );
    ws.store.redo(&mut ws.catalog, "ann").unwrap();
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Purple"));
    // A new edit clears the redo history.
    ws.store
        .set(
            &mut ws.catalog,
            change("p1", Task::Colour, "Red"),
            &human("ann"),
        )
        .unwrap();
    assert!(ws.store.redo(&mut ws.catalog, "ann").unwrap().is_empty());
    let history = ws.store.history("p0").unwrap();
    let sources: Vec<_> = history.iter().map(|e| e.source).collect();
    assert_eq!(
        sources,
        [
            EditSource::Human,
            EditSource::Human,
            EditSource::Undo,
            EditSource::Undo,
            EditSource::Redo
        ]
    );
    assert!(history.iter().all(|e| e.author == "ann"));

    // Reopening applies the edits onto the freshly imported labels.
    drop(ws);
    let ws = open_workspace(&manifest, &ImportOptions::default(), store.as_deref()).unwrap();
    assert!(!ws.store_report.created);
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Purple"));
    assert_eq!(colour(&ws, "p1").as_deref(), Some("Red"));
    assert_eq!(ws.store_report.overrides, 2);
}

#[test]
fn a_batch_is_undone_whole_and_clearing_is_an_edit() {
    for engine in Engine::all() {
        a_batch_is_undone_whole_and_clearing_is_an_edit_on(&engine);
    }
}

fn a_batch_is_undone_whole_and_clearing_is_an_edit_on(engine: &Engine) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 20);
    let mut ws = open_workspace(
        &manifest,
        &ImportOptions::default(),
        engine.store("bo").as_deref(),
    )
    .unwrap();
    let changes: Vec<Change> = (0..10)
        .map(|i| change(&format!("p{i}"), Task::Colour, "White"))
        .collect();
    let bulk = Attribution {
        source: EditSource::Bulk,
        ..human("bo")
    };
    let edits = ws.store.set_many(&mut ws.catalog, &changes, &bulk).unwrap();
    assert_eq!(edits.len(), 10);
    assert!(edits.iter().all(|e| e.batch == edits[0].batch));
    ws.store
        .set(
            &mut ws.catalog,
            Change {
                product: "p15".into(),
                task: Task::Gender,
                value: None,
            },
            &human("bo"),
        )
        .unwrap();
    let p15 = ws.catalog.product("p15").unwrap();
    assert_eq!(p15.label(Task::Gender), None);
    ws.store.undo(&mut ws.catalog, "bo").unwrap();
    assert!(
        ws.catalog
            .product("p15")
            .unwrap()
            .label(Task::Gender)
            .is_some()
    );
    let undone = ws.store.undo(&mut ws.catalog, "bo").unwrap();
    assert_eq!(undone.len(), 10, "the whole batch");
    assert_eq!(colour(&ws, "p4").as_deref(), Some("Red"));
    assert_eq!(
        ws.catalog
            .vocabulary(Task::Colour)
            .get("White")
            .map(|w| ws.catalog.vocabulary(Task::Colour).count(w)),
        Some(0)
    );
}

#[test]
fn unknown_products_are_refused_and_nothing_is_written() {
    for engine in Engine::all() {
        unknown_products_are_refused_and_nothing_is_written_on(&engine);
    }
}

fn unknown_products_are_refused_and_nothing_is_written_on(engine: &Engine) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 3);
    let mut ws = open_workspace(
        &manifest,
        &ImportOptions::default(),
        engine.store("a").as_deref(),
    )
    .unwrap();
    let err = ws
        .store
        .set_many(
            &mut ws.catalog,
            &[
                change("p0", Task::Colour, "Blue"),
                change("nope", Task::Colour, "Blue"),
            ],
            &human("a"),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownProduct(ref p) if p == "nope"));
    assert_eq!(ws.store.journal_len().unwrap(), 0);
    assert_eq!(colour(&ws, "p0").as_deref(), Some("Red"));
}

#[test]
fn two_writers_share_one_store_and_undo_detects_conflicts() {
    for engine in Engine::all() {
        two_writers_share_one_store_and_undo_detects_conflicts_on(&engine);
    }
}

fn two_writers_share_one_store_and_undo_detects_conflicts_on(engine: &Engine) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5);
    let mut a = open_workspace(
        &manifest,
        &ImportOptions::default(),
        engine.store("ann").as_deref(),
    )
    .unwrap();
    let mut b = open_workspace(
        &manifest,
        &ImportOptions::default(),
        engine.store("bob").as_deref(),
    )
    .unwrap();
    a.store
        .set(
            &mut a.catalog,
            change("p0", Task::Colour, "Blue"),
            &human("ann"),
        )
        .unwrap();
    // b has not seen ann's edit yet, but its edit records the true old value.
    let edit = b
        .store
        .set(
            &mut b.catalog,
            change("p0", Task::Colour, "Green"),
            &human("bob"),
        )
        .unwrap()
        .unwrap();
    assert_eq!(edit.old.as_deref(), Some("Blue"));
    let err = a.store.undo(&mut a.catalog, "ann").unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { ref by, .. } if by == "bob"),
        "{err}"
    );
    let synced = a.store.sync(&mut a.catalog).unwrap();
    assert_eq!(synced.len(), 1);
    assert_eq!(
        colour(&a, "p0").as_deref(),
        Some("Green"),
        "bob's newer label is kept"
    );
    assert!(
        a.store.undo(&mut a.catalog, "ann").unwrap().is_empty(),
        "conflicting edit left the history"
    );
}

#[test]
fn a_changed_catalogue_opens_with_a_report_and_keeps_orphaned_edits() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5);
    {
        let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
        ws.store
            .set(
                &mut ws.catalog,
                change("p4", Task::Colour, "Blue"),
                &human("a"),
            )
            .unwrap();
    }
    // p4 removed, p5 and p6 added.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("p4,")).collect();
    lines.push("p5,Five,,Men,Red,Apparel,Topwear,Tshirts");
    lines.push("p6,Six,,Men,Red,Apparel,Topwear,Tshirts");
    std::fs::write(&manifest, lines.join("\n")).unwrap();
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let r = &ws.store_report;
    assert_eq!((r.added, r.removed, r.orphaned), (2, 1, 1));
    assert_eq!(r.removed_sample, ["p4"]);
    assert_eq!(ws.store.history("p4").unwrap().len(), 1, "the edit is kept");
}

#[test]
fn a_corrupt_store_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 2);
    let store = dir.path().join("manifest.labels.sqlite");
    let garbage = b"this is not an SQLite database, but it is someone's file".repeat(100);
    std::fs::write(&store, &garbage).unwrap();
    let err = open_workspace(&manifest, &ImportOptions::default(), None).unwrap_err();
    assert!(err.to_string().contains("manifest.labels.sqlite"), "{err}");
    assert_eq!(std::fs::read(&store).unwrap(), garbage);
}

#[test]
fn export_reimports_to_identical_labels_and_images() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let source = data.join("magento-luma/manifest_colourways.csv");
    let out = tempfile::tempdir().unwrap();
    let store_path = out.path().join("store.sqlite");
    let mut ws = open_workspace(&source, &ImportOptions::default(), Some(&store_path)).unwrap();
    ws.store
        .set(
            &mut ws.catalog,
            change("MH01-Gray", Task::Colour, "Black"),
            &human("a"),
        )
        .unwrap();
    ws.store
        .set(
            &mut ws.catalog,
            Change {
                product: "MH01-Black".into(),
                task: Task::Gender,
                value: None,
            },
            &human("a"),
        )
        .unwrap();
    // Of different stems: manifests of one stem would share one sidecar.
    for name in ["corrected.csv", "corrected_lines.jsonl"] {
        let file = out.path().join(name);
        let summary = export(&ws.catalog, &ws.import.source, ws.store.path(), &file).unwrap();
        assert!(
            summary.sidecar.is_some(),
            "images are elsewhere: the sidecar names them"
        );
        // The sidecar's image folder lies outside the export's folder: a sidecar may not
        // send a catalogue there unless the command line says so (`--images`).
        let refused = import(&file, &ImportOptions::default()).unwrap_err();
        assert!(refused.to_string().contains("--images"), "{refused}");
        let images = ImportOptions {
            image_root: Some(ws.catalog.image_root.clone()),
            ..ImportOptions::default()
        };
        let again = import(&file, &images).unwrap();
        assert_eq!(
            again.report.warnings_total, 0,
            "{:#?}",
            again.report.warnings
        );
        assert_eq!(again.catalog.len(), ws.catalog.len());
        for (a, b) in ws.catalog.products().iter().zip(again.catalog.products()) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.images, b.images);
            assert_eq!(a.name, b.name);
            for task in Task::ALL {
                assert_eq!(
                    ws.catalog.label_name(a, task),
                    again.catalog.label_name(b, task),
                    "{} {task} in {name}",
                    a.id
                );
            }
            assert_eq!(
                ws.catalog.attribute(a, "style_sku"),
                again.catalog.attribute(b, "style_sku")
            );
        }
        let gray = again.catalog.product("MH01-Gray").unwrap();
        assert_eq!(again.catalog.label_name(gray, Task::Colour), Some("Black"));
    }
}

#[test]
fn store_of_a_read_only_catalogue_goes_to_the_data_directory() {
    // ../shared is read-only: the store must not be written there.
    let Some(data) = common::shared_data() else {
        return;
    };
    let source = data.join("magento-luma/manifest_colourways.csv");
    let path = vitrine::labels::location::locate(&source, None);
    assert!(!path.starts_with(data), "{}", path.display());
}

#[test]
fn a_reviewer_approves_and_reverts_others_changes() {
    for engine in Engine::all() {
        a_reviewer_approves_and_reverts_others_changes_on(&engine);
    }
}

fn a_reviewer_approves_and_reverts_others_changes_on(engine: &Engine) {
    use vitrine::labels::change_review::{QueueFilter, Verdict};
    let name = engine.name();
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 4);
    let options = ImportOptions::default();
    let mut ann = open_workspace(&manifest, &options, engine.store("rq_ann").as_deref()).unwrap();
    let mut lee =
        open_workspace(&manifest, &options, engine.reviewer("rq_lee").as_deref()).unwrap();
    let single = ann
        .store
        .set(
            &mut ann.catalog,
            change("p0", Task::Colour, "Teal"),
            &human("rq_ann"),
        )
        .unwrap()
        .unwrap();
    let bulk = ann
        .store
        .set_many(
            &mut ann.catalog,
            &[
                change("p1", Task::Colour, "Olive"),
                change("p2", Task::Gender, "Boys"),
            ],
            &Attribution {
                author: "rq_ann".into(),
                source: EditSource::Bulk,
                reason: None,
            },
        )
        .unwrap();
    let queue = lee
        .store
        .change_queue(&QueueFilter::default(), "rq_lee")
        .unwrap();
    let ids: Vec<i64> = queue.changes.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        [bulk[1].id, bulk[0].id, single.id],
        "{name}: newest first"
    );
    assert_eq!(
        (queue.total, queue.authors.as_slice()),
        (3, &["rq_ann".to_string()][..])
    );
    let only = |filter: QueueFilter, lee: &mut vitrine::labels::Workspace| {
        lee.store.change_queue(&filter, "rq_lee").unwrap().total
    };
    let bulk_only = QueueFilter {
        source: Some(EditSource::Bulk),
        ..Default::default()
    };
    assert_eq!(only(bulk_only, &mut lee), 2, "{name}");
    let gender = QueueFilter {
        task: Some(Task::Gender),
        ..Default::default()
    };
    assert_eq!(only(gender, &mut lee), 1, "{name}");
    let nobody = QueueFilter {
        author: Some("someone else".into()),
        ..Default::default()
    };
    assert_eq!(only(nobody, &mut lee), 0, "{name}");
    // The reviewer reverts the whole bulk batch through one entry: journalled, seen by ann.
    lee.store.sync(&mut lee.catalog).unwrap();
    let judged = lee
        .store
        .judge(
            &mut lee.catalog,
            &[bulk[0].id],
            true,
            "rq_lee",
            Verdict::Reverted,
        )
        .unwrap();
    assert!(judged.refused.is_empty(), "{name}: {:?}", judged.refused);
    assert_eq!(judged.reverts.len(), 2, "{name}");
    assert!(
        judged
            .reverts
            .iter()
            .all(|e| e.author == "rq_lee" && e.source == EditSource::Revert)
    );
    assert_eq!(colour(&lee, "p1"), bulk[0].old, "{name}");
    ann.store.sync(&mut ann.catalog).unwrap();
    assert_eq!(colour(&ann, "p1"), bulk[0].old, "{name}");
    // Approving the single change empties the queue; the history shows each verdict.
    let approved = lee
        .store
        .judge(
            &mut lee.catalog,
            &[single.id],
            false,
            "rq_lee",
            Verdict::Approved,
        )
        .unwrap();
    assert_eq!(approved.judgements.len(), 1);
    assert_eq!(
        lee.store
            .change_queue(&QueueFilter::default(), "rq_lee")
            .unwrap()
            .total,
        0
    );
    let verdicts = ann.store.judgements("p0").unwrap();
    assert_eq!(verdicts.len(), 1, "{name}");
    assert_eq!(
        (
            verdicts[0].edit,
            verdicts[0].verdict,
            verdicts[0].reviewer.as_str()
        ),
        (single.id, Verdict::Approved, "rq_lee")
    );
    let p1 = ann.store.judgements("p1").unwrap();
    assert_eq!(p1[0].verdict, Verdict::Reverted);
    assert!(p1[0].revert.is_some());
    // Judged once only; and never one's own change.
    let again = lee
        .store
        .judge(
            &mut lee.catalog,
            &[single.id],
            false,
            "rq_lee",
            Verdict::Reverted,
        )
        .unwrap();
    assert!(
        again.refused[0]
            .reason
            .contains("already approved by rq_lee"),
        "{name}"
    );
    let own = lee
        .store
        .judge(
            &mut lee.catalog,
            &[judged.reverts[0].id],
            false,
            "rq_lee",
            Verdict::Approved,
        )
        .unwrap();
    assert!(
        own.refused[0].reason.contains("not a change to review"),
        "{name}"
    );
}
