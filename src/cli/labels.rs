//! `vitrine labels ...`: change, undo, inspect and export labels through the label store.

use super::{CatalogArgs, print_json};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use vitrine::catalog::import::{ImportOptions, open_file};
use vitrine::catalog::text::excerpt;
use vitrine::catalog::{Catalog, Task};
use vitrine::labels::change_review::{self, QueueFilter, Verdict};
use vitrine::labels::{
    Attribution, Change, Edit, EditSource, OpenError, Workspace, location, open_workspace,
    open_workspace_read_only, printable,
};

/// The store to use, shared by every `labels` command.
#[derive(Debug, Args)]
pub struct StoreArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long, value_name = "PATH")]
    store: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl StoreArgs {
    /// Opens the catalogue and its store for changes.
    fn open(&self) -> anyhow::Result<Workspace> {
        self.open_with(open_workspace)
    }

    /// Whether the catalogue's store exists already (an unreadable catalogue counts as having
    /// one: opening it will say what is wrong).
    fn store_exists(&self) -> bool {
        match vitrine::catalog::import::detect(&self.catalog.catalog) {
            Ok((_, source)) => {
                let explicit = self.store.as_deref();
                // A team store is never created by a refused change: nothing to check first.
                explicit
                    .and_then(Path::to_str)
                    .is_some_and(vitrine::labels::team::is_team)
                    || location::locate(&source, explicit).exists()
            }
            Err(_) => true,
        }
    }

    /// Opens the catalogue and its store for writing once `check` accepts the workspace.
    /// Where no store exists yet, `check` first runs on a read-only open (the catalogue's own
    /// labels, which is all a new store would hold), so a refused change creates no store.
    fn open_checked(
        &self,
        check: impl Fn(&Workspace) -> anyhow::Result<()>,
    ) -> anyhow::Result<Workspace> {
        if !self.store_exists() {
            check(&self.open_read_only()?)?;
        }
        let workspace = self.open()?;
        check(&workspace)?;
        Ok(workspace)
    }

    /// Opens the catalogue and its store for reading only: nothing is created.
    fn open_read_only(&self) -> anyhow::Result<Workspace> {
        self.open_with(open_workspace_read_only)
    }

    fn open_with(
        &self,
        open: fn(&Path, &ImportOptions, Option<&Path>) -> Result<Workspace, OpenError>,
    ) -> anyhow::Result<Workspace> {
        let workspace = open(
            &self.catalog.catalog,
            &self.catalog.options()?,
            self.store.as_deref(),
        )?;
        let r = &workspace.store_report;
        if r.added + r.removed > 0 {
            eprintln!(
                "note: the catalogue changed since this store was last opened: {} products added, \
                 {} removed{}",
                r.added,
                r.removed,
                if r.removed_sample.is_empty() {
                    String::new()
                } else {
                    format!(" (e.g. {})", r.removed_sample.join(", "))
                }
            );
        }
        if r.orphaned > 0 {
            eprintln!(
                "note: {} edited labels belong to products no longer in the catalogue; they are \
                 kept in {}",
                r.orphaned,
                r.path.display()
            );
        }
        if let Some(other) = &r.other_catalogue {
            eprintln!("note: this store was made for {other}");
        }
        Ok(workspace)
    }
}

/// Who is editing: `--author`, else the login name.
#[derive(Debug, Args)]
pub struct AuthorArgs {
    /// Author recorded in the journal (default: $USER).
    #[arg(long)]
    author: Option<String>,
}

impl AuthorArgs {
    /// The author's name.
    pub fn name(&self) -> String {
        self.author
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("USERNAME").ok())
            .filter(|a| !a.trim().is_empty())
            .unwrap_or_else(|| "unknown".into())
    }
}

