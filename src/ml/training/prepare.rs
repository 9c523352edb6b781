//! Preparing a run: the catalogue with its current labels (read only), the classes of the
//! heads, the split and the dataset, with the channel mean of a new run's training photos.

use super::TrainError;
use crate::catalog::Task;
use crate::catalog::import::ImportOptions;
use crate::labels::open_workspace_read_only;
use crate::ml::backend::Device;
use crate::ml::data::{Dataset, PrepareReport, class_lists};
use crate::runs::predictions::Split;
use crate::runs::{ModelSpec, RunConfig, Splitter};
use std::sync::Arc;

/// The most the decoded-photo cache may weigh: 32 GiB, the oldest written going first (a photo
/// scaled to 256 px on its shorter side weighs about 0.25 MB: some 130,000 of them).
const DECODED_CACHE_BUDGET: u64 = 32 << 30;

/// Import options recorded in a run's configuration.
pub fn import_options(config: &RunConfig) -> Result<ImportOptions, TrainError> {
    config
        .source()
        .options()
        .map_err(|e| TrainError::Columns(e.to_string()))
}

/// Threads assembling batches: enough to keep a GPU fed, few on a CPU that also trains.
pub fn data_workers(devices: &[Device]) -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if devices.iter().all(|d| *d == Device::Cpu) {
        (cores / 4).max(1)
    } else {
        cores.saturating_sub(2).clamp(1, 12)
    }
}

/// A catalogue opened for a run: its dataset and the spec of the heads.
pub struct Prepared {
    /// The catalogue with its current labels.
    pub catalog: crate::catalog::Catalog,
    /// The samples.
    pub dataset: Arc<Dataset>,
    /// Classes and channel mean.
    pub spec: ModelSpec,
    /// What was left out.
    pub report: PrepareReport,
}

/// Opens the catalogue of `config` and builds its dataset with `spec` (a new spec, with the
/// channel mean of the training split, when `None`).
pub fn prepare(
    config: &RunConfig,
    spec: Option<ModelSpec>,
    store: Option<&std::path::Path>,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<Prepared, TrainError> {
    progress("opening the catalogue", 0, 0);
    let workspace = open_workspace_read_only(&config.catalogue, &import_options(config)?, store)?;
    let catalog = workspace.catalog;
    let new = spec.is_none();
    if new && let Some(attribute) = &config.group_by {
        check_group_attribute(&catalog, &config.catalogue, attribute)?;
    }
    let splitter = Splitter::new(config)?;
    let (fresh, report) = class_lists(&catalog, config, &splitter);
    let mut spec = spec.unwrap_or(fresh);
    let mut dataset = Dataset::new(&catalog, config, &splitter, &spec);
    if dataset.samples().is_empty() {
        return Err(TrainError::NoData(format!(
            "{}: no product has a photo to train on",
            config.catalogue.display()
        )));
    }
    if spec.classes.is_empty() {
        return Err(TrainError::NoData(format!(
            "{}: no head can be trained: {} {} fewer than 2 classes with {} or more training \
             products (lower --min-class-examples, or label more products)",
            config.catalogue.display(),
            task_names(&report.dropped_tasks),
            if report.dropped_tasks.len() == 1 {
                "has"
            } else {
                "have"
            },
            config.min_class_examples.max(1)
        )));
    }
    if new {
        let train = dataset.indices(Split::Train);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        spec.channel_mean = dataset.channel_mean(&train, 1000, threads, &|done, total| {
            progress("computing the channel mean", done, total)
        });
    }
    dataset.set_mean(spec.channel_mean);
    // A GPU run pads its batches to constant shapes, and keeps its decoded photos for the next
    // run: 16 cores decode about 1,000 photos a second, a GPU trains on several thousand.
    let gpu = crate::ml::backend::parse_devices(&config.devices)
        .is_ok_and(|devices| devices.iter().any(|d| d.tunes_per_shape()));
    dataset.set_constant_shapes(gpu);
    if gpu {
        let cache = crate::paths::decoded_cache(&crate::paths::data_dir());
        crate::imaging::prune_decoded(&cache, DECODED_CACHE_BUDGET);
        dataset.set_decoded_cache(Some(cache));
    }
    Ok(Prepared {
        catalog,
        dataset: Arc::new(dataset),
        spec,
        report,
    })
}

/// The tasks' names, comma-separated.
pub(super) fn task_names(tasks: &[Task]) -> String {
    tasks
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses to group the split by an attribute no product has (the split would silently fall
/// back to product ids), naming the attributes there are.
fn check_group_attribute(
    catalog: &crate::catalog::Catalog,
    catalogue: &std::path::Path,
    attribute: &str,
) -> Result<(), TrainError> {
    let products = catalog.products();
    if products.iter().any(|p| {
        catalog
            .attribute(p, attribute)
            .is_some_and(|v| !v.is_empty())
    }) {
        return Ok(());
    }
    let names: std::collections::BTreeSet<&str> = products
        .iter()
        .flat_map(|p| {
            p.attributes
                .iter()
                .map(|(k, _)| catalog.attribute_key_name(*k))
        })
        .collect();
    let there = if names.is_empty() {
        "the catalogue has no attributes".to_string()
    } else {
        format!(
            "its attributes are: {}",
            names.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    Err(TrainError::NoData(format!(
        "{}: no product has the attribute '{attribute}' to group the split by (--group-by); {there}",
        catalogue.display()
    )))
}
