//! The folds of an audit: every product held out by exactly one of K models, folds balanced
//! by the labels of all five tasks and keeping a group (a style) in one fold.
//!
//! # The rule
//!
//! Products sharing a group value (`--group-by`, e.g. Luma's `style_sku`) form one group; a
//! product without one is a group of its own. Groups are taken in an order fixed by the seed
//! (a hash of the group key) with the largest groups first, and each goes to the fold where
//! its labels are least represented so far: the cost of fold `f` is the sum, over the group's
//! labels (one per task it has), of the share of that class's products already in `f`, plus
//! the share of all products already in `f`; the cheapest fold wins, ties going to the fold
//! with fewer products, then the lower number. This is multi-label iterative stratification
//! (each class of each task spread evenly over the folds as far as its count allows) with
//! sklearn's `StratifiedGroupKFold` treatment of groups. It depends on the labels when the
//! audit starts; the assignment is then saved ([`crate::runs::folds`]) and never recomputed.
//!
//! Pure: no egui, no burn.

use crate::catalog::Task;
use crate::runs::folds::FoldAssignment;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The fewest products (with a photo) a fold may hold out: a fold model is validated on its
/// fold, and a fold of one product says nothing about it.
pub const MIN_PRODUCTS_PER_FOLD: usize = 2;

/// What the assignment is given of one product.
#[derive(Debug, Clone, PartialEq)]
pub struct FoldMember<'a> {
    /// The product id.
    pub id: &'a str,
    /// Its group value (`None`: a group of its own).
    pub group: Option<&'a str>,
    /// Its labels, per task (`None`: unlabelled).
    pub labels: [Option<&'a str>; 5],
}

/// The catalogue cannot be split into the folds asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    /// Fewer than two folds.
    #[error("an audit needs at least 2 folds, found {0}")]
    TooFewFolds(usize),
    /// Too few products or groups for the folds.
    #[error(
        "{products} products with a photo in {groups} groups are too few for {folds} folds: \
         an audit of {folds} folds needs at least {} products with a photo in at least {folds} \
         groups (use fewer folds, or audit a larger catalogue)",
        folds * MIN_PRODUCTS_PER_FOLD
    )]
    TooSmall {
        /// Products given.
        products: usize,
        /// Groups they form.
        groups: usize,
        /// Folds asked for.
        folds: usize,
    },
}

/// A class with fewer labelled products than folds: some folds' models train without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThinClass {
    /// Its task.
    pub task: Task,
    /// The class.
    pub class: String,
    /// Its labelled products.
    pub products: usize,
}

/// The folds and what the assignment noticed.
#[derive(Debug, Clone, PartialEq)]
pub struct Folds {
    /// Which fold each product is held out in.
    pub assignment: FoldAssignment,
    /// Classes with fewer products than folds (their products are audited by models that saw
    /// few or no other examples of the class).
    pub thin: Vec<ThinClass>,
}

