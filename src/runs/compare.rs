//! Two runs side by side, task by task, as in the published ablation table (single- vs
//! multi-image, multi- vs single-task). Pure: no egui, no burn.
//!
//! Each run is scored from its predictions file against the catalogue's *current* labels on
//! the products of its validation split, exactly as `vitrine evaluate --json` scores a
//! multi-image run (and a single-image run with `--per-product`: the mean of its photos'
//! probabilities, which is what its predictions file holds). A label the run's head does not
//! have counts as the head's `other` class when it has one, and is skipped otherwise
//! ([`HeadClasses::class_of`]).

use super::classes::HeadClasses;
use super::predictions::{FILE_NAME, Predictions, PredictionsError, Split};
use crate::catalog::{Catalog, Task};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Right and labelled counts of one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskScore {
    /// Products predicted right.
    pub correct: usize,
    /// Products with a label the head can score.
    pub labelled: usize,
}

impl TaskScore {
    /// Share predicted right (0 when nothing is labelled).
    pub fn accuracy(&self) -> f32 {
        self.correct as f32 / self.labelled.max(1) as f32
    }
}

/// One run scored on its validation products.
#[derive(Debug, Clone, PartialEq)]
pub struct RunScore {
    /// The run's name.
    pub run: String,
    /// Per task with a head.
    pub tasks: BTreeMap<Task, TaskScore>,
    /// Validation products scored.
    pub products: usize,
    /// Per catalogue position, per task: right, wrong, or not scored.
    outcomes: Vec<[Option<bool>; 5]>,
    /// Per catalogue position, whether the product is in the run's validation split.
    validation: Vec<bool>,
}

impl RunScore {
    /// Mean accuracy over the tasks with labelled products (as `vitrine evaluate`); `None`
    /// when no task has one.
    pub fn mean_accuracy(&self) -> Option<f32> {
        let scored: Vec<f32> = self
            .tasks
            .values()
            .filter(|s| s.labelled > 0)
            .map(TaskScore::accuracy)
            .collect();
        (!scored.is_empty()).then(|| scored.iter().sum::<f32>() / scored.len() as f32)
    }

    /// The score of `task`, when the run has its head and scored a product on it (a head
    /// whose every prediction was unusable has no score, rather than 0).
    pub fn task(&self, task: Task) -> Option<TaskScore> {
        self.tasks.get(&task).copied().filter(|s| s.labelled > 0)
    }

    /// Whether the run got `task` right on the product at `position` (`None`: not scored).
    pub fn outcome(&self, position: u32, task: Task) -> Option<bool> {
        self.outcomes.get(position as usize)?[task.index()]
    }
}

/// Scores the predictions of run `run` against the current labels of `catalog`.
pub fn score(run: impl Into<String>, predictions: &Predictions, catalog: &Catalog) -> RunScore {
    let heads: Vec<(Task, &HeadClasses)> = predictions
        .header
        .classes
        .keys()
        .map(|&t| (t, predictions.head_classes(t)))
        .collect();
    let mut tasks: BTreeMap<Task, TaskScore> = heads
        .iter()
        .map(|&(t, _)| (t, TaskScore::default()))
        .collect();
    let mut outcomes = vec![[None; 5]; catalog.len()];
    let mut validation = vec![false; catalog.len()];
    let mut products = 0;
    for (position, product) in catalog.products().iter().enumerate() {
        let Some(row) = predictions.row(&product.id) else {
            continue;
        };
        if predictions.split_at(row) != Some(Split::Validation) {
            continue;
        }
        products += 1;
        validation[position] = true;
        for &(task, head) in &heads {
            let Some(label) = catalog.label_name(product, task) else {
                continue;
            };
            let (Some(class), Some(predicted)) = (
                head.class_of(label),
                predictions.predicted_index_at(row, task),
            ) else {
                continue;
            };
            let right = predicted == class;
            let entry = tasks.entry(task).or_default();
            entry.labelled += 1;
            entry.correct += usize::from(right);
            outcomes[position][task.index()] = Some(right);
        }
    }
    RunScore {
        run: run.into(),
        tasks,
        products,
        outcomes,
        validation,
    }
}

