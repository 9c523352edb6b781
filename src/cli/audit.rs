//! `vitrine audit` (K fold models, their out-of-fold predictions, the label audit) and
//! `vitrine issues` (the audit's ranked suspected wrong labels).

use super::print_json;
use super::train::TrainArgs;
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use vitrine::audit::combine::Tier;
use vitrine::audit::confident::RankBy;
use vitrine::audit::quality::{TaskQuality, score};
use vitrine::audit::report::{AuditReport, AuditSummary, TaskReport, build};
use vitrine::catalog::demo::read_answers;
use vitrine::catalog::{Catalog, Task};
use vitrine::labels::open_workspace_read_only;
use vitrine::ml::TrainingEvent;
use vitrine::ml::audit::{AuditEvent, AuditRequest};
use vitrine::runs::audit::AuditFolder;
use vitrine::runs::probabilities::Probabilities;
use vitrine::runs::{MetricsRecord, RunFolder};

/// Arguments of `vitrine audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Folds: each product is predicted by the model trained on the other folds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=50))]
    folds: u32,
    #[command(flatten)]
    train: TrainArgs,
}

/// Prints a finished audit's figures.
fn print_summary(summary: &AuditSummary) {
    let provenance = summary.provenance.map_or("unknown", |p| p.label());
    eprintln!("audit {} ({provenance} probabilities)", summary.audit);
    eprintln!(
        "{:<12} {:>9} {:>9} {:>8} {:>6} {:>6} {:>10}  largest noise cells (given -> model)",
        "task", "labelled", "accuracy", "flagged", "queue", "both", "estimated"
    );
    for task in &summary.tasks {
        let cells: Vec<String> = task
            .noise
            .iter()
            .take(3)
            .map(|c| format!("{} -> {} ({})", c.given, c.suggested, c.products))
            .collect();
        eprintln!(
            "{:<12} {:>9} {:>9} {:>8} {:>6} {:>6} {:>10}  {}",
            task.task.name(),
            task.labelled,
            task.accuracy.map_or("-".to_string(), |a| format!("{a:.3}")),
            task.flagged,
            task.queue,
            task.both_agree,
            task.estimated_errors,
            cells.join(", ")
        );
    }
}

