//! The multi-image multi-task network: a CNN per image, a dense pre-pooling layer, element-wise
//! max over each product's images, two dense post-pooling layers giving the product
//! representation, and one softmax head per task.

use super::model_backend::{ModelBackend, PoolOptions};
use super::norm::ChannelNorm;
use crate::catalog::Task;
use crate::runs::Backbone;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use burn::tensor::TensorPrimitive;
use burn::tensor::activation::log_softmax;
use burn::tensor::ops::ConvOptions;

/// The shape of a model: everything needed to build it before loading weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// The per-image CNN.
    pub backbone: Backbone,
    /// Batch normalisation after each convolution (off only for exact-arithmetic tests).
    pub batch_norm: bool,
    /// Side of the grid the small backbone averages its last feature maps to (1: global
    /// average); ZFNet averages to 6 x 6 whatever this says.
    pub feature_grid: usize,
    /// Dropout probability of the dense layers.
    pub dropout: f64,
    /// Width of the product representation (1024 as published).
    pub representation: usize,
    /// The tasks with a head and their class counts, in head order.
    pub heads: Vec<(Task, usize)>,
}

impl ModelConfig {
    /// Width of the pre-pooling dense layer.
    pub fn pre_pool_width(&self) -> usize {
        match self.backbone {
            Backbone::Small => 512,
            Backbone::Zfnet => 4096,
        }
    }

    /// Builds the model with freshly initialised weights on `device`.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Model<B> {
        let (blocks, pool, features) = match self.backbone {
            Backbone::Small => {
                let mut blocks = Vec::new();
                let mut channels = 3;
                for width in [16, 32, 64, 128] {
                    blocks.push(ConvBlock::new(
                        [channels, width],
                        [3, 1, 1],
                        Some(MaxPool2dConfig::new([2, 2])),
                        self.batch_norm,
                        device,
                    ));
                    channels = width;
                }
                let grid = self.feature_grid.max(1);
                (
                    blocks,
                    AdaptiveAvgPool2dConfig::new([grid, grid]).init(),
                    channels * grid * grid,
                )
            }
            Backbone::Zfnet => {
                // Zeiler & Fergus 2013, with batch norm in place of local response
                // normalisation. At 224 px: 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6.
                let pool = || {
                    MaxPool2dConfig::new([3, 3])
                        .with_strides([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                };
                let bn = self.batch_norm;
                let blocks = vec![
                    ConvBlock::new([3, 96], [7, 2, 1], Some(pool()), bn, device),
                    ConvBlock::new([96, 256], [5, 2, 0], Some(pool()), bn, device),
                    ConvBlock::new([256, 384], [3, 1, 1], None, bn, device),
                    ConvBlock::new([384, 384], [3, 1, 1], None, bn, device),
                    ConvBlock::new(
                        [384, 256],
                        [3, 1, 1],
                        Some(MaxPool2dConfig::new([3, 3]).with_strides([2, 2])),
                        bn,
                        device,
                    ),
                ];
                (
                    blocks,
                    AdaptiveAvgPool2dConfig::new([6, 6]).init(),
                    256 * 36,
                )
            }
        };
        let pre = self.pre_pool_width();
        let width = self.representation;
        Model {
            blocks,
            pool,
            pre_pool: relu_layer(features, pre, device),
            post_pool: vec![
                relu_layer(pre, width, device),
                relu_layer(width, width, device),
            ],
            heads: self
                .heads
                .iter()
                .map(|&(_, classes)| LinearConfig::new(width, classes.max(1)).init(device))
                .collect(),
            dropout: DropoutConfig::new(self.dropout).init(),
            relu: Relu::new(),
        }
    }
}

/// A dense layer followed by a ReLU, initialised for it (He et al. 2015: normal, variance
/// 2 / inputs). burn's default (uniform, variance 1 / (3 inputs)) shrinks the variance of the
/// signal sixfold in each such layer, forward and back: through the three of them the
/// convolutions got gradients about 15 times weaker, and 80 iterations on the demo catalogue
/// ended at chance colour accuracy.
fn relu_layer<B: Backend>(inputs: usize, outputs: usize, device: &B::Device) -> Linear<B> {
    LinearConfig::new(inputs, outputs)
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: false,
        })
        .init(device)
}

