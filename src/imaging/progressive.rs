//! Scan selection for progressive JPEGs decoded at reduced size.
//!
//! A progressive JPEG sends its DCT coefficients in several scans: typically the DC
//! coefficients of every block first, then bands of AC coefficients (`Ss..=Se` in zigzag
//! order), each possibly in successive-approximation passes. A decoder asked for 1/8 of the
//! size only needs the DC coefficient of each block (the 1x1 inverse DCT is the block's mean),
//! for 1/4 only the top-left 2x2 coefficients, and so on; but `jpeg-decoder` still
//! Huffman-decodes every scan, and entropy decoding is most of the time at high qualities.
//!
//! [`scans_for_idct`] rewrites the file keeping its headers and only the scans that carry
//! coefficients the reduced inverse DCT reads; the decoder renders a progressive image that
//! ends early from what it has. The selection is exact: a scan is dropped only if none of its
//! coefficients are read, and a refinement scan (which cannot be parsed without every earlier
//! pass of its band) is never dropped while it refines a coefficient that is read; in that
//! case no rewrite is made. So the pixels are the same as decoding the whole file at that
//! scale. On the Luma photos (progressive, quality 91-99), 1/8 keeps about a quarter of the
//! bytes.

use super::markers::{self, EOI, SOF2, SOI, SOS};

/// Zigzag index -> natural (row-major) index of an 8x8 block.
const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// The zigzag indices (as a bit set) of the coefficients an `n` x `n` inverse DCT reads: the
/// top-left `n` x `n` corner of the block.
fn corner(n: usize) -> u64 {
    (0..64)
        .filter(|&k| {
            let natural = ZIGZAG[k] as usize;
            natural / 8 < n && natural % 8 < n
        })
        .fold(0, |set, k| set | 1 << k)
}

/// The zigzag indices `from..=to` as a bit set (empty when out of range).
fn band(from: usize, to: usize) -> u64 {
    (from..=to.min(63)).fold(0, |set, k| set | 1 << k)
}

/// A frame component: its identifier and sampling factors.
#[derive(Debug, Clone, Copy)]
struct Component {
    id: u8,
    horizontal: u8,
    vertical: u8,
}

/// The file rewritten to hold only the scans an inverse DCT of `idct` x `idct` per block
/// (8 = full size, 4 = 1/2, 2 = 1/4, 1 = 1/8) reads, followed by an end-of-image marker.
///
/// `None` when there is nothing to gain or the file is not one this can rewrite exactly: a
/// full-size decode, a baseline (sequential) JPEG, no scan to drop, a needed refinement scan
/// whose band also refines dropped coefficients, or a file it cannot parse (the decoder then
/// gets the original bytes and reports what is wrong with them).
pub fn scans_for_idct(bytes: &[u8], idct: usize) -> Option<Vec<u8>> {
    if !(1..8).contains(&idct) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let mut components: Vec<Component> = Vec::new();
    // Per component identifier: the coefficients whose scans were dropped.
    let mut dropped = [0u64; 256];
    let mut any_dropped = false;
    markers::walk(bytes, |segment| {
        match segment.marker {
            SOF2 => components = frame_components(segment.payload)?,
            SOS if components.is_empty() => return None,
            SOS if !keep_scan(segment.payload, &components, idct, &mut dropped)? => {
                any_dropped = true;
                return Some(());
            }
            _ => {}
        }
        out.extend_from_slice(segment.bytes);
        Some(())
    })?;
    if !any_dropped {
        return None;
    }
    out.extend_from_slice(&[0xFF, EOI]);
    Some(out)
}

/// The components of a start-of-frame segment.
fn frame_components(segment: &[u8]) -> Option<Vec<Component>> {
    let count = *segment.get(5)? as usize;
    (0..count)
        .map(|i| {
            let at = 6 + 3 * i;
            let sampling = *segment.get(at + 1)?;
            Some(Component {
                id: *segment.get(at)?,
                horizontal: (sampling >> 4).max(1),
                vertical: (sampling & 15).max(1),
            })
        })
        .collect()
}