pub fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let resume = args.train.resume();
    let dir = args.train.out().to_path_buf();
    let config = if resume {
        args.train.refuse_resume_changes()?;
        AuditFolder::at(&dir).settings()?.config
    } else {
        args.train.run_config()?
    };
    let json = args.train.json();
    let handle = vitrine::ml::audit::start(AuditRequest {
        dir: dir.clone(),
        config: config.clone(),
        folds: args.folds,
        resume,
        store: args.train.store().map(Path::to_path_buf),
    })?;
    let stop = handle.stop_flag();
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::Relaxed) {
                std::process::exit(130);
            }
        })?;
    }
    let bar = ProgressBar::new(0);
    let plain = !json && !std::io::stderr().is_terminal();
    if json || plain {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let say = |line: String| {
        if plain || json {
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
    let folds = if resume {
        AuditFolder::at(&dir).settings()?.folds
    } else {
        args.folds
    };
    let mut per_fold = 0u64;
    let mut epochs = 0;
    let mut outcome: anyhow::Result<()> =
        Err(anyhow::anyhow!("the audit thread ended without a result"));
    for event in handle.events().iter() {
        if json
            && let AuditEvent::Fold {
                fold,
                event: TrainingEvent::Record(record),
            } = &event
        {
            println!("{}", serde_json::json!({"fold": fold, "record": record}));
        }
        match event {
            AuditEvent::Assigned { sizes, thin } => {
                say(format!(
                    "{} folds of {} products",
                    sizes.len(),
                    sizes
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                for task in Task::ALL {
                    let classes: Vec<String> = thin
                        .iter()
                        .filter(|c| c.task == task)
                        .map(|c| format!("{} ({})", c.class, c.products))
                        .collect();
                    if !classes.is_empty() {
                        say(format!(
                            "note: {} {task} classes have fewer products than the {folds} \
                             folds, so some folds' models train without them: {}",
                            classes.len(),
                            classes.join(", ")
                        ));
                    }
                }
            }
            AuditEvent::FoldStarted { fold, of, resumed } => {
                bar.set_prefix(format!("fold {fold}/{of}"));
                say(format!(
                    "fold {fold}/{of}: {} {}",
                    if resumed { "resuming" } else { "training" },
                    dir.join(format!("fold-{fold}")).display()
                ));
            }
            AuditEvent::FoldKept { fold } => {
                say(format!("fold {fold}/{folds}: finished earlier, kept"));
            }
            AuditEvent::Fold { fold, event } => match event {
                TrainingEvent::Preparing { stage, .. } => bar.set_message(stage),
                TrainingEvent::Record(MetricsRecord::Started {
                    epochs: e,
                    iterations_per_epoch,
                    ..
                }) => {
                    epochs = e;
                    per_fold = (e * iterations_per_epoch) as u64;
                    bar.set_length(per_fold * folds as u64);
                    bar.set_position(per_fold * (fold as u64 - 1));
                    bar.reset_eta();
                }
                TrainingEvent::Record(MetricsRecord::Iteration {
                    epoch,
                    iteration,
                    loss,
                    ..
                }) => {
                    bar.set_position(per_fold * (fold as u64 - 1) + iteration as u64 + 1);
                    bar.set_message(format!("epoch {}/{epochs} loss {loss:.3}", epoch + 1));
                }
                TrainingEvent::Record(MetricsRecord::Epoch {
                    epoch,
                    accuracy,
                    seconds,
                    ..
                }) if plain || epoch + 1 == epochs => {
                    let tasks: Vec<String> = accuracy
                        .iter()
                        .map(|(t, a)| format!("{} {a:.3}", t.name()))
                        .collect();
                    say(format!(
                        "fold {fold}: epoch {}/{epochs} ({seconds:.0} s): held-out accuracy {}",
                        epoch + 1,
                        tasks.join(", ")
                    ));
                }
                TrainingEvent::Record(MetricsRecord::Warning { message }) => {
                    say(format!("fold {fold}: warning: {message}"))
                }
                _ => {}
            },
            AuditEvent::Merging => bar.set_message("merging the folds' predictions"),
            AuditEvent::Finished(summary) => {
                bar.finish_and_clear();
                if json {
                    println!("{}", serde_json::to_string(&*summary)?);
                } else {
                    print_summary(&summary);
                }
                eprintln!(
                    "finished: {} (the ranked issues: vitrine issues {})",
                    dir.display(),
                    dir.display()
                );
                outcome = Ok(());
            }
            AuditEvent::Stopped { fold } => {
                bar.abandon();
                eprintln!(
                    "stopped during fold {fold}; continue with: vitrine audit {} --out {} --resume",
                    config.catalogue.display(),
                    dir.display()
                );
                outcome = Ok(());
            }
            AuditEvent::Failed { fold, message } => {
                bar.abandon();
                outcome = Err(match fold {
                    Some(fold) => anyhow::anyhow!(
                        "fold {fold} ({}) failed: {message}; fix the cause and continue with \
                         --resume (finished folds are kept)",
                        dir.join(format!("fold-{fold}")).display()
                    ),
                    None => anyhow::anyhow!("{message}"),
                });
            }
        }
    }
    handle.join();
    outcome
}

/// Arguments of `vitrine issues`.
#[derive(Debug, Args)]
#[command(
    after_help = "The CSV output (--format csv) has the columns of an edits file \
    (product_id,task,value,reason; value is the suggested class) and feeds \
    `vitrine labels apply` directly; the columns after them say why."
)]
pub struct IssuesArgs {
    /// An audit folder (out-of-fold probabilities), or a run folder (in-sample for the
    /// products it trained on: that ranking is biased, and says so).
    dir: PathBuf,
    /// Only this task.
    #[arg(long)]
    task: Option<Task>,
    /// At most this many issues per task.
    #[arg(long)]
    limit: Option<usize>,
    /// The label quality score issues are ranked by within a tier.
    #[arg(long, default_value = "normalized_margin",
          value_parser = ["normalized_margin", "self_confidence", "entropy"])]
    rank: String,
    /// table, csv (an edits file for `vitrine labels apply`) or json.
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    format: String,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Shorthand for --format json.
    #[arg(long)]
    json: bool,
    /// Also hear a third witness: the catalogue's duplicate clusters (products sharing a
    /// photo, and near duplicates by the audit's representation) whose members carry
    /// different labels. Reads every photo once (the exact-copy search).
    #[arg(long)]
    duplicates: bool,
    /// Score the queue against a demo catalogue's `answers.csv` (its planted wrong labels):
    /// per task, precision and recall of the products raised, precision of the first 10, 20
    /// and 50, and how often the suggestion is the truth.
    #[arg(long, value_name = "CSV")]
    answers: Option<PathBuf>,
}

