//! The gradients of a 2-D convolution as matrix products, one photo at a time: the weight
//! gradient as `dY · im2col(X)ᵀ` and the input gradient as `col2im(Wᵀ · dY)`, with the `gemm`
//! crate, the photos shared among the cores.
//!
//! burn computes a convolution's weight gradient as another convolution, with the batch as
//! channels and the output gradient as a kernel the size of the output (`burn-backend`'s
//! `conv2d_weight_backward`), which burn's Flex CPU backend does not override: at 224 px
//! ZFNet's first layer then takes a second a step on 2 cores, six times what this takes
//! (README, training benchmarks). Plain slices in, plain vectors out; the backend glue is
//! vitrine's `ml::model_backend`.

use rayon::prelude::*;

/// The sizes of one convolution (groups 1), for the kernels of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Photos in the batch.
    pub batch: usize,
    /// Input channels.
    pub channels_in: usize,
    /// Output channels.
    pub channels_out: usize,
    /// Input height and width.
    pub input: [usize; 2],
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Zero padding along height and width (each side).
    pub padding: [usize; 2],
    /// Dilation along height and width.
    pub dilation: [usize; 2],
}

impl ConvGeometry {
    /// Output height and width.
    pub fn output(&self) -> [usize; 2] {
        [0, 1].map(|d| {
            let span = self.dilation[d] * (self.kernel[d] - 1) + 1;
            (self.input[d] + 2 * self.padding[d]).saturating_sub(span) / self.stride[d] + 1
        })
    }

    /// Rows of a photo's column matrix: one per input channel and kernel position.
    fn rows(&self) -> usize {
        self.channels_in * self.kernel[0] * self.kernel[1]
    }

    /// Output positions of a photo: the columns of its column matrix.
    fn positions(&self) -> usize {
        let [oh, ow] = self.output();
        oh * ow
    }

    /// Values of one input photo.
    fn input_len(&self) -> usize {
        self.channels_in * self.input[0] * self.input[1]
    }

    /// For output index `o` along dimension `d` and kernel offset `k`: the input index, if
    /// inside the photo (else in the padding).
    fn source(&self, d: usize, o: usize, k: usize) -> Option<usize> {
        (o * self.stride[d] + k * self.dilation[d])
            .checked_sub(self.padding[d])
            .filter(|&i| i < self.input[d])
    }

    /// Writes photo `x`'s column matrix into `col`: `[rows, positions]`, row
    /// `(c, ki, kj)` holding the input value each output position sees through kernel
    /// position `(ki, kj)` of channel `c` (0 in the padding).
    fn im2col(&self, x: &[f32], col: &mut [f32]) {
        let [h, w] = self.input;
        let [oh, ow] = self.output();
        let [kh, kw] = self.kernel;
        for (r, row) in col.chunks_exact_mut(oh * ow).enumerate() {
            let (c, ki, kj) = (r / (kh * kw), r / kw % kh, r % kw);
            let plane = &x[c * h * w..(c + 1) * h * w];
            for (y, out) in row.chunks_exact_mut(ow).enumerate() {
                let Some(iy) = self.source(0, y, ki) else {
                    out.fill(0.0);
                    continue;
                };
                let line = &plane[iy * w..(iy + 1) * w];
                for (xx, v) in out.iter_mut().enumerate() {
                    *v = self.source(1, xx, kj).map_or(0.0, |ix| line[ix]);
                }
            }
        }
    }

    /// Adds column matrix `col` (`[rows, positions]`) back onto photo `x`'s positions: the
    /// transpose of [`ConvGeometry::im2col`]. `x` starts at zero.
    fn col2im(&self, col: &[f32], x: &mut [f32]) {
        let [h, w] = self.input;
        let [oh, ow] = self.output();
        let [kh, kw] = self.kernel;
        x.fill(0.0);
        for (r, row) in col.chunks_exact(oh * ow).enumerate() {
            let (c, ki, kj) = (r / (kh * kw), r / kw % kh, r % kw);
            let plane = &mut x[c * h * w..(c + 1) * h * w];
            for (y, src) in row.chunks_exact(ow).enumerate() {
                let Some(iy) = self.source(0, y, ki) else {
                    continue;
                };
                let line = &mut plane[iy * w..(iy + 1) * w];
                for (xx, v) in src.iter().enumerate() {
                    if let Some(ix) = self.source(1, xx, kj) {
                        line[ix] += v;
                    }
                }
            }
        }
    }
}

