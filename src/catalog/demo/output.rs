//! The files of a demo catalogue: the output folder and its guard, JPEG images and the
//! manifest.

use super::DemoError;
use image::codecs::jpeg::JpegEncoder;
use image::error::{ImageError, ParameterError, ParameterErrorKind};
use image::{DynamicImage, ExtendedColorType, RgbImage, RgbaImage};
use serde::Serialize;
use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tiny_skia::Pixmap;

/// Name of the manifest in the output folder.
pub const MANIFEST: &str = "manifest.csv";
/// Name of the answer file in the output folder.
pub const ANSWERS: &str = "answers.csv";
/// Name of the image folder in the output folder.
pub const IMAGES: &str = "images";
/// JPEG quality: high enough that compression does not shift the colours a model learns.
const JPEG_QUALITY: u8 = 90;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DemoError + '_ {
    move |reason| DemoError::Io {
        path: path.to_path_buf(),
        reason,
    }
}

/// Creates `out` and its image folder. Returns whether `out` already holds a demo catalogue
/// (a manifest with an answer file beside it), which may be overwritten; a manifest without
/// answers is somebody's real catalogue and is refused.
pub fn prepare(out: &Path) -> Result<bool, DemoError> {
    let manifest = out.join(MANIFEST);
    let previous = manifest.try_exists().map_err(io_error(&manifest))?;
    if previous {
        let answers = out.join(ANSWERS);
        if !answers.try_exists().map_err(io_error(&answers))? {
            return Err(DemoError::NotADemo(manifest));
        }
    }
    let images = out.join(IMAGES);
    std::fs::create_dir_all(&images).map_err(io_error(&images))?;
    Ok(previous)
}

/// The pixels of an opaque pixmap as an RGB image. The backdrop covers the whole frame, so
/// tiny-skia's premultiplied RGBA is plain RGBA. The conversion is left to `image`, whose
/// non-generic code is optimised even in debug builds; a pixel loop here is not.
fn to_rgb(pixmap: &Pixmap) -> Result<RgbImage, ImageError> {
    let rgba = RgbaImage::from_raw(pixmap.width(), pixmap.height(), pixmap.data().to_vec())
        .ok_or_else(|| {
            ImageError::Parameter(ParameterError::from_kind(
                ParameterErrorKind::DimensionMismatch,
            ))
        })?;
    Ok(DynamicImage::ImageRgba8(rgba).into_rgb8())
}

/// Writes `pixmap` as an RGB JPEG.
pub fn write_jpeg(path: &Path, pixmap: &Pixmap) -> Result<(), DemoError> {
    let encode_error = |reason| DemoError::Encode {
        path: path.to_path_buf(),
        reason,
    };
    let rgb = to_rgb(pixmap).map_err(encode_error)?;
    let file = std::fs::File::create(path).map_err(io_error(path))?;
    let mut writer = BufWriter::new(file);
    JpegEncoder::new_with_quality(&mut writer, JPEG_QUALITY)
        .encode(&rgb, rgb.width(), rgb.height(), ExtendedColorType::Rgb8)
        .map_err(encode_error)?;
    writer.flush().map_err(io_error(path))
}

/// One row of the manifest, in column order.
#[derive(Debug, Serialize)]
pub struct ManifestRow {
    /// Product id.
    pub product_id: String,
    /// Display name.
    pub name: String,
    /// `|`-separated image paths relative to the output folder.
    pub images: String,
    /// `|`-separated view tags, one per image.
    pub views: String,
    /// Gender label.
    pub gender: &'static str,
    /// Colour label.
    pub colour: &'static str,
    /// Type label.
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// Category label.
    pub category: &'static str,
    /// Subcategory label.
    pub subcategory: &'static str,
    /// Surface pattern, an attribute for the importer.
    pub pattern: &'static str,
}

/// Writes the manifest; the header comes from the row's field names.
pub fn write_manifest(path: &Path, rows: &[ManifestRow]) -> Result<(), DemoError> {
    let csv_error = |reason| DemoError::Csv {
        path: path.to_path_buf(),
        reason,
    };
    let mut writer = csv::Writer::from_path(path).map_err(csv_error)?;
    for row in rows {
        writer.serialize(row).map_err(csv_error)?;
    }
    writer.flush().map_err(io_error(path))
}

/// Whether `name` is an image name the generator writes (`p0042_front.jpg`).
fn is_demo_image(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".jpg") else {
        return false;
    };
    let Some((id, view)) = stem.split_once('_') else {
        return false;
    };
    id.strip_prefix('p')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && !view.is_empty()
        && view.bytes().all(|b| b.is_ascii_lowercase())
}

/// Removes the images of a previous, larger demo that the new one does not use, so the
/// folder matches its manifest. Only files named like demo images are touched.
pub fn remove_stale_images(images: &Path, keep: &HashSet<PathBuf>) -> Result<(), DemoError> {
    let entries = std::fs::read_dir(images).map_err(io_error(images))?;
    for entry in entries {
        let entry = entry.map_err(io_error(images))?;
        let path = entry.path();
        let demo = entry.file_name().to_str().is_some_and(is_demo_image);
        if demo && !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_demo_image_names_are_recognised() {
        assert!(is_demo_image("p0042_front.jpg"));
        assert!(is_demo_image("p12345_detail.jpg"));
        for name in [
            "photo.jpg",
            "p_front.jpg",
            "p0042.jpg",
            "p0042_front.png",
            "x0042_a.jpg",
        ] {
            assert!(!is_demo_image(name), "{name}");
        }
    }

    #[test]
    fn a_real_catalogue_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!prepare(dir.path()).unwrap());
        assert!(dir.path().join(IMAGES).is_dir());
        std::fs::write(dir.path().join(MANIFEST), "product_id\n").unwrap();
        assert!(matches!(prepare(dir.path()), Err(DemoError::NotADemo(_))));
        std::fs::write(dir.path().join(ANSWERS), "").unwrap();
        assert!(prepare(dir.path()).unwrap());
    }
}
