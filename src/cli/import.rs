//! `vitrine import PATH`: check and summarise a catalogue.

use super::{CatalogArgs, print_json};
use clap::Args;
use vitrine::catalog::Task;
use vitrine::catalog::import::{ImportReport, check_images, import};

/// Arguments of `vitrine import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    catalog: CatalogArgs,
    /// Also decode every image to find corrupt or truncated files (slower).
    #[arg(long)]
    check_images: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let mut imported = import(&args.catalog.catalog, &args.catalog.options()?)?;
    if args.check_images {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let bad = check_images(&imported.catalog, threads);
        imported.report.notes.push(format!(
            "{} images decoded, {} could not be",
            imported.report.images,
            bad.len()
        ));
        imported.report.warnings_total += bad.len();
        imported.report.warnings.extend(bad);
    }
    if args.json {
        print_json(&imported.report)
    } else {
        print_report(&imported.report);
        Ok(())
    }
}

/// Human summary of an import.
pub fn print_report(r: &ImportReport) {
    println!("{} ({})", r.source.display(), r.format);
    println!("  rows read              {}", r.rows);
    println!("  products               {}", r.products);
    println!("  with images            {}", r.products_with_images);
    println!("  without images         {}", r.products_without_images);
    println!("  images                 {}", r.images);
    println!("  multi-image products   {}", r.multi_image_products);
    // A manifest opened by its bare file name has its images relative to the current folder.
    let root = if r.image_root.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        &r.image_root
    };
    println!("  image folder           {}", root.display());
    println!("  task          classes  labelled   column");
    for task in Task::ALL {
        let t = &r.tasks[&task];
        let column = r.columns.get(task.name()).map_or("-", String::as_str);
        println!(
            "  {:<12} {:>8} {:>9}   {column}",
            task.name(),
            t.classes,
            t.labelled
        );
    }
    if !r.taxonomy_issues.is_empty() {
        println!("  taxonomy issues ({}):", r.taxonomy_issues.len());
        for issue in &r.taxonomy_issues {
            let parents: Vec<String> = issue
                .parents
                .iter()
                .map(|(p, n)| format!("{p} ({n})"))
                .collect();
            println!(
                "    {} '{}' under {}",
                issue.task,
                issue.class,
                parents.join(", ")
            );
        }
    }
    for note in &r.notes {
        println!("  note: {note}");
    }
    if r.warnings_total > 0 {
        println!("  warnings ({}):", r.warnings_total);
        for w in r.warnings.iter().take(50) {
            println!("    {w}");
        }
        if r.warnings.len() > 50 {
            println!(
                "    ... {} more (use --json for all kept)",
                r.warnings.len() - 50
            );
        }
    }
}
