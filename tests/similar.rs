//! Similar products: `vitrine similar` on a run's representations, exact search against the
//! naive reference, the index against exact search (recall), and its files kept fresh.

mod common;

use std::path::{Path, PathBuf};
use vitrine::runs::embeddings::Embeddings;
use vitrine::runs::{RunConfig, RunFolder};
use vitrine::similarity::index::Index;
use vitrine::similarity::{EXACT_UP_TO, Searcher, Vectors, locate, nearest};

fn run_with(dir: &Path, catalogue: &Path, embeddings: &Embeddings) -> PathBuf {
    common::run_with_embeddings(dir, catalogue, embeddings)
}

/// `n` products in `groups` clusters: product i sits near centre `i % groups`, product 0
/// nearest of all to product `groups` (the same centre, almost no noise).
fn clustered(n: usize, groups: usize, dim: usize, seed: u64) -> Embeddings {
    common::clustered_embeddings(n, groups, dim, seed, |i| {
        if i == 0 || i == groups { 0.01 } else { 0.5 }
    })
}

#[test]
fn similar_lists_the_nearest_products_with_their_labels_and_marks_those_that_differ() {
    let dir = tempfile::tempdir().unwrap();
    // Colours cycle over 4 (small_catalogue), clusters over 5: p0 (Red) is nearest to p5
    // (Blue), then to p10, p15, ... of its own cluster.
    let catalogue = common::small_catalogue(dir.path(), 40);
    let run = run_with(dir.path(), &catalogue, &clustered(40, 5, 16, 1));
    let mut command = common::vitrine();
    command
        .args(["similar"])
        .arg(&run)
        .args(["p0", "--k", "3", "--json"]);
    let out: serde_json::Value = serde_json::from_slice(&common::stdout_of(command)).unwrap();
    let neighbours = out["neighbours"].as_array().unwrap();
    assert_eq!(neighbours.len(), 3);
    assert_eq!(neighbours[0]["product_id"], "p5");
    assert_eq!(neighbours[0]["labels"]["colour"], "Blue");
    assert_eq!(
        neighbours[0]["labels_differ"],
        serde_json::json!(["colour"])
    );
    let similarities: Vec<f64> = neighbours
        .iter()
        .map(|n| n["similarity"].as_f64().unwrap())
        .collect();
    assert!(
        similarities.windows(2).all(|w| w[0] >= w[1]),
        "{similarities:?}"
    );
    for n in neighbours {
        let id = n["product_id"].as_str().unwrap();
        let i: usize = id[1..].parse().unwrap();
        assert_eq!(i % 5, 0, "{id} is not in p0's cluster");
    }
    assert_eq!(out["search"], "exact search");
    assert_eq!(out["products"], 40);

    // The table says the same, marking the differing label.
    let mut command = common::vitrine();
    command.args(["similar"]).arg(&run).args(["p0", "--k", "2"]);
    let text = String::from_utf8(common::stdout_of(command)).unwrap();
    assert!(
        text.contains("p5") && text.contains("Blue (differs)"),
        "{text}"
    );
}

#[test]
fn similar_refuses_bad_input_with_the_file_or_product_named() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 8);
    let mut embeddings = clustered(8, 2, 4, 2);
    let run = run_with(dir.path(), &catalogue, &embeddings);
    let fails = |args: &[&str], run: &Path| {
        let mut command = common::vitrine();
        command.arg("similar").arg(run).args(args);
        common::stderr_of_failure(command)
    };
    let err = fails(&["nope"], &run);
    assert!(err.contains("product nope has no representation"), "{err}");
    let err = fails(&["p0", "--k", "0"], &run);
    assert!(err.contains("--k"), "{err}");
    let err = fails(&["p0"], dir.path());
    assert!(err.contains("not a run or audit folder"), "{err}");

    // A row that is not a number names its product and line.
    embeddings.values[4 * 3 + 1] = f32::NAN;
    embeddings.write(&run).unwrap();
    let err = fails(&["p0"], &run);
    assert!(
        err.contains("embeddings.f32") && err.contains("product p3"),
        "{err}"
    );

    // A truncated file names itself.
    let f32_file = run.join("embeddings.f32");
    let bytes = std::fs::read(&f32_file).unwrap();
    std::fs::write(&f32_file, &bytes[..bytes.len() - 3]).unwrap();
    let err = fails(&["p0"], &run);
    assert!(
        err.contains("embeddings.f32") && err.contains("bytes, expected"),
        "{err}"
    );

    // A run without representations says what writes them.
    let bare = dir.path().join("bare");
    RunFolder::create(&bare, &RunConfig::default()).unwrap();
    let err = fails(&["p0"], &bare);
    assert!(err.contains("vitrine predict"), "{err}");
}

#[test]
fn the_index_finds_what_exact_search_finds_and_is_rebuilt_when_stale_or_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let n = EXACT_UP_TO + 500;
    let embeddings = clustered(n, 300, 32, 3);
    embeddings.write(dir.path()).unwrap();
    let source = locate(dir.path()).unwrap();
    let mut notes = Vec::new();
    let searcher = Searcher::open(&source, &mut |n| notes.push(n)).unwrap();
    assert!(
        searcher.method().contains("approximate index"),
        "{}",
        searcher.method()
    );
    assert!(notes.iter().any(|n| n.contains("built")), "{notes:?}");
    assert!(dir.path().join(Index::FILE).is_file());

    // Recall@10 against exact search.
    let vectors = Vectors::read(dir.path()).unwrap();
    let queries: Vec<usize> = (0..200).map(|i| i * 97 % n).collect();
    let mut hits = 0;
    for &q in &queries {
        let exact: Vec<usize> = nearest(&vectors, vectors.row(q), 10, Some(q))
            .iter()
            .map(|n| n.row)
            .collect();
        hits += searcher
            .neighbours(q, 10)
            .iter()
            .filter(|n| exact.contains(&n.row))
            .count();
    }
    let recall = hits as f64 / (10 * queries.len()) as f64;
    assert!(recall >= 0.95, "recall@10 {recall}");

    // Opened again: the saved index is used, nothing rebuilt.
    notes.clear();
    Searcher::open(&source, &mut |n| notes.push(n)).unwrap();
    assert!(notes.is_empty(), "{notes:?}");

    // A damaged index file is rebuilt, not trusted.
    let index_file = dir.path().join(Index::FILE);
    let mut bytes = std::fs::read(&index_file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&index_file, &bytes).unwrap();
    notes.clear();
    Searcher::open(&source, &mut |n| notes.push(n)).unwrap();
    assert!(notes.iter().any(|n| n.contains("damaged")), "{notes:?}");

    // New representations (another run's predict): the index is stale and rebuilt.
    std::thread::sleep(std::time::Duration::from_millis(20));
    clustered(n, 300, 32, 4).write(dir.path()).unwrap();
    notes.clear();
    let searcher = Searcher::open(&source, &mut |n| notes.push(n)).unwrap();
    assert!(notes.iter().any(|n| n.contains("changed")), "{notes:?}");
    assert_eq!(searcher.vectors().len(), n);
}
