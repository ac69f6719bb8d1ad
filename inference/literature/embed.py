"""Sentence embeddings with MiniLM as ONNX (tokenizer from `tokenizers`): no torch at run time.

MiniLM ships as two graphs (inference/export/minilm.py): the lower layers, which the materials
tagger shares, and the upper layers with the pooling; an embedding runs one after the other.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from inference.runtime.registry import require

MODEL_ID = "minilm"
MAX_TOKENS = 256


class Embedder:
    """Texts → L2-normalised 384-d vectors, in batches."""

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        from inference.runtime.sessions import OnnxModel

        card = require(MODEL_ID)
        # run back to back: neither pool may spin while the other works (sessions.build_session)
        self.lower = OnnxModel(card.path("encoder_lower"), spin=False)
        self.upper = OnnxModel(card.path("encoder_upper"), spin=False)
        self.states = self.lower.output_names[0]  # e.g. hidden_4, input of the upper graph
        self.tokenizer = Tokenizer.from_file(str(card.path("tokenizer")))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()  # a Tokenizer's padding state is not thread-safe

    @property
    def device(self) -> str:
        return self.lower.device.label

    def embed(
        self, texts: list[str], batch: int = 32, cancel=None, *, by_length: bool = True
    ) -> np.ndarray:
        """One row per text, in the order given. `by_length` batches texts of similar length
        together (a batch is padded to its longest text, so mixed lengths waste most of the
        work on padding); the vectors are the same up to float rounding."""
        order = sorted(range(len(texts)), key=lambda k: len(texts[k])) if by_length else None
        ordered = [texts[k] for k in order] if order is not None else texts
        vectors = self._embed_in_batches(ordered, batch, cancel)
        if order is None:
            return vectors
        result = np.empty_like(vectors)
        result[order] = vectors
        return result

    def _embed_in_batches(self, texts: list[str], batch: int, cancel) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch):
            if cancel:
                cancel.raise_if_cancelled()
            with self._lock:
                enc = self.tokenizer.encode_batch(texts[i : i + batch])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            (states,) = self.lower.run(feeds)
            upper = {self.states: states, "attention_mask": mask}
            out.append(self.upper.run(upper, ["embedding"])[0].astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


@functools.lru_cache(maxsize=1)
def embedder() -> Embedder:
    return Embedder()
