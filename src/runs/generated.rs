//! Generated predictions, for tests and benchmarks that need a predictions file without
//! training a model (never shown to users: the demo's predictions come from a real audit).
//! Pure: no egui, no burn.

use super::predictions::{Header, Predictions, ProductPrediction, TaskPrediction};
use crate::catalog::{Catalog, ClassId, Task};
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;

/// How the header's `run` of generated predictions starts.
pub const SYNTHETIC: &str = "synthetic:";

/// Whether predictions were generated (by [`generate_fake`]) rather than made by a model.
pub fn is_generated(predictions: &Predictions) -> bool {
    predictions.header.run.starts_with(SYNTHETIC)
}

/// Generated predictions for tests and benchmarks: per product and task, the current label is
/// the top class with probability `accuracy`, else another class is. The header's `run` starts
/// with [`SYNTHETIC`].
pub fn generate_fake(catalog: &Catalog, seed: u64, accuracy: f64) -> Predictions {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut classes = BTreeMap::new();
    for task in Task::ALL {
        let vocabulary = catalog.vocabulary(task);
        if vocabulary.is_empty() {
            continue;
        }
        let names: Vec<String> = (0..vocabulary.len() as u32)
            .map(|i| vocabulary.name(ClassId(i)).to_string())
            .collect();
        classes.insert(task, names);
    }
    let header = Header::new(
        format!("{SYNTHETIC} generated, seed {seed}, accuracy {accuracy}"),
        classes,
    );
    let mut predictions = Predictions::new(header);
    for product in catalog.products() {
        let mut tasks = BTreeMap::new();
        for task in Task::ALL {
            let count = catalog.vocabulary(task).len();
            if count == 0 {
                continue;
            }
            let label = product.label(task).map(|c| c.0 as usize);
            let right = rng.random_bool(accuracy.clamp(0.0, 1.0));
            let first = match label {
                Some(l) if right || count == 1 => l,
                Some(l) => (l + rng.random_range(1..count)) % count,
                None => rng.random_range(0..count),
            };
            let mut order = vec![first];
            while order.len() < 3.min(count) {
                let other = rng.random_range(0..count);
                if !order.contains(&other) {
                    order.push(other);
                }
            }
            let p1: f32 = rng.random_range(0.4..0.98);
            let p2 = (1.0 - p1) * rng.random_range(0.4..0.8);
            let p3 = (1.0 - p1 - p2) * rng.random_range(0.3..0.9);
            let vocabulary = catalog.vocabulary(task);
            let top = order
                .iter()
                .zip([p1, p2, p3])
                .map(|(&c, p)| (vocabulary.name(ClassId(c as u32)).to_string(), p))
                .collect();
            tasks.insert(
                task,
                TaskPrediction {
                    label: catalog.label_name(product, task).map(String::from),
                    top,
                },
            );
        }
        // Ids are unique in a catalogue and every class comes from its vocabulary, so the
        // line always fits; an error here would be a bug in this function.
        let _ = predictions.insert(ProductPrediction {
            product_id: product.id.to_string(),
            split: None,
            fold: None,
            tasks,
            photos: None,
        });
    }
    predictions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ProductDraft;
    use crate::runs::predictions::FILE_NAME;

    fn catalog() -> Catalog {
        let mut c = Catalog::new("/tmp");
        for (i, colour) in ["Red", "Blue", "Green", "Red"].iter().enumerate() {
            let mut d = ProductDraft {
                id: format!("p{i}"),
                ..Default::default()
            };
            d.labels[Task::Colour.index()] = Some(colour.to_string());
            c.push(d).unwrap();
        }
        c
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let c = catalog();
        let fake = generate_fake(&c, 3, 0.5);
        assert!(fake.header.run.starts_with("synthetic"));
        let path = fake.write(&dir.path().join(FILE_NAME), &c).unwrap();
        let read = Predictions::read(&path).unwrap();
        assert_eq!(read.len(), 4);
        assert!(read.warnings.is_empty());
        for p in c.products() {
            assert_eq!(read.top(&p.id, Task::Colour), fake.top(&p.id, Task::Colour));
            assert_eq!(read.top(&p.id, Task::Colour).len(), 3);
        }
        assert!(!read.has_task(Task::Gender), "no gender labels, no head");
        assert!(read.top("p0", Task::Gender).is_empty());
        assert!(!dir.path().join("predictions.jsonl.partial").exists());
    }

    #[test]
    fn accuracy_one_never_disagrees_and_zero_always_does() {
        let c = catalog();
        let right = generate_fake(&c, 1, 1.0);
        let wrong = generate_fake(&c, 1, 0.0);
        for p in c.products() {
            assert!(!right.disagrees(&c, &p.id, Task::Colour));
            assert!(wrong.disagrees(&c, &p.id, Task::Colour));
            let confidence = right.confidence(&p.id, Task::Colour).unwrap();
            assert!((0.0..=1.0).contains(&confidence));
        }
    }
}