/// Convolution, optional batch norm, ReLU, optional max-pool.
#[derive(Module, Debug)]
pub struct ConvBlock<B: Backend> {
    conv: Conv2d<B>,
    norm: Option<ChannelNorm<B>>,
    pool: Option<MaxPool2d>,
    relu: Relu,
}

impl<B: Backend> ConvBlock<B> {
    /// The convolution's shape is `[kernel, stride, padding]`.
    fn new(
        channels: [usize; 2],
        [kernel, stride, pad]: [usize; 3],
        pool: Option<MaxPool2dConfig>,
        batch_norm: bool,
        device: &B::Device,
    ) -> Self {
        ConvBlock {
            conv: Conv2dConfig::new(channels, [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(!batch_norm)
                .init(device),
            norm: batch_norm.then(|| ChannelNorm::new(channels[1], device)),
            pool: pool.map(|p| p.init()),
            relu: Relu::new(),
        }
    }

    /// `[photos, channels in, h, w]` -> `[photos, channels out, h', w']`.
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4>
    where
        B: ModelBackend,
    {
        let x = convolve(&self.conv, x);
        let x = match &self.norm {
            Some(norm) => norm.forward(x),
            None => x,
        };
        let x = self.relu.forward(x);
        match &self.pool {
            Some(pool) => max_pool(pool, x),
            None => x,
        }
    }
}

/// `conv` applied to `x` through [`ModelBackend::conv2d_model`], whose gradients the backend may
/// compute its own way: the same output as `conv.forward(x)`, which serves the paddings other
/// than the same explicit padding on opposite sides (none of this model's).
fn convolve<B: ModelBackend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let Some(padding) = symmetric(&conv.padding) else {
        return conv.forward(x);
    };
    let options = ConvOptions::new(conv.stride, padding, conv.dilation, conv.groups);
    let y = B::conv2d_model(
        x.into_primitive().tensor(),
        conv.weight.val().into_primitive().tensor(),
        conv.bias
            .as_ref()
            .map(|b| b.val().into_primitive().tensor()),
        options,
    );
    Tensor::from_primitive(TensorPrimitive::Float(y))
}

/// The same padding on opposite sides, `[height, width]`, if `padding` has it.
fn symmetric(padding: &PaddingConfig2d) -> Option<[usize; 2]> {
    match *padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            Some([top, left])
        }
        _ => None,
    }
}

/// `pool` applied to `x` through [`ModelBackend::max_pool2d_model`]: the same output as
/// `pool.forward(x)`, which serves the poolings it does not cover (dilated, rounded up, or
/// padded unevenly: none of this model's).
fn max_pool<B: ModelBackend>(pool: &MaxPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    match symmetric(&pool.padding) {
        Some(padding) if pool.dilation == [1, 1] && !pool.ceil_mode => {
            let options = PoolOptions {
                kernel: pool.kernel_size,
                stride: pool.stride,
                padding,
            };
            let y = B::max_pool2d_model(x.into_primitive().tensor(), options);
            Tensor::from_primitive(TensorPrimitive::Float(y))
        }
        _ => pool.forward(x),
    }
}

/// The network. Build it with [`ModelConfig::init`].
#[derive(Module, Debug)]
pub struct Model<B: Backend> {
    blocks: Vec<ConvBlock<B>>,
    pool: AdaptiveAvgPool2d,
    pre_pool: Linear<B>,
    post_pool: Vec<Linear<B>>,
    heads: Vec<Linear<B>>,
    dropout: Dropout,
    relu: Relu,
}

/// What the network computes for a batch of products.
#[derive(Debug, Clone)]
pub struct ModelOutput<B: Backend> {
    /// The product representations, `[products, representation]`.
    pub representation: Tensor<B, 2>,
    /// One `[products, classes]` logit matrix per head, in head order.
    pub logits: Vec<Tensor<B, 2>>,
}

impl<B: Backend> Model<B> {
    /// The first convolution's weights, `[kernels, 3, k, k]` flattened, with `kernels` and `k`.
    pub fn first_kernels(&self) -> Option<(usize, usize, Vec<f32>)> {
        let weight = self.blocks.first()?.conv.weight.val(); // [F, 3, k, k]
        let [kernels, _, k, _] = weight.dims();
        let values = weight.into_data().to_vec::<f32>().ok()?;
        Some((kernels, k, values))
    }

