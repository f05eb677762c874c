//! Trainer integration tests, one module per concern.

// WER/PER, BLEU and chrF on hand-made cases and a real file pair (values from sacreBLEU 2.6.0).
mod metrics;
// Data files: parsing and the errors of bad ones.
mod data_files;
// A real (short) dates training run: accuracy, resume, eval/predict/plot outputs.
mod end_to_end;
// What a run records about the code that made it.
mod provenance;
// A training step on several threads: the same gradients, a reproducible run.
mod data_parallel;
// Subword vocabularies: learning, the text round trip, a run's tokenizer.json.
mod subwords;
