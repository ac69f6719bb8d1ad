"""The one place that builds onnxruntime sessions: CUDA first, the CPU otherwise, and it says which.

onnxruntime-gpu lists CUDA among its providers even on a machine without a GPU, so the only
honest answer to "what runs?" is `session.get_providers()` on a real session
(`get_device()` says 'GPU' there too).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from inference.runtime.sizes import size_from_environment

if TYPE_CHECKING:
    from collections.abc import Callable

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


def _import_ort():
    import onnxruntime as ort

    # The CUDA provider's failure to load is expected on CPU machines; we report it ourselves.
    ort.set_default_logger_severity(4)
    return ort


@dataclass(frozen=True)
class DeviceReport:
    """What actually runs the models, in words a person can read."""

    provider: str
    is_gpu: bool
    device_name: str
    reason: str = ""  # why the GPU is not used, when it is not

    @property
    def label(self) -> str:
        if self.is_gpu:
            return f"GPU: {self.device_name}, CUDA"
        return f"CPU — {self.reason}" if self.reason else "CPU"


def cpu_threads() -> int:
    """Threads for one session: every core, but at least one (MATLENS_THREADS overrides)."""
    override = os.environ.get("MATLENS_THREADS")
    if override and override.isdigit() and int(override) > 0:
        return int(override)
    return max(1, os.cpu_count() or 1)


def _gpu_name() -> str:
    try:
        import subprocess

        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        name = out.stdout.strip().splitlines()
        return name[0] if name else "NVIDIA GPU"
    except (OSError, ValueError):
        return "NVIDIA GPU"


NEEDED_CUDA_MAJOR = 13  # onnxruntime-gpu 1.31 is built for CUDA 13.0 and cuDNN 9
_DRIVER_FOR_CUDA = {12: "525", 13: "580"}  # the first NVIDIA driver branch of each CUDA major
_CUDA_PROVIDER_LIBS = ("libonnxruntime_providers_cuda.so", "onnxruntime_providers_cuda.dll")


def _driver_state() -> tuple[int, int] | None:
    """(newest CUDA the driver supports, e.g. 12080 for 12.8; GPUs it sees), None without a driver."""
    for name in ("libcuda.so.1", "nvcuda.dll"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        version, count = ctypes.c_int(0), ctypes.c_int(0)
        if lib.cuDriverGetVersion(ctypes.byref(version)) != 0:
            version.value = 0
        if lib.cuInit(0) != 0 or lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
            count.value = 0
        return version.value, count.value
    return None


def driver_problem(driver_cuda: int, gpus: int, needed_major: int = NEEDED_CUDA_MAJOR) -> str:
    """Plain words when the driver cannot run CUDA `needed_major` or sees no GPU; else empty."""
    if driver_cuda and driver_cuda // 1000 < needed_major:
        have = f"{driver_cuda // 1000}.{driver_cuda % 1000 // 10}"
        driver = _DRIVER_FOR_CUDA.get(needed_major)
        update = f"update it to version {driver} or newer" if driver else "update it"
        return f"NVIDIA driver too old: it supports CUDA {have}, MatLens needs CUDA {needed_major} ({update})"
    if gpus == 0:
        return "the NVIDIA driver is installed but sees no GPU (check `nvidia-smi`)"
    return ""


def cuda_provider_installed(capi_dir: Path) -> bool:
    """Whether onnxruntime's CUDA provider library is there (the installed app ships it in the GPU pack)."""
    return any((capi_dir / name).is_file() for name in _CUDA_PROVIDER_LIBS)


