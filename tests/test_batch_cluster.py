"""Batches past one process: the shared micrographs, papers and structures on real dask
processes (127.0.0.1 only), compared file by file with the same batch run in this process;
a worker killed mid-item, an item that kills every worker it runs on, a run stopped half-way
and resumed, and Cancel on a cluster. Every test stops the processes it started."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_cluster import REPO, WorkerKillingPredictions, dask_cluster, staged_tries
from cli_harness import run_matlens
from conftest import shared

from inference import cli
from inference.batch import (
    MAX_TRIES,
    Where,
    micrographs,
    papers,
    predictions,
    run_micrograph_batch,
    run_workload,
)
from inference.jobs import CancelToken
from inference.segmentation.recipe import load_recipe, recipe_from_dict, save_recipe

pytestmark = pytest.mark.slow

IMAGES = (
    ("Super1", "test", "spot2_0d_4.tif"),
    ("Super1", "test", "spot2_180d_3.tif"),
    ("EBC1", "test", "050317_3_S0440016.tif"),
)
PAPERS = ("JPS0710709-CC.pdf", "JPC0150L17-CC.pdf")  # two short SuperMat dev papers
STRUCTURES = (
    "POSCAR-JVASP-10.vasp",
    "POSCAR-JVASP-1372.vasp",
    "POSCAR-JVASP-1996.vasp",
    "POSCAR-JVASP-655.vasp",
    "POSCAR-JVASP-676.vasp",
    "POSCAR-JVASP-14441.vasp",
)
RECIPE = {
    "format": "matlens-recipe",
    "version": 1,
    "mode": "auto",
    "classes": ["precipitate"],
    "parameters": {"auto": {"points_per_side": 8}},  # a coarse grid: the batch is under test
    "calibration": {"rule": "fixed", "pixel_size": 0.05, "unit": "µm"},
}


# --- inputs -------------------------------------------------------------------------------------
@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for parts in IMAGES:
        shutil.copy(shared("segmentation", "nasa_micronet", *parts), folder)
    (folder / "broken.tif").write_bytes(b"II*\x00" + b"\x00garbage" * 20)
    return folder


@pytest.fixture
def paper_folder(tmp_path):
    folder = tmp_path / "papers"
    (folder / "older").mkdir(parents=True)
    source = shared("papers", "supermat_dev", "pdf")
    shutil.copy(source / PAPERS[0], folder)
    shutil.copy(source / PAPERS[1], folder / "older")  # a subfolder is part of the library
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 not really")
    return folder


@pytest.fixture
def structure_folder(tmp_path):
    folder = tmp_path / "structures"
    folder.mkdir()
    for name in STRUCTURES:
        shutil.copy(shared("structures", "alignn_poscar", name), folder)
    (folder / "bad.vasp").write_text("not a POSCAR\n", encoding="utf-8")
    return folder


@pytest.fixture
def composition_csv(tmp_path):
    path = tmp_path / "screen.csv"
    rows = ["id,formula", "1,Fe2O3", "2,SiC", "3,NaCl", "4,Xx3Q", "5,GaAs", "6,", "7,TiO2"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes, shared by the tests of this module."""
    with dask_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


# --- helpers ------------------------------------------------------------------------------------
def results(out: Path) -> dict[str, bytes]:
    """Every file a user gets (the bookkeeping in .matlens-batch left out), by path."""
    return {
        str(p.relative_to(out)): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".matlens-batch" not in p.parts
    }


def assert_same_results(here: Path, there: Path) -> None:
    a, b = results(here), results(there)
    assert sorted(a) == sorted(b)
    different = [name for name in a if a[name] != b[name]]
    assert not different, f"differ between the runs: {different}"


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def cli_report(run) -> dict:
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert not run.timed_out, run.stderr[-3000:]
    return json.loads(run.stdout)


def session_processes(sid: int) -> list[str]:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "-s", str(sid)], capture_output=True, text=True, check=False
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


