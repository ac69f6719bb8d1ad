"""Learned material/value tagger: MiniLM's lower layers (shared with search) → fine-tuned top
layers + a BIO head (a small ONNX file).

MiniLM's `encoder_lower` graph outputs the states entering its top layers (the card's
`encoder_output`, e.g. `hidden_4`), so the tagger never computes search's own top layers; the
tagger file holds copies of those top layers fine-tuned by `inference/export/ner_finetune.py`
on SOFC-Exp (CC-BY), MSPT (MIT) and the tuning part of SuperMat's superconductor papers
(CC-BY), so no second encoder ships. Its spans complement the formula rules (names such as
"nickel oxide" or "yttria-stabilised zirconia" that no formula pattern sees).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.runtime.registry import files_present, get_card, require

LABELS = ("O", "B-MAT", "I-MAT", "B-VAL", "I-VAL")
MODEL_ID = "materials_ner"
MAX_TOKENS = 128


@dataclass(frozen=True)
class TaggedSpan:
    label: str  # MAT or VAL
    start: int
    end: int
    text: str
    score: float


class Tagger:
    def __init__(self) -> None:
        from tokenizers import Tokenizer

        from inference.runtime.sessions import OnnxModel

        encoder = require("minilm")
        head = require(MODEL_ID)
        # run back to back: neither pool may spin while the other works (sessions.build_session)
        self.encoder = OnnxModel(encoder.path("encoder_lower"), spin=False)
        self.head = OnnxModel(head.path("head"), spin=False)
        self.encoder_output = head.extra["encoder_output"]
        self.tokenizer = Tokenizer.from_file(str(encoder.path("tokenizer")))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def logits(self, encodings) -> np.ndarray:
        """(batch, word pieces, labels) for a padded batch of encodings."""
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states = self.encoder.run(feeds, [self.encoder_output])[0]
        return self.head.run({"hidden_states": states, "attention_mask": mask})[0]

    def tag(
        self,
        sentences: list[str],
        batch: int = 32,
        *,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> list[list[TaggedSpan]]:
        """Spans per sentence; sentences of similar length share a batch (less padding)."""
        out: list[list[TaggedSpan]] = [[] for _ in sentences]
        order = sorted(range(len(sentences)), key=lambda k: len(sentences[k]))
        for i in range(0, len(order), batch):
            if cancel is not None:
                cancel.raise_if_cancelled()
            progress(i / max(1, len(order)), "tagging materials")
            chunk = order[i : i + batch]
            enc = self.tokenizer.encode_batch([sentences[k] for k in chunk])
            for k, e, lg in zip(chunk, enc, self.logits(enc), strict=True):
                out[k] = decode(sentences[k], e.offsets, e.special_tokens_mask, lg)
        return out


def decode(sentence: str, offsets, special, logits: np.ndarray) -> list[TaggedSpan]:
    """BIO labels per word piece → character spans (an I without a B starts a span)."""
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    labels = probs.argmax(-1)
    spans: list[TaggedSpan] = []
    cur: list | None = None
    for k, ((s, e), sp) in enumerate(zip(offsets, special, strict=True)):
        if sp or e <= s:
            continue
        tag = LABELS[labels[k]]
        kind = tag[2:]
        continues = cur is not None and tag.startswith("I-") and cur[0] == kind
        # word pieces of one word share the word's label
        inside_word = cur is not None and s == cur[2] and sentence[s - 1 : s].isalnum()
        if cur is not None and (continues or inside_word):
            cur[2] = e
            cur[3].append(probs[k].max())
            continue
        if cur is not None:
            spans.append(_span(sentence, cur))
            cur = None
        if tag != "O":
            cur = [kind, s, e, [probs[k].max()]]
    if cur is not None:
        spans.append(_span(sentence, cur))
    return spans


def _span(sentence: str, cur) -> TaggedSpan:
    """A span widened to whole words ("SCF" inside "LSCF" becomes "LSCF")."""
    kind, s, e, scores = cur
    while s > 0 and sentence[s - 1].isalnum():
        s -= 1
    while e < len(sentence) and sentence[e].isalnum():
        e += 1
    return TaggedSpan(kind, s, e, sentence[s:e], float(np.mean(scores)))


def installed() -> bool:
    """Whether the tagger's files are present (a cheap check: no hashing, no session)."""
    try:
        cards = [get_card("minilm"), get_card(MODEL_ID)]
    except Exception:  # noqa: BLE001 - an unknown or broken card means: not installed
        return False
    return all(files_present(card) for card in cards)


@functools.lru_cache(maxsize=1)
def tagger() -> Tagger:
    return Tagger()
