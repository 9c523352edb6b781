//! Plumbing shared by the bench binaries: one child process per case (so peak memory is the
//! case's own), full scale under `cargo bench`, a quick smoke run under `cargo test`, and the
//! generated large manifest.
#![allow(dead_code)] // each bench binary uses its own subset

use std::io::Write;
use std::path::{Path, PathBuf};

#[path = "../../tests/common/real_data.rs"]
mod real_data;

#[path = "../../tests/common/postgres.rs"]
pub mod postgres;

/// The real catalogues, or `None` when they are absent and `case` is skipped (it says so;
/// under CI their absence fails it).
pub fn real_data(case: &str) -> Option<PathBuf> {
    real_data::find(&format!("bench case {case}"))
}

/// Whether this process runs a case at full scale (set by [`main`] for its children).
pub fn full() -> bool {
    std::env::var("VITRINE_BENCH_SCALE").as_deref() == Ok("full")
}

/// Runs the case named on the command line, or every case, each in a child process;
/// `header` is printed before running all cases. `--bench` (passed by `cargo bench`) selects
/// full scale; without it (`cargo test`) each case runs as a quick smoke test.
pub fn main(cases: &[&str], header: Option<&str>, run_case: fn(&str)) {
    let scale = if std::env::args().any(|a| a == "--bench") {
        "full"
    } else {
        "smoke"
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if let Some(case) = args.first().filter(|a| cases.contains(&a.as_str())) {
        if std::env::var_os("VITRINE_BENCH_CHILD").is_some() {
            run_case(case);
        } else {
            spawn(case, scale);
        }
        return;
    }
    if let Some(header) = header {
        println!("{header}");
    }
    for case in cases {
        spawn(case, scale);
    }
}

fn spawn(case: &str, scale: &str) {
    let exe = std::env::current_exe().expect("bench executable");
    let status = std::process::Command::new(exe)
        .arg(case)
        .env("VITRINE_BENCH_CHILD", "1")
        .env("VITRINE_BENCH_SCALE", scale)
        .status()
        .expect("spawn bench case");
    assert!(status.success(), "case {case} failed");
}

/// A field of /proc/self/status (Linux), such as `VmHWM:` (peak resident memory).
pub fn status_field(name: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.trim_start_matches(name).trim().to_string())
        })
        .unwrap_or_else(|| "n/a".into())
}

/// Writes a manifest of `n` products (1-3 images each, named over 1,000 tiny files in 10
/// folders that are not real JPEGs) into `dir`; returns its path.
pub fn write_manifest(dir: &Path, n: usize) -> PathBuf {
    for folder in 0..10 {
        let path = dir.join(format!("img/{folder}"));
        std::fs::create_dir_all(&path).expect("folder");
        for file in 0..100 {
            std::fs::write(path.join(format!("{file}.jpg")), b"x").expect("file");
        }
    }
    let colours = [
        "Black",
        "White",
        "Blue",
        "Red",
        "Green",
        "Grey",
        "Navy Blue",
        "Pink",
    ];
    let subcategories = [
        ("Topwear", "Tshirts"),
        ("Topwear", "Shirts"),
        ("Bottomwear", "Jeans"),
        ("Shoes", "Sneakers"),
    ];
    let manifest = dir.join("manifest.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&manifest).expect("manifest"));
    writeln!(
        out,
        "product_id,name,images,gender,colour,type,category,subcategory,season"
    )
    .expect("write");
    for i in 0..n {
        let images: Vec<String> = (0..1 + i % 3)
            .map(|k| format!("img/{}/{}.jpg", (i + k) % 10, (i * 7 + k) % 100))
            .collect();
        let (category, sub) = subcategories[i % subcategories.len()];
        writeln!(
            out,
            "P{i:07},Product number {i},{},{},{},Apparel,{category},{sub},Fall",
            images.join("|"),
            if i % 2 == 0 { "Men" } else { "Women" },
            colours[i % colours.len()],
        )
        .expect("write");
    }
    out.flush().expect("flush");
    manifest
}
