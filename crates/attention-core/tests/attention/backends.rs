//! One attention module, its weights copied to each CPU backend, gives the same numbers.

use attention_core::{AttentionConfig, ScoreKind};
use burn::prelude::*;

use crate::reference::{assert_close, tensor3, values};

#[allow(deprecated)] // burn-ndarray is deprecated upstream; kept as a second reference backend.
fn ndarray() -> Device {
    Device::ndarray()
}

#[test]
fn flex_and_ndarray_agree_for_every_score() {
    let flex = Device::flex();
    let ndarray = ndarray();
    let (batch, src_len, tgt_len, dq, dk) = (3, 5, 4, 6, 6);
    let queries: Vec<f32> = (0..batch * tgt_len * dq)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
        .collect();
    let keys: Vec<f32> = (0..batch * src_len * dk)
        .map(|i| ((i * 29 % 19) as f32 - 9.0) / 5.0)
        .collect();
    for kind in ScoreKind::ALL {
        let on_flex = AttentionConfig::new(dq, dk)
            .with_score(kind)
            .init(&flex)
            .unwrap();
        let on_ndarray = on_flex.clone().to_device(&ndarray);
        let run = |attention: &attention_core::Attention, device: &Device| {
            let memory = attention
                .memory(tensor3(&keys, [batch, src_len, dk], device))
                .with_lengths(&[5, 2, 0])
                .unwrap();
            let out = attention.forward(&memory, tensor3(&queries, [batch, tgt_len, dq], device));
            (values(out.context), values(out.weights))
        };
        let (flex_context, flex_weights) = run(&on_flex, &flex);
        let (nd_context, nd_weights) = run(&on_ndarray, &ndarray);
        let as_f64 = |v: &[f32]| v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>();
        // Absolute 1e-5 on values of order 1 (assert_close scales by 1 + |expected|).
        assert_close(
            &nd_context,
            &as_f64(&flex_context),
            1e-5,
            &format!("{kind:?} context"),
        );
        assert_close(
            &nd_weights,
            &as_f64(&flex_weights),
            1e-5,
            &format!("{kind:?} weights"),
        );
    }
}
