//! `vitrine train`, `vitrine predict` and `vitrine evaluate`.

use super::{CatalogArgs, print_json};
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use vitrine::catalog::Task;
use vitrine::catalog::import::same_catalogue;
use vitrine::ml::backend::default_devices;
use vitrine::ml::saved::{EvalSplit, RunEvaluation, evaluate_run, predict_run};
use vitrine::ml::{TrainRequest, TrainingEvent};
use vitrine::runs::config::{MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, Recipe, ResumeChanges};
use vitrine::runs::gpu_settings::Autotune;
use vitrine::runs::{Backbone, MetricsRecord, RunConfig, RunFolder};

/// Arguments of `vitrine train`.
#[derive(Debug, Args)]
#[command(after_help = recipes_help())]
pub struct TrainArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// The run folder to create (or, with --resume, to continue); for `vitrine audit`, the
    /// audit folder.
    #[arg(long, value_name = "RUN_DIR")]
    out: PathBuf,
    /// A run configuration (JSON, the format of a run's config.json); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Per-image CNN: small (CPU, 64-96 px) or zfnet (224 px).
    #[arg(long, value_parser = ["small", "zfnet"])]
    backbone: Option<String>,
    /// The optimiser, batch and schedule to start from (see below); the flags that follow
    /// override them.
    #[arg(long, value_name = "default|published")]
    recipe: Option<Recipe>,
    /// Epochs, exactly (the learning rate drops at half and three quarters of them). Without
    /// it, the recipe's, more on a small catalogue to reach --min-iterations. With --resume, a
    /// new total: training continues from the last checkpoint with the schedule of a run of
    /// this many epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Iterations to train at least: a catalogue whose epochs are too short to reach them
    /// trains more epochs (the drops move in proportion); 0 for exactly --epochs.
    #[arg(long, value_name = "N")]
    min_iterations: Option<usize>,
    /// Iterations over which the learning rate rises linearly to --learning-rate (0: none).
    #[arg(long, value_name = "N")]
    warmup_iterations: Option<usize>,
    /// Side of the square crop fed to the network, in pixels (32 to 1024).
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32)
        .range(MIN_IMAGE_SIZE as i64..=MAX_IMAGE_SIZE as i64))]
    image_size: Option<u32>,
    /// Products per batch (photos per batch with --single-image).
    #[arg(long)]
    batch: Option<usize>,
    /// Initial learning rate.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Devices: cpu, or cuda:0,cuda:1,... (several = data parallel). Default: every GPU in a
    /// build with the `cuda` feature, else the CPU.
    #[arg(long)]
    devices: Option<String>,
    /// On GPUs, how finely cubecl buckets tensor sizes into autotune keys (each new key is
    /// tuned: every candidate kernel compiled and timed): minimal, balanced (default),
    /// extensive or full. Read once per process.
    #[arg(long, value_name = "LEVEL")]
    autotune: Option<Autotune>,
    /// On GPUs, whether burn fuses element-wise operations into its kernels: on (default) or
    /// off.
    #[arg(long, value_name = "on|off", value_parser = parse_on_off)]
    fusion: Option<bool>,
    /// Train on one-photo copies of the products (the single-image ablation).
    #[arg(long)]
    single_image: bool,
    /// Tasks with a head, e.g. colour,type (default: all five).
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<Task>,
    /// Attribute that keeps related products on one side of the split (e.g. style_sku).
    #[arg(long, value_name = "ATTRIBUTE")]
    group_by: Option<String>,
    /// Classes with fewer training products than this go to an `other` class.
    #[arg(long)]
    min_class_examples: Option<usize>,
    /// Share of products held out for validation.
    #[arg(long)]
    validation_fraction: Option<f64>,
    /// Seed of the split, the initial weights, the crops and the mirroring.
    #[arg(long)]
    seed: Option<u64>,
    /// Continue the run in --out from its latest checkpoint, as its config.json says; only
    /// --epochs (a new total), --learning-rate, --batch, --devices, --autotune and --fusion
    /// may change it.
    #[arg(long)]
    resume: bool,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Print each metrics record as a JSON line instead of a progress bar.
    #[arg(long)]
    json: bool,
}

impl TrainArgs {
    /// The folder to create or continue.
    pub(super) fn out(&self) -> &std::path::Path {
        &self.out
    }

    /// Whether to continue the run (or audit) in `out`.
    pub(super) fn resume(&self) -> bool {
        self.resume
    }

    /// Whether records are printed as JSON lines.
    pub(super) fn json(&self) -> bool {
        self.json
    }

