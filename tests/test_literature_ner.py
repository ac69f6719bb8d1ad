"""The shipped materials/value tagger (MiniLM lower layers + fine-tuned top layers), run for real."""

from __future__ import annotations

import pytest
from conftest import shared


@pytest.fixture(scope="module")
def tagger():
    from inference.runtime.registry import FileStatus, card_status, get_card

    for model in ("minilm", "materials_ner"):
        if card_status(get_card(model)) is not FileStatus.OK:
            pytest.skip(f"{model} not exported or out of date: run `make models`")
    from inference.literature.ner import Tagger

    return Tagger()


def test_finds_gold_materials_and_values_in_sofc_exp_test_sentences(tagger):
    from inference.export.ner_train import Overlap, sofc

    shared("papers", "sofc_exp", "SOFC-Exp-Metadata.csv")
    data = [(s, spans) for s, spans in sofc(shared("papers"), "test") if spans][:60]
    tagged = tagger.tag([s for s, _ in data])
    for kind, least_precision, least_recall in (("MAT", 0.6, 0.75), ("VAL", 0.75, 0.75)):
        acc = Overlap()
        for (_, spans), found in zip(data, tagged, strict=True):
            acc.add(
                [(t.start, t.end) for t in found if t.label == kind],
                [(b, e) for b, e, k in spans if k == kind],
            )
        scores = acc.scores()
        assert scores["precision"] >= least_precision and scores["recall"] >= least_recall, (
            kind,
            scores,
        )


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("A durability study was performed on LSCF/CGO/LSCF symmetrical cells infiltrated in an "
         "identical manner.", {"CGO"}),
        ("The cathodic Rp values of the PBMCo-LSGM were 0.033, 0.073, and 0.189 Ω cm2 at 800, "
         "750, and 700 °C, respectively.", {"PBMCo-LSGM"}),
        ("The anode was made of nickel oxide and yttria-stabilized zirconia powders.",
         {"nickel oxide", "yttria-stabilized zirconia"}),
    ],
)  # fmt: skip
def test_names_no_formula_rule_sees(tagger, sentence, expected):
    from inference.literature.materials import find_materials

    [spans] = tagger.tag([sentence])
    mats = [s for s in spans if s.label == "MAT"]
    for name in expected:
        start = sentence.index(name)
        assert any(s.start < start + len(name) and start < s.end for s in mats), (name, mats)
    rules = {sentence[m.start : m.end] for m in find_materials(sentence)}
    assert not any(name in rules for name in expected - {"yttria-stabilized zirconia"})


@pytest.mark.parametrize(
    ("sentence", "materials", "not_materials"),
    [
        ("Our method has been tested on single crystals of YBCO, BSCCO and PCCO",
         {"YBCO", "BSCCO", "PCCO"}, set()),
        ("BSCCO samples where grown using a floating zone process and had Tc ≈ 89.5K 16.",
         {"BSCCO"}, {"samples", "Tc"}),
    ],
)  # fmt: skip
def test_superconductor_abbreviations_as_supermat_marks_them(
    tagger, sentence, materials, not_materials
):
    """Sentences of a SuperMat tuning paper (APL0774202, CC BY 4.0) as MatLens reads its PDF:
    the tagger trained with SuperMat's tuning part marks the cuprate abbreviations and not the
    symbol "Tc" or the word "samples" (the SOFC-Exp/MSPT-only tagger missed BSCCO and PCCO and
    marked "Tc" and "samples")."""
    [spans] = tagger.tag([sentence])
    mats = [s for s in spans if s.label == "MAT"]
    for name in materials:
        start = sentence.index(name)
        assert any(s.start <= start and start + len(name) <= s.end for s in mats), (name, mats)
    for word in not_materials:
        start = sentence.index(word)
        assert not any(s.start < start + len(word) and start < s.end for s in mats), (word, mats)


