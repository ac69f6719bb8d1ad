"""`matlens predict TABLE.csv --out OUT` shows, row by row, what `matlens predict FORMULA` shows:
the known table values first, then the predictions, one that a known value contradicts (SiC's
formation energy) or that DFT contradicts (CoF2 called a metal) withheld with its one line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli_harness import run_matlens
from tests.prediction_helpers import materials_db, materials_db_file  # noqa: F401

pytestmark = pytest.mark.usefixtures("materials_db")  # set before `batch` runs the CLI

FORMULAS = ["SiC", "NaCl", "CoF2", "Ti-6Al-4V"]


def _need_composition_models():
    from inference.prediction.composition import composition_cards

    if not composition_cards():
        pytest.skip("composition models not trained")


@pytest.fixture
def batch(tmp_path):
    """The four compositions and two bad ones, predicted as a batch (one real process): a text
    that is no formula, and a formula with an element past the models' descriptors (Cf), which
    failed the whole batch before."""
    _need_composition_models()
    table = tmp_path / "screen.csv"
    table.write_text("formula,note\n" + "".join(f'"{f}",x\n' for f in [*FORMULAS, "Xx3Q", "PuCf3"]))
    out = tmp_path / "out"
    run = run_matlens("predict", table, "--out", out, timeout=300)
    # Two rows could not be predicted: exit 1, as a folder with a failed file (it was 0).
    assert run.returncode == 1, run.stderr
    said = run.stdout + run.stderr
    assert "2 compositions could not be predicted (see failures.csv)" in said
    assert "predictions withheld as doubtful: a known value or DFT contradicts them" in said
    return out


def test_a_batch_withholds_what_the_known_values_contradict(batch):
    table = pd.read_csv(batch / "predictions.csv")
    carbide = table.loc[table["item"] == "SiC"]
    known = carbide.loc[carbide["kind"].str.startswith("known")]
    energy = carbide.loc[carbide["quantity"] == "formation energy (DFT, PBE)"].iloc[0]
    assert known.index.max() < energy.name  # the known values come first
    # the value column also holds "not a metal": pandas reads it as text
    assert known.loc[known["quantity"] == "formation energy", "value"].tolist() == ["-0.205"]
    assert energy["kind"] == "doubtful: prediction" and pd.isna(energy["value"])
    assert pd.isna(energy["interval_90_or_range"]) and pd.isna(energy["unit"])
    assert energy["note"].endswith("trust the known value")
    assert "-0.205 eV/atom, lies outside this model's 90 % interval" in energy["note"]

    salt = table.loc[(table["item"] == "NaCl") & (table["kind"] == "prediction")]
    salt_energy = salt.loc[salt["quantity"] == "formation energy (DFT, PBE)"].iloc[0]
    assert float(salt_energy["value"]) == pytest.approx(-2.06, abs=0.05) and pd.isna(
        salt_energy["note"]
    )

    fluoride = table.loc[(table["item"] == "CoF2") & (table["kind"] == "doubtful: prediction")]
    gap = fluoride.loc[fluoride["quantity"] == "band gap"].iloc[0]
    assert pd.isna(gap["value"])
    assert "DFT (PBE), which underestimates band gaps, finds 3.07 eV" in gap["note"]

    assert set(table["item"]) == set(FORMULAS)  # the bad row is in failures.csv only
    failures = pd.read_csv(batch / "failures.csv")
    assert failures["file"].tolist() == ["row 5: Xx3Q", "row 6: PuCf3"]
    assert "no descriptors for element Cf" in failures["reason"].iloc[1]
    records = json.loads((batch / "predictions.json").read_text("utf-8"))
    assert [r["row"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert "error" in records[-1] and "error" in records[-2]


def test_batch_and_single_formula_agree_row_by_row(batch):
    table = pd.read_csv(batch / "predictions.csv", dtype=str, keep_default_na=False)
    records = json.loads((batch / "predictions.json").read_text("utf-8"))
    for formula, record in zip(FORMULAS, records, strict=False):
        single = run_matlens("predict", formula, timeout=180)
        assert single.returncode == 0, single.stderr
        lines = [
            line
            for line in single.stdout.splitlines()
            if line.startswith(("known", "doubtful", "prediction"))
        ]
        rows = table.loc[table["item"] == formula].to_dict(orient="records")
        assert len(rows) == len(lines) > 0, formula
        for row, line in zip(rows, lines, strict=True):
            shown = row["value"] or "not shown"  # the CSV leaves a withheld number empty
            assert line.startswith(row["kind"]) and f" {row['quantity']} " in line, (row, line)
            assert f" {shown}" in line and row["source"] in line, (row, line)
            assert line.endswith(f"({row['note']})" if row["note"] else row["source"]), line

        as_json = json.loads(run_matlens("predict", formula, "--json", timeout=180).stdout)
        assert record["input"] == formula and record["known"] == as_json["known"]
        assert [(p["property"], p["value"] is None, p.get("doubtful")) for p in as_json[
            "predictions"
        ]] == [(p["property"], p["value"] is None, p.get("doubtful")) for p in record[
            "predictions"
        ]]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "items"),
    [
        # the sample names "B" and "C" were predicted as boron and carbon
        ("Sample,Chemical Formula,Note\nA,TiO2,x\nB,NaCl,y\nC,MgO,z\n", ["MgO", "NaCl", "TiO2"]),
        # no header, an alloy first: Ti-6Al-4V was taken for the header and lost without a word
        ("Ti-6Al-4V\nAISI 304\nNaCl\n", ["AISI 304", "NaCl", "Ti-6Al-4V"]),
        # Excel's semicolons, with its byte-order mark and quotes: every row failed
        ('\ufeffformula;note\n"TiO2";"a"\nNaCl;b\n', ["NaCl", "TiO2"]),
    ],
)
def test_tables_as_people_write_them_give_their_compositions(tmp_path, table, items):
    from inference.batch._predictions import read_formulas

    path = tmp_path / "screen.csv"
    path.write_text(table, encoding="utf-8")
    assert sorted(read_formulas(path)) == items
