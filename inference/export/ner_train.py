"""Train the materials/value tagger head on SOFC-Exp and MSPT (set-up time; numpy only).

The MiniLM encoder stays frozen (its ONNX graph gives `token_states`); a linear softmax head
over BIO labels (O, B/I-MAT, B/I-VAL) is fitted with Adam and written as a tiny ONNX graph.
MSPT gives Material spans only; its numbers use a different scheme, so value-like word
pieces there carry no loss.

  python -m inference.export.ner_train --data ../shared/data/papers --out resources/models
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from inference.literature.ner import LABELS, MAX_TOKENS, decode
from inference.literature.sentences import split_sentences

IGNORE = -1
MSPT_VALUE_TYPES = {"Number", "Amount-Unit", "Condition-Unit", "Property-Unit", "Apparatus-Unit"}


# --- corpora -> (sentence, [(start, end, "MAT"|"VAL"|None)]) --------------------------------
def sofc(root: Path, split: str) -> list[tuple[str, list]]:
    meta = (root / "sofc_exp" / "SOFC-Exp-Metadata.csv").read_text(encoding="utf-8").splitlines()
    header = meta[0].split("\t")
    rows = [r.split("\t") for r in meta[1:]]
    names = [
        r[header.index("name")]
        for r in rows
        if len(r) == len(header) and r[header.index("set")] == split
    ]
    out = []
    for name in names:
        sentences = (
            (root / "sofc_exp" / "texts" / f"{name}.txt").read_text(encoding="utf-8").split("\n")
        )
        flags = (
            (root / "sofc_exp" / "annotations" / "sentences" / f"{name}.csv")
            .read_text()
            .splitlines()
        )
        keep = {int(r.split("\t")[0]) for r in flags if r.count("\t") and r.split("\t")[1] == "1"}
        spans: dict[int, list] = {}
        cur = None
        path = root / "sofc_exp" / "annotations" / "entity_types_and_slots" / f"{name}.csv"
        for line in path.read_text(encoding="utf-8").splitlines():
            c = line.split("\t")
            if len(c) < 5:
                continue
            sid, b, e, tag = int(c[0]), int(c[2]), int(c[3]), c[4]
            kind = {"MATERIAL": "MAT", "VALUE": "VAL"}.get(tag[2:])
            if tag.startswith("B-") and kind:
                cur = [b, e, kind]
                spans.setdefault(sid, []).append(cur)
            elif tag.startswith("I-") and kind and cur is not None and cur[2] == kind:
                cur[1] = e
            else:
                cur = None
        for sid in sorted(keep):
            if sid - 1 < len(sentences):
                out.append((sentences[sid - 1], [tuple(s) for s in spans.get(sid, [])]))
    return out


def mspt(root: Path, split: str) -> list[tuple[str, list]]:
    base = root / "mspt_synthesis_brat"
    names = (base / f"ner-{split}-fnames.txt").read_text().split()
    out = []
    for name in names:
        txt, ann = base / "data" / f"{name}.txt", base / "data" / f"{name}.ann"
        if not txt.is_file() or not ann.is_file():
            continue
        text = txt.read_text(encoding="utf-8")
        ents = []
        for line in ann.read_text(encoding="utf-8").splitlines():
            if not line.startswith("T"):
                continue
            _, info, _ = (line.split("\t") + ["", ""])[:3]
            parts = info.replace(";", " ").split()
            kind, b, e = parts[0], int(parts[1]), int(parts[-1])
            if kind == "Material":
                ents.append((b, e, "MAT"))
            elif kind in MSPT_VALUE_TYPES:
                ents.append((b, e, None))  # no loss here
        for s0, s1 in split_sentences(text):
            inside = [(b - s0, e - s0, k) for b, e, k in ents if b >= s0 and e <= s1]
            out.append((text[s0:s1], inside))
    return out


# --- features ------------------------------------------------------------------------------
def encode(tagger, data, batch: int = 32):
    feats, labels, examples = [], [], []
    for i in range(0, len(data), batch):
        chunk = data[i : i + batch]
        enc = tagger.tokenizer.encode_batch([s for s, _ in chunk])
        states = tagger.states(enc)
        for (sentence, spans), e, st in zip(chunk, enc, states, strict=True):
            y = _labels(e.offsets, e.special_tokens_mask, spans)
            use = np.array(y) != IGNORE - 1
            feats.append(st[use])
            labels.append(np.array(y)[use])
            examples.append((sentence, spans, e, st))
    return np.concatenate(feats), np.concatenate(labels), examples


def _labels(offsets, special, spans) -> list[int]:
    y = []
    started: set[int] = set()
    for (s, e), sp in zip(offsets, special, strict=True):
        if sp or e <= s:
            y.append(IGNORE - 1)  # padding and [CLS]/[SEP]: dropped
            continue
        label = 0
        for k, (b, end, kind) in enumerate(spans):
            if s < end and b < e:
                if kind is None:
                    label = IGNORE
                else:
                    first = k not in started
                    started.add(k)
                    label = LABELS.index(("B-" if first else "I-") + kind)
                break
        y.append(label)
    return y


def train(
    x: np.ndarray,
    y: np.ndarray,
    epochs: int = 300,
    lr: float = 0.01,
    l2: float = 1e-4,
    balance: float = 0.0,
):
    """Softmax regression with Adam; `balance` > 0 up-weights rare labels (recall vs precision)."""
    keep = y != IGNORE
    x, y = x[keep].astype(np.float32), y[keep]
    mu, sd = x.mean(0), x.std(0) + 1e-6
    xs = (x - mu) / sd
    n, d = xs.shape
    k = len(LABELS)
    counts = np.bincount(y, minlength=k).astype(np.float64)
    weights = (counts.sum() / np.maximum(counts, 1)) ** balance
    weights = (weights / weights[y].mean()).astype(np.float32)
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((d, k)) * 0.01).astype(np.float32)
    b = np.zeros(k, np.float32)
    m_w, v_w, m_b, v_b = (np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b))
    onehot = np.eye(k, dtype=np.float32)[y]
    sw = weights[y][:, None]
    for t in range(1, epochs + 1):
        z = xs @ w + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) * sw / n
        gw = xs.T @ g + l2 * w
        gb = g.sum(0)
        for param, grad, m, v in ((w, gw, m_w, v_w), (b, gb, m_b, v_b)):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            param -= lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    # fold the standardisation into the head: logits = x @ (w / sd) + (b - mu/sd @ w)
    w_raw = w / sd[:, None]
    b_raw = b - (mu / sd) @ w
    return w_raw.astype(np.float32), b_raw.astype(np.float32)


def evaluate(examples, w, b, kind: str) -> tuple[int, int, int, int]:
    """(predictions that overlap a gold span, predictions, gold spans hit, gold spans)."""
    tp = n_pred = n_gold = hit = 0
    for sentence, spans, e, st in examples:
        logits = st @ w + b
        pred = [
            s for s in decode(sentence, e.offsets, e.special_tokens_mask, logits) if s.label == kind
        ]
        gold = [(s, t) for s, t, k in spans if k == kind]
        n_pred += len(pred)
        n_gold += len(gold)
        tp += sum(1 for p in pred if any(p.start < t and s < p.end for s, t in gold))
        hit += sum(1 for s, t in gold if any(p.start < t and s < p.end for p in pred))
    return tp, n_pred, hit, n_gold


def write_head(w: np.ndarray, b: np.ndarray, path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["token_states", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["logits"]),
        ],
        "materials_ner_head",
        [
            helper.make_tensor_value_info(
                "token_states", TensorProto.FLOAT, ["batch", "tokens", w.shape[0]]
            )
        ],
        [
            helper.make_tensor_value_info(
                "logits", TensorProto.FLOAT, ["batch", "tokens", w.shape[1]]
            )
        ],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="matlens"
    )
    model.ir_version = 8
    onnx.save(model, str(path))


def main(argv: list[str] | None = None) -> int:
    from inference.export.sam import sha256_file
    from inference.literature.ner import Tagger

    parser = argparse.ArgumentParser(prog="python -m inference.export.ner_train")
    parser.add_argument("--data", default="../shared/data/papers")
    parser.add_argument("--out", default="resources/models")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--cache", help="npz file to keep the training features in")
    parser.add_argument("--balance", type=float, default=0.0, help="rare-label weight exponent")
    args = parser.parse_args(argv)
    root = Path(args.data)
    tagger = Tagger.__new__(Tagger)  # the encoder only; the head is what we train
    from tokenizers import Tokenizer

    from inference.runtime.registry import require
    from inference.runtime.sessions import OnnxModel

    card = require("minilm")
    tagger.encoder = OnnxModel(card.path("encoder"))
    tagger.tokenizer = Tokenizer.from_file(str(card.path("tokenizer")))
    tagger.tokenizer.enable_truncation(MAX_TOKENS)
    tagger.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    start = time.perf_counter()
    train_data = sofc(root, "train") + mspt(root, "train")
    cache = Path(args.cache) if args.cache else None
    if cache and cache.is_file():
        data = np.load(cache)
        x, y = data["x"], data["y"]
    else:
        x, y, _ = encode(tagger, train_data)
        if cache:
            np.savez(cache, x=x, y=y)
    print(
        f"{len(train_data)} training sentences, {len(y)} word pieces, features in {time.perf_counter() - start:.0f} s"
    )
    w, b = train(x, y, epochs=args.epochs, balance=args.balance)
    results = {}
    for name, data in (("sofc_test", sofc(root, "test")), ("mspt_test", mspt(root, "test"))):
        _, _, examples = encode(tagger, data)
        for kind in ("MAT", "VAL"):
            tp, n_pred, hit, n_gold = evaluate(examples, w, b, kind)
            if not n_gold:
                continue
            p = tp / n_pred if n_pred else 0.0
            r = hit / n_gold
            results[f"{name}_{kind}"] = {
                "precision": round(p, 3),
                "recall": round(r, 3),
                "gold": n_gold,
            }
    print(json.dumps(results, indent=2))
    out = Path(args.out) / "materials_ner_head.onnx"
    write_head(w, b, out)
    print(f"wrote {out} ({out.stat().st_size} bytes) sha256 {sha256_file(out)}")
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