/// `vitrine labels` subcommands.
#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Set one label of one product.
    Set {
        #[command(flatten)]
        store: StoreArgs,
        /// Product id.
        product: String,
        /// Task: gender, colour, type, category or subcategory.
        task: Task,
        /// The new label; omit with --clear.
        value: Option<String>,
        /// Remove the label instead.
        #[arg(long, conflicts_with = "value")]
        clear: bool,
        /// Allow a class the catalogue has never seen for this task.
        #[arg(long)]
        new_class: bool,
        /// Why (kept in the journal).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        author: AuthorArgs,
    },
    /// Apply a CSV of edits (columns product_id,task,value[,reason]), each durable on its own.
    Apply {
        #[command(flatten)]
        store: StoreArgs,
        /// The edits file.
        #[arg(long, value_name = "CSV")]
        edits: PathBuf,
        /// Apply all edits as one batch (one transaction, undone together).
        #[arg(long)]
        batch: bool,
        /// Allow classes the catalogue has never seen.
        #[arg(long)]
        new_class: bool,
        #[command(flatten)]
        author: AuthorArgs,
    },
    /// Undo the author's latest change (a batch is undone whole).
    Undo {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        author: AuthorArgs,
    },
    /// Redo the author's latest undone change.
    Redo {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        author: AuthorArgs,
    },
    /// Show a product's labels and every change to them.
    History {
        #[command(flatten)]
        store: StoreArgs,
        /// Product id.
        product: String,
    },
    /// Show the latest journal entries.
    Log {
        #[command(flatten)]
        store: StoreArgs,
        /// How many entries, the latest (1 or more; a number above the journal's length shows
        /// it all).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        limit: u64,
    },
    /// List others' changes waiting for a reviewer's verdict, newest first.
    Queue {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this author's changes.
        #[arg(long = "by", value_name = "AUTHOR")]
        by: Option<String>,
        /// Only changes of this task.
        #[arg(long)]
        task: Option<Task>,
        /// Only changes from this source: human, bulk or accepted-prediction.
        #[arg(long)]
        source: Option<EditSource>,
        /// How many, the newest (1 or more).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
        limit: u64,
        /// The reviewer (in a team store, the database role); their own changes are left out.
        #[command(flatten)]
        author: AuthorArgs,
    },
    /// Approve others' changes (journal entry ids, as `labels queue` shows them).
    Approve {
        #[command(flatten)]
        judged: JudgeArgs,
    },
    /// Revert others' changes: each is set back by a journal entry of its own, unless its
    /// label changed since.
    Revert {
        #[command(flatten)]
        judged: JudgeArgs,
    },
    /// Copy a file store's journal into a team store (running it again adds nothing; a change
    /// whose label the team store changed meanwhile is left out and reported).
    Push {
        #[command(flatten)]
        store: StoreArgs,
        /// The team store: postgres://[user@]host[:port]/database.
        #[arg(long, value_name = "ADDRESS")]
        to: PathBuf,
    },
    /// Copy a team store's journal into a file store, for work offline (running it again
    /// adds nothing; `push` later sends the file's own changes back, not the copies).
    Pull {
        #[command(flatten)]
        store: StoreArgs,
        /// The file store to copy into (created if missing).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Write the corrected catalogue as a manifest (.csv or .jsonl) that re-imports as is.
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Output file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// What `labels approve` and `labels revert` take.
#[derive(Debug, Args)]
pub struct JudgeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Journal entry ids.
    #[arg(required = true, value_name = "ID")]
    ids: Vec<i64>,
    /// Judge every entry of each entry's batch (a bulk relabel, an applied edits file).
    #[arg(long)]
    batch: bool,
    #[command(flatten)]
    author: AuthorArgs,
}

/// Gives `verdict` on the changes `args` names, and prints what was done and refused.
fn judge(args: &JudgeArgs, verdict: Verdict) -> anyhow::Result<()> {
    let mut ws = args.store.open()?;
    let judged = ws.store.judge(
        &mut ws.catalog,
        &args.ids,
        args.batch,
        &args.author.name(),
        verdict,
    )?;
    if args.store.json {
        print_json(&judged)?;
    } else {
        for j in &judged.judgements {
            println!("#{}: {j}", j.edit);
        }
        for refusal in &judged.refused {
            eprintln!("not {verdict}: {refusal}");
        }
    }
    if judged.judgements.is_empty() {
        bail!("nothing was {verdict}");
    }
    Ok(())
}

