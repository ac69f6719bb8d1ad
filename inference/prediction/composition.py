"""Composition models at run time: atomic fractions → property, 90 % interval, domain check.

Each model is a 5-member ensemble (one member per cross-validation fold) in one ONNX file; the
mean of the members is the prediction. The interval is the split-conformal half-width from the
members' held-out errors (`extra.conformal` in the card; for band gaps one width for metal calls
and one for the rest), so a 90 % interval covered about 90 % of held-out compounds. Moduli are
predicted as log10(GPa) and shown in GPa (the interval is transformed with them). For the metal
classifier the value is a probability, with no interval.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.prediction.domain import DOMAIN_FILE, DomainCheck, check_domain, load_training_set
from inference.prediction.featurize import BASE_BLOCKS, default_tables, featurize
from inference.prediction.known_disagreement import (
    compared_values,
    contradicted_by_known,
    missed_value,
    trained_on,
)
from inference.prediction.polymorphs import GAP_PROPERTIES, Polymorph, ambiguity_note, polymorphs_of
from inference.prediction.table_errors import metal_call_contradicted_by_dft
from inference.runtime.registry import ModelCard, load_cards

if TYPE_CHECKING:
    from inference.prediction.known_values import KnownValue


@dataclass(frozen=True)
class PropertyPrediction:
    prop: str  # JSON key, e.g. "band_gap", "bulk_modulus"
    label: str  # what a person reads: "band gap (experimental)"
    value: float  # in `unit`
    low: float | None  # 90 % interval in `unit` (None: no calibrated interval)
    high: float | None
    unit: str
    model: str  # the model's human name
    model_id: str
    spread: float  # standard deviation across ensemble members, in `unit`
    domain: DomainCheck = field(default_factory=lambda: DomainCheck(True, (), None))
    note: str = ""  # e.g. polymorphs the model cannot tell apart (inference.prediction.polymorphs)
    # Why the prediction is not to be believed (DFT contradicts it): its number is not shown
    doubtful: str = ""

    def to_json(self) -> dict:
        out = {
            "property": self.prop,
            "label": self.label,
            "value": None if self.doubtful else round(self.value, 6),
            "unit": self.unit,
            "model": self.model,
            "model_id": self.model_id,
            "ensemble_spread": round(self.spread, 6),
            "domain": self.domain.to_json(),
        }
        if self.doubtful:
            out.update(model_value=round(self.value, 6), doubtful=self.doubtful)
        elif self.low is not None and self.high is not None:
            out["interval_90"] = [round(self.low, 6), round(self.high, 6)]
        if self.note:
            out["note"] = self.note
        return out

    @property
    def uncertainty(self) -> float:
        """Half the width of the 90 % interval (the ensemble spread where there is none)."""
        if self.low is None or self.high is None:
            return self.spread
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class CompositionResult:
    formula: str
    reduced_formula: str
    predictions: list[PropertyPrediction] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "yield strength: only for steels …"

    def to_json(self) -> dict:
        out: dict = {"formula": self.formula, "reduced_formula": self.reduced_formula}
        out["predictions"] = [p.to_json() for p in self.predictions]
        if self.skipped:
            out["not_applicable"] = list(self.skipped)
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
        extra = card.extra
        self.prop = extra.get("display_property", extra["property"])
        self.label = extra.get("label", self.prop)
        self.unit = extra.get("display_unit", extra.get("unit", ""))
        self.name = extra.get("model_name", card.name)
        self.transform = extra.get("transform", "")
        self.display = extra.get("display_transform", "")  # "pow10": log10 model, GPa shown
        self.domain = extra.get("domain", {})
        self.min_fraction = self.domain.get("min_fraction", {})
        self.conformal = extra.get("conformal", {})
        self.features = tuple(extra.get("features", BASE_BLOCKS))  # the network's input
        self.dataset = trained_on(extra.get("splits", ""))  # the table it learnt from
        self.model = OnnxModel(card.path("model"), prefer_gpu=False)  # tiny: the CPU is faster

    def applies_to(self, fractions: dict[str, float]) -> str:
        """'' when the model applies, else why not (one line)."""
        for el, f in self.min_fraction.items():
            if fractions.get(el, 0.0) < f:
                return f"{self.label}: only for compositions with at least {f:.0%} {el}"
        return ""

    @property
    def side_inputs(self) -> dict[str, str]:
        """Graph input → id of the composition model whose ensemble mean feeds it."""
        return self.card.extra.get("side_inputs", {})

    def members(
        self, features: np.ndarray, side: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        feeds = {"features": features.astype(np.float32)}
        for name, model_id in self.side_inputs.items():
            if side is None or model_id not in side:
                raise MatLensError(f"{self.name} needs the {model_id} model, which is missing")
            feeds[name] = np.asarray(side[model_id], dtype=np.float32)[:, None]
        members = self.model.run(feeds)[0]
        if self.transform == "clip0":  # band gaps are not negative
            members = np.clip(members, 0, None)
        return members

    def halfwidth(self, value: float) -> float | None:
        widths = self.conformal.get("halfwidth")
        if not widths:
            return None
        if "metal" in widths:
            cutoff = self.conformal.get("metal_cutoff", 0.1)
            return widths["metal" if value < cutoff else "nonmetal"]
        return widths.get("all")

    def prediction(self, members: np.ndarray, fractions: dict[str, float]) -> PropertyPrediction:
        mean, spread = float(members.mean()), float(members.std())
        q = self.halfwidth(mean)
        low = high = None
        if q is not None:
            low, high = mean - q, mean + q
            if self.transform == "clip0":
                low = max(0.0, low)
        if self.display == "pow10":
            value = 10.0**mean
            spread = float(np.std(10.0**members))
            if low is not None and high is not None:
                low, high = 10.0**low, 10.0**high
        else:
            value = mean
        training = load_training_set(_domain_path(), self.card.id)
        domain = check_domain(fractions, self.domain, training)
        return PropertyPrediction(
            self.prop,
            self.label,
            value,
            low,
            high,
            self.unit,
            self.name,
            self.card.id,
            spread,
            domain,
        )


def _domain_path():
    from inference.runtime.paths import resources_dir

    return resources_dir() / "models" / DOMAIN_FILE


@functools.cache
def _models() -> tuple[CompositionModel, ...]:
    order = ["band_gap", "is_metal", "formation_energy", "bulk_modulus", "shear_modulus"]
    models = [CompositionModel(card) for card in composition_cards()]
    return tuple(sorted(models, key=lambda m: order.index(m.prop) if m.prop in order else 99))


def model_names() -> dict[str, str]:
    """model id → human name (for the pane and `matlens models list`)."""
    return {m.card.id: m.name for m in _models()}


@dataclass(frozen=True)
class PbeGaps:
    """The Materials Project PBE gaps of a composition's polymorphs, from the shipped tables."""

    lowest: float
    polymorphs: int


