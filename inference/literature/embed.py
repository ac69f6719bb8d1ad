"""Sentence embeddings with MiniLM as ONNX (tokenizer from `tokenizers`): no torch at run time."""

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
        self.model = OnnxModel(card.path("encoder"))
        self.tokenizer = Tokenizer.from_file(str(card.path("tokenizer")))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._lock = threading.Lock()  # a Tokenizer's padding state is not thread-safe

    @property
    def device(self) -> str:
        return self.model.device.label

    def embed(self, texts: list[str], batch: int = 32, cancel=None) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch):
            if cancel:
                cancel.raise_if_cancelled()
            with self._lock:
                enc = self.tokenizer.encode_batch(texts[i : i + batch])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out.append(self.model.run(feeds, ["embedding"])[0].astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


@functools.lru_cache(maxsize=1)
def embedder() -> Embedder:
    return Embedder()
