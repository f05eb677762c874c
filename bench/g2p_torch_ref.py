"""PyTorch twin of `cargo xtask bench`'s `g2p_train_step` workload: a training step of the
`g2p-cmudict` preset's model, written like shared/bench/torch_ref.py.

The model is ours, layer for layer (crates/encoder, crates/decoder, cli/src/presets.rs):
letter and phoneme embeddings 64 (vocabularies 31 and 43, the shipped model's); dropout 0.3 on
the letter embeddings, a bidirectional 1-layer LSTM encoder (256 per direction); the decoder's
first state `tanh(W_b [h_fwd; h_bwd] + b)` with a zero memory cell; Bahdanau additive attention
(size 128) asked with the previous state; an LSTM decoder cell 256 fed
`[dropout(embedding(y_{i-1})); c_i]`; logits from `dropout([s_i; c_i])`. Adam, lr 3e-3,
cross-entropy over every target position. Batch 64, source and target length 8, ids
`src[k] = 7k mod 31`, `tgt[k] = 5k mod 43` over the row-major batch.

Usage: python3 g2p_torch_ref.py [--steps N] [--threads N]
Prints one JSON line, with the field names of `cargo xtask bench`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_step import run

VS, VT, E, H, A, P = 31, 43, 64, 256, 128, 0.3
B, L = 64, 8


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb = nn.Embedding(VS, E)
        self.tgt_emb = nn.Embedding(VT, E)
        self.enc = nn.LSTM(E, H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)
        self.wq = nn.Linear(H, A, bias=False)
        self.wk = nn.Linear(2 * H, A)
        self.v = nn.Linear(A, 1, bias=False)
        self.dec = nn.LSTMCell(E + 2 * H, H)
        self.out = nn.Linear(H + 2 * H, VT)
        self.drop = nn.Dropout(P)

    def forward(self, src, tgt_in):
        hs, (h_n, _) = self.enc(self.drop(self.src_emb(src)))  # hs [b, s, 2H]
        keys = self.wk(hs)
        h = torch.tanh(self.bridge(torch.cat([h_n[0], h_n[1]], 1)))
        c = torch.zeros_like(h)
        emb = self.drop(self.tgt_emb(tgt_in))
        combined = []
        for i in range(tgt_in.shape[1]):
            # Bahdanau ordering: the query is the previous decoder state.
            e = self.v(torch.tanh(keys + self.wq(h).unsqueeze(1))).squeeze(2)  # [b, s]
            w = F.softmax(e, dim=1)
            ctx = torch.bmm(w.unsqueeze(1), hs).squeeze(1)
            h, c = self.dec(torch.cat([emb[:, i], ctx], 1), (h, c))
            combined.append(torch.cat([h, ctx], 1))
        return self.out(self.drop(torch.stack(combined, 1)))


def main():
    run("g2p_train_step", Model, VS, VT, B, L, lr=3e-3)


if __name__ == "__main__":
    main()
