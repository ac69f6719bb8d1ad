"""Fine-tune MiniLM's top layers + a BIO head as the materials/value tagger (set-up time; torch).

Why only the top layers: the app already ships the MiniLM graph for library search, and the
installer has no room for a second 90 MB encoder. That graph also outputs the states entering
its top `k` layers (`hidden_{6-k}`, see inference/export/minilm.py); the tagger ships as
fine-tuned copies of those k layers + a linear head, a small ONNX file (int8 when accuracy
holds). k = 0 is the frozen encoder with a linear head (the earlier design), kept as baseline.

Training runs on cached lower-layer states (computed once), so an epoch costs only the top
layers. The epoch kept is the best on the dev splits (mean F1 of SOFC-Exp MAT, SOFC-Exp VAL and
MSPT MAT, span overlap; with `--supermat half` also SuperMat MAT on the held-out half of the
benchmark's tuning part), or the one named by `--keep-epoch`.

SuperMat sentences come from the tuning part of `benchmarks/literature_extraction.py`'s split
(never the report part): from the PDFs as MatLens reads them, with the paper's gold material
texts marked where they occur (`--supermat-text pdf`, the default), or from the gold TEI text.
The recipe (text source, epoch) was chosen with `--supermat half` and
`benchmarks/tagger_holdout.py` on the other half; the shipped model is then trained on all 46:

  python -m inference.export.ner_finetune --data ../shared/data/papers --out resources/models \
      --supermat tune --supermat-text pdf --epochs 6 --keep-epoch 5
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import MatLensError
from inference.export.ner_train import (
    DROP,
    IGNORE,
    Gold,
    Overlap,
    bio_labels,
    mspt,
    sofc,
    supermat,
    supermat_pdf,
)
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.literature.ner import LABELS, MAX_TOKENS, decode

OPSET = 17
HIDDEN = 384
N_LAYERS = 6
FILE = "materials_ner_head.onnx"


@dataclass(frozen=True)
class Sentence:
    """One gold sentence with its word pieces and the cached states entering the top layers."""

    text: str
    spans: tuple  # (start, end, "MAT" | "VAL" | None)
    offsets: tuple
    special: tuple
    states: dict  # tap (layers below) -> (pieces, 384) float32
    labels: np.ndarray  # (pieces,) label index, IGNORE or DROP


def tokenizer():
    from tokenizers import Tokenizer

    from inference.export.minilm import package_dir

    tok = Tokenizer.from_file(str(package_dir() / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch
    return tok


def featurize(
    encoder, tok, data: list[Gold], taps: tuple[int, ...], batch: int = 32
) -> list[Sentence]:
    """Run the frozen encoder once; keep the states after `taps` layers, unpadded."""
    import torch

    out = []
    order = sorted(range(len(data)), key=lambda i: len(data[i][0]))
    for i in range(0, len(order), batch):
        chunk = [data[j] for j in order[i : i + batch]]
        enc = tok.encode_batch([s for s, _ in chunk])
        ids = torch.tensor([e.ids for e in enc])
        mask = torch.tensor([e.attention_mask for e in enc])
        with torch.no_grad():
            _, last, *tapped = encoder(ids, mask, torch.zeros_like(ids))
        by_tap = dict(zip(sorted(t for t in taps if t < N_LAYERS), tapped, strict=True))
        by_tap[N_LAYERS] = last
        for k, ((text, spans), e) in enumerate(zip(chunk, enc, strict=True)):
            n = sum(e.attention_mask)
            states = {t: by_tap[t][k, :n].numpy().copy() for t in taps}
            y = bio_labels(e.offsets[:n], e.special_tokens_mask[:n], spans)
            out.append(
                Sentence(
                    text,
                    tuple(spans),
                    tuple(e.offsets[:n]),
                    tuple(e.special_tokens_mask[:n]),
                    states,
                    np.array(y, np.int64),
                )
            )
    return out


def build_tagger(top: int):
    """Copies of MiniLM's top `top` layers (pretrained) + a linear head over BIO labels."""
    import torch
    from torch import nn

    from inference.export.minilm import load_encoder

    layers = list(load_encoder().layers)[N_LAYERS - top :] if top else []

    class TopTagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layers = nn.ModuleList(copy.deepcopy(layers))
            self.dropout = nn.Dropout(0.1)
            self.head = nn.Linear(HIDDEN, len(LABELS))

        def forward(self, hidden_states, attention_mask):
            bias = (1.0 - attention_mask.to(hidden_states.dtype))[:, None, None, :] * -1e4
            x = hidden_states
            for layer in self.layers:
                x = layer(self.dropout(x), bias)
            return self.head(self.dropout(x))

    torch.manual_seed(0)
    return TopTagger()


