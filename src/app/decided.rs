//! "Which photo decided" in the product view: asked for one product at a time (the run's
//! model runs on a worker), shown until another product is asked for.

use crate::ml::saved::ProductDecision;

/// The product view's "which photo decided" state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DecidedState {
    /// The product asked for (catalogue position), while its answer is on the way.
    pub asking: Option<u32>,
    /// The last answer: the product's catalogue position and each photo's part, or why none.
    pub answer: Option<(u32, Result<ProductDecision, String>)>,
}

impl DecidedState {
    /// The answer for the product at `position`, if it is the last one.
    pub fn of(&self, position: u32) -> Option<&Result<ProductDecision, String>> {
        match &self.answer {
            Some((p, answer)) if *p == position => Some(answer),
            _ => None,
        }
    }
}
