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

import torch
from torch import nn
from torch.nn import functional as F

IMG_SIZE = 1024
EMBED_HW = 64


class EncoderGraph(nn.Module):
    """uint8 resized image → image embedding (normalise and pad as Sam.preprocess does)."""

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


class DecoderGraph(nn.Module):
    """Prompt encoder + mask decoder of SAM → four low-res logit maps and their IoU scores."""

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
        mlps = md.output_hypernetworks_mlps
        for j in range(mlps[0].num_layers):
            w = torch.stack([m.layers[j].weight.transpose(0, 1) for m in mlps])
            self.register_buffer(f"hyper_w{j}", w)
            self.register_buffer(
                f"hyper_b{j}", torch.stack([m.layers[j].bias for m in mlps])[:, None]
            )
        self.hyper_layers = mlps[0].num_layers
        up1, norm, _, up2, _ = md.output_upscaling
        # ConvTranspose2d(k=2, s=2) as a GEMM whose columns are ordered (a, b, c_out).
        self.register_buffer("w1", up1.weight.permute(0, 2, 3, 1).reshape(up1.in_channels, -1))
        self.register_buffer("b1", up1.bias.repeat(4))
        self.register_buffer("w2", up2.weight.permute(0, 2, 3, 1).reshape(up2.in_channels, -1))
        self.register_buffer("b2", up2.bias.repeat(4))
        self.norm, self.up_c1, self.up_c2 = norm, up1.out_channels, up2.out_channels
        self.act = md.output_upscaling[2]

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
