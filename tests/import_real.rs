//! The three importers, and the reduced JPEG decoding, on the real catalogues in ../shared/data.

mod common;

use vitrine::catalog::Task;
use vitrine::catalog::import::{ColumnMap, Format, ImportOptions, import};

#[test]
fn kaggle_styles_csv_reads_every_row_and_indexes_images() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let folder = data.join("myntra-fpi");
    let imported = import(&folder, &ImportOptions::default()).unwrap();
    let r = &imported.report;
    assert_eq!(r.format, Format::Kaggle);
    assert_eq!(r.rows, 44_446);
    assert_eq!(
        r.products, 44_446,
        "every row is a product, with or without image"
    );
    assert_eq!(r.products_with_images, 8_000);
    assert_eq!(r.products_without_images, 36_446);
    assert_eq!(r.images, 8_000);
    assert_eq!(r.multi_image_products, 0);
    // The 22 rows with unquoted commas in the name are repaired, each with its line.
    let joined: Vec<_> = r
        .warnings
        .iter()
        .filter(|w| w.message.contains("unquoted commas"))
        .collect();
    assert_eq!(joined.len(), 22);
    assert!(joined.iter().all(|w| w.line.is_some()));
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("36446 rows have no image")),
        "{:?}",
        r.notes
    );
    // Literal NA is not a class.
    assert!(
        imported
            .catalog
            .vocabulary(Task::Colour)
            .get("NA")
            .is_none()
    );
    assert_eq!(r.tasks[&Task::Type].classes, 7);
    assert_eq!(r.tasks[&Task::Gender].classes, 5);
    assert!(
        !r.taxonomy_issues.is_empty(),
        "a few articleTypes sit under two parents"
    );
    // A repaired row keeps its labels and its whole name.
    let c = &imported.catalog;
    let repaired_line = joined[0].line.unwrap();
    let product = c
        .products()
        .iter()
        .find(|p| p.name.contains(','))
        .expect("a name with a comma");
    assert!(
        c.label_name(product, Task::Subcategory).is_some(),
        "line {repaired_line}"
    );
    assert!(
        imported
            .catalog
            .attribute(&c.products()[0], "season")
            .is_some()
    );
}

#[test]
fn luma_manifest_has_multi_view_products() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let manifest = data.join("magento-luma/manifest_colourways.csv");
    let imported = import(&manifest, &ImportOptions::default()).unwrap();
    let r = &imported.report;
    assert_eq!(r.format, Format::ManifestCsv);
    assert_eq!(r.products, 420);
    assert_eq!(r.images, 673);
    assert_eq!(r.multi_image_products, 148);
    assert_eq!(r.warnings_total, 0, "{:#?}", r.warnings);
    assert_eq!(r.columns["product_id"], "group_id");
    assert_eq!(r.tasks[&Task::Colour].classes, 11);
    assert_eq!(r.tasks[&Task::Type].labelled, 0, "no type column in Luma");
    let c = &imported.catalog;
    let gray = c.product("MH01-Gray").unwrap();
    assert_eq!(gray.images.len(), 3);
    assert_eq!(gray.images[1].view.as_deref(), Some("back"));
    assert!(c.image_path(&gray.images[0]).is_file());
    assert_eq!(c.attribute(gray, "style_sku"), Some("MH01"));
}

#[test]
fn luma_manifest_with_explicit_mapping() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let manifest = data.join("magento-luma/manifest_colourways.csv");
    let options = ImportOptions {
        columns: ColumnMap::parse(&[
            "product_id=group_id",
            "type=category",
            "category=subcategory",
        ])
        .unwrap(),
        image_root: None,
        progress: None,
    };
    let imported = import(&manifest, &options).unwrap();
    assert_eq!(
        imported.report.tasks[&Task::Type].classes,
        2,
        "Tops and Bottoms"
    );
}

