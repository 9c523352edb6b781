//! Training throughput of the model on the CPU: images per second through forward, backward
//! and the SGD step, on synthetic batches of the shape `benches/torch_peer.py` uses, so the
//! two can be compared (same network, same batch, same machine).
//!
//! `pipeline-luma-224` is the data pipeline alone: the real Luma photos (large progressive
//! JPEGs) decoded, scaled, cropped to 224 px and mirrored into batches on one core, as the
//! loader's workers do, first from the files and then from the decoded-image cache.
//!
//! `cargo bench --bench training` (add `-- CASE` for one case). Under `cargo test` each case
//! runs one step at a tiny size, as a smoke test of this file. `VITRINE_BENCH_BATCH_NORM=0`
//! leaves batch norm out, to measure what it costs (on burn's Flex backend its broadcasting
//! element-wise operations take most of a small-backbone step).

mod common;

use std::time::Instant;
use vitrine::catalog::Task;
use vitrine::ml::backend::CpuTraining;
use vitrine::ml::data::Batch;
use vitrine::ml::model::ModelConfig;
use vitrine::ml::training::{sgd_config, step};
use vitrine::runs::config::Recipe;
use vitrine::runs::{Backbone, RunConfig};

const CASES: [&str; 5] = [
    "small-64-x1",
    "small-64-x3",
    "zfnet-224-x1",
    "zfnet-224-x3",
    "pipeline-luma-224",
];

/// PyTorch's zfnet training rate on one H200 (64 products x 3 photos, see the README): the
/// rate the pipeline would have to feed.
const GPU_IMAGES_PER_SECOND: f64 = 7865.0;

/// The five heads sized like the Myntra catalogue's classes.
const HEADS: [(Task, usize); 5] = [
    (Task::Gender, 5),
    (Task::Colour, 46),
    (Task::Type, 7),
    (Task::Category, 45),
    (Task::Subcategory, 143),
];

fn main() {
    common::main(&CASES, None, run_case);
}

fn run_case(case: &str) {
    if case == "pipeline-luma-224" {
        return pipeline(if common::full() { 120 } else { 2 });
    }
    let full = common::full();
    let (backbone, size, products, per_product, iterations) = match case {
        "small-64-x1" => (Backbone::Small, 64, 32, 1, 20),
        "small-64-x3" => (Backbone::Small, 64, 32, 3, 10),
        "zfnet-224-x1" => (Backbone::Zfnet, 224, 8, 1, 5),
        _ => (Backbone::Zfnet, 224, 8, 3, 3),
    };
    let (size, products, iterations) = if full {
        (size, products, iterations)
    } else {
        (if backbone == Backbone::Small { 32 } else { 160 }, 2, 1)
    };
    let device = vitrine::ml::backend::cpu_device();
    let config = ModelConfig {
        backbone,
        batch_norm: std::env::var("VITRINE_BENCH_BATCH_NORM").as_deref() != Ok("0"),
        feature_grid: 1, // a global average, as the PyTorch peer pools the small backbone
        dropout: 0.5,
        representation: 1024,
        heads: HEADS.to_vec(),
    };
    let mut model = config.init::<CpuTraining>(&device);
    // The training loop's optimiser with the published settings (momentum 0.9, weight decay
    // 5e-4).
    let mut optimizer = sgd_config(&RunConfig::default().with_recipe(Recipe::Published)).init();
    let images = products * per_product;
    let batch = Batch {
        pixels: (0..images * 3 * size * size)
            .map(|i| ((i * 7919) % 997) as f32 / 997.0 - 0.5)
            .collect(),
        crop: size,
        ranges: (0..products)
            .map(|p| p * per_product..(p + 1) * per_product)
            .collect(),
        targets: HEADS
            .iter()
            .map(|&(_, c)| (0..products).map(|p| Some((p % c) as u32)).collect())
            .collect(),
        samples: (0..products).collect(),
        shape: None,
    };
    let devices = [device];
    // The allocator as a run sets it (`vitrine::ml::start`).
    vitrine::ml::memory::keep_freed_memory();
    // One warm-up step (allocations, lazy parameters).
    model = step(model, &mut optimizer, &batch, &devices, 0.01, 0.0)
        .expect("step")
        .0;
    let started = Instant::now();
    for _ in 0..iterations {
        model = step(model, &mut optimizer, &batch, &devices, 0.01, 0.0)
            .expect("step")
            .0;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{case:<14} {size} px, {products} products x {per_product} photos: {:.1} training images/s ({:.3} s/iteration, {} threads, {})",
        (images * iterations) as f64 / seconds,
        seconds / iterations as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        vitrine::ml::backend::CPU_BACKEND
    );
}

/// Decode + scale + crop + mirror of the first `products` Luma products' photos at 224 px on
/// one core (this thread, as one loader worker), in batches of 8 products: from the files, then
/// from the decoded-image cache the loader keeps when the photos fit its budget.
fn pipeline(products: usize) {
    use rand::SeedableRng;
    use vitrine::catalog::import::{ImportOptions, import};
    use vitrine::ml::data::{Dataset, class_lists};
    use vitrine::runs::Splitter;
    let Some(real) = common::real_data("pipeline-luma-224") else {
        return;
    };
    let imported = import(
        &real.join("magento-luma").join("manifest_colourways.csv"),
        &ImportOptions::default(),
    )
    .expect("Luma manifest");
    let config = RunConfig {
        backbone: Backbone::Zfnet,
        image_size: 224,
        ..RunConfig::default()
    };
    let splitter = Splitter::by_hash(&config);
    let (spec, _) = class_lists(&imported.catalog, &config, &splitter);
    let disk = tempfile::tempdir().expect("tempdir");
    // A run's dataset: its in-memory cache empty, the decoded-photo cache on disk as given.
    let dataset = |cache: bool| {
        let mut dataset = Dataset::new(&imported.catalog, &config, &splitter, &spec);
        dataset.set_decoded_cache(cache.then(|| disk.path().to_path_buf()));
        dataset
    };
    let first = dataset(false);
    let samples: Vec<usize> = (0..first.samples().len().min(products)).collect();
    let photos: usize = samples
        .iter()
        .map(|&s| first.samples()[s].images.len())
        .sum();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut pass = |dataset: &Dataset| {
        let started = Instant::now();
        for chunk in samples.chunks(8) {
            let batch = dataset.batch(chunk, Some(&mut rng));
            let expected: usize = chunk
                .iter()
                .map(|&s| dataset.samples()[s].images.len())
                .sum();
            assert_eq!(batch.image_count(), expected);
        }
        let (failures, reason) = dataset.failures();
        assert_eq!(failures, 0, "{reason:?}");
        photos as f64 / started.elapsed().as_secs_f64()
    };
    let files = pass(&first);
    let cached = pass(&first);
    // A GPU run keeps its decoded photos on disk for the next run: filled by one run, read
    // by the next.
    pass(&dataset(true));
    let disk_cached = pass(&dataset(true));
    println!(
        "pipeline-luma-224: {} products, {photos} photos, one core: decode + scale + crop + mirror \
         {files:.1} images/s from the files, {disk_cached:.0} images/s from the decoded-photo \
         cache on disk (a later run's first epoch), {cached:.0} images/s from memory (a run's \
         later epochs); to feed {GPU_IMAGES_PER_SECOND:.0} images/s (PyTorch on one H200): \
         {:.0} cores from the files, {:.1} from the disk cache, {:.1} from memory",
        samples.len(),
        GPU_IMAGES_PER_SECOND / files,
        GPU_IMAGES_PER_SECOND / disk_cached,
        GPU_IMAGES_PER_SECOND / cached,
    );
}
