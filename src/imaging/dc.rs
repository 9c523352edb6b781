//! A progressive JPEG at 1/8 of its size, from its DC scans alone.
//!
//! At 1/8 scale each 8x8 block becomes one pixel, the block's mean: its DC coefficient. A
//! progressive JPEG sends every block's DC coefficient in the first scan(s), a small part of
//! the file (about a sixth of a Luma photo), so a thumbnail needs only those. `jpeg-decoder`
//! can decode at 1/8 (`Decoder::scale`) but allocates, zeroes and copies the coefficients of
//! the whole image first (12 MB for a 1274x1580 photo), which costs more than the decoding
//! (page faults and copies are most of its profile); this reads the DC scans straight into one
//! number per block.
//!
//! The pixels follow `jpeg-decoder`'s arithmetic (the 1x1 inverse DCT, its fixed-point
//! YCbCr->RGB) so full-resolution-chroma photos come out identical; subsampled chroma is
//! repeated (nearest) where `jpeg-decoder` interpolates. [`decode`] returns `None` for anything
//! else (baseline or arithmetic-coded files, 12-bit samples, CMYK, a malformed or truncated
//! stream) and the caller decodes with `jpeg-decoder`, which also reports what is wrong.

use super::markers::{self, SOF2, SOS};
use image::RgbaImage;

const DHT: u8 = 0xC4;
const DQT: u8 = 0xDB;
const DRI: u8 = 0xDD;
const APP0: u8 = 0xE0;
const APP14: u8 = 0xEE;

/// Most blocks (DC values kept) a file may have: 64 MB of them.
const MAX_BLOCKS: usize = 1 << 24;

/// Bits looked up at once when decoding a Huffman code.
const LOOKUP_BITS: u32 = 9;

/// The image at 1/8 of its size (`ceil(width / 8)` x `ceil(height / 8)`), or `None` when this
/// file needs the general decoder.
pub fn decode(bytes: &[u8]) -> Option<RgbaImage> {
    let mut reader = Reader::default();
    reader.read(bytes)?;
    reader.image()
}

/// One component of the frame, and the DC coefficient of each of its blocks.
#[derive(Debug, Clone)]
struct Component {
    id: u8,
    horizontal: usize,
    vertical: usize,
    quantization: usize,
    /// Blocks per row as stored: whole MCUs, so interleaved scans never fall outside.
    stride: usize,
    /// Blocks holding image data (non-interleaved scans cover only these).
    blocks_x: usize,
    blocks_y: usize,
    /// The DC coefficient of each block, `stride` per row.
    dc: Vec<i32>,
    /// Whether a first DC scan has covered this component.
    seen: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Colour {
    Grey,
    YCbCr,
    Rgb,
}

/// The state of one pass over the file.
#[derive(Default)]
struct Reader {
    width: usize,
    height: usize,
    components: Vec<Component>,
    h_max: usize,
    v_max: usize,
    /// The DC value of each quantization table (the first of its 64).
    quantization: [Option<i32>; 4],
    /// DC Huffman tables.
    tables: [Option<Huffman>; 4],
    restart_interval: usize,
    jfif: bool,
    adobe_transform: Option<u8>,
}

impl Reader {
    /// Walks the markers, decoding the DC scans and skipping the others.
    fn read(&mut self, bytes: &[u8]) -> Option<()> {
        markers::walk(bytes, |segment| {
            let payload = segment.payload;
            match segment.marker {
                SOF2 => self.frame(payload),
                DHT => self.huffman(payload),
                DQT => self.quantization(payload),
                DRI => {
                    let interval = payload.get(..2)?;
                    self.restart_interval = u16::from_be_bytes([interval[0], interval[1]]) as usize;
                    Some(())
                }
                APP0 => {
                    self.jfif |= payload.starts_with(b"JFIF\0");
                    Some(())
                }
                APP14 if payload.starts_with(b"Adobe") => {
                    self.adobe_transform = Some(*payload.get(11)?);
                    Some(())
                }
                SOS => self.scan(payload, segment.data),
                _ => Some(()),
            }
        })
    }

