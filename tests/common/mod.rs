//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod postgres;
pub mod real_data;
pub mod window;

/// The real catalogues (read-only), or `None` when they are absent and the calling test is to
/// be skipped (it says so in one line; under CI their absence fails the test instead).
pub fn shared_data() -> Option<PathBuf> {
    let test = std::thread::current();
    real_data::find(&format!("test {}", test.name().unwrap_or("?")))
}

/// The vitrine binary built for the tests.
pub fn vitrine() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_vitrine"));
    // Keep stores of read-only catalogues out of the user's data directory.
    command.env(
        "VITRINE_DATA_DIR",
        std::env::temp_dir().join(format!("vitrine-test-data-{}", std::process::id())),
    );
    command
}

/// Runs `command`, fails the test with its standard error unless it succeeds, and returns its
/// standard output.
pub fn stdout_of(mut command: std::process::Command) -> Vec<u8> {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Runs `command`, fails the test unless it fails cleanly (an error, no panic), and returns
/// its standard error.
pub fn stderr_of_failure(mut command: std::process::Command) -> String {
    let output = command.output().unwrap();
    assert!(!output.status.success(), "{command:?} succeeded");
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Writes a small manifest catalogue (no images) with `n` products into `dir`; returns its path.
pub fn small_catalogue(dir: &std::path::Path, n: usize) -> PathBuf {
    let colours = ["Red", "Blue", "Green", "Black"];
    let mut text = String::from("product_id,name,images,gender,colour,type,category,subcategory\n");
    for i in 0..n {
        text.push_str(&format!(
            "p{i},Product {i},,Women,{},Apparel,Topwear,Tshirts\n",
            colours[i % colours.len()]
        ));
    }
    let path = dir.join("manifest.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// A catalogue of 12 products with a photo each: p0 and p1 show the same file (p0 Red, p1
/// Blue), the others distinct photos; all Red but p1.
pub fn copies_catalogue(dir: &std::path::Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("img")).unwrap();
    let mut text = String::from("product_id,name,images,gender,colour,type,category,subcategory\n");
    for i in 0..12u8 {
        let file = format!("img/{i}.png");
        let shade = if i == 1 { 0 } else { i * 20 };
        image::RgbImage::from_pixel(6, 6, image::Rgb([shade, 100, 50]))
            .save(dir.join(&file))
            .unwrap();
        let colour = if i == 1 { "Blue" } else { "Red" };
        text.push_str(&format!(
            "p{i},Product {i},{file},Women,{colour},Apparel,Topwear,Tshirts\n"
        ));
    }
    let path = dir.join("manifest.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// A finished run folder `dir/run` over `catalogue` holding `embeddings` (its representations).
pub fn run_with_embeddings(
    dir: &std::path::Path,
    catalogue: &std::path::Path,
    embeddings: &vitrine::runs::embeddings::Embeddings,
) -> PathBuf {
    let run = dir.join("run");
    vitrine::runs::RunFolder::create(
        &run,
        &vitrine::runs::RunConfig {
            catalogue: catalogue.to_path_buf(),
            ..vitrine::runs::RunConfig::default()
        },
    )
    .unwrap();
    embeddings.write(&run).unwrap();
    run
}

/// A finished run folder `dir/run` over [`small_catalogue`]'s products p0..p{n-1} whose
/// predictions agree with every colour (validation split) and whose representation of
/// product i is `row(i)`.
pub fn run_agreeing_on_colour(
    dir: &std::path::Path,
    catalogue: &std::path::Path,
    n: usize,
    row: impl Fn(usize) -> Vec<f32>,
) -> PathBuf {
    let colours = ["Red", "Blue", "Green", "Black"];
    let mut lines = vec![r#"{"format":"vitrine-predictions","version":1,"run":"run","classes":{"colour":["Red","Blue","Green","Black"]}}"#.to_string()];
    for i in 0..n {
        lines.push(format!(
            r#"{{"product_id":"p{i}","split":"validation","tasks":{{"colour":{{"label":"{c}","top":[["{c}",0.9]]}}}}}}"#,
            c = colours[i % 4]
        ));
    }
    let rows: Vec<Vec<f32>> = (0..n).map(row).collect();
    let embeddings = vitrine::runs::embeddings::Embeddings {
        ids: (0..n).map(|i| format!("p{i}")).collect(),
        dim: rows.first().map_or(0, Vec::len),
        values: rows.concat(),
    };
    let run = run_with_embeddings(dir, catalogue, &embeddings);
    std::fs::write(run.join("predictions.jsonl"), lines.join("\n") + "\n").unwrap();
    run
}

/// `n` products' representations around `groups` random centres in `dim` dimensions (seeded):
/// product i near centre `i % groups`, each value off by at most `noise(i)`.
pub fn clustered_embeddings(
    n: usize,
    groups: usize,
    dim: usize,
    seed: u64,
    noise: impl Fn(usize) -> f32,
) -> vitrine::runs::embeddings::Embeddings {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..groups)
        .map(|_| (0..dim).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let mut values = Vec::with_capacity(n * dim);
    for i in 0..n {
        let noise = noise(i);
        values.extend(
            centres[i % groups]
                .iter()
                .map(|c| c + rng.random_range(-noise..noise)),
        );
    }
    vitrine::runs::embeddings::Embeddings {
        ids: (0..n).map(|i| format!("p{i}")).collect(),
        dim,
        values,
    }
}

/// A human edit by `author`, without a reason.
pub fn human(author: &str) -> vitrine::labels::Attribution {
    vitrine::labels::Attribution {
        author: author.into(),
        source: vitrine::labels::EditSource::Human,
        reason: None,
    }
}

/// Sets `task` of `product` to `value`.
pub fn change(product: &str, task: vitrine::catalog::Task, value: &str) -> vitrine::labels::Change {
    vitrine::labels::Change {
        product: product.into(),
        task,
        value: Some(value.into()),
    }
}

/// The colour label of `product` in `ws`.
pub fn colour(ws: &vitrine::labels::Workspace, product: &str) -> Option<String> {
    let p = ws.catalog.product(product).unwrap();
    ws.catalog
        .label_name(p, vitrine::catalog::Task::Colour)
        .map(String::from)
}

/// Every record a training run sends until its final one.
pub fn records(handle: &vitrine::ml::TrainingHandle) -> Vec<vitrine::runs::MetricsRecord> {
    use vitrine::runs::MetricsRecord;
    let mut out = Vec::new();
    for event in handle.events() {
        if let vitrine::ml::TrainingEvent::Record(record) = event {
            let last = matches!(
                record,
                MetricsRecord::Finished { .. }
                    | MetricsRecord::Stopped { .. }
                    | MetricsRecord::Failed { .. }
            );
            out.push(record);
            if last {
                break;
            }
        }
    }
    out
}