/// Where in the seed's order a group key falls.
fn order_key(key: &str, seed: u64) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(b"fold");
    hasher.update(seed.to_le_bytes());
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Assigns `products` to `folds` folds by the rule of the module docs.
pub fn assign(products: &[FoldMember<'_>], folds: usize, seed: u64) -> Result<Folds, FoldError> {
    if folds < 2 {
        return Err(FoldError::TooFewFolds(folds));
    }
    // Groups, each with its members and its label counts.
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, product) in products.iter().enumerate() {
        let key = product
            .group
            .filter(|g| !g.is_empty())
            .unwrap_or(product.id);
        by_key.entry(key).or_default().push(i);
    }
    if products.len() < folds * MIN_PRODUCTS_PER_FOLD || by_key.len() < folds {
        return Err(FoldError::TooSmall {
            products: products.len(),
            groups: by_key.len(),
            folds,
        });
    }
    // Classes numbered per task, and their totals.
    let mut class_numbers: Vec<BTreeMap<&str, usize>> = vec![BTreeMap::new(); 5];
    let mut totals: Vec<Vec<usize>> = vec![Vec::new(); 5];
    for product in products {
        for (t, label) in product.labels.iter().enumerate() {
            if let Some(label) = label {
                let next = class_numbers[t].len();
                let c = *class_numbers[t].entry(label).or_insert(next);
                if c == totals[t].len() {
                    totals[t].push(0);
                }
                totals[t][c] += 1;
            }
        }
    }
    let mut groups: Vec<(&str, Vec<usize>)> = by_key.into_iter().collect();
    groups.sort_by_cached_key(|(key, members)| {
        (std::cmp::Reverse(members.len()), order_key(key, seed))
    });
    let mut in_fold: Vec<Vec<Vec<usize>>> = (0..folds)
        .map(|_| totals.iter().map(|t| vec![0; t.len()]).collect())
        .collect();
    let mut sizes = vec![0usize; folds];
    let total = products.len() as f64;
    let mut assignment = FoldAssignment::new(folds as u32);
    for (_, members) in &groups {
        let labels: Vec<(usize, usize)> = members
            .iter()
            .flat_map(|&i| {
                products[i]
                    .labels
                    .iter()
                    .enumerate()
                    .filter_map(|(t, l)| l.map(|l| (t, class_numbers[t][l])))
            })
            .collect();
        let cost = |f: usize| {
            let classes: f64 = labels
                .iter()
                .map(|&(t, c)| in_fold[f][t][c] as f64 / totals[t][c] as f64)
                .sum();
            classes + sizes[f] as f64 / total
        };
        let best = (0..folds)
            .min_by(|&a, &b| {
                cost(a)
                    .total_cmp(&cost(b))
                    .then(sizes[a].cmp(&sizes[b]))
                    .then(a.cmp(&b))
            })
            .unwrap_or(0);
        for &(t, c) in &labels {
            in_fold[best][t][c] += 1;
        }
        sizes[best] += members.len();
        for &i in members {
            assignment.insert(products[i].id, best as u32 + 1);
        }
    }
    let mut thin = Vec::new();
    for task in Task::ALL {
        for (class, &c) in &class_numbers[task.index()] {
            let count = totals[task.index()][c];
            if count < folds {
                thin.push(ThinClass {
                    task,
                    class: class.to_string(),
                    products: count,
                });
            }
        }
    }
    Ok(Folds { assignment, thin })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member<'a>(id: &'a str, group: Option<&'a str>, colour: &'a str) -> FoldMember<'a> {
        let mut labels = [None; 5];
        labels[Task::Colour.index()] = Some(colour);
        FoldMember { id, group, labels }
    }

    #[test]
    fn classes_spread_evenly_and_groups_stay_together() {
        let ids: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
        let groups: Vec<String> = (0..100).map(|i| format!("g{}", i / 2)).collect();
        let colours = ["Red", "Blue", "Black", "White"];
        let products: Vec<FoldMember> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                // Red: 40 products, Blue 30, Black 20, White 10; two products per group of
                // one colour.
                let c = match (i / 2) % 10 {
                    0..=3 => 0,
                    4..=6 => 1,
                    7 | 8 => 2,
                    _ => 3,
                };
                member(id, Some(&groups[i]), colours[c])
            })
            .collect();
        let folds = assign(&products, 5, 1).unwrap();
        assert_eq!(folds.assignment.sizes(), vec![20; 5]);
        for pair in products.chunks(2) {
            assert_eq!(
                folds.assignment.fold(pair[0].id),
                folds.assignment.fold(pair[1].id),
                "a group in one fold"
            );
        }
        for (c, expected) in colours.iter().zip([8, 6, 4, 2]) {
            for fold in 1..=5 {
                let n = products
                    .iter()
                    .filter(|p| {
                        p.labels[Task::Colour.index()] == Some(c)
                            && folds.assignment.fold(p.id) == Some(fold)
                    })
                    .count();
                assert_eq!(n, expected, "{c} in fold {fold}");
            }
        }
        assert!(folds.thin.is_empty());
        // The seed changes the folds, not their balance.
        let other = assign(&products, 5, 2).unwrap();
        assert_ne!(other.assignment, folds.assignment);
        assert_eq!(other.assignment.sizes(), vec![20; 5]);
    }

    #[test]
    fn too_small_catalogues_and_thin_classes_are_said() {
        let ids: Vec<String> = (0..9).map(|i| format!("p{i}")).collect();
        let products: Vec<FoldMember> = ids
            .iter()
            .map(|id| member(id, None, if id == "p0" { "Teal" } else { "Red" }))
            .collect();
        let error = assign(&products, 5, 1).unwrap_err();
        assert_eq!(
            error,
            FoldError::TooSmall {
                products: 9,
                groups: 9,
                folds: 5
            }
        );
        assert!(
            error.to_string().contains("at least 10 products"),
            "{error}"
        );
        assert_eq!(assign(&products, 1, 1), Err(FoldError::TooFewFolds(1)));
        let one_group: Vec<FoldMember> =
            ids.iter().map(|id| member(id, Some("g"), "Red")).collect();
        assert!(matches!(
            assign(&one_group, 2, 1),
            Err(FoldError::TooSmall { groups: 1, .. })
        ));
        let folds = assign(&products, 3, 1).unwrap();
        assert_eq!(folds.assignment.sizes(), vec![3, 3, 3]);
        assert_eq!(
            folds.thin,
            vec![ThinClass {
                task: Task::Colour,
                class: "Teal".into(),
                products: 1
            }]
        );
    }
}
