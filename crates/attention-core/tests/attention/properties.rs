//! Properties over many random shapes, masks and scores (proptest, 256 cases each).

use attention_core::{AttentionConfig, ScoreKind, masked_softmax};
use burn::prelude::*;
use proptest::prelude::*;

use crate::reference::{
    RefScore, assert_close, attend, mask2, rows, softmax, tensor2, tensor3, values,
};

/// One random attention problem.
#[derive(Debug, Clone)]
struct Case {
    kind: ScoreKind,
    batch: usize,
    src_len: usize,
    tgt_len: usize,
    query_size: usize,
    key_size: usize,
    /// True length of each row; 0 makes a row that is all padding.
    lengths: Vec<usize>,
    queries: Vec<f32>,
    values: Vec<f32>,
    /// Extra keys appended (as padding) for the invariance property: `[batch, extra, key_size]`.
    extra_values: Vec<f32>,
    extra: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..4usize,
        1..=3usize,
        1..=6usize,
        1..=3usize,
        1..=5usize,
        1..=5usize,
        1..=3usize,
    )
        .prop_flat_map(
            |(k, batch, src_len, tgt_len, query_size, key_size, extra)| {
                let kind = ScoreKind::ALL[k];
                let key_size = if kind.needs_equal_sizes() {
                    query_size
                } else {
                    key_size
                };
                (
                    Just((kind, batch, src_len, tgt_len, query_size, key_size, extra)),
                    prop::collection::vec(0..=src_len, batch),
                    prop::collection::vec(-3.0f32..3.0, batch * tgt_len * query_size),
                    prop::collection::vec(-3.0f32..3.0, batch * src_len * key_size),
                    prop::collection::vec(-3.0f32..3.0, batch * extra * key_size),
                )
            },
        )
        .prop_map(
            |(
                (kind, batch, src_len, tgt_len, query_size, key_size, extra),
                lengths,
                queries,
                values,
                extra_values,
            )| Case {
                kind,
                batch,
                src_len,
                tgt_len,
                query_size,
                key_size,
                lengths,
                queries,
                values,
                extra_values,
                extra,
            },
        )
}

