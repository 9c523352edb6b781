//! Label audit benchmarks: confident learning (find the issues and rank them) on 1,000,000
//! products for each of the five heads, and the text witness on 1,000,000 product names.
//!
//! Run with `taskset -c 0 cargo bench --bench audit` (one core; add `-- CASE` for one case).
//! Each case runs in a child process of its own. Under `cargo test` (no `--bench` argument)
//! every case runs once on 10,000 products, as a smoke test of this file.
//!
//! The probabilities are generated, one task at a time: heads of 5 (gender), 46 (colour),
//! 7 (type), 45 (category) and 143 (subcategory) classes, as the Myntra sample's; true
//! classes drawn with Zipf-like frequencies (real catalogues are imbalanced); a model that
//! puts 30-99% on one class (the true one 80% of the time) and spreads the rest at random;
//! given labels wrong 10% of the time.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::time::{Duration, Instant};
use vitrine::audit::confident::{
    AuditInput, Probability, RankBy, calibrate_confident_joint, compute_confident_joint,
    confident_thresholds, estimate_latent, find_label_issues, order_label_issues,
};
use vitrine::audit::text::TextMatcher;

const CASES: [&str; 2] = ["confident-1m", "text-1m"];

/// The five heads: name and classes.
const HEADS: [(&str, usize); 5] = [
    ("gender", 5),
    ("colour", 46),
    ("type", 7),
    ("category", 45),
    ("subcategory", 143),
];

/// Products per case: 1,000,000 under `cargo bench`, 10,000 under `cargo test`.
fn products() -> usize {
    if common::full() { 1_000_000 } else { 10_000 }
}

fn main() {
    common::main(&CASES, None, run_case);
}

fn run_case(case: &str) {
    match case {
        "confident-1m" => confident(),
        "text-1m" => text(),
        _ => unreachable!(),
    }
}

/// A class drawn with probability proportional to 1 / (rank + 1).
fn zipf(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let total = cumulative[cumulative.len() - 1];
    let x = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= x)
        .min(cumulative.len() - 1)
}

/// `n` rows of `classes` probabilities and given labels (see the file docs).
fn generate(n: usize, classes: usize, seed: u64) -> (Vec<f32>, Vec<Option<usize>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cumulative: Vec<f64> = (0..classes)
        .scan(0.0, |sum, k| {
            *sum += 1.0 / (k as f64 + 1.0);
            Some(*sum)
        })
        .collect();
    let mut probs = vec![0.0f32; n * classes];
    let mut labels = Vec::with_capacity(n);
    for row in probs.chunks_exact_mut(classes) {
        let truth = zipf(&mut rng, &cumulative);
        let predicted = if rng.random::<f32>() < 0.8 {
            truth
        } else {
            rng.random_range(0..classes)
        };
        let confidence = rng.random_range(0.3f32..0.99);
        let mut rest = 0.0f32;
        for (k, p) in row.iter_mut().enumerate() {
            if k != predicted {
                *p = rng.random::<f32>();
                rest += *p;
            }
        }
        let scale = (1.0 - confidence) / rest;
        for (k, p) in row.iter_mut().enumerate() {
            *p = if k == predicted {
                confidence
            } else {
                *p * scale
            };
        }
        let given = if rng.random::<f32>() < 0.1 {
            rng.random_range(0..classes)
        } else {
            truth
        };
        // A few products have no label.
        labels.push((rng.random::<f32>() >= 0.01).then_some(given));
    }
    (probs, labels)
}

/// CPU time this thread has run (Linux: /proc/thread-self/schedstat), to tell the work from
/// the waits on a core shared with other processes; zero where unknown.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

/// The time of each step of one task's audit.
#[derive(Default, Clone, Copy)]
struct Steps {
    /// Checking the input.
    check: Duration,
    /// Thresholds, confident joint, calibration, noise matrices.
    joint: Duration,
    /// Finding the issues.
    issues: Duration,
    /// Ranking them.
    rank: Duration,
}

impl Steps {
    fn total(&self) -> Duration {
        self.check + self.joint + self.issues + self.rank
    }

    fn add(&mut self, other: Steps) {
        self.check += other.check;
        self.joint += other.joint;
        self.issues += other.issues;
        self.rank += other.rank;
    }

    fn describe(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        format!(
            "{:>6.0} ms ({:.0} check, {:.0} joint, {:.0} issues, {:.0} rank)",
            ms(self.total()),
            ms(self.check),
            ms(self.joint),
            ms(self.issues),
            ms(self.rank)
        )
    }
}

