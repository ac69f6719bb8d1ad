"""Model cards: what each model is, where its files are, and whether they are intact.

Cards are JSON files. Those shipped with MatLens live in `resources/models/`; a user's imported
models get theirs in `<models dir>/cards/`. A file is either exported at set-up time into the
models directory (`"location": "models"`) or ships inside `resources/models/` (`"resources"`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from inference.errors import ModelUnavailable
from inference.runtime.paths import bundled_models_dir, models_dir, resources_dir

if TYPE_CHECKING:
    from pathlib import Path


class FileStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    CORRUPT = "checksum mismatch"


@dataclass(frozen=True)
class ModelFile:
    role: str  # e.g. "encoder", "decoder"
    name: str  # file name inside its location
    sha256: str
    location: str = "models"  # "models" (exported at set-up) or "resources" (shipped)


@dataclass(frozen=True)
class ModelCard:
    id: str
    name: str
    task: str
    licence: str
    source_package: str
    source_version: str
    files: tuple[ModelFile, ...]
    input_size: tuple[int, ...] = ()
    description: str = ""
    exporter: str = ""  # module whose `export(out_dir, progress, cancel)` makes the files
    bundled: bool = True  # shipped with MatLens (False: imported by the user)
    extra: dict = field(default_factory=dict)

    def path(self, role: str) -> Path:
        for f in self.files:
            if f.role == role:
                return file_path(f)
        raise KeyError(f"model {self.id} has no file for role {role!r}")

    def to_json(self) -> dict:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        data["input_size"] = list(self.input_size)
        return data

    @classmethod
    def from_json(cls, data: dict, *, bundled: bool) -> ModelCard:
        files = tuple(ModelFile(**f) for f in data.get("files", []))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known.update(files=files, input_size=tuple(data.get("input_size", ())), bundled=bundled)
        return cls(**known)


def file_path(f: ModelFile) -> Path:
    """Where `f` is: the user's models folder first, then the bundle's read-only copy."""
    if f.location == "resources":
        return resources_dir() / "models" / f.name
    user = models_dir() / f.name
    shipped = bundled_models_dir()
    if not user.exists() and shipped is not None and (shipped / f.name).is_file():
        return shipped / f.name
    return user


_hash_cache: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) so repeated checks are free."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _hash_cache[key] = digest.hexdigest()
    return _hash_cache[key]


def file_status(f: ModelFile) -> FileStatus:
    path = file_path(f)
    if not path.is_file():
        return FileStatus.MISSING
    if f.sha256 and sha256_of(path) != f.sha256:
        return FileStatus.CORRUPT
    return FileStatus.OK


def card_status(card: ModelCard) -> FileStatus:
    statuses = [file_status(f) for f in card.files]
    for bad in (FileStatus.CORRUPT, FileStatus.MISSING):
        if bad in statuses:
            return bad
    return FileStatus.OK


def files_present(card: ModelCard) -> bool:
    """Whether every file of `card` is there: a stat each, no checksum, so a window may ask it
    while it paints. Damage is found by `card_status` in a job, and by `require` before use."""
    return all(file_path(f).is_file() for f in card.files)


def user_cards_dir() -> Path:
    path = models_dir() / "cards"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_cards() -> list[ModelCard]:
    """Every known model: the shipped cards first, then the user's imported ones."""
    cards: list[ModelCard] = []
    for folder, bundled in ((resources_dir() / "models", True), (user_cards_dir(), False)):
        for path in sorted(folder.glob("*.json")):
            try:
                cards.append(ModelCard.from_json(json.loads(path.read_text()), bundled=bundled))
            except (ValueError, TypeError) as exc:  # a broken user card must not stop the app
                cards.append(_broken_card(path, exc))
    return cards


UNREADABLE_CARD = "unreadable card"  # how a card that could not be read describes itself


def is_unreadable(card: ModelCard) -> bool:
    return card.description.startswith(UNREADABLE_CARD)


def card_state(card: ModelCard) -> str:
    """What the model manager and `matlens models list` show of a card, as `matlens doctor`
    judges it: "ok", "missing", "checksum mismatch" or "unreadable card". A card without files
    (the Tc linker keeps its coefficients in the card) is ok unless it could not be read."""
    if is_unreadable(card):
        return UNREADABLE_CARD
    return card_status(card).value


def _broken_card(path: Path, exc: Exception) -> ModelCard:
    return ModelCard(
        id=path.stem,
        name=path.stem,
        task="unknown",
        licence="?",
        source_package="?",
        source_version="?",
        files=(),
        description=f"{UNREADABLE_CARD}: {exc}",
        bundled=False,
    )


def get_card(model_id: str) -> ModelCard:
    for card in load_cards():
        if card.id == model_id:
            return card
    raise ModelUnavailable(
        f"Unknown model '{model_id}'. See Models ▸ Model manager or `matlens models list`."
    )


def save_user_card(card: ModelCard) -> Path:
    path = user_cards_dir() / f"{card.id}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card.to_json(), indent=2))
    tmp.replace(path)
    return path


def repair_hint(card: ModelCard, f: ModelFile | None = None) -> str:
    """How a person gets a missing or damaged file of `card` back (or a card that cannot be read)."""
    if not card.bundled:
        return "import the checkpoint again in Models ▸ Model manager"
    if f is not None and f.location == "resources":
        # shipped inside the app (committed in a source checkout): no exporter makes it
        return f"install MatLens again (in a source checkout: git checkout -- resources/models/{f.name})"
    shipped = bundled_models_dir()
    if f is not None and shipped is not None and file_path(f) == models_dir() / f.name:
        copy = shipped / f.name
        if copy.is_file() and (not f.sha256 or sha256_of(copy) == f.sha256):
            return f"delete {file_path(f)}, so MatLens uses the intact copy it ships"
    if shipped is not None:  # an installed app cannot export (no torch)
        return "install MatLens again (the installed app ships its models ready-made)"
    return "run `make models`, or open Models ▸ Model manager and press Install missing models"


def damage(card: ModelCard) -> str:
    """One line naming what of `card` cannot be loaded and the fix, or "" when nothing is damaged.

    Damaged means present but unusable: a file whose checksum differs from its card (cut short,
    overwritten), or a card that cannot be read. A missing file is not damage: models are
    optional until a feature asks for one, and `require` then says how to install it."""
    if is_unreadable(card):
        path = user_cards_dir() / f"{card.id}.json"
        why = card.description.removeprefix(f"{UNREADABLE_CARD}: ")
        return (
            f"{card.name}: its card {path} cannot be read ({why}); "
            f"delete it or {repair_hint(card)}."
        )
    for f in card.files:
        if file_status(f) is FileStatus.CORRUPT:
            return (
                f"{card.name}: {f.role} file {file_path(f)} is damaged (checksum mismatch); "
                f"{repair_hint(card, f)}."
            )
    return ""


def require(model_id: str) -> ModelCard:
    """The card of a model whose files are all present and intact, or a one-line error naming the fix."""
    card = get_card(model_id)
    for f in card.files:
        status = file_status(f)
        if status is FileStatus.OK:
            continue
        state = "missing" if status is FileStatus.MISSING else "damaged (checksum mismatch)"
        raise ModelUnavailable(
            f"{card.name}: {f.role} file {f.name} is {state}; {repair_hint(card, f)}."
        )
    return card