/// `dst[m x n] (+)= lhs[m x k] · rhs[k x n]`, each given by its row and column strides.
struct Product<'a> {
    m: usize,
    n: usize,
    k: usize,
    lhs: (&'a [f32], usize, usize),
    rhs: (&'a [f32], usize, usize),
}

impl Product<'_> {
    /// Computes the product into row-major `dst`, added to it when `accumulate`.
    fn into(self, dst: &mut [f32], accumulate: bool) {
        let Product { m, n, k, lhs, rhs } = self;
        let last = |(s, rs, cs): (&[f32], usize, usize), rows: usize, cols: usize| {
            rows == 0 || cols == 0 || (rows - 1) * rs + (cols - 1) * cs < s.len()
        };
        assert!(dst.len() >= m * n && last(lhs, m, k) && last(rhs, k, n));
        // SAFETY: the assertion above: every element gemm reads (row i < m or k, column
        // j < k or n, at i * row stride + j * column stride) and writes (m x n row-major) is
        // inside its slice, and dst does not alias the inputs (a unique borrow).
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                1,
                n as isize,
                accumulate,
                lhs.0.as_ptr(),
                lhs.2 as isize,
                lhs.1 as isize,
                rhs.0.as_ptr(),
                rhs.2 as isize,
                rhs.1 as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
    }
}

/// The weight gradient `[channels_out, channels_in, kh, kw]` of a convolution of input `x`
/// (`[batch, channels_in, h, w]`) whose output got gradient `dy` (`[batch, channels_out,
/// oh, ow]`): per photo `dW += dY_n · im2col(X_n)ᵀ`, the photos split among the cores, each
/// share summed into its own gradient, the shares added at the end.
pub fn weight_gradient(g: &ConvGeometry, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let out = g.channels_out * rows;
    let shares = rayon::current_num_threads().clamp(1, g.batch.max(1));
    let per_share = g.batch.div_ceil(shares).max(1);
    let parts: Vec<Vec<f32>> = (0..shares)
        .into_par_iter()
        .map(|share| {
            let mut grad = vec![0.0f32; out];
            let mut col = vec![0.0f32; rows * positions];
            let photos = share * per_share..((share + 1) * per_share).min(g.batch);
            for (i, n) in photos.enumerate() {
                g.im2col(&x[n * g.input_len()..(n + 1) * g.input_len()], &mut col);
                let dy_n =
                    &dy[n * g.channels_out * positions..(n + 1) * g.channels_out * positions];
                Product {
                    m: g.channels_out,
                    n: rows,
                    k: positions,
                    lhs: (dy_n, positions, 1),
                    rhs: (&col, 1, positions),
                }
                .into(&mut grad, i > 0);
            }
            grad
        })
        .collect();
    let mut parts = parts.into_iter();
    let mut grad = parts.next().unwrap_or_else(|| vec![0.0; out]);
    for part in parts {
        grad.iter_mut().zip(part).for_each(|(g, p)| *g += p);
    }
    grad
}

