//! Deterministic demo catalogue generator: a small fashion shop, drawn with tiny-skia, so the
//! app opens something real-looking without a download.
//!
//! [`generate`] writes into a folder:
//!
//! - `manifest.csv`: `product_id,name,images,views,gender,colour,type,category,subcategory,
//!   pattern`, readable by [`crate::catalog::import::import`] without warnings;
//! - `images/<id>_<view>.jpg`: one to five views per product, the front first;
//! - `answers.csv`: the deliberately wrong labels (`product_id,task,given,truth`), see
//!   [`read_answers`].
//!
//! The taxonomy (`Apparel > Topwear > Tshirts`, ...), genders and colours are in
//! `taxonomy.rs`. The images always show the truth; the wrong labels are mostly colours (often
//! a confusable one), then genders, then taxonomy mistakes. Those never break the tree: a
//! wrong subcategory stays inside the product's category (Shirts for Tshirts), and a wrong
//! category or type comes with a matching subcategory (a T-shirt filed as Bottomwear >
//! Shorts), so the imported catalogue has no taxonomy issues and the mistake is only visible
//! in the images. See `labels.rs`.
//!
//! The same options give byte-identical files whatever the number of threads: each product
//! draws from its own ChaCha8 stream of the seed (so adding products does not change how
//! the first ones look).

mod answers;
mod labels;
mod output;
mod render;
mod shapes;
mod spec;
mod taxonomy;

pub use answers::{WrongLabel, read_answers};

use crate::catalog::Task;
use labels::Labels;
use output::{ANSWERS, IMAGES, MANIFEST, ManifestRow};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spec::ProductSpec;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Smallest image side: below it the garments lose the details that tell them apart.
pub const MIN_IMAGE_SIZE: u32 = 32;
/// Largest image side (a demo photo larger than a studio photo tells nothing more).
pub const MAX_IMAGE_SIZE: u32 = 4096;
/// Most products: the largest catalogue the app is built and measured for.
pub const MAX_PRODUCTS: usize = 1_000_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Number of products (default 300).
    pub products: usize,
    /// Seed of every random choice (default 7).
    pub seed: u64,
    /// Side of the square images in pixels (default 128, at least 32).
    pub image_size: u32,
    /// Fraction of products given a deliberately wrong label (default 0.04). Exactly
    /// `round(products * rate)` products are mislabelled; a misfiled product has two or
    /// three wrong labels (category or type comes with its lower levels).
    pub wrong_label_rate: f64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            products: 300,
            seed: 7,
            image_size: 128,
            wrong_label_rate: 0.04,
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// Products in the manifest.
    pub products: usize,
    /// Images written.
    pub images: usize,
    /// Rows of the answer file: wrong labels over all mislabelled products.
    pub wrong_labels: usize,
    /// Path of `manifest.csv`.
    pub manifest: PathBuf,
    /// Path of `answers.csv`.
    pub answers: PathBuf,
}

