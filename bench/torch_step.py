"""What the PyTorch twins of `cargo xtask bench`'s training-step workloads share: the timing
loop and the JSON line, as shared/bench/torch_ref.py times and prints its own.

`run(name, make_model, source_vocab, target_vocab, batch, length, lr, label_smoothing)` times
Adam steps of the model `make_model()` builds on a
`batch × length` batch of the spec's deterministic ids (`src[k] = 7k mod source_vocab`,
`tgt[k] = 5k mod target_vocab`), with cross-entropy over every target position, after two warm-up
steps, and prints one JSON line with the field names of `cargo xtask bench`.
"""
import argparse, json, os, time
import torch
import torch.nn.functional as F


def run(name, make_model, source_vocab, target_vocab, batch, length, lr, label_smoothing=0.0):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = make_model()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    src = (torch.arange(batch * length) * 7 % source_vocab).reshape(batch, length)
    tgt = (torch.arange(batch * length) * 5 % target_vocab).reshape(batch, length)

    def train_step():
        logits = model(src, tgt)
        loss = F.cross_entropy(logits.reshape(batch * length, target_vocab),
                               tgt.reshape(batch * length), label_smoothing=label_smoothing)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):
        train_step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        train_step()
    sec = (time.perf_counter() - t0) / args.steps
    print(json.dumps({"impl": "pytorch", "version": torch.__version__, "threads": args.threads,
                      "bench": name, "batch": batch, "src_len": length, "tgt_len": length,
                      "ms": sec * 1000, "target_tok_per_s": batch * length / sec}))
