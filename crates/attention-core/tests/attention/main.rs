//! Integration tests of attention-core, one module per concern.

// A plain-Rust f64 reference of scores, softmax and context, and tensor helpers.
mod reference;
// Hand-computed values for every score on tiny tensors.
mod hand_computed;
// Properties over random shapes and masks: sums, zeros on pads, padding invariance, extremes.
mod properties;
// Gradients of every score against central finite differences.
mod gradients;
// The same numbers on the flex and ndarray backends.
mod backends;
// Step sources (sequence steps and the memory read step by step) against composed ops.
mod step_sources;
