//! The product view's Similar strip: which representations it searches, and the neighbours of
//! the focused product (plain data; the search itself runs on the similar worker).

/// How many neighbours the strip asks for ("Show all" opens them in the grid).
pub const STRIP_NEIGHBOURS: usize = 24;

/// The representations behind the strip.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SimilarStatus {
    /// No predictions loaded, so no run to take representations from.
    #[default]
    NoRun,
    /// The worker is reading them (and building or loading the index).
    Loading,
    /// Ready to search.
    Ready {
        /// Which model they come from ("run X", "audit X, the model of fold 1").
        note: String,
        /// Exact search or the index.
        method: String,
        /// How many products have a representation.
        products: usize,
    },
    /// None can be used: why (shown in the strip).
    Unavailable(String),
}

/// One neighbour of the focused product.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarProduct {
    /// Its catalogue position; `None` when the run knows a product the catalogue no longer
    /// has.
    pub position: Option<u32>,
    /// Its product id.
    pub id: String,
    /// Cosine similarity to the focused product.
    pub similarity: f32,
}

/// The strip's state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimilarState {
    /// The representations searched.
    pub status: SimilarStatus,
    /// Counts the representations opened; answers for an older one are dropped.
    pub generation: u64,
    /// The product whose neighbours were asked for last.
    pub requested: Option<u32>,
    /// The neighbours found, for the product at this catalogue position; `Err` when that
    /// product has no representation.
    pub found: Option<(u32, Result<Vec<SimilarProduct>, String>)>,
}

impl SimilarState {
    /// The neighbours of the product at `position`, once found.
    pub fn of(&self, position: u32) -> Option<&Result<Vec<SimilarProduct>, String>> {
        match &self.found {
            Some((p, found)) if *p == position => Some(found),
            _ => None,
        }
    }

    /// Catalogue positions of the neighbours of `position` in similarity order.
    pub fn positions(&self, position: u32) -> Vec<u32> {
        match self.of(position) {
            Some(Ok(found)) => found.iter().filter_map(|n| n.position).collect(),
            _ => Vec::new(),
        }
    }
}
