//! Filtering and sorting the catalogue: pure functions over the catalogue, the predictions
//! and the set of edited products, run on the UI thread for small catalogues and on the
//! filter worker for large ones.

use crate::catalog::{Catalog, ClassId, Product, Task};
use crate::runs::predictions::Predictions;
use rayon::prelude::*;
use std::collections::HashSet;
use std::sync::Arc;

/// Catalogues from this size are filtered on rayon's threads: below it a pass takes a few
/// milliseconds, and the window's own thread (which filters catalogues of up to 50,000
/// products) never waits on the pool, which a training run may keep busy.
const PARALLEL_FROM: usize = 200_000;

/// A fixed set of products shown by the grid: a confusion-matrix cell, a misclassified
/// gallery, the products one run gets right and another wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductSet {
    /// What the products are, shown above the grid.
    pub title: String,
    /// Catalogue positions, sorted.
    pub positions: Arc<Vec<u32>>,
    /// The set's own order, when it has one (most similar first), for [`SortKey::Set`].
    pub order: Option<Arc<Vec<u32>>>,
}

impl ProductSet {
    /// A set of `positions` (any order) under `title`.
    pub fn new(title: impl Into<String>, mut positions: Vec<u32>) -> Self {
        positions.sort_unstable();
        positions.dedup();
        ProductSet {
            title: title.into(),
            positions: Arc::new(positions),
            order: None,
        }
    }

    /// A set of `order` (positions in their own order, most relevant first) under `title`.
    pub fn ranked(title: impl Into<String>, order: Vec<u32>) -> Self {
        ProductSet {
            order: Some(Arc::new(order.clone())),
            ..ProductSet::new(title, order)
        }
    }

    /// Whether the product at `position` is in the set.
    pub fn contains(&self, position: u32) -> bool {
        self.positions.binary_search(&position).is_ok()
    }
}

/// Which labels of one task pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelChoice {
    /// Products labelled with this class.
    Class(ClassId),
    /// Products without a label for the task.
    Missing,
}

/// Which tasks the "prediction disagrees" filter looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskScope {
    /// Any of the five tasks.
    Any,
    /// One task.
    Only(Task),
}

impl TaskScope {
    /// The tasks in scope.
    pub fn tasks(self) -> &'static [Task] {
        match self {
            TaskScope::Any => &Task::ALL,
            TaskScope::Only(task) => std::slice::from_ref(&Task::ALL[task.index()]),
        }
    }
}

/// Edited or not (an edited product has at least one journal entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EditedChoice {
    /// Every product.
    #[default]
    All,
    /// Products with an edit.
    Edited,
    /// Products never edited.
    Unedited,
}

/// Sort order of the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Catalogue order.
    #[default]
    Source,
    /// Product id.
    Id,
    /// Product name.
    Name,
    /// Least confident prediction first (over the tasks in scope).
    Confidence(TaskScope),
    /// Most tasks where prediction and label disagree first.
    Disagreement,
    /// The order of the [`Filter::only`] set (most similar first); catalogue order when the
    /// set has none.
    Set,
}

/// Everything that decides which products are shown, and in which order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// Only these products (the other conditions still apply).
    pub only: Option<ProductSet>,
    /// Per task, the labels that pass (`None`: any).
    pub labels: [Option<LabelChoice>; 5],
    /// Only products whose prediction disagrees with the label on a task in scope.
    pub disagreement: Option<TaskScope>,
    /// Only products with a prediction of confidence below this, on a task in scope.
    pub confidence_below: Option<(TaskScope, f32)>,
    /// Edited or not.
    pub edited: EditedChoice,
    /// Case-insensitive text in id, name or an attribute value.
    pub text: String,
    /// Sort order.
    pub sort: SortKey,
    /// Reverse the sort order.
    pub descending: bool,
}

impl Filter {
    /// Whether the filter lets every product through in catalogue order.
    pub fn is_identity(&self) -> bool {
        *self == Filter::default()
    }
}

/// What the filter reads besides the catalogue.
#[derive(Clone, Copy)]
pub struct FilterInputs<'a> {
    /// The catalogue, current labels.
    pub catalog: &'a Catalog,
    /// Predictions, if loaded.
    pub predictions: Option<&'a Predictions>,
    /// Per catalogue position, the product's line in `predictions`.
    pub prediction_rows: &'a [Option<u32>],
    /// Positions of products with at least one edit.
    pub edited: &'a HashSet<u32>,
}

