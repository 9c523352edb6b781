//! The labels of a product: the truth the images show, and the deliberate mistakes of the
//! few products chosen to be mislabelled.
//!
//! Mistakes imitate real cataloguing errors: mostly a wrong colour (half the time a colour
//! people confuse it with, Navy Blue for Black), then a wrong gender, a sibling subcategory
//! (Shirts for Tshirts), a product filed under another category of the same type (a T-shirt
//! filed as Bottomwear > Shorts), rarely under another type altogether. A wrong category or
//! type always comes with the matching lower levels, so every given type > category >
//! subcategory path is a real path of the tree: the catalogue's taxonomy stays clean and the
//! mistake can only be seen in the images.

use super::spec::{ProductSpec, pick};
use super::taxonomy::{COLOURS, Gender, Kind, colour};
use crate::catalog::Task;
use rand::Rng;
use rand::seq::IndexedRandom;

/// The five labels of a product, indexed by [`Task::index`].
pub type Labels = [&'static str; 5];

/// The labels the images of `spec` show.
pub fn truth(spec: &ProductSpec) -> Labels {
    let (ty, category, subcategory) = spec.kind.labels();
    [
        spec.gender.name(),
        spec.colour.name,
        ty,
        category,
        subcategory,
    ]
}

/// The kind of mistake made on a mislabelled product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mistake {
    Colour,
    Gender,
    Subcategory,
    Category,
    Type,
}

/// Labels of `spec` with one deliberate mistake; the tasks whose label differs from
/// [`truth`] are the wrong ones (one, or two to three for a misfiled product).
pub fn mislabel(spec: &ProductSpec, rng: &mut impl Rng) -> Labels {
    let mut labels = truth(spec);
    let mistake = pick(
        rng,
        &[
            (Mistake::Colour, 50),
            (Mistake::Gender, 20),
            (Mistake::Subcategory, 14),
            (Mistake::Category, 11),
            (Mistake::Type, 5),
        ],
    )
    .unwrap_or(Mistake::Colour);
    let (ty, category, _) = spec.kind.labels();
    // Which kinds the product may be misfiled as; `None` for colour and gender mistakes.
    let candidates: Option<Vec<Kind>> = match mistake {
        Mistake::Colour | Mistake::Gender => None,
        Mistake::Subcategory => Some(kinds(|(t, c, _)| t == ty && c == category, spec.kind)),
        Mistake::Category => Some(kinds(|(t, c, _)| t == ty && c != category, spec.kind)),
        Mistake::Type => Some(kinds(|(t, _, _)| t != ty, spec.kind)),
    };
    match (mistake, candidates.as_deref().and_then(|k| k.choose(rng))) {
        (Mistake::Gender, _) => {
            let others: Vec<Gender> = Gender::ALL
                .into_iter()
                .filter(|&g| g != spec.gender)
                .collect();
            if let Some(gender) = others.choose(rng) {
                labels[Task::Gender.index()] = gender.name();
            }
        }
        (_, Some(kind)) => {
            let (ty, category, subcategory) = kind.labels();
            labels[Task::Type.index()] = ty;
            labels[Task::Category.index()] = category;
            labels[Task::Subcategory.index()] = subcategory;
        }
        // A colour mistake, or a category with a single subcategory (Dresses, Watches) that
        // cannot get a sibling: fall back to the most common mistake.
        _ => labels[Task::Colour.index()] = wrong_colour(spec, rng),
    }
    labels
}

/// Kinds other than `own` whose labels pass `keep`.
fn kinds(keep: impl Fn((&str, &str, &str)) -> bool, own: Kind) -> Vec<Kind> {
    Kind::ALL
        .into_iter()
        .filter(|&k| k != own && keep(k.labels()))
        .collect()
}

/// A colour other than the product's, half the time one it is easily confused with.
fn wrong_colour(spec: &ProductSpec, rng: &mut impl Rng) -> &'static str {
    let truth = spec.colour.name;
    if rng.random_bool(0.5) {
        let confused = spec
            .colour
            .confused_with
            .choose(rng)
            .and_then(|n| colour(n));
        if let Some(c) = confused {
            return c.name;
        }
    }
    let others: Vec<&'static str> = COLOURS
        .iter()
        .map(|c| c.name)
        .filter(|&n| n != truth)
        .collect();
    others.choose(rng).copied().unwrap_or(truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use std::collections::{HashMap, HashSet};

    #[test]
    fn mistakes_change_labels_but_keep_the_tree_valid() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let paths: HashSet<(&str, &str, &str)> = Kind::ALL.iter().map(|k| k.labels()).collect();
        let mut wrong_tasks: HashMap<Task, usize> = HashMap::new();
        for i in 0..2000 {
            let spec = ProductSpec::draw(format!("p{i}"), &mut rng);
            let truth = truth(&spec);
            let given = mislabel(&spec, &mut rng);
            let wrong: Vec<Task> = Task::ALL
                .into_iter()
                .filter(|t| truth[t.index()] != given[t.index()])
                .collect();
            assert!((1..=3).contains(&wrong.len()), "{truth:?} -> {given:?}");
            for task in wrong {
                *wrong_tasks.entry(task).or_default() += 1;
            }
            assert!(paths.contains(&(given[2], given[3], given[4])), "{given:?}");
        }
        let count = |t| wrong_tasks.get(&t).copied().unwrap_or(0);
        // Colour dominates; every task gets some mistakes.
        assert!(count(Task::Colour) > count(Task::Gender), "{wrong_tasks:?}");
        assert!(count(Task::Gender) > count(Task::Type), "{wrong_tasks:?}");
        assert!(count(Task::Type) > 0 && count(Task::Category) > count(Task::Type));
    }
}
