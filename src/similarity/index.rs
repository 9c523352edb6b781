//! The approximate index for catalogues too large for exact search: inverted lists over
//! spherical k-means cells (IVF). Each product belongs to the cell of its nearest centre; a
//! query scores the centres, then the products of its nearest [`Index::probes`] cells: first
//! from an 8-bit copy of their representations held cell by cell (a quarter of the bytes, read
//! in one sweep per cell; scanning them is memory-bound), then the best [`SHORTLIST`] per
//! neighbour asked again exactly from the 32-bit rows.
//!
//! Why not an HNSW crate: on this project's two cores, measured on 20,000 clustered 1,024-d
//! vectors, `hnsw_rs` 0.3.5 took 406 s to build (recall@10 0.735, 22.7 ms a query) and
//! `instant-distance` 0.6.1 did not finish building within 600 s; both keep a second copy of
//! every vector. These cells are trained and filled with the same matrix products as exact
//! search (gemm), in seconds; the 8-bit copy (a quarter of the representations' memory) is
//! made again at each load, and the file holds only the centres and each product's cell
//! (see `benches/similarity.rs` for build time, query time, memory and recall).
//!
//! Saved beside the representations as `similar.index` (centres, then each row's cell, little
//! endian) and `similar.json` (the representations it was built from, by size, time and
//! shape, and the index file's SHA-256): a changed, stale or damaged index is rebuilt.

use super::exact::{Best, Neighbour, dot_block};
use super::{SimilarityError, Vectors};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The header's `format`.
const FORMAT: &str = "vitrine-similar-index";
/// The header's version.
const VERSION: u32 = 1;
/// The header file.
const HEADER: &str = "similar.json";
/// k-means rounds: the cells settle within a few; more only moves their edges.
const ROUNDS: usize = 8;
/// Rows rescored exactly per neighbour asked, of those the 8-bit scores rank first.
pub const SHORTLIST: usize = 4;
/// Training rows per cell (a sample, not all rows, trains the centres).
const TRAIN_PER_CELL: usize = 48;

/// What the index was built from: a different representation file means a stale index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fingerprint {
    /// `embeddings.f32`'s size in bytes.
    bytes: u64,
    /// Its modification time, nanoseconds since the Unix epoch.
    modified_ns: u128,
    /// Rows.
    count: usize,
    /// Dimension.
    dim: usize,
}

impl Fingerprint {
    /// The fingerprint of `folder`'s `embeddings.f32` as read into `vectors`; `None` when the
    /// file has no modification time.
    pub(crate) fn of(folder: &Path, vectors: &Vectors) -> Option<Fingerprint> {
        let meta = std::fs::metadata(folder.join("embeddings.f32")).ok()?;
        let modified = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(Fingerprint {
            bytes: meta.len(),
            modified_ns: modified.as_nanos(),
            count: vectors.len(),
            dim: vectors.dim(),
        })
    }
}

/// `similar.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    embeddings: Fingerprint,
    cells: usize,
    probes: usize,
    sha256: String,
}

/// Inverted lists over k-means cells.
#[derive(Debug, Clone)]
pub struct Index {
    dim: usize,
    /// `cells * dim` unit centres.
    centres: Vec<f32>,
    /// The cell of each row.
    cell_of: Vec<u32>,
    /// The rows of each cell.
    lists: Vec<Vec<u32>>,
    /// Cells scored per query.
    probes: usize,
    /// Each row's representation in 8 bits, `dim` codes a row, the rows in the order of
    /// `lists` (cell after cell).
    codes: Vec<i8>,
    /// Where each cell's rows start in `codes`, in rows.
    starts: Vec<usize>,
    /// Per dimension, the value of code 1: the largest magnitude over the rows / 127.
    steps: Vec<f32>,
}

impl Index {
    /// What the index is, for the user.
    pub const NAME: &'static str = "inverted lists over k-means cells";
    /// The index file beside the representations.
    pub const FILE: &'static str = "similar.index";

    /// How many cells for `rows` rows: about the square root, so that scoring the centres
    /// and scoring a cell's rows cost alike.
    pub fn cells_for(rows: usize) -> usize {
        ((rows as f64).sqrt().round() as usize).clamp(1, 4096)
    }

    /// How many cells a query scores: a hundredth of them, at least 8 and at most 64. A
    /// query's time is the rows it scores (at 1,000,000 rows, 20 cells of 1,000 rows took
    /// 14.5 ms, memory-bound), and on clustered representations a product's neighbours sit in
    /// a few cells (recall@10 1.000 at 20 cells; see the benchmark).
    pub fn probes_for(cells: usize) -> usize {
        (cells / 100).clamp(8, 64).min(cells)
    }

