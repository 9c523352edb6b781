//! `vitrine duplicates RUN_OR_CATALOG`: exact copies among the photos and, from a run's (or
//! audit's) representation, near duplicates, as clusters; conflicting labels first. With
//! `--not-duplicates A,B` marks a pair as different products in the label store.

use super::labels::AuthorArgs;
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use vitrine::catalog::Task;
use vitrine::catalog::import::Source;
use vitrine::labels::{open_workspace, open_workspace_read_only};
use vitrine::runs::RunFolder;
use vitrine::runs::audit::AuditFolder;
use vitrine::similarity::duplicates::{DEFAULT_FRACTION, Evidence, find_duplicates};
use vitrine::similarity::{Searcher, locate};

#[derive(Debug, Args)]
pub struct DuplicatesArgs {
    /// A run or audit folder (exact copies and near duplicates by its representation), or a
    /// catalogue (exact copies only).
    path: PathBuf,
    /// Near duplicates: cosine distance under this fraction of the median distance of a
    /// product to its nearest neighbour (cleanlab Datalab's rule and default).
    #[arg(long, default_value_t = DEFAULT_FRACTION)]
    threshold: f32,
    /// Only exact copies (same file bytes or pixels), even given a run.
    #[arg(long)]
    exact_only: bool,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Mark two products as not duplicates (journalled; never raised again), then list.
    #[arg(long = "not-duplicates", value_name = "ID,ID")]
    not_duplicates: Vec<String>,
    #[command(flatten)]
    author: AuthorArgs,
    /// Clusters listed (all with --json).
    #[arg(long, default_value_t = 30)]
    limit: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DuplicatesArgs) -> anyhow::Result<()> {
    if !(args.threshold > 0.0 && args.threshold < 1.0) {
        bail!(
            "--threshold {}: a fraction between 0 and 1 (default {DEFAULT_FRACTION})",
            args.threshold
        );
    }
    let is_run =
        AuditFolder::is_audit(&args.path) || RunFolder::at(&args.path).config_path().is_file();
    let (source, representation) = if is_run {
        let config = if AuditFolder::is_audit(&args.path) {
            AuditFolder::at(&args.path).settings()?.config
        } else {
            RunFolder::at(&args.path).config()?
        };
        let representation = if args.exact_only {
            None
        } else {
            Some(locate(&args.path)?)
        };
        (config.source(), representation)
    } else {
        (Source::new(&args.path), None)
    };
    let options = source.options()?;
    let pairs: Vec<(String, String)> = args
        .not_duplicates
        .iter()
        .map(|pair| match pair.split_once(',') {
            Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
                Ok((a.trim().to_string(), b.trim().to_string()))
            }
            _ => bail!("--not-duplicates {pair}: expected two product ids, ID,ID"),
        })
        .collect::<anyhow::Result<_>>()?;
    let mut workspace = if pairs.is_empty() {
        open_workspace_read_only(&source.catalogue, &options, args.store.as_deref())
    } else {
        open_workspace(&source.catalogue, &options, args.store.as_deref())
    }
    .with_context(|| format!("opening {}", source.catalogue.display()))?;
    if !pairs.is_empty() {
        let added =
            workspace
                .store
                .mark_not_duplicates(&workspace.catalog, &pairs, &args.author.name())?;
        eprintln!("marked {added} pair(s) as not duplicates");
    }
    let apart = workspace.store.not_duplicates()?;
    let catalog = &workspace.catalog;
    let searcher = match &representation {
        Some(source) => Some(Searcher::open(source, &mut |note| eprintln!("{note}"))?),
        None => None,
    };
    let bar = ProgressBar::new(0);
    if args.json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(ProgressStyle::with_template(
        "{msg} {bar:30} {pos}/{len} photos",
    )?);
    bar.set_message("exact copies");
    let report = find_duplicates(
        catalog,
        searcher.as_ref(),
        args.threshold,
        &apart,
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
        &std::sync::atomic::AtomicBool::new(false),
    )
    .context("the duplicate search was cancelled")?;
    bar.finish_and_clear();
    for (path, reason) in report.unreadable.iter().take(10) {
        eprintln!(
            "warning: {}: left out of the exact-copy search: {reason}",
            path.display()
        );
    }
    if report.unreadable.len() > 10 {
        eprintln!(
            "warning: {} more photos could not be read",
            report.unreadable.len() - 10
        );
    }
    let conflicting = report
        .clusters
        .iter()
        .filter(|c| !c.conflicts.is_empty())
        .count();
    let labels = |p: u32| -> Vec<Option<&str>> {
        let product = &catalog.products()[p as usize];
        Task::ALL
            .iter()
            .map(|&t| catalog.label_name(product, t))
            .collect()
    };
    let evidence = |e: &Evidence| match e {
        Evidence::Copy(copy) => serde_json::json!({ "copy": copy }),
        Evidence::Near(d) => serde_json::json!({ "near": d }),
    };
    if args.json {
        let clusters: Vec<serde_json::Value> = report
            .clusters
            .iter()
            .map(|c| {
                let members: Vec<serde_json::Value> = c
                    .members
                    .iter()
                    .map(|&p| {
                        let l = labels(p);
                        let labels: serde_json::Map<_, _> = Task::ALL
                            .iter()
                            .zip(l)
                            .map(|(t, v)| (t.to_string(), serde_json::json!(v)))
                            .collect();
                        serde_json::json!({ "product_id": &*catalog.products()[p as usize].id, "labels": labels })
                    })
                    .collect();
                let links: Vec<serde_json::Value> = c
                    .links
                    .iter()
                    .map(|l| serde_json::json!({
                        "a": &*catalog.products()[l.a as usize].id,
                        "b": &*catalog.products()[l.b as usize].id,
                        "evidence": evidence(&l.evidence),
                    }))
                    .collect();
                serde_json::json!({
                    "members": members,
                    "links": links,
                    "shares_photo": c.shares_photo(),
                    "conflicts": c.conflicts.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        return super::print_json(&serde_json::json!({
            "products": catalog.len(),
            "photos": report.photos,
            "unreadable_photos": report.unreadable.len(),
            "copy_pairs": report.copy_pairs,
            "representation": representation.as_ref().map(|s| &s.note),
            "near": report.near.as_ref().map(|n| serde_json::json!({
                "fraction": args.threshold,
                "median_nearest_distance": n.median_distance,
                "radius": n.radius,
                "pairs": n.pairs.len(),
            })),
            "marked_not_duplicates": report.marked_apart,
            "clusters_with_conflicts": conflicting,
            "clusters": clusters,
        }));
    }
    println!(
        "{} clusters ({conflicting} with conflicting labels) among {} products: {} photos compared, {} product pairs sharing a photo",
        report.clusters.len(),
        catalog.len(),
        report.photos,
        report.copy_pairs
    );
    match (&report.near, &representation) {
        (Some(near), Some(source)) => println!(
            "near duplicates by {}: cosine distance under {:.4} ({} x the median nearest-neighbour distance {:.4}): {} pairs",
            source.note,
            near.radius,
            args.threshold,
            near.median_distance,
            near.pairs.len()
        ),
        _ => println!("exact copies only (give a run or audit folder for near duplicates)"),
    }
    if report.marked_apart > 0 {
        println!(
            "{} pairs left out: marked not duplicates",
            report.marked_apart
        );
    }
    for (i, c) in report.clusters.iter().take(args.limit).enumerate() {
        let how = if c.shares_photo() {
            "sharing a photo"
        } else {
            "near duplicates"
        };
        let conflicts = if c.conflicts.is_empty() {
            String::new()
        } else {
            format!(
                ", labels differ: {}",
                c.conflicts
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!(
            "\n#{} {} products, {how}{conflicts}",
            i + 1,
            c.members.len()
        );
        for &p in &c.members {
            let product = &catalog.products()[p as usize];
            let text: Vec<&str> = labels(p).into_iter().map(|l| l.unwrap_or("-")).collect();
            println!(
                "  {:<12} {}  [{}]",
                product.id,
                product.name,
                text.join(" | ")
            );
        }
    }
    if report.clusters.len() > args.limit {
        println!(
            "\n... {} more (--limit, or --json for all)",
            report.clusters.len() - args.limit
        );
    }
    Ok(())
}
