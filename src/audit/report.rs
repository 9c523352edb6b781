//! The audit of a catalogue's current labels against a model's probabilities: per task, the
//! confident-learning result, the witnesses and the review queue, with the figures a
//! moderator needs to trust it (how the probabilities were made, the model's accuracy on
//! them, how many issues and why).
//!
//! Labels are the catalogue's as they are now (a label fixed since the model ran is audited as
//! fixed), mapped to the head's classes by the one rule of
//! [`HeadClasses::class_of`](crate::runs::classes::HeadClasses::class_of): a label the head
//! folded into `other` is audited as `other`, a product without a label takes no part. A
//! product whose standing review keeps its label is left out of the queue (counted in
//! `kept`).
//!
//! Pure: no egui, no burn.

use super::combine::{Suspect, review_queue};
use super::confident::{AuditError, AuditInput, RankBy, TaskAudit, audit};
use super::duplicate::{DuplicateGroup, witnesses};
use super::text::{TextMatcher, TextWitness};
use crate::catalog::{Catalog, Task};
use crate::runs::audit::AuditFolder;
use crate::runs::classes::{HeadClasses, OTHER};
use crate::runs::probabilities::Probabilities;
use crate::runs::provenance::Provenance;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Most noise-matrix cells a summary lists per task.
pub const SUMMARY_CELLS: usize = 10;

