//! vitrine's CPU training kernels, on plain slices (no burn, no egui): the gradients of a 2-D
//! convolution as one matrix product per photo ([`conv`]) and 2-D max-pooling with the index
//! of each maximum ([`pool`]). A crate of their own so that test builds, which leave vitrine
//! itself unoptimised, still optimise these loops (the root `Cargo.toml`'s profiles); the
//! glue to burn's backends is vitrine's `ml::model_backend`.

pub mod conv;
pub mod pool;
