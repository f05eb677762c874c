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
///
/// With `label_smoothing` `a > 0` the target of each token is `(1 − a)` on `y_t` plus `a / V`
/// on each of the `V` classes, `−(1/N) Σ_t [(1 − a) log p(y_t) + (a / V) Σ_k log p(k)]`
/// (Szegedy et al. 2016): the loss training minimises when told to; validation reports the
/// plain one (`a = 0`).
pub fn token_cross_entropy(
    logits: Tensor<3>,
    targets: Tensor<2, Int>,
    pad: Option<usize>,
    label_smoothing: f64,
) -> Tensor<1> {
    let [b, t, v] = logits.dims();
    CrossEntropyLossConfig::new()
        .with_pad_tokens(pad.map(|id| vec![id]))
        .with_smoothing((label_smoothing > 0.0).then_some(label_smoothing as f32))
        .init(&logits.device())
        .forward(logits.reshape([b * t, v]), targets.reshape([b * t]))
}

/// The teacher-forced loss of `model` on `batch`: [`token_cross_entropy`] of the outputs it
/// predicts from the batch's target inputs, `<pad>` ignored, labels smoothed by
/// `label_smoothing` (0: the plain cross-entropy).
///
/// # Errors
///
/// The model's errors (e.g. a source longer than it accepts).
pub fn batch_loss(model: &Seq2Seq, batch: Batch, label_smoothing: f64) -> Result<Tensor<1>> {
    let out = model.forward(batch.source, &batch.source_lengths, batch.target_inputs)?;
    Ok(token_cross_entropy(
        out.logits,
        batch.target_outputs,
        Some(Vocab::PAD_ID),
        label_smoothing,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `−(1/N) Σ_t [(1 − a) log p(y_t) + (a / V) Σ_k log p(k)]` over the tokens that are not
    /// `pad`, in f64.
    fn by_hand(logits: &[[f64; 3]], targets: &[usize], pad: usize, a: f64) -> f64 {
        let mut sum = 0.0;
        let mut n = 0.0;
        for (row, &y) in logits.iter().zip(targets) {
            if y == pad {
                continue;
            }
            let norm = row.iter().map(|l| l.exp()).sum::<f64>().ln();
            let log_p: Vec<f64> = row.iter().map(|l| l - norm).collect();
            sum += (1.0 - a) * log_p[y] + a / row.len() as f64 * log_p.iter().sum::<f64>();
            n += 1.0;
        }
        -sum / n
    }

    #[test]
    fn smoothing_spreads_a_over_every_symbol_and_pad_tokens_do_not_count() {
        let logits = [
            [1.0, -0.5, 2.0],
            [0.3, 0.2, -1.0],
            [-2.0, 0.0, 0.5],
            [4.0, 1.0, 0.0],
        ];
        let targets = [2, 1, 0, 0];
        let device = Device::flex();
        let flat: Vec<f32> = logits.iter().flatten().map(|&l| l as f32).collect();
        let logits_t = Tensor::<3>::from_data(TensorData::new(flat, [2, 2, 3]), &device);
        let ids: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
        let targets_t = Tensor::<2, Int>::from_data(TensorData::new(ids, [2, 2]), &device);
        // Token 0 plays `<pad>`: the last two rows do not count.
        for a in [0.0, 0.1, 0.5] {
            let ours = token_cross_entropy(logits_t.clone(), targets_t.clone(), Some(0), a)
                .into_scalar::<f32>();
            let want = by_hand(&logits, &targets, 0, a);
            assert!(
                (f64::from(ours) - want).abs() < 1e-5,
                "a = {a}: {ours} against {want}"
            );
        }
        let plain = by_hand(&logits, &targets, 0, 0.0);
        assert!(
            by_hand(&logits, &targets, 0, 0.1) > plain,
            "the fixture is not degenerate"
        );
    }
}