/// Copies the journal of `from`'s store into the store `to`, and prints what was done.
fn copy_journal(from: &StoreArgs, to: &Path) -> anyhow::Result<()> {
    let mut source = from.open()?;
    let mut target = open_workspace(&from.catalog.catalog, &from.catalog.options()?, Some(to))?;
    let report = source.store.copy_to(&mut target.store, &target.catalog)?;
    if from.json {
        return print_json(&report);
    }
    println!(
        "{} entries copied from {} to {}; {} there already, {} came from there",
        report.copied,
        source.store.path().display(),
        target.store.path().display(),
        report.already,
        report.from_target
    );
    for conflict in &report.conflicts {
        eprintln!("left out: {conflict}");
    }
    Ok(())
}

/// Refuses a class the task has never seen unless `new_class`, suggesting a near spelling.
fn check_class(catalog: &Catalog, task: Task, value: &str, new_class: bool) -> anyhow::Result<()> {
    let vocabulary = catalog.vocabulary(task);
    if new_class || vocabulary.get(value.trim()).is_some() {
        return Ok(());
    }
    let lower = value.trim().to_lowercase();
    let near: Vec<&str> = vocabulary
        .by_frequency()
        .into_iter()
        .map(|(_, name, _)| name)
        .filter(|name| {
            let n = name.to_lowercase();
            n == lower || n.starts_with(&lower) || lower.starts_with(&n)
        })
        .take(5)
        .collect();
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", near.join(", "))
    };
    bail!(
        "'{}' is not a {task} class of this catalogue{hint}; pass --new-class to add it \
         ({} classes known)",
        excerpt(value),
        vocabulary.len()
    )
}

fn print_edits(edits: &[Edit], json: bool, nothing: &str) -> anyhow::Result<()> {
    if json {
        return print_json(&edits);
    }
    if edits.is_empty() {
        println!("{nothing}");
    }
    for edit in edits {
        println!("{edit}");
    }
    Ok(())
}

