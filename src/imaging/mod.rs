//! Image decoding for thumbnails, the product view and the training data, on worker threads.
//!
//! JPEGs are decoded at reduced size with `jpeg-decoder`'s DCT scaling (`Decoder::scale`:
//! 1/2, 1/4 or 1/8 of the size straight out of the inverse DCT, so a 1274x1580 Luma photo
//! becomes a 160x198 image without ever existing at full size), then resampled to fit. For
//! progressive JPEGs the scans the reduced inverse DCT does not read are not even
//! entropy-decoded: at 1/8 [`dc`] reads the DC scans alone, at 1/4 and 1/2 [`progressive`]
//! drops the scans of unread coefficients where that is exact. Other formats go through the
//! `image` crate at full size.
//! Thumbnails are also kept on disk, keyed by path, modification time, size and thumbnail
//! side, so a reopened catalogue shows them at once.
//!
//! The limits on what is read and decoded live here, once: every image file is read through
//! [`read_image_file`] (regular files only, at most [`MAX_FILE_BYTES`]), and every decode checks
//! the dimensions a header announces against [`MAX_SIDE`] and [`MAX_PIXELS`] before decoding, and
//! refuses to scale an image to more than [`MAX_SIDE`] a side. A hostile file (a FIFO, a link to
//! `/dev/zero`, a 1 x 50,000,000 PNG of 97 KB) thus gets a reason instead of a hang or an abort.

pub mod dc;
mod markers;
pub mod progressive;

use image::{DynamicImage, ImageDecoder, RgbaImage};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why an image has no pixels to show.
pub type DecodeError = String;

/// Largest image file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 256 << 20;
/// Longest side of an image decoded, and of an image scaled, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Most pixels of an image decoded (64 Mpx: 256 MiB as RGBA).
pub const MAX_PIXELS: u64 = 1 << 26;
/// Most bytes the `image` decoders may allocate for one image (16-bit RGBA at [`MAX_PIXELS`]).
const MAX_DECODER_ALLOC: u64 = MAX_PIXELS * 8;

/// Refuses an image whose header announces more than [`MAX_SIDE`] a side or [`MAX_PIXELS`].
pub fn check_dimensions(width: u32, height: u32) -> Result<(), DecodeError> {
    if width > MAX_SIDE || height > MAX_SIDE || width as u64 * height as u64 > MAX_PIXELS {
        return Err(format!(
            "image is {width}x{height} pixels, over the limit of {MAX_SIDE} pixels a side and \
             {} Mpx; not decoded",
            MAX_PIXELS >> 20
        ));
    }
    Ok(())
}

/// Most times an image trained on may be longer than wide (or wider than long): at the largest
/// training size (a 1,024 px crop, scaled first to a 1,170 px shorter side) a 14:1 image is
/// 16,380 px long, within [`MAX_SIDE`]. One limit for every training size, so the image check
/// of an import can tell what training will refuse.
pub const MAX_ASPECT: u32 = 14;

/// Refuses an image of `width` x `height` (as its file holds it) too elongated to train on:
/// more than [`MAX_ASPECT`] times longer one way than the other. Training and the image check
/// of an import both apply it.
pub fn check_trainable(width: u32, height: u32) -> Result<(), DecodeError> {
    let (long, short) = (width.max(height), width.min(height));
    if long as u64 > short.max(1) as u64 * MAX_ASPECT as u64 {
        return Err(format!(
            "image is {width}x{height} pixels: too elongated to scale for training (more than \
             {MAX_ASPECT} times longer one way than the other)"
        ));
    }
    Ok(())
}