/// Why a demo catalogue could not be generated or its answers read.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The options cannot produce a catalogue.
    #[error("invalid demo options: {0}")]
    InvalidOptions(String),
    /// The folder holds a catalogue that is not a demo; it is left alone.
    #[error(
        "{}: a catalogue that is not a demo (no answers.csv beside it); refusing to overwrite \
         it, choose another folder",
        .0.display()
    )]
    NotADemo(PathBuf),
    /// A file or folder could not be created, written or read.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The reason.
        reason: std::io::Error,
    },
    /// A CSV file could not be written or read.
    #[error("{}: {reason}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The reason.
        reason: csv::Error,
    },
    /// An image could not be encoded.
    #[error("{}: cannot encode JPEG: {reason}", path.display())]
    Encode {
        /// The image file.
        path: PathBuf,
        /// The reason.
        reason: image::ImageError,
    },
    /// The drawing surface could not be allocated.
    #[error("cannot allocate a {size}x{size} drawing surface")]
    Canvas {
        /// Side of the image in pixels.
        size: u32,
    },
    /// An answer file row that cannot be understood.
    #[error("{}:{line}: {message}", path.display())]
    BadAnswer {
        /// The answer file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

impl DemoOptions {
    fn validate(&self) -> Result<(), DemoError> {
        if !(1..=MAX_PRODUCTS).contains(&self.products) {
            return Err(DemoError::InvalidOptions(format!(
                "{} products: a demo has 1 to {MAX_PRODUCTS}",
                self.products
            )));
        }
        if !(MIN_IMAGE_SIZE..=MAX_IMAGE_SIZE).contains(&self.image_size) {
            return Err(DemoError::InvalidOptions(format!(
                "image size {} is outside {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} pixels",
                self.image_size
            )));
        }
        if !(0.0..=1.0).contains(&self.wrong_label_rate) {
            return Err(DemoError::InvalidOptions(format!(
                "wrong label rate {} is not between 0 and 1",
                self.wrong_label_rate
            )));
        }
        Ok(())
    }
}

/// A product ready to render and write: its spec and the labels the manifest gives it.
struct Planned {
    spec: ProductSpec,
    given: Labels,
}

impl Planned {
    fn image_path(&self, view: spec::View) -> String {
        format!("{IMAGES}/{}_{}.jpg", self.spec.id, view.tag())
    }
}

/// Writes a demo catalogue of `options.products` products into `out` (created if missing;
/// a previous demo there is replaced, any other catalogue is refused). `progress(done,
/// total)` is called, possibly from worker threads, as products are finished.
pub fn generate(
    out: &Path,
    options: &DemoOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<DemoSummary, DemoError> {
    options.validate()?;
    let previous = output::prepare(out)?;
    let products = plan(options);
    render_all(out, &products, options.image_size, progress)?;

    let mut answers = Vec::new();
    let mut rows = Vec::with_capacity(products.len());
    let mut images = HashSet::new();
    for product in &products {
        let spec = &product.spec;
        let truth = labels::truth(spec);
        for task in Task::ALL {
            let (given, truth) = (product.given[task.index()], truth[task.index()]);
            if given != truth {
                answers.push(WrongLabel {
                    product_id: spec.id.clone(),
                    task,
                    given: given.into(),
                    truth: truth.into(),
                });
            }
        }
        let paths: Vec<String> = spec.views.iter().map(|&v| product.image_path(v)).collect();
        images.extend(paths.iter().map(|p| out.join(p)));
        let views: Vec<&str> = spec.views.iter().map(|v| v.tag()).collect();
        let [gender, colour, ty, category, subcategory] = product.given;
        rows.push(ManifestRow {
            product_id: spec.id.clone(),
            name: spec.name(),
            images: paths.join("|"),
            views: views.join("|"),
            gender,
            colour,
            ty,
            category,
            subcategory,
            pattern: spec.pattern.name(),
        });
    }
    // The answer file goes first: a manifest is only ever overwritten when one sits beside
    // it, so an interrupted run must not leave a manifest without it.
    let answers_path = out.join(ANSWERS);
    answers::write_answers(&answers_path, &answers)?;
    let manifest = out.join(MANIFEST);
    output::write_manifest(&manifest, &rows)?;
    if previous {
        output::remove_stale_images(&out.join(IMAGES), &images)?;
    }
    Ok(DemoSummary {
        products: products.len(),
        images: images.len(),
        wrong_labels: answers.len(),
        manifest,
        answers: answers_path,
    })
}

/// Draws every product and picks the mislabelled ones. Each product has its own stream of
/// the seed, so a product does not change when others are added, and rendering may run in
/// any order.
fn plan(options: &DemoOptions) -> Vec<Planned> {
    let count = options.products;
    let width = count.to_string().len().max(4);
    let wrong_count = ((count as f64 * options.wrong_label_rate).round() as usize).min(count);
    // A stream no product uses chooses the mislabelled products.
    let mut chooser = ChaCha8Rng::seed_from_u64(options.seed);
    chooser.set_stream(u64::MAX);
    let mislabelled: HashSet<usize> = rand::seq::index::sample(&mut chooser, count, wrong_count)
        .into_iter()
        .collect();
    (0..count)
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
            rng.set_stream(i as u64);
            let spec = ProductSpec::draw(format!("p{:0width$}", i + 1), &mut rng);
            let given = if mislabelled.contains(&i) {
                labels::mislabel(&spec, &mut rng)
            } else {
                labels::truth(&spec)
            };
            Planned { spec, given }
        })
        .collect()
}