    fn frame(&mut self, segment: &[u8]) -> Option<()> {
        if *segment.first()? != 8 || !self.components.is_empty() {
            return None;
        }
        self.height = u16::from_be_bytes([*segment.get(1)?, *segment.get(2)?]) as usize;
        self.width = u16::from_be_bytes([*segment.get(3)?, *segment.get(4)?]) as usize;
        let count = *segment.get(5)? as usize;
        super::check_dimensions(self.width as u32, self.height as u32).ok()?;
        if self.width == 0 || self.height == 0 || !(count == 1 || count == 3) {
            return None;
        }
        let mut components = Vec::with_capacity(count);
        for i in 0..count {
            let at = 6 + 3 * i;
            let sampling = *segment.get(at + 1)?;
            let (horizontal, vertical) = ((sampling >> 4) as usize, (sampling & 15) as usize);
            if !(1..=4).contains(&horizontal) || !(1..=4).contains(&vertical) {
                return None;
            }
            components.push(Component {
                id: *segment.get(at)?,
                horizontal,
                vertical,
                quantization: (*segment.get(at + 2)? as usize).min(3),
                stride: 0,
                blocks_x: 0,
                blocks_y: 0,
                dc: Vec::new(),
                seen: false,
            });
        }
        self.h_max = components.iter().map(|c| c.horizontal).max()?;
        self.v_max = components.iter().map(|c| c.vertical).max()?;
        let mcus_x = self.width.div_ceil(8 * self.h_max);
        let mcus_y = self.height.div_ceil(8 * self.v_max);
        // A header may claim 65535 x 65535 in a few bytes: past about a gigapixel, leave the
        // file to jpeg-decoder and its size limit.
        let blocks: usize = components
            .iter()
            .map(|c| mcus_x * c.horizontal * mcus_y * c.vertical)
            .sum();
        if blocks > MAX_BLOCKS {
            return None;
        }
        for c in &mut components {
            c.stride = mcus_x * c.horizontal;
            c.blocks_x = (self.width * c.horizontal).div_ceil(self.h_max).div_ceil(8);
            c.blocks_y = (self.height * c.vertical).div_ceil(self.v_max).div_ceil(8);
            c.dc = vec![0; c.stride * mcus_y * c.vertical];
        }
        self.components = components;
        Some(())
    }

    fn huffman(&mut self, mut segment: &[u8]) -> Option<()> {
        while !segment.is_empty() {
            let (class, index) = (segment[0] >> 4, (segment[0] & 15) as usize);
            let counts: [u8; 16] = segment.get(1..17)?.try_into().ok()?;
            let total: usize = counts.iter().map(|&n| n as usize).sum();
            let values = segment.get(17..17 + total)?;
            if class == 0 {
                *self.tables.get_mut(index)? = Some(Huffman::new(&counts, values)?);
            }
            segment = &segment[17 + total..];
        }
        Some(())
    }

    fn quantization(&mut self, mut segment: &[u8]) -> Option<()> {
        while !segment.is_empty() {
            let (precision, index) = (segment[0] >> 4, (segment[0] & 15) as usize);
            let (dc, length) = match precision {
                0 => (*segment.get(1)? as i32, 65),
                1 => (
                    u16::from_be_bytes([*segment.get(1)?, *segment.get(2)?]) as i32,
                    129,
                ),
                _ => return None,
            };
            *self.quantization.get_mut(index)? = Some(dc);
            segment = segment.get(length..)?;
        }
        Some(())
    }