/// What kind of file a non-regular file is, for messages.
fn file_kind(file_type: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Reads the image file at `path`: regular files only, checked before the open (opening a FIFO
/// blocks, a device reads without end), and at most [`MAX_FILE_BYTES`].
pub fn read_image_file(path: &Path) -> Result<Vec<u8>, DecodeError> {
    let cannot = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => "file missing".to_string(),
        _ => format!("cannot read: {e}"),
    };
    let refuse = |meta: &std::fs::Metadata| -> Result<(), DecodeError> {
        if !meta.is_file() {
            return Err(format!(
                "not a regular file ({}); not read",
                file_kind(meta.file_type())
            ));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "file larger than {} MiB ({} bytes); not read",
                MAX_FILE_BYTES >> 20,
                meta.len()
            ));
        }
        Ok(())
    };
    refuse(&std::fs::metadata(path).map_err(cannot)?)?;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    // Should the file be replaced by a FIFO after the check, the open still returns at once.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path).map_err(cannot)?;
    refuse(&file.metadata().map_err(cannot)?)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "file larger than {} MiB; not read",
            MAX_FILE_BYTES >> 20
        ));
    }
    if bytes.is_empty() {
        return Err("empty file".into());
    }
    Ok(bytes)
}

/// Decodes `bytes` with the `image` crate at full size, after checking the dimensions its
/// header announces.
pub fn decode_bytes(bytes: &[u8]) -> Result<DynamicImage, DecodeError> {
    let cannot = |e: image::ImageError| format!("cannot decode: {e}");
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot decode: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(cannot)?;
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    DynamicImage::from_decoder(decoder).map_err(cannot)
}

/// Decodes the image file at `path` at full size, within the limits.
pub fn decode_full(path: &Path) -> Result<DynamicImage, DecodeError> {
    decode_bytes(&read_image_file(path)?)
}

/// How much smaller than asked a picture to be drawn in a box may be decoded: at most 5%,
/// drawn that much enlarged (invisible), so that a photo 1/8 of whose size nearly fills a
/// thumbnail is decoded at 1/8 rather than 1/4.
const SLACK: f32 = 0.95;

/// Which side of a reduced decode must reach a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// The longer side (a picture fitted in a square box).
    Longest(u32),
    /// The shorter side (the training crops).
    Shortest(u32),
}

impl Reach {
    fn met_by(self, width: u32, height: u32) -> bool {
        match self {
            Reach::Longest(side) => width.max(height) >= side,
            Reach::Shortest(side) => width.min(height) >= side,
        }
    }
}

/// Decodes the image at `path` to fit in `max_side` x `max_side`, using DCT scaling for JPEGs
/// (the result's longer side may be up to 5% short of `max_side`).
pub fn decode_reduced(path: &Path, max_side: u32) -> Result<RgbaImage, DecodeError> {
    let reach = Reach::Longest((max_side as f32 * SLACK).ceil() as u32);
    Ok(fit(decode_at_least(path, reach)?.0, max_side))
}

/// Decodes the image at `path`: a JPEG at the smallest DCT scale that meets `reach`, other
/// formats at full size. Also returns the size the file holds.
fn decode_at_least(path: &Path, reach: Reach) -> Result<(RgbaImage, (u32, u32)), DecodeError> {
    let bytes = read_image_file(path)?;
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return decode_jpeg_scaled(&bytes, reach);
    }
    let image = decode_bytes(&bytes)?.to_rgba8();
    let size = image.dimensions();
    Ok((image, size))
}

/// Decodes the image file at `path` at full size within the limits, and refuses it if
/// training would ([`check_trainable`]): what the image check of an import does to every
/// image.
pub fn check_file(path: &Path) -> Result<(), DecodeError> {
    let image = decode_full(path)?;
    check_trainable(image.width(), image.height())
}

/// Decodes at full size with the `image` crate, then resizes: the baseline the benchmark
/// compares [`decode_reduced`] with.
pub fn decode_full_then_resize(path: &Path, max_side: u32) -> Result<RgbaImage, DecodeError> {
    Ok(fit(decode_full(path)?.to_rgba8(), max_side))
}

