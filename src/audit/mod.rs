//! The label audit: which given labels are probably wrong, and why.
//!
//! Three witnesses, each kept visible: [`confident`] (confident learning on a model's
//! out-of-fold probabilities, cleanlab's algorithm), [`text`] (the product's own name and
//! attributes naming another class) and [`duplicate`] (its duplicates carrying another
//! class, where they were searched); [`combine`] ranks products by them with one documented
//! rule.
//!
//! Pure: no egui, no burn.

pub mod combine;
pub mod confident;
pub mod duplicate;
pub mod folds;
pub mod quality;
pub mod report;
pub mod text;