    /// Decodes a DC scan (`header`, then its entropy-coded `data`); an AC scan is skipped.
    fn scan(&mut self, header: &[u8], data: &[u8]) -> Option<()> {
        let count = *header.first()? as usize;
        let start = *header.get(1 + 2 * count)?;
        let approximation = *header.get(3 + 2 * count)?;
        let (high, low) = (approximation >> 4, approximation & 15);
        if start != 0 || self.components.is_empty() {
            return Some(());
        }
        let mut members = Vec::with_capacity(count);
        for i in 0..count {
            let id = *header.get(1 + 2 * i)?;
            let table = (*header.get(2 + 2 * i)? >> 4) as usize;
            let index = self.components.iter().position(|c| c.id == id)?;
            members.push((index, table));
        }
        let mut bits = Bits::new(data);
        let mut predictions = vec![0i32; count];
        let interval = self.restart_interval;
        // The blocks of one MCU, as (member, block index) from the MCU's position: one block
        // in a single-component scan, each member's h x v blocks in an interleaved one.
        let (mcus_x, mcus_y, layout) = if count == 1 {
            let c = &self.components[members[0].0];
            (c.blocks_x, c.blocks_y, vec![(0, 1, 1, c.stride)])
        } else {
            let layout = members
                .iter()
                .enumerate()
                .map(|(member, &(i, _))| {
                    let c = &self.components[i];
                    (member, c.horizontal, c.vertical, c.stride)
                })
                .collect();
            (
                self.width.div_ceil(8 * self.h_max),
                self.height.div_ceil(8 * self.v_max),
                layout,
            )
        };
        for my in 0..mcus_y {
            for mx in 0..mcus_x {
                let mcu = my * mcus_x + mx;
                if interval > 0 && mcu > 0 && mcu % interval == 0 {
                    bits.restart()?;
                    predictions.fill(0);
                }
                for &(member, h, v, stride) in &layout {
                    let (index, table) = members[member];
                    for by in 0..v {
                        for bx in 0..h {
                            let block = (my * v + by) * stride + mx * h + bx;
                            let coefficient = self.components[index].dc.get_mut(block)?;
                            if high == 0 {
                                let size = self.tables.get(table)?.as_ref()?.decode(&mut bits)?;
                                if size > 11 {
                                    return None;
                                }
                                let size = size as u32;
                                predictions[member] = predictions[member]
                                    .wrapping_add(extend(bits.take(size)?, size));
                                *coefficient = predictions[member] << low;
                            } else if bits.take(1)? == 1 {
                                *coefficient |= 1 << low;
                            }
                        }
                    }
                }
            }
        }
        if high == 0 {
            for &(index, _) in &members {
                self.components[index].seen = true;
            }
        }
        Some(())
    }

    fn colour(&self) -> Option<Colour> {
        if self.components.len() == 1 {
            return Some(Colour::Grey);
        }
        let ids: Vec<u8> = self.components.iter().map(|c| c.id).collect();
        match ids[..] {
            [1, 2, 3] => return Some(Colour::YCbCr),
            [82, 71, 66] => return Some(Colour::Rgb),
            [1, 34, 35] | [114, 103, 98] => return None,
            _ => {}
        }
        if self.jfif {
            return Some(Colour::YCbCr);
        }
        match self.adobe_transform {
            Some(0) => Some(Colour::Rgb),
            Some(1) | None => Some(Colour::YCbCr),
            Some(_) => None,
        }
    }

