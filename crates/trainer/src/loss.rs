//! The teacher-forced token loss, the one training minimises and validation reports.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use decoder::Seq2Seq;

use crate::Result;
use crate::batch::Batch;
use inference::Vocab;

/// The mean cross-entropy `−(1/N) Σ log p(y_t)` of `logits` `[batch, tgt_len, vocab]` against
/// `targets` `[batch, tgt_len]` over the `N` target tokens that are not `pad` (every token
/// counts when `pad` is `None`).
pub fn token_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    pad: Option<usize>,
) -> Tensor<1> {
    let [b, t, v] = logits.dims();
    CrossEntropyLossConfig::new()
        .with_pad_tokens(pad.map(|id| vec![id]))
        .init(&logits.device())
        .forward(logits.reshape([b * t, v]), targets.reshape([b * t]))
}

/// The teacher-forced loss of `model` on `batch`: [`token_cross_entropy`] of the outputs it
/// predicts from the batch's target inputs, `<pad>` ignored.
///
/// # Errors
///
/// The model's errors (e.g. a source longer than it accepts).
pub fn batch_loss(model: &Seq2Seq, batch: Batch) -> Result<Tensor<1>> {
    let out = model.forward(batch.source, &batch.source_lengths, batch.target_inputs)?;
    Ok(token_cross_entropy(
        out.logits,
        batch.target_outputs,
        Some(Vocab::PAD_ID),
    ))
}