/// `[batch, src_len + extra, key_size]`: each row's keys followed by its extra keys.
fn with_extra_keys(c: &Case) -> Vec<f32> {
    let row = c.src_len * c.key_size;
    let extra_row = c.extra * c.key_size;
    (0..c.batch)
        .flat_map(|b| {
            c.values[b * row..(b + 1) * row]
                .iter()
                .chain(&c.extra_values[b * extra_row..(b + 1) * extra_row])
                .copied()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The tensor code agrees with the f64 reference; weights are exactly 0 on pads, rows with a
    /// real key sum to 1, all-padded rows give zero weights and a zero context; step = forward.
    #[test]
    fn attention_matches_reference_and_respects_padding(c in case()) {
        let device = Device::flex();
        let attention = AttentionConfig::new(c.query_size, c.key_size)
            .with_score(c.kind)
            .init(&device)
            .unwrap();
        let score = RefScore::of(&attention);
        let memory = attention
            .memory(tensor3(&c.values, [c.batch, c.src_len, c.key_size], &device))
            .with_lengths(&c.lengths)
            .unwrap();
        let queries = tensor3(&c.queries, [c.batch, c.tgt_len, c.query_size], &device);
        let out = attention.forward(&memory, queries.clone());
        let weights = values(out.weights);
        let context = values(out.context);
        prop_assert!(weights.iter().chain(&context).all(|x| x.is_finite()));

        for b in 0..c.batch {
            let h = rows(&c.values[b * c.src_len * c.key_size..(b + 1) * c.src_len * c.key_size], c.key_size);
            let pad: Vec<bool> = (0..c.src_len).map(|j| j >= c.lengths[b]).collect();
            for t in 0..c.tgt_len {
                let q0 = (b * c.tgt_len + t) * c.query_size;
                let s: Vec<f64> = c.queries[q0..q0 + c.query_size].iter().map(|x| f64::from(*x)).collect();
                let (ref_context, ref_weights) = attend(&score, &s, &h, &pad);
                let w0 = (b * c.tgt_len + t) * c.src_len;
                let w = &weights[w0..w0 + c.src_len];
                let ctx = &context[(b * c.tgt_len + t) * c.key_size..][..c.key_size];
                assert_close(w, &ref_weights, 1e-4, "weights");
                assert_close(ctx, &ref_context, 1e-4, "context");
                for pad_weight in &w[c.lengths[b]..] {
                    prop_assert_eq!(*pad_weight, 0.0, "pad weight must be exactly zero");
                }
                if c.lengths[b] == 0 {
                    prop_assert!(ctx.iter().all(|x| *x == 0.0), "all-padded row: zero context");
                } else {
                    let sum: f32 = w.iter().sum();
                    prop_assert!((sum - 1.0).abs() <= 1e-5, "row sums to {}", sum);
                }
            }
        }

        // One query per row, step by step, gives the same as all steps at once.
        for t in 0..c.tgt_len {
            let query = queries.clone().narrow(1, t, 1).squeeze_dim::<2>(1);
            let step = attention.step(&memory, query);
            let step_weights = values(step.weights);
            for b in 0..c.batch {
                let all = &weights[(b * c.tgt_len + t) * c.src_len..][..c.src_len];
                let one = &step_weights[b * c.src_len..][..c.src_len];
                for (x, y) in all.iter().zip(one) {
                    prop_assert!((x - y).abs() <= 1e-6);
                }
            }
        }
    }

    /// Appending padded keys to every row changes neither the weights of the real keys nor the
    /// context (≤ 1e-6), and the appended keys get exactly zero weight.
    #[test]
    fn appending_padded_keys_changes_nothing(c in case()) {
        let device = Device::flex();
        let attention = AttentionConfig::new(c.query_size, c.key_size)
            .with_score(c.kind)
            .init(&device)
            .unwrap();
        let queries = tensor3(&c.queries, [c.batch, c.tgt_len, c.query_size], &device);
        let short = attention
            .memory(tensor3(&c.values, [c.batch, c.src_len, c.key_size], &device))
            .with_lengths(&c.lengths)
            .unwrap();
        let long_len = c.src_len + c.extra;
        let long = attention
            .memory(tensor3(&with_extra_keys(&c), [c.batch, long_len, c.key_size], &device))
            .with_lengths(&c.lengths)
            .unwrap();
        let a = attention.forward(&short, queries.clone());
        let b = attention.forward(&long, queries);
        let (wa, wb) = (values(a.weights), values(b.weights));
        for row in 0..c.batch * c.tgt_len {
            let short_row = &wa[row * c.src_len..][..c.src_len];
            let long_row = &wb[row * long_len..][..long_len];
            for (x, y) in short_row.iter().zip(long_row) {
                prop_assert!((x - y).abs() <= 1e-6, "weight {} became {}", x, y);
            }
            prop_assert!(long_row[c.src_len..].iter().all(|w| *w == 0.0));
        }
        for (x, y) in values(a.context).iter().zip(values(b.context)) {
            prop_assert!((x - y).abs() <= 1e-6, "context {} became {}", x, y);
        }
    }

    /// Scores of magnitude up to 1e4 give finite weights equal to the f64 softmax, with or
    /// without a mask.
    #[test]
    fn softmax_is_stable_for_huge_scores(
        (rows_n, cols, scores, pad) in (1..=4usize, 1..=8usize).prop_flat_map(|(r, c)| (
            Just(r), Just(c),
            prop::collection::vec(prop_oneof![-1e4f32..1e4, Just(1e4f32), Just(-1e4f32)], r * c),
            prop::collection::vec(any::<bool>(), r * c),
        ))
    ) {
        let device = Device::flex();
        for masked in [false, true] {
            let pad_mask = masked.then(|| mask2(&pad, [rows_n, cols], &device));
            let weights = values(masked_softmax(tensor2(&scores, [rows_n, cols], &device), pad_mask));
            for r in 0..rows_n {
                let row: Vec<f64> = scores[r * cols..(r + 1) * cols].iter().map(|x| f64::from(*x)).collect();
                let row_pad: Vec<bool> = if masked { pad[r * cols..(r + 1) * cols].to_vec() } else { vec![false; cols] };
                let expected = softmax(&row, &row_pad);
                let got = &weights[r * cols..(r + 1) * cols];
                prop_assert!(got.iter().all(|x| x.is_finite()));
                for (g, e) in got.iter().zip(&expected) {
                    prop_assert!((f64::from(*g) - e).abs() <= 1e-5, "got {} expected {}", g, e);
                }
            }
        }
    }
}

#[test]
fn all_padded_row_gives_zero_weights_and_context_for_every_score() {
    let device = Device::flex();
    for kind in ScoreKind::ALL {
        let attention = AttentionConfig::new(3, 3)
            .with_score(kind)
            .init(&device)
            .unwrap();
        let memory = attention
            .memory(Tensor::ones([2, 4, 3], &device))
            .with_lengths(&[0, 4])
            .unwrap();
        let out = attention.step(&memory, Tensor::ones([2, 3], &device));
        let weights = values(out.weights);
        let context = values(out.context);
        assert_eq!(
            &weights[..4],
            &[0.0; 4],
            "{kind:?}: weights of the empty row"
        );
        assert_eq!(
            &context[..3],
            &[0.0; 3],
            "{kind:?}: context of the empty row"
        );
        assert!((weights[4..].iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }
}

#[test]
fn pad_mask_and_lengths_combine() {
    let device = Device::flex();
    let attention = AttentionConfig::new(2, 2)
        .with_score(ScoreKind::Dot)
        .init(&device)
        .unwrap();
    let memory = attention
        .memory(Tensor::ones([1, 4, 2], &device))
        .with_pad_mask(mask2(&[true, false, false, false], [1, 4], &device))
        .with_lengths(&[3])
        .unwrap();
    let weights = values(
        attention
            .step(&memory, Tensor::ones([1, 2], &device))
            .weights,
    );
    assert_close(&weights, &[0.0, 0.5, 0.5, 0.0], 1e-6, "weights");
}

#[test]
fn memory_select_follows_rows() {
    let device = Device::flex();
    let attention = AttentionConfig::new(2, 2).init(&device).unwrap();
    let h: Vec<f32> = (0..12).map(|x| x as f32 / 10.0).collect();
    let memory = attention
        .memory(tensor3(&h, [2, 3, 2], &device))
        .with_lengths(&[3, 1])
        .unwrap();
    let query = tensor2(&[0.3, -0.2, 0.5, 0.1], [2, 2], &device);
    let full = values(attention.step(&memory, query.clone()).weights);
    let picked = memory.select(Tensor::from_ints([1, 1, 0], &device));
    let query = query.select(0, Tensor::from_ints([1, 1, 0], &device));
    let got = values(attention.step(&picked, query).weights);
    let expected: Vec<f64> = [&full[3..6], &full[3..6], &full[0..3]]
        .concat()
        .into_iter()
        .map(f64::from)
        .collect();
    assert_close(&got, &expected, 1e-7, "selected weights");
}