    /// The pixels, once every component has had its DC scan.
    fn image(&self) -> Option<RgbaImage> {
        if self.components.is_empty() || self.components.iter().any(|c| !c.seen) {
            return None;
        }
        let colour = self.colour()?;
        let (width, height) = (self.width.div_ceil(8), self.height.div_ceil(8));
        // Each component's samples at 1/8: jpeg-decoder's 1x1 inverse DCT of the DC value.
        let planes: Vec<Plane> = self
            .components
            .iter()
            .map(|c| {
                let q = self.quantization[c.quantization]?;
                let h_ratio = self.h_max / c.horizontal;
                let v_ratio = self.v_max / c.vertical;
                if !self.h_max.is_multiple_of(c.horizontal)
                    || !self.v_max.is_multiple_of(c.vertical)
                {
                    return None;
                }
                Some(Plane {
                    samples: c
                        .dc
                        .iter()
                        .map(|&dc| (dc.wrapping_mul(q).wrapping_add(1024) / 8).clamp(0, 255) as u8)
                        .collect(),
                    stride: c.stride,
                    width: (self.width * c.horizontal).div_ceil(self.h_max * 8),
                    height: (self.height * c.vertical).div_ceil(self.v_max * 8),
                    h2: h_ratio == 2 && width > 1,
                    v2: v_ratio == 2 && height > 1,
                    h_ratio: if width == 1 { 1 } else { h_ratio },
                    v_ratio: if height == 1 { 1 } else { v_ratio },
                })
            })
            .collect::<Option<_>>()?;
        let mut lines = vec![vec![0u8; width.max(1) * 4 + 8]; planes.len()];
        let mut rgba = Vec::with_capacity(width * height * 4);
        for y in 0..height {
            for (plane, line) in planes.iter().zip(&mut lines) {
                plane.upsample_row(y, width, line)?;
            }
            if let [grey] = &lines[..] {
                for &l in &grey[..width] {
                    rgba.extend_from_slice(&[l, l, l, 255]);
                }
                continue;
            }
            let [a, b, c] = &lines[..] else { return None };
            for ((&a, &b), &c) in a[..width].iter().zip(&b[..width]).zip(&c[..width]) {
                let [r, g, b] = match colour {
                    Colour::YCbCr => ycbcr_to_rgb(a, b, c),
                    Colour::Rgb | Colour::Grey => [a, b, c],
                };
                rgba.extend_from_slice(&[r, g, b, 255]);
            }
        }
        RgbaImage::from_raw(width as u32, height as u32, rgba)
    }
}

/// One component's samples at 1/8 scale, and how it is upsampled to the image's size.
struct Plane {
    samples: Vec<u8>,
    stride: usize,
    width: usize,
    height: usize,
    /// Twice as many pixels across (or down) as samples: libjpeg's "fancy" triangle filter.
    h2: bool,
    v2: bool,
    /// Other ratios repeat samples (nearest).
    h_ratio: usize,
    v_ratio: usize,
}

impl Plane {
    /// Output row `row` (`width` pixels) into `line`, as `jpeg-decoder` upsamples.
    fn upsample_row(&self, row: usize, width: usize, line: &mut [u8]) -> Option<()> {
        let input = |r: usize| {
            self.samples
                .get(r * self.stride..r * self.stride + self.width)
        };
        let (h1, v1) = (self.h_ratio == 1, self.v_ratio == 1);
        if v1 && h1 {
            line.get_mut(..width)?
                .copy_from_slice(input(row)?.get(..width)?);
            return Some(());
        }
        if self.h2 && v1 {
            let input = input(row)?;
            let n = input.len();
            if n == 1 {
                line[..2].fill(input[0]);
                return Some(());
            }
            line[0] = input[0];
            line[1] = ((input[0] as u32 * 3 + input[1] as u32 + 2) >> 2) as u8;
            for i in 1..n - 1 {
                let sample = 3 * input[i] as u32 + 2;
                line[i * 2] = ((sample + input[i - 1] as u32) >> 2) as u8;
                line[i * 2 + 1] = ((sample + input[i + 1] as u32) >> 2) as u8;
            }
            line[(n - 1) * 2] = ((input[n - 1] as u32 * 3 + input[n - 2] as u32 + 2) >> 2) as u8;
            line[(n - 1) * 2 + 1] = input[n - 1];
            return Some(());
        }
        if self.v2 && (h1 || self.h2) {
            // The nearer input row and the one on the other side of the output row.
            let near = row / 2;
            let far = if row.is_multiple_of(2) {
                near.saturating_sub(1)
            } else {
                (near + 1).min(self.height - 1)
            };
            let (near, far) = (input(near)?, input(far)?);
            if h1 {
                for (i, out) in line.get_mut(..width)?.iter_mut().enumerate() {
                    let (a, b) = (*near.get(i)? as u32, *far.get(i)? as u32);
                    *out = ((3 * a + b + 2) >> 2) as u8;
                }
                return Some(());
            }
            let n = near.len();
            if n == 1 {
                let value = ((3 * near[0] as u32 + far[0] as u32 + 2) >> 2) as u8;
                line[..2].fill(value);
                return Some(());
            }
            let mut t1 = 3 * near[0] as u32 + far[0] as u32;
            line[0] = ((t1 + 2) >> 2) as u8;
            for i in 1..n {
                let t0 = t1;
                t1 = 3 * near[i] as u32 + far[i] as u32;
                line[i * 2 - 1] = ((3 * t0 + t1 + 8) >> 4) as u8;
                line[i * 2] = ((3 * t1 + t0 + 8) >> 4) as u8;
            }
            line[n * 2 - 1] = ((t1 + 2) >> 2) as u8;
            return Some(());
        }
        let input = input(row / self.v_ratio)?;
        for (i, &sample) in input.iter().enumerate() {
            line.get_mut(i * self.h_ratio..(i + 1) * self.h_ratio)?
                .fill(sample);
        }
        Some(())
    }
}

/// `jpeg-decoder`'s fixed-point conversion (20 fractional bits).
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const SHIFT: i32 = 20;
    let fixed = |x: f32| (x * (1 << SHIFT) as f32 + 0.5) as i32;
    let clamp = |v: i32| (v >> SHIFT).clamp(0, 255) as u8;
    let y = y as i32 * (1 << SHIFT) + (1 << (SHIFT - 1));
    let (cb, cr) = (cb as i32 - 128, cr as i32 - 128);
    [
        clamp(y + fixed(1.402) * cr),
        clamp(y - fixed(0.34414) * cb - fixed(0.71414) * cr),
        clamp(y + fixed(1.772) * cb),
    ]
}

