//! `vitrine decided RUN PRODUCT`: which of a product's photos decided each task of a
//! multi-image run's prediction (each photo left out of the max-pool in turn).

use clap::Args;
use std::path::PathBuf;
use vitrine::ml::saved::decided_run;

#[derive(Debug, Args)]
pub struct DecidedArgs {
    /// A multi-image run folder (its latest checkpoint).
    run: PathBuf,
    /// The product id.
    product: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: DecidedArgs) -> anyhow::Result<()> {
    let decision = decided_run(&args.run, &args.product)?;
    if args.json {
        return super::print_json(&decision);
    }
    println!(
        "{}: {} photos; each task's prediction, and its probability with each photo left out",
        decision.product_id,
        decision.photos.len()
    );
    for (i, photo) in decision.photos.iter().enumerate() {
        println!("  photo {}: {}", i + 1, photo.display());
    }
    for (task, d) in &decision.tasks {
        let without: Vec<String> = d
            .without
            .iter()
            .enumerate()
            .map(|(i, w)| format!("without {}: {w:.3}", i + 1))
            .collect();
        let decided = match d.decided_by {
            Some(j) if decision.photos.len() > 1 => format!("decided by photo {}", j + 1),
            _ if decision.photos.len() < 2 => "one photo".to_string(),
            _ => "no single photo holds it up".to_string(),
        };
        println!(
            "{:<12} {} {:.3}  {}  ({decided})",
            task.name(),
            d.class,
            d.probability,
            without.join(", ")
        );
    }
    Ok(())
}
