//! Padding masks: which key positions are padding.
//!
//! One convention throughout, Burn's: **`true` means padded (masked out)**, as in
//! `burn::nn::attention::generate_padding_mask`.

use burn::prelude::*;
use burn::tensor::{Bool, TensorData};

use crate::AttentionError;

/// The padding mask of a batch whose row `b` holds `lengths[b]` real tokens followed by pads.
///
/// Returns `src_pad_mask: [batch, src_len]`, `true` at `j >= lengths[b]` (padding).
/// A length of 0 gives a row that is all padding; attention then returns zero weights and a
/// zero context for it.
///
/// # Errors
///
/// [`AttentionError::LengthTooLong`] when a length exceeds `src_len`.
///
/// # Example
///
/// ```
/// # use burn::prelude::*;
/// let device = Device::flex();
/// let mask = attention_core::pad_mask_from_lengths(&[3, 1], 3, &device)?;
/// let expected = [[false, false, false], [false, true, true]];
/// assert_eq!(mask.into_data().try_into_vec::<bool>().unwrap(), expected.concat());
/// # Ok::<(), attention_core::AttentionError>(())
/// ```
pub fn pad_mask_from_lengths(
    lengths: &[usize],
    src_len: usize,
    device: &Device,
) -> Result<Tensor<2, Bool>, AttentionError> {
    let mut flags = Vec::with_capacity(lengths.len() * src_len);
    for (row, &length) in lengths.iter().enumerate() {
        if length > src_len {
            return Err(AttentionError::LengthTooLong {
                row,
                length,
                src_len,
            });
        }
        flags.extend((0..src_len).map(|j| j >= length));
    }
    let data = TensorData::new(flags, [lengths.len(), src_len]);
    Ok(Tensor::from_data(data, device))
}