/// Decodes the image at `path` scaled (keeping its aspect) so that its shorter side is
/// `short_side` pixels, as RGB: the training pipeline's "aspect-preserving scale" before the
/// crop. JPEGs use DCT scaling down to the smallest size still at least `short_side` on both
/// sides; small images are enlarged. An image too elongated to train on ([`check_trainable`])
/// is refused, as is one whose longer side would exceed [`MAX_SIDE`].
pub fn decode_short_side(path: &Path, short_side: u32) -> Result<image::RgbImage, DecodeError> {
    let (image, (width, height)) = decode_at_least(path, Reach::Shortest(short_side))?;
    check_trainable(width, height)?;
    let (w, h) = image.dimensions();
    let scale = short_side as f64 / w.min(h).max(1) as f64;
    let longer = (w.max(h) as f64 * scale).round();
    if longer > MAX_SIDE as f64 || short_side > MAX_SIDE {
        return Err(format!(
            "image is {w}x{h} pixels: too elongated to scale its shorter side to {short_side} \
             pixels (the longer would be {longer} pixels, over the limit of {MAX_SIDE})"
        ));
    }
    let (nw, nh) = (
        ((w as f64 * scale).round() as u32).max(short_side),
        ((h as f64 * scale).round() as u32).max(short_side),
    );
    let rgb = image::DynamicImage::ImageRgba8(image).to_rgb8();
    if (nw, nh) == (w, h) {
        return Ok(rgb);
    }
    Ok(image::imageops::resize(
        &rgb,
        nw,
        nh,
        image::imageops::FilterType::Triangle,
    ))
}

/// The inverse DCT size (8 = full size, 4, 2, 1 = 1/8) of the smallest scale of a
/// `width` x `height` JPEG that meets `reach` (full size when none does).
fn idct_size(width: u16, height: u16, reach: Reach) -> usize {
    let scaled = |length: u16, idct: u32| (length as u32 * idct).div_ceil(8);
    [1, 2, 4]
        .into_iter()
        .find(|&idct| reach.met_by(scaled(width, idct), scaled(height, idct)))
        .unwrap_or(8) as usize
}

/// A JPEG decoded at the smallest DCT scale that meets `reach`, and the size the file holds.
fn decode_jpeg_scaled(bytes: &[u8], reach: Reach) -> Result<(RgbaImage, (u32, u32)), DecodeError> {
    let corrupt = |e: jpeg_decoder::Error| format!("corrupt JPEG: {e}");
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(corrupt)?;
    let info = decoder
        .info()
        .ok_or_else(|| "corrupt JPEG: no header".to_string())?;
    let size = (info.width as u32, info.height as u32);
    check_dimensions(size.0, size.1)?;
    let idct = idct_size(info.width, info.height, reach);
    if idct == 1
        && let Some(image) = dc::decode(bytes)
    {
        return Ok((image, size));
    }
    // Asking for exactly the size of that scale makes jpeg-decoder choose it.
    let scaled = |length: u16| ((length as u32 * idct as u32).div_ceil(8)) as u16;
    let (want_width, want_height) = (scaled(info.width), scaled(info.height));
    let kept = progressive::scans_for_idct(bytes, idct);
    if let Some(kept) = &kept {
        decoder = jpeg_decoder::Decoder::new(kept.as_slice());
    }
    let (width, height) = decoder.scale(want_width, want_height).map_err(corrupt)?;
    let pixels = decoder.decode().map_err(corrupt)?;
    let format = decoder
        .info()
        .ok_or_else(|| "corrupt JPEG: no header".to_string())?
        .pixel_format;
    let count = width as usize * height as usize;
    let mut rgba = Vec::with_capacity(count * 4);
    use jpeg_decoder::PixelFormat;
    match format {
        PixelFormat::RGB24 => pixels
            .chunks_exact(3)
            .for_each(|p| rgba.extend_from_slice(&[p[0], p[1], p[2], 255])),
        PixelFormat::L8 => pixels
            .iter()
            .for_each(|&l| rgba.extend_from_slice(&[l, l, l, 255])),
        // Big-endian 16-bit grey: the high byte is the 8-bit value.
        PixelFormat::L16 => pixels
            .chunks_exact(2)
            .for_each(|p| rgba.extend_from_slice(&[p[0], p[0], p[0], 255])),
        // jpeg-decoder hands out inverted (Adobe) CMYK.
        PixelFormat::CMYK32 => pixels.chunks_exact(4).for_each(|p| {
            let k = p[3] as u32;
            let channel = |c: u8| ((c as u32 * k) / 255) as u8;
            rgba.extend_from_slice(&[channel(p[0]), channel(p[1]), channel(p[2]), 255])
        }),
    }
    if rgba.len() != count * 4 {
        return Err("corrupt JPEG: truncated pixel data".into());
    }
    RgbaImage::from_raw(width as u32, height as u32, rgba)
        .map(|image| (image, size))
        .ok_or_else(|| "corrupt JPEG: bad dimensions".to_string())
}

