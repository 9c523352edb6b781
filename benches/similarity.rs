//! Similar-product search benchmarks on generated 1,024-d representations: exact search (the
//! reference) and the inverted-list index, at 10,000 and 1,000,000 products.
//!
//! Run with `cargo bench --bench similarity` (`-- similar-10k` or `-- similar-1m` for one).
//! Each case runs in a child process of its own (its peak memory is its own). Under
//! `cargo test` each case runs once on 10,000 / 30,000 products, as a smoke test.
//!
//! The vectors are clustered as a trained model's representations are: 1,000 centres (the
//! catalogue's kinds of product), each product a centre plus noise, normalised. For each case:
//! the index's build time, its memory beside the vectors, and, over 200 queries (products of
//! the catalogue, as the product view asks), query time p50/p99 of exact search and of the
//! index, and the index's recall@10 against exact search (at the default number of cells
//! scored per query, and at half and twice that).

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::Instant;
use vitrine::similarity::index::Index;
use vitrine::similarity::{Vectors, nearest};

const CASES: [&str; 2] = ["similar-10k", "similar-1m"];
const DIM: usize = 1024;
const CENTRES: usize = 1000;
const QUERIES: usize = 200;

fn main() {
    common::main(&CASES, None, run_case);
}

fn run_case(case: &str) {
    let n = match (case, common::full()) {
        ("similar-10k", _) => 10_000,
        (_, true) => 1_000_000,
        _ => 30_000,
    };
    bench(case, n);
}

/// `n` clustered unit vectors.
fn generate(n: usize) -> Vectors {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let centres: Vec<f32> = (0..CENTRES * DIM)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let mut values = Vec::with_capacity(n * DIM);
    for _ in 0..n {
        let c = rng.random_range(0..CENTRES);
        values.extend(
            centres[c * DIM..(c + 1) * DIM]
                .iter()
                .map(|x| x + rng.random_range(-1.0f32..1.0)),
        );
    }
    Vectors::from_values((0..n).map(|i| format!("p{i}")).collect(), DIM, values)
        .expect("finite vectors")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn bench(case: &str, n: usize) {
    let started = Instant::now();
    let vectors = generate(n);
    let generated = started.elapsed().as_secs_f64();
    let queries: Vec<usize> = (0..QUERIES).map(|i| i * 7919 % n).collect();

    let mut exact_ms = Vec::new();
    let mut truth = Vec::new();
    for &q in &queries {
        let t = Instant::now();
        let found = nearest(&vectors, vectors.row(q), 10, Some(q));
        exact_ms.push(t.elapsed().as_secs_f64() * 1e3);
        truth.push(found.into_iter().map(|n| n.row).collect::<Vec<_>>());
    }
    exact_ms.sort_by(f64::total_cmp);

    let t = Instant::now();
    let mut index = Index::build(&vectors, 1);
    let build = t.elapsed().as_secs_f64();
    let default_probes = index.probes();
    println!(
        "{case}: {n} vectors of {DIM} ({:.0} MB, generated in {generated:.1} s); exact search p50 {:.2} ms, p99 {:.2} ms",
        (n * DIM * 4) as f64 / 1e6,
        percentile(&exact_ms, 0.5),
        percentile(&exact_ms, 0.99),
    );
    println!(
        "{case}: index built in {build:.1} s: {} cells, {:.1} MB beside the vectors; peak RSS {}",
        index.cells(),
        index.memory_bytes() as f64 / 1e6,
        common::status_field("VmHWM:"),
    );
    for probes in [default_probes / 2, default_probes, default_probes * 2] {
        index.set_probes(probes.max(1));
        let mut ms = Vec::new();
        let mut hits = 0;
        for (&q, truth) in queries.iter().zip(&truth) {
            let t = Instant::now();
            let found = index.search(&vectors, vectors.row(q), 11);
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            hits += found
                .iter()
                .filter(|f| f.row != q)
                .take(10)
                .filter(|f| truth.contains(&f.row))
                .count();
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "{case}: index, {} cells a query{}: p50 {:.2} ms, p99 {:.2} ms, recall@10 {:.3}",
            index.probes(),
            if probes == default_probes {
                " (default)"
            } else {
                ""
            },
            percentile(&ms, 0.5),
            percentile(&ms, 0.99),
            hits as f64 / (10 * queries.len()) as f64,
        );
    }
}
