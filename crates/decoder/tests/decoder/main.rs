//! Decoder integration tests, one module per concern.

// A tiny reversal task and its batches.
mod task;
// Alone vs padded batch, beam k = 1 vs greedy, teacher forcing vs stepping, pads.
mod batching;
// Every ordering × score × cell learns the task.
mod learning;
// Options that do not fit together are errors.
mod configuration;