/// Catalogue positions of the validation products whose current label for `task` scores as
/// class `label` of the run's head and whose prediction is class `predicted` (`None`: any
/// class); `wrong_only` keeps only those predicted wrong. This is how a confusion-matrix cell
/// (label = row, prediction = column) or a misclassified gallery becomes a set of products.
pub fn validation_products(
    predictions: &Predictions,
    catalog: &Catalog,
    task: Task,
    label: Option<usize>,
    predicted: Option<usize>,
    wrong_only: bool,
) -> Vec<u32> {
    if !predictions.has_task(task) {
        return Vec::new();
    }
    let head = predictions.head_classes(task);
    let mut out = Vec::new();
    for (position, product) in catalog.products().iter().enumerate() {
        let Some(row) = predictions.row(&product.id) else {
            continue;
        };
        if predictions.split_at(row) != Some(Split::Validation) {
            continue;
        }
        let Some(class) = catalog
            .label_name(product, task)
            .and_then(|l| head.class_of(l))
            .map(|c| c as usize)
        else {
            continue;
        };
        let Some(guess) = predictions
            .predicted_index_at(row, task)
            .map(|g| g as usize)
        else {
            continue;
        };
        if label.is_some_and(|l| l != class)
            || predicted.is_some_and(|p| p != guess)
            || (wrong_only && class == guess)
        {
            continue;
        }
        out.push(position as u32);
    }
    out
}

/// One task of the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRow {
    /// The task.
    pub task: Task,
    /// Run A's score, when it has the head and scored a product on it.
    pub a: Option<TaskScore>,
    /// Run B's score, when it has the head and scored a product on it.
    pub b: Option<TaskScore>,
    /// Catalogue positions A gets right and B wrong.
    pub only_a: Vec<u32>,
    /// Catalogue positions B gets right and A wrong.
    pub only_b: Vec<u32>,
}

impl TaskRow {
    /// B's accuracy minus A's, when both have the head.
    pub fn difference(&self) -> Option<f32> {
        Some(self.b?.accuracy() - self.a?.accuracy())
    }
}

/// Two runs side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Run A's name.
    pub a: String,
    /// Run B's name.
    pub b: String,
    /// The five tasks, in order.
    pub rows: Vec<TaskRow>,
    /// Mean accuracies of A and B (`None`: no task scored).
    pub mean: (Option<f32>, Option<f32>),
    /// Validation products of A and of B.
    pub products: (usize, usize),
    /// Products both scored (the right/wrong lists are over these).
    pub common: usize,
    /// Lines of the predictions files that could not be used (`FILE:LINE: why`), each file's
    /// preceded by how many it has in all.
    pub warnings: Vec<String>,
}

impl Comparison {
    /// B's mean accuracy minus A's, when both have one.
    pub fn mean_difference(&self) -> Option<f32> {
        Some(self.mean.1? - self.mean.0?)
    }
}

/// Compares two scored runs.
pub fn compare(a: &RunScore, b: &RunScore) -> Comparison {
    let positions = a.outcomes.len().min(b.outcomes.len());
    let common = (0..positions)
        .filter(|&p| {
            a.outcomes[p].iter().any(Option::is_some) && b.outcomes[p].iter().any(Option::is_some)
        })
        .count();
    let rows = Task::ALL
        .iter()
        .map(|&task| {
            let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
            for p in 0..positions {
                let t = task.index();
                match (a.outcomes[p][t], b.outcomes[p][t]) {
                    (Some(true), Some(false)) => only_a.push(p as u32),
                    (Some(false), Some(true)) => only_b.push(p as u32),
                    _ => {}
                }
            }
            TaskRow {
                task,
                a: a.task(task),
                b: b.task(task),
                only_a,
                only_b,
            }
        })
        .collect();
    // Each run is scored on its own validation products, as `vitrine evaluate` scores it;
    // runs split differently (another seed, fraction or group) are then scored on different
    // products, which the table must not hide.
    let shared = (0..positions)
        .filter(|&p| a.validation[p] && b.validation[p])
        .count();
    let warnings = if shared < a.products.max(b.products) {
        vec![format!(
            "the runs were validated on different products ({} has {}, {} has {}, {shared} in \
             both): their accuracies are not over the same products; train both with one seed, \
             validation fraction and group-by to compare like with like",
            a.run, a.products, b.run, b.products
        )]
    } else {
        Vec::new()
    };
    Comparison {
        a: a.run.clone(),
        b: b.run.clone(),
        rows,
        mean: (a.mean_accuracy(), b.mean_accuracy()),
        products: (a.products, b.products),
        common,
        warnings,
    }
}

