//! The map: `vitrine map` lays out a run's representation in 2-D, keeps clusters together,
//! writes its JSON atomically, and refuses a map it cannot draw with a clear message.

mod common;

use vitrine::runs::embeddings::Embeddings;

/// `n` products in `groups` tight clusters (product i in cluster `i % groups`).
fn clustered(n: usize, groups: usize, dim: usize) -> Embeddings {
    common::clustered_embeddings(n, groups, dim, 5, |_| 0.1)
}

#[test]
fn map_lays_out_every_product_and_keeps_clusters_apart() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 120);
    let run = common::run_with_embeddings(dir.path(), &catalogue, &clustered(120, 3, 16));
    let out_file = dir.path().join("map.json");
    let mut command = common::vitrine();
    command
        .arg("map")
        .arg(&run)
        .args(["--epochs", "500", "--json", "--out"])
        .arg(&out_file);
    let out: serde_json::Value = serde_json::from_slice(&common::stdout_of(command)).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(out, written);
    let points = out["points"].as_array().unwrap();
    assert_eq!(points.len(), 120);
    assert_eq!(out["perplexity"], 30.0);
    let xy: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap()))
        .collect();
    // Every cluster's centre on the map is farther from the other centres than its points
    // are from it.
    let centre = |g: usize| {
        let members: Vec<_> = (g..120).step_by(3).map(|i| xy[i]).collect();
        let k = members.len() as f64;
        let c = (
            members.iter().map(|p| p.0).sum::<f64>() / k,
            members.iter().map(|p| p.1).sum::<f64>() / k,
        );
        let spread = members
            .iter()
            .map(|p| ((p.0 - c.0).powi(2) + (p.1 - c.1).powi(2)).sqrt())
            .fold(0.0, f64::max);
        (c, spread)
    };
    let centres: Vec<_> = (0..3).map(centre).collect();
    for a in 0..3 {
        for b in 0..3 {
            if a != b {
                let (ca, sa) = centres[a];
                let (cb, _) = centres[b];
                let gap = ((ca.0 - cb.0).powi(2) + (ca.1 - cb.1).powi(2)).sqrt();
                assert!(gap > sa, "clusters {a} and {b}: gap {gap}, spread {sa}");
            }
        }
    }
}

#[test]
fn map_refuses_too_few_products_and_a_bad_perplexity_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 3);
    let run = common::run_with_embeddings(dir.path(), &catalogue, &clustered(3, 1, 8));
    let mut command = common::vitrine();
    command.arg("map").arg(&run);
    let err = common::stderr_of_failure(command);
    assert!(
        err.contains("3 products: a map needs at least 4 products"),
        "{err}"
    );
    let mut command = common::vitrine();
    command.arg("map").arg(&run).args(["--perplexity", "0"]);
    let err = common::stderr_of_failure(command);
    assert!(err.contains("--perplexity 0"), "{err}");
    let mut command = common::vitrine();
    command.arg("map").arg(dir.path().join("nowhere"));
    let err = common::stderr_of_failure(command);
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn a_map_is_saved_in_the_run_folder_and_read_back_until_asked_afresh() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = common::small_catalogue(dir.path(), 40);
    let run = common::run_with_embeddings(dir.path(), &catalogue, &clustered(40, 2, 8));
    let summary = |extra: &[&str]| {
        let mut command = common::vitrine();
        command
            .arg("map")
            .arg(&run)
            .args(["--epochs", "250"])
            .args(extra);
        String::from_utf8(common::stdout_of(command)).unwrap()
    };
    let first = summary(&[]);
    assert!(first.contains("saved as"), "{first}");
    assert!(run.join("map.json").is_file());
    let again = summary(&[]);
    assert!(again.contains("read from"), "{again}");
    // Other settings, or --fresh, lay it out again.
    assert!(summary(&["--seed", "4"]).contains("saved as"));
    assert!(summary(&["--seed", "4", "--fresh"]).contains("saved as"));
    // The picture is coloured by the labels the run read: without its predictions, a message.
    let mut command = common::vitrine();
    command
        .arg("map")
        .arg(&run)
        .arg("--png")
        .arg(dir.path().join("map.png"));
    let err = common::stderr_of_failure(command);
    assert!(err.contains("predictions.jsonl"), "{err}");
}