    /// Trains the cells of `vectors` and fills them (seeded: the same rows give the same
    /// index).
    pub fn build(vectors: &Vectors, seed: u64) -> Index {
        let dim = vectors.dim();
        let n = vectors.len();
        let cells = Self::cells_for(n).min(n.max(1));
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let train_rows: Vec<usize> = if n > cells * TRAIN_PER_CELL {
            let mut rows = sample(&mut rng, n, cells * TRAIN_PER_CELL).into_vec();
            rows.sort_unstable();
            rows
        } else {
            (0..n).collect()
        };
        let train: Vec<f32> = train_rows
            .iter()
            .flat_map(|&r| vectors.row(r).iter().copied())
            .collect();
        let mut centres: Vec<f32> = train_rows
            .iter()
            .take(cells)
            .flat_map(|&r| vectors.row(r).iter().copied())
            .collect();
        for _ in 0..ROUNDS {
            let assigned = assign(&train, &centres, dim);
            let mut sums = vec![0.0f32; cells * dim];
            let mut counts = vec![0usize; cells];
            for (row, &cell) in train.chunks_exact(dim).zip(&assigned) {
                counts[cell as usize] += 1;
                for (s, v) in sums[cell as usize * dim..][..dim].iter_mut().zip(row) {
                    *s += v;
                }
            }
            for (cell, sum) in sums.chunks_exact_mut(dim).enumerate() {
                if counts[cell] == 0 {
                    // An empty cell restarts at a random training row.
                    let r = rng.random_range(0..train_rows.len());
                    sum.copy_from_slice(&train[r * dim..(r + 1) * dim]);
                }
                let norm = sum.iter().map(|v| v * v).sum::<f32>().sqrt();
                if norm > 0.0 {
                    sum.iter_mut().for_each(|v| *v /= norm);
                }
            }
            centres = sums;
        }
        let cell_of = assign(vectors.values(), &centres, dim);
        Self::from_parts(vectors, centres, cell_of)
    }

    fn from_parts(vectors: &Vectors, centres: Vec<f32>, cell_of: Vec<u32>) -> Index {
        let dim = vectors.dim();
        let cells = centres.len().checked_div(dim).unwrap_or(0);
        let mut lists = vec![Vec::new(); cells];
        for (row, &cell) in cell_of.iter().enumerate() {
            lists[cell as usize].push(row as u32);
        }
        let mut starts = Vec::with_capacity(cells);
        let mut next = 0;
        for list in &lists {
            starts.push(next);
            next += list.len();
        }
        let (codes, steps) = quantize(vectors, &lists);
        Index {
            dim,
            centres,
            cell_of,
            lists,
            probes: Self::probes_for(cells),
            codes,
            starts,
            steps,
        }
    }

    /// How many cells.
    pub fn cells(&self) -> usize {
        self.lists.len()
    }

    /// Cells scored per query.
    pub fn probes(&self) -> usize {
        self.probes
    }

    /// Scores `probes` cells per query from now on (the benchmark's recall curve).
    pub fn set_probes(&mut self, probes: usize) {
        self.probes = probes.clamp(1, self.cells().max(1));
    }

    /// Bytes the index holds beside the representations (its 8-bit copy of them included).
    pub fn memory_bytes(&self) -> usize {
        self.centres.len() * 4
            + self.cell_of.len() * 8
            + self.codes.len()
            + self.starts.len() * 8
            + self.steps.len() * 4
    }

    /// The `k` rows of `vectors` (the rows the index was built on) most similar to `query`.
    pub fn search(&self, vectors: &Vectors, query: &[f32], k: usize) -> Vec<Neighbour> {
        if query.len() != self.dim || self.lists.is_empty() {
            return Vec::new();
        }
        let mut scores = vec![0.0; self.cells()];
        dot_block(query, &self.centres, self.dim, &mut scores);
        let mut nearest_cells = Best::new(self.probes);
        for (cell, &s) in scores.iter().enumerate() {
            nearest_cells.push(cell, s);
        }
        // The query scaled by each dimension's step scores the codes as it would the rows.
        let scaled: Vec<f32> = query.iter().zip(&self.steps).map(|(q, s)| q * s).collect();
        let shortlist = k.saturating_mul(SHORTLIST);
        let first = nearest_cells
            .into_items()
            .par_iter()
            .map(|cell| {
                let mut best = Best::new(shortlist);
                let codes = &self.codes[self.starts[cell.row] * self.dim..];
                for (&row, code) in self.lists[cell.row]
                    .iter()
                    .zip(codes.chunks_exact(self.dim))
                {
                    best.push(row as usize, dot(&scaled, code));
                }
                best
            })
            .reduce(|| Best::new(shortlist), Best::merge);
        let mut best = Best::new(k);
        for candidate in first.into_items() {
            best.push(candidate.row, dot(query, vectors.row(candidate.row)));
        }
        best.into_items()
    }

