"""The ONNX runtime layer: sessions report the device that really runs; model cards catch bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inference.errors import ModelUnavailable
from inference.runtime import registry
from inference.runtime.paths import resources_dir
from inference.runtime.sessions import CPU, OnnxModel, build_session, device_report

PROBE = resources_dir() / "models" / "probe.onnx"


def test_session_reports_the_provider_that_actually_runs():
    session, report = build_session(PROBE)
    assert session.get_providers()[0] == report.provider
    if not report.is_gpu:
        assert report.provider == CPU
        assert report.reason, "a CPU fallback must say why the GPU is not used"
        assert report.label.startswith("CPU — ")


def test_forced_cpu_is_reported(monkeypatch):
    monkeypatch.setenv("MATLENS_FORCE_CPU", "1")
    _, report = build_session(PROBE)
    assert report.provider == CPU and "MATLENS_FORCE_CPU" in report.reason


def test_onnx_model_runs_and_uses_all_cores_by_default(monkeypatch):
    model = OnnxModel(PROBE)
    x = np.array([3.5], dtype=np.float32)
    (y,) = model.run({"x": x})
    np.testing.assert_array_equal(y, x)
    assert device_report().provider in ("CPUExecutionProvider", "CUDAExecutionProvider")


def _write_card(folder, name, sha):
    card = {
        "id": "toy",
        "name": "Toy model",
        "task": "test",
        "licence": "MIT",
        "source_package": "matlens",
        "source_version": "0",
        "files": [{"role": "main", "name": name, "sha256": sha, "location": "models"}],
    }
    (folder / "cards").mkdir(parents=True, exist_ok=True)
    (folder / "cards" / "toy.json").write_text(json.dumps(card))


def test_missing_model_gives_one_line_that_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("MATLENS_MODELS", str(tmp_path))
    _write_card(tmp_path, "toy.onnx", "0" * 64)
    with pytest.raises(ModelUnavailable) as err:
        registry.require("toy")
    message = str(err.value)
    assert "\n" not in message and "missing" in message and "Model manager" in message


def test_corrupt_model_is_detected_by_checksum(tmp_path, monkeypatch):
    monkeypatch.setenv("MATLENS_MODELS", str(tmp_path))
    good = PROBE.read_bytes()
    (tmp_path / "toy.onnx").write_bytes(good)
    _write_card(tmp_path, "toy.onnx", registry.sha256_of(PROBE))
    card = registry.require("toy")
    assert OnnxModel(card.path("main")).run({"x": np.ones(1, np.float32)})[0][0] == 1.0

    (tmp_path / "toy.onnx").write_bytes(good[:-5] + b"xxxxx")
    with pytest.raises(ModelUnavailable, match="checksum mismatch"):
        registry.require("toy")


def test_unknown_model_and_broken_user_card(tmp_path, monkeypatch):
    monkeypatch.setenv("MATLENS_MODELS", str(tmp_path))
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "broken.json").write_text("{not json")
    cards = registry.load_cards()  # a broken user card must not stop the app
    assert any(c.id == "broken" and "unreadable" in c.description for c in cards)
    with pytest.raises(ModelUnavailable, match="Unknown model 'nope'"):
        registry.require("nope")


def test_card_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("MATLENS_MODELS", str(tmp_path))
    card = registry.ModelCard(
        id="user_x",
        name="X",
        task="segmentation/sam",
        licence="Apache-2.0",
        source_package="user",
        source_version="",
        input_size=(1024, 1024),
        files=(registry.ModelFile("encoder", "x_enc.onnx", "ab" * 32),),
        bundled=False,
    )
    registry.save_user_card(card)
    loaded = registry.get_card("user_x")
    assert loaded == card


# What onnxruntime's CUDA arena raises past `gpu_mem_limit` (onnxruntime-gpu 1.31): it names
# neither CUDA nor memory running out.
ARENA_REFUSAL = (
    "[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Non-zero status code returned while running "
    "Conv node. Name:'/image_encoder/Conv' Status Message: /onnxruntime_src/onnxruntime/core/"
    "framework/bfc_arena.cc:359 void* onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, "
    "onnxruntime::Stream*, bool, onnxruntime::WaitNotificationFn) Failed to allocate memory for "
    "requested buffer of size 268435456"
)


class _OutOfGpuMemory:
    """A CUDA session whose next run fails as the arena does (no GPU on the test machines:
    the one thing simulated; the CPU session the model falls back to is real)."""

    def run(self, outputs, feeds):
        raise RuntimeError(ARENA_REFUSAL)


def test_out_of_gpu_memory_falls_back_to_the_cpu_and_says_so():
    from inference.runtime.sessions import CUDA, DeviceReport, gpu_fallbacks, on_gpu_fallback

    heard: list[str] = []
    stop = on_gpu_fallback(heard.append)
    try:
        model = OnnxModel(PROBE, prefer_gpu=False)
        # a session that fails as CUDA does when its memory runs out; no GPU here to make it real
        model.session = _OutOfGpuMemory()  # pyright: ignore[reportAttributeAccessIssue]
        model.device = DeviceReport(CUDA, True, "NVIDIA H100")
        (y,) = model.run({"x": np.array([2.0], np.float32)})
    finally:
        stop()
    assert y[0] == 2.0  # the answer, from the CPU
    assert not model.device.is_gpu
    assert model.device.label == "CPU — the GPU ran out of memory running probe.onnx"
    assert heard == ["the GPU ran out of memory running probe.onnx: it runs on the CPU from now on"]
    assert gpu_fallbacks()[-1] == heard[0]
    (y,) = model.run({"x": np.array([3.0], np.float32)})  # stays on the CPU, no second notice
    assert y[0] == 3.0 and len(heard) == 1


def test_a_cpu_failure_is_not_taken_for_the_gpu():
    model = OnnxModel(PROBE, prefer_gpu=False)
    with pytest.raises(Exception, match="x"):
        model.run({"y": np.ones(1, np.float32)})  # a wrong input name: raised, no fallback


def test_gpu_memory_limit_setting(monkeypatch):
    from inference.runtime.sessions import gpu_memory_limit

    for text, limit in (
        ("4G", 4 * 2**30),
        ("512M", 512 * 2**20),
        ("1.5g", 3 * 2**29),
        ("64MB", 64 * 2**20),
        ("1000", 1000),
        ("", None),
        ("lots", None),
    ):
        monkeypatch.setenv("MATLENS_GPU_MEMORY_LIMIT", text)
        assert gpu_memory_limit() == limit, text
    monkeypatch.setenv("MATLENS_GPU_MEMORY_LIMIT", "32M")
    from inference.runtime.sessions import CUDA, _cuda_provider

    assert _cuda_provider() == (CUDA, {"gpu_mem_limit": str(32 * 2**20)})
    assert _cuda_provider(tf32=False) == (CUDA, {"gpu_mem_limit": str(32 * 2**20), "use_tf32": "0"})
    monkeypatch.delenv("MATLENS_GPU_MEMORY_LIMIT")
    assert _cuda_provider() == CUDA


def test_doctor_flags_a_broken_card_and_accepts_one_that_carries_its_weights(tmp_path, monkeypatch):
    """The Tc linker's coefficients live in its card (no files): doctor says ok, as the bundle's
    smoke test asks of every shipped model; an unreadable user card is not ok and says why."""
    from inference import doctor

    monkeypatch.setenv("MATLENS_MODELS", str(tmp_path))
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "broken.json").write_text("{not json")
    report = doctor.collect()
    states = {m.id: m for m in report.models}
    assert states["tc_linker"].ok and not states["tc_linker"].files
    assert not states["broken"].ok and "unreadable card" in states["broken"].problem
    assert "✗ broken [?] — unreadable card" in doctor.render_text(report)


def test_doctor_names_a_damaged_model_file_and_the_fix(tmp_path, monkeypatch, mobile_sam_exported):
    """A models folder whose SAM decoder was cut short (a copy of the real folder): the doctor
    marks that model, names the file and says how to fix it; the other models stay ok."""
    from model_folders import cut_short, linked_models

    from inference import doctor

    models = linked_models(tmp_path / "models")
    decoder = cut_short(models, "mobile_sam_decoder.onnx", 100_000)
    monkeypatch.setenv("MATLENS_MODELS", str(models))
    report = doctor.collect()
    sam = next(m for m in report.models if m.id == "mobile_sam")
    assert not sam.ok and sam.files["mobile_sam_decoder.onnx"] == "checksum mismatch"
    lines = doctor.render_text(report).splitlines()
    assert any(
        line.startswith("  ✗ MobileSAM") and "mobile_sam_decoder.onnx: checksum mismatch" in line
        for line in lines
    )
    # the fix: one line per damaged model, which `matlens doctor` prints on stderr (exit 1)
    assert report.damaged == [sam.damage]
    assert f"decoder file {decoder} is damaged" in sam.damage and "make models" in sam.damage
