//! The model's 2-D convolution, with gradients a backend may compute its own way: on burn's
//! Flex CPU backend as matrix products ([`vitrine_kernels::conv`]), elsewhere as burn computes them.
//!
//! [`ModelBackend::conv2d_model`] is the convolution the model calls. On a plain backend it is
//! burn's `conv2d`; on `Autodiff<B>` it is burn's autodiff convolution op again (the same
//! forward pass, state and graph), with the backward pass asking `B` for the weight and input
//! gradients through [`ModelBackend::conv2d_weight_gradient`] and
//! [`ModelBackend::conv2d_input_gradient`]. Flex answers those with [`vitrine_kernels::conv`]; every other
//! backend (LibTorch, CUDA, wgpu) with burn's own.

use burn::backend::Flex;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::ops::{ConvOptions, FloatTensor, IntTensor, MaxPool2dWithIndices, ModuleOps};
use burn::tensor::{DType, Shape, TensorData, TensorMetadata};
use vitrine_kernels::conv::{ConvGeometry, input_gradient, weight_gradient};
use vitrine_kernels::pool::{PoolGeometry, max_pool_with_indices};

/// A backend the model trains on: its convolution and that convolution's gradients.
pub trait ModelBackend: Backend {
    /// The model's convolution (burn's `conv2d`, differentiated through the gradients below
    /// on an autodiff backend).
    fn conv2d_model(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, bias, options)
    }

    /// The gradient of the convolution's weight: burn's unless the backend has better.
    fn conv2d_weight_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, output_grad, options)
    }

    /// The model's max-pooling (burn's `max_pool2d`, dilation 1, sizes rounded down;
    /// differentiated through the indices of [`ModelBackend::max_pool2d_indexed`] on an
    /// autodiff backend).
    fn max_pool2d_model(x: FloatTensor<Self>, pool: PoolOptions) -> FloatTensor<Self> {
        Self::max_pool2d(x, pool.kernel, pool.stride, pool.padding, [1, 1], false)
    }

    /// Max-pooling with the index of each maximum: burn's unless the backend has better.
    fn max_pool2d_indexed(x: FloatTensor<Self>, pool: PoolOptions) -> MaxPool2dWithIndices<Self> {
        Self::max_pool2d_with_indices(x, pool.kernel, pool.stride, pool.padding, [1, 1], false)
    }

    /// The gradient of the convolution's input: burn's unless the backend has better.
    fn conv2d_input_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, output_grad, options)
    }
}

/// Flex: both gradients as one matrix product per photo (f32, groups 1; burn's otherwise).
impl ModelBackend for Flex {
    fn conv2d_weight_gradient(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        let g = geometry(&x, &weight, &output_grad, &options);
        gradient(g, &x, &output_grad, weight.shape(), weight_gradient)
            .unwrap_or_else(|| Self::conv2d_weight_backward(x, weight, output_grad, options))
    }

    fn conv2d_input_gradient(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        let g = geometry(&x, &weight, &output_grad, &options);
        gradient(g, &weight, &output_grad, x.shape(), input_gradient)
            .unwrap_or_else(|| Self::conv2d_x_backward(x, weight, output_grad, options))
    }

    fn max_pool2d_model(x: FlexTensor, pool: PoolOptions) -> FlexTensor {
        Self::max_pool2d_indexed(x, pool).output
    }

    fn max_pool2d_indexed(x: FlexTensor, pool: PoolOptions) -> MaxPool2dWithIndices<Flex> {
        let x = x.to_contiguous();
        let shape = x.shape();
        let values = x.as_slice::<f32>().filter(|_| shape.num_dims() == 4);
        let Some(values) = values else {
            return Self::max_pool2d_with_indices(
                x,
                pool.kernel,
                pool.stride,
                pool.padding,
                [1, 1],
                false,
            );
        };
        let g = PoolGeometry {
            planes: shape[0] * shape[1],
            input: [shape[2], shape[3]],
            kernel: pool.kernel,
            stride: pool.stride,
            padding: pool.padding,
        };
        let (output, indices) = max_pool_with_indices(&g, values);
        let [oh, ow] = g.output();
        let out_shape = [shape[0], shape[1], oh, ow];
        MaxPool2dWithIndices::new(
            FlexTensor::from_data(TensorData::new(output, out_shape)),
            FlexTensor::from_data(TensorData::new(indices, out_shape)),
        )
    }
}

