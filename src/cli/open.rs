//! `vitrine open PATH`: the moderator workspace on any catalogue; with no command, on the demo.

use super::CatalogArgs;
use clap::Args;
use std::path::PathBuf;
use vitrine::app::opening::OpenRequest;
use vitrine::app::{Start, run_native};
use vitrine::paths::data_dir;

/// Arguments of `vitrine open`.
#[derive(Debug, Args)]
pub struct OpenArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// The label store, when not the default location.
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
}

/// Opens the window on the catalogue.
pub fn run(args: OpenArgs) -> anyhow::Result<()> {
    // Checked here so a typo fails on the command line rather than in the window.
    args.catalog.options()?;
    let request = OpenRequest {
        source: args.catalog.source(),
        store: args.store,
    };
    window(Start::Open(request))
}

/// Opens the window on `start`.
pub fn window(start: Start) -> anyhow::Result<()> {
    run_native(start, data_dir()).map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}