def test_values_with_units_are_tagged(tagger):
    sentence = "The pellets were sintered at 1400 °C for 4 h and showed 4.7 mS cm−1 at 600 °C."
    [spans] = tagger.tag([sentence])
    values = {s.text for s in spans if s.label == "VAL"}
    assert any("1400" in v for v in values) and any("4.7" in v for v in values), values
    assert not any(s.label == "MAT" and "1400" in s.text for s in spans)


def test_empty_and_long_inputs(tagger):
    long = "The LSCF cathode was sintered at 1100 °C. " * 60  # past the 128 word pieces
    empty, tagged = tagger.tag(["", long])
    assert empty == []
    assert any(s.label == "MAT" and s.text == "LSCF" for s in tagged)


def test_minilm_split_repeats_the_whole_encoder_exactly():
    """Search (lower → upper) and the tagger (lower) see the numbers of the one-graph encoder."""
    torch = pytest.importorskip("torch")
    from inference.errors import MatLensError
    from inference.export.minilm import TAGGER_TAP, load_encoder, split_encoder

    try:
        encoder = load_encoder(taps=(TAGGER_TAP,))
    except MatLensError as exc:
        pytest.skip(str(exc))
    lower, upper = split_encoder(encoder)
    ids = torch.tensor([[101, 7592, 2088, 102, 0, 0], [101, 2023, 2003, 1037, 3231, 102]])
    mask, types = (ids != 0).long(), torch.zeros_like(ids)
    with torch.no_grad():
        embedding, last, tapped = encoder(ids, mask, types)
        states = lower(ids, mask, types)
        split_embedding, split_last = upper(states, mask)
    assert torch.equal(states, tapped)
    assert torch.equal(split_embedding, embedding) and torch.equal(split_last, last)


def test_cancel_stops_tagging_a_long_paper(tagger):
    """Cancel in the pane must stop the tagger between batches, not after the whole paper."""
    from inference.errors import JobCancelled
    from inference.jobs import CancelToken

    sentences = [f"Sample {i} of NiO was sintered at {1000 + i} °C." for i in range(200)]
    token = CancelToken()
    seen: list[float] = []

    def progress(fraction, message=""):
        seen.append(fraction)
        if len(seen) == 2:
            token.cancel()

    with pytest.raises(JobCancelled):
        tagger.tag(sentences, progress=progress, cancel=token)
    assert len(seen) == 2 and seen[0] == 0.0 < seen[1] < 1.0


def test_search_vectors_of_the_half_size_graphs_match_the_float32_encoder(tagger):
    """MiniLM's weights ship as float16 (90 → 45 MB of the bundle): the vectors search compares
    stay those of the float32 encoder, so a library indexed before still ranks the same."""
    torch = pytest.importorskip("torch")
    import numpy as np

    from inference.errors import MatLensError
    from inference.export.minilm import load_encoder
    from inference.literature.embed import Embedder
    from inference.runtime.registry import get_card

    try:
        encoder = load_encoder()
    except MatLensError as exc:
        pytest.skip(str(exc))
    card = get_card("minilm")
    assert card.path("encoder_lower").stat().st_size < 40e6  # was 76 MB as float32
    texts = [
        "The superconducting transition temperature of MgB2 is 39 K.",
        "Pr1.85Ce0.15CuO4-y (PCCO) films were grown on SrTiO3 substrates.",
        "Grain size of annealed Ti-6Al-4V measured by EBSD.",
    ]
    shipped = Embedder()
    vectors = shipped.embed(texts, by_length=False)
    with shipped._lock:
        enc = shipped.tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in enc])
    mask = torch.tensor([e.attention_mask for e in enc])
    with torch.no_grad():
        reference = encoder(ids, mask, torch.zeros_like(ids))[0].numpy()
    cosine = (vectors * reference).sum(axis=1)
    assert cosine.min() > 0.9999
    assert np.array_equal(np.argsort(vectors @ vectors.T), np.argsort(reference @ reference.T))