/// A max-pooling's window, stride and padding (dilation 1, sizes rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Padding along height and width (each side).
    pub padding: [usize; 2],
}

/// `kernel`'s gradient of `shape` from the f32 values of `a` and `b` (made contiguous), for a
/// convolution of geometry `g`; `None` where [`geometry`] found none (burn's op then serves).
fn gradient(
    g: Option<ConvGeometry>,
    a: &FlexTensor,
    b: &FlexTensor,
    shape: Shape,
    kernel: fn(&ConvGeometry, &[f32], &[f32]) -> Vec<f32>,
) -> Option<FlexTensor> {
    let g = g?;
    let (a, b) = (a.to_contiguous(), b.to_contiguous());
    let grad = kernel(&g, a.as_slice::<f32>()?, b.as_slice::<f32>()?);
    Some(FlexTensor::from_data(TensorData::new(grad, shape)))
}

/// The sizes of a Flex convolution [`vitrine_kernels::conv`] computes: f32 tensors, groups 1, and an
/// output gradient of the shape the options give.
fn geometry(
    x: &FlexTensor,
    weight: &FlexTensor,
    output_grad: &FlexTensor,
    options: &ConvOptions<2>,
) -> Option<ConvGeometry> {
    let f32s = [x, weight, output_grad]
        .iter()
        .all(|t| t.dtype() == DType::F32);
    let (xs, ws, ys) = (x.shape(), weight.shape(), output_grad.shape());
    if !f32s || options.groups != 1 || xs.num_dims() != 4 || ws.num_dims() != 4 {
        return None;
    }
    let g = ConvGeometry {
        batch: xs[0],
        channels_in: xs[1],
        channels_out: ws[0],
        input: [xs[2], xs[3]],
        kernel: [ws[2], ws[3]],
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
    };
    let [oh, ow] = g.output();
    (ws[1] == xs[1] && ys.dims::<4>() == [xs[0], ws[0], oh, ow]).then_some(g)
}

#[cfg(feature = "tch")]
impl ModelBackend for burn::backend::LibTorch {}

#[cfg(feature = "cuda")]
impl ModelBackend for burn::backend::Cuda {}

#[cfg(any(feature = "cuda", feature = "wgpu"))]
impl ModelBackend for super::backend::GpuUnfused {}

#[cfg(all(feature = "wgpu", not(feature = "cuda")))]
impl ModelBackend for burn::backend::Wgpu {}