# --- same outputs wherever the items run --------------------------------------------------------
def test_micrographs_on_two_local_workers_match_this_process(image_folder, tmp_path):
    recipe = recipe_from_dict(RECIPE)
    here = run_workload(micrographs(recipe, image_folder), tmp_path / "here")
    assert here.done == tuple(p[-1] for p in sorted(IMAGES, key=lambda p: p[-1]))
    assert [f.file for f in here.failures] == ["broken.tif"]

    recipe_file = save_recipe(recipe, tmp_path / "recipe.json")
    # a fresh embedding cache: the workers compute everything again
    env = {"MATLENS_CACHE": str(tmp_path / "other-cache")}
    args = ("batch", recipe_file, image_folder, tmp_path / "there", "--workers", 2, "--json")
    run = run_matlens(*args, timeout=600, env=env)
    report = cli_report(run)
    assert run.returncode == 1  # broken.tif failed, as in this process
    assert report["where"] == "2 worker processes of this computer"
    assert sorted(report["done"]) == sorted(here.done)
    assert report["failures"] == [
        {"file": "broken.tif", "reason": here.failures[0].reason, "tries": 1}
    ]
    assert_same_results(tmp_path / "here", tmp_path / "there")
    summary = read_csv(tmp_path / "there" / "summary.csv")
    assert [r["image"] for r in summary] == [p[-1] for p in sorted(IMAGES, key=lambda p: p[-1])]
    assert all(int(r["precipitate_count"]) > 0 for r in summary)
    # each worker process loaded SAM once, whatever number of images it did
    loads = report["models_loaded"]
    assert 1 <= len(loads) <= 2 and all(m == {"sam:mobile_sam": 1} for m in loads.values())