/// Prints the queue's scores against planted wrong labels.
fn print_quality(quality: &[TaskQuality], json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(&quality);
    }
    let share = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    println!(
        "{:<12} {:>7} {:>6} {:>5} {:>9} {:>6} {:>5} {:>5} {:>5} {:>6}",
        "task",
        "planted",
        "raised",
        "found",
        "precision",
        "recall",
        "p@10",
        "p@20",
        "p@50",
        "truth"
    );
    for task in quality {
        let at = |k: usize| {
            task.precision_at
                .iter()
                .find(|(n, _)| *n == k)
                .map_or("-".to_string(), |(_, p)| format!("{p:.2}"))
        };
        println!(
            "{:<12} {:>7} {:>6} {:>5} {:>9} {:>6} {:>5} {:>5} {:>5} {:>6}",
            task.task.name(),
            task.planted,
            task.raised,
            task.found,
            share(task.precision),
            share(task.recall),
            at(10),
            at(20),
            at(50),
            task.suggested_truth
        );
    }
    Ok(())
}

/// One issue as printed.
#[derive(Debug, serde::Serialize)]
struct IssueRow<'a> {
    product_id: &'a str,
    task: &'static str,
    /// The suggested class (the edit `labels apply` makes).
    value: &'a str,
    reason: String,
    given: &'a str,
    suggested_probability: f64,
    score: f64,
    tier: &'static str,
    image_flags: bool,
    text: Option<String>,
    duplicates: Option<String>,
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::BothAgree => "both-agree",
        Tier::Both => "both",
        Tier::ImageOnly => "image",
        Tier::DuplicateOnly => "duplicates",
        Tier::TextOnly => "text",
    }
}

fn rows<'a>(
    report: &'a AuditReport,
    task: &'a TaskReport,
    catalog: &'a Catalog,
    name: &str,
    limit: usize,
) -> Vec<IssueRow<'a>> {
    let provenance = report.provenance.map_or("unknown", |p| p.label());
    task.queue
        .iter()
        .take(limit)
        .map(|s| {
            let product = &catalog.products()[task.positions[s.row]];
            let text = s.text.as_ref().map(|t| {
                let texts = vitrine::audit::report::product_texts(product);
                let source = texts.get(t.text).copied().unwrap_or("");
                let quoted = source.get(t.span.clone()).unwrap_or("");
                format!("'{quoted}' in \"{source}\"")
            });
            let duplicates = s.duplicate.as_ref().map(|d| {
                format!(
                    "{} of {} {} {}",
                    d.agreeing,
                    d.others,
                    if d.copy {
                        "sharing a photo say"
                    } else {
                        "look-alikes say"
                    },
                    task.classes[d.class]
                )
            });
            let value = &task.classes[s.suggestion()];
            IssueRow {
                product_id: &product.id,
                task: task.task.name(),
                value,
                reason: format!(
                    "audit {name} ({provenance}): {}{}{}",
                    if s.image.flagged {
                        format!(
                            "model {} {:.2}",
                            task.classes[s.image.suggested], s.image.suggested_probability
                        )
                    } else {
                        "model backs the label".to_string()
                    },
                    text.as_ref()
                        .map(|t| format!("; text {t}"))
                        .unwrap_or_default(),
                    duplicates
                        .as_ref()
                        .map(|d| format!("; duplicates: {d}"))
                        .unwrap_or_default()
                ),
                given: &task.classes[s.given],
                suggested_probability: s.image.suggested_probability,
                score: s.image.score,
                tier: tier_name(s.tier),
                image_flags: s.image.flagged,
                text,
                duplicates,
            }
        })
        .collect()
}

