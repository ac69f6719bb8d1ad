"""Each known model's state as the Model manager shows it, checked in a job.

Checking reads every model file whole for its checksum (hundreds of MB), so the Model manager runs
`check_models` in a worker and shows "checking…" meanwhile; `matlens models list` and
`matlens doctor` judge each card with the same registry functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.runtime.registry import (
    UNREADABLE_CARD,
    FileStatus,
    ModelCard,
    card_state,
    damage,
    load_cards,
)


@dataclass(frozen=True)
class ModelCheck:
    card: ModelCard
    state: str  # "ok", "missing", "checksum mismatch" or "unreadable card"
    fix: str  # the line `matlens doctor` prints for a damaged model ("" when not damaged)


@dataclass(frozen=True)
class ModelsCheck:
    models: tuple[ModelCheck, ...]

    @property
    def bundled_missing(self) -> bool:
        """A shipped model is missing or damaged: "Install missing models" has work to do."""
        return any(m.card.bundled and m.state != FileStatus.OK.value for m in self.models)

    @property
    def fixes(self) -> list[str]:
        return [m.fix for m in self.models if m.fix]


def check_models(
    progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
) -> ModelsCheck:
    """Every card, the shipped ones first, with its state and, when damaged, the fix."""
    cards = load_cards()
    checked: list[ModelCheck] = []
    for index, card in enumerate(cards):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(index / max(len(cards), 1), f"Checking {card.name}…")
        state = card_state(card)
        # checksums again only for the damaged few (they are remembered), to name the file and fix
        fix = damage(card) if state in (FileStatus.CORRUPT.value, UNREADABLE_CARD) else ""
        checked.append(ModelCheck(card, state, fix))
    progress(1.0, "")
    return ModelsCheck(tuple(checked))
