"""Annotations saved as a JSON sidecar next to the image, written atomically.

Format (``format_version`` 2; version 1 files, which have no ``phase_examples``, still load)::

    {"format_version": 2, "app": "MatLens 0.1.0",
     "image": {"file_name": "a.tif", "sha256": "...", "shape": [height, width]},
     "calibration": {"pixel_size": 0.01, "unit": "µm", "source": "FEI tags"},
     "classes": [{"name": "grain", "colour": [0, 114, 178]}, ...],
     "next_id": 13,
     "objects": [{"id": 1, "class": "grain", "offset": [y0, x0], "size": [h, w],
                  "rle": [0, 3, 5, ...], "score": 0.97, "points": [[x, y, 1]],
                  "box": [x0, y0, x1, y1] or null, "visible": true, "source": "sam"}],
     "phase_examples": [{"class": "matrix", "points": [[x, y], ...]}, ...]}

Masks: ``rle`` run-length encodes the object's cropped mask (``size`` = [h, w]) flattened in
row-major (C) order, as alternating run lengths starting with a run of False (which may be 0).
Row-major matches numpy, and cropping keeps the runs short; COCO's column-major full-image RLE
is produced only by the COCO export.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference import __version__
from inference.errors import MatLensError, UnreadableFile
from inference.imaging.calibration import Calibration
from inference.runtime.paths import user_data_dir
from inference.segmentation.annotations import (
    AnnotatedObject,
    AnnotationSet,
    ImageIdentity,
    ObjectClass,
)
from inference.segmentation.saved_examples import examples_from_json, examples_to_json

FORMAT_VERSION = 2  # 2: phase_examples
SUFFIX = ".matlens.json"
# A save's temp file lives for milliseconds; one this old was left by a killed save.
LEFTOVER_AGE_S = 60.0


# --- where ------------------------------------------------------------------------------------
def sidecar_path(image_path: str | Path) -> Path:
    """Where to save: `<image>.matlens.json` beside the image, or the user folder if read-only."""
    image_path = Path(image_path)
    beside = image_path.with_name(image_path.name + SUFFIX)
    return beside if _writable(beside) else fallback_path(image_path)


def fallback_path(image_path: str | Path) -> Path:
    """`user_data_dir()/annotations/<sha256 of the absolute path>.matlens.json`."""
    key = os.path.normcase(str(Path(image_path).resolve()))
    name = hashlib.sha256(key.encode("utf-8")).hexdigest() + SUFFIX
    return user_data_dir() / "annotations" / name


def find_sidecar(image_path: str | Path) -> Path | None:
    """The sidecar to open: the newer of the one beside the image and the fallback, if any."""
    image_path = Path(image_path)
    candidates = [image_path.with_name(image_path.name + SUFFIX), fallback_path(image_path)]
    found = [p for p in candidates if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime_ns) if found else None


def _writable(target: Path) -> bool:
    """Try it: os.access ignores ACLs on Windows and read-only network shares."""
    if target.exists():
        return os.access(target, os.W_OK) and _can_create_in(target.parent)
    return _can_create_in(target.parent)


def _can_create_in(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


# --- save -------------------------------------------------------------------------------------
def save(annotations: AnnotationSet, path: str | Path) -> None:
    """Write atomically: a temp file in the same folder, fsync, then os.replace.

    A crash or a full disk leaves the previous file as it was.
    """
    path = Path(path)
    text = json.dumps(to_dict(annotations), ensure_ascii=False, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise MatLensError(f"Cannot save annotations in {path.parent}: {_reason(exc)}") from exc
    try:
        _share_like(fd, path)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise MatLensError(f"Cannot save annotations to {path}: {_reason(exc)}") from exc
        raise
    _fsync_folder(path.parent)


def _share_like(fd: int, path: Path) -> None:
    """The permissions a new file gets under the umask (0644 under 022), or the old file's.

    mkstemp makes its file 0600, which left sidecars unreadable to colleagues sharing a folder.
    """
    if not hasattr(os, "fchmod"):  # Windows: ACLs, not mode bits, decide who reads it
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.fchmod(fd, mode)


def _umask() -> int:
    """The process umask now, read without changing it where Linux says it (/proc/self/status)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: set and restore at once, the only portable way
    os.umask(mask)
    return mask


