//! One product's most similar products: exact search for catalogues up to
//! [`EXACT_UP_TO`] products, the approximate index (built, saved beside the representations
//! and reused) above.

use super::exact::nearest_of_rows;
use super::index::Index;
use super::{Neighbour, SimilarityError, Source, Vectors, nearest};
use rayon::prelude::*;
use std::ops::Range;
use std::path::PathBuf;

/// Up to this many products a query is answered by exact search: 20,000 rows of 1,024 floats
/// are scored in a few milliseconds on two cores, and an exact answer needs no index to build.
pub const EXACT_UP_TO: usize = 20_000;

/// Answers similarity queries over one run's representations.
pub struct Searcher {
    vectors: Vectors,
    index: Option<Index>,
    /// Where the representations are (named in errors).
    folder: PathBuf,
}

impl Searcher {
    /// Reads the representations of `source`; above [`EXACT_UP_TO`] rows, loads their index
    /// or (missing, stale or damaged: `note` says which) builds and saves it.
    pub fn open(source: &Source, note: &mut dyn FnMut(String)) -> Result<Self, SimilarityError> {
        let vectors = Vectors::read(&source.folder)?;
        let index = if vectors.len() > EXACT_UP_TO {
            Some(Index::load_or_build(&vectors, &source.folder, note)?)
        } else {
            None
        };
        Ok(Searcher {
            vectors,
            index,
            folder: source.folder.clone(),
        })
    }

    /// A searcher over `vectors` (read from `folder`), with an index when given one.
    pub fn new(vectors: Vectors, index: Option<Index>, folder: PathBuf) -> Self {
        Searcher {
            vectors,
            index,
            folder,
        }
    }

    /// The representations.
    pub fn vectors(&self) -> &Vectors {
        &self.vectors
    }

    /// How queries are answered, for the user.
    pub fn method(&self) -> String {
        match &self.index {
            None => "exact search".into(),
            Some(_) => format!("approximate index ({})", Index::NAME),
        }
    }

    /// The row of product `id`, or an error naming it.
    pub fn row_of(&self, id: &str) -> Result<usize, SimilarityError> {
        self.vectors
            .find(id)
            .ok_or_else(|| SimilarityError::UnknownProduct {
                id: id.to_string(),
                folder: self.folder.clone(),
            })
    }

    /// The `k` products most similar to row `row`, most similar first, without itself.
    pub fn neighbours(&self, row: usize, k: usize) -> Vec<Neighbour> {
        let query = self.vectors.row(row);
        match &self.index {
            None => nearest(&self.vectors, query, k, Some(row)),
            Some(index) => index
                .search(&self.vectors, query, k + 1)
                .into_iter()
                .filter(|n| n.row != row)
                .take(k)
                .collect(),
        }
    }

    /// The `k` products most similar to each row in `rows`, most similar first, without
    /// itself: blocked exact search over all queries at once without an index, the index's
    /// answer per row with one.
    pub fn neighbours_of_rows(&self, rows: Range<usize>, k: usize) -> Vec<Vec<Neighbour>> {
        match &self.index {
            None => nearest_of_rows(&self.vectors, rows, k),
            Some(_) => rows
                .into_par_iter()
                .map(|row| self.neighbours(row, k))
                .collect(),
        }
    }
}
