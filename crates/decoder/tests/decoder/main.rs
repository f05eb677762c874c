//! Decoder integration tests, one module per concern.

// A tiny reversal task and its batches.
mod task;
// Alone vs padded batch, beam k = 1 vs greedy, teacher forcing vs stepping, pads.
mod batching;
// Ensembles: of one and of a model with itself as the model; two models by their mean.
mod ensemble;
// Every ordering × score × cell learns the task.
mod learning;
// Options that do not fit together are errors.
mod configuration;