    /// The number of classes of each head (its outputs), in head order.
    pub fn head_classes(&self) -> Vec<usize> {
        self.heads
            .iter()
            .map(|head| head.weight.val().dims()[1])
            .collect()
    }

    /// The rest of [`Model::forward`] from the photos' features `[images, pre]`: the
    /// element-wise max over each product's `slots`, the dense layers and the heads.
    pub fn pooled(
        &self,
        x: Tensor<B, 2>,
        slots: Tensor<B, 1, Int>,
        products: usize,
    ) -> ModelOutput<B> {
        let width = x.dims()[1];
        let slot_count = slots.dims()[0];
        let per_product = slot_count / products.max(1);
        let pooled: Tensor<B, 3> = x.select(0, slots).reshape([products, per_product, width]);
        let mut x: Tensor<B, 2> = pooled.max_dim(1).reshape([products, width]); // [P, pre]
        let last = self.post_pool.len() - 1;
        for (i, layer) in self.post_pool.iter().enumerate() {
            x = self.relu.forward(layer.forward(x));
            if i < last {
                x = self.dropout.forward(x);
            }
        }
        let representation = x; // [P, representation]
        let features = self.dropout.forward(representation.clone());
        let logits = self
            .heads
            .iter()
            .map(|head| head.forward(features.clone())) // [P, classes]
            .collect();
        ModelOutput {
            representation,
            logits,
        }
    }
}

/// The passes through the CNN, whose convolutions differentiate through [`ModelBackend`].
impl<B: ModelBackend> Model<B> {
    /// Runs the network.
    ///
    /// `images` holds only the real images of the batch, `[images, 3, H, W]`; `slots` maps each
    /// of the `products x max_images` pooling slots to one of them, `[products * max_images]`.
    /// A product with fewer images than `max_images` fills its spare slots with one of its
    /// own images, so the element-wise max over its slots is the max over its images: padding
    /// cannot change the result, and no padded image goes through the CNN (so none enters
    /// the batch-norm statistics either).
    pub fn forward(
        &self,
        images: Tensor<B, 4>,
        slots: Tensor<B, 1, Int>,
        products: usize,
    ) -> ModelOutput<B> {
        self.pooled(self.photo_features(images), slots, products)
    }

    /// The CNN and the pre-pooling layer for each photo: `[images, 3, H, W]` to
    /// `[images, pre]`, the features the max-pool chooses among.
    pub fn photo_features(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = images; // [I, 3, H, W]
        for block in &self.blocks {
            x = block.forward(x);
        }
        let x: Tensor<B, 2> = self.pool.forward(x).flatten(1, 3); // [I, C*k*k]
        self.dropout
            .forward(self.relu.forward(self.pre_pool.forward(x))) // [I, pre]
    }
}

