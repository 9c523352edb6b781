//! The representations as unit rows, ready for cosine similarity as a dot product, and where a
//! run or an audit keeps them.

use super::SimilarityError;
use crate::runs::RunFolder;
use crate::runs::audit::{AuditFolder, FoldState};
use crate::runs::embeddings::Embeddings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Unit-length representations, one row per product, row-major and contiguous (the layout a
/// matrix product reads at full speed).
#[derive(Debug, Clone)]
pub struct Vectors {
    ids: Vec<String>,
    rows: HashMap<String, usize>,
    dim: usize,
    values: Vec<f32>,
}

impl Vectors {
    /// Normalises each row of `embeddings` (read from `path`, named in errors) to unit length.
    /// A row of zeros stays zero: it is similar to nothing (similarity 0). A row holding NaN or
    /// an infinity is refused, naming its product.
    pub fn from_embeddings(embeddings: Embeddings, path: &Path) -> Result<Self, SimilarityError> {
        let Embeddings {
            ids,
            dim,
            mut values,
        } = embeddings;
        if dim > 0 {
            for (row, chunk) in values.chunks_exact_mut(dim).enumerate() {
                if chunk.iter().any(|v| !v.is_finite()) {
                    return Err(SimilarityError::NotFinite {
                        path: path.to_path_buf(),
                        row: row + 1,
                        id: ids[row].clone(),
                    });
                }
                let norm = chunk.iter().map(|v| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    chunk.iter_mut().for_each(|v| *v /= norm);
                }
            }
        }
        let rows = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        Ok(Vectors {
            ids,
            rows,
            dim,
            values,
        })
    }

    /// Reads and normalises the representations in `folder` (a run folder's three files).
    pub fn read(folder: &Path) -> Result<Self, SimilarityError> {
        let embeddings = Embeddings::read(folder)?;
        Self::from_embeddings(embeddings, &folder.join("embeddings.f32"))
    }

    /// Unit vectors of `values` (`ids.len() * dim`), for generated data and tests.
    pub fn from_values(
        ids: Vec<String>,
        dim: usize,
        values: Vec<f32>,
    ) -> Result<Self, SimilarityError> {
        Self::from_embeddings(Embeddings { ids, dim, values }, Path::new("(in memory)"))
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The dimension of each row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The unit row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// All rows, row-major.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The product id of row `i`.
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// The product ids, in row order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The row of product `id`.
    pub fn find(&self, id: &str) -> Option<usize> {
        self.rows.get(id).copied()
    }
}

/// Where a run's or an audit's representations are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The folder holding `embeddings.{json,f32,ids}`.
    pub folder: PathBuf,
    /// Which model they come from, for the user ("run X", "audit X, fold 1's model").
    pub note: String,
}

/// Finds the representations of `path`: a run folder (or a file in one, such as its
/// `predictions.jsonl`), or an audit folder, whose first finished fold's model represents
/// every product (the folds' models are different models, so one fold's representations are
/// used for all products, never a mix).
pub fn locate(path: &Path) -> Result<Source, SimilarityError> {
    let folder = if path.is_file() {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    };
    let name = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.display().to_string())
    };
    if folder.join("embeddings.json").is_file() {
        return Ok(Source {
            note: format!("run {}", name(&folder)),
            folder,
        });
    }
    if AuditFolder::is_audit(&folder) {
        let audit = AuditFolder::at(&folder);
        let folds = audit.settings()?.folds;
        for fold in 1..=folds {
            let run = audit.fold(fold);
            if audit.fold_state(fold) == FoldState::Finished
                && run.root().join("embeddings.json").is_file()
            {
                return Ok(Source {
                    folder: run.root().to_path_buf(),
                    note: format!("audit {}, the model of fold {fold}", name(&folder)),
                });
            }
        }
        return Err(SimilarityError::NoEmbeddings {
            folder,
            reason: "no fold of this audit has finished with its representations yet".into(),
        });
    }
    let reason = if RunFolder::at(&folder).config_path().is_file() {
        "this run has no representations yet (embeddings.json): they are written when it \
         finishes, or by `vitrine predict RUN`"
    } else {
        "not a run or audit folder (no embeddings.json, config.json or audit.json)"
    };
    Err(SimilarityError::NoEmbeddings {
        folder,
        reason: reason.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_unit_and_zero_rows_stay_zero() {
        let v = Vectors::from_values(vec!["a".into(), "b".into()], 2, vec![3.0, 4.0, 0.0, 0.0])
            .unwrap();
        assert_eq!(v.row(0), &[0.6, 0.8]);
        assert_eq!(v.row(1), &[0.0, 0.0]);
        assert_eq!(v.find("b"), Some(1));
        assert_eq!(v.find("c"), None);
    }

    #[test]
    fn a_nan_row_is_refused_with_its_product() {
        let err = Vectors::from_values(
            vec!["a".into(), "b".into()],
            2,
            vec![1.0, 0.0, f32::NAN, 1.0],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("row 2") && err.contains("product b"), "{err}");
    }

    #[test]
    fn a_folder_without_representations_says_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let err = locate(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a run or audit folder"), "{err}");
    }
}
