//! Micro-benchmarks of fused-ops' kernels against Burn's own ops at the shape of
//! `shared/bench/SPEC.md` (batch 64, source length 12, attention size 256) on burn-flex.
//!
//! `cargo bench -p fused-ops` (divan).

use burn::prelude::*;
use burn::tensor::Distribution;
use fused_ops::tanh_via_sigmoid;

const BATCH: usize = 64;
const SRC_LEN: usize = 12;
const SIZE: usize = 256;

fn main() {
    divan::main();
}

/// `tanh` over the additive score's per-step tensor, `[batch, src_len, attention]`: Burn's,
/// and through the sigmoid (what the additive score uses).
#[divan::bench(args = ["tanh", "tanh_via_sigmoid"])]
fn tanh(bencher: divan::Bencher, which: &str) {
    let device = Device::flex();
    let x = Tensor::<3>::random(
        [BATCH, SRC_LEN, SIZE],
        Distribution::Normal(0.0, 2.0),
        &device,
    );
    bencher.bench_local(|| {
        if which == "tanh" {
            x.clone().tanh().into_data()
        } else {
            tanh_via_sigmoid(x.clone()).into_data()
        }
    });
}
