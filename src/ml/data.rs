//! The data pipeline: which products train and validate, their class indices, and batches of
//! decoded, scaled, cropped, mirrored and mean-subtracted images assembled on worker threads.
//!
//! Decoded images (already scaled so the shorter side is 8/7 of the crop, as 256 is to 224)
//! are cached in memory the first time a worker needs them, so only the first epoch decodes.
//! Nothing here touches burn: batches are plain vectors the training loop turns into tensors.

use crate::catalog::{Catalog, Task};
use crate::imaging::decode_short_side_cached;
use crate::runs::classes::{HeadClasses, OTHER};
use crate::runs::predictions::Split;
use crate::runs::{ModelSpec, RunConfig, Splitter};
use crossbeam_channel::{Receiver, bounded};
use image::RgbImage;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Above this many bytes of decoded images the cache is off and every epoch decodes again.
const CACHE_BUDGET_BYTES: u64 = 6 << 30;

/// One training or evaluation sample: a product, or one photo of it in single-image mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Position of the product in the catalogue.
    pub product: usize,
    /// Indices into the dataset's image table (1 in single-image mode).
    pub images: Vec<usize>,
    /// Class index of each head's label, in head order; `None` where the label is missing.
    pub targets: Vec<Option<u32>>,
    /// The side of the split.
    pub split: Split,
}

/// The training data of one run over one catalogue.
#[derive(Debug)]
pub struct Dataset {
    paths: Vec<PathBuf>,
    cache: Vec<OnceLock<Result<Arc<RgbImage>, String>>>,
    cache_enabled: bool,
    scale: u32,
    crop: u32,
    mean: [f32; 3],
    samples: Vec<Sample>,
    /// The most photos a sample may have (1 in single-image mode).
    max_photos: usize,
    /// Whether its loaders pad batches to constant shapes (see [`Shapes`]).
    constant_shapes: bool,
    /// Where decoded, scaled photos are kept across runs (see
    /// [`crate::imaging::decode_short_side_cached`]); `None`: decoded afresh by each run.
    decoded_cache: Option<PathBuf>,
    heads: Vec<Task>,
    /// Photos that could not be decoded, each once however often it is read, and the first
    /// reason.
    failures: Mutex<Failures>,
}

/// The photos of a dataset that could not be decoded.
#[derive(Debug, Default)]
struct Failures {
    files: std::collections::BTreeSet<PathBuf>,
    first: Option<String>,
}

/// What preparing a dataset found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrepareReport {
    /// Products left out because they have no photo.
    pub products_without_images: usize,
    /// Tasks left out because fewer than 2 classes have enough training examples.
    pub dropped_tasks: Vec<Task>,
}

/// Class lists for each head (most frequent first, `other` last when used), from the labels
/// of the training split: classes with fewer than `min_examples` training products are merged
/// into `other`, as are labels seen only in validation. A task left with fewer than 2
/// classes gets no head (it is in the report's `dropped_tasks`). An audit fold's model counts
/// the products of every fold, so that all the folds' models have the same heads and their
/// out-of-fold probabilities can be merged.
pub fn class_lists(
    catalog: &Catalog,
    config: &RunConfig,
    splitter: &Splitter,
) -> (ModelSpec, PrepareReport) {
    let mut counts: BTreeMap<Task, BTreeMap<String, usize>> = BTreeMap::new();
    let mut every: BTreeMap<Task, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut report = PrepareReport::default();
    for product in catalog.products() {
        if product.images.is_empty() {
            report.products_without_images += 1;
            continue;
        }
        let train = match splitter.side(catalog, product) {
            Split::Train => true,
            Split::Validation => splitter.is_fold(),
            Split::Test => false,
        };
        for &task in &config.tasks {
            if let Some(name) = catalog.label_name(product, task) {
                every.entry(task).or_default().insert(name.to_string());
                if train {
                    *counts
                        .entry(task)
                        .or_default()
                        .entry(name.to_string())
                        .or_default() += 1;
                }
            }
        }
    }
    let mut spec = ModelSpec {
        classes: BTreeMap::new(),
        merged_into_other: BTreeMap::new(),
        channel_mean: [0.0; 3],
    };
    for &task in &config.tasks {
        let task_counts = counts.remove(&task).unwrap_or_default();
        let mut kept: Vec<(String, usize)> = task_counts
            .iter()
            .filter(|&(_, &n)| n >= config.min_class_examples.max(1))
            .map(|(name, &n)| (name.clone(), n))
            .collect();
        kept.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut classes: Vec<String> = kept.into_iter().map(|(name, _)| name).collect();
        let merged: Vec<String> = every
            .remove(&task)
            .unwrap_or_default()
            .into_iter()
            .filter(|name| !classes.contains(name) && name != OTHER)
            .collect();
        if !merged.is_empty() && !classes.iter().any(|c| c == OTHER) {
            classes.push(OTHER.to_string());
        }
        // A head of one class (everything merged into `other`, or a single label) learns
        // nothing and scores every product right.
        if classes.len() < 2 {
            report.dropped_tasks.push(task);
            continue;
        }
        if !merged.is_empty() {
            spec.merged_into_other.insert(task, merged);
        }
        spec.classes.insert(task, classes);
    }
    (spec, report)
}