/// Renders and writes every view of every product on all cores. Threads take products from
/// a shared counter; the output does not depend on which thread renders what.
fn render_all(
    out: &Path,
    products: &[Planned],
    size: u32,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(), DemoError> {
    let total = products.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || -> Result<(), (usize, DemoError)> {
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(product) = products.get(i) else {
                break;
            };
            for &view in &product.spec.views {
                let written = render::render(&product.spec, view, size).and_then(|pixmap| {
                    output::write_jpeg(&out.join(product.image_path(view)), &pixmap)
                });
                if let Err(error) = written {
                    failed.store(true, Ordering::Relaxed);
                    return Err((i, error));
                }
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        }
        Ok(())
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(total);
    let mut errors: Vec<(usize, DemoError)> = std::thread::scope(|scope| {
        // The calling thread is the last worker, so the work gets done even if no thread
        // can be spawned.
        let handles: Vec<_> = (1..workers)
            .filter_map(|n| {
                std::thread::Builder::new()
                    .name(format!("demo-render-{n}"))
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut errors: Vec<(usize, DemoError)> = work().err().into_iter().collect();
        for handle in handles {
            match handle.join() {
                Ok(result) => errors.extend(result.err()),
                // A panicking worker is a bug: pass the panic on rather than hide it.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        errors
    });
    // Report the failure of the first product, whichever thread met it first.
    errors.sort_by_key(|(i, _)| *i);
    match errors.into_iter().next() {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;

    fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut all = BTreeMap::new();
        for sub in [dir.to_path_buf(), dir.join(IMAGES)] {
            for entry in std::fs::read_dir(&sub).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    let bytes = std::fs::read(&path).unwrap();
                    all.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
                }
            }
        }
        all
    }

    fn options(products: usize) -> DemoOptions {
        DemoOptions {
            products,
            image_size: 64,
            ..DemoOptions::default()
        }
    }

    #[test]
    fn the_same_options_give_byte_identical_files() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let calls = Mutex::new(Vec::new());
        let summary = generate(a.path(), &options(20), &|done, total| {
            calls.lock().unwrap().push((done, total));
        })
        .unwrap();
        generate(b.path(), &options(20), &|_, _| {}).unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa.len(), summary.images + 2);
        assert_eq!(fa, fb);
        let mut calls = calls.into_inner().unwrap();
        calls.sort_unstable();
        assert_eq!(calls, (1..=20).map(|d| (d, 20)).collect::<Vec<_>>());

        let other = tempfile::tempdir().unwrap();
        let reseeded = DemoOptions {
            seed: 8,
            ..options(20)
        };
        generate(other.path(), &reseeded, &|_, _| {}).unwrap();
        assert_ne!(files(other.path()), fa);
    }

    #[test]
    fn the_wrong_label_rate_is_respected_and_answers_match_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let options = DemoOptions {
            products: 250,
            image_size: 32,
            wrong_label_rate: 0.1,
            ..DemoOptions::default()
        };
        let summary = generate(dir.path(), &options, &|_, _| {}).unwrap();
        let answers = read_answers(&summary.answers).unwrap();
        assert_eq!(answers.len(), summary.wrong_labels);
        let products: HashSet<&str> = answers.iter().map(|a| a.product_id.as_str()).collect();
        assert_eq!(products.len(), 25);
        assert!(answers.len() <= 3 * 25);
        let colour = answers.iter().filter(|a| a.task == Task::Colour).count();
        assert!(colour * 4 >= products.len(), "{answers:?}");

        let mut reader = csv::Reader::from_path(&summary.manifest).unwrap();
        let header = reader.headers().unwrap().clone();
        assert_eq!(
            header.iter().collect::<Vec<_>>(),
            [
                "product_id",
                "name",
                "images",
                "views",
                "gender",
                "colour",
                "type",
                "category",
                "subcategory",
                "pattern"
            ]
        );
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        let rows: HashMap<String, csv::StringRecord> = reader
            .records()
            .map(|r| r.unwrap())
            .map(|r| (r[0].to_string(), r))
            .collect();
        assert_eq!(rows.len(), 250);
        for answer in &answers {
            assert_ne!(answer.given, answer.truth);
            assert_eq!(
                rows[&answer.product_id][column(answer.task.name())],
                answer.given
            );
        }
        let none = DemoOptions {
            wrong_label_rate: 0.0,
            ..options
        };
        let summary = generate(dir.path(), &none, &|_, _| {}).unwrap();
        assert_eq!(summary.wrong_labels, 0);
        assert!(read_answers(&summary.answers).unwrap().is_empty());
    }

    #[test]
    fn a_smaller_demo_replaces_a_larger_one_completely() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), &options(12), &|_, _| {}).unwrap();
        std::fs::write(dir.path().join(IMAGES).join("mine.jpg"), b"user file").unwrap();
        let summary = generate(dir.path(), &options(5), &|_, _| {}).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join(IMAGES))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        // Stale demo images are gone; a file the generator did not write is kept.
        assert_eq!(names.len(), summary.images + 1);
        assert!(names.iter().any(|n| n == "mine.jpg"));
    }

    #[test]
    fn bad_options_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            DemoOptions {
                products: 0,
                ..DemoOptions::default()
            },
            DemoOptions {
                image_size: 31,
                ..DemoOptions::default()
            },
            DemoOptions {
                image_size: MAX_IMAGE_SIZE + 1,
                ..DemoOptions::default()
            },
            DemoOptions {
                // Once planned in memory before anything was checked: 77 GB, then an abort.
                products: 99_999_999_999,
                ..DemoOptions::default()
            },
            DemoOptions {
                wrong_label_rate: f64::NAN,
                ..DemoOptions::default()
            },
        ] {
            let error = generate(dir.path(), &bad, &|_, _| {}).unwrap_err();
            assert!(matches!(error, DemoError::InvalidOptions(_)), "{error}");
        }
        assert!(!dir.path().join(MANIFEST).exists());
        assert!(
            !dir.path().join("images").exists(),
            "nothing is written first"
        );
    }
}