/// Whether the scan whose header is `segment` carries coefficients the reduced inverse DCT
/// reads; records dropped bands in `dropped`. `None` when the scan cannot be dropped nor
/// decoded exactly.
fn keep_scan(
    segment: &[u8],
    components: &[Component],
    idct: usize,
    dropped: &mut [u64; 256],
) -> Option<bool> {
    let count = *segment.first()? as usize;
    let ids: Vec<u8> = (0..count)
        .map(|i| segment.get(1 + 2 * i).copied())
        .collect::<Option<_>>()?;
    let start = *segment.get(1 + 2 * count)? as usize;
    let stop = *segment.get(2 + 2 * count)? as usize;
    segment.get(3 + 2 * count)?;
    // DC scans are small and every scale reads the DC coefficient.
    if start == 0 {
        return Some(true);
    }
    // An AC scan has exactly one component.
    let [id] = ids[..] else { return None };
    let component = components.iter().find(|c| c.id == id)?;
    let h_max = components.iter().map(|c| c.horizontal).max()?;
    let v_max = components.iter().map(|c| c.vertical).max()?;
    // A subsampled component's block spans more output pixels, so it needs a larger corner.
    let factor = (h_max / component.horizontal).max(v_max / component.vertical) as usize;
    let read = corner((idct * factor).min(8));
    let coefficients = band(start, stop);
    let needed = coefficients & read != 0;
    let broken = dropped[id as usize] & coefficients != 0;
    if needed {
        // A band already dropped in part cannot be parsed (refinement) or is malformed.
        return if broken { None } else { Some(true) };
    }
    dropped[id as usize] |= coefficients;
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// A progressive JPEG of a textured picture.
    fn progressive(w: u16, h: u16, sampling: SamplingFactor, restart: u16) -> Vec<u8> {
        let mut pixels = Vec::with_capacity(w as usize * h as usize * 3);
        for y in 0..h as u32 {
            for x in 0..w as u32 {
                let r = ((x * 7 + y * 3) % 256) as u8;
                let g = (((x / 5) ^ (y / 3)) * 13 % 256) as u8;
                let b = ((x * y / 17) % 256) as u8;
                pixels.extend_from_slice(&[r, g, b]);
            }
        }
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes, 95);
        encoder.set_progressive(true);
        encoder.set_sampling_factor(sampling);
        encoder.set_restart_interval(restart);
        encoder
            .encode(&pixels, w, h, ColorType::Rgb)
            .expect("encodes");
        bytes
    }

    fn decode(bytes: &[u8], side: u16) -> (Vec<u8>, (u16, u16)) {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        let size = decoder.scale(side, side).expect("header");
        (decoder.decode().expect("decodes"), size)
    }

    #[test]
    fn the_corner_of_each_scale() {
        assert_eq!(corner(1), 1);
        // (0,0), (0,1), (1,0), (1,1) are zigzag 0, 1, 2 and 4.
        assert_eq!(corner(2), 0b10111);
        assert_eq!(corner(4).count_ones(), 16);
        assert_eq!(corner(8), u64::MAX);
    }

    #[test]
    fn reduced_decodes_are_pixel_identical_with_fewer_bytes() {
        for (sampling, restart) in [
            (SamplingFactor::F_1_1, 0),
            (SamplingFactor::F_2_2, 0),
            (SamplingFactor::F_2_1, 3),
        ] {
            let bytes = progressive(203, 161, sampling, restart);
            // 1/8 and 1/4: the scales that drop bands of this encoder's scan script.
            for (idct, side) in [(1, 26), (2, 51)] {
                let kept = scans_for_idct(&bytes, idct)
                    .unwrap_or_else(|| panic!("{sampling:?} at {idct}/8 drops a scan"));
                assert!(kept.len() < bytes.len(), "{} < {}", kept.len(), bytes.len());
                assert_eq!(
                    decode(&kept, side),
                    decode(&bytes, side),
                    "{sampling:?} restart {restart} at {idct}/8"
                );
            }
        }
    }

    #[test]
    fn files_it_cannot_rewrite_are_left_alone() {
        let bytes = progressive(64, 48, SamplingFactor::F_1_1, 0);
        assert_eq!(scans_for_idct(&bytes, 8), None, "full size");
        let mut baseline = Vec::new();
        Encoder::new(&mut baseline, 90)
            .encode(&[128; 64 * 48 * 3], 64, 48, ColorType::Rgb)
            .expect("encodes");
        assert_eq!(scans_for_idct(&baseline, 1), None, "baseline");
        assert_eq!(scans_for_idct(b"not a jpeg", 1), None);
        // Every truncation parses without panicking.
        for cut in 0..bytes.len() {
            let _ = scans_for_idct(&bytes[..cut], 1);
        }
    }

    #[test]
    fn a_refinement_that_needs_dropped_coefficients_stops_the_rewrite() {
        let components = [Component {
            id: 1,
            horizontal: 1,
            vertical: 1,
        }];
        let mut dropped = [0u64; 256];
        // Y 6..=63 first pass (not read at 1/4) is dropped...
        let first = [1, 1, 0, 6, 63, 0x01];
        assert_eq!(keep_scan(&first, &components, 2, &mut dropped), Some(false));
        // ...so refining 1..=63 (which 1/4 reads) cannot be parsed: no rewrite.
        let refine = [1, 1, 0, 1, 63, 0x10];
        assert_eq!(keep_scan(&refine, &components, 2, &mut dropped), None);
        // A refinement of dropped coefficients only is dropped too.
        let refine_high = [1, 1, 0, 6, 63, 0x10];
        assert_eq!(
            keep_scan(&refine_high, &components, 2, &mut dropped),
            Some(false)
        );
    }
}
