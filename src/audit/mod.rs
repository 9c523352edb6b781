//! The label audit: which given labels are probably wrong, and why.
//!
//! Two witnesses, each kept visible: [`confident`] (confident learning on a model's
//! out-of-fold probabilities, cleanlab's algorithm) and [`text`] (the product's own name and
//! attributes naming another class); [`combine`] ranks products by both with one documented
//! rule.
//!
//! Pure: no egui, no burn.

pub mod combine;
pub mod confident;
pub mod folds;
pub mod quality;
pub mod report;
pub mod text;