def _replace(src: str, dst: Path) -> None:
    """os.replace, retried briefly on Windows where a virus scanner may hold the old file."""
    for attempt in range(5):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open folders)."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _reason(exc: OSError) -> str:
    return exc.strerror or " ".join(str(exc).split()) or type(exc).__name__


def to_dict(annotations: AnnotationSet) -> dict:
    cal = annotations.calibration
    return {
        "format_version": FORMAT_VERSION,
        "app": f"MatLens {__version__}",
        "image": {
            "file_name": annotations.image.file_name,
            "sha256": annotations.image.sha256,
            "shape": list(annotations.shape),
        },
        "calibration": {"pixel_size": cal.pixel_size, "unit": cal.unit, "source": cal.source},
        "classes": [{"name": c.name, "colour": list(c.colour)} for c in annotations.classes],
        "next_id": annotations.next_id(),
        "objects": [_object_dict(o) for o in annotations.objects],
        "phase_examples": examples_to_json(annotations.phase_examples),
    }


def _object_dict(obj: AnnotatedObject) -> dict:
    return {
        "id": obj.id,
        "class": obj.class_name,
        "offset": list(obj.offset),
        "size": list(obj.mask.shape),
        "rle": rle_encode(obj.mask),
        "score": obj.score,
        "points": [[float(x), float(y), int(label)] for x, y, label in obj.points],
        "box": None if obj.box is None else list(obj.box),
        "visible": obj.visible,
        "source": obj.source,
    }