/// The signed value of the `size` bits `bits` (JPEG's EXTEND).
fn extend(bits: u32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if bits < 1 << (size - 1) {
        bits as i32 - (1 << size) + 1
    } else {
        bits as i32
    }
}

/// A canonical Huffman table: a lookup of the first [`LOOKUP_BITS`] bits, then the
/// per-length limits of JPEG's DECODE procedure for longer codes.
struct Huffman {
    /// (code length, value) by the next `LOOKUP_BITS` bits; length 0 = longer code.
    lookup: Vec<(u8, u8)>,
    /// Largest code of each length (-1: none), and the index of its first value.
    max_code: [i32; 17],
    first_value: [i32; 17],
    first_code: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: &[u8]) -> Option<Huffman> {
        let mut lookup = vec![(0u8, 0u8); 1 << LOOKUP_BITS];
        let mut max_code = [-1i32; 17];
        let mut first_value = [0i32; 17];
        let mut first_code = [0i32; 17];
        let (mut code, mut index) = (0i32, 0usize);
        for length in 1..=16 {
            let n = counts[length - 1] as usize;
            first_value[length] = index as i32;
            first_code[length] = code;
            for _ in 0..n {
                if code >= 1 << length {
                    return None;
                }
                if length as u32 <= LOOKUP_BITS {
                    let spread = LOOKUP_BITS - length as u32;
                    let from = (code as usize) << spread;
                    for entry in lookup.get_mut(from..from + (1 << spread))? {
                        *entry = (length as u8, *values.get(index)?);
                    }
                }
                code += 1;
                index += 1;
            }
            if n > 0 {
                max_code[length] = code - 1;
            }
            code <<= 1;
        }
        Some(Huffman {
            lookup,
            max_code,
            first_value,
            first_code,
            values: values.to_vec(),
        })
    }

    fn decode(&self, bits: &mut Bits) -> Option<u8> {
        let peek = bits.peek(LOOKUP_BITS);
        let (length, value) = self.lookup[peek as usize];
        if length > 0 {
            bits.consume(length as u32);
            return Some(value);
        }
        for length in LOOKUP_BITS as usize + 1..=16 {
            let code = bits.peek(length as u32) as i32;
            if code <= self.max_code[length] {
                bits.consume(length as u32);
                let index = self.first_value[length] + code - self.first_code[length];
                return self.values.get(index as usize).copied();
            }
        }
        None
    }
}

