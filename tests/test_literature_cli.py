"""`matlens extract` and `matlens search`: stable JSON, one-line errors, incremental index."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from literature_helpers import paper

from inference import cli
from inference.runtime.registry import FileStatus, card_status, get_card


@pytest.fixture(autouse=True)
def _wired(monkeypatch):
    """Run the commands whether or not the lead has added them to SUBCOMMANDS yet."""
    monkeypatch.setitem(cli.SUBCOMMANDS, "extract", "extract")
    monkeypatch.setitem(cli.SUBCOMMANDS, "search", "search")


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_extract_json(capsys):
    code, out, _ = run(capsys, "extract", paper("Suzuki_etal_2015-CC.pdf"), "--json")
    assert code == 0
    data = json.loads(out)
    record = next(r for r in data["records"] if r["property"] == "Tc" and r["value"] == 8.6)
    fields = {"material", "property", "value", "unit", "value_normalised", "page", "sentence"}
    assert fields <= set(record)
    assert record["material"] == "EuFBiS2" and record["unit"] == "K" and record["page"] >= 1
    first = next(m for m in data["materials"] if m["text"] == "EuFBiS2" and m["page"] == 1)
    assert (first["formula"], first["kind"], first["role"]) == ("EuFBiS2", "formula", "sample")


def test_extract_json_records_have_the_schema_fields(capsys, shared_data):
    """A supermat_dev paper that writes "Pr1.85Ce0.15CuO4−δ (PCCO)" and then "PCCO"."""
    from inference.literature.schema import MaterialMention, PropertyRecord, csv_columns

    pdf = shared_data("papers", "supermat_dev", "pdf", "APL0774202-CC.pdf")
    code, out, _ = run(capsys, "extract", pdf, "--json", "--property", "Tc")
    assert code == 0
    data = json.loads(out)
    assert all(list(r) == list(csv_columns(PropertyRecord)) for r in data["records"])
    assert all(set(m) == set(csv_columns(MaterialMention)) for m in data["materials"])
    tc = {r["value"]: r for r in data["records"]}
    assert tc[22.5]["material"] == "PCCO" and tc[22.5]["material_kind"] == "abbreviation"
    assert tc[22.5]["material_formula"] == "Pr1.85Ce0.15CuO4-δ"
    assert tc[89.5]["material"] == "BSCCO" and tc[1.18]["material"] == "Al"
    pcco = next(m for m in data["materials"] if m["text"] == "PCCO")
    assert pcco["definition"].startswith("defined in the paper: Pr1.85Ce0.15CuO4-δ (PCCO)")
    assert pcco["family"].startswith("cuprate")


def test_csv_header_is_the_record_schema(capsys, tmp_path):
    import csv

    from inference.literature.schema import PropertyRecord, csv_columns

    out_csv = tmp_path / "all.csv"
    code, _, _ = run(capsys, "extract", paper("Suzuki_etal_2015-CC.pdf"), "--csv", out_csv)
    assert code == 0
    with out_csv.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == csv_columns(PropertyRecord)
    tc = [dict(zip(rows[0], row, strict=True)) for row in rows[1:] if row[1] == "Tc"]
    assert {"onset", "zero resistance"} <= {r["qualifier"] for r in tc}


def test_extract_csv_and_filter(capsys, tmp_path):
    out_csv = tmp_path / "tc.csv"
    code, _, _ = run(
        capsys, "extract", paper("1609.04957-CC.pdf"), "--property", "Tc", "--csv", out_csv
    )
    assert code == 0
    lines = out_csv.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("material,property,value,unit")
    assert len(lines) > 3 and all(",Tc," in line for line in lines[1:])


def test_extract_bad_file_is_one_line(capsys, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 nonsense")
    code, out, err = run(capsys, "extract", bad, "--json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "broken.pdf" in err and "Traceback" not in err


def test_search_keyword_and_incremental_index(capsys, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    first = paper("1609.04957-CC.pdf")
    shutil.copy(first, library)
    query = "NMR under pressure"
    code, out, _ = run(capsys, "search", library, query, "--json", "--mode", "keyword")
    assert code == 0
    data = json.loads(out)
    assert data["indexed"]["added"] == [first.name]
    hit = data["results"][0]
    assert hit["paper"] == first.name and hit["page"] >= 1 and "NMR" in hit["text"]
    # nothing changed: nothing is parsed again; a new paper is the only one indexed
    shutil.copy(paper("1903.04321-CC.pdf"), library)
    code, out, _ = run(capsys, "search", library, "PdTe2", "--json", "--mode", "keyword")
    data = json.loads(out)
    assert data["indexed"]["added"] == ["1903.04321-CC.pdf"] and data["indexed"]["unchanged"] == 1
    assert data["results"][0]["paper"] == "1903.04321-CC.pdf"
    (library / first.name).unlink()
    code, out, _ = run(capsys, "search", library, "PdTe2", "--json", "--mode", "keyword")
    assert json.loads(out)["indexed"]["removed"] == [first.name]


def test_semantic_search_finds_paraphrase(capsys, tmp_path):
    if card_status(get_card("minilm")) is not FileStatus.OK:
        pytest.skip("MiniLM not exported: run `make models`")
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(paper("Suzuki_etal_2015-CC.pdf"), library)
    code, out, _ = run(
        capsys, "search", library, "how was the resistance measured under high pressure", "--json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "hybrid" and data["notice"] == ""
    assert any("pressure" in r["text"].lower() for r in data["results"][:3])


def test_search_missing_folder(capsys, tmp_path):
    code, _, err = run(capsys, "search", tmp_path / "nope", "x")
    assert code == 2 and "not a folder" in err


def test_batch_records_csv_has_the_single_paper_csvs_cells(capsys, tmp_path, shared_data):
    """`matlens extract FOLDER --out` writes records.csv as `matlens extract PAPER --csv` does
    (list fields such as material_span as "a; b"), with the paper in front."""
    import csv

    folder = tmp_path / "library"
    folder.mkdir()
    shutil.copy(shared_data("papers", "supermat_dev", "pdf", "APL0774202-CC.pdf"), folder)
    code, _, _ = run(capsys, "extract", folder, "--out", tmp_path / "out")
    assert code == 0
    code, _, _ = run(capsys, "extract", folder / "APL0774202-CC.pdf", "--csv", tmp_path / "one.csv")
    assert code == 0
    with (tmp_path / "out" / "records.csv").open(encoding="utf-8", newline="") as fh:
        batch = list(csv.DictReader(fh))
    with (tmp_path / "one.csv").open(encoding="utf-8", newline="") as fh:
        single = list(csv.DictReader(fh))
    assert {r.pop("paper") for r in batch} == {"APL0774202-CC.pdf"}
    assert batch == single
    spans = [r["material_span"] for r in single if r["material_span"]]
    assert spans and all(re.fullmatch(r"\d+; \d+", s) for s in spans)


def test_search_names_the_papers_it_could_not_read(capsys, tmp_path):
    """Text output said nothing of the PDFs left out (only --json listed them under "failed")."""
    from literature_helpers import encrypted_pdf, image_only_pdf

    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(paper("1903.04321-CC.pdf"), library)
    image_only_pdf(library / "scan.pdf")
    encrypted_pdf(library / "locked.pdf")
    code, out, err = run(capsys, "search", library, "PdTe2", "--mode", "keyword")
    assert code == 0 and "1903.04321-CC.pdf p" in out
    assert err.splitlines() == [
        "not searched: locked.pdf: the PDF is encrypted with a password; save an unlocked copy "
        "first",
        "not searched: scan.pdf: no text layer (a scanned or image-only PDF); run OCR on it first",
    ]


def test_a_folder_batch_names_an_unreadable_paper_once(capsys, tmp_path):
    """`matlens extract FOLDER --out` printed "failed: scan.pdf: scan.pdf: no text layer …"."""
    from literature_helpers import image_only_pdf

    folder = tmp_path / "papers"
    folder.mkdir()
    shutil.copy(paper("Suzuki_etal_2015-CC.pdf"), folder)
    image_only_pdf(folder / "scan.pdf")
    code, out, _ = run(capsys, "extract", folder, "--out", tmp_path / "out")
    assert code == 1  # one paper failed
    failed = [line.strip() for line in out.splitlines() if line.strip().startswith("failed:")]
    assert failed == [
        "failed: scan.pdf: no text layer (a scanned or image-only PDF); run OCR on it first"
    ]
    assert (tmp_path / "out" / "records.json").is_file()


def test_extract_shows_each_value_with_the_digits_and_unit_the_paper_writes(capsys, qapp, tmp_path):
    """A table cell holds its number alone ("0.80"; the unit is in the header), so the text
    output printed "0.80" with no kelvin; the JSON keeps the number (0.8) and the text as written.
    The title line said "(1 pages)"."""
    from literature_helpers import precise_values_pdf

    pdf = precise_values_pdf(tmp_path / "precise.pdf")
    code, out, _ = run(capsys, "extract", pdf)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Superconductivity in NbSe2 films (1 page)"
    values = [line.split(None, 3)[3].strip() for line in lines[2:]]
    assert values == ["7.0 K", "3.30 eV", "20.50 ± 0.03 K", "7.10 K", "0.80 K"]
    code, out, _ = run(capsys, "extract", pdf, "--json")
    cell = next(r for r in json.loads(out)["records"] if r["material"] == "TaS2")
    assert (cell["value"], cell["text"]) == (0.8, "0.80")


def test_search_reads_a_sentence_a_page_break_cuts_as_one_passage(capsys, qapp, tmp_path):
    """A new-user audit: "... an ordered, multi-" at the foot of page 1 and "layered stacking ..."
    on page 2 were two passages, the hyphen kept; the sentence is one passage on page 1."""
    from literature_helpers import page_break_pdf

    library = tmp_path / "library"
    library.mkdir()
    page_break_pdf(library / "break.pdf")
    code, out, _ = run(capsys, "search", library, "multilayered stacking", "--json")
    assert code == 0
    hits = json.loads(out)["results"]
    top = hits[0]
    assert top["page"] == 1
    assert top["text"].startswith(
        "Electron microscopy of the annealed film shows an ordered, multilayered stacking of "
        "the perovskite blocks along the growth direction."
    )
    assert not any("multi-" in h["text"] or h["text"].startswith("layered") for h in hits)


def test_extract_gives_activation_energies_in_the_units_the_field_writes(qapp, tmp_path):
    """Two SOFC-Exp papers typeset as PDFs, through `matlens extract --json` as a user runs it:
    "the activation energy of PBFM in H2 was 1.02 eV" (PMC4673446) had value_si 1.634e-19 J, and
    "Ea = 50.8 kJ mol–1" (PMC4663492) 50800 J/mol. The normalised value is in eV and kJ/mol;
    what the paper wrote stays as it was."""
    from cli_harness import run_matlens
    from literature_helpers import sofc_exp_pdf

    found, shown = {}, ("value", "unit", "value_normalised", "unit_normalised")
    for name in ("PMC4673446", "PMC4663492"):
        pdf = sofc_exp_pdf(name, tmp_path / f"{name}.pdf")
        run = run_matlens("extract", pdf, "--json")
        assert run.returncode == 0, run.stderr
        for r in json.loads(run.stdout)["records"]:
            if r["property"] == "activation_energy":
                found[r["text"]] = tuple(r[k] for k in shown)
    assert found["1.02 eV"] == (1.02, "eV", pytest.approx(1.02), "eV")
    assert found["lower than 1.31 eV"] == (1.31, "eV", pytest.approx(1.31), "eV")
    assert found["50.8 kJ mol–1"] == (50.8, "kJ mol-1", pytest.approx(50.8), "kJ/mol")


def test_search_of_an_empty_folder_or_with_no_query_is_one_line(capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, "search", empty, "superconductivity")
    assert code == 2 and out == "" and err.count("\n") == 1  # it printed nothing, exit 0
    assert "no PDF paper there could be read" in err
    code, out, err = run(capsys, "search", empty, "  ")
    assert code == 2 and out == "" and err.count("\n") == 1 and "give a query" in err


def test_a_search_without_a_match_says_so(capsys, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(paper("1609.04957-CC.pdf"), library)
    code, out, err = run(capsys, "search", library, "zzzqqqxxx", "--mode", "keyword")
    assert code == 0 and out == ""
    assert "no passage of the 1 paper matches 'zzzqqqxxx'" in err


def test_a_reference_list_with_no_heading_is_not_searched(capsys, tmp_path):
    """The sample letter's reference list has no heading over it: a search for
    "superconductivity" answered first with a cited title ("I. I. Mazin, Superconductivity gets
    an iron boost, Nature 464, 183 (2010).")."""
    from inference.runtime.paths import samples_dir

    library = tmp_path / "library"
    library.mkdir()
    shutil.copy(samples_dir() / "LaFeAsO1-xHx_NMR_1609.04957.pdf", library)
    code, out, _ = run(
        capsys, "search", library, "superconductivity", "--json", "--mode", "keyword"
    )
    assert code == 0
    texts = [hit["text"] for hit in json.loads(out)["results"]]
    assert texts, "the paper's own passages are searched"
    assert not [t for t in texts if re.search(r"\d+, \d+ \((?:19|20)\d\d\)", t)], texts
    assert any("In conclusion, we have observed in LaFeAsO" in t for t in texts)


@pytest.mark.parametrize("top", ["0", "-3"])
def test_a_search_asked_for_no_or_minus_passages_is_one_line(capsys, tmp_path, top):
    """`--top -3` listed every passage but the last three, `--top 0` said that none matched."""
    library = tmp_path / "lib"
    library.mkdir()
    shutil.copy(paper("Suzuki_etal_2015-CC.pdf"), library)
    code, out, err = run(capsys, "search", library, "superconductivity", "--top", top)
    assert code == 2 and out == ""
    assert err.strip() == f"matlens: --top is how many passages to list: 1 or more, not {top}"


def test_one_paper_with_a_folders_options_is_one_line(capsys, tmp_path):
    """`matlens extract paper.pdf --out DIR` wrote nothing to DIR and said nothing (exit 0)."""
    code, out, err = run(capsys, "extract", paper("Suzuki_etal_2015-CC.pdf"), "--out", tmp_path)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--out, --workers and --scheduler are for a folder of papers" in err
    assert not any(tmp_path.iterdir())