/// Shrinks `image` to fit in `max_side` x `max_side` (never enlarges).
fn fit(image: RgbaImage, max_side: u32) -> RgbaImage {
    let (w, h) = image.dimensions();
    if w <= max_side && h <= max_side {
        return image;
    }
    let scale = max_side as f32 / w.max(h) as f32;
    let (nw, nh) = (
        ((w as f32 * scale).round() as u32).max(1),
        ((h as f32 * scale).round() as u32).max(1),
    );
    image::imageops::thumbnail(&image, nw, nh)
}

/// Where the thumbnail of `path` at `max_side` is cached under `cache_dir`: a hash of the
/// path, its modification time and size, so an edited photo gets a new thumbnail.
pub fn cache_file(cache_dir: &Path, path: &Path, max_side: u32) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut hash = Sha256::new();
    hash.update(path.to_string_lossy().as_bytes());
    hash.update(modified.as_nanos().to_le_bytes());
    hash.update(meta.len().to_le_bytes());
    hash.update(max_side.to_le_bytes());
    let digest = hash.finalize();
    let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Some(cache_dir.join(&name[..2]).join(format!("{name}.png")))
}

/// The first bytes of a decoded-photo cache file; then its width and height (u32, little
/// endian) and its RGB pixels, row by row.
const DECODED_MAGIC: &[u8; 8] = b"vtrgb\x00\x00\x01";

/// [`decode_short_side`] through the decoded-photo cache under `cache_dir`: the scaled photo
/// read from there when it holds it (written by an earlier decode, and keyed like the
/// thumbnails by the file's path, time, size and the side), else decoded and written there.
/// Reading one back takes a fraction of a decode (see `benches/training.rs`,
/// `pipeline-luma-224`); a damaged or stale entry is decoded again and replaced, and a failed
/// write only costs a decode next time.
pub fn decode_short_side_cached(
    path: &Path,
    short_side: u32,
    cache_dir: Option<&Path>,
) -> Result<image::RgbImage, DecodeError> {
    let cached = cache_dir
        .and_then(|dir| cache_file(dir, path, short_side))
        .map(|file| file.with_extension("rgb"));
    if let Some(image) = cached.as_deref().and_then(read_decoded) {
        return Ok(image);
    }
    let image = decode_short_side(path, short_side)?;
    if let Some(file) = cached {
        use std::io::Write;
        let _ = crate::atomic_file::write_atomically(
            &file,
            |e| e,
            |w| {
                w.write_all(DECODED_MAGIC)?;
                w.write_all(&image.width().to_le_bytes())?;
                w.write_all(&image.height().to_le_bytes())?;
                w.write_all(image.as_raw())
            },
        );
    }
    Ok(image)
}

/// Keeps the decoded-photo cache under `cache_dir` within `budget` bytes: when its files
/// weigh more, the oldest written are removed until they weigh at most nine tenths of it.
/// Returns the files removed. A file that cannot be read or removed is left as it is (the
/// cache is only ever a shortcut).
pub fn prune_decoded(cache_dir: &Path, budget: u64) -> usize {
    let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = Vec::new();
    let Ok(shards) = std::fs::read_dir(cache_dir) else {
        return 0;
    };
    for shard in shards.flatten() {
        let Ok(entries) = std::fs::read_dir(shard.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rgb")
                && let Ok(meta) = entry.metadata()
                && let Ok(written) = meta.modified()
            {
                files.push((written, meta.len(), path));
            }
        }
    }
    let mut total: u64 = files.iter().map(|(_, size, _)| size).sum();
    if total <= budget {
        return 0;
    }
    files.sort();
    let mut removed = 0;
    for (_, size, path) in files {
        if total <= budget / 10 * 9 {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= size;
            removed += 1;
        }
    }
    removed
}

