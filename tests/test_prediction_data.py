"""The offline materials-data search: `matlens data query` and the store behind it."""

from __future__ import annotations

import csv
import json

import pytest

import inference.cli as cli
from tests.prediction_helpers import (  # noqa: F401
    as_installed_app,
    materials_db,
    materials_db_file,
    shipped_packed_store,
)


def _query(capsys, *argv):
    rc = cli.main(["data", "query", *argv, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


@pytest.mark.usefixtures("materials_db")
def test_calcium_titanium_oxides_with_wide_gaps(capsys):
    data = _query(capsys, "--all", "Ca,Ti,O", "--band-gap-min", "2")
    formulas = {r["formula"] for r in data["rows"]}
    assert "CaTiO3" in formulas and data["compositions"] >= 10
    for row in data["rows"]:
        assert row["property"] == "band_gap" and row["value"] >= 2 and row["unit"] == "eV"
        assert all(el in row["formula"] for el in ("Ca", "Ti", "O"))
        assert row["source"] and row["method"]


@pytest.mark.usefixtures("materials_db")
def test_none_of_and_any_of_and_ranges(capsys):
    data = _query(
        capsys, "--any", "Sr,Ba", "--all", "Ti,O", "--none", "Ca", "--formation-energy-max", "-3"
    )
    assert data["rows"]
    for row in data["rows"]:
        assert "Ca" not in row["formula"] and ("Sr" in row["formula"] or "Ba" in row["formula"])
        assert row["property"] == "formation_energy" and row["value"] <= -3


@pytest.mark.usefixtures("materials_db")
def test_experimental_only_and_csv_export(capsys, tmp_path):
    out = tmp_path / "gaps.csv"
    data = _query(
        capsys,
        "--all",
        "Zn,O",
        "--method",
        "experiment",
        "--band-gap-min",
        "0.1",
        "--csv",
        str(out),
    )
    assert data["rows"] and all(r["method"] == "experiment" for r in data["rows"])
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(data["rows"]) and rows[0]["unit"] == "eV"
    assert float(rows[0]["value"]) == pytest.approx(data["rows"][0]["value"], rel=1e-6)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--all", "Ca,Qq"], "'Qq' is not a chemical element"),
        (["--band-gap-min", "3", "--band-gap-max", "1"], "above the maximum"),
        (["--all", "O", "--none", "O"], "both required and excluded"),
    ],
)
@pytest.mark.usefixtures("materials_db")
def test_bad_queries_are_one_line(capsys, argv, words):
    rc = cli.main(["data", "query", *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and words in err and "\n" not in err


@pytest.mark.usefixtures("materials_db")
def test_formulas_are_normalised():
    from inference.prediction.known_values import known_values
    from inference.prediction.notation import parse_composition

    a = known_values(parse_composition("Ti1O2").fractions)
    b = known_values(parse_composition("Ti2O4").fractions)
    assert a.formula == b.formula == "TiO2"
    expt = [v for v in a.values if v.dataset == "expt_gap"]
    assert len(expt) == 1 and expt[0].value == pytest.approx(3.3) and expt[0].method == "experiment"


def _store_card():
    from inference.runtime.registry import load_cards

    return next(c for c in load_cards() if c.id == "materials_data")


def test_the_built_store_is_the_one_the_card_names(request):
    """`make models` builds the store and packs it for the bundle; the build is deterministic,
    so the card's digest of the store (and `make models`' check of the packed file) holds."""
    store = request.getfixturevalue("materials_db_file")
    import hashlib

    from inference.prediction.materials_store import PACKED_FILE

    card = _store_card()
    (named,) = card.files
    assert named.name == PACKED_FILE and named.location == "models"
    assert card.exporter == "inference.export.materials_data"
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    assert digest == card.extra["store_sha256"], "rebuild the store and update materials_data.json"


def test_installed_app_without_crabnet_unpacks_the_shipped_store_once(
    monkeypatch, tmp_path, capsys
):
    """The bundle has no crabnet and ships the store xz-packed: the first lookup unpacks it into
    the cache folder (never the bundle, never the user's models), later ones reuse it."""
    import hashlib

    from inference.prediction import materials_store
    from inference.prediction.known_values import known_values
    from inference.prediction.notation import parse_composition

    packed = shipped_packed_store()
    cache = as_installed_app(monkeypatch, tmp_path, packed)
    user, bundle = tmp_path / "user-models", tmp_path / "bundle-models"

    known = known_values(parse_composition("TiO2").fractions)
    assert any(v.dataset == "expt_gap" and v.value == pytest.approx(3.3) for v in known.values)
    (unpacked,) = (cache / "materials").iterdir()
    digest = hashlib.sha256(unpacked.read_bytes()).hexdigest()
    assert digest == _store_card().extra["store_sha256"]
    before = unpacked.stat().st_mtime_ns
    data = _query(capsys, "--all", "Ca,Ti,O", "--band-gap-min", "2")
    assert "CaTiO3" in {r["formula"] for r in data["rows"]}
    assert unpacked.stat().st_mtime_ns == before and not list(user.glob("materials*"))

    unpacked.unlink()  # a damaged pack: one line that says what to do, nothing half-written
    (bundle / materials_store.PACKED_FILE).unlink()
    (bundle / materials_store.PACKED_FILE).write_bytes(packed.read_bytes()[: 1 << 20])
    rc = cli.main(["data", "query", "--all", "Ca,Ti,O"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "damaged" in err and "\n" not in err
    assert not list((cache / "materials").iterdir())

    (bundle / materials_store.PACKED_FILE).unlink()  # neither has it: one line, not a build
    rc = cli.main(["data", "query", "--all", "Ca,Ti,O"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "crabnet" in err and "\n" not in err


def test_a_cache_that_cannot_take_the_unpacked_tables_is_one_line(monkeypatch, tmp_path, capsys):
    """Where the tables cannot be unpacked (a file where their folder goes, a full disk) the
    query says where and how out, in one line; nothing half-written is left."""
    cache = as_installed_app(monkeypatch, tmp_path, shipped_packed_store())
    cache.mkdir()
    (cache / "materials").write_text("not a folder")
    rc = cli.main(["data", "query", "--all", "Ca,Ti,O"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    assert "cannot unpack the materials tables" in err and "MATLENS_CACHE" in err
    assert [p.name for p in cache.iterdir()] == ["materials"]

    monkeypatch.setenv("MATLENS_CACHE", str(cache / "materials"))  # the cache itself a file
    rc = cli.main(["data", "query", "--all", "Ca,Ti,O"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "cannot use the folder" in err and "MATLENS_CACHE" in err


@pytest.mark.usefixtures("materials_db")
def test_the_search_shows_a_table_row_as_prediction_does(capsys):
    """The search listed AlAs as a metal with a 0 eV gap from experiment (a known error of that
    table, which Predict shows corrected to 2.16 eV) and Na2SO4's 0 eV (which DFT contradicts,
    and Predict withholds); a gap range kept them by the table's wrong number."""
    rows = _query(capsys, "--all", "Al,As", "--method", "experiment")["rows"]
    alas = {r["property"]: r for r in rows if r["formula"] == "AlAs"}
    assert alas["band_gap"]["value"] == pytest.approx(2.16)
    assert alas["band_gap"]["note"].startswith("corrected: the table lists 0 eV")
    assert alas["is_metal"]["value"] == 0
    rows = _query(capsys, "--all", "Na,S,O", "--none", "H", "--method", "experiment")["rows"]
    sulfate = {r["property"]: r for r in rows if r["formula"] == "Na2SO4"}
    assert sulfate["band_gap"]["value"] is None
    assert sulfate["band_gap"]["note"].startswith("doubtful, not shown")
    metals = _query(capsys, "--all", "Al,As", "--method", "experiment", "--band-gap-max", "0.1")
    assert "AlAs" not in {r["formula"] for r in metals["rows"]}
