"""PyTorch twin of `cargo xtask bench`'s `translate_train_step` workload: a training step of the
`multi30k-de-en` preset's model at the shape of its subword vocabularies, written like
shared/bench/torch_ref.py and bench/g2p_torch_ref.py.

The model is ours, layer for layer (crates/encoder, crates/decoder, cli/src/presets.rs):
German and English piece embeddings 256 (vocabularies 3 150 and 2 517: the pieces that the
preset's BPE 4000 leaves on each side of Multi30k's training split, specials included); a bidirectional 2-layer
GRU encoder (256 per direction, dropout 0.5 between the layers); the decoder's first state
`tanh(W_b [h_fwd; h_bwd] + b)` from the top layer's final states; Bahdanau additive attention
(size 256) asked with the previous state; a GRU decoder cell 512 fed
`[dropout(embedding(y_{i-1})); c_i]`; logits from `dropout([s_i; c_i])`. Adam, lr 1e-3,
cross-entropy with label smoothing 0.1 over every target position. Batch 128, source and
target length 16, ids `src[k] = 7k mod 3150`, `tgt[k] = 5k mod 2517` over the row-major batch.

Usage: python3 translate_torch_ref.py [--steps N] [--threads N]
Prints one JSON line, with the field names of `cargo xtask bench`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_step import run

VS, VT, E, H, D, A, P, LS = 3150, 2517, 256, 256, 512, 256, 0.5, 0.1
B, L = 128, 16


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_emb = nn.Embedding(VS, E)
        self.tgt_emb = nn.Embedding(VT, E)
        self.enc = nn.GRU(E, H, num_layers=2, dropout=P, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, D)
        self.wq = nn.Linear(D, A, bias=False)
        self.wk = nn.Linear(2 * H, A)
        self.v = nn.Linear(A, 1, bias=False)
        self.dec = nn.GRUCell(E + 2 * H, D)
        self.out = nn.Linear(D + 2 * H, VT)
        self.drop = nn.Dropout(P)

    def forward(self, src, tgt_in):
        hs, h_n = self.enc(self.src_emb(src))  # hs [b, s, 2H]; h_n [layers · 2, b, H]
        keys = self.wk(hs)
        h = torch.tanh(self.bridge(torch.cat([h_n[-2], h_n[-1]], 1)))
        emb = self.drop(self.tgt_emb(tgt_in))
        combined = []
        for i in range(tgt_in.shape[1]):
            # Bahdanau ordering: the query is the previous decoder state.
            e = self.v(torch.tanh(keys + self.wq(h).unsqueeze(1))).squeeze(2)  # [b, s]
            w = F.softmax(e, dim=1)
            ctx = torch.bmm(w.unsqueeze(1), hs).squeeze(1)
            h = self.dec(torch.cat([emb[:, i], ctx], 1), h)
            combined.append(torch.cat([h, ctx], 1))
        return self.out(self.drop(torch.stack(combined, 1)))


def main():
    run("translate_train_step", Model, VS, VT, B, L, lr=1e-3, label_smoothing=LS)


if __name__ == "__main__":
    main()