/// The shorter side photos are scaled to before a `crop` x `crop` crop: 8/7 of it, as 256 is
/// to 224.
fn scaled_side(crop: u32) -> u32 {
    (crop as f32 * 8.0 / 7.0).round() as u32
}

impl Dataset {
    /// The samples of `catalog` under `config`, with labels mapped to the heads of `spec`.
    /// Products without photos are left out; in single-image mode each photo is a sample.
    pub fn new(
        catalog: &Catalog,
        config: &RunConfig,
        splitter: &Splitter,
        spec: &ModelSpec,
    ) -> Dataset {
        let heads: Vec<Task> = spec.classes.keys().copied().collect();
        let lookups: Vec<HeadClasses> = heads
            .iter()
            .map(|task| HeadClasses::new(&spec.classes[task]))
            .collect();
        let mut paths = Vec::new();
        let mut samples = Vec::new();
        for (position, product) in catalog.products().iter().enumerate() {
            if product.images.is_empty() {
                continue;
            }
            let split = splitter.side(catalog, product);
            let targets: Vec<Option<u32>> = heads
                .iter()
                .zip(&lookups)
                .map(|(&task, head)| {
                    catalog
                        .label_name(product, task)
                        .and_then(|name| head.class_of(name))
                })
                .collect();
            let first = paths.len();
            for image in product.images.iter().take(config.max_images) {
                paths.push(catalog.image_path(image));
            }
            let images: Vec<usize> = (first..paths.len()).collect();
            if config.single_image {
                for &image in &images {
                    samples.push(Sample {
                        product: position,
                        images: vec![image],
                        targets: targets.clone(),
                        split,
                    });
                }
            } else {
                samples.push(Sample {
                    product: position,
                    images,
                    targets,
                    split,
                });
            }
        }
        let crop = config.image_size;
        let scale = scaled_side(crop);
        let estimate = paths.len() as u64 * scale as u64 * scale as u64 * 4;
        Dataset {
            cache: (0..paths.len()).map(|_| OnceLock::new()).collect(),
            paths,
            cache_enabled: estimate <= CACHE_BUDGET_BYTES,
            scale,
            crop,
            mean: spec.channel_mean,
            samples,
            max_photos: if config.single_image {
                1
            } else {
                config.max_images.max(1)
            },
            constant_shapes: false,
            decoded_cache: None,
            heads,
            failures: Mutex::new(Failures::default()),
        }
    }

    /// All samples.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The file of image `i` of the image table ([`Sample::images`] index it).
    pub fn image_path(&self, i: usize) -> Option<&std::path::Path> {
        self.paths.get(i).map(PathBuf::as_path)
    }

    /// The tasks of the heads, in head order.
    pub fn heads(&self) -> &[Task] {
        &self.heads
    }

    /// Indices of the samples on one side of the split.
    pub fn indices(&self, split: Split) -> Vec<usize> {
        (0..self.samples.len())
            .filter(|&i| self.samples[i].split == split)
            .collect()
    }

    /// Pads the batches its loaders assemble to constant shapes (see [`Shapes`]), or not.
    pub fn set_constant_shapes(&mut self, on: bool) {
        self.constant_shapes = on;
    }

    /// Keeps the decoded, scaled photos in `dir` across runs, or not (`None`).
    pub fn set_decoded_cache(&mut self, dir: Option<PathBuf>) {
        self.decoded_cache = dir;
    }

    /// Sets the per-channel mean (computed by [`Dataset::channel_mean`] or read from a run).
    pub fn set_mean(&mut self, mean: [f32; 3]) {
        self.mean = mean;
    }

