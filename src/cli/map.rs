//! `vitrine map RUN`: the 2-D t-SNE layout of a run's (or audit's) representation, printed as
//! a summary or, with `--json`, one point per product; `--out` also writes that JSON to a file.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use vitrine::atomic_file::write_atomically;
use vitrine::catalog::Task;
use vitrine::runs::predictions::Predictions;
use vitrine::similarity::map::{MapProgress, MapSettings, MapStage};
use vitrine::similarity::map_colours::colour_classes;
use vitrine::similarity::{Searcher, locate, map_file, map_picture};

#[derive(Debug, Args)]
pub struct MapArgs {
    /// A run folder, or an audit folder (its first finished fold's model).
    run: PathBuf,
    /// t-SNE's perplexity (lowered to a third of the products on a small catalogue).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f32,
    /// Optimisation epochs.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    epochs: u32,
    /// Seed of the initial layout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the map's JSON to this file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print the map as JSON (one point per product).
    #[arg(long)]
    json: bool,
    /// Lay out again even when the run folder holds a map for the same representation and
    /// settings.
    #[arg(long)]
    fresh: bool,
    /// Also draw the map as a PNG picture (1,600 pixels square) to this file.
    #[arg(long)]
    png: Option<PathBuf>,
    /// The task whose labels (as the run read them) colour the picture.
    #[arg(long, default_value = "colour")]
    colour_by: Task,
}

pub fn run(args: MapArgs) -> anyhow::Result<()> {
    if !(args.perplexity.is_finite() && args.perplexity >= 1.0) {
        anyhow::bail!(
            "--perplexity {}: give a number of at least 1",
            args.perplexity
        );
    }
    let source = locate(&args.run)?;
    let searcher = Searcher::open(&source, &mut |note| eprintln!("{note}"))?;
    let settings = MapSettings {
        perplexity: args.perplexity,
        epochs: args.epochs as usize,
        seed: args.seed,
        ..MapSettings::default()
    };
    let started = Instant::now();
    let mut last_stage = None;
    let mut report = |p: MapProgress| {
        if last_stage != Some(p.stage) || p.done == p.total {
            let what = match p.stage {
                MapStage::Neighbours => "neighbours",
                MapStage::Layout => "layout (epochs)",
            };
            eprintln!(
                "{what}: {} of {} ({:.1} s)",
                p.done,
                p.total,
                started.elapsed().as_secs_f32()
            );
            last_stage = Some(p.stage);
        }
    };
    let (map, origin) = map_file::load_or_compute(
        &source.folder,
        &searcher,
        &settings,
        &source.note,
        args.fresh,
        &mut report,
        &AtomicBool::new(false),
    )?
    .context("the map was cancelled")?;
    let file = source.folder.join(map_file::FILE);
    let how = match origin {
        map_file::Origin::Read => format!("read from {}", file.display()),
        map_file::Origin::Computed { why, saved } => match saved {
            Ok(()) => format!("laid out ({why}), saved as {}", file.display()),
            Err(e) => format!("laid out ({why}), not saved: {e}"),
        },
    };
    let value = map_file::to_json(
        &map,
        &settings,
        &source.note,
        &source.folder,
        searcher.vectors(),
    );
    if let Some(png) = &args.png {
        let path = source.folder.join("predictions.jsonl");
        let predictions = Predictions::read(&path).with_context(|| {
            format!(
                "{}: the picture is coloured by the labels the run read",
                path.display()
            )
        })?;
        let names: Vec<Option<&str>> = map
            .ids
            .iter()
            .map(|id| predictions.label_at_prediction(id, args.colour_by))
            .collect();
        let (colours, legend) = colour_classes(&names, args.colour_by == Task::Colour);
        let picture = map_picture::draw(&map.points, &colours, 1600, 1600, None);
        map_picture::write_png(png, &picture)?;
        // The picture has no words: its legend, largest classes first.
        eprintln!("{} by {}:", png.display(), args.colour_by);
        for entry in &legend {
            let [r, g, b] = entry.colour;
            eprintln!("  #{r:02x}{g:02x}{b:02x} {} {}", entry.name, entry.count);
        }
    }
    if let Some(out) = &args.out {
        write_atomically(
            out,
            |e| anyhow::anyhow!("{}: {e}", out.display()),
            |w| serde_json::to_writer(w, &value).with_context(|| out.display().to_string()),
        )?;
    }
    if args.json {
        return super::print_json(&value);
    }
    println!(
        "Map of {} products ({}; {}), perplexity {}, {} epochs, {:.1} s, {how}{}{}",
        map.ids.len(),
        source.note,
        map.neighbours,
        map.perplexity,
        map.epochs,
        started.elapsed().as_secs_f32(),
        args.png
            .as_ref()
            .map(|o| format!(", drawn to {}", o.display()))
            .unwrap_or_default(),
        args.out
            .as_ref()
            .map(|o| format!(", written to {}", o.display()))
            .unwrap_or_default()
    );
    Ok(())
}
