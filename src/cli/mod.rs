//! The command line: `vitrine <command>`; with no command, the workspace on the demo catalogue.

mod audit;
mod compare;
mod decided;
mod demo;
mod duplicates;
mod import;
mod labels;
mod map;
mod open;
mod similar;
mod train;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use vitrine::catalog::import::{ImportOptions, Source};

/// Product catalogue moderation and multi-image visual model training.
#[derive(Debug, Parser)]
#[command(name = "vitrine", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check and summarise a catalogue (Kaggle styles.csv, generic manifest, Magento export).
    Import(import::ImportArgs),
    /// Generate the demo catalogue into a folder.
    Demo(demo::DemoArgs),
    /// Open the moderator workspace window on a catalogue.
    Open(open::OpenArgs),
    /// Read and change labels through the label store.
    #[command(subcommand)]
    Labels(labels::LabelsCommand),
    /// Train the multi-image multi-task model on a catalogue into a run folder.
    Train(train::TrainArgs),
    /// Predict every product of a catalogue with a run's latest checkpoint.
    Predict(train::PredictArgs),
    /// Per-task accuracy of a run's latest checkpoint on its validation split (or all).
    Evaluate(train::EvaluateArgs),
    /// Audit the labels: K fold models, each predicting the products it never saw, then
    /// confident learning and the product's own text on those out-of-fold predictions.
    Audit(audit::AuditArgs),
    /// The ranked suspected wrong labels of an audit (or, biased, of a run).
    Issues(audit::IssuesArgs),
    /// Two runs side by side, task by task, from their predictions (e.g. single- vs
    /// multi-image).
    Compare(compare::CompareArgs),
    /// The products most similar to one product by a run's representation.
    Similar(similar::SimilarArgs),
    /// Duplicate clusters: exact copies among the photos, near duplicates by a run's
    /// representation; conflicting labels first.
    Duplicates(duplicates::DuplicatesArgs),
    /// Which of a product's photos decided each task of a multi-image run's prediction.
    Decided(decided::DecidedArgs),
    /// A 2-D map (t-SNE) of a run's representation, one point per product.
    Map(map::MapArgs),
}

/// How to read a catalogue: shared by every command that opens one.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// The catalogue: a folder (with styles.csv or manifest.csv/.jsonl) or a file.
    pub catalog: PathBuf,
    /// Column mapping, FIELD=COLUMN (e.g. colour=baseColour, product_id=group_id); repeatable.
    #[arg(long = "map", value_name = "FIELD=COLUMN")]
    pub map: Vec<String>,
    /// Folder the image paths are relative to, when not the format's default.
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
}

impl CatalogArgs {
    /// The catalogue these arguments name.
    pub fn source(&self) -> Source {
        Source {
            catalogue: self.catalog.clone(),
            columns: self.map.clone(),
            image_root: self.images.clone(),
        }
    }

    /// The import options these arguments describe.
    pub fn options(&self) -> anyhow::Result<ImportOptions> {
        Ok(self.source().options()?)
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => demo::open_default(),
        Some(Command::Import(args)) => import::run(args),
        Some(Command::Demo(args)) => demo::run(args),
        Some(Command::Labels(command)) => labels::run(command),
        Some(Command::Open(args)) => open::run(args),
        Some(Command::Train(args)) => train::train(args),
        Some(Command::Predict(args)) => train::predict(args),
        Some(Command::Evaluate(args)) => train::evaluate(args),
        Some(Command::Compare(args)) => compare::run(args),
        Some(Command::Audit(args)) => audit::audit(args),
        Some(Command::Issues(args)) => audit::issues(args),
        Some(Command::Similar(args)) => similar::run(args),
        Some(Command::Duplicates(args)) => duplicates::run(args),
        Some(Command::Decided(args)) => decided::run(args),
        Some(Command::Map(args)) => map::run(args),
    }
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