/// Validation, steps 1-5 and the ranking by normalized margin (what `audit` and
/// `TaskAudit::ranked` do, step by step to time each): returns the times and the number of
/// issues.
fn audit_and_rank<P: Probability>(
    probs: &[P],
    classes: usize,
    labels: &[Option<usize>],
) -> (Steps, usize) {
    let start = Instant::now();
    let input = AuditInput::new(probs, classes, labels).expect("valid input");
    let check = start.elapsed();
    let start = Instant::now();
    let thresholds = confident_thresholds(&input);
    let joint = compute_confident_joint(&input, &thresholds);
    let calibrated = calibrate_confident_joint(&joint, input.label_counts());
    let latent = estimate_latent(&calibrated, input.label_counts());
    let joint_time = start.elapsed();
    let start = Instant::now();
    let issues = find_label_issues(&input, &calibrated);
    let issues_time = start.elapsed();
    let start = Instant::now();
    let ranked = order_label_issues(&input, &issues, RankBy::NormalizedMargin);
    let rank = start.elapsed();
    assert_eq!(latent.prior.len(), classes);
    let steps = Steps {
        check,
        joint: joint_time,
        issues: issues_time,
        rank,
    };
    (steps, ranked.len())
}

fn confident() {
    let n = products();
    let mut total32 = Steps::default();
    let mut total64 = Steps::default();
    println!(
        "{:<12} {:>7} {:>8}  {:<44} {:<44}",
        "task", "classes", "issues", "f32 input", "f64 input"
    );
    let (mut cpu32, mut cpu64) = (Duration::ZERO, Duration::ZERO);
    for (seed, (task, classes)) in HEADS.iter().enumerate() {
        let (probs, labels) = generate(n, *classes, seed as u64);
        let cpu = cpu_time();
        let (steps32, issues) = audit_and_rank(&probs, *classes, &labels);
        cpu32 += cpu_time() - cpu;
        let wide: Vec<f64> = probs.iter().map(|&p| f64::from(p)).collect();
        drop(probs);
        let cpu = cpu_time();
        let (steps64, issues64) = audit_and_rank(&wide, *classes, &labels);
        cpu64 += cpu_time() - cpu;
        assert_eq!(issues, issues64);
        total32.add(steps32);
        total64.add(steps64);
        println!(
            "{task:<12} {classes:>7} {issues:>8}  {:<44} {:<44}",
            steps32.describe(),
            steps64.describe()
        );
    }
    println!(
        "{:<12} {:>7} {:>8}  {:<44} {:<44}",
        "all",
        "",
        "",
        total32.describe(),
        total64.describe()
    );
    println!(
        "confident-1m: {n} products x 5 tasks found and ranked in {:.2} s (f32 input; {:.2} s of CPU), {:.2} s (f64 input; {:.2} s of CPU); target at 1,000,000 products: under 2 s on one core; peak memory {}",
        total32.total().as_secs_f64(),
        cpu32.as_secs_f64(),
        total64.total().as_secs_f64(),
        cpu64.as_secs_f64(),
        common::status_field("VmHWM:")
    );
}

/// Generated Myntra-like names ("Roadster Men Navy Blue Casual Shoes") against the colour and
/// subcategory vocabularies.
fn text() {
    let n = products();
    let colours = [
        "Black",
        "Blue",
        "Navy Blue",
        "White",
        "Off White",
        "Grey",
        "Grey Melange",
        "Red",
        "Green",
        "Sea Green",
        "Brown",
        "Coffee Brown",
        "Tan",
        "Beige",
        "Pink",
        "Purple",
        "Yellow",
        "Orange",
        "Maroon",
        "Olive",
        "Khaki",
        "Cream",
        "Silver",
        "Gold",
    ];
    let subcategories = [
        "Tshirts",
        "Shirts",
        "Casual Shoes",
        "Sports Shoes",
        "Formal Shoes",
        "Sandals",
        "Sports Sandals",
        "Flip Flops",
        "Watches",
        "Handbags",
        "Kurtas",
        "Tops",
        "Jeans",
        "Trousers",
        "Track Pants",
        "Shorts",
        "Heels",
        "Flats",
        "Sunglasses",
        "Wallets",
        "Belts",
        "Socks",
        "Backpacks",
        "Dresses",
        "Jackets",
        "Sweatshirts",
    ];
    let brands = [
        "Nike", "Puma", "Roadster", "Red Tape", "Fastrack", "Titan", "Wrangler",
    ];
    let genders = ["Men", "Women", "Boys", "Girls", "Unisex"];
    let names: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "{} {} {} {}",
                brands[i % brands.len()],
                genders[i % genders.len()],
                colours[(i / 7) % colours.len()],
                subcategories[(i / 3) % subcategories.len()]
            )
        })
        .collect();
    let matchers = [
        TextMatcher::new(&colours.map(String::from)),
        TextMatcher::new(&subcategories.map(String::from)),
    ];
    let start = Instant::now();
    let mut witnesses = 0usize;
    for (i, name) in names.iter().enumerate() {
        for (t, matcher) in matchers.iter().enumerate() {
            let label = Some((i + t) % 5);
            witnesses += usize::from(matcher.witness(&[name.as_str()], label).is_some());
        }
    }
    let elapsed = start.elapsed();
    assert!(witnesses > 0);
    println!(
        "text-1m: {n} names x 2 tasks in {:.2} s ({:.2} us per name and task), {witnesses} witnesses",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / (2 * n) as f64
    );
}