def test_a_scheduler_and_two_worker_processes(
    cluster, paper_folder, structure_folder, composition_csv, tmp_path
):
    """Papers, structures and compositions on `dask scheduler` + `dask worker` processes give
    the files of the same batch in this process."""
    env = {"MATLENS_CACHE": str(tmp_path / "cli-cache")}

    run_workload(papers(paper_folder), tmp_path / "papers-here")
    run = run_matlens(
        "extract", paper_folder, "--out", tmp_path / "papers-there", "--scheduler",
        cluster.address, "--json", timeout=600, env=env,
    )  # fmt: skip
    report = cli_report(run)
    assert run.returncode == 1, run.stderr  # scan.pdf is no PDF
    assert report["where"] == f"the cluster at {cluster.address}"
    assert sorted(report["done"]) == sorted(["JPS0710709-CC.pdf", "older/JPC0150L17-CC.pdf"])
    assert [f["file"] for f in report["failures"]] == ["scan.pdf"]
    assert_same_results(tmp_path / "papers-here", tmp_path / "papers-there")
    records = json.loads((tmp_path / "papers-there" / "records.json").read_text("utf-8"))
    assert [p["paper"] for p in records["papers"]] == [
        "JPS0710709-CC.pdf",
        "older/JPC0150L17-CC.pdf",
    ]
    tc = [r for p in records["papers"] for r in p["records"] if r["property"] == "Tc"]
    assert tc, "the superconductor papers give Tc records"
    assert "done" in run.stderr and "items/s" in run.stderr  # the progress bar

    # the search index was built by the workers: searching parses nothing again
    search = run_matlens("search", paper_folder, "critical temperature", "--json", env=env)
    found = json.loads(search.stdout)
    assert found["indexed"]["unchanged"] == 2 and not found["indexed"]["added"]
    assert {h["paper"] for h in found["results"]} <= {
        "JPS0710709-CC.pdf",
        "older/JPC0150L17-CC.pdf",
    }
    assert found["mode"] == "hybrid" and found["results"]

    run_workload(predictions(structure_folder), tmp_path / "structures-here")
    run = run_matlens(
        "predict", structure_folder, "--out", tmp_path / "structures-there", "--scheduler",
        cluster.address, "--json", timeout=600, env=env,
    )  # fmt: skip
    report = cli_report(run)
    assert run.returncode == 1 and [f["file"] for f in report["failures"]] == ["bad.vasp"]
    assert_same_results(tmp_path / "structures-here", tmp_path / "structures-there")
    merged = json.loads((tmp_path / "structures-there" / "predictions.json").read_text("utf-8"))
    assert [r["file"] for r in merged] == sorted([*STRUCTURES, "bad.vasp"])
    assert "error" in merged[-1] and all(r["energy_per_atom"] < 0 for r in merged[:-1])
    # the same two long-lived worker processes: CHGNet and MiniLM were loaded once in each
    loads = report["models_loaded"]
    assert len(loads) == 2 and all(m.get("chgnet") == 1 for m in loads.values())
    assert all(m.get("minilm", 1) == 1 for m in loads.values())

    run_workload(predictions(composition_csv, rows_per_item=3), tmp_path / "csv-here")
    report = run_workload(
        predictions(composition_csv, rows_per_item=3),
        tmp_path / "csv-there",
        Where.cluster(cluster.address),
    )
    # rows 1-3, 4-6, 7 all done; two of their rows could not be predicted: not ok (exit 1)
    assert report.items == 3 and len(report.done) == 3 and report.failed_parts == 2
    assert not report.ok
    assert_same_results(tmp_path / "csv-here", tmp_path / "csv-there")
    rows = json.loads((tmp_path / "csv-there" / "predictions.json").read_text("utf-8"))
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["row"] for r in rows if "error" in r] == [4, 6]  # Xx3Q and a blank cell
    assert {r["input"] for r in rows if "error" not in r} == {
        "Fe2O3", "SiC", "NaCl", "GaAs", "TiO2",
    }  # fmt: skip
    failures = read_csv(tmp_path / "csv-there" / "failures.csv")
    assert [f["file"] for f in failures] == ["row 4: Xx3Q", "row 6: (blank)"]
    # the table gives the same 90 % interval as the JSON (and the single-prediction table)
    table = read_csv(tmp_path / "csv-there" / "predictions.csv")
    salt = next(r for r in rows if r.get("input") == "NaCl")
    gap = next(p for p in salt["predictions"] if p["property"] == "band_gap")
    line = next(
        t
        for t in table
        if t["item"] == "NaCl" and t["quantity"] == gap["label"] and t["kind"] == "prediction"
    )
    low, high = (float(v) for v in line["interval_90_or_range"].split(" to "))
    assert (low, high) == pytest.approx(gap["interval_90"], rel=0.005, abs=0.01)
    assert not any("±" in t["interval_90_or_range"] for t in table)