def gpu_unavailable_reason() -> str:
    """Why CUDA cannot run here, in plain words; empty when nothing is missing."""
    if os.environ.get("MATLENS_FORCE_CPU"):
        return "GPU disabled by MATLENS_FORCE_CPU"
    driver = _driver_state()
    if driver is None:
        return "no CUDA GPU found (no NVIDIA driver)"
    problem = driver_problem(*driver)
    if problem:
        return problem
    ort = _import_ort()
    if CUDA not in ort.get_available_providers():
        return "this onnxruntime build has no CUDA support (install onnxruntime-gpu)"
    if not cuda_provider_installed(Path(ort.__file__).parent / "capi"):
        return "the GPU pack is not installed (no CUDA provider library in this MatLens)"
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        # Diagnosis only: loads CUDA libs from nvidia wheels or the GPU pack. It prints its
        # failures to stdout, which would break `matlens doctor --json`; we report them below.
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            preload()
    for lib, words in (
        (
            ("libcudart.so.13", "cudart64_13.dll"),
            "CUDA 13 runtime not found (install the GPU pack)",
        ),
        (
            ("libcublasLt.so.13", "cublasLt64_13.dll"),
            "cuBLAS for CUDA 13 not found (install the GPU pack)",
        ),
        (("libcudnn.so.9", "cudnn64_9.dll"), "cuDNN 9 not found (install the GPU pack)"),
    ):
        if not any(_loadable(name) for name in lib):
            return words
    return ""


def _loadable(name: str) -> bool:
    try:
        ctypes.CDLL(name)
        return True
    except OSError:
        return False


def _options(threads: int | None, spin: bool = True):
    ort = _import_ort()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or cpu_threads()
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return opts


def gpu_memory_limit() -> int | None:
    """Bytes of GPU memory one session may take (MATLENS_GPU_MEMORY_LIMIT, e.g. 4G or 512M):
    leaves room for others on a shared GPU; past it a model falls back to the CPU and says so
    (benchmarks/gpu_check.sh sets a tiny one to check that fallback). None: no limit."""
    limit = size_from_environment("MATLENS_GPU_MEMORY_LIMIT")
    return limit or None


def _cuda_provider(tf32: bool = True):
    """CUDA with its options: the memory limit, and `tf32=False` for models whose numbers must
    match the CPU's (onnxruntime's CUDA provider rounds float32 matrix products to TF32, a
    10-bit mantissa, by default)."""
    options = {}
    limit = gpu_memory_limit()
    if limit:
        options["gpu_mem_limit"] = str(limit)
    if not tf32:
        options["use_tf32"] = "0"
    return (CUDA, options) if options else CUDA


OUT_OF_GPU_MEMORY = "the GPU ran out of memory"


def build_session(
    path: Path | str | bytes,
    *,
    prefer_gpu: bool = True,
    threads: int | None = None,
    spin: bool = True,
    tf32: bool = True,
):
    """An onnxruntime session on CUDA when it really works, else on the CPU, with its report.

    `spin=False` for sessions run back to back with others (MiniLM lower → upper or → tagger
    head): idle threads of one pool that keep spinning take the cores from the next session.
    `tf32=False`: full float32 products on the GPU (see `_cuda_provider`).
    """
    ort = _import_ort()
    source = path if isinstance(path, bytes) else str(path)
    reason = gpu_unavailable_reason() if prefer_gpu else "GPU not requested"
    if prefer_gpu and not reason:
        try:
            session = ort.InferenceSession(
                source, _options(threads, spin), providers=[_cuda_provider(tf32), CPU]
            )
            if session.get_providers()[0] == CUDA:
                return session, DeviceReport(CUDA, True, _gpu_name())
            reason = "the CUDA provider failed to start (driver too old or CUDA/cuDNN mismatch)"
        except Exception as exc:  # noqa: BLE001 - any CUDA failure means: use the CPU
            if _is_out_of_memory(exc):
                name = "a model" if isinstance(path, bytes) else Path(path).name
                reason = f"{OUT_OF_GPU_MEMORY} loading {name}"
                _tell_fallback(f"{reason}: it runs on the CPU")
            else:
                reason = f"the CUDA provider failed: {str(exc).splitlines()[0][:120]}"
    session = ort.InferenceSession(source, _options(threads, spin), providers=[CPU])
    return session, DeviceReport(CPU, False, "CPU", reason)