def predict_fractions(
    compositions: list[tuple[str, str, dict[str, float]]],
    props: list[str] | None = None,
    pbe_gaps: list[PbeGaps | None] | None = None,
    known: list[tuple[KnownValue, ...] | None] | None = None,
) -> list[CompositionResult]:
    """Every composition model on each (text, reduced formula, atomic fractions). With each
    composition's PBE gaps (`pbe_gaps`, from its known values), a metal call they contradict
    is marked doubtful; with its `known` values, so is a prediction whose interval misses the
    known value of the table its model was trained on (`known_disagreement`)."""
    tables = default_tables()
    everything = _models()
    models = [m for m in everything if props is None or m.prop in props]
    needed = {i for m in models for i in m.side_inputs.values()}
    feeders = [m for m in everything if m.card.id in needed]
    x = {
        blocks: np.stack([featurize(fr, tables, blocks) for _, _, fr in compositions])
        for blocks in {m.features for m in [*models, *feeders]}
    }
    # Models that feed another one (its side inputs) run first; their ensemble means go in.
    side = {m.card.id: m.members(x[m.features]).mean(axis=1) for m in feeders}
    per_model = [m.members(x[m.features], side) for m in models]
    # A band gap under this is a metal call (the gap model's calibration groups them so).
    metal_cutoff = next(
        (m.conformal.get("metal_cutoff", 0.1) for m in models if m.prop == "band_gap"), 0.1
    )
    results = []
    for i, (text, reduced, fractions) in enumerate(compositions):
        preds, skipped = [], []
        for m, members in zip(models, per_model, strict=True):
            why_not = m.applies_to(fractions)
            if why_not:
                skipped.append(why_not)
                continue
            prediction = m.prediction(members[i], fractions)
            if m.prop == "yield_strength":
                prediction = dataclasses.replace(prediction, note=STEEL_PROCESSING)
            if m.prop in GAP_PROPERTIES:
                prediction = _polymorph_aware(prediction, reduced, polymorphs_of(fractions))
            preds.append(prediction)
        preds = _flag_disagreement(preds, metal_cutoff)
        gaps = pbe_gaps[i] if pbe_gaps is not None else None
        if gaps is not None:
            preds = _doubt_contradicted_metal_calls(preds, gaps, metal_cutoff)
        if known is not None and known[i]:
            preds = _doubt_what_known_values_contradict(preds, known[i] or (), models)
        results.append(CompositionResult(text, reduced, preds, skipped))
    return results