def _batches(sentences: list[Sentence], tap: int, size: int, rng=None):
    """Padded (states, mask, labels) batches of similar-length sentences (shuffled with rng)."""
    import torch

    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i].labels))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    if rng is not None:
        rng.shuffle(groups)
    for group in groups:
        n = max(len(sentences[i].labels) for i in group)
        x = np.zeros((len(group), n, HIDDEN), np.float32)
        m = np.zeros((len(group), n), np.int64)
        y = np.full((len(group), n), -100, np.int64)
        for row, i in enumerate(group):
            s = sentences[i]
            k = len(s.labels)
            x[row, :k] = s.states[tap]
            m[row, :k] = 1
            y[row, :k] = np.where((s.labels == IGNORE) | (s.labels == DROP), -100, s.labels)
        yield group, torch.from_numpy(x), torch.from_numpy(m), torch.from_numpy(y)


def predict(model, sentences: list[Sentence], tap: int) -> list[np.ndarray]:
    """Logits per sentence (unpadded), in the order given."""
    import torch

    model.eval()
    out: list[np.ndarray] = [np.empty(0)] * len(sentences)
    with torch.no_grad():
        for group, x, m, _ in _batches(sentences, tap, 64):
            logits = model(x, m).numpy()
            for row, i in enumerate(group):
                out[i] = logits[row, : len(sentences[i].labels)]
    return out


def span_scores(sentences: list[Sentence], logits: list[np.ndarray]) -> dict[str, Overlap]:
    """Span-overlap counts per label for decoded predictions."""
    acc = {"MAT": Overlap(), "VAL": Overlap()}
    for s, lg in zip(sentences, logits, strict=True):
        spans = decode(s.text, s.offsets, s.special, lg)
        for kind, o in acc.items():
            o.add(
                [(p.start, p.end) for p in spans if p.label == kind],
                [(b, e) for b, e, k in s.spans if k == kind],
            )
    return acc


def dev_score(dev: dict[str, list[Sentence]], model, tap: int) -> tuple[float, dict]:
    """Mean F1 of SOFC-Exp MAT, SOFC-Exp VAL, MSPT MAT (and SuperMat MAT on held-out tuning
    papers when `dev` has them) on dev, and the details."""
    sofc_s = span_scores(dev["sofc"], predict(model, dev["sofc"], tap))
    mspt_s = span_scores(dev["mspt"], predict(model, dev["mspt"], tap))
    details = {
        "sofc_MAT": sofc_s["MAT"].scores(),
        "sofc_VAL": sofc_s["VAL"].scores(),
        "mspt_MAT": mspt_s["MAT"].scores(),
    }
    if dev.get("supermat"):
        held = span_scores(dev["supermat"], predict(model, dev["supermat"], tap))
        details["supermat_MAT"] = held["MAT"].scores()
    return float(np.mean([d["f1"] for d in details.values()])), details


