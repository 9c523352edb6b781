//! Confident learning against cleanlab 2.9.0: the fixtures in tests/fixtures/cleanlab were
//! written by dev/cleanlab_fixtures.py (inputs and cleanlab's outputs); the Rust code must
//! give the same confident joints (exact), thresholds and matrices (to 1e-6), and the same
//! issues in the same order for each score.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vitrine::audit::confident::{AuditInput, ClassMatrix, RankBy, TaskAudit, audit};

#[derive(Debug, Deserialize)]
struct Fixture {
    name: String,
    classes: usize,
    scale: u32,
    labels: Vec<usize>,
    pred_probs: Vec<Vec<u32>>,
    thresholds: Vec<f64>,
    confident_joint: Vec<Vec<u64>>,
    calibrated_confident_joint: Vec<Vec<i64>>,
    prior: Vec<f64>,
    noise_matrix: Vec<Vec<f64>>,
    inverse_noise_matrix: Vec<Vec<f64>>,
    joint: Vec<Vec<f64>>,
    issue_mask: Vec<bool>,
    ranked: BTreeMap<String, Vec<usize>>,
    ranked_scores: BTreeMap<String, Vec<f64>>,
}

impl Fixture {
    /// The probabilities as the script gave them to cleanlab: the f32 nearest `n / scale`.
    fn probs(&self) -> Vec<f32> {
        let scale = self.scale as f32;
        self.pred_probs
            .iter()
            .flatten()
            .map(|&n| n as f32 / scale)
            .collect()
    }

    fn labels(&self) -> Vec<Option<usize>> {
        self.labels.iter().map(|&l| Some(l)).collect()
    }
}

fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cleanlab");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let fixtures: Vec<Fixture> = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect();
    assert!(fixtures.len() >= 8, "fixtures missing in {}", dir.display());
    fixtures
}

fn assert_close(name: &str, what: &str, ours: &[f64], theirs: &[f64]) {
    assert_eq!(ours.len(), theirs.len(), "{name}: {what} length");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= 1e-6,
            "{name}: {what}[{i}] is {a}, cleanlab {b}"
        );
    }
}

fn assert_matrix<T: Copy + PartialEq + std::fmt::Debug>(
    name: &str,
    what: &str,
    ours: &ClassMatrix<T>,
    theirs: &[Vec<T>],
) {
    assert_eq!(ours.to_rows(), theirs, "{name}: {what}");
}

fn flat(rows: &[Vec<f64>]) -> Vec<f64> {
    rows.iter().flatten().copied().collect()
}

fn check(fixture: &Fixture, result: &TaskAudit, input: &AuditInput<'_, f32>) {
    let name = &fixture.name;
    assert_eq!(fixture.classes, input.classes());
    assert_close(name, "thresholds", &result.thresholds, &fixture.thresholds);
    assert_matrix(
        name,
        "confident joint",
        &result.confident_joint,
        &fixture.confident_joint,
    );
    assert_matrix(
        name,
        "calibrated confident joint",
        &result.calibrated_joint,
        &fixture.calibrated_confident_joint,
    );
    assert_close(name, "prior", &result.latent.prior, &fixture.prior);
    assert_close(
        name,
        "noise matrix",
        result.latent.noise_matrix.cells(),
        &flat(&fixture.noise_matrix),
    );
    assert_close(
        name,
        "inverse noise matrix",
        result.latent.inverse_noise_matrix.cells(),
        &flat(&fixture.inverse_noise_matrix),
    );
    assert_close(name, "joint", result.joint.cells(), &flat(&fixture.joint));
    let expected: Vec<usize> = (0..fixture.issue_mask.len())
        .filter(|&i| fixture.issue_mask[i])
        .collect();
    assert_eq!(result.issues, expected, "{name}: issues");
    for rank_by in RankBy::ALL {
        let ranked = result.ranked(input, rank_by);
        let rows: Vec<usize> = ranked.iter().map(|r| r.row).collect();
        assert_eq!(
            rows,
            fixture.ranked[rank_by.name()],
            "{name}: ranked by {rank_by}"
        );
        let scores: Vec<f64> = ranked.iter().map(|r| r.score).collect();
        assert_close(
            name,
            &format!("{rank_by} scores"),
            &scores,
            &fixture.ranked_scores[rank_by.name()],
        );
    }
}

#[test]
fn every_fixture_matches_cleanlab() {
    for fixture in fixtures() {
        let probs = fixture.probs();
        let labels = fixture.labels();
        let input = AuditInput::new(&probs, fixture.classes, &labels).unwrap();
        let result = audit(&input);
        check(&fixture, &result, &input);
    }
}

#[test]
fn f64_probabilities_give_the_same_results() {
    for fixture in fixtures() {
        let narrow = fixture.probs();
        let wide: Vec<f64> = narrow.iter().map(|&p| f64::from(p)).collect();
        let labels = fixture.labels();
        let narrow_input = AuditInput::new(&narrow, fixture.classes, &labels).unwrap();
        let wide_input = AuditInput::new(&wide, fixture.classes, &labels).unwrap();
        let narrow_result = audit(&narrow_input);
        let wide_result = audit(&wide_input);
        assert_eq!(narrow_result, wide_result, "{}", fixture.name);
        for rank_by in RankBy::ALL {
            assert_eq!(
                narrow_result.ranked(&narrow_input, rank_by),
                wide_result.ranked(&wide_input, rank_by),
                "{}",
                fixture.name
            );
        }
    }
}

/// Unlabelled products take no part: with one inserted before every third row (each sure of
/// some class), everything is as cleanlab computed on the labelled rows alone, the issues at
/// their new row numbers and never an unlabelled row.
#[test]
fn unlabelled_rows_change_nothing_but_row_numbers() {
    for fixture in fixtures() {
        let k = fixture.classes;
        let original = fixture.probs();
        let mut probs = Vec::new();
        let mut labels = Vec::new();
        let mut new_row = Vec::new();
        for (row, &label) in fixture.labels.iter().enumerate() {
            if row % 3 == 0 {
                let mut sure = vec![0.0f32; k];
                sure[row % k] = 1.0;
                probs.extend(sure);
                labels.push(None);
            }
            new_row.push(labels.len());
            probs.extend_from_slice(&original[row * k..(row + 1) * k]);
            labels.push(Some(label));
        }
        let input = AuditInput::new(&probs, k, &labels).unwrap();
        let result = audit(&input);
        let name = &fixture.name;
        assert_close(name, "thresholds", &result.thresholds, &fixture.thresholds);
        assert_matrix(
            name,
            "calibrated confident joint",
            &result.calibrated_joint,
            &fixture.calibrated_confident_joint,
        );
        for rank_by in RankBy::ALL {
            let rows: Vec<usize> = result
                .ranked(&input, rank_by)
                .iter()
                .map(|r| r.row)
                .collect();
            let expected: Vec<usize> = fixture.ranked[rank_by.name()]
                .iter()
                .map(|&row| new_row[row])
                .collect();
            assert_eq!(rows, expected, "{name}: ranked by {rank_by}");
            assert!(rows.iter().all(|&row| labels[row].is_some()));
        }
    }
}