/// By catalogue class id, the class of the model's head it counts as (the one rule of
/// [`crate::runs::classes::HeadClasses`], looked up once per class instead of once per
/// product).
#[derive(Default)]
struct HeadMap {
    head_class: Vec<Option<u32>>,
}

impl HeadMap {
    /// [`Predictions::agrees_at`] on class ids.
    fn agrees(&self, predicted: u32, label: ClassId) -> bool {
        self.head_class.get(label.0 as usize) == Some(&Some(predicted))
    }
}

/// [`HeadMap`]s of every task.
fn class_maps(catalog: &Catalog, predictions: &Predictions) -> [HeadMap; 5] {
    let mut maps: [HeadMap; 5] = Default::default();
    for task in Task::ALL {
        if predictions.header.classes.contains_key(&task) {
            let vocabulary = catalog.vocabulary(task);
            let head = predictions.head_classes(task);
            let head_class = (0..vocabulary.len())
                .map(|id| head.class_of(vocabulary.name(ClassId(id as u32))))
                .collect();
            maps[task.index()] = HeadMap { head_class };
        }
    }
    maps
}

/// Lower-cased needle search without allocating per product.
fn contains_folded(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    if haystack.is_ascii() && needle.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        let Some(last) = h.len().checked_sub(n.len()) else {
            return false;
        };
        // Only where the first letter is, in either case (found with memchr), is the rest
        // compared: most products have few such places.
        let (lower, upper) = (n[0].to_ascii_lowercase(), n[0].to_ascii_uppercase());
        return memchr::memchr2_iter(lower, upper, &h[..=last])
            .any(|i| h[i + 1..i + n.len()].eq_ignore_ascii_case(&n[1..]));
    }
    haystack.to_lowercase().contains(needle)
}

/// Runs `filter` over the catalogue and returns the matching positions in display order.
pub fn apply(filter: &Filter, inputs: FilterInputs<'_>) -> Vec<u32> {
    apply_on(filter, inputs, inputs.catalog.len() >= PARALLEL_FROM)
}

/// [`apply`], on rayon's threads when `parallel`.
fn apply_on(filter: &Filter, inputs: FilterInputs<'_>, parallel: bool) -> Vec<u32> {
    let catalog = inputs.catalog;
    let needle = filter.text.trim().to_lowercase();
    let maps = inputs.predictions.map(|p| class_maps(catalog, p));
    let scores = Scores {
        inputs,
        maps: maps.as_ref(),
    };
    let keep = |position: usize, product: &Product| {
        let position = position as u32;
        let kept = filter
            .only
            .as_ref()
            .is_none_or(|set| set.contains(position))
            && matches_labels(filter, product)
            && match filter.edited {
                EditedChoice::All => true,
                EditedChoice::Edited => inputs.edited.contains(&position),
                EditedChoice::Unedited => !inputs.edited.contains(&position),
            }
            && filter
                .disagreement
                .is_none_or(|scope| scores.disagreements(position, product, scope) > 0)
            && filter.confidence_below.is_none_or(|(scope, below)| {
                scores
                    .min_confidence(position, scope)
                    .is_some_and(|c| c < below)
            })
            && (needle.is_empty()
                || contains_folded(&product.id, &needle)
                || contains_folded(&product.name, &needle)
                || product
                    .attributes
                    .iter()
                    .any(|(_, value)| contains_folded(value, &needle)));
        kept.then_some(position)
    };
    let products = catalog.products();
    let mut matches: Vec<u32> = if parallel {
        // Each product is a few pointers to follow (its name, its attributes): the pass waits
        // on memory more than it computes, and two cores wait half as long.
        products
            .par_iter()
            .enumerate()
            .filter_map(|(position, product)| keep(position, product))
            .collect()
    } else {
        products
            .iter()
            .enumerate()
            .filter_map(|(position, product)| keep(position, product))
            .collect()
    };
    sort(&mut matches, filter, &scores, parallel);
    matches
}

