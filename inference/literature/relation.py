"""Whether a sample mention is a Tc value's material, read from the sentence's text by MiniLM.

The linker's cues (`linker.features`) are counts and positions; this reads the words. The
shipped MiniLM (frozen; its upper graph outputs the final per-token states) encodes each
sentence that holds a Tc value and two or more sample mentions once; a pair is the mean state
of the mention's word pieces, of the value's and of the word pieces between them, and a
logistic regression whose coefficients ship in the linker's card scores it. Nothing new ships
as ONNX: the encoder is search's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_TOKENS = 256  # the embedder's: a span past it has no state and no text score


@dataclass(frozen=True)
class SentenceStates:
    """MiniLM's final token states of one sentence and each word piece's character span."""

    states: np.ndarray  # (word pieces, 384), special tokens included
    offsets: np.ndarray  # (word pieces, 2) characters in the sentence; (0, 0) for specials


def encode(texts: list[str], batch: int = 16) -> list[SentenceStates]:
    """Token states per text (similar lengths share a batch: less padding)."""
    from inference.literature.embed import embedder

    enc = embedder()
    out: list[SentenceStates | None] = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
    for i in range(0, len(order), batch):
        chunk = order[i : i + batch]
        with enc._lock:
            encodings = enc.tokenizer.encode_batch([texts[k] for k in chunk])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (lower,) = enc.lower.run(feeds)
        (states,) = enc.upper.run({enc.states: lower, "attention_mask": mask}, ["token_states"])
        for k, e, s in zip(chunk, encodings, states, strict=True):
            n = int(sum(e.attention_mask))
            offsets = np.array(e.offsets[:n], dtype=np.int64)
            special = np.array(e.special_tokens_mask[:n], dtype=bool)
            offsets[special] = 0
            out[k] = SentenceStates(s[:n].astype(np.float32), offsets)
    return [x for x in out if x is not None]


def pooled(s: SentenceStates, start: int, end: int) -> np.ndarray | None:
    """The mean state of the word pieces inside characters [start, end), None when none is
    (past the truncation, or an empty span)."""
    a, b = s.offsets[:, 0], s.offsets[:, 1]
    inside = (b > a) & (a < end) & (b > start)
    if not inside.any():
        return None
    return s.states[inside].mean(axis=0)


def pair_vector(
    s: SentenceStates, mention: tuple[int, int], value: tuple[int, int]
) -> np.ndarray | None:
    """[m, v, m*v, |m-v|, between] for a mention and a value (character spans in the
    sentence); None when either has no state."""
    m = pooled(s, *mention)
    v = pooled(s, *value)
    if m is None or v is None:
        return None
    lo, hi = (mention[1], value[0]) if mention[1] <= value[0] else (value[1], mention[0])
    between = pooled(s, lo, hi)
    if between is None:
        between = np.zeros_like(m)
    return np.concatenate([m, v, m * v, np.abs(m - v), between])


# how far before the value's sentence the window reaches for earlier sample mentions of its
# paragraph (characters); MiniLM reads at most MAX_TOKENS word pieces
WINDOW_BEFORE = 600


@dataclass(frozen=True)
class Window:
    """The text MiniLM reads for one Tc value: its sentence and the paragraph before it."""

    start: int  # offset in Paper.text
    text: str  # normalised, one line


def window(paper_text: str, sentence_offset: int, sentence_length: int, earliest: int) -> Window:
    """From the earliest candidate's sentence (at most `WINDOW_BEFORE` characters back) to the
    end of the value's sentence."""
    from inference.literature.quantities import normalise

    start = max(min(earliest, sentence_offset), sentence_offset - WINDOW_BEFORE)
    text = normalise(paper_text[start : sentence_offset + sentence_length])
    return Window(start, text.replace("\n", " "))


def value_vector(s: SentenceStates, value: tuple[int, int], keyword: tuple[int, int] | None):
    """[v, keyword, sentence mean] for a value alone (what "no material" is read from)."""
    v = pooled(s, *value)
    if v is None:
        return None
    k = pooled(s, *keyword) if keyword is not None else None
    mean = s.states[s.offsets[:, 1] > s.offsets[:, 0]].mean(axis=0)
    return np.concatenate([v, k if k is not None else np.zeros_like(v), mean])
