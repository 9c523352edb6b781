//! How well an audit finds known wrong labels: the demo catalogue plants some and lists them in
//! `answers.csv`, so the review queue can be scored per task (precision and recall of the
//! products it raises, precision of its first k, and how often its suggestion is the truth).
//!
//! Pure: no egui, no burn.

use super::report::AuditReport;
use crate::catalog::demo::WrongLabel;
use crate::catalog::{Catalog, Task};
use serde::Serialize;
use std::collections::HashSet;

/// The queue of one task scored against the planted wrong labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskQuality {
    /// The task.
    pub task: Task,
    /// Planted wrong labels of audited products.
    pub planted: usize,
    /// Products in the queue.
    pub raised: usize,
    /// Queue products whose label is a planted wrong one.
    pub found: usize,
    /// Of those, how many the queue suggests the true class for.
    pub suggested_truth: usize,
    /// `found / raised` (`None` for an empty queue).
    pub precision: Option<f64>,
    /// `found / planted` (`None` when nothing was planted).
    pub recall: Option<f64>,
    /// `(k, share of the first k queue products with a planted wrong label)`.
    pub precision_at: Vec<(usize, f64)>,
}

/// Scores each task of `report` against `answers`, with precision at each of `ks`.
pub fn score(
    report: &AuditReport,
    catalog: &Catalog,
    answers: &[WrongLabel],
    ks: &[usize],
) -> Vec<TaskQuality> {
    report
        .tasks
        .iter()
        .map(|task| {
            let audited: HashSet<usize> = task.positions.iter().copied().collect();
            let planted: Vec<(usize, &WrongLabel)> = answers
                .iter()
                .filter(|a| a.task == task.task)
                .filter_map(|a| catalog.position(&a.product_id).map(|p| (p, a)))
                .filter(|(p, _)| audited.contains(p))
                .collect();
            let wrong = |position: usize| planted.iter().find(|(p, _)| *p == position);
            let hits: Vec<bool> = task
                .queue
                .iter()
                .map(|s| wrong(task.positions[s.row]).is_some())
                .collect();
            let found = hits.iter().filter(|&&h| h).count();
            let suggested_truth = task
                .queue
                .iter()
                .filter(|s| {
                    wrong(task.positions[s.row])
                        .is_some_and(|(_, a)| task.classes[s.suggestion()] == a.truth)
                })
                .count();
            let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
            TaskQuality {
                task: task.task,
                planted: planted.len(),
                raised: hits.len(),
                found,
                suggested_truth,
                precision: ratio(found, hits.len()),
                recall: ratio(found, planted.len()),
                precision_at: ks
                    .iter()
                    .map(|&k| {
                        let first = &hits[..k.min(hits.len())];
                        (
                            k,
                            first.iter().filter(|&&h| h).count() as f64 / k.max(1) as f64,
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}