# --- faults ---------------------------------------------------------------------------------------
def test_a_worker_killed_mid_item_loses_nothing(structure_folder, tmp_path):
    """kill -9 of a worker process while it holds an item: the item is done on the other
    worker, every item exactly once, and no output file is partial."""
    out = tmp_path / "out"
    with dask_cluster(tmp_path / "cluster") as running:
        argv = [sys.executable, "-m", "desktop.launcher", "predict", str(structure_folder)]
        argv += ["--out", str(out), "--scheduler", running.address, "--json"]
        driver = subprocess.Popen(
            argv,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            # a try seen the moment it starts: its worker is surely mid-item when killed
            victim, held, seen = None, None, set(staged_tries(out))
            deadline = time.monotonic() + 300
            while victim is None and time.monotonic() < deadline and driver.poll() is None:
                tries = staged_tries(out)
                fresh = [tries[k] for k in tries if k not in seen]
                seen |= set(tries)
                victim, held = next(
                    (
                        (pid, item)
                        for pid, item in fresh
                        if pid in running.worker_pids and item != "bad"  # a good structure
                    ),
                    (None, None),
                )
                time.sleep(0.005)
            assert victim is not None, "no worker was seen starting an item"
            os.kill(victim, signal.SIGKILL)
            stdout, stderr = driver.communicate(timeout=600)
        finally:
            if driver.poll() is None:
                os.killpg(driver.pid, signal.SIGKILL)
                driver.wait()
    assert "Traceback" not in stderr, stderr[-3000:]
    report = json.loads(stdout)
    assert driver.returncode == 1  # bad.vasp, and only bad.vasp, failed
    assert [f["file"] for f in report["failures"]] == ["bad.vasp"]
    assert sorted(report["done"]) == sorted(STRUCTURES)  # each once
    retried = {r["file"]: r["tries"] for r in report["retried"]}
    assert retried == {f"{held}.vasp": 2}, report
    assert "retried after 1 worker died" in report["message"]
    # one marker per item, every output whole, no staging folder or temp file left
    markers = sorted(p.stem for p in (out / ".matlens-batch" / "items").iterdir())
    assert markers == sorted(Path(s).stem for s in STRUCTURES)
    for name in markers:
        record = json.loads((out / "predictions" / f"{name}.json").read_text("utf-8"))
        assert record["records"][0]["energy_per_atom"] < 0
    assert not list((out / ".matlens-batch").glob("attempts/*"))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    merged = json.loads((out / "predictions.json").read_text("utf-8"))
    assert [r["file"] for r in merged] == sorted([*STRUCTURES, "bad.vasp"])


def test_an_item_that_kills_every_worker_fails_after_three_tries(structure_folder, tmp_path):
    workload = WorkerKillingPredictions(str(structure_folder), poison="POSCAR-JVASP-1372.vasp")
    report = run_workload(workload, tmp_path / "out", Where.local_workers(2))
    killer = [f for f in report.failures if f.file == "POSCAR-JVASP-1372.vasp"]
    assert len(killer) == 1 and killer[0].tries == MAX_TRIES
    assert killer[0].reason == (
        f"stopped after {MAX_TRIES} tries: each one ended its worker process "
        "(killed, or out of memory)"
    )
    assert sorted(f.file for f in report.failures) == ["POSCAR-JVASP-1372.vasp", "bad.vasp"], [
        (f.file, f.reason) for f in report.failures
    ]
    assert len(report.done) == len(STRUCTURES) - 1 and not report.cancelled
    failures = read_csv(tmp_path / "out" / "failures.csv")
    assert {f["file"]: f["reason"] for f in failures}["POSCAR-JVASP-1372.vasp"] == killer[0].reason


def test_a_stopped_run_resumes_where_it_was(structure_folder, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) half-way through a
    run on two local workers; the next run does only the rest."""
    # Enough items that a fast machine cannot finish them all between the stop and its effect.
    for copy in range(1, 6):
        for name in STRUCTURES:
            shutil.copy(structure_folder / name, structure_folder / f"copy{copy}-{name}")
    items = sorted(p.name for p in structure_folder.glob("*POSCAR*"))
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "desktop.launcher", "predict", str(structure_folder)]
    argv += ["--out", str(out), "--workers", "2", "--json"]
    driver = subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    markers = out / ".matlens-batch" / "items"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and driver.poll() is None:
            if markers.is_dir() and len(list(markers.glob("*.json"))) >= 2:
                break
            time.sleep(0.05)
        os.killpg(driver.pid, signal.SIGINT)
        stdout, stderr = driver.communicate(timeout=120)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    assert driver.returncode == 130, stderr[-3000:]
    assert stderr.strip().splitlines()[-1] == "matlens: interrupted"
    deadline = time.monotonic() + 30
    while session_processes(driver.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not session_processes(driver.pid), "worker processes outlived the stopped run"

    first = {p.stem for p in markers.glob("*.json")}
    assert 2 <= len(first) < len(items)
    manifest = json.loads((out / ".matlens-batch" / "manifest.json").read_text("utf-8"))
    states = {i["name"]: i["state"] for i in manifest["items"]}
    assert {n for n, s in states.items() if s == "done"} == first and not manifest["running"]

    again = run_workload(predictions(structure_folder), out)
    assert {Path(s).stem for s in again.skipped} == first
    assert {Path(s).stem for s in again.done} == {Path(s).stem for s in items} - first
    assert [f.file for f in again.failures] == ["bad.vasp"]
    merged = json.loads((out / "predictions.json").read_text("utf-8"))
    assert [r["file"] for r in merged] == sorted([*items, "bad.vasp"])


def test_cancel_stops_the_clusters_tasks(cluster, image_folder, tmp_path):
    """The Batch dialog's call on "a cluster at …": Cancel after the first image returns at
    once, and the workers stop the images they hold."""
    from distributed import Client

    token, events = CancelToken(), []

    def on_item(event):
        events.append(event)
        token.cancel()

    recipe = load_recipe(save_recipe(recipe_from_dict(RECIPE), tmp_path / "recipe.json"))
    report = run_micrograph_batch(
        recipe,
        image_folder,
        tmp_path / "out",
        cancel=token,
        where=Where.cluster(cluster.address),
        on_item=on_item,
    )
    assert report.cancelled and len(events) == 1
    assert "run again to resume" in report.message and report.left >= 1
    with Client(cluster.address, set_as_default=False) as client:
        deadline = time.monotonic() + 30
        while _processing(client) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _processing(client), "tasks still running after Cancel"
    # the images the workers held were stopped, not finished: no more markers than events
    markers = list((tmp_path / "out" / ".matlens-batch" / "items").glob("*.json"))
    assert len(markers) == sum(e.state == "done" for e in events)
    rows = read_csv(tmp_path / "out" / "summary.csv")
    assert len(rows) == len(markers)


# --- bad input: one line, exit 2 ----------------------------------------------------------------
def test_bad_batch_arguments_are_one_line(tmp_path, composition_csv, capsys, monkeypatch):
    import inference.batch._cluster as cluster_module

    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 2)
    cases = [
        (["predict", str(composition_csv)], "needs --out"),
        (["predict", str(composition_csv), "--out", str(tmp_path / "o"), "--workers", "0"],
         "--workers must be at least 1"),
        (["predict", str(composition_csv), "--out", str(tmp_path / "o"), "--scheduler",
          "tcp://127.0.0.1:9"], "cannot reach the dask scheduler at tcp://127.0.0.1:9"),
        (["predict", str(composition_csv), "--out", str(tmp_path / "o"), "--scheduler",
          "my laptop"], "is not a scheduler address"),
        (["extract", str(tmp_path), "--json"], "needs --out"),
        (["predict", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")], "not found"),
    ]  # fmt: skip
    for argv, message in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (argv, err)


def test_a_second_driver_on_the_same_output_is_refused(composition_csv, tmp_path):
    out = tmp_path / "out"
    (out / ".matlens-batch").mkdir(parents=True)
    holder = subprocess.Popen(["sleep", "30"])
    try:
        lock = {"host": os.uname().nodename, "pid": holder.pid, "time": time.time()}
        (out / ".matlens-batch" / "lock").write_text(json.dumps(lock), encoding="utf-8")
        with pytest.raises(Exception, match="another batch is writing to"):
            run_workload(predictions(composition_csv), out)
    finally:
        holder.kill()
        holder.wait()
    report = run_workload(predictions(composition_csv), out)  # a dead holder's lock is taken
    assert report.items == 1 and not (out / ".matlens-batch" / "lock").exists()


def _processing(client) -> bool:
    """Whether any worker still runs a task (a synchronous client answers with a dict)."""
    tasks = client.processing()
    assert isinstance(tasks, dict)
    return any(tasks.values())