    /// Distinct photo files that could not be decoded so far (each counted once, whichever
    /// passes read it), and the first reason.
    pub fn failures(&self) -> (usize, Option<String>) {
        self.failures
            .lock()
            .map(|f| (f.files.len(), f.first.clone()))
            .unwrap_or((0, None))
    }

    /// Per-channel mean (0-1 scale) of up to `limit` photos of `indices`, spread evenly, decoded
    /// on `threads` threads; `progress(done, total)` is called as they finish.
    pub fn channel_mean(
        &self,
        indices: &[usize],
        limit: usize,
        threads: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> [f32; 3] {
        let mut images: Vec<usize> = indices
            .iter()
            .flat_map(|&i| self.samples[i].images.iter().copied())
            .collect();
        images.sort_unstable();
        images.dedup();
        let step = images.len().div_ceil(limit.max(1)).max(1);
        let chosen: Vec<usize> = images.into_iter().step_by(step).collect();
        let done = AtomicUsize::new(0);
        let sums = Mutex::new(([0f64; 3], 0u64));
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..threads.max(1) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&image) = chosen.get(i) else { break };
                        if let Some(pixels) = self.image(image) {
                            let mut local = [0f64; 3];
                            for p in pixels.pixels() {
                                for (sum, &value) in local.iter_mut().zip(&p.0) {
                                    *sum += value as f64;
                                }
                            }
                            if let Ok(mut s) = sums.lock() {
                                for (sum, value) in s.0.iter_mut().zip(local) {
                                    *sum += value;
                                }
                                s.1 += pixels.width() as u64 * pixels.height() as u64;
                            }
                        }
                        progress(done.fetch_add(1, Ordering::Relaxed) + 1, chosen.len());
                    }
                });
            }
        });
        let (sum, count) = sums.into_inner().unwrap_or(([0.0; 3], 0));
        if count == 0 {
            return [0.5; 3];
        }
        sum.map(|s| (s / count as f64 / 255.0) as f32)
    }

    /// The decoded, scaled photo, from the cache when it is there. `None` when it cannot be
    /// decoded (its file counted once, and the first reason kept).
    fn image(&self, index: usize) -> Option<Arc<RgbImage>> {
        let decode = || {
            decode_short_side_cached(
                &self.paths[index],
                self.scale,
                self.decoded_cache.as_deref(),
            )
            .map(Arc::new)
            .map_err(|e| format!("{}: {e}", self.paths[index].display()))
        };
        let result = if self.cache_enabled {
            self.cache[index].get_or_init(decode).clone()
        } else {
            decode()
        };
        match result {
            Ok(image) => Some(image),
            Err(reason) => {
                if let Ok(mut failures) = self.failures.lock()
                    && failures.files.insert(self.paths[index].clone())
                    && failures.first.is_none()
                {
                    failures.first = Some(reason);
                }
                None
            }
        }
    }

    /// Assembles the batch of `samples`. With `augment` (a seeded generator): random crops and
    /// half of the samples mirrored; without: centre crops.
    pub fn batch(&self, samples: &[usize], mut augment: Option<&mut ChaCha8Rng>) -> Batch {
        let crop = self.crop as usize;
        let plane = crop * crop;
        let mut mirrored = vec![false; samples.len()];
        if let Some(rng) = augment.as_deref_mut() {
            let mut order: Vec<usize> = (0..samples.len()).collect();
            order.shuffle(rng);
            for &i in &order[..samples.len() / 2] {
                mirrored[i] = true;
            }
        }
        let mut pixels = Vec::new();
        let mut ranges = Vec::with_capacity(samples.len());
        for (k, &s) in samples.iter().enumerate() {
            let start = pixels.len() / (3 * plane);
            for &image in &self.samples[s].images {
                let Some(decoded) = self.image(image) else {
                    continue;
                };
                let (w, h) = (decoded.width() as usize, decoded.height() as usize);
                let (x0, y0) = match augment.as_deref_mut() {
                    Some(rng) => (
                        rng.random_range(0..=w - crop),
                        rng.random_range(0..=h - crop),
                    ),
                    None => ((w - crop) / 2, (h - crop) / 2),
                };
                let base = pixels.len();
                pixels.resize(base + 3 * plane, 0.0);
                let raw = decoded.as_raw();
                for y in 0..crop {
                    let row = ((y0 + y) * w + x0) * 3;
                    for x in 0..crop {
                        let source = if mirrored[k] { crop - 1 - x } else { x };
                        let p = row + source * 3;
                        for c in 0..3 {
                            pixels[base + c * plane + y * crop + x] =
                                raw[p + c] as f32 / 255.0 - self.mean[c];
                        }
                    }
                }
            }
            if pixels.len() / (3 * plane) == start {
                // No photo of this sample decodes: a mean-grey image keeps the batch's shape
                // (the failure is counted and reported).
                pixels.resize(pixels.len() + 3 * plane, 0.0);
            }
            ranges.push(start..pixels.len() / (3 * plane));
        }
        let targets = (0..self.heads.len())
            .map(|h| {
                samples
                    .iter()
                    .map(|&s| self.samples[s].targets[h])
                    .collect()
            })
            .collect();
        Batch {
            pixels,
            crop,
            ranges,
            targets,
            samples: samples.to_vec(),
            shape: None,
        }
    }
}