/// Cross-entropy of one head, summed over the labelled products with each term weighted.
///
/// `targets` holds class indices (any value where the label is missing) and `weights` holds
/// `1 / labelled products of the whole batch` where the label is present and 0 where it is
/// missing. Summing this over the parts of a batch split across devices gives the mean over
/// the whole batch, so data parallel training computes the same loss as one device.
///
/// With `smoothing` s > 0 the target distribution is `1 - s` on the given class plus `s / K`
/// on each of the head's K classes: the term is `-(1 - s) log p(target) - s mean_k log p(k)`.
pub fn weighted_cross_entropy<B: Backend>(
    logits: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
    weights: Tensor<B, 1>,
    smoothing: f32,
) -> Tensor<B, 1> {
    let [n, _] = logits.dims();
    let log_p = log_softmax(logits, 1); // [P, K]
    let picked: Tensor<B, 1> = log_p
        .clone()
        .gather(1, targets.reshape([n, 1]))
        .reshape([n]); // [P]
    let picked = if smoothing > 0.0 {
        let uniform: Tensor<B, 1> = log_p.mean_dim(1).reshape([n]); // [P]
        picked * (1.0 - smoothing) + uniform * smoothing
    } else {
        picked
    };
    (picked * weights).sum().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::backend::{Cpu, cpu_device};

    fn images(count: usize, seed: usize) -> Vec<f32> {
        (0..count * 3 * 32 * 32)
            .map(|i| (((i + seed) * 2_654_435_761) % 1000) as f32 / 1000.0 - 0.5)
            .collect()
    }

    fn run(model: &Model<Cpu>, pixels: Vec<f32>, slots: Vec<i32>, products: usize) -> Vec<f32> {
        let device = cpu_device();
        let n = pixels.len() / (3 * 32 * 32);
        let x = Tensor::from_data(TensorData::new(pixels, [n, 3, 32, 32]), &device);
        let count = slots.len();
        let s = Tensor::from_data(TensorData::new(slots, [count]), &device);
        let out = model.forward(x, s, products);
        assert_eq!(out.representation.dims(), [products, 64]);
        assert_eq!(out.logits[0].dims(), [products, 4]);
        out.representation.into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn padding_slots_do_not_change_a_product_and_its_images_are_max_pooled() {
        let config = ModelConfig {
            backbone: Backbone::Small,
            batch_norm: true,
            feature_grid: 1,
            dropout: 0.5,
            representation: 64,
            heads: vec![(Task::Colour, 4)],
        };
        // Inference backend: batch norm uses its running statistics, dropout is off, so a
        // product's result cannot depend on the rest of the batch.
        let model = config.init::<Cpu>(&cpu_device());
        let a = images(2, 1);
        let b = images(5, 2);
        // Product A alone, two slots.
        let alone = run(&model, a.clone(), vec![0, 1], 1);
        // A (2 photos, padded to 5 slots with its own photos) beside B (5 photos).
        let mut both = a.clone();
        both.extend(&b);
        let beside = run(&model, both, vec![0, 1, 0, 1, 0, 2, 3, 4, 5, 6], 2);
        for (x, y) in alone.iter().zip(&beside[..64]) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
        // The order of the photos does not matter (max is symmetric).
        let mut swapped = a[3 * 32 * 32..].to_vec();
        swapped.extend(&a[..3 * 32 * 32]);
        let reordered = run(&model, swapped, vec![0, 1], 1);
        for (x, y) in alone.iter().zip(&reordered) {
            assert!((x - y).abs() < 1e-5);
        }
        // And each photo counts: A's first photo alone gives another representation.
        let first = run(&model, a[..3 * 32 * 32].to_vec(), vec![0], 1);
        assert!(alone.iter().zip(&first).any(|(x, y)| (x - y).abs() > 1e-4));
    }

    #[test]
    fn zfnet_maps_224_pixels_to_the_published_6x6x256_features() {
        let config = ModelConfig {
            backbone: Backbone::Zfnet,
            batch_norm: true,
            feature_grid: 1,
            dropout: 0.5,
            representation: 1024,
            heads: vec![(Task::Type, 7), (Task::Colour, 46)],
        };
        let model = config.init::<Cpu>(&cpu_device());
        let mut x: Tensor<Cpu, 4> = Tensor::zeros([1, 3, 224, 224], &cpu_device());
        let sides: Vec<usize> = model
            .blocks
            .iter()
            .map(|b| {
                x = b.forward(x.clone());
                x.dims()[2]
            })
            .collect();
        assert_eq!(sides, vec![55, 13, 13, 13, 6]);
        assert_eq!(x.dims()[1], 256);
    }

    #[test]
    fn label_smoothing_mixes_the_uniform_target_into_the_weighted_loss() {
        let device = cpu_device();
        // Two products, three classes; the second product's label is missing (weight 0).
        let logits = [1.0f32, 2.0, 0.5, 0.0, 3.0, -1.0];
        let log_p: Vec<f32> = {
            let row = &logits[..3];
            let norm = row.iter().map(|x| x.exp()).sum::<f32>().ln();
            row.iter().map(|x| x - norm).collect()
        };
        let loss = |smoothing: f32| {
            let logits = Tensor::<Cpu, 1>::from_floats(logits, &device).reshape([2, 3]);
            let targets = Tensor::<Cpu, 1, Int>::from_ints([1, 2], &device);
            let weights = Tensor::<Cpu, 1>::from_floats([1.0, 0.0], &device);
            weighted_cross_entropy(logits, targets, weights, smoothing).into_scalar()
        };
        assert!((loss(0.0) + log_p[1]).abs() < 1e-5);
        let mean = log_p.iter().sum::<f32>() / 3.0;
        let expected = -(0.9 * log_p[1] + 0.1 * mean);
        assert!(
            (loss(0.1) - expected).abs() < 1e-5,
            "{} vs {expected}",
            loss(0.1)
        );
        assert!(
            loss(0.1) > loss(0.0),
            "the given class is the likeliest here"
        );
    }
}