/// The input gradient `[batch, channels_in, h, w]` of a convolution with weights `weight`
/// (`[channels_out, channels_in, kh, kw]`) whose output got gradient `dy`: per photo
/// `dX_n = col2im(Wᵀ · dY_n)`, the photos shared among the cores.
pub fn input_gradient(g: &ConvGeometry, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let (rows, positions) = (g.rows(), g.positions());
    let mut dx = vec![0.0f32; g.batch * g.input_len()];
    dx.par_chunks_mut(g.input_len().max(1))
        .enumerate()
        .for_each_init(
            || vec![0.0f32; rows * positions],
            |col, (n, dx_n)| {
                let dy_n =
                    &dy[n * g.channels_out * positions..(n + 1) * g.channels_out * positions];
                Product {
                    m: rows,
                    n: positions,
                    k: g.channels_out,
                    lhs: (weight, 1, rows),
                    rhs: (dy_n, positions, 1),
                }
                .into(col, false);
                g.col2im(col, dx_n);
            },
        );
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convolution computed by its definition: `y[n, o, i, j] = sum over c, ki, kj of
    /// w[o, c, ki, kj] x[n, c, i s + ki d - p, j s + kj d - p]`.
    fn convolve(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
        let [oh, ow] = g.output();
        let [kh, kw] = g.kernel;
        let mut y = vec![0.0; g.batch * g.channels_out * oh * ow];
        for n in 0..g.batch {
            for o in 0..g.channels_out {
                for i in 0..oh {
                    for j in 0..ow {
                        let mut sum = 0.0;
                        for c in 0..g.channels_in {
                            for ki in 0..kh {
                                for kj in 0..kw {
                                    if let (Some(a), Some(b)) =
                                        (g.source(0, i, ki), g.source(1, j, kj))
                                    {
                                        let xv = x[((n * g.channels_in + c) * g.input[0] + a)
                                            * g.input[1]
                                            + b];
                                        sum +=
                                            w[((o * g.channels_in + c) * kh + ki) * kw + kj] * xv;
                                    }
                                }
                            }
                        }
                        y[((n * g.channels_out + o) * oh + i) * ow + j] = sum;
                    }
                }
            }
        }
        y
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0
                    - 1.0
            })
            .collect()
    }

    /// Both gradients against finite differences of the definition: for the loss
    /// `L = sum(y · dy)`, `dL/dw` and `dL/dx` are exact by linearity, so a unit step of one
    /// weight (or input) changes `L` by exactly its gradient.
    #[test]
    fn gradients_match_the_definition_for_strides_padding_dilation_and_odd_shapes() {
        let geometries = [
            ConvGeometry {
                batch: 3,
                channels_in: 2,
                channels_out: 4,
                input: [7, 6],
                kernel: [3, 3],
                stride: [1, 1],
                padding: [1, 1],
                dilation: [1, 1],
            },
            // ZFNet's first layer in miniature: 7 x 7, stride 2, padding 1.
            ConvGeometry {
                batch: 2,
                channels_in: 3,
                channels_out: 2,
                input: [15, 13],
                kernel: [7, 5],
                stride: [2, 3],
                padding: [1, 2],
                dilation: [1, 1],
            },
            ConvGeometry {
                batch: 1,
                channels_in: 1,
                channels_out: 3,
                input: [9, 9],
                kernel: [3, 2],
                stride: [2, 1],
                padding: [0, 1],
                dilation: [2, 3],
            },
        ];
        for g in geometries {
            let [kh, kw] = g.kernel;
            let x = values(g.batch * g.input_len(), 1);
            let w = values(g.channels_out * g.channels_in * kh * kw, 2);
            let [oh, ow] = g.output();
            let dy = values(g.batch * g.channels_out * oh * ow, 3);
            let loss = |x: &[f32], w: &[f32]| -> f64 {
                convolve(&g, x, w)
                    .iter()
                    .zip(&dy)
                    .map(|(a, b)| (a * b) as f64)
                    .sum()
            };
            let base = loss(&x, &w);
            // Each of `got` against the change of the loss when its value in `at` steps by 1.
            let check = |name: &str, got: &[f32], at: &[f32], loss_at: &dyn Fn(&[f32]) -> f64| {
                assert_eq!(got.len(), at.len());
                for (i, &got) in got.iter().enumerate() {
                    let mut stepped = at.to_vec();
                    stepped[i] += 1.0;
                    let want = loss_at(&stepped) - base;
                    assert!(
                        (got as f64 - want).abs() < 1e-3,
                        "{g:?} {name}[{i}]: {got} vs {want}"
                    );
                }
            };
            let dw = weight_gradient(&g, &x, &dy);
            check("dw", &dw, &w, &|w| loss(&x, w));
            let dx = input_gradient(&g, &w, &dy);
            check("dx", &dx, &x, &|x| loss(x, &w));
            assert!(dw.iter().any(|v| v.abs() > 0.1) && dx.iter().any(|v| v.abs() > 0.1));
        }
    }
}