    /// The label store named, if any.
    pub(super) fn store(&self) -> Option<&std::path::Path> {
        self.store.as_deref()
    }

    /// Refuses options that would change a resumed audit: it goes on with its own settings.
    pub(super) fn refuse_resume_changes(&self) -> anyhow::Result<()> {
        if !self.resume_changes()?.is_empty() {
            bail!(
                "an audit resumes with the settings it started with ({}); start a new audit                  (another --out) to change them",
                self.out.join("audit.json").display()
            );
        }
        Ok(())
    }

    /// The configuration these options describe.
    pub(super) fn run_config(&self) -> anyhow::Result<RunConfig> {
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{}: not a run configuration", path.display()))?
            }
            None => RunConfig::default(),
        };
        config.set_source(self.catalog.source());
        config.catalogue = std::path::absolute(&config.catalogue)?;
        if let Some(recipe) = self.recipe {
            config = config.with_recipe(recipe);
        }
        if let Some(backbone) = &self.backbone {
            config.backbone = if backbone == "zfnet" {
                Backbone::Zfnet
            } else {
                Backbone::Small
            };
            if self.image_size.is_none() {
                config.image_size = config.backbone.default_image_size();
            }
        }
        if let Some(epochs) = self.epochs {
            config = config.with_epochs(epochs);
        }
        if let Some(iterations) = self.min_iterations {
            config = config.with_min_iterations(iterations);
        }
        if let Some(iterations) = self.warmup_iterations {
            config.warmup_iterations = iterations;
        }
        if let Some(size) = self.image_size {
            config.image_size = size;
        }
        if let Some(batch) = self.batch {
            config.batch = batch;
        }
        if let Some(lr) = self.learning_rate {
            config.learning_rate = lr;
        }
        match &self.devices {
            Some(devices) => {
                config.devices = devices.split(',').map(|d| d.trim().to_string()).collect();
            }
            // Without --devices (and without a configuration file): every GPU of a CUDA build,
            // else the CPU.
            None if self.config.is_none() => {
                config.devices = default_devices().iter().map(ToString::to_string).collect();
            }
            None => {}
        }
        if let Some(level) = self.autotune {
            config.gpu.autotune = level;
        }
        if let Some(fusion) = self.fusion {
            config.gpu.fusion = fusion;
        }
        config.single_image |= self.single_image;
        if !self.tasks.is_empty() {
            config.tasks = self.tasks.clone();
        }
        if let Some(group) = &self.group_by {
            config.group_by = Some(group.clone());
        }
        if let Some(n) = self.min_class_examples {
            config.min_class_examples = n;
        }
        if let Some(f) = self.validation_fraction {
            config.validation_fraction = f;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        config.validate()?;
        Ok(config)
    }

    /// What `--resume` changes in the run's configuration; options that would change its
    /// model or its split are refused, by name.
    fn resume_changes(&self) -> anyhow::Result<ResumeChanges> {
        let refused: Vec<&str> = [
            ("--config", self.config.is_some()),
            ("--recipe", self.recipe.is_some()),
            ("--min-iterations", self.min_iterations.is_some()),
            ("--warmup-iterations", self.warmup_iterations.is_some()),
            ("--backbone", self.backbone.is_some()),
            ("--image-size", self.image_size.is_some()),
            ("--tasks", !self.tasks.is_empty()),
            ("--single-image", self.single_image),
            ("--group-by", self.group_by.is_some()),
            ("--min-class-examples", self.min_class_examples.is_some()),
            ("--validation-fraction", self.validation_fraction.is_some()),
            ("--seed", self.seed.is_some()),
            ("--map", !self.catalog.map.is_empty()),
            ("--images", self.catalog.images.is_some()),
        ]
        .into_iter()
        .filter_map(|(flag, given)| given.then_some(flag))
        .collect();
        if !refused.is_empty() {
            bail!(
                "{} would change the model, its data or its split, which a resumed run keeps as {} says; \
                 start a new run (another --out) to change them (with --resume: --epochs, \
                 --learning-rate, --batch, --devices, --autotune, --fusion)",
                refused.join(", "),
                self.out.join("config.json").display()
            );
        }
        // The run goes on with its own catalogue: another one named here must not be ignored
        // in silence (an unreadable config.json is the engine's to report).
        if let Ok(stored) = RunFolder::at(&self.out).config()
            && !same_catalogue(&self.catalog.catalog, &stored.catalogue)
        {
            bail!(
                "{} is not the catalogue of the run in {} ({}); a resumed run goes on with its \
                 own: name that one, or start a new run (another --out) on this catalogue",
                self.catalog.catalog.display(),
                self.out.display(),
                stored.catalogue.display()
            );
        }
        Ok(ResumeChanges {
            epochs: self.epochs,
            learning_rate: self.learning_rate,
            batch: self.batch,
            devices: self
                .devices
                .as_ref()
                .map(|d| d.split(',').map(|d| d.trim().to_string()).collect()),
            autotune: self.autotune,
            fusion: self.fusion,
        })
    }
}