/// The audit could not be computed or saved.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The probabilities could not be read or written.
    #[error(transparent)]
    Probabilities(#[from] crate::runs::probabilities::ProbabilitiesError),
    /// A task's probabilities are not an auditable matrix.
    #[error("{}: task {task}: {reason}", path.display())]
    Task {
        /// The probabilities file.
        path: PathBuf,
        /// The task.
        task: Task,
        /// Why.
        reason: AuditError,
    },
    /// No line of the file is a product of the catalogue.
    #[error(
        "{}: none of its {lines} products is in the catalogue (first: '{first}'); were the \
         probabilities made from another catalogue?",
        path.display()
    )]
    OtherCatalogue {
        /// The probabilities file.
        path: PathBuf,
        /// Its lines.
        lines: usize,
        /// Its first product id.
        first: String,
    },
    /// The summary could not be written or read.
    #[error("{}: {reason}", path.display())]
    Summary {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// One task's audit.
#[derive(Debug, Clone)]
pub struct TaskReport {
    /// The task.
    pub task: Task,
    /// The head's classes.
    pub classes: Vec<String>,
    /// Catalogue position of each audited row.
    pub positions: Vec<usize>,
    /// The line of each row in the probabilities file.
    pub lines: Vec<u32>,
    /// The given class of each row (`None`: no label).
    pub labels: Vec<Option<usize>>,
    /// Confident learning's result (rows as above).
    pub audit: TaskAudit,
    /// The review queue, best first (rows as above), reviewed products left out.
    pub queue: Vec<Suspect>,
    /// Products flagged or text-witnessed whose label a standing review keeps.
    pub kept: usize,
    /// Share of labelled rows whose most probable class is their label.
    pub accuracy: Option<f64>,
}

impl TaskReport {
    /// Labelled rows.
    pub fn labelled(&self) -> usize {
        self.labels.iter().flatten().count()
    }

    /// The estimated number of wrong labels in all (calibrated joint, off the diagonal).
    pub fn estimated_errors(&self) -> i64 {
        self.audit.estimated_errors().iter().sum()
    }

    /// The off-diagonal cells of the calibrated confident joint (given, suggested, products),
    /// largest first.
    pub fn noise_cells(&self) -> Vec<(usize, usize, i64)> {
        let joint = &self.audit.calibrated_joint;
        let mut cells: Vec<(usize, usize, i64)> = (0..joint.classes())
            .flat_map(|i| (0..joint.classes()).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j)
            .map(|(i, j)| (i, j, joint.row(i)[j]))
            .filter(|&(_, _, n)| n > 0)
            .collect();
        cells.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        cells
    }
}

/// The audit of every task the probabilities have.
#[derive(Debug, Clone)]
pub struct AuditReport {
    /// Where the probabilities come from: out-of-fold for an audit; in-sample when any line
    /// is (its ranking is then biased), else held-out.
    pub provenance: Option<Provenance>,
    /// Per task with a head.
    pub tasks: Vec<TaskReport>,
    /// Lines of the file naming no product of the catalogue (left out).
    pub unknown: usize,
    /// Products of the catalogue with a photo but no line (not audited).
    pub unpredicted: usize,
    /// How the queue is ranked.
    pub rank_by: RankBy,
}

impl AuditReport {
    /// The report of `task`, if the probabilities have it.
    pub fn task(&self, task: Task) -> Option<&TaskReport> {
        self.tasks.iter().find(|t| t.task == task)
    }
}

/// The texts of a product the text witness reads: its name, then its attribute values.
pub fn product_texts(product: &crate::catalog::Product) -> Vec<&str> {
    std::iter::once(&*product.name)
        .chain(product.attributes.iter().map(|(_, v)| &**v))
        .filter(|t| !t.is_empty())
        .collect()
}

/// Audits `catalog`'s current labels against `probabilities`; `kept(position, task)` says
/// whether a standing review keeps the product's label for that task.
pub fn build(
    probabilities: &Probabilities,
    catalog: &Catalog,
    rank_by: RankBy,
    kept: &dyn Fn(usize, Task) -> bool,
    duplicates: &[DuplicateGroup],
) -> Result<AuditReport, ReportError> {
    let path = probabilities.path.clone().unwrap_or_default();
    let positions: Vec<Option<usize>> = (0..probabilities.len() as u32)
        .map(|row| {
            probabilities
                .product_id(row)
                .and_then(|id| catalog.position(id))
        })
        .collect();
    let unknown = positions.iter().filter(|p| p.is_none()).count();
    if !positions.is_empty() && unknown == positions.len() {
        return Err(ReportError::OtherCatalogue {
            path,
            lines: positions.len(),
            first: probabilities.product_id(0).unwrap_or("").to_string(),
        });
    }
    let mut predicted = vec![false; catalog.len()];
    for &p in positions.iter().flatten() {
        predicted[p] = true;
    }
    let unpredicted = catalog
        .products()
        .iter()
        .zip(&predicted)
        .filter(|(p, seen)| !**seen && !p.images.is_empty())
        .count();
    let mut provenance = None;
    for (row, p) in positions.iter().enumerate() {
        if p.is_none() {
            continue;
        }
        match probabilities.provenance_at(row as u32) {
            Some(Provenance::InSample) => {
                provenance = Some(Provenance::InSample);
                break;
            }
            Some(found) if provenance.is_none() || found == Provenance::HeldOut => {
                provenance = Some(found)
            }
            _ => {}
        }
    }
    let mut tasks = Vec::new();
    for task in Task::ALL {
        if !probabilities.has_task(task) {
            continue;
        }
        let classes = probabilities.classes(task).to_vec();
        let head = HeadClasses::new(&classes);
        let rows = probabilities.task_rows(task);
        let mut values = Vec::with_capacity(rows.values.len());
        let mut lines = Vec::new();
        let mut at = Vec::new();
        let mut labels = Vec::new();
        for i in 0..rows.len() {
            let line = rows.rows[i];
            let Some(position) = positions[line as usize] else {
                continue;
            };
            let product = &catalog.products()[position];
            values.extend_from_slice(rows.row(i));
            lines.push(line);
            at.push(position);
            labels.push(
                catalog
                    .label_name(product, task)
                    .and_then(|name| head.class_of(name))
                    .map(|c| c as usize),
            );
        }
        let fail = |reason| ReportError::Task {
            path: path.clone(),
            task,
            reason,
        };
        let input = match AuditInput::new(&values, classes.len(), &labels) {
            Ok(input) => input,
            // A task nobody labelled has nothing to audit: no report, no failure.
            Err(AuditError::NoLabels) => continue,
            Err(reason) => return Err(fail(reason)),
        };
        let result = audit(&input);
        let text_names: Vec<String> = classes
            .iter()
            .map(|c| if c == OTHER { String::new() } else { c.clone() })
            .collect();
        let matcher = TextMatcher::new(&text_names);
        let texts: Vec<Option<TextWitness>> = at
            .iter()
            .zip(&labels)
            .map(|(&position, &label)| {
                label.and_then(|label| {
                    let product = &catalog.products()[position];
                    matcher.witness(&product_texts(product), Some(label))
                })
            })
            .collect();
        let row_of: std::collections::HashMap<usize, usize> =
            at.iter().enumerate().map(|(row, &p)| (p, row)).collect();
        let groups: Vec<(Vec<Option<usize>>, bool)> = duplicates
            .iter()
            .map(|g| {
                let rows = g
                    .members
                    .iter()
                    .map(|&p| row_of.get(&(p as usize)).copied())
                    .collect();
                (rows, g.copy)
            })
            .collect();
        let copies = witnesses(&groups, &labels);
        let mut queue = review_queue(&input, &result, &texts, &copies, rank_by);
        let before = queue.len();
        queue.retain(|s| !kept(at[s.row], task));
        let labelled = input.labelled();
        let right = (0..input.rows())
            .filter(|&row| labels[row].is_some_and(|l| input.most_probable(row) == l))
            .count();
        tasks.push(TaskReport {
            task,
            classes,
            positions: at,
            lines,
            labels,
            kept: before - queue.len(),
            queue,
            accuracy: (labelled > 0).then(|| right as f64 / labelled as f64),
            audit: result,
        });
    }
    Ok(AuditReport {
        provenance,
        tasks,
        unknown,
        unpredicted,
        rank_by,
    })
}

/// The summary of the audit in `folder` against `catalog`'s current labels (reviews aside).
pub fn summarise(folder: &AuditFolder, catalog: &Catalog) -> Result<AuditSummary, ReportError> {
    let probabilities = Probabilities::read(&folder.probabilities_path())?;
    let report = build(
        &probabilities,
        catalog,
        RankBy::NormalizedMargin,
        &|_, _| false,
        &[],
    )?;
    Ok(AuditSummary::of(&folder.name(), &report))
}

/// One cell of a noise matrix in a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseCell {
    /// The given class.
    pub given: String,
    /// The class the model finds.
    pub suggested: String,
    /// Products (calibrated confident joint).
    pub products: i64,
}

