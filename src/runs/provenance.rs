//! Where a prediction comes from: the one rule that says whether a model saw a product's label
//! before predicting it, shared by the predictions and the probabilities files.
//!
//! A run predicts every product of its catalogue: those it trained on (`split` `train`) are
//! in-sample, and ranking them by disagreement is biased (the model has fit their labels,
//! wrong ones included); those of its validation and test splits are held out. An audit trains
//! one model per fold and keeps each model's predictions of its own held-out fold: every line
//! names its `fold` and is out-of-fold.
//!
//! Folds are stored in 16 bits beside a line's other facts, so a file may number them up to
//! [`MAX_FOLD`].
//!
//! Pure: serde only, no egui, no burn.

use super::predictions::Split;
use serde::{Deserialize, Serialize};

/// Where one product's prediction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// The model trained on the product's label.
    InSample,
    /// The product was in the run's validation or test split.
    HeldOut,
    /// Predicted by the fold model that did not train on the product.
    OutOfFold,
}

impl Provenance {
    /// The provenance of a line with `split` and `fold`: a fold makes it out-of-fold whatever
    /// its split; otherwise train is in-sample, validation and test are held out; a line
    /// with neither (a product the run did not use) has none.
    pub fn of(split: Option<Split>, fold: Option<u32>) -> Option<Provenance> {
        match (fold, split) {
            (Some(_), _) => Some(Provenance::OutOfFold),
            (None, Some(Split::Train)) => Some(Provenance::InSample),
            (None, Some(Split::Validation | Split::Test)) => Some(Provenance::HeldOut),
            (None, None) => None,
        }
    }

    /// The words shown wherever predictions are ranked or filtered by this provenance.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::InSample => "in-sample (biased)",
            Provenance::HeldOut => "held-out",
            Provenance::OutOfFold => "out-of-fold",
        }
    }

    /// Whether the model saw the label it is compared with (a ranking by disagreement then
    /// favours the labels it fit).
    pub fn is_biased(self) -> bool {
        self == Provenance::InSample
    }
}

/// What wrote a predictions or probabilities file, as its header's optional `kind` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// One run's model predicting every product: train lines in-sample, the others held out.
    Run,
    /// An audit's fold models merged: every line out-of-fold, naming its fold.
    OutOfFold,
}

/// The largest fold number a file may hold.
pub const MAX_FOLD: u32 = u16::MAX as u32 - 1;

/// A line without a fold, as stored.
const NO_FOLD: u16 = u16::MAX;

/// A line's fold as stored in memory; fails with a message beyond [`MAX_FOLD`].
pub(crate) fn pack_fold(fold: Option<u32>) -> Result<u16, String> {
    match fold {
        None => Ok(NO_FOLD),
        Some(fold) => u16::try_from(fold)
            .ok()
            .filter(|&f| f != NO_FOLD)
            .ok_or_else(|| format!("fold {fold} is beyond the largest, {MAX_FOLD}")),
    }
}

/// A stored fold as the line had it.
pub(crate) fn unpack_fold(stored: u16) -> Option<u32> {
    (stored != NO_FOLD).then_some(u32::from(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fold_makes_a_line_out_of_fold_and_otherwise_the_split_decides() {
        assert_eq!(
            Provenance::of(Some(Split::Train), Some(2)),
            Some(Provenance::OutOfFold)
        );
        assert_eq!(Provenance::of(None, Some(0)), Some(Provenance::OutOfFold));
        assert_eq!(
            Provenance::of(Some(Split::Train), None),
            Some(Provenance::InSample)
        );
        for split in [Split::Validation, Split::Test] {
            assert_eq!(Provenance::of(Some(split), None), Some(Provenance::HeldOut));
        }
        assert_eq!(Provenance::of(None, None), None);
    }

    #[test]
    fn only_in_sample_predictions_are_biased_and_say_so() {
        assert!(Provenance::InSample.is_biased());
        assert!(!Provenance::HeldOut.is_biased());
        assert!(!Provenance::OutOfFold.is_biased());
        assert_eq!(Provenance::InSample.label(), "in-sample (biased)");
        assert_eq!(Provenance::HeldOut.label(), "held-out");
        assert_eq!(Provenance::OutOfFold.label(), "out-of-fold");
    }

    #[test]
    fn folds_pack_into_16_bits_up_to_the_largest() {
        for fold in [None, Some(0), Some(4), Some(MAX_FOLD)] {
            assert_eq!(unpack_fold(pack_fold(fold).unwrap()), fold);
        }
        for fold in [MAX_FOLD + 1, u32::MAX] {
            let message = pack_fold(Some(fold)).unwrap_err();
            assert_eq!(
                message,
                format!("fold {fold} is beyond the largest, {MAX_FOLD}")
            );
        }
    }
}
