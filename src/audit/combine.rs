//! One review queue from the witnesses, each kept visible.
//!
//! # The rule
//!
//! A labelled product enters the queue when confident learning flags its label
//! ([`TaskAudit::issues`]), its text names another class ([`TextWitness`]), or its duplicates
//! carry another class ([`DuplicateWitness`], where duplicates were searched). Its place is
//! decided first by which witnesses speak against the label, in this order of [`Tier`]s:
//!
//! 1. [`Tier::BothAgree`]: flagged, and the text or the duplicates name the class the model
//!    finds most probable (two independent witnesses for the same correction);
//! 2. [`Tier::Both`]: flagged, and the text or the duplicates name yet another class;
//! 3. [`Tier::ImageOnly`]: flagged, the other witnesses silent (or naming the label);
//! 4. [`Tier::DuplicateOnly`]: not flagged, but its duplicates carry another class (one of the
//!    labels of the cluster is wrong, and the model backs this one);
//! 5. [`Tier::TextOnly`]: not flagged, but the text names another class (a hint the model
//!    does not back: brand names such as "Red Tape" land here);
//!
//! then, within a tier, by the image's label quality score ([`RankBy`], between 0 and 1,
//! lower first), then by row. The combined score is `tier + score` (tier counted from 0), so
//! sorting by it alone gives the queue: every product of a tier comes before any product of
//! the next. Products without a label are never in the queue (nothing to correct).

use super::confident::{AuditInput, Probability, RankBy, TaskAudit, label_quality};
use super::duplicate::DuplicateWitness;
use super::text::TextWitness;
use std::cmp::Ordering;

/// Which witnesses speak against a label (see the module docs for the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Confident learning flags it and the text names the model's suggestion.
    BothAgree,
    /// Confident learning flags it and the text names another class.
    Both,
    /// Confident learning flags it; the other witnesses do not speak against it.
    ImageOnly,
    /// Only its duplicates carry another class.
    DuplicateOnly,
    /// Only the text names another class.
    TextOnly,
}

impl Tier {
    /// The tier's place in the queue, from 0.
    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// What the model's probabilities say about one product.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageEvidence {
    /// Whether confident learning flags the label.
    pub flagged: bool,
    /// The label quality score (0..1, lower: more likely wrong).
    pub score: f64,
    /// The model's most probable class.
    pub suggested: usize,
    /// Its probability.
    pub suggested_probability: f64,
}

/// One product in the review queue, with its witnesses and the combined score.
#[derive(Debug, Clone, PartialEq)]
pub struct Suspect {
    /// The row (product).
    pub row: usize,
    /// The given class.
    pub given: usize,
    /// The image witness.
    pub image: ImageEvidence,
    /// The text witness, if the text names another class.
    pub text: Option<TextWitness>,
    /// The duplicate witness, if its duplicates carry another class.
    pub duplicate: Option<DuplicateWitness>,
    /// Which witnesses speak against the label.
    pub tier: Tier,
    /// `tier + score`: the queue's sort key, lower first.
    pub combined: f64,
}

impl Suspect {
    /// The class the queue suggests: the model's most probable class, or the duplicates' or
    /// the text's class when only they speak (the model then backs the label).
    pub fn suggestion(&self) -> usize {
        match (self.tier, &self.duplicate, &self.text) {
            (Tier::DuplicateOnly, Some(duplicate), _) => duplicate.class,
            (Tier::TextOnly, _, Some(text)) => text.class,
            _ => self.image.suggested,
        }
    }
}

/// The tier of a product, or `None` when no witness speaks against its label.
pub fn tier(
    image: &ImageEvidence,
    text: Option<&TextWitness>,
    duplicate: Option<&DuplicateWitness>,
) -> Option<Tier> {
    let named = [text.map(|t| t.class), duplicate.map(|d| d.class)];
    let another = named.iter().any(Option::is_some);
    match image.flagged {
        true if named.contains(&Some(image.suggested)) => Some(Tier::BothAgree),
        true if another => Some(Tier::Both),
        true => Some(Tier::ImageOnly),
        false if duplicate.is_some() => Some(Tier::DuplicateOnly),
        false if text.is_some() => Some(Tier::TextOnly),
        false => None,
    }
}

