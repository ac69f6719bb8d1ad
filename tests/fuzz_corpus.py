"""Bad files made at test time from real ones, and how MatLens answered each.

Every case is a file a user could plausibly hold (a copy cut short by a full disk, a header
byte flipped by a bad USB stick, a float image full of NaN, a header that claims 60000 × 60000
pixels, a corrupt annotation sidecar, a truncated or booby-trapped model checkpoint) plus the
`matlens` command a user would run on it. Nothing is stored in the repo: the mutants are
written into a temporary folder from ../shared/data and resources/samples.

`python tests/fuzz_corpus.py [--only images,models]` runs the corpus and prints the table the
issue asks for (category | tried | ok | clear error | unclear | traceback | crash | hang).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import pickle
import random
import re
import struct
import sys
import warnings
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from typing import TYPE_CHECKING

from cli_harness import CliRun, run_matlens

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MATLENS_SHARED_DATA", REPO.parent / "shared" / "data"))
FORMATS = SHARED / "microscope_formats" / "rosettasciio"
SAMPLE = REPO / "resources" / "samples" / "superalloy_precipitates.tif"

# Outcomes, in the order of the table's columns.
OK, CLEAR, UNCLEAR, TRACEBACK, CRASH, HANG = "ok", "clear", "unclear", "traceback", "crash", "hang"
COLUMNS = (OK, CLEAR, UNCLEAR, TRACEBACK, CRASH, HANG)

# A Python exception name or a library's inner wording in a message means nobody translated it.
_LIBRARY_WORDS = re.compile(
    r"\b[A-Z][A-Za-z0-9]*(Error|Exception)\b|Unexpected error|mmap length|addr overflow|"
    r"array element with a sequence|decompression bomb|shape \(\)|Errno|miniz|"
    r"PytorchStreamReader|backend to open|iomode|Truncated File Read|truth value"
)


@dataclass(frozen=True)
class FuzzCase:
    """One bad input and the command a user would run on it."""

    category: str  # images, labels, sidecars, models
    kind: str  # truncation, header flip, NaN pixels, zero size, oversized, corrupt, malicious...
    path: Path  # the file the message must name
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    expect_error: bool = False  # True: exit 0 would mean garbage was accepted
    expect_shape: tuple[int, int] | None = None  # exit 0 must report this width, height
    marker: Path | None = None  # a file that must never appear (malicious pickles)

    @property
    def id(self) -> str:
        return f"{self.category}/{self.path.name}"


@dataclass(frozen=True)
class Verdict:
    case: FuzzCase
    outcome: str
    message: str
    run: CliRun


def classify(case: FuzzCase, run: CliRun) -> Verdict:
    """One column of the table for one run, judged as a user would judge it."""
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    message = lines[-1] if lines else run.stdout.strip()[-200:]
    if run.timed_out:
        return Verdict(case, HANG, f"killed after {run.seconds:.0f} s", run)
    if run.returncode < 0 or run.returncode not in (0, 2):
        return Verdict(case, CRASH, f"exit {run.returncode}: {message}", run)
    if "Traceback" in run.stderr:
        return Verdict(case, TRACEBACK, message, run)
    if case.marker is not None and case.marker.exists():
        return Verdict(case, CRASH, f"the pickle ran code: {case.marker} exists", run)
    if run.returncode == 0:
        garbage = case.expect_error or (
            case.expect_shape is not None and not _reports_shape(run.stdout, case.expect_shape)
        )
        if garbage or not run.stdout.strip():
            return Verdict(case, UNCLEAR, f"exit 0 on a broken file: {run.stdout[:160]!r}", run)
        return Verdict(case, OK, run.stdout.strip().splitlines()[-1], run)
    clear = len(lines) == 1 and case.path.name in lines[0] and not _LIBRARY_WORDS.search(lines[0])
    return Verdict(case, CLEAR if clear else UNCLEAR, " | ".join(lines)[-400:], run)


def _reports_shape(stdout: str, shape: tuple[int, int]) -> bool:
    width = re.search(r'"width": (\d+)', stdout)
    height = re.search(r'"height": (\d+)', stdout)
    if not (width and height):
        return True  # nothing to compare with
    return (int(width.group(1)), int(height.group(1))) == shape


def run_case(case: FuzzCase, timeout: float = 120, env: dict[str, str] | None = None) -> Verdict:
    env = {"MATLENS_THREADS": "1", **(env or {}), **case.env}
    return classify(case, run_matlens(*case.argv, timeout=timeout, env=env))


def run_all(
    cases: Iterable[FuzzCase],
    workers: int | None = None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> list[Verdict]:
    """Each case in its own `matlens` process, `workers` at a time (default: one per core).

    The "control" cases (the unmutated files) run first: with a shared MATLENS_CACHE in `env`,
    every mutant whose pixels came through unchanged then reuses their SAM embedding.
    """
    cases = list(cases)
    workers = workers or max(1, os.cpu_count() or 1)
    order = sorted(range(len(cases)), key=lambda i: cases[i].kind != "control")
    controls = [i for i in order if cases[i].kind == "control"]
    verdicts: dict[int, Verdict] = {}

    def run(i: int) -> None:
        verdicts[i] = run_case(cases[i], timeout, env)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, controls))
        list(pool.map(run, [i for i in order if i not in verdicts]))
    return [verdicts[i] for i in range(len(cases))]


def table(verdicts: Iterable[Verdict]) -> str:
    """The markdown table of the issue: one row per category plus the total."""
    rows: dict[str, dict[str, int]] = {}
    for v in verdicts:
        row = rows.setdefault(v.case.category, dict.fromkeys(COLUMNS, 0))
        row[v.outcome] += 1
    total = {c: sum(r[c] for r in rows.values()) for c in COLUMNS}
    head = "| category | tried | " + " | ".join(
        ("ok", "clear error", "unclear", "traceback", "crash", "hang")
    )
    lines = [head + " |", "|" + "---|" * (len(COLUMNS) + 2)]
    for name, row in [*rows.items(), ("all", total)]:
        cells = " | ".join(str(row[c]) for c in COLUMNS)
        lines.append(f"| {name} | {sum(row.values())} | {cells} |")
    return "\n".join(lines)


# --- byte-level mutations -----------------------------------------------------------------------
def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def truncations(data: bytes) -> dict[str, bytes]:
    """The same file cut short where downloads, full disks and killed copies cut it.

    Only "cut1" may still hold every pixel (formats that end in padding or a checksum).
    """
    size = len(data)
    return {
        "cut16": data[:16],
        "cut25pc": data[: size // 4],
        "cut50pc": data[: size // 2],
        "cut90pc": data[: size * 9 // 10],
        "cut1": data[:-1],
    }


def byte_flips(data: bytes, seed: int, count: int, window: int) -> dict[str, bytes]:
    """`count` files, each with one byte inverted at a seeded offset in the first `window` bytes."""
    rng = random.Random(seed)
    out = {}
    for _ in range(count):
        offset = rng.randrange(min(window, len(data)))
        mutated = bytearray(data)
        mutated[offset] ^= 0xFF
        out[f"flip{offset}"] = bytes(mutated)
    return out


def _tiff_entries(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    """(byte order, [(tag, offset of the entry's value field)]) of the first IFD."""
    order = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    entries = []
    for i in range(count):
        start = ifd + 2 + 12 * i
        tag = struct.unpack(order + "H", data[start : start + 2])[0]
        entries.append((tag, start + 8))
    return order, entries


# Width, height, samples per pixel, rows per strip, strip byte counts.
_ZEROED = (256, 257, 277, 278, 279)
# The tags whose values shape the pixels, plus two that must not matter (description, resolution).
_TIFF_TAGS = (256, 257, 258, 259, 262, 270, 273, 277, 278, 279, 282, 284)


def tiff_header_flips(data: bytes, tags: Iterable[int] | None = None) -> dict[str, bytes]:
    """Each IFD entry's value with its low byte, then its second byte, inverted.

    Width, height, bits, samples, strip offsets and byte counts are where a flipped bit turns
    a good file into garbage that still parses.
    """
    order, entries = _tiff_entries(data)
    wanted = set(tags) if tags is not None else None
    out = {}
    for tag, value_at in entries:
        if wanted is not None and tag not in wanted:
            continue
        for which in (0, 1):
            byte = value_at + (which if order == "<" else 3 - which)
            mutated = bytearray(data)
            mutated[byte] ^= 0xFF
            out[f"tag{tag}b{which}"] = bytes(mutated)
        if tag in _ZEROED:  # a count of zero is where readers divide by zero
            mutated = bytearray(data)
            mutated[value_at : value_at + 4] = bytes(4)
            out[f"tag{tag}zero"] = bytes(mutated)
    for offset in range(8):  # the byte order, the magic number and the first IFD's offset
        mutated = bytearray(data)
        mutated[offset] ^= 0xFF
        out[f"head{offset}"] = bytes(mutated)
    swapped = bytearray(data)
    swapped[:2] = b"MM" if data[:2] == b"II" else b"II"
    out["byteorder"] = bytes(swapped)
    return out


def tiff_with_dims(data: bytes, width: int, height: int) -> bytes:
    order, entries = _tiff_entries(data)
    mutated = bytearray(data)
    for tag, value_at in entries:
        if tag in (256, 257):
            value = width if tag == 256 else height
            mutated[value_at : value_at + 4] = struct.pack(order + "I", value)
    return bytes(mutated)


def png_with_dims(data: bytes, width: int, height: int) -> bytes:
    """The IHDR chunk rewritten (with a valid CRC) to claim another size."""
    ihdr = bytearray(data[8 + 8 : 8 + 8 + 13])
    ihdr[0:8] = struct.pack(">II", width, height)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(ihdr)) & 0xFFFFFFFF)
    return data[:16] + bytes(ihdr) + crc + data[16 + 13 + 4 :]


def mrc_with_dims(data: bytes, nx: int, ny: int) -> bytes:
    return struct.pack("<ii", nx, ny) + data[8:]


# --- the corpus ---------------------------------------------------------------------------------
def _segment(path: Path, out_dir: Path, **kw) -> FuzzCase:
    out = out_dir / f"{path.name}.mask.png"
    argv = ("segment", str(path), "--point", "0,0", "--out", str(out), "--json")
    return FuzzCase(path=path, argv=argv, **kw)


def _shared(*parts: str) -> Path | None:
    path = FORMATS.joinpath(*parts)
    return path if path.is_file() else None


def image_cases(folder: Path) -> list[FuzzCase]:
    """Truncations, header flips, NaN and zero pixels, zero-size files, oversized headers."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "out"
    out.mkdir(exist_ok=True)
    cases: list[FuzzCase] = []

    def add(name: str, data: bytes, kind: str, **kw) -> None:
        cases.append(_segment(_write(folder, name, data), out, category="images", kind=kind, **kw))

    sample = SAMPLE.read_bytes()
    grey = tifffile.imread(SAMPLE)[..., 0]
    width_height = (grey.shape[1], grey.shape[0])
    for tag, data in tiff_header_flips(sample, _TIFF_TAGS).items():
        add(f"superalloy_{tag}.tif", data, "header flip", expect_shape=width_height)
    for cut, data in truncations(sample).items():
        add(f"superalloy_{cut}.tif", data, "truncation", **_cut_expectation(cut, width_height))

    mask = SHARED / "segmentation" / "nasa_micronet" / "Super1" / "test_annot"
    masks = sorted(mask.glob("*_mask.tif")) if mask.is_dir() else []
    if masks:  # RGBA in four strips: flips in the strip tables
        rgba = masks[0].read_bytes()
        flips = tiff_header_flips(rgba, tags=(256, 257, 258, 273, 277, 278, 279))
        for tag, data in flips.items():
            if tag.startswith("tag"):
                add(f"mask_{tag}.tif", data, "header flip", expect_shape=(512, 512))

    # Pixels a detector or a bad export can hold.
    nan = grey.astype(np.float32)
    nan[100:200, 100:300] = np.nan
    pixels = {
        "nan_block.tif": nan,
        "all_nan.tif": np.full(grey.shape, np.nan, np.float32),
        "inf_pixels.tif": np.where(grey > 128, np.inf, -np.inf).astype(np.float32),
        "constant_zero.tif": np.zeros(grey.shape, np.uint16),
        "one_pixel.tif": grey[:1, :1],
        "one_row.tif": grey[:1, :],
    }
    for name, array in pixels.items():
        buffer = io.BytesIO()
        tifffile.imwrite(buffer, array)
        h, w = array.shape
        add(
            name,
            buffer.getvalue(),
            "NaN pixels" if "n" in name[:3] else "odd pixels",
            expect_shape=(w, h),
        )
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # tifffile warns that it writes a nonconformant TIFF: wanted
        warnings.simplefilter("ignore")
        tifffile.imwrite(buffer, np.zeros((0, 16), np.uint8))
    add("zero_width.tif", buffer.getvalue(), "zero size", expect_error=True)

    import imageio.v3 as iio

    png = iio.imwrite("<bytes>", grey, extension=".png")
    jpeg = iio.imwrite("<bytes>", grey, extension=".jpg")
    add("superalloy.png", png, "control", expect_shape=width_height)
    add("superalloy.tif", sample, "control", expect_shape=width_height)
    for cut, data in truncations(png).items():
        add(f"superalloy_{cut}.png", data, "truncation", **_cut_expectation(cut, width_height))
    for cut, data in truncations(jpeg).items():
        if cut in ("cut16", "cut50pc"):
            add(f"superalloy_{cut}.jpg", data, "truncation", expect_error=cut == "cut16")

    # Headers that promise far more pixels than the file holds (or memory can take).
    add("huge_dims.tif", tiff_with_dims(sample, 60000, 60000), "oversized", expect_error=True)
    add("huge_dims.png", png_with_dims(png, 100000, 100000), "oversized", expect_error=True)

    for suffix in (".tif", ".png", ".dm3", ".dm4", ".emd", ".mrc", ".ser"):
        add(f"empty{suffix}", b"", "zero size", expect_error=True)

    vendor = {
        "STEM.dm3": _shared("digitalmicrograph", "2D", "test_STEM_image.dm3"),
        "test-1.dm4": _shared("digitalmicrograph", "2D", "test-1.dm4"),
        "example_image.emd": _shared("emd", "example_image.emd"),
        "fei_example_tem_stack.emd": _shared("emd", "fei_example_tem_stack.emd"),
        "HAADFscan.mrc": _shared("mrc", "HAADFscan.mrc"),
        "TEM_search_1.ser": _shared("tia", "new", "128x128-TEM_search_1.ser"),
        "detector.hspy": SHARED / "microscope_formats" / "atomap" / "example_detector_image.hspy",
    }
    for seed, (name, source) in enumerate(vendor.items()):
        if source is None or not source.is_file():
            continue
        data = source.read_bytes()
        stem, suffix = name.rsplit(".", 1)
        shape = _shape_of(source)
        # The original first: it must open, and its embedding serves every harmless flip.
        add(name, data, "control", expect_shape=shape)
        for cut, cut_data in truncations(data).items():
            add(f"{stem}_{cut}.{suffix}", cut_data, "truncation", **_cut_expectation(cut, shape))
        window = 4096 if suffix in ("dm3", "dm4") else 1024
        for flip, flip_data in byte_flips(data, seed, 4, window).items():
            add(f"{stem}_{flip}.{suffix}", flip_data, "header flip", expect_shape=shape)
        if suffix == "mrc":
            add("huge_dims.mrc", mrc_with_dims(data, 50000, 50000), "oversized", expect_error=True)
    return cases


def _cut_expectation(cut: str, shape: tuple[int, int] | None) -> dict:
    """A file cut by one byte may be whole (trailing padding): then it must read at its size."""
    return {"expect_shape": shape} if cut == "cut1" else {"expect_error": True}


def _shape_of(source: Path) -> tuple[int, int] | None:
    """(width, height) of the original, as MatLens reads it."""
    from inference.imaging.io import read_micrograph

    try:
        height, width = read_micrograph(source).shape
    except Exception:  # noqa: BLE001 - no expectation rather than a wrong one
        return None
    return width, height


def label_cases(folder: Path) -> list[FuzzCase]:
    """`matlens measure IMAGE LABELS` with label images a user might hand it."""
    folder.mkdir(parents=True, exist_ok=True)
    import imageio.v3 as iio

    image = folder / "superalloy.tif"
    image.write_bytes(SAMPLE.read_bytes())
    labels = np.zeros((512, 512), np.uint16)
    labels[100:200, 100:200] = 1
    labels[300:350, 50:400] = 2
    good = iio.imwrite("<bytes>", labels, extension=".png")
    cases = []

    def add(name: str, data: bytes, kind: str, expect_error: bool = True) -> None:
        path = _write(folder, name, data)
        csv = folder / f"{name}.csv"
        argv = ("measure", str(image), str(path), "--csv", str(csv), "--json")
        cases.append(FuzzCase("labels", kind, path, argv, expect_error=expect_error))

    add("labels.png", good, "control", expect_error=False)
    for cut, data in truncations(good).items():
        add(f"labels_{cut}.png", data, "truncation", expect_error=cut != "cut1")
    add("labels_empty.png", b"", "zero size")
    add("labels_float.tif", _tiff_bytes(labels.astype(np.float32)), "wrong type")
    add(
        "labels_rgb.png",
        iio.imwrite("<bytes>", np.zeros((512, 512, 3), np.uint8), extension=".png"),
        "wrong type",
        expect_error=False,
    )
    add(
        "labels_small.png", iio.imwrite("<bytes>", labels[:10, :10], extension=".png"), "wrong size"
    )
    add("labels_huge_dims.png", png_with_dims(good, 100000, 100000), "oversized")

    # `segment` on a 1×1 image writes a 1×1 uint8 mask; `measure` must take it back.
    pixel = folder / "one_pixel.tif"
    tifffile.imwrite(pixel, tifffile.imread(SAMPLE)[:1, :1, 0])
    mask = _write(
        folder,
        "one_pixel_mask.png",
        iio.imwrite("<bytes>", np.full((1, 1), 255, np.uint8), extension=".png"),
    )
    argv = ("measure", str(pixel), str(mask), "--csv", str(folder / "one.csv"), "--json")
    cases.append(FuzzCase("labels", "odd pixels", mask, argv))
    return cases


def _tiff_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array)
    return buffer.getvalue()


class _Malicious:
    """Unpickling this runs `touch MARKER`; a safe loader must refuse it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def model_cases(folder: Path) -> list[FuzzCase]:
    """Checkpoints for `matlens models import`, and a models folder with a damaged ONNX file."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[FuzzCase] = []
    user = folder / "user_models"

    def add(name: str, data: bytes, kind: str, marker: Path | None = None) -> None:
        path = _write(folder, name, data)
        argv = ("models", "import", str(path), "--type", "vit_b")
        env = {"MATLENS_MODELS": str(user)}  # nothing lands in the real models folder
        cases.append(FuzzCase("models", kind, path, argv, env, expect_error=True, marker=marker))

    add("empty.pth", b"", "zero size")
    add("random.pth", random.Random(1).randbytes(4096), "corrupt")
    add("not_a_zip.pt", b"PK\x03\x04" + b"\x00" * 200, "corrupt")
    marker = folder / "PICKLE_RAN"
    add("malicious_pickle.pth", pickle.dumps({"model": _Malicious(marker)}), "malicious", marker)
    # Protocol 2 names os.system as a GLOBAL: what torch's safe loader recognises and refuses.
    add(
        "malicious_global.pth",
        pickle.dumps({"model": _Malicious(marker)}, protocol=2),
        "malicious",
        marker,
    )
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:  # torch's zip layout with a booby-trapped data.pkl
        zf.writestr("archive/data.pkl", pickle.dumps(_Malicious(marker)))
        zf.writestr("archive/version", "3\n")
    add("malicious_zip.pth", zipped.getvalue(), "malicious", marker)
    checkpoint = _real_checkpoint()
    if checkpoint is not None:
        data = checkpoint.read_bytes()
        add("mobile_sam_cut50pc.pt", data[: len(data) // 2], "truncation")
        add("mobile_sam_gz.pt", gzip.compress(data[:4096]), "corrupt")

    models = Path(os.environ.get("MATLENS_MODELS", Path.home() / ".local/share/MatLens/models"))
    encoder = models / "mobile_sam_encoder.onnx"
    if encoder.is_file():
        broken = folder / "broken_models"
        broken.mkdir(exist_ok=True)
        for item in models.iterdir():
            target = broken / item.name
            if item.name == encoder.name:
                target.write_bytes(encoder.read_bytes()[: encoder.stat().st_size // 3])
            elif not target.exists():
                target.symlink_to(item)
        sample = folder / "sample.tif"
        sample.write_bytes(SAMPLE.read_bytes())
        argv = ("segment", str(sample), "--point", "10,10", "--out", str(folder / "m.png"))
        cases.append(
            FuzzCase(
                "models",
                "corrupt",
                broken / encoder.name,
                argv,
                {"MATLENS_MODELS": str(broken)},
                expect_error=True,
            )
        )
    return cases


def _real_checkpoint() -> Path | None:
    try:
        from inference.export.sam import default_checkpoint

        return default_checkpoint()
    except Exception:  # noqa: BLE001 - the weights package is optional for the corpus
        return None


# --- sidecars: the Micrographs pane opens them with sidecar.open_for_image --------------------
_SIDECAR_PROBE = """
import json, sys
from pathlib import Path
from inference.imaging.io import read_micrograph
from inference.segmentation import sidecar
from inference.segmentation.annotations import ImageIdentity
from inference.errors import describe
for line in sys.stdin:
    image = Path(line.strip())
    m = read_micrograph(image)
    try:
        opened = sidecar.open_for_image(image, ImageIdentity.of_file(image), m.shape, m.calibration)
        print(json.dumps({"image": str(image), "objects": len(opened.annotations),
                          "notice": opened.notice}), flush=True)
    except Exception as exc:
        print(json.dumps({"image": str(image), "error": describe(exc).message}), flush=True)
"""


def _real_sidecar(image: Path) -> bytes:
    """A sidecar with the ground-truth precipitates of a real Super1 image, as the pane saves it."""
    from inference.segmentation import sidecar
    from inference.segmentation.annotations import ImageIdentity
    from inference.segmentation.labels import annotations_from_labels

    gt = SHARED / "segmentation" / "nasa_micronet" / "Super1" / "test_annot" / "spot2_0d_0_mask.tif"
    if gt.is_file():
        from scipy import ndimage

        rgba = tifffile.imread(gt)
        red = (rgba[..., 0] == 255) & (rgba[..., 1] == 0) & (rgba[..., 2] == 0)
        labels = cast("tuple[np.ndarray, int]", ndimage.label(red))[0].astype(np.uint16)
    else:
        labels = np.zeros((512, 512), np.uint16)
        labels[100:140, 100:140] = 1
    annotations = annotations_from_labels(labels, ImageIdentity.of_file(image))
    path = image.with_name(image.name + sidecar.SUFFIX)
    sidecar.save(annotations, path)
    data = path.read_bytes()
    path.unlink()
    return data


def sidecar_contents(good: bytes) -> dict[str, bytes]:
    """Corrupt sidecars: what crashes, bad editors, full disks and bad sync tools leave."""
    import json

    data = json.loads(good)

    def edited(**changes) -> bytes:
        copy = json.loads(good)
        for key, value in changes.items():
            target = copy
            *path, last = key.split("__")
            for part in path:
                target = target[int(part)] if part.isdigit() else target[part]
            target[last] = value
        return json.dumps(copy).encode()

    contents = {f"sidecar_{k}": v for k, v in truncations(good).items()}
    contents.update({f"sidecar_{k}": v for k, v in byte_flips(good, 7, 6, len(good)).items()})
    contents.update(
        {
            "sidecar_empty": b"",
            "sidecar_nul": b"\x00" * 64,
            "sidecar_latin1": good.replace(b'"grain"', b'"gr\xe4in"').replace(
                b'"object"', b'"\xe4"'
            ),
            "sidecar_bom": b"\xef\xbb\xbf" + good,  # an editor's BOM: must still load
            "sidecar_nested": b"[" * 100_000 + b"]" * 100_000,
            "sidecar_null": b"null",
            "sidecar_list": b"[]",
            "sidecar_newer": edited(format_version=99),
            "sidecar_version_text": edited(format_version="1"),
            "sidecar_other_size": edited(image__shape=[256, 256]),
            "sidecar_zero_size": edited(image__shape=[0, 0]),
            "sidecar_huge_object": edited(
                objects__0__size=[100000, 100000], objects__0__rle=[0, 10**10]
            ),
            "sidecar_negative_offset": edited(objects__0__offset=[-5, -5]),
            "sidecar_nan_pixel": edited(calibration__pixel_size=float("nan")),
            "sidecar_bad_runs": edited(objects__0__rle=[1, 2, 3]),
            "sidecar_bad_colour": edited(classes__0__colour=[300, -1, 0]),
            "sidecar_bad_examples": edited(phase_examples=[{"class": "a", "points": [[1, "x"]]}]),
            "sidecar_no_objects_key": json.dumps(
                {k: v for k, v in data.items() if k != "objects"}
            ).encode(),
        }
    )
    return contents


def sidecar_cases(folder: Path) -> list[FuzzCase]:
    """One copy of a real micrograph per corrupt sidecar, the sidecar beside it."""
    from inference.segmentation import sidecar

    folder.mkdir(parents=True, exist_ok=True)
    source = SHARED / "segmentation" / "nasa_micronet" / "Super1" / "test" / "spot2_0d_0.tif"
    source = source if source.is_file() else SAMPLE
    first = folder / "control.tif"
    first.write_bytes(source.read_bytes())
    good = _real_sidecar(first)
    cases = []
    for name, content in {"sidecar_control": good, **sidecar_contents(good)}.items():
        image = folder / f"{name}.tif"
        image.write_bytes(source.read_bytes())
        beside = image.with_name(image.name + sidecar.SUFFIX)
        beside.write_bytes(content)
        kind = "control" if name in ("sidecar_control", "sidecar_bom") else "corrupt"
        cases.append(FuzzCase("sidecars", kind, beside, (str(image),)))
    return cases


def run_sidecars(
    cases: list[FuzzCase], prefix: Sequence[str] = (), timeout: float = 300
) -> list[Verdict]:
    """All sidecar cases in one child (as the pane's loader runs them), judged like CLI runs."""
    import json
    import subprocess
    import time

    started = time.perf_counter()
    child = subprocess.run(
        [*prefix, sys.executable, "-c", _SIDECAR_PROBE],
        input="".join(f"{c.argv[0]}\n" for c in cases),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )
    answers = {}
    for line in child.stdout.splitlines():
        with_result = json.loads(line)
        answers[with_result["image"]] = with_result
    verdicts = []
    for case in cases:
        answer = answers.get(case.argv[0])
        if answer is None:
            run = CliRun(case.argv, child.returncode, "", child.stderr, 0.0, 0.0, False)
            outcome = CRASH if child.returncode < 0 else TRACEBACK
            verdicts.append(Verdict(case, outcome, child.stderr[-300:], run))
            continue
        notice = answer.get("notice") or ""
        error = answer.get("error")
        message = error or notice or f"{answer['objects']} objects"
        run = CliRun(
            case.argv,
            2 if error else 0,
            json.dumps(answer),
            "",
            0.0,
            time.perf_counter() - started,
            False,
        )
        if error:
            outcome = UNCLEAR
        elif case.kind == "control":
            outcome = OK if answer["objects"] > 0 and not notice else UNCLEAR
        else:
            named = case.path.name in notice and "\n" not in notice
            outcome = CLEAR if named and not _LIBRARY_WORDS.search(notice) else UNCLEAR
        verdicts.append(Verdict(case, outcome, message, run))
    return verdicts


def run_read_only_sidecars(folder: Path) -> list[Verdict]:
    """The corrupt sidecars again, in a folder that is read-only for the child that opens them."""
    from read_only import read_only_prefix

    cases = [
        dataclasses.replace(c, category="sidecars, read-only folder") for c in sidecar_cases(folder)
    ]
    prefix = read_only_prefix(folder)
    if not prefix:
        folder.chmod(0o555)
    try:
        return run_sidecars(cases, prefix)
    finally:
        folder.chmod(0o755)


BUILDERS: dict[str, Callable[[Path], list[FuzzCase]]] = {
    "images": image_cases,
    "labels": label_cases,
    "models": model_cases,
}


def build(folder: Path, only: Iterable[str] | None = None) -> list[FuzzCase]:
    """The CLI cases (images, labels, models); sidecars are built by `sidecar_cases`."""
    names = list(only) if only else list(BUILDERS)
    return [case for name in names if name in BUILDERS for case in BUILDERS[name](folder / name)]


def main(argv: list[str]) -> int:
    import argparse
    import tempfile
    import time

    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated categories")
    parser.add_argument("--show", default="clear,unclear,traceback,crash,hang")
    args = parser.parse_args(argv)
    only = [c for c in args.only.split(",") if c] or None
    with tempfile.TemporaryDirectory(prefix="matlens-fuzz-") as tmp:
        cases = build(Path(tmp), only)
        started = time.perf_counter()
        from inference.runtime.paths import models_dir

        shared_env = {
            "MATLENS_MODELS": str(models_dir()),
            "MATLENS_CACHE": str(Path(tmp) / "cache"),
            "MATLENS_LOGS": str(Path(tmp) / "logs"),
            "MATLENS_DATA": str(Path(tmp) / "data"),
        }
        verdicts = run_all(cases, env=shared_env)
        if only is None or "sidecars" in only:
            os.environ.update(shared_env)
            verdicts += run_sidecars(sidecar_cases(Path(tmp) / "sidecars"))
            verdicts += run_read_only_sidecars(Path(tmp) / "read_only")
        seconds = time.perf_counter() - started
        show = set(args.show.split(","))
        for v in verdicts:
            if v.outcome in show:
                print(f"{v.outcome:9} {v.case.id}: {v.message}")
        print()
        print(table(verdicts))
        print(f"\n{len(cases)} CLI cases in {seconds:.0f} s on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
