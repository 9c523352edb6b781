//! The product representations of a run (the 1024-d output of the post-pooling layers), for
//! similar-product search and duplicate detection.
//!
//! Three files, written atomically, version 1:
//! - `embeddings.json`: `{"format": "vitrine-embeddings", "version": 1, "dim": 1024,
//!   "count": N, "dtype": "f32-le"}`
//! - `embeddings.f32`: `count * dim` little-endian `f32`, row-major, one row per product
//! - `embeddings.ids`: `count` lines, the product id of each row, in row order

use super::folder::{RunError, write_atomically};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The header file of the representations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingsHeader {
    /// Always `vitrine-embeddings`.
    pub format: String,
    /// Format version (1).
    pub version: u32,
    /// Dimension of each row.
    pub dim: usize,
    /// Number of rows.
    pub count: usize,
    /// Element type: `f32-le`.
    pub dtype: String,
}

/// Representations in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// Product id of each row.
    pub ids: Vec<String>,
    /// Dimension of each row.
    pub dim: usize,
    /// `ids.len() * dim` values, row-major.
    pub values: Vec<f32>,
}

fn paths(folder: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (
        folder.join("embeddings.json"),
        folder.join("embeddings.f32"),
        folder.join("embeddings.ids"),
    )
}

fn malformed(path: &Path, message: impl Into<String>) -> RunError {
    RunError::Malformed {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

impl Embeddings {
    /// The row of product `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// Writes the three files into `folder`.
    pub fn write(&self, folder: &Path) -> Result<(), RunError> {
        let (header_path, values_path, ids_path) = paths(folder);
        if self.values.len() != self.ids.len() * self.dim {
            return Err(malformed(&values_path, "values do not match ids x dim"));
        }
        let bytes: Vec<u8> = self.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        write_atomically(&values_path, &bytes)?;
        let mut ids = self.ids.join("\n");
        ids.push('\n');
        write_atomically(&ids_path, ids.as_bytes())?;
        let header = EmbeddingsHeader {
            format: "vitrine-embeddings".into(),
            version: 1,
            dim: self.dim,
            count: self.ids.len(),
            dtype: "f32-le".into(),
        };
        let json = serde_json::to_vec_pretty(&header)
            .map_err(|e| malformed(&header_path, e.to_string()))?;
        write_atomically(&header_path, &json)
    }

    /// Reads the three files from `folder`, checking that they agree.
    pub fn read(folder: &Path) -> Result<Embeddings, RunError> {
        let (header_path, values_path, ids_path) = paths(folder);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |reason| RunError::Io { path, reason }
        };
        let header: EmbeddingsHeader =
            serde_json::from_slice(&std::fs::read(&header_path).map_err(io(&header_path))?)
                .map_err(|e| malformed(&header_path, e.to_string()))?;
        if header.format != "vitrine-embeddings" || header.version != 1 || header.dtype != "f32-le"
        {
            return Err(malformed(
                &header_path,
                "not a version 1 vitrine-embeddings header",
            ));
        }
        let bytes = std::fs::read(&values_path).map_err(io(&values_path))?;
        if bytes.len() != header.count * header.dim * 4 {
            return Err(malformed(
                &values_path,
                format!(
                    "{} bytes, expected {}",
                    bytes.len(),
                    header.count * header.dim * 4
                ),
            ));
        }
        let values = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let ids: Vec<String> = std::fs::read_to_string(&ids_path)
            .map_err(io(&ids_path))?
            .lines()
            .map(String::from)
            .collect();
        if ids.len() != header.count {
            return Err(malformed(
                &ids_path,
                format!("{} ids, expected {}", ids.len(), header.count),
            ));
        }
        Ok(Embeddings {
            ids,
            dim: header.dim,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let e = Embeddings {
            ids: vec!["a".into(), "b".into()],
            dim: 3,
            values: vec![1.0, 2.0, 3.0, -1.0, 0.5, 0.25],
        };
        e.write(dir.path()).unwrap();
        let back = Embeddings::read(dir.path()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.row(1), &[-1.0, 0.5, 0.25]);
        let f = dir.path().join("embeddings.f32");
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() - 4]).unwrap();
        let err = Embeddings::read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("embeddings.f32") && err.contains("expected 24"),
            "{err}"
        );
    }
}