def _is_out_of_memory(exc: Exception) -> bool:
    """CUDA's own words, or onnxruntime's arena refusing past `gpu_mem_limit` (its message
    names neither CUDA nor memory running out: "Failed to allocate memory for requested
    buffer of size …")."""
    text = str(exc).lower()
    return any(w in text for w in ("out of memory", "failed to allocate memory", "bfcarena"))


def _is_gpu_failure(exc: Exception) -> bool:
    text = str(exc).lower()
    return _is_out_of_memory(exc) or any(w in text for w in ("cuda", "cudnn", "cublas"))


# Every fall back to the CPU after the GPU failed, in words, in the order they happened; the
# window shows each (status bar and device label), the CLI and benchmarks read them here.
_FALLBACKS: list[str] = []
_LISTENERS: list[Callable[[str], None]] = []
_FALLBACK_LOCK = threading.Lock()


def on_gpu_fallback(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call `listener(notice)` whenever a model leaves the GPU for the CPU (from the thread
    that ran the model: a GUI listener must hand it to its own thread). Returns the call
    that stops it."""
    with _FALLBACK_LOCK:
        _LISTENERS.append(listener)

    def stop() -> None:
        with _FALLBACK_LOCK:
            if listener in _LISTENERS:
                _LISTENERS.remove(listener)

    return stop


def gpu_fallbacks() -> list[str]:
    """The notices so far in this process (empty: every model stayed where it started)."""
    with _FALLBACK_LOCK:
        return list(_FALLBACKS)


def _tell_fallback(notice: str) -> None:
    import logging

    logging.getLogger(__name__).warning("%s", notice)
    with _FALLBACK_LOCK:
        _FALLBACKS.append(notice)
        listeners = list(_LISTENERS)
    for listener in listeners:
        try:
            listener(notice)
        except Exception:
            logging.getLogger(__name__).exception("a GPU fallback listener failed")


class OnnxModel:
    """A session that can be run from any thread and falls back to the CPU if the GPU fails mid-run."""

    def __init__(
        self,
        path: Path | str,
        *,
        prefer_gpu: bool = True,
        threads: int | None = None,
        spin: bool = True,
        tf32: bool = True,
    ):
        self.path = Path(path)
        self._threads = threads
        self._spin = spin
        self._lock = threading.Lock()
        self.session, self.device = build_session(
            self.path, prefer_gpu=prefer_gpu, threads=threads, spin=spin, tf32=tf32
        )
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(
        self, feeds: dict[str, np.ndarray], outputs: list[str] | None = None
    ) -> list[np.ndarray]:
        try:
            return cast("list[np.ndarray]", self.session.run(outputs, feeds))
        except Exception as exc:
            if not (self.device.is_gpu and _is_gpu_failure(exc)):
                raise
            with self._lock:  # out of GPU memory: rebuild on the CPU once and say so
                if self.device.is_gpu:
                    self.session, _ = build_session(
                        self.path, prefer_gpu=False, threads=self._threads, spin=self._spin
                    )
                    why = OUT_OF_GPU_MEMORY if _is_out_of_memory(exc) else "the GPU failed"
                    self.device = DeviceReport(CPU, False, "CPU", f"{why} running {self.path.name}")
                    _tell_fallback(f"{self.device.reason}: it runs on the CPU from now on")
            return cast("list[np.ndarray]", self.session.run(outputs, feeds))


@functools.cache
def device_report() -> DeviceReport:
    """Which device models will use, probed once on the tiny bundled probe model."""
    from inference.runtime.paths import resources_dir

    probe = resources_dir() / "models" / "probe.onnx"
    _, report = build_session(probe)
    return report


def versions() -> dict[str, str]:
    ort = _import_ort()
    return {
        "onnxruntime": ort.__version__,
        "providers_available": ", ".join(ort.get_available_providers()),
        "numpy": np.__version__,
    }
