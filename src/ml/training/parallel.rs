//! One optimisation step, and data parallelism: with several devices each runs its share of
//! the batch on its own replica and thread, and the gradients are summed on the first.

use super::TrainError;
use crate::ml::data::Batch;
use crate::ml::model::{Model, weighted_cross_entropy};
use crate::ml::model_backend::TrainingBackend;
use crate::ml::tensors::{batch_inputs, head_targets};
use burn::optim::{GradientsAccumulator, GradientsParams, Optimizer};
use burn::prelude::*;

/// The loss of one step: the mean over the heads, and each head's.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLoss {
    /// Mean over the heads with labels in the batch.
    pub total: f32,
    /// Each head's mean cross-entropy over its labelled samples.
    pub heads: Vec<f32>,
}

/// One optimisation step over `batch`, split across `devices` (each part on its own replica
/// and thread when there are several), the loss smoothed by `smoothing` (see
/// [`weighted_cross_entropy`]); returns the updated model and the batch's loss. A replica
/// that fails fails the step.
pub fn step<B: TrainingBackend, O: Optimizer<Model<B>, B>>(
    model: Model<B>,
    optimizer: &mut O,
    batch: &Batch,
    devices: &[B::Device],
    learning_rate: f64,
    smoothing: f32,
) -> Result<(Model<B>, StepLoss), TrainError> {
    let (grads, loss) = gradients(&model, batch, devices, smoothing)?;
    let model = optimizer.step(learning_rate, model, grads);
    Ok((model, loss))
}

/// The summed gradients of the batch's loss (see [`step`]), without updating the model; an
/// error names the replica's device when one of several fails (a step without its part of
/// the batch would silently be another step).
pub fn gradients<B: TrainingBackend>(
    model: &Model<B>,
    batch: &Batch,
    devices: &[B::Device],
    smoothing: f32,
) -> Result<(GradientsParams, StepLoss), TrainError> {
    let labelled = batch.labelled();
    let active = labelled.iter().filter(|&&n| n > 0).count().max(1);
    if devices.len() == 1 {
        let (loss, heads) = part_loss(model, batch, &labelled, active, &devices[0], smoothing);
        let grads = GradientsParams::from_grads(loss.backward(), model);
        return Ok((grads, heads));
    }
    let parts = batch.split(devices.len());
    let main = devices[0].clone();
    let results: Vec<Result<(GradientsParams, StepLoss), TrainError>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = parts
                .iter()
                .zip(devices)
                .enumerate()
                .filter(|(_, (part, _))| !part.is_empty())
                .map(|(n, (part, device))| {
                    let name = format!("{n} (device {device:?})");
                    // Each thread gets its own fork: replicas sharing one model's autodiff graph
                    // across threads deadlock in burn-autodiff.
                    let replica = model.clone().fork(device);
                    let (labelled, main) = (&labelled, &main);
                    let spawned = std::thread::Builder::new()
                        .name("vitrine-replica".into())
                        .spawn_scoped(scope, move || {
                            crate::threads::catch(|| {
                                let (loss, heads) =
                                    part_loss(&replica, part, labelled, active, device, smoothing);
                                let grads = GradientsParams::from_grads(loss.backward(), &replica)
                                    .to_device(main, &replica);
                                (grads, heads)
                            })
                        });
                    (name, spawned)
                })
                .collect();
            handles
                .into_iter()
                .map(|(device, spawned)| {
                    let failed = |message: String| TrainError::Replica {
                        device: device.clone(),
                        message,
                    };
                    let handle =
                        spawned.map_err(|e| failed(format!("cannot start its thread: {e}")))?;
                    handle
                        .join()
                        .map_err(|panic| failed(crate::threads::panic_message(panic.as_ref())))?
                        .map_err(failed)
                })
                .collect()
        });
    let mut accumulator = GradientsAccumulator::<Model<B>>::new();
    let mut total = StepLoss {
        total: 0.0,
        heads: vec![0.0; labelled.len()],
    };
    for result in results {
        let (grads, loss) = result?;
        accumulator.accumulate(model, grads);
        total.total += loss.total;
        for (t, h) in total.heads.iter_mut().zip(loss.heads) {
            *t += h;
        }
    }
    Ok((accumulator.grads(), total))
}

/// The loss of one part of a batch, weighted so that the parts' losses sum to the batch's.
fn part_loss<B: TrainingBackend>(
    model: &Model<B>,
    part: &Batch,
    labelled: &[usize],
    active: usize,
    device: &B::Device,
    smoothing: f32,
) -> (Tensor<B, 1>, StepLoss) {
    let inputs = batch_inputs::<B>(part, device);
    let output = model.forward(inputs.images, inputs.slots, inputs.products);
    let losses: Vec<Tensor<B, 1>> = output
        .logits
        .into_iter()
        .enumerate()
        .map(|(h, logits)| {
            let (targets, weights) =
                head_targets::<B>(part, h, labelled[h], inputs.products, device);
            weighted_cross_entropy(logits, targets, weights, smoothing)
        })
        .collect();
    let heads = Tensor::cat(losses, 0); // [heads]
    let values: Vec<f32> = heads
        .clone()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .unwrap_or_default();
    let loss = heads.sum() / active as f32;
    let total = values.iter().sum::<f32>() / active as f32;
    (
        loss,
        StepLoss {
            total,
            heads: values,
        },
    )
}