/// The figures of one task's audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    /// The task.
    pub task: Task,
    /// Audited products (with a line in the file).
    pub products: usize,
    /// Of which labelled.
    pub labelled: usize,
    /// The model's accuracy on them (out-of-fold for an audit).
    pub accuracy: Option<f64>,
    /// Products confident learning flags.
    pub flagged: usize,
    /// Products in the review queue (flagged, or named otherwise by their text).
    pub queue: usize,
    /// Of which the model and another witness agree on the suggestion.
    pub both_agree: usize,
    /// Of which only the text speaks.
    pub text_only: usize,
    /// Of which the duplicates speak (where they were searched).
    #[serde(default)]
    pub with_duplicates: usize,
    /// Left out by a review.
    pub kept: usize,
    /// Estimated wrong labels (noise matrix).
    pub estimated_errors: i64,
    /// The largest off-diagonal cells of the noise matrix.
    pub noise: Vec<NoiseCell>,
}

/// The figures of an audit, as `summary.json` keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// The audit (its folder's name).
    pub audit: String,
    /// Where the probabilities come from.
    pub provenance: Option<Provenance>,
    /// Lines naming no product of the catalogue.
    pub unknown: usize,
    /// Products with a photo but no probabilities.
    pub unpredicted: usize,
    /// Per task.
    pub tasks: Vec<TaskSummary>,
}