/// A batch of samples ready to become tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The real images, `[images, 3, crop, crop]`, mean-subtracted.
    pub pixels: Vec<f32>,
    /// Side of each image.
    pub crop: usize,
    /// Each sample's images, as a range of image indices.
    pub ranges: Vec<Range<usize>>,
    /// Per head, each sample's class index (`None` = missing label).
    pub targets: Vec<Vec<Option<u32>>>,
    /// The dataset indices of the samples.
    pub samples: Vec<usize>,
    /// The shape its tensors are padded to (see [`Shapes`]); `None`: its own.
    pub shape: Option<Shapes>,
}

/// The shape of a step's tensors, the same for every batch of a pass: `products` samples
/// (a short last batch is padded with repeats of its samples, unlabelled, so they weigh
/// nothing in the loss and their outputs are not read), `products * max_photos` pooling slots,
/// and the photos through the CNN padded (with copies of the batch's first photos, which no
/// slot reads, so every product's max is unchanged) up to the next multiple of `products`: at
/// most `max_photos` shapes of the images' tensor in a pass, where the photo count of a batch
/// of products with 1-5 photos would otherwise take almost any value. A GPU backend tunes and
/// compiles its kernels per shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shapes {
    /// Samples per step.
    pub products: usize,
    /// Pooling slots per sample: the most photos a sample may have.
    pub max_photos: usize,
}

/// The sizes of a batch's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorSizes {
    /// Photos through the CNN.
    pub photos: usize,
    /// Products the network computes.
    pub products: usize,
    /// Pooling slots per product.
    pub slots: usize,
}

impl Shapes {
    /// The photos a batch of `real` photos is padded to.
    pub fn photos(&self, real: usize) -> usize {
        let step = self.products.max(1);
        real.div_ceil(step).max(1) * step
    }
}

impl Batch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Number of images.
    pub fn image_count(&self) -> usize {
        self.ranges.last().map_or(0, |r| r.end)
    }

    /// The most images any sample has.
    pub fn max_images(&self) -> usize {
        self.ranges.iter().map(|r| r.len()).max().unwrap_or(1)
    }

    /// The sizes its tensors take: its shape's when it has one (see [`Shapes`]), else its own.
    pub fn sizes(&self) -> TensorSizes {
        let real = self.image_count();
        match self.shape {
            Some(shape) => TensorSizes {
                photos: shape.photos(real),
                products: shape.products.max(self.len()),
                slots: shape.max_photos.max(self.max_images()),
            },
            None => TensorSizes {
                photos: real,
                products: self.len(),
                slots: self.max_images(),
            },
        }
    }

    /// The pixels of `photos` photos: its own, then copies of its first photos (which no slot
    /// reads).
    pub fn padded_pixels(&self, photos: usize) -> Vec<f32> {
        let plane = 3 * self.crop * self.crop;
        let real = self.image_count();
        let mut pixels = Vec::with_capacity(photos.max(real) * plane);
        pixels.extend_from_slice(&self.pixels);
        for i in 0..photos.saturating_sub(real) {
            let copy = i % real.max(1) * plane;
            pixels.extend_from_within(copy..copy + plane);
        }
        pixels
    }

    /// The pooling slots, `[products * per_product]`: each sample's images, repeated
    /// cyclically to fill its spare slots (see [`crate::ml::model::Model::forward`]); the
    /// products past its samples (padding) repeat its samples' slots.
    pub fn slots(&self, products: usize, per_product: usize) -> Vec<i32> {
        let mut slots = Vec::with_capacity(products * per_product);
        for k in 0..products {
            let range = &self.ranges[k % self.len().max(1)];
            for s in 0..per_product {
                slots.push((range.start + s % range.len().max(1)) as i32);
            }
        }
        slots
    }

    /// Labelled samples of each head.
    pub fn labelled(&self) -> Vec<usize> {
        self.targets
            .iter()
            .map(|t| t.iter().filter(|c| c.is_some()).count())
            .collect()
    }

    /// Splits the batch into `parts` batches of consecutive samples (for data parallel
    /// training); parts may be empty when there are fewer samples than parts.
    pub fn split(&self, parts: usize) -> Vec<Batch> {
        let n = self.len();
        let parts = parts.max(1);
        let plane = 3 * self.crop * self.crop;
        (0..parts)
            .map(|p| {
                let (a, b) = (n * p / parts, n * (p + 1) / parts);
                let first = self.ranges.get(a).map_or(0, |r| r.start);
                let last = if b > a { self.ranges[b - 1].end } else { first };
                Batch {
                    pixels: self.pixels[first * plane..last * plane].to_vec(),
                    crop: self.crop,
                    ranges: self.ranges[a..b]
                        .iter()
                        .map(|r| r.start - first..r.end - first)
                        .collect(),
                    targets: self.targets.iter().map(|t| t[a..b].to_vec()).collect(),
                    samples: self.samples[a..b].to_vec(),
                    shape: self.shape.map(|shape| Shapes {
                        products: shape.products.div_ceil(parts),
                        ..shape
                    }),
                }
            })
            .collect()
    }
}