    /// Loads the index saved in `folder` for `vectors` (read from its `embeddings.f32`), or
    /// builds and saves it, saying in `note` why it was built (missing, changed
    /// representations, damaged file) and whether it could not be saved.
    pub fn load_or_build(
        vectors: &Vectors,
        folder: &Path,
        note: &mut dyn FnMut(String),
    ) -> Result<Index, SimilarityError> {
        let fingerprint = Fingerprint::of(folder, vectors);
        let why = match (Self::load(folder, vectors), &fingerprint) {
            (Ok((header, index)), Some(f)) if header.embeddings == *f => return Ok(index),
            (Ok(_), _) => "the representations changed since it was built".to_string(),
            (Err(reason), _) => reason,
        };
        let started = std::time::Instant::now();
        let index = Self::build(vectors, 0x5eed);
        let mut message = format!(
            "similar-product index built over {} products in {:.1} s ({why})",
            vectors.len(),
            started.elapsed().as_secs_f64()
        );
        match fingerprint.map(|f| index.save(folder, f)) {
            Some(Ok(())) => {}
            Some(Err(e)) => message.push_str(&format!("; not saved: {e}")),
            None => message.push_str("; not saved: embeddings.f32 has no modification time"),
        }
        note(message);
        Ok(index)
    }

    fn save(&self, folder: &Path, embeddings: Fingerprint) -> Result<(), SimilarityError> {
        let mut bytes = Vec::with_capacity(self.centres.len() * 4 + self.cell_of.len() * 4);
        bytes.extend(self.centres.iter().flat_map(|v| v.to_le_bytes()));
        bytes.extend(self.cell_of.iter().flat_map(|v| v.to_le_bytes()));
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            embeddings,
            cells: self.cells(),
            probes: self.probes,
            sha256: format!("{:x}", Sha256::digest(&bytes)),
        };
        crate::runs::folder::write_atomically(&folder.join(Self::FILE), &bytes)?;
        let json = serde_json::to_vec_pretty(&header).map_err(|e| {
            crate::runs::folder::RunError::Malformed {
                path: folder.join(HEADER),
                message: e.to_string(),
            }
        })?;
        // The header last: an index without its header is rebuilt, never half-trusted.
        crate::runs::folder::write_atomically(&folder.join(HEADER), &json)?;
        Ok(())
    }

    /// The saved index, or why there is none that can be trusted.
    fn load(folder: &Path, vectors: &Vectors) -> Result<(Header, Index), String> {
        let header_path = folder.join(HEADER);
        let text = match std::fs::read(&header_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err("there was none".into());
            }
            Err(e) => return Err(format!("{}: {e}", header_path.display())),
        };
        let header: Header = serde_json::from_slice(&text)
            .map_err(|e| format!("{} is damaged: {e}", header_path.display()))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(format!("{} is of another version", header_path.display()));
        }
        let path = folder.join(Self::FILE);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if format!("{:x}", Sha256::digest(&bytes)) != header.sha256 {
            return Err(format!(
                "{} is damaged (its checksum differs)",
                path.display()
            ));
        }
        let dim = vectors.dim();
        let centres_len = header.cells * dim;
        if header.cells == 0 || bytes.len() != (centres_len + vectors.len()) * 4 {
            return Err("the representations changed since it was built".into());
        }
        let floats = |b: &[u8]| -> Vec<[u8; 4]> {
            b.chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect()
        };
        let (centre_bytes, cell_bytes) = bytes.split_at(centres_len * 4);
        let centres = floats(centre_bytes)
            .into_iter()
            .map(f32::from_le_bytes)
            .collect();
        let cell_of: Vec<u32> = floats(cell_bytes)
            .into_iter()
            .map(u32::from_le_bytes)
            .collect();
        if cell_of.iter().any(|&c| c as usize >= header.cells) {
            return Err(format!(
                "{} is damaged (a cell out of range)",
                path.display()
            ));
        }
        let mut index = Self::from_parts(vectors, centres, cell_of);
        index.set_probes(header.probes);
        Ok((header, index))
    }
}