def train(
    train_set: list[Sentence],
    dev: dict[str, list[Sentence]],
    top: int,
    epochs: int = 4,
    lr: float = 1e-4,
    head_lr: float = 1e-3,
    batch: int = 16,
    keep_epoch: int | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
):
    """AdamW with linear decay; returns (model at the best dev epoch, or at `keep_epoch`, its
    dev score, log)."""
    import torch

    tap = N_LAYERS - top
    model = build_tagger(top)
    groups = [
        {"params": model.head.parameters(), "lr": head_lr},
        {"params": model.layers.parameters(), "lr": lr},
    ]
    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    steps = epochs * -(-len(train_set) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: max(0.0, 1 - t / steps))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    rng = np.random.default_rng(0)
    best, best_score, log = None, -1.0, []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        total = 0.0
        for _, x, m, y in _batches(train_set, tap, batch, rng):
            if cancel:
                cancel.raise_if_cancelled()
            loss = loss_fn(model(x, m).reshape(-1, len(LABELS)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            # a batch whose pieces all carry no loss (SuperMat lines of bare numbers) gives NaN
            # with zero gradients: it leaves the weights alone and is left out of the log
            total += float(loss.detach().nan_to_num()) * len(x)
        score, details = dev_score(dev, model, tap)
        seconds = time.perf_counter() - start
        log.append({"epoch": epoch, "loss": total / len(train_set), "dev": details})
        print(
            f"top={top} epoch {epoch}: loss {total / len(train_set):.4f}, dev mean F1 {score:.3f} "
            f"{json.dumps(details)} ({seconds:.0f} s)",
            flush=True,
        )
        progress(epoch / epochs, f"epoch {epoch}")
        if (score > best_score and keep_epoch is None) or epoch == keep_epoch:
            best, best_score = copy.deepcopy(model.state_dict()), score
        if epoch == keep_epoch:
            break  # the learning-rate schedule still spans `epochs`, as when it was chosen
    if best is not None:  # None only with no epoch at all: the model stays as it started
        model.load_state_dict(best)
    return model.eval(), best_score, log


def export_onnx(model, path: Path) -> None:
    """The top layers + head as ONNX: (hidden_states, attention_mask) → logits."""
    import torch

    x = torch.zeros((2, 16, HIDDEN))
    m = torch.ones((2, 16), dtype=torch.int64)
    with torch.no_grad():
        torch.onnx.export(
            model.eval(),
            (x, m),
            str(path),
            input_names=["hidden_states", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "hidden_states": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch", 1: "tokens"},
            },
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def quantize(src: Path, dst: Path) -> None:
    """Weights to int8, activations quantized on the fly (onnxruntime dynamic quantization)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True)


class OnnxTop:
    """An exported tagger file run like the torch model (for scoring it on cached states)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def eval(self):
        return self

    def __call__(self, x, m):
        import torch

        feeds = {"hidden_states": x.numpy(), "attention_mask": m.numpy()}
        return torch.from_numpy(self.session.run(None, feeds)[0])


def combinations(root: Path, split: str, tagger) -> dict[str, dict]:
    """Span scores of rules, NER and their combinations on one split.

    rules+ner: NER spans that overlap no rule span are added; rules&ner: rule spans that
    overlap an NER span; extract: what `extract(ner=True)` adds to the formula rules (named
    material spans, filtered).
    """
    from inference.literature.extract import _learned
    from inference.literature.materials import find_materials
    from inference.literature.quantities import find_quantities

    def overlaps(a, spans) -> bool:
        return any(a[0] < b[1] and b[0] < a[1] for b in spans)

    acc: dict[str, Overlap] = {}
    for corpus, data in (("sofc", sofc(root, split)), ("mspt", mspt(root, split))):
        tagged = tagger.tag([s for s, _ in data])
        for (text, spans), found in zip(data, tagged, strict=True):
            mats = find_materials(text)
            rules = {
                "MAT": [(m.start, m.end) for m in mats],
                "VAL": [(q.start, q.end) for q in find_quantities(text)],
            }
            for kind in ("MAT", "VAL") if corpus == "sofc" else ("MAT",):
                ner = [(s.start, s.end) for s in found if s.label == kind]
                variants = {
                    "rules": rules[kind],
                    "ner": ner,
                    "rules+ner": rules[kind] + [a for a in ner if not overlaps(a, rules[kind])],
                    "rules&ner": [a for a in rules[kind] if overlaps(a, ner)],
                }
                if kind == "MAT":
                    variants["extract"] = rules[kind] + [
                        (m.start, m.end) for m in _learned(found, mats)
                    ]
                gold = [(b, e) for b, e, k in spans if k == kind]
                for name, pred in variants.items():
                    acc.setdefault(f"{corpus} {kind} {name}", Overlap()).add(pred, gold)
    return {k: v.scores() for k, v in acc.items()}


def supermat_papers(root: Path, which: str) -> tuple[list[str], list[str]]:
    """(trained on, held out) stems of supermat_dev: the benchmark's tuning part ("tune"), or
    the first of its two seeded halves with the second held out ("half"). The report part is
    never read here. The split and the halves are imported from the benchmarks, not re-derived.
    """
    benchmarks = str(Path(__file__).resolve().parents[2] / "benchmarks")
    if benchmarks not in sys.path:
        sys.path.insert(0, benchmarks)
    from link_errors import halves  # pyright: ignore[reportMissingImports]
    from literature_extraction import split_supermat_dev  # pyright: ignore[reportMissingImports]

    stems = [p.stem for p in sorted((root / "supermat_dev" / "pdf").glob("*.pdf"))]
    tune, _report = split_supermat_dev(stems)
    if which == "half":
        first, second = halves(tune)
        return first, second
    return tune, []


def main(argv: list[str] | None = None) -> int:
    import torch

    from inference.export.minilm import TAGGER_TAP, load_encoder
    from inference.export.sam import sha256_file

    parser = argparse.ArgumentParser(prog="python -m inference.export.ner_finetune")
    parser.add_argument("--data", default="../shared/data/papers")
    parser.add_argument("--out", default="resources/models")
    parser.add_argument("--top", type=int, default=N_LAYERS - TAGGER_TAP, help="layers tuned")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--supermat",
        choices=("none", "half", "tune"),
        default="tune",
        help="SuperMat tuning papers trained on: none; the first of the tuning part's two "
        "halves (the second is held out for choosing epochs and mixing); all 46",
    )
    parser.add_argument(
        "--supermat-text",
        choices=("tei", "pdf", "both"),
        default="pdf",
        help="SuperMat training sentences from the gold TEI text, from the PDFs as MatLens "
        "reads them (gold material texts marked where they occur), or both",
    )
    parser.add_argument("--keep-epoch", type=int, help="keep this epoch, not the best on dev")
    parser.add_argument(
        "--combinations",
        action="store_true",
        help="only score rules, NER and their combinations (dev, test) with the installed tagger",
    )
    args = parser.parse_args(argv)
    root = Path(args.data)
    if not (root / "sofc_exp").is_dir() or not (root / "mspt_synthesis_brat").is_dir():
        print(MatLensError(f"SOFC-Exp or MSPT not found under {root}"), file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    if args.combinations:
        from inference.literature.ner import Tagger

        tagger = Tagger()
        for split in ("dev", "test"):
            for key, value in combinations(root, split, tagger).items():
                print(f"{split:4s} {key:22s} {json.dumps(value)}")
        return 0
    start = time.perf_counter()
    tap = N_LAYERS - args.top
    encoder = load_encoder(taps=(tap,) if tap < N_LAYERS else ()).eval()
    tok = tokenizer()
    sets = {
        (name, split): featurize(encoder, tok, load(root, split), (tap,))
        for split in ("train", "dev", "test")
        for name, load in (("sofc", sofc), ("mspt", mspt))
    }
    train_set = sets["sofc", "train"] + sets["mspt", "train"]
    dev = {"sofc": sets["sofc", "dev"], "mspt": sets["mspt", "dev"]}
    if args.supermat != "none":
        trained, held = supermat_papers(root, args.supermat)
        folder = root / "supermat_dev"
        gold = []
        if args.supermat_text in ("tei", "both"):
            gold += supermat(folder, trained)
        if args.supermat_text in ("pdf", "both"):
            gold += supermat_pdf(folder, trained)
        train_set += featurize(encoder, tok, gold, (tap,))
        if held:
            dev["supermat"] = featurize(encoder, tok, supermat(folder, held), (tap,))
        print(f"SuperMat: {len(trained)} papers trained on, {len(held)} held out")
    test = {"sofc": sets["sofc", "test"], "mspt": sets["mspt", "test"]}
    print(f"{len(train_set)} training sentences, features in {time.perf_counter() - start:.0f} s")
    model, _, _ = train(
        train_set, dev, args.top, args.epochs, args.lr, args.head_lr, keep_epoch=args.keep_epoch
    )
    out = Path(args.out)
    tmp = out / ".ner-fp32.onnx"
    export_onnx(model, tmp)
    quantize(tmp, out / FILE)
    fp32, int8 = OnnxTop(tmp), OnnxTop(out / FILE)
    report = {}
    for label, runner in (("torch", model), ("onnx fp32", fp32), ("onnx int8", int8)):
        report[label] = {"dev": dev_score(dev, runner, tap), "test": dev_score(test, runner, tap)}
        print(f"{label}: {json.dumps(report[label])}")
    drop = report["onnx fp32"]["dev"][0] - report["onnx int8"]["dev"][0]
    if drop > 0.01:  # int8 costs accuracy: ship fp32
        tmp.replace(out / FILE)
    else:
        tmp.unlink()
    path = out / FILE
    print(
        f"wrote {path} ({'fp32' if drop > 0.01 else 'int8'}, int8 dev F1 drop {drop:.3f}, "
        f"{path.stat().st_size} bytes) sha256 {sha256_file(path)}; "
        f'card encoder_output "{"token_states" if tap == N_LAYERS else f"hidden_{tap}"}"'
    )
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