/// Batches of one pass over some samples, assembled ahead on named worker threads.
///
/// Worker `k` of `K` assembles batches `k`, `k + K`, ...; [`Loader::next`] takes them in order,
/// so the result does not depend on the number of workers. Each worker keeps at most two
/// batches ready; dropping the loader (or setting `stop`) ends the workers. A worker that
/// fails (a panic while assembling) yields an error in its batch's place, and the pass ends
/// there: a pass never ends early in silence.
pub struct Loader {
    receivers: Vec<Receiver<Result<Batch, String>>>,
    next: usize,
    count: usize,
}

impl Loader {
    /// Starts the workers. `augment` carries the seed of the crops and mirroring (per batch,
    /// from `(seed, batch index)`), `None` for evaluation.
    pub fn start(
        dataset: Arc<Dataset>,
        order: Vec<usize>,
        batch: usize,
        augment: Option<u64>,
        workers: usize,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<Loader> {
        let batch = batch.max(1);
        let count = order.len().div_ceil(batch);
        Loader::spawn(count, workers, stop, move |b| {
            let chosen = &order[b * batch..((b + 1) * batch).min(order.len())];
            let mut rng = augment
                .map(|seed| ChaCha8Rng::seed_from_u64(seed ^ (b as u64).wrapping_mul(0x9E37_79B9)));
            Batch {
                shape: dataset.constant_shapes.then_some(Shapes {
                    products: batch,
                    max_photos: dataset.max_photos,
                }),
                ..dataset.batch(chosen, rng.as_mut())
            }
        })
    }

    /// Starts the workers assembling batches `0..count` with `make`.
    fn spawn(
        count: usize,
        workers: usize,
        stop: Arc<AtomicBool>,
        make: impl Fn(usize) -> Batch + Send + Sync + 'static,
    ) -> std::io::Result<Loader> {
        let workers = workers.clamp(1, count.max(1));
        let make = Arc::new(make);
        let mut receivers = Vec::with_capacity(workers);
        for k in 0..workers {
            let (tx, rx) = bounded(2);
            receivers.push(rx);
            let (make, stop) = (make.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("vitrine-data-{k}"))
                .spawn(move || {
                    for b in (k..count).step_by(workers) {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let made = crate::threads::catch(|| make(b)).map_err(|panic| {
                            format!("the data thread vitrine-data-{k} failed on batch {b}: {panic}")
                        });
                        let failed = made.is_err();
                        if tx.send(made).is_err() || failed {
                            return;
                        }
                    }
                })?;
        }
        Ok(Loader {
            receivers,
            next: 0,
            count,
        })
    }
}

impl Iterator for Loader {
    type Item = std::io::Result<Batch>;