/// The duplicate clusters of the open catalogue for the third witness: exact copies, and near
/// duplicates by the representation of the run or audit in `dir` where it has one; pairs
/// marked "not duplicates" left out.
fn duplicate_groups(
    dir: &std::path::Path,
    workspace: &mut vitrine::labels::Workspace,
) -> anyhow::Result<Vec<vitrine::audit::duplicate::DuplicateGroup>> {
    use vitrine::similarity::duplicates::{DEFAULT_FRACTION, find_duplicates};
    use vitrine::similarity::{Searcher, locate};
    let searcher = match locate(dir) {
        Ok(source) => Some(Searcher::open(&source, &mut |note| eprintln!("{note}"))?),
        Err(e) => {
            eprintln!("duplicates: exact copies only ({e})");
            None
        }
    };
    let apart = workspace.store.not_duplicates()?;
    let started = std::time::Instant::now();
    let report = find_duplicates(
        &workspace.catalog,
        searcher.as_ref(),
        DEFAULT_FRACTION,
        &apart,
        &|_, _| {},
        &std::sync::atomic::AtomicBool::new(false),
    )
    .context("the duplicate search was cancelled")?;
    let conflicting = report
        .clusters
        .iter()
        .filter(|c| !c.conflicts.is_empty())
        .count();
    eprintln!(
        "duplicates: {} clusters ({conflicting} with conflicting labels) over {} photos in {:.1} s",
        report.clusters.len(),
        report.photos,
        started.elapsed().as_secs_f32()
    );
    Ok(report.clusters.iter().map(|c| c.group()).collect())
}

