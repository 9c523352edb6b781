//! `vitrine compare RUN_A RUN_B`: two runs side by side, task by task (the app's Compare tab,
//! for a terminal or a GPU server).

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use vitrine::labels::open_workspace_read_only;
use vitrine::ml::training::import_options;
use vitrine::runs::RunFolder;
use vitrine::runs::compare::{TaskScore, compare_runs};
use vitrine::runs::predictions::PredictionsError;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run A's folder (typically the single-image run).
    a: PathBuf,
    /// Run B's folder (typically the multi-image run).
    b: PathBuf,
    /// The catalogue whose current labels score both runs (default: run A's).
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long)]
    store: Option<PathBuf>,
    /// `markdown` (the published layout) or `csv`.
    #[arg(long, default_value = "markdown", value_parser = ["markdown", "csv"])]
    format: String,
    /// Print the table as JSON, with the ids of the products one run gets right and the other
    /// wrong.
    #[arg(long)]
    json: bool,
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let config = RunFolder::at(&args.a).config()?;
    let catalogue = args.catalog.clone().unwrap_or(config.catalogue.clone());
    let options = import_options(&config)?;
    let workspace = open_workspace_read_only(&catalogue, &options, args.store.as_deref())
        .with_context(|| format!("opening {}", catalogue.display()))?;
    let table = compare_runs(&args.a, &args.b, &workspace.catalog).map_err(|e| match e {
        // Only a missing file means an unfinished run; other errors say what they are.
        PredictionsError::Io { ref reason, .. }
            if reason.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::anyhow!(
                "{e}: a run without predictions.jsonl has not finished (`vitrine predict RUN` \
                 writes them)"
            )
        }
        other => other.into(),
    })?;
    for warning in &table.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        let ids = |positions: &[u32]| -> Vec<&str> {
            positions
                .iter()
                .filter_map(|&p| workspace.catalog.products().get(p as usize))
                .map(|p| &*p.id)
                .collect()
        };
        let score = |s: Option<TaskScore>| {
            s.map(|s| {
                serde_json::json!({
                    "accuracy": s.accuracy(),
                    "correct": s.correct,
                    "labelled": s.labelled,
                })
            })
        };
        let tasks: serde_json::Map<String, serde_json::Value> = table
            .rows
            .iter()
            .filter(|row| row.a.is_some() || row.b.is_some())
            .map(|row| {
                let value = serde_json::json!({
                    "a": score(row.a),
                    "b": score(row.b),
                    "difference": row.difference(),
                    "a_right_b_wrong": ids(&row.only_a),
                    "b_right_a_wrong": ids(&row.only_b),
                });
                (row.task.to_string(), value)
            })
            .collect();
        return super::print_json(&serde_json::json!({
            "a": table.a,
            "b": table.b,
            "mean_accuracy": { "a": table.mean.0, "b": table.mean.1 },
            "validation_products": { "a": table.products.0, "b": table.products.1, "both": table.common },
            "tasks": tasks,
        }));
    }
    if args.format == "csv" {
        print!("{}", table.to_csv());
    } else {
        print!("{}", table.to_markdown());
        println!(
            "\nValidation products: A {}, B {}, both {}.",
            table.products.0, table.products.1, table.common
        );
    }
    Ok(())
}