/// Autodiff: burn's convolution and max-pooling ops, their passes asking `B` for the
/// gradients and the pooling's indices.
impl<B: ModelBackend, C: CheckpointStrategy> ModelBackend for Autodiff<B, C> {
    fn max_pool2d_model(x: FloatTensor<Self>, pool: PoolOptions) -> FloatTensor<Self> {
        match MaxPool
            .prepare::<C>([x.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = prep.checkpoint(&x);
                let output = B::max_pool2d_indexed(x.primitive, pool);
                prep.finish((state, output.indices, pool), output.output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::max_pool2d_model(x.primitive, pool)),
        }
    }

    fn conv2d_model(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match bias {
            Some(bias) => match ConvWithBias
                .prepare::<C>([x.node.clone(), weight.node.clone(), bias.node.clone()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(mut prep) => {
                    let state = (
                        prep.checkpoint(&x),
                        prep.checkpoint(&weight),
                        prep.checkpoint(&bias),
                        options.clone(),
                    );
                    let y = B::conv2d(x.primitive, weight.primitive, Some(bias.primitive), options);
                    prep.finish(state, y)
                }
                OpsKind::UnTracked(prep) => prep.finish(B::conv2d(
                    x.primitive,
                    weight.primitive,
                    Some(bias.primitive),
                    options,
                )),
            },
            None => match ConvNoBias
                .prepare::<C>([x.node.clone(), weight.node.clone()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(mut prep) => {
                    let state = (
                        prep.checkpoint(&x),
                        prep.checkpoint(&weight),
                        options.clone(),
                    );
                    prep.finish(
                        state,
                        B::conv2d(x.primitive, weight.primitive, None, options),
                    )
                }
                OpsKind::UnTracked(prep) => {
                    prep.finish(B::conv2d(x.primitive, weight.primitive, None, options))
                }
            },
        }
    }
}

/// The backward pass of a max-pooling.
#[derive(Debug)]
struct MaxPool;

impl<B: ModelBackend> Backward<B, 1> for MaxPool {
    type State = (NodeId, IntTensor<B>, PoolOptions);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, indices, pool) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
        if let Some(node) = node {
            let dx = B::max_pool2d_with_indices_backward(
                x,
                pool.kernel,
                pool.stride,
                pool.padding,
                [1, 1],
                false,
                grad,
                indices,
            );
            grads.register::<B>(node.id, dx.x_grad);
        }
    }
}

/// The backward pass of a convolution with a bias.
#[derive(Debug)]
struct ConvWithBias;

/// The backward pass of a convolution without a bias.
#[derive(Debug)]
struct ConvNoBias;

impl<B: ModelBackend> Backward<B, 3> for ConvWithBias {
    type State = (NodeId, NodeId, NodeId, ConvOptions<2>);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight, bias, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
        let bias = checkpointer.retrieve_node_output::<FloatTensor<B>>(bias);
        if let Some(node) = node_x {
            let dx =
                B::conv2d_input_gradient(x.clone(), weight.clone(), grad.clone(), options.clone());
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_weight {
            let dw = B::conv2d_weight_gradient(x.clone(), weight, grad.clone(), options);
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_bias {
            grads.register::<B>(node.id, B::conv2d_bias_backward(x, bias, grad));
        }
    }
}

impl<B: ModelBackend> Backward<B, 2> for ConvNoBias {
    type State = (NodeId, NodeId, ConvOptions<2>);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
        if let Some(node) = node_x {
            let dx =
                B::conv2d_input_gradient(x.clone(), weight.clone(), grad.clone(), options.clone());
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_weight {
            grads.register::<B>(node.id, B::conv2d_weight_gradient(x, weight, grad, options));
        }
    }
}

/// A backend a model trains on: differentiable, with [`ModelBackend`] convolutions both in
/// training and in the validation passes of its inner backend.
pub trait TrainingBackend: AutodiffBackend<InnerBackend: ModelBackend> + ModelBackend {}

impl<B: AutodiffBackend<InnerBackend: ModelBackend> + ModelBackend> TrainingBackend for B {}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tensor, TensorPrimitive};

    type Training = Autodiff<Flex>;