pub fn run(command: LabelsCommand) -> anyhow::Result<()> {
    match command {
        LabelsCommand::Set {
            store,
            product,
            task,
            value,
            clear,
            new_class,
            reason,
            author,
        } => {
            if value.is_none() && !clear {
                bail!("give the new label, or --clear to remove it");
            }
            let mut ws = store.open_checked(|ws| {
                if ws.catalog.position(&product).is_none() {
                    bail!(
                        "no product '{}' in {}",
                        excerpt(&product),
                        ws.import.source.display()
                    );
                }
                match &value {
                    Some(value) => check_class(&ws.catalog, task, value, new_class),
                    None => Ok(()),
                }
            })?;
            let by = Attribution {
                author: author.name(),
                source: EditSource::Human,
                reason,
            };
            let edit = ws.store.set(
                &mut ws.catalog,
                Change {
                    product,
                    task,
                    value,
                },
                &by,
            )?;
            print_edits(
                edit.as_slice(),
                store.json,
                "unchanged: the label already has that value",
            )
        }
        LabelsCommand::Apply {
            store,
            edits,
            batch,
            new_class,
            author,
        } => apply(&store, &edits, batch, new_class, &author),
        // Without a store there is nothing to undo or redo, and asking creates none.
        LabelsCommand::Undo { store, .. } if !store.store_exists() => {
            store.open_read_only()?;
            print_edits(&[], store.json, "nothing to undo")
        }
        LabelsCommand::Redo { store, .. } if !store.store_exists() => {
            store.open_read_only()?;
            print_edits(&[], store.json, "nothing to redo")
        }
        LabelsCommand::Undo { store, author } => {
            let mut ws = store.open()?;
            let edits = ws.store.undo(&mut ws.catalog, &author.name())?;
            print_edits(&edits, store.json, "nothing to undo")
        }
        LabelsCommand::Redo { store, author } => {
            let mut ws = store.open()?;
            let edits = ws.store.redo(&mut ws.catalog, &author.name())?;
            print_edits(&edits, store.json, "nothing to redo")
        }
        LabelsCommand::History { store, product } => {
            let mut ws = store.open_read_only()?;
            let Some(p) = ws.catalog.product(&product) else {
                bail!(
                    "no product '{}' in {}",
                    excerpt(&product),
                    ws.import.source.display()
                );
            };
            let history = ws.store.history(&product)?;
            let judgements = ws.store.judgements(&product)?;
            let labels: serde_json::Map<String, serde_json::Value> = Task::ALL
                .iter()
                .map(|&t| (t.name().to_string(), ws.catalog.label_name(p, t).into()))
                .collect();
            if store.json {
                return print_json(&serde_json::json!({
                    "product": product,
                    "labels": labels,
                    "history": history,
                    "verdicts": judgements,
                }));
            }
            println!("{} {}", printable(&product), printable(&p.name));
            for task in Task::ALL {
                println!(
                    "  {:<12} {}",
                    task.name(),
                    printable(ws.catalog.label_name(p, task).unwrap_or("-"))
                );
            }
            if history.is_empty() {
                println!("no edits");
            }
            for edit in &history {
                let verdict = judgements.iter().find(|j| j.edit == edit.id);
                match verdict {
                    Some(j) => println!("{edit} [{j}]"),
                    None if change_review::reviewable(edit.source) => {
                        println!("{edit} [unreviewed]")
                    }
                    None => println!("{edit}"),
                }
            }
            Ok(())
        }
        LabelsCommand::Log { store, limit } => {
            let mut ws = store.open_read_only()?;
            let edits = ws.store.latest(limit)?;
            print_edits(&edits, store.json, "no edits")
        }
        LabelsCommand::Queue {
            store,
            by,
            task,
            source,
            limit,
            author,
        } => {
            if let Some(source) = source.filter(|s| !change_review::reviewable(*s)) {
                bail!(
                    "--source {source}: only human, bulk and accepted-prediction changes are reviewed"
                );
            }
            let mut ws = store.open_read_only()?;
            let filter = QueueFilter {
                author: by,
                task,
                source,
                limit: usize::try_from(limit).unwrap_or(usize::MAX),
            };
            let reviewer = ws.store.role().map_or_else(|| author.name(), String::from);
            let queue = ws.store.change_queue(&filter, &reviewer)?;
            if store.json {
                return print_json(&queue);
            }
            println!(
                "{} changes waiting for {}'s verdict{}",
                queue.total,
                printable(&reviewer),
                if queue.total > queue.changes.len() {
                    format!(" (the newest {} shown)", queue.changes.len())
                } else {
                    String::new()
                }
            );
            for edit in &queue.changes {
                println!("{edit}");
            }
            Ok(())
        }
        LabelsCommand::Push { store, to } => {
            let is_team = to.to_str().is_some_and(vitrine::labels::team::is_team);
            if !is_team {
                bail!(
                    "--to {}: push copies into a team store (a postgres:// address); to copy a \
                     team store into a file, use labels pull",
                    to.display()
                );
            }
            copy_journal(&store, &to)
        }
        LabelsCommand::Pull { store, to } => {
            let given = store
                .store
                .clone()
                .or_else(|| std::env::var_os(vitrine::labels::STORE_VARIABLE).map(PathBuf::from));
            let is_team = given
                .as_deref()
                .and_then(Path::to_str)
                .is_some_and(vitrine::labels::team::is_team);
            if !is_team {
                bail!("pull copies from a team store: give its postgres:// address as --store");
            }
            copy_journal(&store, &to)
        }
        LabelsCommand::Approve { judged } => judge(&judged, Verdict::Approved),
        LabelsCommand::Revert { judged } => judge(&judged, Verdict::Reverted),
        LabelsCommand::Export { store, out } => {
            let ws = store.open_read_only()?;
            let summary =
                vitrine::labels::export(&ws.catalog, &ws.import.source, ws.store.path(), &out)?;
            if store.json {
                return print_json(&summary);
            }
            println!(
                "{} products written to {}",
                summary.products,
                summary.manifest.display()
            );
            if let (Some(sidecar), Some(images)) = (&summary.sidecar, &summary.images_outside) {
                println!(
                    "image folder recorded in {}; it lies outside the export's folder, so \
                     open the export with --images {}",
                    sidecar.display(),
                    images.display()
                );
            }
            Ok(())
        }
    }
}

/// Largest edits file `labels apply` reads: far above any real list of edits, and small enough
/// to check whole in memory before anything is written.
const MAX_EDITS_BYTES: u64 = 256 << 20;

/// One row of an edits file.
#[derive(Debug, serde::Deserialize)]
struct EditRow {
    product_id: String,
    task: String,
    value: Option<String>,
    reason: Option<String>,
}

