//! The deterministic train/validation split, by product or by group of products.
//!
//! A product's side depends only on its key (its group's value when a group attribute is set,
//! else its id), the seed and the validation share: not on the catalogue's order or size, so a
//! product keeps its side when others are added, and single- and multi-image runs with the
//! same seed see the same split.

use super::config::RunConfig;
use super::folder::RunError;
use super::folds::FoldAssignment;
use super::predictions::Split;
use crate::catalog::{Catalog, Product};
use sha2::{Digest, Sha256};

/// The split of one run: by hash (an ordinary run) or by the folds of an audit (a fold's
/// model), built once per run so the folds file is read once.
#[derive(Debug, Clone)]
pub struct Splitter {
    seed: u64,
    validation_fraction: f64,
    group_by: Option<String>,
    fold: Option<(FoldAssignment, u32)>,
}

impl Splitter {
    /// The split of `config`, reading its audit's folds file when it is a fold's model.
    pub fn new(config: &RunConfig) -> Result<Splitter, RunError> {
        let fold = match &config.fold {
            Some(fold) => Some((FoldAssignment::read(&fold.file)?, fold.held_out)),
            None => None,
        };
        Ok(Splitter {
            fold,
            ..Splitter::by_hash(config)
        })
    }

    /// The hash split of `config` (its fold, if any, left aside).
    pub fn by_hash(config: &RunConfig) -> Splitter {
        Splitter {
            seed: config.seed,
            validation_fraction: config.validation_fraction,
            group_by: config.group_by.clone(),
            fold: None,
        }
    }

    /// Whether this is an audit fold's split.
    pub fn is_fold(&self) -> bool {
        self.fold.is_some()
    }

    /// The side `product` falls on. A fold's model validates on its held-out fold, trains on
    /// the other folds and leaves a product in no fold aside ([`Split::Test`]); an ordinary
    /// run decides by the product's group value when it groups products (and the product has
    /// one), else by its id.
    pub fn side(&self, catalog: &Catalog, product: &Product) -> Split {
        if let Some((folds, held_out)) = &self.fold {
            return match folds.fold(&product.id) {
                Some(fold) if fold == *held_out => Split::Validation,
                Some(_) => Split::Train,
                None => Split::Test,
            };
        }
        let key = self
            .group_by
            .as_deref()
            .and_then(|attribute| catalog.attribute(product, attribute))
            .filter(|value| !value.is_empty())
            .unwrap_or(&product.id);
        split_of(key, self.seed, self.validation_fraction)
    }
}

/// The side of the split that `key` falls on.
pub fn split_of(key: &str, seed: u64, validation_fraction: f64) -> Split {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(key.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // 53 bits make an exactly representable uniform value in [0, 1).
    let unit = (u64::from_le_bytes(first) >> 11) as f64 / (1u64 << 53) as f64;
    if unit < validation_fraction {
        Split::Validation
    } else {
        Split::Train
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_stable_and_close_to_the_asked_share() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("product-{i}")).collect();
        let validation = keys
            .iter()
            .filter(|k| split_of(k, 1, 0.2) == Split::Validation)
            .count();
        assert!((1_800..2_200).contains(&validation), "{validation}");
        for key in &keys[..100] {
            assert_eq!(split_of(key, 1, 0.2), split_of(key, 1, 0.2));
        }
        let moved = keys[..1000]
            .iter()
            .filter(|k| split_of(k, 1, 0.2) != split_of(k, 2, 0.2))
            .count();
        assert!(moved > 100, "another seed gives another split");
        assert!(keys.iter().all(|k| split_of(k, 1, 0.0) == Split::Train));
    }
}