pub fn issues(args: IssuesArgs) -> anyhow::Result<()> {
    let (config, probabilities_path, name) = if AuditFolder::is_audit(&args.dir) {
        let audit = AuditFolder::at(&args.dir);
        let settings = audit.settings()?;
        let path = audit.probabilities_path();
        if !path.is_file() {
            bail!(
                "{}: the audit has no merged probabilities yet (it is unfinished); continue it \
                 with: vitrine audit {} --out {} --resume",
                args.dir.display(),
                settings.config.catalogue.display(),
                args.dir.display()
            );
        }
        (settings.config, path, audit.name())
    } else if RunFolder::at(&args.dir).config_path().is_file() {
        let run = RunFolder::at(&args.dir);
        (run.config()?, run.probabilities_path(), run.name())
    } else {
        bail!(
            "{}: neither an audit folder (audit.json) nor a run folder (config.json)",
            args.dir.display()
        );
    };
    let rank_by = match args.rank.as_str() {
        "self_confidence" => RankBy::SelfConfidence,
        "entropy" => RankBy::ConfidenceWeightedEntropy,
        _ => RankBy::NormalizedMargin,
    };
    let options = config.source().options()?;
    let mut workspace =
        open_workspace_read_only(&config.catalogue, &options, args.store.as_deref())
            .with_context(|| format!("the catalogue of {}", args.dir.display()))?;
    let groups = if args.duplicates {
        duplicate_groups(&args.dir, &mut workspace)?
    } else {
        Vec::new()
    };
    let catalog = &workspace.catalog;
    let probabilities = Probabilities::read(&probabilities_path)?;
    for warning in &probabilities.warnings {
        eprintln!(
            "{}:{}: skipped: {}",
            probabilities_path.display(),
            warning.line,
            warning.message
        );
    }
    if probabilities.warnings_total > probabilities.warnings.len() {
        eprintln!(
            "{}: {} more lines skipped",
            probabilities_path.display(),
            probabilities.warnings_total - probabilities.warnings.len()
        );
    }
    let report = build(&probabilities, catalog, rank_by, &|_, _| false, &groups)?;
    if report.unknown > 0 {
        eprintln!(
            "note: {} products of {} are not in the catalogue (left out)",
            report.unknown,
            probabilities_path.display()
        );
    }
    if report.unpredicted > 0 {
        eprintln!(
            "note: {} products of the catalogue with a photo have no probabilities (not audited)",
            report.unpredicted
        );
    }
    if let Some(path) = &args.answers {
        let answers = read_answers(path)?;
        let quality = score(&report, catalog, &answers, &[10, 20, 50]);
        let quality: Vec<TaskQuality> = quality
            .into_iter()
            .filter(|q| args.task.is_none_or(|only| only == q.task))
            .collect();
        return print_quality(&quality, args.json || args.format == "json");
    }
    let limit = args.limit.unwrap_or(usize::MAX);
    let tasks: Vec<&TaskReport> = report
        .tasks
        .iter()
        .filter(|t| args.task.is_none_or(|only| only == t.task))
        .collect();
    if let Some(task) = args.task
        && tasks.is_empty()
    {
        bail!(
            "{}: no audit of {task} (the model has no head for it, or no product has a label)",
            probabilities_path.display()
        );
    }
    let format = if args.json {
        "json"
    } else {
        args.format.as_str()
    };
    match format {
        "csv" => {
            let mut out = csv::Writer::from_writer(std::io::stdout().lock());
            for task in &tasks {
                for row in rows(&report, task, catalog, &name, limit) {
                    out.serialize(row)?;
                }
            }
            out.flush()?;
        }
        "json" => {
            let all: Vec<serde_json::Value> = tasks
                .iter()
                .map(|task| {
                    serde_json::json!({
                        "task": task.task.name(),
                        "provenance": report.provenance,
                        "labelled": task.labelled(),
                        "accuracy": task.accuracy,
                        "flagged": task.audit.issues.len(),
                        "queue": task.queue.len(),
                        "estimated_errors": task.estimated_errors(),
                        "issues": rows(&report, task, catalog, &name, limit),
                    })
                })
                .collect();
            print_json(&all)?;
        }
        _ => {
            if let Some(provenance) = report.provenance
                && provenance.is_biased()
            {
                println!(
                    "note: {} has in-sample predictions: the model trained on these labels, \
                     wrong ones included, so this ranking is biased; an audit \
                     (vitrine audit) gives out-of-fold ones",
                    probabilities_path.display()
                );
            }
            for task in &tasks {
                println!(
                    "{}: {} labelled, {} accuracy {}, {} flagged by confident learning, {} in \
                     the queue, about {} wrong labels estimated",
                    task.task,
                    task.labelled(),
                    report.provenance.map_or("model", |p| p.label()),
                    task.accuracy.map_or("-".into(), |a| format!("{a:.3}")),
                    task.audit.issues.len(),
                    task.queue.len(),
                    task.estimated_errors()
                );
                println!(
                    "{:>5}  {:<20} {:<16} {:<16} {:>5} {:>6} {:<10} text / duplicates",
                    "rank", "product", "given", "suggested", "p", "score", "witnesses"
                );
                for (i, row) in rows(&report, task, catalog, &name, limit)
                    .iter()
                    .enumerate()
                {
                    println!(
                        "{:>5}  {:<20} {:<16} {:<16} {:>5.2} {:>6.3} {:<10} {}",
                        i + 1,
                        row.product_id,
                        row.given,
                        row.value,
                        row.suggested_probability,
                        row.score,
                        row.tier,
                        [row.text.as_deref(), row.duplicates.as_deref()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                }
                println!();
            }
        }
    }
    Ok(())
}
