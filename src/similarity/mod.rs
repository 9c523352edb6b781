//! The product representation at work: the nearest products of a product by cosine similarity
//! (exact, and an approximate index for large catalogues), duplicate clusters, and the map.
//!
//! Pure: no egui, no burn. The representations come from a run folder
//! (`embeddings.{json,f32,ids}`, see [`crate::runs::embeddings`]) or from an audit's first
//! finished fold ([`vectors::locate`]).

pub mod copies;
pub mod duplicates;
pub mod exact;
pub mod index;
pub mod map;
pub mod map_colours;
pub mod map_file;
pub mod map_picture;
pub mod search;
pub mod vectors;

pub use exact::{Neighbour, all_nearest, nearest};
pub use search::{EXACT_UP_TO, Searcher};
pub use vectors::{Source, Vectors, locate};

use crate::runs::folder::RunError;
use std::path::PathBuf;

/// Why similar products could not be found.
#[derive(Debug, thiserror::Error)]
pub enum SimilarityError {
    /// The run's files could not be read.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The folder holds no representations.
    #[error("{}: {reason}", folder.display())]
    NoEmbeddings {
        /// The folder given.
        folder: PathBuf,
        /// Why there are none, and what writes them.
        reason: String,
    },
    /// A row holds a value that is not a finite number.
    #[error("{}: row {row} (product {id}, line {row} of embeddings.ids) holds a value that is not a finite number", path.display())]
    NotFinite {
        /// `embeddings.f32`.
        path: PathBuf,
        /// The row, from 1.
        row: usize,
        /// Its product id.
        id: String,
    },
    /// The map cannot be laid out for this many products.
    #[error("{products} products: {reason}")]
    MapSize {
        /// Products with a representation.
        products: usize,
        /// The limit.
        reason: String,
    },
    /// The product is not among the representations.
    #[error("product {id} has no representation in {}", folder.display())]
    UnknownProduct {
        /// The product id asked for.
        id: String,
        /// Where the representations are.
        folder: PathBuf,
    },
}