/// `on` or `off`.
fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{s:?}: use on or off")),
    }
}

/// The recipes with their figures, after the options of `vitrine train --help`.
fn recipes_help() -> String {
    let mut text = String::from("Recipes (--recipe):");
    for recipe in Recipe::ALL {
        let default = if recipe == Recipe::default() {
            " (used without --recipe)"
        } else {
            ""
        };
        text.push_str(&format!(
            "\n  {}{default}: {}.",
            recipe.name(),
            recipe.describe()
        ));
    }
    text
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    // A resumed run's configuration is its config.json's, read and checked by the engine.
    let (config, changes) = if args.resume {
        (RunConfig::default(), args.resume_changes()?)
    } else {
        (args.run_config()?, ResumeChanges::default())
    };
    let handle = vitrine::ml::start(TrainRequest {
        run_dir: args.out.clone(),
        config,
        resume: args.resume,
        changes,
        store: args.store.clone(),
    })?;
    // Ctrl+C asks the run to stop at the next iteration (it saves a checkpoint), a second one
    // quits at once.
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        ctrlc::set_handler(move || {
            if interrupted.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
        })?;
    }
    let bar = ProgressBar::new(0);
    // Without a terminal (a log file, CI) the bar would draw nothing: plain lines instead,
    // one per epoch, on stderr (stdout holds the JSON records with --json).
    let plain = !args.json && !std::io::stderr().is_terminal();
    if args.json || plain {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let say = |line: String| {
        if plain {
            eprintln!("{line}");
        } else {
            bar.println(line);
        }
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed} elapsed, eta {eta})",
        )?
        .progress_chars("=> "),
    );
    let mut epochs = 0;
    let mut validated = false;
    let mut outcome: anyhow::Result<()> = Err(anyhow::anyhow!(
        "the training thread ended without a result"
    ));
    let events = handle.events().clone();
    loop {
        if interrupted.load(Ordering::Relaxed) {
            handle.stop();
        }
        let event = match events.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(event) => event,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => continue,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        match event {
            TrainingEvent::Preparing { stage, done, total } => {
                bar.set_prefix("preparing");
                bar.set_length(total as u64);
                bar.set_position(done as u64);
                bar.set_message(stage);
            }
            TrainingEvent::Record(record) => {
                if args.json {
                    println!("{}", serde_json::to_string(&record)?);
                }
                match &record {
                    MetricsRecord::Started {
                        epochs: e,
                        iterations_per_epoch,
                        train_samples,
                        validation_samples,
                        devices,
                        resumed_at_epoch,
                        ..
                    } => {
                        epochs = *e;
                        validated = *validation_samples > 0;
                        let per_epoch = *iterations_per_epoch;
                        bar.set_length((epochs * per_epoch) as u64);
                        bar.set_position((resumed_at_epoch.unwrap_or(0) * per_epoch) as u64);
                        bar.reset_eta();
                        bar.set_prefix("training");
                        say(format!(
                            "training on {}: {train_samples} training and {validation_samples} validation samples, {epochs} epochs of {per_epoch} iterations{}",
                            devices.join(","),
                            resumed_at_epoch
                                .map(|e| format!(", resumed at epoch {}", e + 1))
                                .unwrap_or_default()
                        ));
                    }
                    MetricsRecord::Iteration {
                        epoch,
                        iteration,
                        loss,
                        images_per_second,
                        ..
                    } => {
                        bar.set_position(*iteration as u64 + 1);
                        bar.set_message(format!(
                            "epoch {}/{epochs} loss {loss:.3} {images_per_second:.0} img/s",
                            epoch + 1
                        ));
                    }
                    MetricsRecord::Epoch {
                        epoch,
                        train_loss,
                        validation_loss,
                        accuracy,
                        mean_accuracy,
                        images_per_second,
                        data_wait,
                        warmup_seconds,
                        ..
                    } => {
                        let validation = match (validation_loss, mean_accuracy) {
                            (Some(loss), Some(mean)) => {
                                let tasks: Vec<String> = accuracy
                                    .iter()
                                    .map(|(t, a)| format!("{} {a:.3}", t.name()))
                                    .collect();
                                format!(
                                    "validation loss {loss:.3}, accuracy {} (mean {mean:.3})",
                                    tasks.join(", ")
                                )
                            }
                            _ if validated => "not validated after this epoch".to_string(),
                            _ => "no validation split".to_string(),
                        };
                        let warmup = if *warmup_seconds > 0.0 {
                            format!(
                                " (warm-up: {warmup_seconds:.1} s of tuning and compiling, not counted)"
                            )
                        } else {
                            String::new()
                        };
                        say(format!(
                            "epoch {}/{epochs}: train loss {train_loss:.3}, {validation}, {images_per_second:.0} img/s{warmup}, data wait {:.0}%",
                            epoch + 1,
                            data_wait * 100.0
                        ));
                    }
                    MetricsRecord::Warning { message } => say(format!("warning: {message}")),
                    MetricsRecord::Finished { .. } => {
                        bar.finish_and_clear();
                        eprintln!(
                            "finished: {} (predictions.jsonl, probabilities.jsonl and embeddings written)",
                            args.out.display()
                        );
                        outcome = Ok(());
                    }
                    MetricsRecord::Stopped { last_epoch, .. } => {
                        bar.abandon();
                        eprintln!(
                            "stopped{}; continue with: vitrine train {} --out {} --resume",
                            last_epoch
                                .map(|e| format!(" after epoch {}", e + 1))
                                .unwrap_or_default(),
                            args.catalog.catalog.display(),
                            args.out.display()
                        );
                        outcome = Ok(());
                    }
                    MetricsRecord::Failed { message, .. } => {
                        bar.abandon();
                        outcome = Err(anyhow::anyhow!("training failed: {message}"));
                    }
                    MetricsRecord::Checkpoint { .. } => {}
                }
            }
        }
    }
    handle.join();
    outcome
}