/// Reads the predictions of the runs in folders `a` and `b` and compares them on the current
/// labels of `catalog` (the app's Compare tab and `vitrine compare`). Each run is named by its
/// folder.
pub fn compare_runs(a: &Path, b: &Path, catalog: &Catalog) -> Result<Comparison, PredictionsError> {
    let name = |run: &Path| {
        run.file_name().map_or_else(
            || run.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let (pa, pb) = (
        Predictions::read(&a.join(FILE_NAME))?,
        Predictions::read(&b.join(FILE_NAME))?,
    );
    let mut comparison = compare(&score(name(a), &pa, catalog), &score(name(b), &pb, catalog));
    comparison
        .warnings
        .extend([&pa, &pb].into_iter().flat_map(unusable_lines));
    Ok(comparison)
}

/// Most unusable lines of one predictions file listed by [`compare_runs`]; the rest are
/// counted.
const LISTED_LINES: usize = 5;

/// The lines of `predictions` its reader skipped, for the user: how many, then the first few.
fn unusable_lines(predictions: &Predictions) -> Vec<String> {
    if predictions.warnings_total == 0 {
        return Vec::new();
    }
    let file = predictions.path.as_deref().map_or_else(
        || predictions.header.run.clone(),
        |p| p.display().to_string(),
    );
    let total = predictions.warnings_total;
    let mut out = vec![format!(
        "{file}: {total} {} could not be used and {} left out of the comparison",
        if total == 1 { "line" } else { "lines" },
        if total == 1 { "is" } else { "are" }
    )];
    out.extend(
        predictions
            .warnings
            .iter()
            .take(LISTED_LINES)
            .map(|w| format!("{file}:{}: {}", w.line, w.message)),
    );
    out
}

fn cell(score: Option<TaskScore>) -> String {
    score.map_or_else(String::new, |s| format!("{:.3}", s.accuracy()))
}

fn signed(value: Option<f32>) -> String {
    value.map_or_else(String::new, |d| format!("{d:+.3}"))
}

fn mean_cell(value: Option<f32>) -> String {
    value.map_or_else(String::new, |m| format!("{m:.3}"))
}

impl Comparison {
    /// The table as CSV: `task,A,B,difference,A right B wrong,B right A wrong`, then `mean`.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let mut rows: Vec<Vec<String>> = vec![vec![
            "task".into(),
            self.a.clone(),
            self.b.clone(),
            "difference".into(),
            "a_right_b_wrong".into(),
            "b_right_a_wrong".into(),
        ]];
        for row in &self.rows {
            rows.push(vec![
                row.task.to_string(),
                cell(row.a),
                cell(row.b),
                signed(row.difference()),
                row.only_a.len().to_string(),
                row.only_b.len().to_string(),
            ]);
        }
        rows.push(vec![
            "mean".into(),
            mean_cell(self.mean.0),
            mean_cell(self.mean.1),
            signed(self.mean_difference()),
            String::new(),
            String::new(),
        ]);
        for row in rows {
            // Writing to a Vec cannot fail.
            let _ = writer.write_record(&row);
        }
        writer
            .into_inner()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default()
    }

    /// The table as Markdown, in the published layout.
    pub fn to_markdown(&self) -> String {
        let escape = |s: &str| s.replace('|', "\\|");
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| task | {} | {} | difference | A right, B wrong | B right, A wrong |",
            escape(&self.a),
            escape(&self.b)
        );
        out.push_str("|---|---:|---:|---:|---:|---:|\n");
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.task,
                cell(row.a),
                cell(row.b),
                signed(row.difference()),
                row.only_a.len(),
                row.only_b.len()
            );
        }
        // An empty cell stays empty: `****` would show as four asterisks.
        let bold = |text: String| {
            if text.is_empty() {
                text
            } else {
                format!("**{text}**")
            }
        };
        let _ = writeln!(
            out,
            "| **mean** | {} | {} | {} | | |",
            bold(mean_cell(self.mean.0)),
            bold(mean_cell(self.mean.1)),
            bold(signed(self.mean_difference()))
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductDraft;
    use crate::runs::classes::OTHER;
    use crate::runs::predictions::{Header, ProductPrediction, TaskPrediction};

    /// Ten products: colours Black x4, White x3, Red x2 and one unlabelled.
    fn catalog() -> Catalog {
        let colours = [
            "Black", "Black", "Black", "Black", "White", "White", "White", "Red", "Red", "",
        ];
        let mut c = Catalog::new("/tmp");
        for (i, colour) in colours.iter().enumerate() {
            let mut d = ProductDraft {
                id: format!("p{i}"),
                ..Default::default()
            };
            d.labels[Task::Colour.index()] = Some(colour.to_string()).filter(|c| !c.is_empty());
            c.push(d).unwrap();
        }
        c
    }

    /// Colour predictions over `classes`, `class(i)` for product i; product 0 in training.
    fn predictions(
        c: &Catalog,
        classes: &[&str],
        class: impl Fn(usize) -> &'static str,
    ) -> Predictions {
        let names = classes.iter().map(|c| c.to_string()).collect();
        let mut p = Predictions::new(Header::new("test", [(Task::Colour, names)].into()));
        for (i, product) in c.products().iter().enumerate() {
            let top = vec![(class(i).to_string(), 0.9)];
            p.insert(ProductPrediction {
                product_id: product.id.to_string(),
                split: Some(if i == 0 {
                    Split::Train
                } else {
                    Split::Validation
                }),
                fold: None,
                tasks: [(Task::Colour, TaskPrediction { label: None, top })].into(),
                photos: None,
            })
            .unwrap();
        }
        p
    }

    #[test]
    fn runs_validated_on_different_products_are_said_to_be() {
        let c = catalog();
        let classes = ["Black", "White", OTHER];
        let same = predictions(&c, &classes, |_| "Black");
        let cmp = compare(&score("a", &same, &c), &score("b", &same, &c));
        assert!(cmp.warnings.is_empty(), "{:?}", cmp.warnings);
        // Run B held out other products: one of A's validation products is in its training.
        let mut other = Predictions::new(Header::new(
            "b",
            [(
                Task::Colour,
                classes.iter().map(|c| c.to_string()).collect(),
            )]
            .into(),
        ));
        for (i, product) in c.products().iter().enumerate() {
            other
                .insert(ProductPrediction {
                    product_id: product.id.to_string(),
                    split: Some(if i <= 1 {
                        Split::Train
                    } else {
                        Split::Validation
                    }),
                    fold: None,
                    tasks: [(
                        Task::Colour,
                        TaskPrediction {
                            label: None,
                            top: vec![("Black".to_string(), 0.9)],
                        },
                    )]
                    .into(),
                    photos: None,
                })
                .unwrap();
        }
        let cmp = compare(&score("a", &same, &c), &score("b", &other, &c));
        assert_eq!(cmp.products, (9, 8));
        assert_eq!(cmp.warnings.len(), 1, "{:?}", cmp.warnings);
        assert!(
            cmp.warnings[0].contains("a has 9, b has 8, 8 in both"),
            "{}",
            cmp.warnings[0]
        );
    }

    #[test]
    fn scores_validation_products_maps_rare_labels_to_other_and_lists_differences() {
        let c = catalog();
        let classes = ["Black", "White", OTHER];
        // A is right everywhere (Red is `other` for its head); B says Black throughout.
        let a = predictions(&c, &classes, |i| match i {
            0..=3 => "Black",
            4..=6 => "White",
            _ => OTHER,
        });
        let b = predictions(&c, &classes, |_| "Black");
        let (sa, sb) = (score("A", &a, &c), score("B", &b, &c));
        assert_eq!(sa.products, 9, "the training product is left out");
        assert_eq!(
            sa.tasks[&Task::Colour],
            TaskScore {
                correct: 8,
                labelled: 8
            }
        );
        assert_eq!(
            sb.tasks[&Task::Colour],
            TaskScore {
                correct: 3,
                labelled: 8
            }
        );
        assert_eq!(sa.mean_accuracy(), Some(1.0));
        assert_eq!(sa.outcome(0, Task::Colour), None);
        assert_eq!(sa.outcome(9, Task::Colour), None, "unlabelled");
        assert_eq!(sb.outcome(4, Task::Colour), Some(false));
        let cmp = compare(&sa, &sb);
        let row = &cmp.rows[Task::Colour.index()];
        assert_eq!(row.only_a, vec![4, 5, 6, 7, 8]);
        assert!(row.only_b.is_empty());
        assert_eq!(row.difference(), Some(3.0 / 8.0 - 1.0));
        assert_eq!(cmp.rows[Task::Gender.index()].difference(), None);
        assert_eq!(cmp.common, 8);
        assert_eq!(cmp.mean, (Some(1.0), Some(0.375)));
        let csv = cmp.to_csv();
        assert!(csv.starts_with("task,A,B,difference,a_right_b_wrong,b_right_a_wrong\n"));
        assert!(csv.contains("colour,1.000,0.375,-0.625,5,0\n"), "{csv}");
        assert!(csv.contains("gender,,,,0,0\n"));
        assert!(csv.ends_with("mean,1.000,0.375,-0.625,,\n"));
        let md = cmp.to_markdown();
        assert!(
            md.lines()
                .nth(2)
                .is_some_and(|l| l.starts_with("| gender |"))
        );
        assert!(
            md.contains("| colour | 1.000 | 0.375 | -0.625 | 5 | 0 |"),
            "{md}"
        );
        assert!(md.contains("| **mean** | **1.000** | **0.375** | **-0.625** | | |"));
        // A run with no usable predictions leaves its mean cells empty, not `****`.
        let mut none = cmp;
        none.mean.1 = None;
        for row in &mut none.rows {
            row.b = None;
        }
        let md = none.to_markdown();
        assert!(md.contains("| **mean** | **1.000** |  |  | | |"), "{md}");
    }

    #[test]
    fn confusion_cells_and_misclassified_products() {
        let c = catalog();
        let classes = ["Black", "White", OTHER];
        // Product 1 (Black) is called White, product 4 (White) Black, the rest right.
        let p = predictions(&c, &classes, |i| match i {
            1 | 5 | 6 => "White",
            0 | 2 | 3 | 4 => "Black",
            _ => OTHER,
        });
        let cell = |l, g| validation_products(&p, &c, Task::Colour, l, g, false);
        assert_eq!(cell(Some(0), Some(1)), vec![1]);
        assert_eq!(cell(Some(1), Some(0)), vec![4]);
        assert_eq!(
            cell(Some(0), Some(0)),
            vec![2, 3],
            "product 0 is in training"
        );
        assert_eq!(cell(Some(2), None), vec![7, 8], "Red scores as other");
        let wrong = validation_products(&p, &c, Task::Colour, None, None, true);
        assert_eq!(wrong, vec![1, 4]);
        assert!(validation_products(&p, &c, Task::Type, None, None, true).is_empty());
    }
}