/// A decoded-photo cache file's image, if the file is whole.
fn read_decoded(file: &Path) -> Option<image::RgbImage> {
    let bytes = std::fs::read(file).ok()?;
    let rest = bytes.strip_prefix(DECODED_MAGIC.as_slice())?;
    let (size, pixels) = rest.split_at_checked(8)?;
    let width = u32::from_le_bytes(size[..4].try_into().ok()?);
    let height = u32::from_le_bytes(size[4..].try_into().ok()?);
    if pixels.len() as u64 != u64::from(width) * u64::from(height) * 3 {
        return None;
    }
    image::RgbImage::from_raw(width, height, pixels.to_vec())
}

/// A thumbnail from the disk cache, through it, or decoded and then written to it.
pub fn thumbnail(
    path: &Path,
    max_side: u32,
    cache_dir: Option<&Path>,
) -> Result<RgbaImage, DecodeError> {
    let cached = cache_dir.and_then(|dir| cache_file(dir, path, max_side));
    if let Some(file) = &cached
        && let Ok(image) = decode_full(file)
    {
        return Ok(image.to_rgba8());
    }
    let image = decode_reduced(path, max_side)?;
    if let Some(file) = cached {
        // A failed cache write only costs a decode next time.
        let _ = crate::atomic_file::write_atomically(&file, image::ImageError::IoError, |w| {
            image.write_to(w, image::ImageFormat::Png)
        });
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(dir: &Path, w: u32, h: u32) -> PathBuf {
        let path = dir.join("photo.jpg");
        let image = RgbaImage::from_fn(w, h, |x, y| {
            image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
        });
        image::DynamicImage::ImageRgba8(image)
            .to_rgb8()
            .save(&path)
            .unwrap();
        path
    }

    #[test]
    fn reduced_decode_fits_and_matches_full_decode() {
        let dir = tempfile::tempdir().unwrap();
        let path = jpeg(dir.path(), 1274, 1580);
        let small = decode_reduced(&path, 256).unwrap();
        let full = decode_full_then_resize(&path, 256).unwrap();
        // 1/4 DCT scaling gives 319x395 first, so rounding may differ by a pixel.
        assert_eq!(small.height(), 256);
        assert!(small.width().abs_diff(full.width()) <= 1 && full.height() == 256);
        let mean_green = |i: &RgbaImage| {
            i.pixels().map(|p| p[1] as u64).sum::<u64>() / (i.width() * i.height()) as u64
        };
        let (a, b) = (mean_green(&small), mean_green(&full));
        assert!(a.abs_diff(b) <= 3, "same picture: mean green {a} vs {b}");
    }

    #[test]
    fn decoded_photos_are_kept_read_back_and_replaced_when_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = jpeg(dir.path(), 300, 200);
        let cache = dir.path().join("decoded");
        let fresh = decode_short_side(&path, 64).unwrap();
        assert_eq!(decode_short_side_cached(&path, 64, None).unwrap(), fresh);
        assert!(!cache.exists(), "no cache asked, none written");
        assert_eq!(
            decode_short_side_cached(&path, 64, Some(&cache)).unwrap(),
            fresh
        );
        let file = cache_file(&cache, &path, 64).unwrap().with_extension("rgb");
        assert_eq!(read_decoded(&file), Some(fresh.clone()), "written whole");
        // Read back without decoding: a different picture in the file is what comes back.
        let mut other = fresh.clone();
        other.put_pixel(0, 0, image::Rgb([1, 2, 3]));
        let mut bytes = DECODED_MAGIC.to_vec();
        bytes.extend(other.width().to_le_bytes());
        bytes.extend(other.height().to_le_bytes());
        bytes.extend(other.as_raw());
        std::fs::write(&file, &bytes).unwrap();
        assert_eq!(
            decode_short_side_cached(&path, 64, Some(&cache)).unwrap(),
            other
        );
        // A truncated file is decoded again and replaced.
        std::fs::write(&file, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(
            decode_short_side_cached(&path, 64, Some(&cache)).unwrap(),
            fresh
        );
        assert_eq!(read_decoded(&file), Some(fresh));
    }

    #[test]
    fn the_decoded_cache_keeps_within_its_budget_the_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("decoded");
        let start = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        for i in 0..10u64 {
            let file = cache
                .join(format!("{:02x}", i % 3))
                .join(format!("{i}.rgb"));
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, vec![0u8; 100]).unwrap();
            let f = std::fs::File::options().write(true).open(&file).unwrap();
            f.set_modified(start + std::time::Duration::from_secs(i))
                .unwrap();
        }
        assert_eq!(prune_decoded(&cache, 1000), 0, "within its budget");
        // Over a budget of 500 bytes: down to 450, the oldest written (0-5) go.
        assert_eq!(prune_decoded(&cache, 500), 6);
        let mut left: Vec<u64> = (0..10u64)
            .filter(|i| {
                cache
                    .join(format!("{:02x}", i % 3))
                    .join(format!("{i}.rgb"))
                    .exists()
            })
            .collect();
        left.sort();
        assert_eq!(left, vec![6, 7, 8, 9]);
        assert_eq!(prune_decoded(&dir.path().join("none"), 10), 0);
    }

    #[test]
    fn the_scale_meets_the_side_that_matters() {
        // A thumbnail fits the longer side in its box (5% short allowed): 160x198 for 200.
        assert_eq!(idct_size(1274, 1580, Reach::Longest(190)), 1);
        assert_eq!(idct_size(1274, 1580, Reach::Longest(256)), 2);
        // A training crop needs the shorter side: 1/8 (50x75) would be enlarged again.
        assert_eq!(idct_size(400, 600, Reach::Shortest(72)), 2);
        assert_eq!(idct_size(400, 600, Reach::Longest(72)), 1);
        assert_eq!(idct_size(100, 100, Reach::Shortest(400)), 8);
    }

    #[test]
    fn short_side_decode_keeps_the_aspect() {
        let dir = tempfile::tempdir().unwrap();
        let path = jpeg(dir.path(), 400, 600);
        let image = decode_short_side(&path, 72).unwrap();
        assert_eq!(image.dimensions(), (72, 108));
        let tiny = jpeg(dir.path(), 30, 20);
        assert_eq!(decode_short_side(&tiny, 40).unwrap().dimensions(), (60, 40));
    }

    #[test]
    fn missing_and_corrupt_files_give_reasons() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            decode_reduced(&dir.path().join("no.jpg"), 64).unwrap_err(),
            "file missing"
        );
        let bad = dir.path().join("bad.jpg");
        std::fs::write(&bad, [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]).unwrap();
        assert!(
            decode_reduced(&bad, 64)
                .unwrap_err()
                .starts_with("corrupt JPEG")
        );
        let empty = dir.path().join("empty.png");
        std::fs::write(&empty, []).unwrap();
        assert_eq!(decode_reduced(&empty, 64).unwrap_err(), "empty file");
    }

    #[test]
    fn disk_cache_is_written_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = jpeg(dir.path(), 300, 200);
        let cache = dir.path().join("thumbs");
        let first = thumbnail(&path, 64, Some(&cache)).unwrap();
        let file = cache_file(&cache, &path, 64).unwrap();
        assert!(file.is_file());
        let second = thumbnail(&path, 64, Some(&cache)).unwrap();
        assert_eq!(first, second);
        assert_ne!(cache_file(&cache, &path, 128), Some(file));
    }
}
