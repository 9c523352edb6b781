//! Exact copies without a model: photos whose files are byte for byte the same, or whose
//! decoded pixels are (the same photo saved twice, re-encoded losslessly or with other
//! metadata). Two products showing the same photo are one product listed twice, or one of
//! them shows the wrong photo.

use crate::imaging::{decode_bytes, read_image_file};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A photo's file digest and pixel digest (SHA-256 of its bytes; of its size and RGBA pixels).
type Digests = ([u8; 32], [u8; 32]);

/// How two photos were found to be copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Copy {
    /// The files are the same bytes.
    SameFile,
    /// The files differ but decode to the same pixels.
    SamePixels,
}

/// One photo to compare: the product it belongs to and its file.
#[derive(Debug, Clone)]
pub struct Photo {
    /// The product (a catalogue position).
    pub product: u32,
    /// The image file.
    pub path: PathBuf,
}

/// A pair of products sharing a photo, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyPair {
    /// One product.
    pub a: u32,
    /// The other.
    pub b: u32,
    /// Same bytes or same pixels.
    pub how: Copy,
}

/// What the search for copies found.
#[derive(Debug, Clone, Default)]
pub struct Copies {
    /// Products that share a photo (each pair once, joined within a group of copies to its
    /// first member).
    pub pairs: Vec<CopyPair>,
    /// Photos that could not be read or decoded: file and reason (they are left out).
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Finds the products of `photos` that share a photo. `progress` is called with the photos
/// done and their total (from several threads). Setting `cancel` stops the search: the
/// photos not yet read are skipped and `None` comes back.
pub fn find_copies(
    photos: &[Photo],
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Option<Copies> {
    let done = AtomicUsize::new(0);
    let total = photos.len();
    // Each photo's file digest and pixel digest (dimensions and RGBA bytes).
    let digests: Vec<Result<Digests, String>> = photos
        .par_iter()
        .map(|photo| {
            if cancel.load(Ordering::Relaxed) {
                return Err(String::new());
            }
            let result = read_image_file(&photo.path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| {
                    let file: [u8; 32] = Sha256::digest(&bytes).into();
                    let image = decode_bytes(&bytes).map_err(|e| e.to_string())?.to_rgba8();
                    let mut pixels = Sha256::new();
                    pixels.update(image.width().to_le_bytes());
                    pixels.update(image.height().to_le_bytes());
                    pixels.update(image.as_raw());
                    Ok((file, pixels.finalize().into()))
                });
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            result
        })
        .collect();
    if cancel.load(Ordering::Relaxed) {
        return None;
    }
    let mut copies = Copies::default();
    let mut by_file: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
    let mut by_pixels: HashMap<[u8; 32], Vec<usize>> = HashMap::new();
    for (i, digest) in digests.into_iter().enumerate() {
        match digest {
            Ok((file, pixels)) => {
                by_file.entry(file).or_default().push(i);
                by_pixels.entry(pixels).or_default().push(i);
            }
            Err(reason) => copies.unreadable.push((photos[i].path.clone(), reason)),
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (groups, how) in [(by_file, Copy::SameFile), (by_pixels, Copy::SamePixels)] {
        let mut groups: Vec<Vec<usize>> = groups.into_values().filter(|g| g.len() > 1).collect();
        groups.sort();
        for group in groups {
            let first = photos[group[0]].product;
            for &i in &group[1..] {
                let other = photos[i].product;
                let pair = (first.min(other), first.max(other));
                if first != other && seen.insert(pair) {
                    copies.pairs.push(CopyPair {
                        a: pair.0,
                        b: pair.1,
                        how,
                    });
                }
            }
        }
    }
    Some(copies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(path: &std::path::Path, colour: [u8; 3], text: Option<&str>) {
        let image = image::RgbImage::from_pixel(4, 4, image::Rgb(colour));
        let mut bytes = Vec::new();
        image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        if let Some(text) = text {
            // A tEXt chunk before IEND: other bytes, the same pixels.
            let iend = bytes.len() - 12;
            let mut chunk = Vec::new();
            let data = [b"Comment\0".as_slice(), text.as_bytes()].concat();
            chunk.extend((data.len() as u32).to_be_bytes());
            let mut typed = b"tEXt".to_vec();
            typed.extend(&data);
            chunk.extend(&typed);
            chunk.extend(crc32(&typed).to_be_bytes());
            bytes.splice(iend..iend, chunk);
        }
        std::fs::write(path, bytes).unwrap();
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn same_bytes_and_same_pixels_are_found_and_a_broken_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name);
        png(&p("a.png"), [200, 0, 0], None);
        std::fs::copy(p("a.png"), p("a-copy.png")).unwrap();
        png(&p("b.png"), [0, 0, 200], None);
        png(&p("b-tagged.png"), [0, 0, 200], Some("exported again"));
        png(&p("c.png"), [0, 200, 0], None);
        std::fs::write(p("broken.png"), b"not a png").unwrap();
        let photo = |product, name: &str| Photo {
            product,
            path: p(name),
        };
        let photos = [
            photo(0, "a.png"),
            photo(1, "a-copy.png"),
            photo(2, "b.png"),
            photo(3, "b-tagged.png"),
            photo(4, "c.png"),
            // A product's two views being the same photo is no duplicate of another product.
            photo(4, "c.png"),
            photo(5, "broken.png"),
        ];
        let copies = find_copies(&photos, &|_, _| {}, &AtomicBool::new(false)).unwrap();
        assert_eq!(
            copies.pairs,
            vec![
                CopyPair {
                    a: 0,
                    b: 1,
                    how: Copy::SameFile
                },
                CopyPair {
                    a: 2,
                    b: 3,
                    how: Copy::SamePixels
                },
            ]
        );
        assert_eq!(copies.unreadable.len(), 1);
        assert!(copies.unreadable[0].0.ends_with("broken.png"));
        // Cancelled: nothing comes back.
        assert!(find_copies(&photos, &|_, _| {}, &AtomicBool::new(true)).is_none());
    }
}