/// Bits of entropy-coded data, with stuffed zero bytes removed; past a marker it reads zeros
/// (as decoders do for a short scan) and stays at the marker.
struct Bits<'a> {
    bytes: &'a [u8],
    position: usize,
    buffer: u64,
    count: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    /// The bits of one scan's entropy-coded data (ending where the next marker starts).
    fn new(bytes: &'a [u8]) -> Bits<'a> {
        Bits {
            bytes,
            position: 0,
            buffer: 0,
            count: 0,
            at_marker: false,
        }
    }

    fn fill(&mut self) {
        while self.count <= 56 {
            let mut byte = 0;
            if !self.at_marker {
                match self.bytes.get(self.position) {
                    Some(0xFF) if self.bytes.get(self.position + 1) == Some(&0) => {
                        byte = 0xFF;
                        self.position += 2;
                    }
                    Some(0xFF) | None => self.at_marker = true,
                    Some(&b) => {
                        byte = b;
                        self.position += 1;
                    }
                }
            }
            self.buffer |= (byte as u64) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` (1..=16) bits, not consumed.
    fn peek(&mut self, n: u32) -> u32 {
        if self.count < n {
            self.fill();
        }
        (self.buffer >> (64 - n)) as u32
    }

    fn consume(&mut self, n: u32) {
        self.buffer <<= n;
        self.count -= n;
    }

    /// The next `n` (0..=16) bits.
    fn take(&mut self, n: u32) -> Option<u32> {
        if n == 0 {
            return Some(0);
        }
        if n > 16 {
            return None;
        }
        let value = self.peek(n);
        self.consume(n);
        Some(value)
    }

    /// Skips to the restart marker that must come next.
    fn restart(&mut self) -> Option<()> {
        self.buffer = 0;
        self.count = 0;
        // Bits left in the last byte are padding; the marker follows.
        let mut at = self.position;
        loop {
            at += self.bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
            match *self.bytes.get(at + 1)? {
                0x00 | 0xFF => at += 1,
                0xD0..=0xD7 => break,
                _ => return None,
            }
        }
        self.position = at + 2;
        self.at_marker = false;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    fn picture(w: u16, h: u16) -> Vec<u8> {
        let mut pixels = Vec::with_capacity(w as usize * h as usize * 3);
        for y in 0..h as u32 {
            for x in 0..w as u32 {
                pixels.extend_from_slice(&[
                    ((x * 7 + y * 3) % 256) as u8,
                    (((x / 5) ^ (y / 3)) * 13 % 256) as u8,
                    ((x * y / 17) % 256) as u8,
                ]);
            }
        }
        pixels
    }

    fn encode(
        w: u16,
        h: u16,
        colour: ColorType,
        sampling: SamplingFactor,
        restart: u16,
    ) -> Vec<u8> {
        let mut pixels = picture(w, h);
        if colour == ColorType::Luma {
            pixels = pixels.chunks(3).map(|p| p[1]).collect();
        }
        let mut bytes = Vec::new();
        let mut encoder = Encoder::new(&mut bytes, 92);
        encoder.set_progressive(true);
        encoder.set_sampling_factor(sampling);
        encoder.set_restart_interval(restart);
        encoder.encode(&pixels, w, h, colour).expect("encodes");
        bytes
    }

    /// jpeg-decoder at 1/8, as RGBA.
    pub(super) fn reference(bytes: &[u8]) -> RgbaImage {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        decoder.read_info().unwrap();
        let info = decoder.info().unwrap();
        let (w, h) = decoder
            .scale(info.width.div_ceil(8), info.height.div_ceil(8))
            .unwrap();
        let pixels = decoder.decode().unwrap();
        let grey = decoder.info().unwrap().pixel_format == jpeg_decoder::PixelFormat::L8;
        let rgba: Vec<u8> = if grey {
            pixels.iter().flat_map(|&l| [l, l, l, 255]).collect()
        } else {
            pixels
                .chunks(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect()
        };
        RgbaImage::from_raw(w as u32, h as u32, rgba).unwrap()
    }

    fn largest_difference(a: &RgbaImage, b: &RgbaImage) -> u8 {
        assert_eq!(a.dimensions(), b.dimensions());
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap()
    }

    #[test]
    fn full_resolution_chroma_matches_jpeg_decoder() {
        for (w, h, restart) in [(203, 161, 0), (64, 64, 2), (9, 17, 1), (1, 1, 0)] {
            let bytes = encode(w, h, ColorType::Rgb, SamplingFactor::F_1_1, restart);
            let ours = decode(&bytes).expect("progressive 4:4:4");
            assert_eq!(
                ours.dimensions(),
                (w.div_ceil(8) as u32, h.div_ceil(8) as u32)
            );
            // jpeg-decoder's SIMD colour conversion sometimes rounds a level the other way.
            assert!(
                largest_difference(&ours, &reference(&bytes)) <= 1,
                "{w}x{h}"
            );
        }
        let grey = encode(100, 70, ColorType::Luma, SamplingFactor::F_1_1, 3);
        assert_eq!(
            largest_difference(&decode(&grey).unwrap(), &reference(&grey)),
            0
        );
    }

    #[test]
    fn subsampled_chroma_is_upsampled_as_jpeg_decoder_does() {
        for sampling in [
            SamplingFactor::F_2_2,
            SamplingFactor::F_2_1,
            SamplingFactor::F_1_2,
            SamplingFactor::F_4_1,
            SamplingFactor::F_4_2,
        ] {
            for (w, h) in [(203, 161), (17, 9), (8, 8)] {
                let bytes = encode(w, h, ColorType::Rgb, sampling, 4);
                let ours = decode(&bytes).expect("progressive");
                let difference = largest_difference(&ours, &reference(&bytes));
                assert!(difference <= 1, "{sampling:?} {w}x{h}: {difference}");
            }
        }
    }

    #[test]
    fn other_files_are_left_to_jpeg_decoder() {
        let mut baseline = Vec::new();
        Encoder::new(&mut baseline, 90)
            .encode(&picture(32, 32), 32, 32, ColorType::Rgb)
            .unwrap();
        assert!(decode(&baseline).is_none(), "baseline");
        assert!(decode(b"not a jpeg").is_none());
        let bytes = encode(64, 48, ColorType::Rgb, SamplingFactor::F_1_1, 0);
        // Every truncation and many corruptions return without panicking; one cut before the
        // DC scans end has no picture.
        for cut in 0..bytes.len() {
            let _ = decode(&bytes[..cut]);
        }
        assert!(decode(&bytes[..bytes.len() / 4]).is_none());
        // A frame header claiming 65535 x 65535 is not allocated for; 1274 x 1580 is.
        let frame = |size: [u8; 2]| {
            let mut header = vec![8, size[0], size[1], size[0], size[1], 3];
            header.extend_from_slice(&[1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]);
            Reader::default().frame(&header)
        };
        assert!(frame([0xFF, 0xFF]).is_none());
        assert!(frame([0x05, 0xFA]).is_some());
        for at in (2..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5A;
            let _ = decode(&bad);
        }
    }

    #[test]
    fn extend_gives_signed_differences() {
        assert_eq!(extend(0, 0), 0);
        assert_eq!(extend(0b0, 1), -1);
        assert_eq!(extend(0b1, 1), 1);
        assert_eq!(extend(0b010, 3), -5);
        assert_eq!(extend(0b110, 3), 6);
    }
}
