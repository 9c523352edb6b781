//! The marker segments of a progressive JPEG, in file order: what [`super::dc`] decodes and
//! [`super::progressive`] rewrites.

pub const SOI: u8 = 0xD8;
pub const EOI: u8 = 0xD9;
pub const SOF2: u8 = 0xC2;
pub const SOS: u8 = 0xDA;

/// One marker segment.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Its marker (the byte after `FF`).
    pub marker: u8,
    /// The segment as it stands in the file, from the marker to the end of its payload or, for
    /// a scan, of its entropy-coded data.
    pub bytes: &'a [u8],
    /// The payload after the length (empty for markers without one, RSTn and TEM).
    pub payload: &'a [u8],
    /// A scan's entropy-coded data (empty for other segments).
    pub data: &'a [u8],
}

/// Calls `visit` with each segment after SOI up to EOI (not included). `None` when the file is
/// not a progressive JPEG (no SOI, or a frame of another kind: baseline, extended, lossless,
/// arithmetic-coded), is malformed or truncated, or `visit` returns `None`.
pub fn walk<'a>(bytes: &'a [u8], mut visit: impl FnMut(Segment<'a>) -> Option<()>) -> Option<()> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return None;
    }
    let mut at = 2;
    loop {
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        let (end, payload, data) = match marker {
            // Fill bytes before a marker.
            0xFF => {
                at += 1;
                continue;
            }
            EOI => return Some(()),
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            // Markers without a length, outside entropy-coded data.
            0xD0..=0xD7 | 0x01 => (at + 2, &bytes[..0], &bytes[..0]),
            _ => {
                let length =
                    u16::from_be_bytes([*bytes.get(at + 2)?, *bytes.get(at + 3)?]) as usize;
                let end = at.checked_add(2 + length)?;
                let payload = bytes.get(at + 4..end)?;
                if marker == SOS {
                    let data_end = entropy_end(bytes, end)?;
                    (data_end, payload, &bytes[end..data_end])
                } else {
                    (end, payload, &bytes[..0])
                }
            }
        };
        visit(Segment {
            marker,
            bytes: &bytes[at..end],
            payload,
            data,
        })?;
        at = end;
    }
}

/// Where the entropy-coded data starting at `from` ends: the next marker that is neither a
/// stuffed `FF 00` nor a restart marker.
fn entropy_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        match *bytes.get(at + 1)? {
            0x00 | 0xD0..=0xD7 | 0xFF => at += 1,
            _ => return Some(at),
        }
    }
}