/// Arguments of `vitrine predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run folder.
    run: PathBuf,
    /// The catalogue to predict (default: the run's).
    catalog: Option<PathBuf>,
    /// Folder for predictions.jsonl and the representations (default: the run folder).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Device: cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn predict(args: PredictArgs) -> anyhow::Result<()> {
    let summary = predict_run(
        &args.run,
        args.catalog.as_deref(),
        args.out.as_deref(),
        std::slice::from_ref(&args.device),
    )?;
    if args.json {
        return print_json(&summary);
    }
    println!(
        "{} products predicted: {} (every class's probabilities and the representations beside it)",
        summary.products,
        summary.predictions.display()
    );
    Ok(())
}

/// Arguments of `vitrine evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The run folder.
    run: PathBuf,
    /// The catalogue to evaluate on (default: the run's).
    catalog: Option<PathBuf>,
    /// `validation` (the run's held-out products) or `all`.
    #[arg(long, default_value = "validation", value_parser = ["validation", "all"])]
    split: String,
    /// Score each product once: for a single-image run, with the mean of its photos'
    /// probabilities (to compare with a multi-image run on the same products).
    #[arg(long)]
    per_product: bool,
    /// Device: cpu or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

pub fn evaluate(args: EvaluateArgs) -> anyhow::Result<()> {
    let split = if args.split == "all" {
        EvalSplit::All
    } else {
        EvalSplit::Validation
    };
    let result = evaluate_run(
        &args.run,
        args.catalog.as_deref(),
        split,
        args.per_product,
        std::slice::from_ref(&args.device),
    )?;
    if result.samples == 0 {
        bail!(
            "{}: no {} sample to evaluate on",
            args.run.display(),
            result.split
        );
    }
    if args.json {
        return print_json(&result);
    }
    print_table(&result);
    Ok(())
}

fn print_table(result: &RunEvaluation) {
    println!(
        "{} (epoch {}), {} split, {} {}s",
        result.run.display(),
        result.epoch + 1,
        result.split,
        result.samples,
        result.unit
    );
    println!(
        "{:<12} {:>9} {:>9} {:>8}",
        "task", "accuracy", "labelled", "classes"
    );
    for (task, score) in &result.tasks {
        println!(
            "{:<12} {:>9.3} {:>9} {:>8}",
            task.name(),
            score.accuracy,
            score.labelled,
            score.classes
        );
    }
    println!("{:<12} {:>9.3}", "mean", result.mean_accuracy);
}
