//! The folds of an audit on disk: which fold each product is held out in (`folds.csv`), and
//! the setting that makes a run one fold's model ([`FoldSplit`]).
//!
//! # Format
//!
//! CSV with a header, `product_id,fold`, one line per product, folds numbered from 1. The
//! audit writes the file once, when it starts, so a resumed audit and every fold's run see
//! the same folds however the labels changed since; a product added to the catalogue later is
//! in no fold (its runs neither train nor validate on it).
//!
//! Pure: no egui, no burn.

use super::folder::{RunError, write_atomically};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name of the folds in an audit folder.
pub const FILE_NAME: &str = "folds.csv";

/// What makes a run one fold's model of an audit: the products of fold `held_out` are its
/// validation products, those of the other folds its training products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FoldSplit {
    /// The audit's `folds.csv`.
    pub file: PathBuf,
    /// The fold held out (from 1).
    pub held_out: u32,
    /// How many folds the audit has.
    pub count: u32,
}

/// Which fold each product is held out in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldAssignment {
    count: u32,
    of: hashbrown::HashMap<String, u32>,
}

impl FoldAssignment {
    /// An empty assignment into `count` folds.
    pub fn new(count: u32) -> Self {
        FoldAssignment {
            count,
            of: hashbrown::HashMap::new(),
        }
    }

    /// Puts `product` in `fold` (from 1).
    pub fn insert(&mut self, product: &str, fold: u32) {
        self.count = self.count.max(fold);
        self.of.insert(product.to_string(), fold);
    }

    /// The fold `product` is held out in, if any.
    pub fn fold(&self, product: &str) -> Option<u32> {
        self.of.get(product).copied()
    }

    /// How many folds.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// How many products have a fold.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    /// Whether no product has a fold.
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }

    /// Products per fold (index 0 is fold 1).
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.count as usize];
        for &fold in self.of.values() {
            sizes[fold as usize - 1] += 1;
        }
        sizes
    }

    /// Reads `folds.csv`; a malformed line is an error naming the file and line (a fold run
    /// must not train on a guess).
    pub fn read(path: &Path) -> Result<FoldAssignment, RunError> {
        let malformed = |line: u64, message: String| RunError::Malformed {
            path: path.to_path_buf(),
            message: format!("line {line}: {message}"),
        };
        let file = std::fs::File::open(path).map_err(|reason| RunError::Io {
            path: path.to_path_buf(),
            reason,
        })?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = reader
            .headers()
            .map_err(|e| malformed(1, e.to_string()))?
            .clone();
        if headers.len() != 2 || &headers[0] != "product_id" || &headers[1] != "fold" {
            return Err(malformed(
                1,
                "the header must be `product_id,fold`".to_string(),
            ));
        }
        let mut assignment = FoldAssignment::new(0);
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                malformed(line, e.to_string())
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let (id, fold) = (&record[0], &record[1]);
            let fold: u32 = fold
                .trim()
                .parse()
                .ok()
                .filter(|&f| f >= 1)
                .ok_or_else(|| malformed(line, format!("fold '{fold}' is not a number from 1")))?;
            if assignment.fold(id).is_some() {
                return Err(malformed(line, format!("product '{id}' is listed twice")));
            }
            assignment.insert(id, fold);
        }
        Ok(assignment)
    }

    /// Writes `folds.csv` atomically, products in id order.
    pub fn write(&self, path: &Path) -> Result<(), RunError> {
        let mut rows: Vec<(&String, &u32)> = self.of.iter().collect();
        rows.sort();
        let mut writer = csv::Writer::from_writer(Vec::new());
        let failed = |e: csv::Error| RunError::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        writer
            .write_record(["product_id", "fold"])
            .map_err(failed)?;
        for (id, fold) in rows {
            writer
                .write_record([id.as_str(), &fold.to_string()])
                .map_err(failed)?;
        }
        let bytes = writer.into_inner().map_err(|e| RunError::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        write_atomically(path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_survive_a_write_and_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let mut folds = FoldAssignment::new(3);
        folds.insert("b,with comma", 2);
        folds.insert("a", 1);
        folds.insert("c", 3);
        folds.write(&path).unwrap();
        let read = FoldAssignment::read(&path).unwrap();
        assert_eq!(read, folds);
        assert_eq!(read.sizes(), vec![1, 1, 1]);
        assert_eq!(read.fold("b,with comma"), Some(2));
        assert_eq!(read.fold("d"), None);
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "product_id,fold\na,1\nb,zero\n").unwrap();
        let message = FoldAssignment::read(&path).unwrap_err().to_string();
        assert!(
            message.contains("folds.csv") && message.contains("line 3"),
            "{message}"
        );
        std::fs::write(&path, "product_id,fold\na,1\na,2\n").unwrap();
        let message = FoldAssignment::read(&path).unwrap_err().to_string();
        assert!(message.contains("listed twice"), "{message}");
        std::fs::write(&path, "id,fold\na,1\n").unwrap();
        let message = FoldAssignment::read(&path).unwrap_err().to_string();
        assert!(message.contains("line 1"), "{message}");
    }
}