fn matches_labels(filter: &Filter, product: &Product) -> bool {
    Task::ALL
        .iter()
        .all(|&task| match filter.labels[task.index()] {
            None => true,
            Some(LabelChoice::Missing) => product.label(task).is_none(),
            Some(LabelChoice::Class(class)) => product.label(task) == Some(class),
        })
}

struct Scores<'a> {
    inputs: FilterInputs<'a>,
    maps: Option<&'a [HeadMap; 5]>,
}

impl Scores<'_> {
    fn row(&self, position: u32) -> Option<(&Predictions, u32)> {
        let predictions = self.inputs.predictions?;
        let row = (*self.inputs.prediction_rows.get(position as usize)?)?;
        Some((predictions, row))
    }

    /// Tasks in scope where the model's best class is not the label.
    fn disagreements(&self, position: u32, product: &Product, scope: TaskScope) -> usize {
        let (Some((predictions, row)), Some(maps)) = (self.row(position), self.maps) else {
            return 0;
        };
        scope
            .tasks()
            .iter()
            .filter(|&&task| {
                let Some(label) = product.label(task) else {
                    return false;
                };
                predictions
                    .predicted_index_at(row, task)
                    .is_some_and(|class| !maps[task.index()].agrees(class, label))
            })
            .count()
    }

    fn min_confidence(&self, position: u32, scope: TaskScope) -> Option<f32> {
        let (predictions, row) = self.row(position)?;
        scope
            .tasks()
            .iter()
            .filter_map(|&task| predictions.confidence_at(row, task))
            .reduce(f32::min)
    }
}

/// `f` of every match, on rayon's threads when `parallel`, in the matches' order.
fn each<T: Send>(matches: &[u32], parallel: bool, f: impl Fn(u32) -> T + Sync) -> Vec<T> {
    if parallel {
        matches.par_iter().map(|&p| f(p)).collect()
    } else {
        matches.iter().map(|&p| f(p)).collect()
    }
}

fn sort(matches: &mut Vec<u32>, filter: &Filter, scores: &Scores<'_>, parallel: bool) {
    let catalog = scores.inputs.catalog;
    let products = catalog.products();
    match filter.sort {
        SortKey::Source => {}
        SortKey::Set => {
            if let Some(order) = filter.only.as_ref().and_then(|set| set.order.as_ref()) {
                let kept: HashSet<u32> = matches.iter().copied().collect();
                *matches = order.iter().copied().filter(|p| kept.contains(p)).collect();
            }
        }
        SortKey::Id => in_order(matches, &catalog.text_orders().by_id, catalog.len()),
        SortKey::Name => in_order(matches, &catalog.text_orders().by_name, catalog.len()),
        SortKey::Confidence(scope) => {
            // Products without a prediction go last: there is nothing to review first. One
            // integer per match (confidence, then position) sorts faster than pairs compared
            // field by field.
            let mut keyed = each(matches, parallel, |p| {
                let confidence = scores.min_confidence(p, scope).unwrap_or(f32::INFINITY);
                (u64::from(ordered_bits(confidence)) << 32) | u64::from(p)
            });
            if parallel {
                keyed.par_sort_unstable();
            } else {
                keyed.sort_unstable();
            }
            for (slot, key) in matches.iter_mut().zip(keyed) {
                *slot = key as u32;
            }
        }
        SortKey::Disagreement => {
            // At most five disagreements: one bucket per count, each in catalogue order (as
            // the matches come), most first.
            let counts = each(matches, parallel, |p| {
                let n = scores.disagreements(p, &products[p as usize], TaskScope::Any);
                n.min(Task::ALL.len()) as u8
            });
            let mut buckets: [Vec<u32>; Task::ALL.len() + 1] = Default::default();
            for (&p, &n) in matches.iter().zip(&counts) {
                buckets[n as usize].push(p);
            }
            matches.clear();
            for bucket in buckets.iter().rev() {
                matches.extend_from_slice(bucket);
            }
        }
    }
    if filter.descending {
        matches.reverse();
    }
}

/// The bits of `value` as an unsigned integer that orders as [`f32::total_cmp`] does.
fn ordered_bits(value: f32) -> u32 {
    let bits = value.to_bits();
    // Negative numbers: every bit flipped (larger magnitudes first); others: the sign flipped.
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 1 << 31
    }
}