/// The nearest centre of each row of `rows` (row-major, `dim` wide), by blocks on rayon.
fn assign(rows: &[f32], centres: &[f32], dim: usize) -> Vec<u32> {
    const BLOCK: usize = 256;
    let cells = centres.len() / dim;
    rows.par_chunks(BLOCK * dim)
        .flat_map_iter(|block| {
            let m = block.len() / dim;
            let mut scores = vec![0.0; m * cells];
            dot_block(block, centres, dim, &mut scores);
            scores
                .chunks_exact(cells)
                .map(|row| {
                    let mut best = 0;
                    for (c, &s) in row.iter().enumerate() {
                        if s > row[best] {
                            best = c;
                        }
                    }
                    best as u32
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Each row of `vectors` in 8 bits, the rows in the order of `lists`, and each dimension's
/// step (the value of code 1): a symmetric scale per dimension, so code 127 is the dimension's
/// largest magnitude.
fn quantize(vectors: &Vectors, lists: &[Vec<u32>]) -> (Vec<i8>, Vec<f32>) {
    let dim = vectors.dim();
    let largest = vectors
        .values()
        .par_chunks(dim * 1024)
        .map(|rows| {
            let mut largest = vec![0.0f32; dim];
            for row in rows.chunks_exact(dim) {
                for (m, v) in largest.iter_mut().zip(row) {
                    *m = m.max(v.abs());
                }
            }
            largest
        })
        .reduce(
            || vec![0.0f32; dim],
            |a, b| a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect(),
        );
    let steps: Vec<f32> = largest
        .iter()
        .map(|&m| if m > 0.0 { m / 127.0 } else { 1.0 })
        .collect();
    let order: Vec<u32> = lists.iter().flatten().copied().collect();
    let mut codes = vec![0i8; order.len() * dim];
    codes
        .par_chunks_mut(dim)
        .zip(order.par_iter())
        .for_each(|(code, &row)| {
            for ((c, v), s) in code.iter_mut().zip(vectors.row(row as usize)).zip(&steps) {
                *c = (v / s).round().clamp(-127.0, 127.0) as i8;
            }
        });
    (codes, steps)
}

/// A dot product in eight lanes (the compiler keeps them in vector registers), of `a` with
/// 32-bit rows or with 8-bit codes.
fn dot<T: Copy + Into<f32>>(a: &[f32], b: &[T]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (a8, a_rest) = a.split_at(a.len() / 8 * 8);
    let (b8, b_rest) = b.split_at(a8.len());
    for (x, y) in a8.chunks_exact(8).zip(b8.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i].into();
        }
    }
    lanes.iter().sum::<f32>()
        + a_rest
            .iter()
            .zip(b_rest)
            .map(|(x, &y)| x * y.into())
            .sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` rows of `dim` values drawn uniformly in -1..1 with `seed`.
    fn uniform(n: usize, dim: usize, seed: u64) -> Vectors {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let values: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        Vectors::from_values((0..n).map(|i| i.to_string()).collect(), dim, values).unwrap()
    }

    #[test]
    fn dot_in_lanes_matches_the_plain_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }

    #[test]
    fn the_8_bit_scores_follow_the_exact_ones() {
        let a: Vec<f32> = (0..19).map(|i| (i as f32 * 0.37).sin()).collect();
        let codes: Vec<i8> = (0..19).map(|i| (i * 13 % 255) as u8 as i8).collect();
        let plain: f32 = a.iter().zip(&codes).map(|(x, &c)| x * c as f32).sum();
        assert!((dot(&a, &codes) - plain).abs() < 1e-3);
        // Quantised rows score a query within a step per dimension of their exact scores.
        let (n, dim) = (50, 64);
        let v = uniform(n, dim, 5);
        let index = Index::build(&v, 1);
        assert_eq!(index.codes.len(), n * dim);
        let query = v.row(7);
        let scaled: Vec<f32> = query.iter().zip(&index.steps).map(|(q, s)| q * s).collect();
        for (cell, list) in index.lists.iter().enumerate() {
            let codes = &index.codes[index.starts[cell] * dim..];
            for (&row, code) in list.iter().zip(codes.chunks_exact(dim)) {
                let exact = dot(query, v.row(row as usize));
                assert!((dot(&scaled, code) - exact).abs() < 0.02, "row {row}");
            }
        }
    }

    #[test]
    fn every_row_is_in_the_cell_of_its_nearest_centre_and_found_from_itself() {
        let n = 3000;
        let v = uniform(n, 16, 3);
        let index = Index::build(&v, 1);
        assert_eq!(index.cells(), Index::cells_for(n));
        assert_eq!(index.lists.iter().map(Vec::len).sum::<usize>(), n);
        for row in [0, 17, 2999] {
            let found = index.search(&v, v.row(row), 1);
            assert_eq!(found[0].row, row, "a row is its own nearest");
        }
    }
}
