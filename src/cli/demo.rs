//! `vitrine demo --out DIR`, and the demo catalogue opened when no command is given.

use super::print_json;
use clap::Args;
use std::path::PathBuf;
use vitrine::catalog::demo::{DemoOptions, MAX_IMAGE_SIZE, MAX_PRODUCTS, MIN_IMAGE_SIZE, generate};

/// Arguments of `vitrine demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder to write the catalogue into (created if missing; a previous demo is replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of products (1 to 1,000,000).
    #[arg(
        long,
        default_value_t = DemoOptions::default().products as u64,
        value_parser = clap::value_parser!(u64).range(1..=MAX_PRODUCTS as u64)
    )]
    products: u64,
    /// Random seed: the same seed gives the same catalogue, byte for byte.
    #[arg(long, default_value_t = DemoOptions::default().seed)]
    seed: u64,
    /// Side of the square images, in pixels (32 to 4096).
    #[arg(
        long,
        default_value_t = DemoOptions::default().image_size,
        value_parser = clap::value_parser!(u32).range(MIN_IMAGE_SIZE as i64..=MAX_IMAGE_SIZE as i64)
    )]
    image_size: u32,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let options = DemoOptions {
        // Within MAX_PRODUCTS, which fits a usize.
        products: args.products as usize,
        seed: args.seed,
        image_size: args.image_size,
        ..DemoOptions::default()
    };
    let summary = generate(&args.out, &options, &|_, _| {})?;
    if args.json {
        print_json(&serde_json::json!({
            "products": summary.products,
            "images": summary.images,
            "wrong_labels": summary.wrong_labels,
            "manifest": summary.manifest,
            "answers": summary.answers,
        }))
    } else {
        println!(
            "demo catalogue: {} products, {} images, {} deliberately wrong labels\n  manifest {}\n  answers  {}",
            summary.products,
            summary.images,
            summary.wrong_labels,
            summary.manifest.display(),
            summary.answers.display()
        );
        Ok(())
    }
}

/// With no command: the workspace window on the demo catalogue, generated into the data
/// folder on first start (on a worker thread, with a progress bar).
pub fn open_default() -> anyhow::Result<()> {
    super::open::window(vitrine::app::Start::Demo)
}
