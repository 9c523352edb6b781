//! Generating a demo catalogue and importing it with the manifest importer.

use std::collections::HashSet;
use vitrine::catalog::Task;
use vitrine::catalog::demo::{DemoError, DemoOptions, generate, read_answers};
use vitrine::catalog::import::{Format, ImportOptions, check_images, import};

#[test]
fn a_generated_demo_imports_cleanly_with_its_wrong_labels() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        products: 60,
        ..DemoOptions::default()
    };
    let summary = generate(dir.path(), &options, &|_, _| {}).unwrap();
    assert_eq!(summary.products, 60);
    assert_eq!(summary.manifest, dir.path().join("manifest.csv"));

    let imported = import(dir.path(), &ImportOptions::default()).unwrap();
    let report = &imported.report;
    assert_eq!(report.format, Format::ManifestCsv);
    assert_eq!(report.products, 60);
    assert!(report.warnings.is_empty(), "{:#?}", report.warnings);
    assert_eq!(report.warnings_total, 0);
    assert_eq!(report.products_with_images, 60);
    assert_eq!(report.images, summary.images);
    assert!(report.multi_image_products > 0);
    assert!(
        report.taxonomy_issues.is_empty(),
        "{:#?}",
        report.taxonomy_issues
    );
    for task in Task::ALL {
        assert_eq!(report.tasks[&task].labelled, 60, "{task}");
    }
    assert!(report.tasks[&Task::Colour].classes >= 8);
    assert!(report.tasks[&Task::Subcategory].classes >= 10);

    let catalog = &imported.catalog;
    for product in catalog.products() {
        assert_eq!(
            product.images[0].view.as_deref(),
            Some("front"),
            "{}",
            product.id
        );
        assert!(product.images.len() <= 5);
        assert!(catalog.attribute(product, "pattern").is_some());
    }
    assert!(check_images(catalog, 4).is_empty());

    // 4 % of 60 products are mislabelled; the manifest carries the given label.
    let answers = read_answers(&summary.answers).unwrap();
    assert_eq!(answers.len(), summary.wrong_labels);
    let mislabelled: HashSet<&str> = answers.iter().map(|a| a.product_id.as_str()).collect();
    assert_eq!(mislabelled.len(), 2);
    for answer in &answers {
        let product = catalog.product(&answer.product_id).unwrap();
        let given = catalog.label_name(product, answer.task);
        assert_eq!(given, Some(answer.given.as_str()));
        assert_ne!(answer.given, answer.truth);
    }
}

#[test]
fn a_real_catalogue_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    std::fs::write(&manifest, "product_id,images\nmine,a.jpg\n").unwrap();
    let options = DemoOptions {
        products: 3,
        ..DemoOptions::default()
    };
    let error = generate(dir.path(), &options, &|_, _| {}).unwrap_err();
    assert!(matches!(error, DemoError::NotADemo(_)), "{error}");
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        "product_id,images\nmine,a.jpg\n"
    );
}

#[test]
fn three_hundred_products_generate_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let summary = generate(dir.path(), &DemoOptions::default(), &|_, _| {}).unwrap();
    let elapsed = start.elapsed();
    assert_eq!(summary.products, 300);
    eprintln!("300 products, {} images in {elapsed:.2?}", summary.images);
}
