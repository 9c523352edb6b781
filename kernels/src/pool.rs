//! 2-D max-pooling with the index of each maximum, for training on the CPU: the same output
//! and indices as burn's Flex backend (the first maximum in row-major window order wins;
//! padding is never chosen), computed plane by plane with the window's bounds worked out per
//! row and column instead of per element. Flex pools 2-D through its 3-D kernel, checking
//! every window element's bounds; in a small-backbone step that took 14% of the time
//! (README, training benchmarks).

use rayon::prelude::*;

/// The sizes of one max-pooling (dilation 1, output sizes rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Planes (photos times channels).
    pub planes: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Padding along height and width (each side).
    pub padding: [usize; 2],
}

impl PoolGeometry {
    /// Output height and width.
    pub fn output(&self) -> [usize; 2] {
        [0, 1].map(|d| {
            let padded = self.input[d] + 2 * self.padding[d];
            if padded < self.kernel[d] {
                0
            } else {
                (padded - self.kernel[d]) / self.stride[d] + 1
            }
        })
    }

    /// The input indices along dimension `d` that output index `o`'s window covers.
    fn window(&self, d: usize, o: usize) -> std::ops::Range<usize> {
        let start = o * self.stride[d];
        let from = start.saturating_sub(self.padding[d]);
        let to = (start + self.kernel[d])
            .saturating_sub(self.padding[d])
            .min(self.input[d]);
        from..to.max(from)
    }
}

/// The maximum of each window of `x` (`[planes, h, w]`, row-major) and its index within the
/// plane (`row * w + column`; -1 for a window wholly in the padding, whose maximum is then
/// negative infinity), `[planes, oh, ow]` each.
pub fn max_pool_with_indices(g: &PoolGeometry, x: &[f32]) -> (Vec<f32>, Vec<i64>) {
    let [h, w] = g.input;
    let [oh, ow] = g.output();
    let (plane_in, plane_out) = (h * w, oh * ow);
    let mut values = vec![f32::NEG_INFINITY; g.planes * plane_out];
    let mut indices = vec![-1i64; g.planes * plane_out];
    let columns: Vec<_> = (0..ow).map(|o| g.window(1, o)).collect();
    values
        .par_chunks_mut(plane_out.max(1))
        .zip(indices.par_chunks_mut(plane_out.max(1)))
        .enumerate()
        .for_each(|(p, (values, indices))| {
            let plane = &x[p * plane_in..(p + 1) * plane_in];
            for y in 0..oh {
                let rows = g.window(0, y);
                for (xx, cols) in columns.iter().enumerate() {
                    let (mut best, mut at) = (f32::NEG_INFINITY, -1i64);
                    for r in rows.clone() {
                        for c in cols.clone() {
                            let v = plane[r * w + c];
                            if at < 0 || v > best {
                                best = v;
                                at = (r * w + c) as i64;
                            }
                        }
                    }
                    values[y * ow + xx] = best;
                    indices[y * ow + xx] = at;
                }
            }
        });
    (values, indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_with_padding_and_ties_pick_the_first_maximum_inside_the_photo() {
        // One 3 x 4 plane; 3 x 3 windows, stride 2, padding 1 (ZFNet's pools).
        let x = [
            1.0, 5.0, 2.0, 0.0, //
            3.0, 5.0, -1.0, 7.0, //
            -4.0, 0.0, 6.0, 6.0,
        ];
        let g = PoolGeometry {
            planes: 1,
            input: [3, 4],
            kernel: [3, 3],
            stride: [2, 2],
            padding: [1, 1],
        };
        assert_eq!(g.output(), [2, 2]);
        let (values, indices) = max_pool_with_indices(&g, &x);
        // Top left: rows 0-1, columns 0-1: the 5 at (0, 1) before the one at (1, 1).
        // Top right: rows 0-1, columns 1-3: 7 at (1, 3). Bottom: rows 1-2.
        assert_eq!(values, vec![5.0, 7.0, 5.0, 7.0]);
        assert_eq!(indices, vec![1, 7, 5, 7]);
        // All negative values: the padding (never chosen) does not win with a zero.
        let negative: Vec<f32> = x.iter().map(|v| -v - 10.0).collect();
        let (values, indices) = max_pool_with_indices(&g, &negative);
        assert_eq!(values, vec![-11.0, -9.0, -6.0, -9.0]);
        assert_eq!(indices, vec![0, 6, 8, 6]);
    }
}