impl AuditSummary {
    /// The summary of `report`, named `audit`.
    pub fn of(audit: &str, report: &AuditReport) -> Self {
        use super::combine::Tier;
        AuditSummary {
            audit: audit.to_string(),
            provenance: report.provenance,
            unknown: report.unknown,
            unpredicted: report.unpredicted,
            tasks: report
                .tasks
                .iter()
                .map(|t| TaskSummary {
                    task: t.task,
                    products: t.positions.len(),
                    labelled: t.labelled(),
                    accuracy: t.accuracy,
                    flagged: t.audit.issues.len(),
                    queue: t.queue.len(),
                    both_agree: t.queue.iter().filter(|s| s.tier == Tier::BothAgree).count(),
                    text_only: t.queue.iter().filter(|s| s.tier == Tier::TextOnly).count(),
                    with_duplicates: t.queue.iter().filter(|s| s.duplicate.is_some()).count(),
                    kept: t.kept,
                    estimated_errors: t.estimated_errors(),
                    noise: t
                        .noise_cells()
                        .into_iter()
                        .take(SUMMARY_CELLS)
                        .map(|(i, j, n)| NoiseCell {
                            given: t.classes[i].clone(),
                            suggested: t.classes[j].clone(),
                            products: n,
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Writes `summary.json` atomically.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        let failed = |reason: String| ReportError::Summary {
            path: path.to_path_buf(),
            reason,
        };
        let text = serde_json::to_vec_pretty(self).map_err(|e| failed(e.to_string()))?;
        crate::atomic_file::write_atomically(
            path,
            |e| failed(e.to_string()),
            |w| std::io::Write::write_all(w, &text).map_err(|e| failed(e.to_string())),
        )
    }

    /// Reads `summary.json`.
    pub fn read(path: &Path) -> Result<Self, ReportError> {
        let failed = |reason: String| ReportError::Summary {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
        serde_json::from_str(&text).map_err(|e| failed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductDraft;
    use crate::runs::predictions::Split;
    use crate::runs::probabilities::{ProbabilitiesHeader, ProductProbabilities};
    use std::collections::BTreeMap;

    /// Eight products, colour Black or White; p5 is labelled Black, looks White and is named
    /// "White Shirt"; p6 has no label; p7 is labelled White, looks White and is named
    /// "Red Tape Shoes".
    fn fixture() -> (Catalog, Probabilities) {
        let mut catalog = Catalog::new("/photos");
        let classes = vec!["Black".to_string(), "White".to_string(), "Red".to_string()];
        let header =
            ProbabilitiesHeader::new("test", BTreeMap::from([(Task::Colour, classes.clone())]));
        let mut probabilities = Probabilities::new(header);
        let rows: [(&str, Option<&str>, [f32; 3]); 8] = [
            ("Black Tee", Some("Black"), [0.9, 0.05, 0.05]),
            ("Black Tee", Some("Black"), [0.85, 0.1, 0.05]),
            ("White Tee", Some("White"), [0.05, 0.9, 0.05]),
            ("White Tee", Some("White"), [0.1, 0.85, 0.05]),
            ("Red Tee", Some("Red"), [0.05, 0.05, 0.9]),
            ("White Shirt", Some("Black"), [0.05, 0.9, 0.05]),
            ("Tee", None, [0.5, 0.4, 0.1]),
            ("Red Tape Shoes", Some("White"), [0.1, 0.8, 0.1]),
        ];
        for (i, (name, colour, p)) in rows.into_iter().enumerate() {
            let mut labels: [Option<String>; 5] = Default::default();
            labels[Task::Colour.index()] = colour.map(String::from);
            catalog
                .push(ProductDraft {
                    id: format!("p{i}"),
                    name: name.into(),
                    labels,
                    ..Default::default()
                })
                .unwrap();
            probabilities
                .insert(ProductProbabilities {
                    product_id: format!("p{i}"),
                    split: Some(Split::Validation),
                    fold: Some(1 + i as u32 % 2),
                    tasks: BTreeMap::from([(Task::Colour, p.to_vec())]),
                })
                .unwrap();
        }
        probabilities
            .insert(ProductProbabilities {
                product_id: "elsewhere".into(),
                split: Some(Split::Validation),
                fold: Some(1),
                tasks: BTreeMap::from([(Task::Colour, vec![1.0, 0.0, 0.0])]),
            })
            .unwrap();
        (catalog, probabilities)
    }

    #[test]
    fn both_witnesses_rank_the_current_labels_and_a_kept_label_leaves_the_queue() {
        let (catalog, probabilities) = fixture();
        let report = build(
            &probabilities,
            &catalog,
            RankBy::NormalizedMargin,
            &|_, _| false,
            &[],
        )
        .unwrap();
        assert_eq!(report.provenance, Some(Provenance::OutOfFold));
        assert_eq!((report.unknown, report.unpredicted), (1, 0));
        let colour = report.task(Task::Colour).unwrap();
        assert_eq!(colour.positions.len(), 8, "the stranger is left out");
        assert_eq!(colour.labelled(), 7);
        let queue: Vec<(usize, usize)> = colour
            .queue
            .iter()
            .map(|s| (colour.positions[s.row], s.suggestion()))
            .collect();
        // p5 (the model and its name say White), then p7 (its name says Red: a brand).
        assert_eq!(queue, vec![(5, 1), (7, 2)]);
        assert_eq!(colour.queue[0].tier, super::super::combine::Tier::BothAgree);
        assert!((colour.accuracy.unwrap() - 6.0 / 7.0).abs() < 1e-9);
        assert_eq!(colour.noise_cells()[0], (0, 1, 1));

        // A review keeping p5's label takes it out of the queue, and says so.
        let kept = build(
            &probabilities,
            &catalog,
            RankBy::NormalizedMargin,
            &|p, _| p == 5,
            &[],
        )
        .unwrap();
        let colour = kept.task(Task::Colour).unwrap();
        assert_eq!(colour.kept, 1);
        assert_eq!(colour.queue.len(), 1);
        let summary = AuditSummary::of("a", &kept);
        assert_eq!(summary.tasks[0].kept, 1);
        assert_eq!(summary.tasks[0].text_only, 1);

        // A third witness: p2 (White) shares a photo with p4 (Red), and p0, p1 (Black) look
        // alike with p6 (no label). p2 and p4 are each doubted by the other, after what the
        // model flags and before the text alone; the Black pair agrees, so it is silent.
        let groups = [
            DuplicateGroup {
                members: vec![2, 4],
                copy: true,
            },
            DuplicateGroup {
                members: vec![0, 1, 6],
                copy: false,
            },
        ];
        let report = build(
            &probabilities,
            &catalog,
            RankBy::NormalizedMargin,
            &|_, _| false,
            &groups,
        )
        .unwrap();
        let colour = report.task(Task::Colour).unwrap();
        let queue: Vec<(usize, super::super::combine::Tier, usize)> = colour
            .queue
            .iter()
            .map(|s| (colour.positions[s.row], s.tier, s.suggestion()))
            .collect();
        use super::super::combine::Tier;
        assert_eq!(
            queue,
            vec![
                (5, Tier::BothAgree, 1),
                (2, Tier::DuplicateOnly, 2),
                (4, Tier::DuplicateOnly, 1),
                (7, Tier::TextOnly, 2),
            ]
        );
        assert!(colour.queue[1].duplicate.as_ref().unwrap().copy);
        assert_eq!(AuditSummary::of("a", &report).tasks[0].with_duplicates, 2);
    }

    #[test]
    fn probabilities_of_another_catalogue_are_refused() {
        let (_, probabilities) = fixture();
        let other = Catalog::new("/elsewhere");
        let error = build(
            &probabilities,
            &other,
            RankBy::NormalizedMargin,
            &|_, _| false,
            &[],
        )
        .unwrap_err();
        assert!(error.to_string().contains("another catalogue"), "{error}");
    }
}