#[test]
fn magento_export_groups_simple_skus_by_parent_and_colour() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let csv = data.join("magento-luma/catalog/ConfigurableSampleData__products.csv");
    let imported = import(&csv, &ImportOptions::default()).unwrap();
    let r = &imported.report;
    assert_eq!(r.format, Format::Magento);
    assert_eq!(r.rows, 1994);
    assert_eq!(r.products, 417, "147 styles in 417 colourways");
    assert_eq!(r.images, 668);
    assert_eq!(r.multi_image_products, 146);
    let c = &imported.catalog;
    let gray = c.product("MH01-Gray").unwrap();
    assert_eq!(c.label_name(gray, Task::Gender), Some("Men"));
    assert_eq!(c.label_name(gray, Task::Category), Some("Tops"));
    assert_eq!(
        c.label_name(gray, Task::Subcategory),
        Some("Hoodies & Sweatshirts")
    );
    assert_eq!(c.label_name(gray, Task::Colour), Some("Gray"));
    assert_eq!(gray.images.len(), 3);
    assert_eq!(c.attribute(gray, "sizes"), Some("XS|S|M|L|XL"));
    assert!(c.image_path(&gray.images[0]).is_file());
    assert_eq!(r.tasks[&Task::Colour].classes, 11);
}

/// The Luma photos are progressive JPEGs: at 1/8 scale only their DC scans are decoded, with
/// the same pixels as decoding every scan (within a level: jpeg-decoder's SIMD colour
/// conversion), from about a quarter of the bytes.
#[test]
fn luma_thumbnails_decode_identically_from_the_dc_scans() {
    use vitrine::imaging::progressive::scans_for_idct;
    let Some(data) = common::shared_data() else {
        return;
    };
    let images = data.join("magento-luma/images");
    let mut photos: Vec<_> = walk(&images)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    photos.sort();
    assert!(photos.len() > 700, "{} photos", photos.len());
    let decode = |bytes: &[u8]| {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        decoder.read_info().unwrap();
        let info = decoder.info().unwrap();
        let size = decoder
            .scale(info.width.div_ceil(8), info.height.div_ceil(8))
            .unwrap();
        (decoder.decode().unwrap(), size)
    };
    let (mut total, mut kept_total) = (0, 0);
    for photo in photos.iter().step_by(10) {
        let bytes = std::fs::read(photo).unwrap();
        let kept =
            scans_for_idct(&bytes, 1).unwrap_or_else(|| panic!("{} is rewritten", photo.display()));
        let (pixels, (width, height)) = decode(&bytes);
        assert_eq!(decode(&kept).0, pixels, "{}", photo.display());
        let dc = vitrine::imaging::dc::decode(&bytes)
            .unwrap_or_else(|| panic!("{} has DC scans", photo.display()));
        assert_eq!(dc.dimensions(), (width as u32, height as u32));
        let rgb = dc.pixels().flat_map(|p| [p[0], p[1], p[2]]);
        let largest = rgb.zip(&pixels).map(|(a, b)| a.abs_diff(*b)).max();
        assert!(largest <= Some(1), "{}: {largest:?}", photo.display());
        total += bytes.len();
        kept_total += kept.len();
    }
    assert!(kept_total * 2 < total, "kept {kept_total} of {total} bytes");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flat_map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

#[test]
fn without_the_real_data_a_test_is_skipped_except_under_ci() {
    if std::env::var_os("VITRINE_REAL_DATA_PROBE").is_some() {
        return; // the child run below
    }
    let me = std::env::current_exe().unwrap();
    let run = |ci: Option<&str>| {
        let mut child = std::process::Command::new(&me);
        child
            .args(["--exact", "luma_manifest_has_multi_view_products"])
            .env("VITRINE_REAL_DATA", "/nonexistent/real-data")
            .env("VITRINE_REAL_DATA_PROBE", "1")
            .env_remove("CI");
        if let Some(ci) = ci {
            child.env("CI", ci);
        }
        child.output().unwrap()
    };
    let skipped = run(None);
    let stderr = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{stderr}");
    assert!(
        stderr.contains("skipped test luma_manifest_has_multi_view_products")
            && stderr.contains("/nonexistent/real-data")
            && stderr.contains("VITRINE_REAL_DATA"),
        "{stderr}"
    );
    let under_ci = run(Some("true"));
    assert!(!under_ci.status.success(), "CI must fail without the data");
    assert!(
        String::from_utf8_lossy(&under_ci.stdout).contains("CI must run the real-data tests"),
        "{}",
        String::from_utf8_lossy(&under_ci.stdout)
    );
}
