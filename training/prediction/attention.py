"""Self-attention over the elements of a composition (CrabNet/Roost-style), for blending with
the MLPs.

Each element of a composition is a token: its mat2vec vector (fixed, projected) plus a learned
per-element vector plus an encoding of its atomic fraction; a few small self-attention layers
let each element see the others, a fraction-weighted mean pools them and an MLP head gives the
property. The net reads the same feature vector as the MLPs (the last 118 columns are the raw
atomic fractions, featurize.py's "fractions" block): inside the graph it takes the `TOKENS`
largest fractions (TopK) and gathers their element rows, so the ONNX interface does not change.
Set-up/development time only: imports torch.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np

TOKENS = 8  # mp_e_form: 1 of 72k training compositions has 9 elements, none more


@dataclass(frozen=True)
class AttentionConfig:
    width: int = 64
    heads: int = 4
    layers: int = 2
    epochs: int = 40
    batch: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4


def _modules():
    import torch
    from torch import nn

    class Block(nn.Module):
        """Pre-norm self-attention + feed-forward, written out so it exports as plain ops."""

        def __init__(self, width: int, heads: int):
            super().__init__()
            self.heads = heads
            self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width)
            self.out = nn.Linear(width, width)
            self.ff = nn.Sequential(
                nn.Linear(width, 2 * width), nn.SiLU(), nn.Linear(2 * width, width)
            )

        def forward(self, tokens, bias):
            n, t, w = tokens.shape
            h = self.heads
            q, k, v = self.qkv(self.norm1(tokens)).reshape(n, t, 3, h, w // h).unbind(2)
            q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [n, h, t, w/h]
            scores = q @ k.transpose(2, 3) / math.sqrt(w // h) + bias  # bias: -1e4 on padding
            mixed = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(n, t, w)
            tokens = tokens + self.out(mixed)
            return tokens + self.ff(self.norm2(tokens))

    class ElementAttention(nn.Module):
        """(element index, fraction) tokens [N, T] → the property [N, 1] (scaled back)."""

        def __init__(self, mat2vec: np.ndarray, cfg: AttentionConfig, ym: float, ys: float):
            super().__init__()
            table = np.nan_to_num(mat2vec.astype(np.float32))
            table = table / (np.linalg.norm(table, axis=1, keepdims=True) + 1e-6)
            self.register_buffer("mat2vec", torch.tensor(table))
            self.project = nn.Linear(table.shape[1], cfg.width)
            self.element = nn.Embedding(len(table), cfg.width)
            nn.init.normal_(self.element.weight, std=0.02)
            self.fraction = nn.Sequential(
                nn.Linear(2, cfg.width), nn.SiLU(), nn.Linear(cfg.width, cfg.width)
            )
            self.blocks = nn.ModuleList(Block(cfg.width, cfg.heads) for _ in range(cfg.layers))
            self.norm = nn.LayerNorm(cfg.width)
            self.head = nn.Sequential(
                nn.Linear(cfg.width, 2 * cfg.width),
                nn.SiLU(),
                nn.Linear(2 * cfg.width, cfg.width),
                nn.SiLU(),
                nn.Linear(cfg.width, 1),
            )
            self.ym, self.ys = float(ym), float(ys)

        def tokens_forward(self, index, frac):
            present = frac > 0
            enc = torch.stack([frac * 4.0, torch.log(frac.clamp_min(1e-4)) / 4.0], dim=-1)
            table = self.get_buffer("mat2vec")
            tokens = self.project(table[index]) + self.element(index) + self.fraction(enc)
            bias = ((~present).to(frac.dtype) * -1e4)[:, None, None, :]
            for block in self.blocks:
                tokens = block(tokens, bias)
            weights = frac / frac.sum(dim=1, keepdim=True)
            pooled = (self.norm(tokens) * weights[..., None]).sum(dim=1)
            return self.head(pooled) * self.ys + self.ym

        def forward(self, features):
            """The feature vector [N, F] → [N, 1]; its last 118 columns are the fractions."""
            n_elements = self.get_buffer("mat2vec").shape[0]
            frac, index = torch.topk(features[:, -n_elements:], TOKENS, dim=1)
            return self.tokens_forward(index, frac)

    return ElementAttention


def attention_net(mat2vec: np.ndarray, cfg: AttentionConfig, ym: float, ys: float):
    """An untrained attention net whose outputs are scaled by (ym, ys)."""
    return _modules()(mat2vec, cfg, ym, ys)


def top_tokens(x: np.ndarray, n_elements: int = 118) -> tuple[np.ndarray, np.ndarray]:
    """(element index, fraction) of each row's `TOKENS` largest fractions, as TopK gives them."""
    fractions = x[:, -n_elements:]
    index = np.argsort(-fractions, axis=1, kind="stable")[:, :TOKENS]
    return index, np.take_along_axis(fractions, index, axis=1)


def fit_attention(
    x: np.ndarray, y: np.ndarray, mat2vec: np.ndarray, cfg: AttentionConfig, seed: int, log=None
):
    """Train one attention net (L1 loss on standardised targets, one-cycle AdamW)."""
    import torch

    torch.manual_seed(seed)
    ym, ys = float(y.mean()), float(y.std() + 1e-9)
    net = attention_net(mat2vec, cfg, ym, ys)
    index, frac = top_tokens(x, mat2vec.shape[0])
    it = torch.tensor(index, dtype=torch.long)
    ft = torch.tensor(frac, dtype=torch.float32)
    yt = torch.tensor((y - ym) / ys, dtype=torch.float32)[:, None]
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = (len(x) + cfg.batch - 1) // cfg.batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for epoch in range(cfg.epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(it), generator=gen)
        total = 0.0
        for i in range(0, len(it), cfg.batch):
            b = perm[i : i + cfg.batch]
            opt.zero_grad()
            pred = (net.tokens_forward(it[b], ft[b]) - ym) / ys
            loss = torch.nn.functional.l1_loss(pred, yt[b])
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(b)
        if log:
            log(epoch, total / len(it) * ys, time.perf_counter() - start, net)
    net.eval()
    return net


def predict(net, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return net(torch.tensor(x, dtype=torch.float32)).numpy()[:, 0]


def cache_key(x: np.ndarray, y: np.ndarray, cfg: AttentionConfig, seed: int) -> str:
    return hashlib.sha1(
        repr((seed, cfg)).encode()
        + np.ascontiguousarray(x[:, -118:]).tobytes()
        + np.ascontiguousarray(y).tobytes()
    ).hexdigest()[:20]
