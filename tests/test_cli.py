"""`matlens` on the command line: JSON that scripts can read, errors in one line with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def matlens(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "desktop.launcher", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_doctor_json_reports_device_and_models():
    out = matlens("doctor", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["offline"] is True
    assert "CPUExecutionProvider" in report["providers_available"]
    assert report["device"]["provider"] in ("CPUExecutionProvider", "CUDAExecutionProvider")
    if not report["device"]["is_gpu"]:
        assert report["device"]["why_not_gpu"]
    assert (
        {"id", "name", "licence", "files", "ok"} <= set(report["models"][0])
        if report["models"]
        else True
    )


def test_models_list_json_is_machine_readable():
    out = matlens("models", "list", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert all({"id", "status", "licence", "source"} <= set(r) for r in rows)


def test_bad_usage_is_one_line_exit_2():
    for args in (["doctor", "--frobnicate"], ["models"], ["models", "import", "/nope/ckpt.pth"]):
        out = matlens(*args)
        assert out.returncode == 2, (args, out)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("matlens: "), (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_a_negative_value_after_an_option_says_to_write_it_with_an_equals_sign(capsys):
    """`segment IMG --point -5,-5` said only "argument --point: expected one argument"."""
    from inference.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["segment", "image.tif", "--point", "-5,-5", "--out", "x.png"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert "a value starting with '-' is written with '=': --point=-5,-5" in err


def test_installed_matlens_command_routes_files_to_the_window_and_subcommands_to_the_cli():
    import shutil
    from pathlib import Path

    exe = shutil.which("matlens", path=str(Path(sys.executable).parent))
    assert exe, "the `matlens` entry point is not installed in this environment"
    out = subprocess.run([exe, "doctor", "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and json.loads(out.stdout)["matlens"]
    env = {**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}
    gui = subprocess.run(
        [exe, "--quit-after-paint"], capture_output=True, text=True, timeout=120, env=env
    )
    assert gui.returncode == 0 and "first_paint_s" in gui.stdout, gui.stderr


def test_the_window_paints_before_any_heavy_library_loads():
    """scipy alone costs ~0.25 s of a ~1.1 s cold start, so the segmentation modules the
    Micrographs pane imports load it inside the functions that need it, after the first paint."""
    import os

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    gui = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--quit-after-paint"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert gui.returncode == 0, gui.stderr
    heavy = [line for line in gui.stdout.splitlines() if line.startswith("heavy_before_paint")]
    assert heavy == ["heavy_before_paint none"], gui.stdout


def test_output_piped_into_a_reader_that_stops_is_not_an_error():
    """`matlens data query --all O | head -1`: the reader closes the pipe after one line, with
    thousands of rows still to write. The command said "matlens: Unexpected error
    (BrokenPipeError): [Errno 32] Broken pipe" and exited 2."""
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop.launcher", "data", "query", "--all", "O"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline()  # the first line, as `head -1` reads it
    child.stdout.close()
    err = child.stderr.read()
    child.wait(timeout=120)
    assert "Error" not in err and "Traceback" not in err, err
    assert child.returncode in (0, 141)


