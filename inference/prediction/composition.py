"""Composition models at run time: formula → property ± ensemble spread, via onnxruntime.

Each model is a 5-member MLP ensemble (one member per cross-validation fold) in one ONNX file;
the mean is the prediction and the standard deviation across members the uncertainty. For the
metal/non-metal classifier the members give P(metal), so the value is a probability.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from inference.prediction.featurize import BASE_BLOCKS, default_tables, featurize, parse_formula
from inference.runtime.registry import ModelCard, load_cards


@dataclass(frozen=True)
class PropertyPrediction:
    prop: str  # JSON key, e.g. "band_gap"
    label: str
    value: float
    uncertainty: float
    unit: str
    model_id: str


@dataclass(frozen=True)
class CompositionResult:
    formula: str
    reduced_formula: str
    predictions: list[PropertyPrediction] = field(default_factory=list)

    def to_json(self) -> dict:
        out: dict = {"formula": self.formula, "reduced_formula": self.reduced_formula}
        for p in self.predictions:
            out[p.prop] = round(p.value, 6)
        out["uncertainty"] = {p.prop: round(p.uncertainty, 6) for p in self.predictions}
        out["units"] = {p.prop: p.unit for p in self.predictions}
        out["models"] = {p.prop: p.model_id for p in self.predictions}
        return out


def composition_cards() -> list[ModelCard]:
    return [c for c in load_cards() if c.task == "prediction/composition"]


class CompositionModel:
    """One property's ensemble (an ONNX file shipped in resources/models)."""

    def __init__(self, card: ModelCard) -> None:
        from inference.runtime.registry import require
        from inference.runtime.sessions import OnnxModel

        require(card.id)
        self.card = card
        self.prop = card.extra["property"]
        self.label = card.extra.get("label", self.prop)
        self.unit = card.extra.get("unit", "")
        self.transform = card.extra.get("transform", "")
        # e.g. {"Fe": 0.5}: the steels model says nothing about SiC
        self.min_fraction = card.extra.get("domain", {}).get("min_fraction", {})
        self.features = tuple(card.extra.get("features", BASE_BLOCKS))  # the network's input
        self.model = OnnxModel(card.path("model"), prefer_gpu=False)  # tiny: the CPU is faster

    def applies_to(self, fractions: dict[str, float]) -> bool:
        return all(fractions.get(el, 0.0) >= f for el, f in self.min_fraction.items())

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        members = self.model.run({"features": features.astype(np.float32)})[0]
        if self.transform == "clip0":  # band gaps are not negative
            members = np.clip(members, 0, None)
        return members.mean(axis=1), members.std(axis=1)


@functools.cache
def _models() -> tuple[CompositionModel, ...]:
    return tuple(CompositionModel(card) for card in composition_cards())


def predict_formulas(
    formulas: list[str], props: list[str] | None = None
) -> list[CompositionResult]:
    """Every composition model on every formula (one-line errors for bad formulas)."""
    from pymatgen.core import Composition

    parsed = [parse_formula(f) for f in formulas]  # formula errors first, before any file
    tables = default_tables()
    models = [m for m in _models() if props is None or m.prop in props]
    x = {
        blocks: np.stack([featurize(p, tables, blocks) for p in parsed])
        for blocks in {m.features for m in models}
    }
    per_model = [m.predict(x[m.features]) for m in models]
    results = []
    for i, text in enumerate(formulas):
        preds = [
            PropertyPrediction(m.prop, m.label, float(mu[i]), float(sd[i]), m.unit, m.card.id)
            for m, (mu, sd) in zip(models, per_model, strict=True)
            if m.applies_to(parsed[i])
        ]
        reduced = Composition(text).reduced_formula
        results.append(CompositionResult(text.strip(), reduced, preds))
    return results