# The steels model knows a composition, not how the steel was made: its training table holds
# high-strength (maraging and similar) steels as they were processed there, so a 304-type
# composition got 1230 MPa, "in domain", where annealed 304 yields about 250 MPa.
STEEL_PROCESSING = (
    "the yield strength of a high-strength steel of this composition, processed as the "
    "training steels were (matbench steels: maraging and similar); the same composition "
    "annealed yields far less"
)


def _doubt_contradicted_metal_calls(
    preds: list[PropertyPrediction], gaps: PbeGaps, metal_cutoff: float
) -> list[PropertyPrediction]:
    """A metal call (a gap under the cutoff, or P(metal) > 0.5) where PBE finds a clear gap for
    every polymorph is doubtful: the gap model's calibrated interval for metal calls is 0 to 0,
    a certainty the tables contradict."""
    why = metal_call_contradicted_by_dft(gaps.lowest, gaps.polymorphs)
    if why is None:
        return preds
    return [
        dataclasses.replace(p, doubtful=why)
        if (p.prop == "band_gap" and p.value < metal_cutoff)
        or (p.prop == "is_metal" and p.value > 0.5)
        else p
        for p in preds
    ]


def _doubt_what_known_values_contradict(
    preds: list[PropertyPrediction],
    known: tuple[KnownValue, ...],
    models: list[CompositionModel],
) -> list[PropertyPrediction]:
    """A prediction whose 90 % interval misses the known value of the table its model was
    trained on is doubtful (SiC's formation energy: +0.44 predicted, -0.20 known)."""
    dataset_of = {m.card.id: m.dataset for m in models}
    out = []
    for p in preds:
        dataset = dataset_of.get(p.model_id) or ""
        v = missed_value(compared_values(known, dataset), p.unit, p.low, p.high)
        if v is not None and not p.doubtful and p.low is not None and p.high is not None:
            p = dataclasses.replace(
                p, doubtful=contradicted_by_known(v.label, v.value, v.unit, p.low, p.high)
            )
        out.append(p)
    return out


def _flag_disagreement(
    preds: list[PropertyPrediction], metal_cutoff: float
) -> list[PropertyPrediction]:
    """Where the band-gap model and the metal classifier disagree on "metal", both say so:
    they are separate models, and neither is to be read alone then (LiFePO4: a 3.9 eV gap and
    P(metal) 0.93)."""
    by_prop = {p.prop: p for p in preds}
    gap, metal = by_prop.get("band_gap"), by_prop.get("is_metal")
    if gap is None or metal is None:
        return preds
    gap_says_metal = gap.value < metal_cutoff
    if gap_says_metal == (metal.value > 0.5):
        return preds
    note = (
        f"The band-gap model ({gap.value:.2g} eV: {'a' if gap_says_metal else 'not a'} metal) "
        f"and the metal classifier (P = {metal.value:.2f}) disagree; treat both as uncertain"
    )
    return [
        dataclasses.replace(p, note="; ".join(filter(None, (p.note, note))))
        if p is gap or p is metal
        else p
        for p in preds
    ]


def _polymorph_aware(
    p: PropertyPrediction, formula: str, polymorphs: tuple[Polymorph, ...]
) -> PropertyPrediction:
    """A gap prediction for a formula whose polymorphs differ (diamond, graphite): it says so,
    and its interval spans every polymorph's gap (the calibrated one holds for one at best)."""
    if not polymorphs:
        return p
    low, high = p.low, p.high
    if low is not None and high is not None and p.prop == "band_gap":
        low = min(low, *(x.gap for x in polymorphs))
        high = max(high, *(x.gap for x in polymorphs))
    return dataclasses.replace(p, low=low, high=high, note=ambiguity_note(formula, polymorphs))


def predict_formulas(
    formulas: list[str], props: list[str] | None = None
) -> list[CompositionResult]:
    """Formulas, alloys in wt%/at% or alloy names (one-line errors for bad text)."""
    from inference.prediction.notation import parse_composition

    parsed = [parse_composition(f) for f in formulas]  # text errors first, before any model
    return predict_fractions([(p.text, p.reduced_formula, p.fractions) for p in parsed], props)