/// Puts `matches` (positions in catalogue order, each once) in the order of `order` (every
/// position of a catalogue of `len`, in the order wanted): one walk of `order` instead of a
/// sort comparing strings.
fn in_order(matches: &mut Vec<u32>, order: &[u32], len: usize) {
    if matches.len() == len {
        matches.clear();
        matches.extend_from_slice(order);
        return;
    }
    let mut wanted = vec![false; len];
    for &p in matches.iter() {
        wanted[p as usize] = true;
    }
    matches.clear();
    matches.extend(order.iter().copied().filter(|&p| wanted[p as usize]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductDraft;
    use crate::runs::generated::generate_fake;

    fn catalog() -> Catalog {
        let mut c = Catalog::new("/tmp");
        let rows = [
            ("b", "Blue shirt", "Blue", Some("Topwear")),
            ("a", "Red tee", "Red", Some("Topwear")),
            ("c", "Red shoe", "Red", None),
            ("d", "Crème sock", "Green", Some("Socks")),
        ];
        for (id, name, colour, category) in rows {
            let mut d = ProductDraft {
                id: id.into(),
                name: name.into(),
                ..Default::default()
            };
            d.labels[Task::Colour.index()] = Some(colour.into());
            d.labels[Task::Category.index()] = category.map(String::from);
            d.attributes
                .push(("material".into(), format!("{id}-Cotton")));
            c.push(d).unwrap();
        }
        c
    }

    fn run(c: &Catalog, p: Option<&Predictions>, edited: &HashSet<u32>, f: &Filter) -> Vec<u32> {
        let rows: Vec<Option<u32>> = c
            .products()
            .iter()
            .map(|product| p.and_then(|p| p.row(&product.id)))
            .collect();
        apply(
            f,
            FilterInputs {
                catalog: c,
                predictions: p,
                prediction_rows: &rows,
                edited,
            },
        )
    }

    #[test]
    fn labels_text_and_edited() {
        let c = catalog();
        let none = HashSet::new();
        assert_eq!(run(&c, None, &none, &Filter::default()), vec![0, 1, 2, 3]);
        let red = c.vocabulary(Task::Colour).get("Red").unwrap();
        let mut f = Filter::default();
        f.labels[Task::Colour.index()] = Some(LabelChoice::Class(red));
        assert_eq!(run(&c, None, &none, &f), vec![1, 2]);
        f.labels[Task::Category.index()] = Some(LabelChoice::Missing);
        assert_eq!(run(&c, None, &none, &f), vec![2]);
        let text = |t: &str| Filter {
            text: t.into(),
            ..Default::default()
        };
        assert_eq!(run(&c, None, &none, &text("TEE")), vec![1]);
        assert_eq!(run(&c, None, &none, &text("crème")), vec![3]);
        assert_eq!(
            run(&c, None, &none, &text("b-cotton")),
            vec![0],
            "attributes"
        );
        let edited: HashSet<u32> = [2].into();
        let f = Filter {
            edited: EditedChoice::Edited,
            ..Default::default()
        };
        assert_eq!(run(&c, None, &edited, &f), vec![2]);
        let f = Filter {
            edited: EditedChoice::Unedited,
            ..Default::default()
        };
        assert_eq!(run(&c, None, &edited, &f), vec![0, 1, 3]);
        let set = ProductSet::new("cell", vec![3, 1, 3]);
        assert_eq!(*set.positions, vec![1, 3]);
        let mut f = Filter {
            only: Some(set),
            ..Default::default()
        };
        assert_eq!(run(&c, None, &none, &f), vec![1, 3]);
        f.labels[Task::Colour.index()] = Some(LabelChoice::Class(red));
        assert_eq!(
            run(&c, None, &none, &f),
            vec![1],
            "with the other conditions"
        );
    }

    #[test]
    fn sorting() {
        let c = catalog();
        let none = HashSet::new();
        let mut f = Filter {
            sort: SortKey::Id,
            ..Default::default()
        };
        assert_eq!(run(&c, None, &none, &f), vec![1, 0, 2, 3]);
        f.descending = true;
        assert_eq!(run(&c, None, &none, &f), vec![3, 2, 0, 1]);
        f = Filter {
            sort: SortKey::Name,
            ..Default::default()
        };
        assert_eq!(run(&c, None, &none, &f), vec![0, 3, 2, 1]);
    }

    #[test]
    fn ordered_bits_order_as_total_cmp_and_folded_search_finds_every_place() {
        let values = [
            f32::NEG_INFINITY,
            -2.5,
            -0.0,
            0.0,
            1e-30,
            0.5,
            0.75,
            1.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for a in values {
            for b in values {
                assert_eq!(
                    ordered_bits(a).cmp(&ordered_bits(b)),
                    a.total_cmp(&b),
                    "{a} {b}"
                );
            }
        }
        let cases = [
            ("Product number 12", "number 12", true),
            ("NUMBER 1", "number 12", false),
            ("nnnumber 12", "number 12", true),
            ("abc", "abcd", false),
            ("xab", "ab", true),
            ("ab", "AB", true),
            ("", "a", false),
        ];
        for (haystack, needle, found) in cases {
            assert_eq!(
                contains_folded(haystack, needle),
                found,
                "{haystack} {needle}"
            );
        }
    }

    #[test]
    fn sorts_by_the_precomputed_orders_equal_sorting_by_the_comparators() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let words = ["", "a", "B", "b", "é", "ab", "Zed", "zed", "東京", "a b"];
        let mut c = Catalog::new("/tmp");
        for i in 0..500 {
            let mut d = ProductDraft {
                id: format!("{}-{i}", rng.random_range(0..1000)),
                name: format!(
                    "{}{}",
                    words[rng.random_range(0..words.len())],
                    words[rng.random_range(0..words.len())]
                ),
                ..Default::default()
            };
            d.labels[Task::Colour.index()] = Some(["Red", "Blue"][i % 2].into());
            c.push(d).unwrap();
        }
        let predictions = generate_fake(&c, 3, 0.4);
        let none = HashSet::new();
        let products = c.products();
        let red = c.vocabulary(Task::Colour).get("Red").unwrap();
        for only_red in [false, true] {
            let mut base = Filter::default();
            if only_red {
                base.labels[Task::Colour.index()] = Some(LabelChoice::Class(red));
            }
            let positions = run(&c, Some(&predictions), &none, &base);
            let sorted = |key: SortKey, descending| {
                let f = Filter {
                    sort: key,
                    descending,
                    ..base.clone()
                };
                run(&c, Some(&predictions), &none, &f)
            };
            let mut by_name = positions.clone();
            by_name.sort_by(|&a, &b| {
                products[a as usize]
                    .name
                    .cmp(&products[b as usize].name)
                    .then(a.cmp(&b))
            });
            assert_eq!(sorted(SortKey::Name, false), by_name);
            by_name.reverse();
            assert_eq!(sorted(SortKey::Name, true), by_name);
            let mut by_id = positions.clone();
            by_id.sort_by(|&a, &b| products[a as usize].id.cmp(&products[b as usize].id));
            assert_eq!(sorted(SortKey::Id, false), by_id);
            let rows: Vec<Option<u32>> = products.iter().map(|p| predictions.row(&p.id)).collect();
            let maps = class_maps(&c, &predictions);
            let scores = Scores {
                inputs: FilterInputs {
                    catalog: &c,
                    predictions: Some(&predictions),
                    prediction_rows: &rows,
                    edited: &none,
                },
                maps: Some(&maps),
            };
            let mut by_disagreement = positions.clone();
            by_disagreement.sort_by_cached_key(|&p| {
                let n = scores.disagreements(p, &products[p as usize], TaskScope::Any);
                (std::cmp::Reverse(n), p)
            });
            assert_eq!(sorted(SortKey::Disagreement, false), by_disagreement);
            // On rayon's threads, the same matches in the same order.
            let text = Filter {
                text: "a".into(),
                sort: SortKey::Confidence(TaskScope::Any),
                ..base.clone()
            };
            let inputs = scores.inputs;
            assert_eq!(
                apply_on(&text, inputs, true),
                apply_on(&text, inputs, false)
            );
            assert_eq!(apply_on(&base, inputs, true), positions);
            let by_disagreements = Filter {
                sort: SortKey::Disagreement,
                ..base.clone()
            };
            assert_eq!(
                apply_on(&by_disagreements, inputs, true),
                apply_on(&by_disagreements, inputs, false)
            );
        }
    }

    #[test]
    fn disagreement_and_confidence_use_predictions() {
        let c = catalog();
        let none = HashSet::new();
        let wrong = generate_fake(&c, 5, 0.0);
        let right = generate_fake(&c, 5, 1.0);
        let f = Filter {
            disagreement: Some(TaskScope::Only(Task::Colour)),
            ..Default::default()
        };
        assert_eq!(run(&c, Some(&wrong), &none, &f), vec![0, 1, 2, 3]);
        assert!(run(&c, Some(&right), &none, &f).is_empty());
        assert!(
            run(&c, None, &none, &f).is_empty(),
            "no predictions, no disagreement"
        );
        // Product c has no category label: never a category disagreement.
        let f = Filter {
            disagreement: Some(TaskScope::Only(Task::Category)),
            ..Default::default()
        };
        assert_eq!(run(&c, Some(&wrong), &none, &f), vec![0, 1, 3]);

        let f = Filter {
            confidence_below: Some((TaskScope::Only(Task::Colour), 2.0)),
            sort: SortKey::Confidence(TaskScope::Only(Task::Colour)),
            ..Default::default()
        };
        let sorted = run(&c, Some(&right), &none, &f);
        assert_eq!(sorted.len(), 4);
        let conf = |p: u32| right.confidence(&c.products()[p as usize].id, Task::Colour);
        assert!(sorted.windows(2).all(|w| conf(w[0]) <= conf(w[1])));
        let f = Filter {
            confidence_below: Some((TaskScope::Any, 0.0)),
            ..Default::default()
        };
        assert!(run(&c, Some(&right), &none, &f).is_empty());
        let f = Filter {
            sort: SortKey::Disagreement,
            ..Default::default()
        };
        assert_eq!(run(&c, Some(&right), &none, &f), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_label_the_head_folds_into_other_agrees_with_other() {
        // The head names Red and Blue; Green (product d) was too rare and became "other".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        let line = |id: &str, class: &str| {
            format!(
                r#"{{"product_id":"{id}","split":"validation","tasks":{{"colour":{{"label":null,"top":[["{class}",0.9]]}}}}}}"#
            )
        };
        let text = [
            r#"{"format":"vitrine-predictions","version":1,"run":"r","classes":{"colour":["Red","Blue","other"]}}"#.to_string(),
            line("b", "other"), // Blue is named: "other" is wrong
            line("a", "Red"),   // right
            line("c", "Blue"),  // wrong
            line("d", "other"), // Green folded into other: right
        ]
        .join("\n");
        std::fs::write(&path, text).unwrap();
        let predictions = Predictions::read(&path).unwrap();
        let c = catalog();
        let f = Filter {
            disagreement: Some(TaskScope::Only(Task::Colour)),
            ..Default::default()
        };
        let none = HashSet::new();
        assert_eq!(run(&c, Some(&predictions), &none, &f), vec![0, 2]);
        // The grid's mark and the product view say the same.
        for (position, product) in c.products().iter().enumerate() {
            let label = c.label_name(product, Task::Colour);
            assert_eq!(
                predictions.disagrees_with(&product.id, Task::Colour, label),
                [0, 2].contains(&position),
                "{}",
                product.id
            );
        }
    }

    #[test]
    fn the_filter_counts_head_classes_by_the_one_rule() {
        // "Red" is named twice (the second copy is never the label's class) and Green is
        // folded into "other".
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("predictions.jsonl");
        let header = r#"{"format":"vitrine-predictions","version":1,"run":"r","classes":{"colour":["Red","Blue","Red","other"]}}"#;
        let row = r#"{"product_id":"a","split":"validation","tasks":{"colour":{"label":null,"top":[["Red",0.9]]}}}"#;
        std::fs::write(&path, format!("{header}\n{row}")).unwrap();
        let predictions = Predictions::read(&path).unwrap();
        let c = catalog();
        let maps = class_maps(&c, &predictions);
        let head = predictions.head_classes(Task::Colour);
        let vocabulary = c.vocabulary(Task::Colour);
        for predicted in 0..4 {
            for id in 0..vocabulary.len() as u32 {
                let name = vocabulary.name(ClassId(id));
                assert_eq!(
                    maps[Task::Colour.index()].agrees(predicted, ClassId(id)),
                    head.agrees(predicted, name),
                    "predicted {predicted}, label {name}"
                );
            }
        }
    }
}