    fn next(&mut self) -> Option<std::io::Result<Batch>> {
        if self.next >= self.count {
            return None;
        }
        let k = self.next % self.receivers.len();
        self.next += 1;
        let batch = match self.receivers[k].recv() {
            Ok(Ok(batch)) => return Some(Ok(batch)),
            Ok(Err(message)) => std::io::Error::other(message),
            Err(_) => std::io::Error::other(format!(
                "the data thread vitrine-data-{k} ended before its batches were assembled"
            )),
        };
        self.next = self.count;
        Some(Err(batch))
    }
}

/// The shuffled order of `indices` for `epoch`, from the run's seed.
pub fn epoch_order(indices: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = indices.to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(31).wrapping_add(epoch as u64));
    order.shuffle(&mut rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ProductDraft, ProductImage};

    /// A colour-only model at 32 px over every product (none held out), every class kept.
    fn colour_only() -> RunConfig {
        RunConfig {
            image_size: 32,
            min_class_examples: 1,
            validation_fraction: 0.0,
            tasks: vec![Task::Colour],
            ..RunConfig::default()
        }
    }

    #[test]
    fn a_photo_that_cannot_be_decoded_is_counted_once_however_often_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        image::RgbImage::from_pixel(40, 40, image::Rgb([9, 9, 9]))
            .save(dir.path().join("ok.png"))
            .unwrap();
        std::fs::write(dir.path().join("broken.png"), b"not a png").unwrap();
        let mut catalog = Catalog::new(dir.path());
        // Two products share the broken photo; one names a photo that is gone.
        for (i, name) in ["ok.png", "broken.png", "gone.png", "broken.png", "ok.png"]
            .iter()
            .enumerate()
        {
            let mut labels: [Option<String>; 5] = Default::default();
            labels[Task::Colour.index()] = Some(if i % 2 == 0 { "Red" } else { "Blue" }.into());
            catalog
                .push(ProductDraft {
                    id: format!("p{i}"),
                    name: String::new(),
                    images: vec![ProductImage {
                        path: (*name).into(),
                        view: None,
                    }],
                    labels,
                    attributes: Vec::new(),
                })
                .unwrap();
        }
        let config = colour_only();
        let (spec, _) = class_lists(&catalog, &config, &Splitter::by_hash(&config));
        let dataset = Dataset::new(&catalog, &config, &Splitter::by_hash(&config), &spec);
        let all: Vec<usize> = (0..5).collect();
        dataset.channel_mean(&all, 10, 2, &|_, _| {});
        // The training pass, then the prediction pass, read every photo again.
        dataset.batch(&all, None);
        dataset.batch(&all, None);
        let (count, first) = dataset.failures();
        assert_eq!(count, 2, "{first:?}");
        assert!(first.is_some_and(|f| f.contains("broken.png") || f.contains("gone.png")));
    }

    #[test]
    fn the_most_elongated_image_trained_on_scales_within_the_limit() {
        let largest = scaled_side(crate::runs::config::MAX_IMAGE_SIZE);
        assert!(largest * crate::imaging::MAX_ASPECT <= crate::imaging::MAX_SIDE);
    }

    fn catalogue(dir: &std::path::Path) -> Catalog {
        let mut catalog = Catalog::new(dir);
        for i in 0..60 {
            let path = format!("p{i}.png");
            let colour = match i % 10 {
                0..=5 => "Blue",
                6..=8 => "Red",
                _ => "Teal",
            };
            let mut labels: [Option<String>; 5] = Default::default();
            labels[Task::Colour.index()] = Some(colour.to_string());
            if i % 4 != 0 {
                let kind = if i % 4 == 3 { "Footwear" } else { "Apparel" };
                labels[Task::Type.index()] = Some(kind.to_string());
            }
            let images = if i == 59 {
                Vec::new()
            } else {
                (0..1 + i % 3)
                    .map(|k| ProductImage {
                        path: format!("{path}{k}").into(),
                        view: None,
                    })
                    .collect()
            };
            catalog
                .push(ProductDraft {
                    id: format!("p{i}"),
                    name: String::new(),
                    images,
                    labels,
                    attributes: vec![("style".into(), format!("s{}", i / 2))],
                })
                .unwrap();
        }
        catalog
    }

    #[test]
    fn rare_classes_go_to_other_and_groups_stay_on_one_side() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = catalogue(dir.path());
        let config = RunConfig {
            min_class_examples: 5,
            group_by: Some("style".into()),
            validation_fraction: 0.3,
            tasks: vec![Task::Colour, Task::Type, Task::Gender],
            ..RunConfig::default()
        };
        let (spec, report) = class_lists(&catalog, &config, &Splitter::by_hash(&config));
        assert_eq!(spec.classes[&Task::Colour][..2], ["Blue", "Red"]);
        assert_eq!(
            spec.classes[&Task::Colour].last().map(String::as_str),
            Some(OTHER)
        );
        assert_eq!(spec.merged_into_other[&Task::Colour], vec!["Teal"]);
        assert_eq!(report.dropped_tasks, vec![Task::Gender]);
        assert_eq!(report.products_without_images, 1);
        // Above the data, every label merges into `other`: a one-class head is no head.
        let (rare, report) = class_lists(
            &catalog,
            &RunConfig {
                min_class_examples: 1000,
                ..config.clone()
            },
            &Splitter::by_hash(&config),
        );
        assert!(rare.classes.is_empty(), "{:?}", rare.classes);
        assert_eq!(
            report.dropped_tasks,
            vec![Task::Colour, Task::Type, Task::Gender]
        );
        let dataset = Dataset::new(&catalog, &config, &Splitter::by_hash(&config), &spec);
        assert_eq!(dataset.samples().len(), 59);
        for pair in dataset.samples().chunks(2).filter(|c| c.len() == 2) {
            if pair[0].product / 2 == pair[1].product / 2 {
                assert_eq!(pair[0].split, pair[1].split, "one style, one side");
            }
        }
        let teal = &dataset.samples()[9];
        let other = spec.classes[&Task::Colour].len() as u32 - 1;
        assert_eq!(teal.targets[0], Some(other));
        assert_eq!(
            dataset.samples()[0].targets[1],
            None,
            "missing type stays missing"
        );

        let single = Dataset::new(
            &catalog,
            &RunConfig {
                single_image: true,
                ..config.clone()
            },
            &Splitter::by_hash(&config),
            &spec,
        );
        let photos: usize = dataset.samples().iter().map(|s| s.images.len()).sum();
        assert_eq!(single.samples().len(), photos);
        assert!(single.samples().iter().all(|s| s.images.len() == 1));
        // Same split for the copies of a product as for the product.
        for s in single.samples() {
            let product = dataset.samples().iter().find(|p| p.product == s.product);
            assert_eq!(product.map(|p| p.split), Some(s.split));
        }
    }

    /// A class list naming a class twice (a hand-edited `model.json`): the targets must be
    /// the class the comparison and the agreement marks score the label as, the first.
    #[test]
    fn a_class_named_twice_is_trained_as_its_first() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = catalogue(dir.path());
        let config = RunConfig {
            tasks: vec![Task::Colour],
            ..RunConfig::default()
        };
        let names = ["Blue", "Red", "Blue", OTHER];
        let spec = ModelSpec {
            classes: [(Task::Colour, names.map(String::from).to_vec())].into(),
            merged_into_other: BTreeMap::new(),
            channel_mean: [0.0; 3],
        };
        let head = HeadClasses::new(&names);
        let dataset = Dataset::new(&catalog, &config, &Splitter::by_hash(&config), &spec);
        for sample in dataset.samples() {
            let product = &catalog.products()[sample.product];
            let label = catalog.label_name(product, Task::Colour).unwrap();
            assert_eq!(sample.targets[0], head.class_of(label), "{label}");
        }
        assert_eq!(dataset.samples()[0].targets[0], Some(0), "Blue");
        assert_eq!(dataset.samples()[9].targets[0], Some(3), "Teal is other");
    }

    #[test]
    fn a_shaped_batch_pads_its_photos_products_and_slots() {
        // Three products of 1, 3 and 2 one-pixel photos (values 0-5), in a run of 4 products a
        // step with at most 5 photos each.
        let batch = Batch {
            pixels: (0..6).flat_map(|i| [i as f32; 3]).collect(),
            crop: 1,
            ranges: vec![0..1, 1..4, 4..6],
            targets: vec![vec![Some(0), None, Some(1)]],
            samples: vec![7, 8, 9],
            shape: Some(Shapes {
                products: 4,
                max_photos: 5,
            }),
        };
        let sizes = batch.sizes();
        assert_eq!(
            sizes,
            TensorSizes {
                photos: 8,
                products: 4,
                slots: 5
            }
        );
        // Six photos, then copies of the first two, which no slot reads.
        let pixels = batch.padded_pixels(sizes.photos);
        let firsts: Vec<f32> = pixels.chunks(3).map(|p| p[0]).collect();
        assert_eq!(firsts, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 0.0, 1.0]);
        // Each product's photos repeated to 5 slots; the fourth product repeats the first.
        let slots = batch.slots(sizes.products, sizes.slots);
        assert_eq!(
            slots,
            vec![0, 0, 0, 0, 0, 1, 2, 3, 1, 2, 4, 5, 4, 5, 4, 0, 0, 0, 0, 0]
        );
        assert!(slots.iter().all(|&s| s < 6));
        // Two replicas each take two products a step; unshaped, a batch keeps its own sizes.
        let parts = batch.split(2);
        assert_eq!(parts[1].sizes().products, 2);
        let own = Batch {
            shape: None,
            ..batch
        };
        assert_eq!(
            own.sizes(),
            TensorSizes {
                photos: 6,
                products: 3,
                slots: 3
            }
        );
    }

    #[test]
    fn batches_crop_mirror_half_and_split_for_replicas() {
        let dir = tempfile::tempdir().unwrap();
        let mut catalog = Catalog::new(dir.path());
        for i in 0..4 {
            // A left-to-right ramp, so mirroring is visible.
            let image = image::RgbImage::from_fn(40, 48, |x, _| image::Rgb([(x * 6) as u8, 0, 0]));
            let images: Vec<ProductImage> = (0..=i % 2)
                .map(|k| {
                    let name = format!("p{i}-{k}.png");
                    image.save(dir.path().join(&name)).unwrap();
                    ProductImage {
                        path: name.into(),
                        view: None,
                    }
                })
                .collect();
            let mut labels: [Option<String>; 5] = Default::default();
            labels[Task::Colour.index()] = Some(if i % 2 == 0 { "Red" } else { "Blue" }.into());
            catalog
                .push(ProductDraft {
                    id: format!("p{i}"),
                    name: String::new(),
                    images,
                    labels,
                    attributes: Vec::new(),
                })
                .unwrap();
        }
        let config = colour_only();
        let (spec, _) = class_lists(&catalog, &config, &Splitter::by_hash(&config));
        let dataset = Dataset::new(&catalog, &config, &Splitter::by_hash(&config), &spec);
        let batch = dataset.batch(&[0, 1, 2, 3], None);
        assert_eq!(batch.image_count(), 6);
        assert_eq!(batch.slots(batch.len(), 2), vec![0, 0, 1, 2, 3, 3, 4, 5]);
        assert_eq!(batch.labelled(), vec![4]);
        // Centre crop of a ramp: red rises left to right in every image.
        let plane = 32 * 32;
        assert!(batch.pixels[0] < batch.pixels[31]);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let augmented = dataset.batch(&[0, 1, 2, 3], Some(&mut rng));
        let falling = augmented
            .ranges
            .iter()
            .filter(|r| {
                let p = r.start * 3 * plane;
                augmented.pixels[p] > augmented.pixels[p + 31]
            })
            .count();
        assert_eq!(falling, 2, "half of the samples are mirrored");
        let parts = batch.split(2);
        assert_eq!(parts[0].ranges, vec![0..1, 1..3]);
        assert_eq!(parts[1].ranges, vec![0..1, 1..3]);
        assert_eq!(parts[1].pixels[..], batch.pixels[3 * 3 * plane..]);
        assert_eq!(batch.split(8).iter().filter(|p| !p.is_empty()).count(), 4);
    }

    #[test]
    fn a_data_thread_that_panics_ends_the_pass_with_an_error_in_its_batchs_place() {
        let empty = |b: usize| Batch {
            pixels: Vec::new(),
            crop: 1,
            ranges: Vec::new(),
            targets: Vec::new(),
            samples: vec![b],
            shape: None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let loader = Loader::spawn(4, 2, stop, move |b| {
            assert!(b != 2, "a photo the decoder cannot take");
            empty(b)
        })
        .unwrap();
        let got: Vec<Result<Vec<usize>, String>> = loader
            .map(|r| r.map(|b| b.samples).map_err(|e| e.to_string()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0], Ok(vec![0]));
        assert_eq!(got[1], Ok(vec![1]));
        let error = got[2].as_ref().unwrap_err();
        assert!(
            error.contains("vitrine-data-0") && error.contains("a photo the decoder cannot take"),
            "{error}"
        );
    }
}
