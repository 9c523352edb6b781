//! Reviews: a moderator checked a label and kept it ("checked, it is right"). The store
//! journals each one with the label confirmed and the signature of the product's photos at
//! that time; the review holds while both are unchanged, so an audit does not raise the
//! product again for that task until its label or its photos change.

use crate::catalog::text::printable;
use crate::catalog::{PhotoSignature, Task};
use std::fmt;

/// A label to keep: what a moderator confirmed, as recorded by
/// [`super::LabelStore::keep`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keep {
    /// The product id.
    pub product: String,
    /// The task.
    pub task: Task,
    /// The label confirmed.
    pub label: String,
    /// The product's photos when it was checked ([`crate::catalog::Product::photo_signature`]).
    pub photos: PhotoSignature,
}

/// Who withdrew a review, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// Who withdrew it.
    pub author: String,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: i64,
}

/// A review as journalled in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// Review number (increasing).
    pub id: i64,
    /// The product id.
    pub product: String,
    /// The task.
    pub task: Task,
    /// The label confirmed.
    pub label: String,
    /// The product's photos when it was checked.
    pub photos: PhotoSignature,
    /// Who checked it.
    pub author: String,
    /// When, in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Set once the review was withdrawn (an undone keep); the row stays in the journal.
    pub withdrawn: Option<Withdrawal>,
}

/// What stands for one product and task after its reviews changed: the latest review not
/// withdrawn, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The product id.
    pub product: String,
    /// The task.
    pub task: Task,
    /// The standing review.
    pub review: Option<Review>,
}

/// A review withdrawn, and what stands for its product and task since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// The review, its withdrawal filled in.
    pub review: Review,
    /// The latest review of the same product and task still standing (another moderator's
    /// earlier check), if any.
    pub standing: Option<Review>,
}

/// Whether `review` still vouches for a product whose label of the review's task is
/// `current_label` and whose photos have `current_signature`: not withdrawn, the same label,
/// the same photos. The one rule for "a kept product stays out of the review queue".
pub fn holds(
    review: &Review,
    current_label: Option<&str>,
    current_signature: PhotoSignature,
) -> bool {
    review.withdrawn.is_none()
        && current_label == Some(review.label.as_str())
        && current_signature == review.photos
}

impl fmt::Display for Review {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "review #{}: {} of {} kept as {} by {}",
            self.id,
            self.task,
            printable(&self.product),
            printable(&self.label),
            printable(&self.author)
        )?;
        if let Some(withdrawal) = &self.withdrawn {
            write!(f, " (withdrawn by {})", printable(&withdrawal.author))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(label: &str, photos: u64) -> Review {
        Review {
            id: 1,
            product: "p1".into(),
            task: Task::Colour,
            label: label.into(),
            photos: PhotoSignature(photos),
            author: "ada".into(),
            time_ms: 0,
            withdrawn: None,
        }
    }

    #[test]
    fn a_review_holds_while_its_label_and_photos_are_unchanged() {
        let kept = review("Red", 7);
        assert!(holds(&kept, Some("Red"), PhotoSignature(7)));
        assert!(
            !holds(&kept, Some("Blue"), PhotoSignature(7)),
            "label changed"
        );
        assert!(!holds(&kept, None, PhotoSignature(7)), "label cleared");
        assert!(
            !holds(&kept, Some("red"), PhotoSignature(7)),
            "another class"
        );
        assert!(
            !holds(&kept, Some("Red"), PhotoSignature(8)),
            "photos changed"
        );
        let withdrawn = Review {
            withdrawn: Some(Withdrawal {
                author: "bob".into(),
                time_ms: 1,
            }),
            ..kept
        };
        assert!(!holds(&withdrawn, Some("Red"), PhotoSignature(7)));
        assert_eq!(
            withdrawn.to_string(),
            "review #1: colour of p1 kept as Red by ada (withdrawn by bob)"
        );
    }
}
