//! `vitrine open PATH`: the moderator workspace on any catalogue; with no command, on the demo.

use super::CatalogArgs;
use clap::Args;
use std::path::PathBuf;
use vitrine::app::cockpit::View;
use vitrine::app::command::{CockpitCommand, Command};
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, run_native};
use vitrine::paths::data_dir;

/// Arguments of `vitrine open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// The label store: a file, or a team store's postgres://[user@]host[:port]/database
    /// address (password from PGPASSWORD or ~/.pgpass). Default: $VITRINE_STORE, else the
    /// catalogue's file (beside it when its folder is writable, else in the data folder).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
    /// Show these predictions (a `predictions.jsonl`, or a run or audit folder) instead of
    /// the ones beside the catalogue.
    #[arg(long, value_name = "FILE")]
    predictions: Option<PathBuf>,
    /// The view shown first.
    #[arg(long, value_enum, default_value = "workspace")]
    view: ViewArg,
}

/// The window's views, as `--view` names them.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ViewArg {
    Workspace,
    Audit,
    Training,
    Duplicates,
    Map,
}

/// Opens the window on the catalogue.
pub fn run(args: OpenArgs) -> anyhow::Result<()> {
    // Checked here so a typo fails on the command line rather than in the window.
    args.catalog.options()?;
    let request = OpenRequest {
        source: args.catalog.source(),
        store: args.store,
    };
    let mut then = Vec::new();
    if let Some(path) = args.predictions {
        if !path.exists() {
            anyhow::bail!("--predictions {}: no such file or folder", path.display());
        }
        then.push(Command::LoadPredictions(path));
    }
    let view = match args.view {
        ViewArg::Workspace => View::Workspace,
        ViewArg::Audit => View::Audit,
        ViewArg::Training => View::Training,
        ViewArg::Duplicates => View::Duplicates,
        ViewArg::Map => View::Map,
    };
    if view != View::Workspace {
        then.push(Command::Cockpit(CockpitCommand::SetView(view)));
    }
    window(Start::OpenThen(request, then))
}

/// Opens the window on `start`.
pub fn window(start: Start) -> anyhow::Result<()> {
    run_native(start, data_dir()).map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