def rle_encode(mask: np.ndarray) -> list[int]:
    """Row-major run lengths, starting with a (possibly empty) run of False."""
    flat = np.ascontiguousarray(mask, dtype=bool).ravel()
    if flat.size == 0:
        return []
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def rle_decode(runs: list[int], size: tuple[int, int]) -> np.ndarray:
    counts = np.asarray(runs, dtype=np.int64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() != size[0] * size[1]:
        raise ValueError(f"run lengths do not add up to a {size[0]}x{size[1]} mask")
    values = np.arange(counts.size) % 2 == 1
    return np.repeat(values, counts).reshape(size)


# --- load -------------------------------------------------------------------------------------
class ShapeMismatch(UnreadableFile):
    """The sidecar belongs to an image of another size."""

    def __init__(self, message: str, found: tuple[int, int]) -> None:
        super().__init__(message)
        self.found = found


def load(path: str | Path, expect_shape: tuple[int, int] | None = None) -> AnnotationSet:
    """Read and validate a sidecar; any problem is one UnreadableFile line.

    With `expect_shape` (the image's height, width), a sidecar of another size is refused
    before any mask is decoded, and no mask may reach outside the image: a damaged size can
    then never ask for gigabytes.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # tolerate a BOM from an editor
        return from_dict(data, expect_shape, path.name)
    except UnreadableFile:
        raise
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"Annotations {path.name} are corrupt (not UTF-8 text at byte {exc.start})"
        ) from exc
    except OSError as exc:
        raise UnreadableFile(f"Cannot read annotations {path.name}: {_reason(exc)}") from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"Annotations {path.name} are corrupt (invalid JSON at line {exc.lineno}, "
            f"column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise UnreadableFile(f"Annotations {path.name} are corrupt (nested too deep)") from exc
    except MemoryError as exc:
        raise UnreadableFile(f"Annotations {path.name} are too large to open") from exc
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        raise UnreadableFile(f"Annotations {path.name} are corrupt: {_one_line(exc)}") from exc


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError):
        text = f"missing {text}"
    return text[:200] or type(exc).__name__


def from_dict(
    data: dict, expect_shape: tuple[int, int] | None = None, name: str = "annotations"
) -> AnnotationSet:
    if not isinstance(data, dict) or "format_version" not in data:
        raise ValueError("not a MatLens annotation file")
    version = data["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"format_version {version!r} is not a version number")
    if version > FORMAT_VERSION:
        raise UnreadableFile(
            f"Annotations {name} were written by a newer MatLens (format {version}); update MatLens"
        )
    image = data["image"]
    shape = (int(image["shape"][0]), int(image["shape"][1]))
    if min(shape) < 1:
        raise ValueError(f"the image size {shape[1]}x{shape[0]} is not an image size")
    if expect_shape is not None and shape != tuple(expect_shape):
        raise ShapeMismatch(
            f"Annotations {name} were drawn on a {shape[1]}x{shape[0]} image", found=shape
        )
    cal = data.get("calibration") or {}
    calibration = Calibration(
        float(cal.get("pixel_size", 1.0)), str(cal.get("unit", "px")), str(cal.get("source", ""))
    )
    if not calibration.pixel_size > 0:
        raise ValueError("the pixel size must be positive")
    classes = [ObjectClass(str(c["name"]), _rgb(c["colour"])) for c in data["classes"]]
    objects = [_object(o, shape) for o in data["objects"]]
    return AnnotationSet(
        shape,
        ImageIdentity(str(image["file_name"]), str(image["sha256"])),
        calibration,
        classes,
        objects,
        next_id=int(data.get("next_id", 1)),
        phase_examples=examples_from_json(data.get("phase_examples", [])),
    )


def _rgb(value) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in value)
    if not all(0 <= v <= 255 for v in (r, g, b)):
        raise ValueError(f"colour {value} is not RGB")
    return r, g, b


def _object(o: dict, shape: tuple[int, int]) -> AnnotatedObject:
    size = (int(o["size"][0]), int(o["size"][1]))
    offset = (int(o["offset"][0]), int(o["offset"][1]))
    if not all(offset[i] >= 0 and size[i] > 0 and offset[i] + size[i] <= shape[i] for i in (0, 1)):
        raise ValueError(f"object {o.get('id')} lies outside the {shape[1]}x{shape[0]} image")
    mask = rle_decode(o["rle"], size)
    box = o.get("box")
    return AnnotatedObject(
        id=int(o["id"]),
        class_name=str(o["class"]),
        mask=mask,
        offset=offset,
        score=None if o.get("score") is None else float(o["score"]),
        points=tuple((float(x), float(y), int(lab)) for x, y, lab in o.get("points", [])),
        box=None if box is None else (float(box[0]), float(box[1]), float(box[2]), float(box[3])),
        visible=bool(o.get("visible", True)),
        source=str(o.get("source", "")),
    )


# --- corrupt files ----------------------------------------------------------------------------
def set_aside(path: str | Path, tag: str = "corrupt") -> Path:
    """Rename a sidecar that cannot be used to `<name>.corrupt` (or `.corrupt-2`, ...).

    The user's work may still be recoverable by hand, so it is never overwritten.
    """
    path = Path(path)
    target = path.with_name(f"{path.name}.{tag}")
    n = 2
    while target.exists():
        target = path.with_name(f"{path.name}.{tag}-{n}")
        n += 1
    os.replace(path, target)
    return target


@dataclass(frozen=True)
class Opened:
    """The annotations for an image and, when something needs saying, a one-line notice."""

    annotations: AnnotationSet
    notice: str | None = None


def open_for_image(
    image_path: str | Path,
    image: ImageIdentity,
    shape: tuple[int, int],
    calibration: Calibration | None = None,
) -> Opened:
    """Load the image's sidecar, or start empty; a corrupt or mismatched one is set aside.

    A calibration the user chose (drawn over the scale bar, a batch recipe's or the command
    line's size) stored in the sidecar wins over `calibration` (from metadata). One the sidecar
    only copied from the file's metadata does not: when the metadata now reads otherwise (a
    reader mended since, as DM-saved TIFFs whose height was taken for the pixel width), the
    file's reading is used and the notice says so. In a read-only folder a bad sidecar cannot be renamed: it is left
    untouched and the next candidate (the user-folder copy, where edits then go) is tried.
    Temp files that a killed save left behind are removed first.
    """
    remove_leftovers(image_path)
    empty = AnnotationSet(shape, image, calibration)
    notices: list[str] = []
    for path in _candidates(image_path):
        try:
            found = load(path, expect_shape=(int(shape[0]), int(shape[1])))
        except ShapeMismatch as exc:
            notices.append(_put_aside(path, "mismatch", str(exc), image_path))
            continue
        except UnreadableFile as exc:
            notices.append(_put_aside(path, "corrupt", str(exc), image_path))
            continue
        if found.image.sha256 != image.sha256:
            notices.append(
                f"{image.file_name} changed since its annotations were saved; check them"
            )
            found.image = image
        if calibration is not None and _metadata_changed(found.calibration, calibration):
            notices.append(
                f"the scale saved with these annotations ({_scale(found.calibration)}) is not "
                f"what the file's metadata says now ({_scale(calibration)}); the file's is used"
            )
            found.calibration = calibration
        return Opened(found, "; ".join(notices) or None)
    return Opened(empty, "; ".join(notices) or None)


# Calibration sources a person chose; every other source is a copy of the file's metadata.
USER_CALIBRATION_SOURCES = frozenset({"manual", "recipe", "command line"})


def _metadata_changed(saved: Calibration, metadata: Calibration) -> bool:
    return saved.source not in USER_CALIBRATION_SOURCES and saved != metadata


def chosen_scale(image_path: str | Path) -> tuple[Calibration, int] | None:
    """The scale a person chose (`USER_CALIBRATION_SOURCES`) saved in an image's sidecar, with
    the sidecar's time (ns), or None; only that part of the file is read (no mask is decoded),
    and an unreadable sidecar counts as none."""
    for path in _candidates(image_path):
        try:
            cal = json.loads(path.read_text(encoding="utf-8")).get("calibration") or {}
            calibration = Calibration(
                float(cal["pixel_size"]), str(cal["unit"]), str(cal.get("source", ""))
            )
            mtime = path.stat().st_mtime_ns
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if calibration.source in USER_CALIBRATION_SOURCES and calibration.pixel_size > 0:
            return calibration, mtime
    return None


def _scale(calibration: Calibration) -> str:
    if not calibration.calibrated:
        return "uncalibrated"
    return f"{calibration.pixel_size:.4g} {calibration.unit}/px, {calibration.source}"


def _candidates(image_path: str | Path) -> list[Path]:
    """The sidecar beside the image and the user-folder one, newest first."""
    image_path = Path(image_path)
    paths = [image_path.with_name(image_path.name + SUFFIX), fallback_path(image_path)]
    found = [p for p in paths if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def _put_aside(path: Path, tag: str, problem: str, image_path: str | Path) -> str:
    """Rename a bad sidecar out of the way, or say why it stays; the notice for the user."""
    try:
        kept = set_aside(path, tag)
    except OSError:
        where = sidecar_path(image_path).parent
        return (
            f"{problem}; its folder is read-only, so it was left untouched and new annotations "
            f"are saved in {where}"
        )
    return f"{problem}; kept as {kept.name} and started afresh"


def remove_leftovers(image_path: str | Path, older_than_s: float = LEFTOVER_AGE_S) -> list[Path]:
    """Delete the hidden `.NAME.matlens.json.*.tmp` files of saves that were killed midway.

    Only files older than `older_than_s` go: a save running in another MatLens right now keeps
    its temp file. A read-only folder keeps them too.
    """
    image_path = Path(image_path)
    removed = []
    now = time.time()
    for sidecar in (image_path.with_name(image_path.name + SUFFIX), fallback_path(image_path)):
        pattern = glob.escape(str(sidecar.parent / f".{sidecar.name}.")) + "*.tmp"
        for leftover in map(Path, glob.glob(pattern)):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime >= older_than_s:
                    leftover.unlink()
                    removed.append(leftover)
    return removed
