//! Durability: an acknowledged edit survives `kill -9` of the writing process mid-burst, and
//! two processes writing one store at once lose nothing.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use vitrine::catalog::Task;
use vitrine::catalog::import::ImportOptions;
use vitrine::labels::{Edit, open_workspace};

fn edits_file(
    dir: &std::path::Path,
    name: &str,
    products: std::ops::Range<usize>,
    value: &str,
) -> std::path::PathBuf {
    let mut text = String::from("product_id,task,value,reason\n");
    for i in products {
        text.push_str(&format!("p{i},colour,{value},burst {i}\n"));
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn parse(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn acknowledged_edits_survive_kill_9_mid_burst() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 5000);
    let edits = edits_file(dir.path(), "edits.csv", 0..5000, "Yellow");
    let mut child = common::vitrine()
        .args([
            "labels",
            "apply",
            "--json",
            "--new-class",
            "--author",
            "burst",
            "--edits",
        ])
        .arg(&edits)
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acknowledged: Vec<serde_json::Value> = Vec::new();
    while acknowledged.len() < 200 {
        let line = lines.next().expect("the writer stopped early").unwrap();
        acknowledged.push(parse(&line));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed mid-burst, not finished");

    let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let journal = ws.store.journal(0).unwrap();
    assert!(journal.len() >= acknowledged.len());
    assert!(journal.len() < 5000, "killed before the end");
    for (ack, edit) in acknowledged.iter().zip(&journal) {
        assert_eq!(ack["id"], edit.id);
        assert_eq!(ack["product"], edit.product.as_str());
        assert_eq!(edit.new.as_deref(), Some("Yellow"));
    }
    for edit in &journal {
        let p = ws.catalog.product(&edit.product).unwrap();
        assert_eq!(ws.catalog.label_name(p, Task::Colour), Some("Yellow"));
    }
    // The store is healthy and takes new edits.
    let conn = rusqlite::Connection::open(ws.store.path()).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let undone: Vec<Edit> = ws.store.undo(&mut ws.catalog, "burst").unwrap();
    assert_eq!(undone.len(), 1);
}

#[test]
fn two_processes_writing_one_store_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = common::small_catalogue(dir.path(), 600);
    // Create the store first so both writers open an existing one.
    drop(open_workspace(&manifest, &ImportOptions::default(), None).unwrap());
    let first = edits_file(dir.path(), "a.csv", 0..300, "Blue");
    let second = edits_file(dir.path(), "b.csv", 300..600, "Green");
    let spawn = |file: &std::path::Path, author: &str| {
        common::vitrine()
            .args(["labels", "apply", "--json", "--author", author, "--edits"])
            .arg(file)
            .arg(&manifest)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn(&first, "a");
    let b = spawn(&second, "b");
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let mut ws = open_workspace(&manifest, &ImportOptions::default(), None).unwrap();
    let journal = ws.store.journal(0).unwrap();
    // Products already labelled with the target colour are unchanged, not journalled.
    let expected =
        (0..300).filter(|i| i % 4 != 1).count() + (300..600).filter(|i| i % 4 != 2).count();
    assert_eq!(journal.len(), expected);
    for i in 0..600 {
        let p = ws.catalog.product(&format!("p{i}")).unwrap();
        let want = if i < 300 { "Blue" } else { "Green" };
        assert_eq!(ws.catalog.label_name(p, Task::Colour), Some(want), "p{i}");
    }
}
