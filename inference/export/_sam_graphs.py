"""The torch modules that `inference.export.sam` traces into MatLens's two SAM ONNX graphs.

Encoder: input `image`, uint8 [h, w, 3] RGB, already resized so that max(h, w) == 1024 (SAM's
ResizeLongestSide). Normalisation and the zero padding to 1024² (Sam.preprocess) happen inside the
graph, so the app hands over only the resized bytes. Output `image_embeddings` [1, 64, 64, 256],
channels-last because that is how the decoder reads it.

Decoder: SAM's usual ONNX inputs (`image_embeddings`, `point_coords` [1, N, 2] in the 1024 frame,
`point_labels` [1, N], `mask_input` [1, 1, 256, 256], `has_mask_input` [1]); `mask_input` may be
a [1, 1, 4, 4] dummy when there is no mask, which makes the mask path free. Outputs: all four
low-res logit maps as `low_res_tiles` [64, 64, 2, 2, 2, 2, 4] (pixel (4i + 2a1 + a2,
4j + 2b1 + b2) of map m is [i, j, a1, b1, a2, b2, m]) and `iou_predictions` [1, 4]. Upscaling to
the image size, and the pixel shuffle of the one map shown, are left to numpy.

The maths is SAM's, regrouped for a 2-core CPU (34 ms → 15 ms per click here):
  - batch 1, so no repeat_interleave copies of the image embedding;
  - the cross attentions meet the few prompt tokens in the 256-d space, so the 4096 image
    tokens are never projected (two thin GEMMs per attention instead of four wide ones);
  - the transposed convolutions run channels-last as plain GEMMs;
  - the four hypernetwork MLPs run as one batched MLP, prompt labels index one table.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the alias every torch model file uses

IMG_SIZE = 1024
EMBED_HW = 64


def _register_mask_head(graph: nn.Module, md, mlps: list) -> None:
    """SAM's mask head as buffers: the hypernetwork MLPs batched ([masks, in, out] weights per
    layer) and each ConvTranspose2d(k=2, s=2) as a GEMM whose columns are ordered (a, b, c_out)."""
    for j in range(mlps[0].num_layers):
        graph.register_buffer(f"hyper_w{j}", torch.stack([m.layers[j].weight.t() for m in mlps]))
        graph.register_buffer(f"hyper_b{j}", torch.stack([m.layers[j].bias for m in mlps])[:, None])
    graph.hyper_layers = mlps[0].num_layers
    up1, norm, _, up2, _ = md.output_upscaling
    graph.register_buffer("w1", up1.weight.permute(0, 2, 3, 1).reshape(up1.in_channels, -1))
    graph.register_buffer("b1", up1.bias.repeat(4))
    graph.register_buffer("w2", up2.weight.permute(0, 2, 3, 1).reshape(up2.in_channels, -1))
    graph.register_buffer("b2", up2.bias.repeat(4))
    graph.norm, graph.up_c1, graph.up_c2 = norm, up1.out_channels, up2.out_channels
    graph.act = md.output_upscaling[2]


class EncoderGraph(nn.Module):
    """uint8 resized image → image embedding (normalise and pad as Sam.preprocess does)."""

    mean: torch.Tensor  # buffers, declared so that they read as tensors, not Tensor | Module
    std: torch.Tensor

    def __init__(self, sam) -> None:
        super().__init__()
        self.image_encoder = sam.image_encoder
        self.register_buffer("mean", sam.pixel_mean.reshape(1, 3, 1, 1).clone())
        self.register_buffer("std", sam.pixel_std.reshape(1, 3, 1, 1).clone())

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image.permute(2, 0, 1).unsqueeze(0).to(torch.float32)
        x = (x - self.mean) / self.std
        h, w = x.shape[-2:]
        x = F.pad(x, (0, IMG_SIZE - w, 0, IMG_SIZE - h))
        return self.image_encoder(x).permute(0, 2, 3, 1)  # channels-last, as the decoder reads it


def _token_attention(attn, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """SAM Attention on the few prompt tokens, 2-D, with static reshapes (no Shape ops)."""
    nh = attn.num_heads
    d = attn.internal_dim // nh
    qh = attn.q_proj(q).reshape(-1, nh, d).transpose(0, 1)
    kh = attn.k_proj(k).reshape(-1, nh, d).transpose(0, 1)
    vh = attn.v_proj(v).reshape(-1, nh, d).transpose(0, 1)
    a = torch.softmax(torch.matmul(qh, kh.transpose(1, 2)) / math.sqrt(d), dim=-1)
    return attn.out_proj(torch.matmul(a, vh).transpose(0, 1).reshape(-1, nh * d))


def _token_to_image(attn, q: torch.Tensor, k_in: torch.Tensor, v_in: torch.Tensor) -> torch.Tensor:
    """SAM Attention(q=tokens, k=image, v=image) for 2-D [tokens, C] / [HW, C] inputs.

    softmax((q Wq + bq)(k Wk + bk)^T) (v Wv + bv) is computed as softmax(((q Wq + bq) Wk^T) k^T)
    (v) Wv + bv per head: bk only adds a per-row constant (softmax ignores it) and the rows of the
    attention sum to one, so the 4096 image tokens are never projected.
    """
    nh = attn.num_heads
    d = attn.internal_dim // nh
    c = k_in.shape[-1]
    qh = attn.q_proj(q).reshape(-1, nh, d).transpose(0, 1)  # nh, T, d
    qk = torch.matmul(qh, attn.k_proj.weight.reshape(nh, d, c)).reshape(-1, c)  # nh*T, C
    scores = torch.matmul(qk, k_in.transpose(0, 1)) / math.sqrt(d)  # nh*T, HW
    av = torch.matmul(torch.softmax(scores, dim=-1), v_in).reshape(nh, -1, c)  # nh, T, C
    out = torch.matmul(av, attn.v_proj.weight.reshape(nh, d, c).transpose(1, 2))  # nh, T, d
    out = out + attn.v_proj.bias.reshape(nh, 1, d)
    return attn.out_proj(out.transpose(0, 1).reshape(-1, nh * d))


def _image_to_token(attn, q_in: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """SAM Attention(q=image, k=tokens, v=tokens) for 2-D inputs, without projecting the image.

    Scores (q Wq + bq) kh^T = q (Wq^T kh^T) + bq kh^T, and the output projection is folded into
    the values: out = sum_h A_h (vh Wo_h^T) + bo.
    """
    nh = attn.num_heads
    d = attn.internal_dim // nh
    c = q_in.shape[-1]
    kh = attn.k_proj(k).reshape(-1, nh, d).transpose(0, 1)  # nh, T, d
    vh = attn.v_proj(v).reshape(-1, nh, d).transpose(0, 1)  # nh, T, d
    wq = attn.q_proj.weight.reshape(nh, d, c)
    m = torch.matmul(wq.transpose(1, 2), kh.transpose(1, 2))  # nh, C, T
    m = m.transpose(0, 1).reshape(c, -1)  # C, nh*T
    bias = torch.matmul(attn.q_proj.bias.reshape(nh, 1, d), kh.transpose(1, 2)).reshape(1, -1)
    scores = (torch.matmul(q_in, m) + bias) / math.sqrt(d)  # HW, nh*T
    a = torch.softmax(scores.reshape(q_in.shape[0], nh, -1), dim=-1).reshape(q_in.shape[0], -1)
    wo = attn.out_proj.weight.reshape(c, nh, d).permute(1, 2, 0)  # nh, d, C
    vo = torch.matmul(vh, wo).reshape(-1, c)  # nh*T, C
    return torch.matmul(a, vo) + attn.out_proj.bias


class _MaskHeadGraph(nn.Module):
    """What the decoder graphs hold: SAM's (or MobileSAM's, same attributes) prompt encoder and
    mask decoder, and the buffers and sizes that `_register_mask_head` sets, declared so that
    they read as tensors and numbers (nn.Module types every attribute as Tensor | Module)."""

    prompt_encoder: Any
    mask_decoder: Any
    label_embeddings: torch.Tensor
    output_tokens: torch.Tensor
    w1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor
    norm: nn.LayerNorm
    act: nn.Module
    hyper_layers: int
    up_c1: int
    up_c2: int


class DecoderGraph(_MaskHeadGraph):
    """Prompt encoder + mask decoder of SAM → four low-res logit maps and their IoU scores."""

    image_pe: torch.Tensor

    def __init__(self, sam) -> None:
        super().__init__()
        self.prompt_encoder = sam.prompt_encoder
        self.mask_decoder = sam.mask_decoder
        pe = sam.prompt_encoder.get_dense_pe()  # 1, C, 64, 64
        self.register_buffer("image_pe", pe.flatten(2)[0].transpose(0, 1).contiguous())
        pr = sam.prompt_encoder
        rows = [pr.not_a_point_embed.weight] + [e.weight for e in pr.point_embeddings]
        self.register_buffer("label_embeddings", torch.cat(rows, dim=0))  # label + 1 → row
        md = sam.mask_decoder
        self.register_buffer(
            "output_tokens", torch.cat([md.iou_token.weight, md.mask_tokens.weight], dim=0)
        )
        # The four hypernetwork MLPs as one batched MLP: [masks, in, out] weights per layer.
        _register_mask_head(self, md, list(md.output_hypernetworks_mlps))

    def _embed_points(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """SamOnnxModel._embed_points with one table look-up instead of five masked adds."""
        emb = self.prompt_encoder.pe_layer._pe_encoding((coords[0] + 0.5) / IMG_SIZE)  # N, C
        labels = labels[0]
        table = self.label_embeddings[(labels + 1).to(torch.int64)]  # -1 → row 0
        return emb * (labels != -1).unsqueeze(-1) + table

    def _embed_masks(self, mask_input: torch.Tensor, has_mask_input: torch.Tensor):
        """Dense prompt, channels-last. mask_input may be a 4x4 dummy when has_mask_input is 0:
        the convolutions then cost nothing and their 1x1 output broadcasts."""
        pe = self.prompt_encoder
        dense = pe.mask_downscaling(mask_input)
        dense = dense.reshape(dense.shape[1], -1).transpose(0, 1)  # HW or 1, C
        no_mask = pe.no_mask_embed.weight
        return has_mask_input * dense + (1 - has_mask_input) * no_mask

    def _transformer(self, tokens: torch.Tensor, keys: torch.Tensor):
        tr = self.mask_decoder.transformer
        kpe = self.image_pe
        queries = tokens
        for layer in tr.layers:
            if layer.skip_first_layer_pe:
                queries = _token_attention(layer.self_attn, queries, queries, queries)
            else:
                q = queries + tokens
                queries = queries + _token_attention(layer.self_attn, q, q, queries)
            queries = layer.norm1(queries)
            keys_pe = keys + kpe
            attn = _token_to_image(layer.cross_attn_token_to_image, queries + tokens, keys_pe, keys)
            queries = layer.norm2(queries + attn)
            queries = layer.norm3(queries + layer.mlp(queries))
            attn = _image_to_token(
                layer.cross_attn_image_to_token, keys_pe, queries + tokens, queries
            )
            keys = layer.norm4(keys + attn)
        attn = _token_to_image(tr.final_attn_token_to_image, queries + tokens, keys + kpe, keys)
        return tr.norm_final_attn(queries + attn), keys

    def _masks(self, hs: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        md = self.mask_decoder
        n = EMBED_HW * EMBED_HW
        x = (torch.matmul(keys, self.w1) + self.b1).reshape(n * 4, self.up_c1)
        x = self.act(
            F.layer_norm(x, (self.up_c1,), self.norm.weight, self.norm.bias, self.norm.eps)
        )
        x = self.act((torch.matmul(x, self.w2) + self.b2).reshape(n * 16, self.up_c2))
        h = hs[1 : 1 + md.num_mask_tokens].unsqueeze(1)  # masks, 1, C
        for j in range(self.hyper_layers):
            h = torch.matmul(h, getattr(self, f"hyper_w{j}")) + getattr(self, f"hyper_b{j}")
            h = F.relu(h) if j < self.hyper_layers - 1 else h
        hyper = h[:, 0].transpose(0, 1)  # C2, masks
        # Rows are (i, j, a1, b1, a2, b2) for pixel (4i + 2a1 + a2, 4j + 2b1 + b2); numpy puts
        # the chosen maps in raster order (cheaper there than ORT's generic 7-D Transpose).
        m = torch.matmul(x, hyper)
        return m.reshape(EMBED_HW, EMBED_HW, 2, 2, 2, 2, md.num_mask_tokens)

    def forward(self, image_embeddings, point_coords, point_labels, mask_input, has_mask_input):
        sparse = self._embed_points(point_coords, point_labels)
        dense = self._embed_masks(mask_input, has_mask_input)
        tokens = torch.cat([self.output_tokens, sparse], dim=0)
        c = image_embeddings.shape[-1]
        keys = image_embeddings.reshape(EMBED_HW * EMBED_HW, c) + dense
        hs, keys = self._transformer(tokens, keys)
        masks = self._masks(hs, keys)
        iou = self.mask_decoder.iou_prediction_head(hs[0])[None]
        return masks, iou


# --- segment everything: many single-point prompts at once -----------------------------------
#
# The per-prompt image tokens ("keys", [4096, 256] each) are never materialised. Every change the
# prompt makes to them is low-rank: an image-to-token attention adds A (V Wo^T) with A [4096, H*T],
# and a LayerNorm scales each row and shifts it along two directions. So the keys of every prompt
# are kept as  X = a * S + L^T R:  S [N, C] the embedding times the LayerNorm gains so far (the
# same for the whole batch), a [B, 1, N] per-token scales, L [B, r, N] per-prompt columns (stored
# transposed: the attention maps come out that way) and R [B, r, C] small per-prompt rows. Products
# of S with weights are computed once per image by BatchImageGraph and fed to BatchDecoderGraph;
# the LayerNorm statistics come from the same factors. Per prompt this is half the multiply-adds
# of DecoderGraph (~22 ms of one core against ~31 ms, measured side by side; the mask head,
# identical in both, is now the larger part); the logits agree with DecoderGraph's to ~1e-4.

N_TOKENS = EMBED_HW * EMBED_HW
MASK_BANDS = 16  # the mask head runs on bands of 4 rows of the 64x64 grid: they stay in cache


class _Shared:
    """Products of the image embedding with weights, the same for every prompt of an image.

    BatchImageGraph computes each one and returns them all; BatchDecoderGraph runs the same code,
    so the same calls in the same order, and reads them from its inputs instead."""

    def __init__(self, inputs: list[torch.Tensor] | None = None) -> None:
        self.inputs, self.outputs = inputs, []

    def __call__(self, compute) -> torch.Tensor:
        value = compute() if self.inputs is None else self.inputs[len(self.outputs)]
        self.outputs.append(value)
        return value


class _Rows:
    """Rows of the low-rank part: per head V_h F_h (V [B, H, T, D] per prompt, F [H, D, C]
    weights), or weights alone (F [m, C])."""

    def __init__(self, f: torch.Tensor, v: torch.Tensor | None = None) -> None:
        self.f, self.v = f, v

    def times(self, w: torch.Tensor | None) -> torch.Tensor:
        """R w^T for weights w [k, C] (w = None: R itself): [B, m, k], or [m, k] for weights."""
        fw = self.f if w is None else torch.matmul(self.f, w.t())
        if self.v is None:
            return fw
        out = torch.matmul(self.v, fw)  # B, H, T, k
        return out.reshape(out.shape[0], -1, out.shape[-1])

    def scaled(self, gain: torch.Tensor) -> _Rows:
        return _Rows(self.f * gain, self.v)


class _Keys:
    """The image tokens of B prompts, X = a * S + L^T R (see above); before the first
    image-to-token attention X = S + c and L is None. The methods give what the decoder needs
    of X; `heads` x `dim` is the geometry of the cross attentions."""

    def __init__(self, s, shared, heads, dim, a=None, lt=None, rows=(), c=None) -> None:
        self.s, self.shared, self.heads, self.dim = s, shared, heads, dim
        self.a, self.lt, self.rows, self.c = a, lt, list(rows), c

    def _with(self, a, lt, rows) -> _Keys:
        return _Keys(self.s, self.shared, self.heads, self.dim, a, lt, rows)

    def _heads_t(self, x: torch.Tensor) -> torch.Tensor:
        """[N, H*D] → [H, D, N]."""
        return x.reshape(N_TOKENS, self.heads, self.dim).permute(1, 2, 0)

    def rows_times(self, w: torch.Tensor | None, bias: torch.Tensor | None = None):
        """R w^T: [B, r, k]; `bias` is added on the column of ones (the last one after
        layer_norm), so that L^T (R w^T) + a * (S w^T) = X w^T + bias."""
        assert self.lt is not None, "R exists from the first image-to-token attention on"
        b = self.lt.shape[0]
        parts = [r.times(w) for r in self.rows]
        rw = torch.cat([p if p.dim() == 3 else p.expand(b, -1, -1) for p in parts], dim=1)
        return rw if bias is None else torch.cat([rw[:, :-1], rw[:, -1:] + bias], dim=1)

    def scores(self, w, q, pe_w, const: bool = True) -> torch.Tensor:
        """sum_d q[b, h, t, d] ((X + PE) w_h^T)[n, d] → [B, H, T, N], for q [B, H, T, D],
        weights w [H*D, C] and pe_w = PE w^T as [H, D, N]. `const=False` may leave out terms
        that do not depend on n (a softmax over N ignores them)."""
        h, d, s = self.heads, self.dim, self.s
        if self.lt is None:
            out = torch.matmul(q, self.shared(lambda: self._heads_t(s @ w.t()) + pe_w))
            if const:
                assert self.c is not None  # X = S + c until the first image-to-token attention
                out = out + torch.matmul(q, (self.c @ w.t()).reshape(h, d, 1))
            return out
        assert self.a is not None  # layer_norm follows every attention that adds rows
        out = torch.matmul(q, self.shared(lambda: self._heads_t(s @ w.t()))) * self.a.unsqueeze(1)
        out = out + torch.matmul(q, pe_w)
        b, t = q.shape[0], q.shape[2]
        rw = self.rows_times(w)  # B, r, H*D
        rq = torch.matmul(q, rw.reshape(b, -1, h, d).permute(0, 2, 3, 1))  # B, H, T, r
        lq = torch.matmul(rq.reshape(b, h * t, -1), self.lt)  # B, HT, N
        return out + lq.reshape(b, h, t, N_TOKENS)

    def weighted(self, p: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """sum_n p[b, h, t, n] (X w_h^T)[n] → [B, H, T, D], for weights p that sum to one over
        n and w [H*D, C]."""
        h, d, s = self.heads, self.dim, self.s
        sw = self.shared(lambda: self._heads_t(s @ w.t()).transpose(1, 2))  # H, N, D
        if self.lt is None:
            assert self.c is not None  # X = S + c until the first image-to-token attention
            return torch.matmul(p, sw) + (self.c @ w.t()).reshape(h, 1, d)
        assert self.a is not None  # layer_norm follows every attention that adds rows
        b, t = p.shape[0], p.shape[2]
        out = torch.matmul(p * self.a.unsqueeze(1), sw)
        pl = torch.matmul(p.reshape(b, h * t, N_TOKENS), self.lt.transpose(1, 2))  # B, HT, r
        rw = self.rows_times(w).reshape(b, -1, h, d).transpose(1, 2)  # B, H, r, D
        return out + torch.matmul(pl.reshape(b, h, t, -1), rw)

    def add_attention(self, at: torch.Tensor, v: torch.Tensor, out_proj: nn.Linear) -> _Keys:
        """X + out_proj(attention): at [B, H*T, N] the attention maps, v [B, H, T, D] the values."""
        wo = out_proj.weight.t().reshape(self.heads, self.dim, -1)  # H, D, C
        if self.lt is None:  # c becomes a row of R, on a column of ones
            assert self.c is not None
            lt = torch.cat([torch.ones_like(at[:, :1]), at], dim=1)
            return self._with(None, lt, [_Rows((self.c + out_proj.bias)[None]), _Rows(wo, v)])
        # layer_norm left its rows [gain; bias] last, the bias on the column of ones
        gain, bias = self.rows[-1].f
        rows = [*self.rows[:-1], _Rows(torch.stack([gain, bias + out_proj.bias])), _Rows(wo, v)]
        return self._with(self.a, torch.cat([self.lt, at], dim=1), rows)

    def layer_norm(self, norm: nn.LayerNorm) -> _Keys:
        """LayerNorm over channels, from the factors: each token's mean and mean square are
        a S.1 + (R.1)^T L and a^2 |S|^2 + 2 a (S R^T) L + L^T (R R^T) L."""
        s, lt, c = self.s, self.lt, norm.normalized_shape[0]
        assert lt is not None  # a layer norm follows an image-to-token attention
        b = lt.shape[0]
        s_sum, s_sq = self.shared(lambda: torch.stack([s.sum(-1), (s * s).sum(-1)]).unsqueeze(1))
        rows = self.rows_times(None)  # B, r, C
        cross = []  # (S R^T)^T block by block, per head for the attention rows
        for r in self.rows:
            f = r.f
            if r.v is None:
                cross.append(self.shared(lambda f=f: f @ s.t()).expand(b, -1, -1))
            else:
                sf = self.shared(lambda f=f: self._heads_t(s @ f.reshape(-1, c).t()))  # H, D, N
                x = torch.matmul(r.v, sf)
                cross.append(x.reshape(b, -1, N_TOKENS))
        cross = torch.cat(cross, dim=1)
        quad = torch.matmul(torch.matmul(rows, rows.transpose(1, 2)), lt)  # B, r, N
        total = torch.matmul(rows.sum(-1).unsqueeze(1), lt)  # B, 1, N
        if self.a is None:
            a = torch.ones_like(total)
            total = total + s_sum
            square = s_sq + ((quad + 2 * cross) * lt).sum(1, keepdim=True)
        else:
            a = self.a
            total = total + a * s_sum
            square = a * a * s_sq + ((quad + 2 * a * cross) * lt).sum(1, keepdim=True)
        mean = total / c
        inv = torch.rsqrt(square / c - mean * mean + norm.eps)
        lt = torch.cat([lt * inv, -mean * inv, torch.ones_like(inv)], dim=1)
        rows = [r.scaled(norm.weight) for r in self.rows]
        rows.append(_Rows(torch.stack([norm.weight, norm.bias])))
        out = self._with(a * inv, lt, rows)
        out.s = s * norm.weight if s is not None else None
        return out


class BatchDecoderGraph(_MaskHeadGraph):
    """SAM's decoder for B prompts of one image at once, multimask output, for segment-everything.

    Inputs: `point_coords` [B, P, 2] (1024 frame) and `point_labels` [B, P] as for DecoderGraph
    (no box, no mask input), `stability_offset` [1], and `image_0..image_K` from BatchImageGraph.
    Outputs: `low_res_tiles` [B, 65536, 3], SAM's multimask maps 1-3 in DecoderGraph's tile order,
    `iou_predictions` [B, 4] and `stability` [B, 3], the stability score of maps 1-3 at
    `stability_offset` (SAM's automatic generator filters on both).
    """

    def __init__(self, sam) -> None:
        super().__init__()
        self.prompt_encoder = sam.prompt_encoder
        self.mask_decoder = sam.mask_decoder
        pr, md = sam.prompt_encoder, sam.mask_decoder
        tr = md.transformer
        cross = tr.final_attn_token_to_image
        self.heads, self.dim = cross.num_heads, cross.internal_dim // cross.num_heads
        rows = [pr.not_a_point_embed.weight] + [e.weight for e in pr.point_embeddings]
        self.register_buffer("label_embeddings", torch.cat(rows, dim=0))
        self.register_buffer(
            "output_tokens", torch.cat([md.iou_token.weight, md.mask_tokens.weight], dim=0)
        )
        # The dense PE times the key (token-to-image) or query (image-to-token) projection of
        # each cross attention, [H, D, N]: constants of the model.
        pe = pr.get_dense_pe().flatten(2)[0].t()
        heads_t = _Keys(None, None, self.heads, self.dim)._heads_t
        with torch.no_grad():
            for i, layer in enumerate(tr.layers):
                wk = layer.cross_attn_token_to_image.k_proj.weight
                wq = layer.cross_attn_image_to_token.q_proj.weight
                self.register_buffer(f"pe_k{i}", heads_t(pe @ wk.t()))
                self.register_buffer(f"pe_q{i}", heads_t(pe @ wq.t()))
            self.register_buffer("pe_k_final", heads_t(pe @ cross.k_proj.weight.t()))
        # The hypernetwork MLPs of maps 1-3 as one batched MLP.
        _register_mask_head(self, md, list(md.output_hypernetworks_mlps)[1:])

    def forward(self, point_coords, point_labels, stability_offset, *image_inputs):
        shared = _Shared(list(image_inputs))
        return self.decode(None, point_coords, point_labels, stability_offset, shared)

    def _embed_points(self, coords: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        emb = self.prompt_encoder.pe_layer._pe_encoding((coords + 0.5) / IMG_SIZE)  # B, P, C
        table = self.label_embeddings[(labels + 1).to(torch.int64)]
        return emb * (labels != -1).unsqueeze(-1) + table

    @staticmethod
    def _split(x: torch.Tensor, heads: int) -> torch.Tensor:  # [B, T, H*D] → [B, H, T, D]
        return x.reshape(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)

    def _self_attention(self, attn, q, k, v) -> torch.Tensor:
        h = attn.num_heads
        scale = 1.0 / math.sqrt(attn.internal_dim // h)
        qh, kh = self._split(attn.q_proj(q), h) * scale, self._split(attn.k_proj(k), h)
        a = torch.softmax(torch.matmul(qh, kh.transpose(2, 3)), dim=-1)
        out = torch.matmul(a, self._split(attn.v_proj(v), h)).transpose(1, 2)
        return attn.out_proj(out.reshape(q.shape[0], q.shape[1], -1))

    def _token_to_image(self, attn, q, keys: _Keys, pe_k) -> torch.Tensor:
        """Attention(q=tokens, k=keys+PE, v=keys); k_proj's bias cannot change a softmax over N."""
        h, d = self.heads, self.dim
        qh = self._split(attn.q_proj(q), h) * (1.0 / math.sqrt(d))  # B, H, T, D
        p = torch.softmax(keys.scores(attn.k_proj.weight, qh, pe_k, const=False), dim=-1)
        out = keys.weighted(p, attn.v_proj.weight) + attn.v_proj.bias.reshape(h, 1, d)
        return attn.out_proj(out.transpose(1, 2).reshape(q.shape[0], q.shape[1], h * d))

    def _image_to_token(self, attn, keys: _Keys, k, v, pe_q) -> _Keys:
        """keys + Attention(q=keys+PE, k=tokens, v=tokens), as new low-rank columns."""
        h, d = self.heads, self.dim
        kh = self._split(attn.k_proj(k), h) * (1.0 / math.sqrt(d))
        s = keys.scores(attn.q_proj.weight, kh, pe_q)  # B, H, T, N
        s = s + torch.matmul(kh, attn.q_proj.bias.reshape(h, d, 1))
        # the softmax runs over the tokens, axis 2: ORT's Softmax is slow on an inner axis
        e = torch.exp(s - s.amax(dim=2, keepdim=True))
        at = e / e.sum(dim=2, keepdim=True)
        vh = self._split(attn.v_proj(v), h)
        return keys.add_attention(at.reshape(k.shape[0], -1, N_TOKENS), vh, attn.out_proj)

    def decode(self, image_embeddings, point_coords, point_labels, stability_offset, shared):
        """The whole decoder; `image_embeddings` is None when `shared` reads the image inputs."""
        b = point_coords.shape[0]
        sparse = self._embed_points(point_coords, point_labels)
        tokens = torch.cat([self.output_tokens.expand(b, -1, -1), sparse], dim=1)
        s = None
        if image_embeddings is not None:
            s = image_embeddings.reshape(N_TOKENS, -1)
        no_mask = self.prompt_encoder.no_mask_embed.weight[0]
        keys = _Keys(s, shared, self.heads, self.dim, c=no_mask)
        tr = self.mask_decoder.transformer
        queries = tokens
        for i, layer in enumerate(tr.layers):
            if layer.skip_first_layer_pe:
                queries = self._self_attention(layer.self_attn, queries, queries, queries)
            else:
                q = queries + tokens
                queries = queries + self._self_attention(layer.self_attn, q, q, queries)
            queries = layer.norm1(queries)
            attn = layer.cross_attn_token_to_image
            queries = layer.norm2(
                queries
                + self._token_to_image(attn, queries + tokens, keys, getattr(self, f"pe_k{i}"))
            )
            queries = layer.norm3(queries + layer.mlp(queries))
            attn = layer.cross_attn_image_to_token
            pe_q = getattr(self, f"pe_q{i}")
            keys = self._image_to_token(attn, keys, queries + tokens, queries, pe_q)
            keys = keys.layer_norm(layer.norm4)
        final = tr.final_attn_token_to_image
        hs = tr.norm_final_attn(
            queries + self._token_to_image(final, queries + tokens, keys, self.pe_k_final)
        )
        iou = self.mask_decoder.iou_prediction_head(hs[:, 0])
        tiles = self._masks(hs, keys)
        inner = (tiles > stability_offset).sum(1).to(torch.float32)
        outer = (tiles > -stability_offset).sum(1).to(torch.float32)
        return tiles, iou, inner / outer.clamp(min=1.0)

    def _masks(self, hs: torch.Tensor, keys: _Keys) -> torch.Tensor:
        """Maps 1-3, band by band: output_upscaling turns each token into its own 4x4 pixels."""
        b = hs.shape[0]
        h = hs[:, 2:5].transpose(0, 1)  # 3, B, C: the tokens of maps 1-3
        for j in range(self.hyper_layers):
            h = torch.matmul(h, getattr(self, f"hyper_w{j}")) + getattr(self, f"hyper_b{j}")
            h = F.relu(h) if j < self.hyper_layers - 1 else h
        hyper = h.permute(1, 2, 0)  # B, C2, 3
        rw = keys.rows_times(self.w1.t(), bias=self.b1)  # B, r, 4 * C1
        size, s = N_TOKENS // MASK_BANDS, keys.s
        assert keys.lt is not None and keys.a is not None  # after the last layer_norm
        bands = zip(
            torch.split(keys.lt, size, dim=2), torch.split(keys.a, size, dim=2), strict=True
        )
        tiles = []
        for k, (lt, a) in enumerate(bands):
            sw = keys.shared(lambda k=k: s[k * size : (k + 1) * size] @ self.w1)  # size, 4 * C1
            x = torch.matmul(lt.transpose(1, 2), rw) + a.reshape(b, size, 1) * sw
            x = x.reshape(-1, self.up_c1)
            x = F.layer_norm(x, (self.up_c1,), self.norm.weight, self.norm.bias, self.norm.eps)
            x = self.act(torch.matmul(self.act(x), self.w2) + self.b2)
            tiles.append(torch.matmul(x.reshape(b, size * 16, self.up_c2), hyper))
        return torch.cat(tiles, dim=1)  # B, 16 N, 3


class BatchImageGraph(nn.Module):
    """image_embeddings → BatchDecoderGraph's image inputs: once per image, not per batch."""

    def __init__(self, batch: BatchDecoderGraph) -> None:
        super().__init__()
        self.batch = batch

    def forward(self, image_embeddings: torch.Tensor) -> tuple[torch.Tensor, ...]:
        shared = _Shared()
        coords, labels = torch.zeros((1, 2, 2)), torch.tensor([[1.0, -1.0]])
        self.batch.decode(image_embeddings, coords, labels, torch.ones(1), shared)
        return tuple(shared.outputs)
