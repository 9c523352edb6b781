//! `vitrine similar RUN PRODUCT`: the products most similar to one product by the run's (or
//! audit's) representation, with their labels; a label that differs from the product's own is
//! marked (the Similar strip of the product view, for a terminal).

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use vitrine::catalog::Task;
use vitrine::labels::open_workspace_read_only;
use vitrine::runs::RunFolder;
use vitrine::similarity::{Searcher, locate};

#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// A run folder, or an audit folder (its first finished fold's model).
    run: PathBuf,
    /// The product id.
    product: String,
    /// How many similar products.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    k: u32,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SimilarArgs) -> anyhow::Result<()> {
    let source = locate(&args.run)?;
    let config = RunFolder::at(&source.folder).config()?;
    let options = config.source().options()?;
    let workspace = open_workspace_read_only(&config.catalogue, &options, args.store.as_deref())
        .with_context(|| format!("the catalogue of {}", source.folder.display()))?;
    let catalog = &workspace.catalog;
    let searcher = Searcher::open(&source, &mut |note| eprintln!("{note}"))?;
    let row = searcher.row_of(&args.product)?;
    let neighbours = searcher.neighbours(row, args.k as usize);
    let labels = |id: &str| -> Vec<Option<String>> {
        Task::ALL
            .iter()
            .map(|&task| {
                catalog
                    .product(id)
                    .and_then(|p| catalog.label_name(p, task))
                    .map(str::to_string)
            })
            .collect()
    };
    let own = labels(&args.product);
    if args.json {
        let labelled = |values: &[Option<String>]| -> serde_json::Map<String, serde_json::Value> {
            Task::ALL
                .iter()
                .zip(values)
                .map(|(task, v)| (task.to_string(), serde_json::json!(v)))
                .collect()
        };
        let rows: Vec<serde_json::Value> = neighbours
            .iter()
            .enumerate()
            .map(|(rank, n)| {
                let id = searcher.vectors().id(n.row);
                let theirs = labels(id);
                let differs: Vec<String> = Task::ALL
                    .iter()
                    .zip(own.iter().zip(&theirs))
                    .filter(|(_, (a, b))| a.is_some() && b.is_some() && a != b)
                    .map(|(task, _)| task.to_string())
                    .collect();
                serde_json::json!({
                    "rank": rank + 1,
                    "product_id": id,
                    "similarity": n.similarity,
                    "in_catalogue": catalog.product(id).is_some(),
                    "labels": labelled(&theirs),
                    "labels_differ": differs,
                })
            })
            .collect();
        return super::print_json(&serde_json::json!({
            "product_id": args.product,
            "labels": labelled(&own),
            "representation": source.note,
            "search": searcher.method(),
            "products": searcher.vectors().len(),
            "neighbours": rows,
        }));
    }
    let name = catalog
        .product(&args.product)
        .map(|p| p.name.to_string())
        .unwrap_or_default();
    println!(
        "Most similar to {} {name} ({}; {} over {} products)",
        args.product,
        source.note,
        searcher.method(),
        searcher.vectors().len()
    );
    println!(
        "  own labels: {}",
        own.iter()
            .map(|l| l.as_deref().unwrap_or("-"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!(
        "{:>4}  {:>10}  {:<12}  {}",
        "rank",
        "similarity",
        "product",
        Task::ALL
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(" | ")
    );
    for (rank, n) in neighbours.iter().enumerate() {
        let id = searcher.vectors().id(n.row);
        let theirs = labels(id);
        let cells: Vec<String> = own
            .iter()
            .zip(&theirs)
            .map(|(a, b)| match b {
                None => "-".to_string(),
                Some(b) if a.is_some() && a.as_ref() != Some(b) => format!("{b} (differs)"),
                Some(b) => b.clone(),
            })
            .collect();
        println!(
            "{:>4}  {:>10.4}  {:<12}  {}",
            rank + 1,
            n.similarity,
            id,
            cells.join(" | ")
        );
    }
    Ok(())
}