/// Refuses a record of an edits file with a field over several lines: an
/// edit is one line, so that is a quote left open swallowing the rows after it.
fn one_line(record: &csv::StringRecord) -> anyhow::Result<()> {
    let breaks = record
        .iter()
        .map(|f| f.matches('\n').count())
        .sum::<usize>();
    if breaks > 0 {
        // A quote left open to the end of the file holds the file's last line end too.
        let at_end = record.iter().next_back().is_some_and(|f| f.ends_with('\n'));
        let span = if at_end {
            "to the end of the file".to_string()
        } else {
            format!("over {} lines", breaks + 1)
        };
        bail!(
            "a quoted field opened on this line runs {span} (an unbalanced quote?); an edit is \
             one line: close the quote, nothing was applied"
        );
    }
    Ok(())
}

fn apply(
    store: &StoreArgs,
    file: &Path,
    batch: bool,
    new_class: bool,
    author: &AuthorArgs,
) -> anyhow::Result<()> {
    let (opened, len) = open_file(file)?;
    if len > MAX_EDITS_BYTES {
        bail!(
            "{}: {} MiB is more than an edits file may hold ({} MiB); split it",
            file.display(),
            len >> 20,
            MAX_EDITS_BYTES >> 20
        );
    }
    // Bounded also if the file grows while read. Flexible: a runaway quote changes the
    // number of fields, and is named as such before the count is checked.
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(opened.take(MAX_EDITS_BYTES));
    let at = |line: u64| format!("{}:{line}", file.display());
    // The whole file is read and checked before the store is opened, and every row against
    // the catalogue before anything is written, so a bad file changes nothing.
    let headers = reader
        .headers()
        // csv::Error shows its cause and also returns it as its source: format it once.
        .map_err(|e| anyhow::anyhow!("{}: cannot read the header: {e}", file.display()))?
        .clone();
    one_line(&headers).with_context(|| at(1))?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow::anyhow!("{}: {e}", at(line))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        one_line(&record).with_context(|| at(line))?;
        if record.len() != headers.len() {
            bail!(
                "{}: {} fields where the header has {}",
                at(line),
                record.len(),
                headers.len()
            );
        }
        let row: EditRow = record
            .deserialize(Some(&headers))
            .map_err(|e| anyhow::anyhow!("{}: {e}", at(line)))?;
        let task: Task = row.task.parse().with_context(|| at(line))?;
        rows.push((line, row, task));
    }
    let check = |ws: &Workspace| -> anyhow::Result<()> {
        for (line, row, task) in &rows {
            if ws.catalog.position(&row.product_id).is_none() {
                bail!("{}: no product '{}'", at(*line), excerpt(&row.product_id));
            }
            if let Some(value) = row.value.as_deref().filter(|v| !v.trim().is_empty()) {
                check_class(&ws.catalog, *task, value, new_class).with_context(|| at(*line))?;
            }
        }
        Ok(())
    };
    let mut ws = store.open_checked(check)?;
    let mut changes = Vec::new();
    let mut reasons = Vec::new();
    for (_, row, task) in rows {
        changes.push(Change {
            product: row.product_id,
            task,
            value: row.value,
        });
        reasons.push(row.reason);
    }
    let by = |reason: Option<String>| Attribution {
        author: author.name(),
        source: EditSource::Bulk,
        reason,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut report = |edit: &Edit| -> anyhow::Result<()> {
        // One line per durable edit, flushed, so a watcher knows exactly what was committed.
        if store.json {
            writeln!(out, "{}", serde_json::to_string(edit)?)?;
        } else {
            writeln!(out, "{edit}")?;
        }
        out.flush()?;
        Ok(())
    };
    let mut applied = 0usize;
    if batch {
        let changes: Vec<(Change, Option<String>)> = changes.into_iter().zip(reasons).collect();
        for edit in ws
            .store
            .set_many_with_reasons(&mut ws.catalog, &changes, &by(None))?
        {
            report(&edit)?;
            applied += 1;
        }
    } else {
        for (change, reason) in changes.into_iter().zip(reasons) {
            if let Some(edit) = ws.store.set(&mut ws.catalog, change, &by(reason))? {
                report(&edit)?;
                applied += 1;
            }
        }
    }
    eprintln!("{applied} labels changed");
    Ok(())
}
