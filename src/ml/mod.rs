//! The multi-image multi-task model and its training engine. The only module that imports
//! burn.
//!
//! - [`model`]: the network (per-image CNN, pre-pooling layer, max over a product's photos,
//!   post-pooling layers, five heads) and its loss;
//! - [`model_backend`]: the model's convolutions and max-pools, with the CPU's gradients and
//!   pooling from the `vitrine-kernels` crate;
//! - [`data`]: split, classes, decoded-image cache, augmentation and batches on worker threads;
//! - [`training`]: the run on a named thread with typed events, checkpoints, stop and resume,
//!   data parallelism;
//! - [`evaluate`]: accuracy, confusion and predictions;
//! - [`saved`]: evaluating and predicting with a run's latest checkpoint;
//! - [`backend`]: devices (the CPU, CUDA GPUs with the `cuda` feature);
//! - [`memory`]: the allocator settings a training process runs with.

pub mod audit;
pub mod backend;
pub mod contributions;
pub mod data;
pub mod evaluate;
pub mod memory;
pub mod model;
pub mod model_backend;
pub mod norm;
pub mod saved;
mod tensors;
pub mod training;

pub use backend::Device;
pub use training::{Stopper, TrainError, TrainRequest, TrainingEvent, TrainingHandle, start};