/// The combined score of a product in `tier` with label quality `score`.
pub fn combined_score(tier: Tier, score: f64) -> f64 {
    // Scores are within 0..1 by construction; the clamp keeps a probability of 1 + 1e-6
    // from reaching into the next tier.
    f64::from(tier.rank()) + score.clamp(0.0, 1.0)
}

/// The review queue of one task: every labelled product that confident learning flags, whose
/// text witness (`texts[row]`, one per row, from
/// [`TextMatcher::witness`](super::text::TextMatcher::witness)) names another class, or whose
/// duplicates (`duplicates[row]`, from [`super::duplicate::witnesses`]; empty when none were
/// searched) carry another class, in queue order.
pub fn review_queue<P: Probability>(
    input: &AuditInput<'_, P>,
    audit: &TaskAudit,
    texts: &[Option<TextWitness>],
    duplicates: &[Option<DuplicateWitness>],
    rank_by: RankBy,
) -> Vec<Suspect> {
    let mut flagged = vec![false; input.rows()];
    for &row in &audit.issues {
        flagged[row] = true;
    }
    let labels = input.labels();
    let mut queue: Vec<Suspect> = (0..input.rows())
        .filter_map(|row| {
            let given = labels[row]?;
            let text = texts.get(row).cloned().flatten();
            let duplicate = duplicates.get(row).cloned().flatten();
            if !flagged[row] && text.is_none() && duplicate.is_none() {
                return None;
            }
            let suggested = input.most_probable(row);
            let image = ImageEvidence {
                flagged: flagged[row],
                score: label_quality(input, row, rank_by)?,
                suggested,
                suggested_probability: input.row(row)[suggested].widen(),
            };
            let tier = tier(&image, text.as_ref(), duplicate.as_ref())?;
            Some(Suspect {
                row,
                given,
                combined: combined_score(tier, image.score),
                image,
                text,
                duplicate,
                tier,
            })
        })
        .collect();
    queue.sort_by(|a, b| {
        a.combined
            .partial_cmp(&b.combined)
            .unwrap_or(Ordering::Equal)
            .then(a.row.cmp(&b.row))
    });
    queue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::confident::audit;
    use crate::audit::text::TextMatcher;

    #[test]
    fn both_witnesses_first_then_the_image_then_the_text() {
        // Colour head: Black, Navy Blue, White. Rows 0-3 are sure of their label; rows 4-6
        // look like another colour than their label.
        let names = ["Black", "Navy Blue", "White"].map(String::from);
        let rows: [([f32; 3], usize, &str); 10] = [
            ([0.9, 0.05, 0.05], 0, "Puma Men Black Shoes"),
            ([0.05, 0.9, 0.05], 1, "Nike Men Navy Blue Running Shoes"),
            ([0.05, 0.05, 0.9], 2, "Puma Women White Sandals"),
            ([0.9, 0.05, 0.05], 0, "Red Tape Men Navy Blue Casual Shoes"),
            ([0.04, 0.93, 0.03], 0, "Roadster Men Navy Blue Shirt"),
            ([0.1, 0.05, 0.85], 0, "Nike Men Navy Blue Tshirt"),
            ([0.8, 0.15, 0.05], 2, "Adidas Men Track Pants"),
            ([0.88, 0.07, 0.05], 0, "Puma Men Shoes"),
            ([0.05, 0.88, 0.07], 1, "Puma Men Shoes"),
            ([0.07, 0.05, 0.88], 2, "Puma Men Shoes"),
        ];
        let probs: Vec<f32> = rows.iter().flat_map(|r| r.0).collect();
        let labels: Vec<Option<usize>> = rows.iter().map(|r| Some(r.1)).collect();
        let input = AuditInput::new(&probs, 3, &labels).unwrap();
        let audit = audit(&input);
        assert_eq!(audit.issues, vec![4, 5, 6]);
        let matcher = TextMatcher::new(&names);
        let texts: Vec<Option<TextWitness>> = rows
            .iter()
            .map(|r| matcher.witness(&[r.2], Some(r.1)))
            .collect();
        let queue = review_queue(&input, &audit, &texts, &[], RankBy::NormalizedMargin);
        let order: Vec<(usize, Tier)> = queue.iter().map(|s| (s.row, s.tier)).collect();
        assert_eq!(
            order,
            vec![
                (4, Tier::BothAgree),
                (5, Tier::Both),
                (6, Tier::ImageOnly),
                (3, Tier::TextOnly),
            ]
        );
        // Each witness stays visible.
        assert_eq!(queue[0].image.suggested, 1);
        assert_eq!(queue[0].text.as_ref().unwrap().class, 1);
        assert!(queue[3].text.is_some() && !queue[3].image.flagged);
        // A text-only suspect suggests the text's class, the others the model's.
        assert_eq!(queue[3].suggestion(), 1);
        assert_eq!(queue[1].suggestion(), 2);
        assert!(queue.windows(2).all(|w| w[0].combined <= w[1].combined));
        assert!(queue[3].combined >= 4.0);

        // Row 7 (Black, sure) and row 8 (Navy Blue, sure) share a photo: each is doubted by
        // the other, below what the model flags and above the text alone.
        let mut duplicates = vec![None; rows.len()];
        duplicates[7] = Some(DuplicateWitness {
            class: 1,
            agreeing: 1,
            others: 1,
            copy: true,
        });
        duplicates[8] = Some(DuplicateWitness {
            class: 0,
            agreeing: 1,
            others: 1,
            copy: true,
        });
        let queue = review_queue(
            &input,
            &audit,
            &texts,
            &duplicates,
            RankBy::NormalizedMargin,
        );
        let order: Vec<(usize, Tier, usize)> = queue
            .iter()
            .map(|s| (s.row, s.tier, s.suggestion()))
            .collect();
        assert_eq!(
            order,
            vec![
                (4, Tier::BothAgree, 1),
                (5, Tier::Both, 2),
                (6, Tier::ImageOnly, 0),
                (7, Tier::DuplicateOnly, 1),
                (8, Tier::DuplicateOnly, 0),
                (3, Tier::TextOnly, 1),
            ]
        );
    }

    #[test]
    fn tiers_and_scores_combine_in_order() {
        let image = |flagged, suggested| ImageEvidence {
            flagged,
            score: 0.5,
            suggested,
            suggested_probability: 0.6,
        };
        let text = TextWitness {
            class: 1,
            text: 0,
            span: 0..4,
        };
        let copies = |class| DuplicateWitness {
            class,
            agreeing: 1,
            others: 1,
            copy: true,
        };
        assert_eq!(
            tier(&image(true, 1), Some(&text), None),
            Some(Tier::BothAgree)
        );
        assert_eq!(tier(&image(true, 2), Some(&text), None), Some(Tier::Both));
        assert_eq!(tier(&image(true, 2), None, None), Some(Tier::ImageOnly));
        assert_eq!(
            tier(&image(false, 2), Some(&text), None),
            Some(Tier::TextOnly)
        );
        assert_eq!(tier(&image(false, 2), None, None), None);
        // The duplicates are a witness as the text is, and outrank the text alone.
        assert_eq!(
            tier(&image(true, 2), Some(&text), Some(&copies(2))),
            Some(Tier::BothAgree)
        );
        assert_eq!(
            tier(&image(true, 2), None, Some(&copies(0))),
            Some(Tier::Both)
        );
        assert_eq!(
            tier(&image(false, 2), Some(&text), Some(&copies(0))),
            Some(Tier::DuplicateOnly)
        );
        assert!(combined_score(Tier::ImageOnly, 1.0) <= combined_score(Tier::DuplicateOnly, 0.0));
        assert!(combined_score(Tier::DuplicateOnly, 1.0) <= combined_score(Tier::TextOnly, 0.0));
        assert!(combined_score(Tier::Both, 1.0) <= combined_score(Tier::ImageOnly, 0.0));
        assert_eq!(combined_score(Tier::ImageOnly, 1.000001), 3.0);
    }
}