def _case_files(folder):
    """Copies of a micrograph, a CIF and a PDF, as a person's own files."""
    import shutil

    from inference.runtime.paths import samples_dir

    samples = samples_dir()
    image = Path(shutil.copy(samples / "superalloy_precipitates.tif", folder / "image.tif"))
    cif = Path(shutil.copy(samples / "NaCl.cif", folder / "NaCl.cif"))
    pdf = Path(shutil.copy(next(samples.glob("*.pdf")), folder / "paper.pdf"))
    (folder / "ex.json").write_text('{"examples": []}')
    return image, cif, pdf


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["segment", "{image}", "--point", "10,10", "--out", "{image}"], "--out image.tif"),
        (["segment", "{image}", "--point", "10,10", "--coco", "{image}"], "--coco image.tif"),
        (["auto", "{image}", "--out", "{image}"], "--out image.tif"),
        (
            ["phases", "{image}", "--examples", "{folder}/ex.json", "--out", "{image}"],
            "--out image.tif",
        ),
        (
            ["measure", "{image}", "{image}", "--csv", "m.csv", "--report", "{image}"],
            "--report image.tif",
        ),
        (["measure", "{image}", "{image}", "--csv", "{image}"], "--csv image.tif"),
        (
            ["structure", "xrd", "{cif}", "--out", "{folder}/../{folder_name}/NaCl.cif"],
            "--out NaCl.cif",
        ),
        (["structure", "render", "{cif}", "--out", "{cif}"], "--out NaCl.cif"),
        (["extract", "{pdf}", "--csv", "{pdf}"], "--csv paper.pdf"),
    ],
)
def test_an_output_never_replaces_the_file_the_command_reads(
    capsys, tmp_path, monkeypatch, args, said
):
    """`segment X.tif --out X.tif` wrote a 741-byte mask over the micrograph, `measure --report`
    replaced it with HTML, `xrd --out` the CIF with peaks and `extract --csv` the PDF with CSV,
    each with exit 0. Now: one line, exit 2, the file as it was."""
    from inference.cli import main

    monkeypatch.chdir(tmp_path)
    image, cif, pdf = _case_files(tmp_path)
    before = {p: p.read_bytes() for p in (image, cif, pdf)}
    names = {
        "image": image,
        "cif": cif,
        "pdf": pdf,
        "folder": tmp_path,
        "folder_name": tmp_path.name,
    }
    code = main([a.format(**names) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"{said} is the input file itself: write to another file" in err, err
    assert all(p.read_bytes() == data for p, data in before.items())


def test_two_outputs_of_one_command_may_not_be_one_file(capsys, tmp_path):
    from inference.cli import main

    image, _, _ = _case_files(tmp_path)
    code = main(
        [
            "measure",
            str(image),
            str(image),
            "--csv",
            str(tmp_path / "m.csv"),
            "--report",
            str(tmp_path / "m.csv"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--csv and --report are both m.csv: give each its own file" in err


def test_a_run_started_with_stderr_closed_finishes(tmp_path):
    """`matlens extract FOLDER --out OUT 2>&-` (a scheduler's job with stderr closed) ended at
    the first progress line: AttributeError, exit 2, nothing written."""
    import os
    import shutil

    from inference.runtime.paths import samples_dir

    papers = tmp_path / "papers"
    papers.mkdir()
    shutil.copy(next(samples_dir().glob("*.pdf")), papers)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "desktop.launcher",
            "extract",
            str(papers),
            "--out",
            str(tmp_path / "out"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        timeout=300,
        preexec_fn=lambda: os.close(2),
    )
    assert run.returncode == 0, run.stdout
    assert "1 done" in run.stdout and (tmp_path / "out" / "records.json").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["measure", "{image}", "{image}", "--csv", "nodir/m.csv"],
            "--csv nodir/m.csv: folder not found: nodir (make it first)",
        ),
        (
            ["data", "query", "--all", "Si", "--csv", "nodir/x.csv"],
            "--csv nodir/x.csv: folder not found: nodir",
        ),
        (
            ["segment", "{image}", "--point", "10,10", "--out", "NaCl.cif/x.png"],
            "--out NaCl.cif/x.png: NaCl.cif is a file, not a folder",
        ),
    ],
)
def test_an_output_into_a_missing_folder_names_the_folder(
    capsys, tmp_path, monkeypatch, args, said
):
    """`measure --csv nodir/m.csv` said "File not found: nodir/m.csv", as if the file to be made
    were wanted; `segment --out` made the folders without a word; a file in the folder's place
    gave "Unexpected error (FileExistsError)"."""
    from inference.cli import main

    monkeypatch.chdir(tmp_path)
    image, _, _ = _case_files(tmp_path)
    code = main([a.format(image=image) for a in args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and said in err, err
    assert not (tmp_path / "nodir").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--band-gap-min", "nan"], "argument --band-gap-min: 'nan' is not a finite number"),
        (["--formation-energy-max", "inf"], "'inf' is not a finite number"),
        (["--limit", "0"], "argument --limit: 0: at least 1 row"),
    ],
)
def test_data_query_refuses_numbers_that_match_nothing_or_everything(capsys, args, said):
    """`data query --band-gap-min nan` and `--limit 0` showed 0 rows, exit 0."""
    from inference.cli import main

    with pytest.raises(SystemExit) as stop:
        main(["data", "query", "--all", "Si", *args])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and said in err and err.count("\n") == 1, err