    /// The model's convolution on `Autodiff<Flex>` (gradients from [`vitrine_kernels::conv`])
    /// against burn's own `conv2d` on the same backend: the same output, and the same
    /// gradients for input, weight and bias, with and without a bias, strided and padded.
    #[test]
    fn the_model_convolution_differentiates_as_burns() {
        let device = Default::default();
        for (stride, padding, bias) in [(1, 1, false), (2, 1, true), (2, 0, false)] {
            let x = Tensor::<Training, 4>::random(
                [3, 4, 11, 9],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let w = Tensor::<Training, 4>::random(
                [5, 4, 3, 3],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let b = Tensor::<Training, 1>::random([5], Distribution::Normal(0.0, 1.0), &device);
            let options = ConvOptions::new([stride, stride], [padding, padding], [1, 1], 1);
            let run = |ours: bool| {
                let (x, w, b) = (
                    x.clone().require_grad(),
                    w.clone().require_grad(),
                    b.clone().require_grad(),
                );
                let bias = bias.then(|| b.clone());
                let y = if ours {
                    Tensor::<Training, 4>::from_primitive(TensorPrimitive::Float(
                        Training::conv2d_model(
                            x.clone().into_primitive().tensor(),
                            w.clone().into_primitive().tensor(),
                            bias.map(|b| b.into_primitive().tensor()),
                            options.clone(),
                        ),
                    ))
                } else {
                    burn::tensor::module::conv2d(x.clone(), w.clone(), bias, options.clone())
                };
                // A loss whose output gradient is not uniform.
                let weights = Tensor::<Training, 4>::ones(y.dims(), &device).cumsum(3);
                let grads = (y.clone() * weights).sum().backward();
                let values =
                    |t: Option<Tensor<Flex, 4>>| t.map(|t| t.into_data().to_vec::<f32>().unwrap());
                (
                    y.into_data().to_vec::<f32>().unwrap(),
                    values(x.grad(&grads)),
                    values(w.grad(&grads)),
                    b.grad(&grads)
                        .map(|g| g.into_data().to_vec::<f32>().unwrap()),
                )
            };
            let (ours, burns) = (run(true), run(false));
            let close = |a: &[f32], b: &[f32]| {
                assert_eq!(a.len(), b.len());
                for (u, v) in a.iter().zip(b) {
                    assert!((u - v).abs() <= 1e-3 * (1.0 + v.abs()), "{u} vs {v}");
                }
            };
            close(&ours.0, &burns.0);
            close(&ours.1.unwrap(), &burns.1.unwrap());
            close(&ours.2.unwrap(), &burns.2.unwrap());
            assert_eq!(ours.3.is_some(), bias);
            if bias {
                close(&ours.3.unwrap(), &burns.3.unwrap());
            }
        }
    }

    /// The model's max-pooling on `Autodiff<Flex>` (indices from [`vitrine_kernels::pool`])
    /// against burn's `max_pool2d`: the same output and input gradient, for the model's two
    /// poolings (2 x 2; 3 x 3 stride 2 padded by 1) and an unpadded 3 x 3 stride 2.
    #[test]
    fn the_model_max_pooling_differentiates_as_burns() {
        let device = Default::default();
        for (kernel, stride, padding) in [(2, 2, 0), (3, 2, 1), (3, 2, 0)] {
            let x = Tensor::<Training, 4>::random(
                [2, 3, 13, 10],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            let pool = PoolOptions {
                kernel: [kernel; 2],
                stride: [stride; 2],
                padding: [padding; 2],
            };
            let run = |ours: bool| {
                let x = x.clone().require_grad();
                let y = if ours {
                    Tensor::<Training, 4>::from_primitive(TensorPrimitive::Float(
                        Training::max_pool2d_model(x.clone().into_primitive().tensor(), pool),
                    ))
                } else {
                    burn::tensor::module::max_pool2d(
                        x.clone(),
                        pool.kernel,
                        pool.stride,
                        pool.padding,
                        [1, 1],
                        false,
                    )
                };
                let weights = Tensor::<Training, 4>::ones(y.dims(), &device).cumsum(3);
                let grads = (y.clone() * weights).sum().backward();
                (
                    y.dims(),
                    y.into_data().to_vec::<f32>().unwrap(),
                    x.grad(&grads).unwrap().into_data().to_vec::<f32>().unwrap(),
                )
            };
            assert_eq!(run(true), run(false));
            // Without autodiff (evaluation), the same output.
            let plain = x.clone().inner();
            let ours = Tensor::<Flex, 4>::from_primitive(TensorPrimitive::Float(
                Flex::max_pool2d_model(plain.clone().into_primitive().tensor(), pool),
            ));
            let burns = burn::tensor::module::max_pool2d(
                plain,
                pool.kernel,
                pool.stride,
                pool.padding,
                [1, 1],
                false,
            );
            assert_eq!(ours.into_data(), burns.into_data());
        }
    }
}
