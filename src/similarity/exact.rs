//! Exact nearest neighbours by cosine similarity: every row scored against the query, as
//! blocked matrix products (gemm, the kernel burn's CPU backend uses) on rayon's threads. The
//! reference the approximate index is measured against, and the search itself up to
//! [`super::EXACT_UP_TO`] rows.

use super::Vectors;
use rayon::prelude::*;
use std::ops::Range;

/// One neighbour: its row and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    /// The row in the [`Vectors`].
    pub row: usize,
    /// Cosine similarity, -1 to 1.
    pub similarity: f32,
}

/// Candidate rows scored in one matrix product: 1,024 rows of 1,024 floats are 4 MiB, the
/// size of a core's share of cache.
const CANDIDATES_PER_BLOCK: usize = 1024;
/// Query rows per matrix product in [`all_nearest`].
const QUERIES_PER_BLOCK: usize = 128;

/// The best `k`, most similar first; ties go to the lower row, so results do not depend on
/// the order rows were scored in.
#[derive(Debug, Clone)]
pub(super) struct Best {
    k: usize,
    items: Vec<Neighbour>,
}

impl Best {
    pub(super) fn new(k: usize) -> Self {
        Best {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    fn before(a: &Neighbour, b: &Neighbour) -> bool {
        a.similarity > b.similarity || (a.similarity == b.similarity && a.row < b.row)
    }

    pub(super) fn push(&mut self, row: usize, similarity: f32) {
        let n = Neighbour { row, similarity };
        if self.k == 0 {
            return;
        }
        if self.items.len() == self.k && !Self::before(&n, &self.items[self.k - 1]) {
            return;
        }
        let at = self.items.partition_point(|m| Self::before(m, &n));
        self.items.insert(at, n);
        self.items.truncate(self.k);
    }

    pub(super) fn merge(mut self, other: Best) -> Best {
        for n in other.items {
            self.push(n.row, n.similarity);
        }
        self
    }

    pub(super) fn into_items(self) -> Vec<Neighbour> {
        self.items
    }
}

/// `out[q * n + c]` = dot(query q, candidate c) for `queries` (`m * dim`) and `candidates`
/// (`n * dim`), both row-major.
pub(super) fn dot_block(queries: &[f32], candidates: &[f32], dim: usize, out: &mut [f32]) {
    let m = queries.len() / dim;
    let n = candidates.len() / dim;
    assert!(queries.len() == m * dim && candidates.len() == n * dim && out.len() == m * n);
    if m == 0 || n == 0 || dim == 0 {
        out.fill(0.0);
        return;
    }
    // SAFETY: the three pointers cover exactly the extents gemm reads and writes, checked above:
    // lhs is m x dim (row stride dim), rhs is the candidates transposed, dim x n (row stride 1,
    // column stride dim), dst is m x n row-major.
    unsafe {
        gemm::gemm(
            m,
            n,
            dim,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            queries.as_ptr(),
            1,
            dim as isize,
            candidates.as_ptr(),
            dim as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// The `k` rows most similar to `query` (a unit vector of the same dimension), most similar
/// first, leaving out row `exclude` (the query's own row).
pub fn nearest(
    vectors: &Vectors,
    query: &[f32],
    k: usize,
    exclude: Option<usize>,
) -> Vec<Neighbour> {
    let dim = vectors.dim();
    if dim == 0 || query.len() != dim {
        return Vec::new();
    }
    vectors
        .values()
        .par_chunks(CANDIDATES_PER_BLOCK * dim)
        .enumerate()
        .map(|(block, candidates)| {
            let first = block * CANDIDATES_PER_BLOCK;
            let mut scores = vec![0.0; candidates.len() / dim];
            dot_block(query, candidates, dim, &mut scores);
            let mut best = Best::new(k);
            for (i, &s) in scores.iter().enumerate() {
                if Some(first + i) != exclude {
                    best.push(first + i, s);
                }
            }
            best
        })
        .reduce(|| Best::new(k), Best::merge)
        .into_items()
}

/// Every row's `k` most similar other rows, most similar first (the k-nearest-neighbour graph
/// duplicate detection and the map start from).
pub fn all_nearest(vectors: &Vectors, k: usize) -> Vec<Vec<Neighbour>> {
    nearest_of_rows(vectors, 0..vectors.len(), k)
}

/// The `k` most similar other rows of each row in `rows` (a range within `vectors`), most
/// similar first: [`all_nearest`] for a part of the rows, so a long search can report progress
/// and stop between parts.
pub fn nearest_of_rows(vectors: &Vectors, rows: Range<usize>, k: usize) -> Vec<Vec<Neighbour>> {
    let dim = vectors.dim();
    if dim == 0 {
        return vec![Vec::new(); rows.len()];
    }
    let values = vectors.values();
    values[rows.start * dim..rows.end * dim]
        .par_chunks(QUERIES_PER_BLOCK * dim)
        .enumerate()
        .flat_map_iter(|(block, queries)| {
            let first_query = rows.start + block * QUERIES_PER_BLOCK;
            let m = queries.len() / dim;
            let mut best = vec![Best::new(k); m];
            let mut scores = vec![0.0; m * CANDIDATES_PER_BLOCK];
            for (cblock, candidates) in values.chunks(CANDIDATES_PER_BLOCK * dim).enumerate() {
                let first = cblock * CANDIDATES_PER_BLOCK;
                let n = candidates.len() / dim;
                let scores = &mut scores[..m * n];
                dot_block(queries, candidates, dim, scores);
                for (q, row) in scores.chunks_exact(n).enumerate() {
                    for (c, &s) in row.iter().enumerate() {
                        if first + c != first_query + q {
                            best[q].push(first + c, s);
                        }
                    }
                }
            }
            best.into_iter().map(Best::into_items)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(rows: &[[f32; 3]]) -> Vectors {
        Vectors::from_values(
            (0..rows.len()).map(|i| format!("p{i}")).collect(),
            3,
            rows.iter().flatten().copied().collect(),
        )
        .unwrap()
    }

    /// The naive reference: every pair's dot product, sorted.
    fn naive(v: &Vectors, q: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<(usize, f32)> = (0..v.len())
            .filter(|&i| i != q)
            .map(|i| (i, v.row(i).iter().zip(v.row(q)).map(|(a, b)| a * b).sum()))
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.into_iter().take(k).map(|(i, _)| i).collect()
    }

    #[test]
    fn nearest_ranks_by_cosine_and_skips_the_query() {
        let v = vectors(&[
            [1.0, 0.0, 0.0],
            [2.0, 0.1, 0.0],
            [0.0, 1.0, 0.0],
            [-1.0, 0.0, 0.0],
        ]);
        let found = nearest(&v, v.row(0), 2, Some(0));
        assert_eq!(found.iter().map(|n| n.row).collect::<Vec<_>>(), vec![1, 2]);
        assert!((found[0].similarity - 0.99875).abs() < 1e-4);
    }

    #[test]
    fn blocked_search_matches_the_naive_one_across_block_edges() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = CANDIDATES_PER_BLOCK + QUERIES_PER_BLOCK + 37;
        let dim = 24;
        let values: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let v = Vectors::from_values((0..n).map(|i| i.to_string()).collect(), dim, values).unwrap();
        let all = all_nearest(&v, 5);
        for q in [0, 1, QUERIES_PER_BLOCK, CANDIDATES_PER_BLOCK, n - 1] {
            let want = naive(&v, q, 5);
            let got: Vec<usize> = all[q].iter().map(|n| n.row).collect();
            assert_eq!(got, want, "all_nearest, query {q}");
            let one: Vec<usize> = nearest(&v, v.row(q), 5, Some(q))
                .iter()
                .map(|n| n.row)
                .collect();
            assert_eq!(one, want, "nearest, query {q}");
        }
        let part = nearest_of_rows(&v, QUERIES_PER_BLOCK + 3..n - 5, 5);
        assert_eq!(part[..], all[QUERIES_PER_BLOCK + 3..n - 5]);
    }
}
