//! An independent f64 implementation of the seed's equations, written with loops over plain
//! vectors, to check the tensor code against; and small tensor helpers.

use attention_core::{Attention, Score};
use burn::prelude::*;
use burn::tensor::{Bool, TensorData};

/// Row-major `[rows, cols]` matrix.
#[derive(Debug, Clone)]
pub(crate) struct Matrix {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) data: Vec<f64>,
}

impl Matrix {
    pub(crate) fn from_tensor(t: Tensor<2>) -> Self {
        let [rows, cols] = t.dims();
        let data = t.into_data().try_into_vec::<f32>().unwrap();
        Self {
            rows,
            cols,
            data: data.into_iter().map(f64::from).collect(),
        }
    }

    pub(crate) fn at(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.cols + c]
    }

    /// `x · M` for a row vector `x` of length `rows`.
    pub(crate) fn left_mul(&self, x: &[f64]) -> Vec<f64> {
        assert_eq!(x.len(), self.rows);
        (0..self.cols)
            .map(|c| (0..self.rows).map(|r| x[r] * self.at(r, c)).sum())
            .collect()
    }
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The parameters of an [`Attention`], read out as f64.
pub(crate) enum RefScore {
    Dot {
        scale: f64,
    },
    General {
        w: Matrix,
    },
    Additive {
        wq: Matrix,
        wk: Matrix,
        b: Vec<f64>,
        v: Matrix,
    },
}

impl RefScore {
    pub(crate) fn of(attention: &Attention) -> Self {
        match &attention.score {
            Score::Dot(d) | Score::ScaledDot(d) => RefScore::Dot {
                scale: f64::from(d.scale),
            },
            Score::General(g) => RefScore::General {
                w: Matrix::from_tensor(g.key_proj.weight.val()),
            },
            Score::Additive(a) => RefScore::Additive {
                wq: Matrix::from_tensor(a.query_proj.weight.val()),
                wk: Matrix::from_tensor(a.key_proj.weight.val()),
                b: a.key_proj
                    .bias
                    .as_ref()
                    .unwrap()
                    .val()
                    .into_data()
                    .try_into_vec::<f32>()
                    .unwrap()
                    .into_iter()
                    .map(f64::from)
                    .collect(),
                v: Matrix::from_tensor(a.energy.weight.val()),
            },
        }
    }

    /// `e_j` of query `s` against each key `h_j`.
    pub(crate) fn scores(&self, s: &[f64], h: &[Vec<f64>]) -> Vec<f64> {
        h.iter()
            .map(|hj| match self {
                RefScore::Dot { scale } => scale * dot(s, hj),
                RefScore::General { w } => dot(s, &w.left_mul(hj)),
                RefScore::Additive { wq, wk, b, v } => {
                    let q = wq.left_mul(s);
                    let k = wk.left_mul(hj);
                    let hidden: Vec<f64> =
                        (0..q.len()).map(|a| (q[a] + k[a] + b[a]).tanh()).collect();
                    v.left_mul(&hidden)[0]
                }
            })
            .collect()
    }
}

/// Softmax over the unpadded entries; padded and all-padded rows give 0.
pub(crate) fn softmax(scores: &[f64], pad: &[bool]) -> Vec<f64> {
    let max = scores
        .iter()
        .zip(pad)
        .filter(|(_, p)| !**p)
        .map(|(s, _)| *s)
        .fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = scores
        .iter()
        .zip(pad)
        .map(|(s, p)| if *p { 0.0 } else { (s - max).exp() })
        .collect();
    let sum: f64 = exp.iter().sum();
    exp.iter()
        .map(|e| if sum == 0.0 { 0.0 } else { e / sum })
        .collect()
}

/// `c = Σ_j α_j h_j`.
pub(crate) fn context(weights: &[f64], h: &[Vec<f64>]) -> Vec<f64> {
    (0..h[0].len())
        .map(|d| weights.iter().zip(h).map(|(a, hj)| a * hj[d]).sum())
        .collect()
}

/// Reference attention for one query: `(context, weights)`.
pub(crate) fn attend(
    score: &RefScore,
    s: &[f64],
    h: &[Vec<f64>],
    pad: &[bool],
) -> (Vec<f64>, Vec<f64>) {
    let weights = softmax(&score.scores(s, h), pad);
    (context(&weights, h), weights)
}

pub(crate) fn tensor3(data: &[f32], dims: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(data.to_vec(), dims), device)
}

pub(crate) fn tensor2(data: &[f32], dims: [usize; 2], device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data.to_vec(), dims), device)
}

pub(crate) fn mask2(data: &[bool], dims: [usize; 2], device: &Device) -> Tensor<2, Bool> {
    Tensor::from_data(TensorData::new(data.to_vec(), dims), device)
}

pub(crate) fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap()
}

/// Splits a flat `[n, d]` buffer into rows as f64.
pub(crate) fn rows(flat: &[f32], d: usize) -> Vec<Vec<f64>> {
    flat.chunks(d)
        .map(|r| r.iter().map(|x| f64::from(*x)).collect())
        .collect()
}

pub(crate) fn assert_close(actual: &[f32], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let a = f64::from(*a);
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "{what}[{i}]: got {a}, expected {e} (tolerance {tol})"
        );
    }
}
