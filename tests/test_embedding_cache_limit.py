"""The embeddings cache stays under its cap (MATLENS_CACHE_LIMIT): least recently used go first.

Real embeddings from the real SamModel on small images; one embedding is ~4 MB, so a 9 MB cap
holds two of them.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from inference.runtime.cache_limit import DEFAULT_CACHE_LIMIT, cache_limit, make_room
from inference.runtime.paths import cache_dir
from inference.runtime.sizes import parse_size
from inference.segmentation.sam import SamModel


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (96, 128), dtype=np.uint8)


def _total(root) -> int:
    return sum(p.stat().st_size for p in root.rglob("*.npy"))


def test_sizes_are_read_like_the_memory_limit(monkeypatch):
    assert parse_size("500M") == 500 * 2**20
    assert parse_size("1.5gb") == int(1.5 * 2**30)
    assert parse_size("2GiB") == 2 * 2**30
    assert parse_size("lots") is None
    monkeypatch.delenv("MATLENS_CACHE_LIMIT", raising=False)
    assert cache_limit() == DEFAULT_CACHE_LIMIT == 2 * 2**30
    monkeypatch.setenv("MATLENS_CACHE_LIMIT", "500M")
    assert cache_limit() == 500 * 2**20


def test_the_least_recently_used_embeddings_go_and_the_cache_stays_under_its_cap(monkeypatch):
    monkeypatch.setenv("MATLENS_CACHE_LIMIT", "9M")
    root = cache_dir() / "embeddings"
    outside = cache_dir() / "keep_me.npy"  # MatLens's cache folder, but not an embedding
    np.save(outside, np.zeros(2**20, np.float32))

    first = SamModel().embed(_image(1))
    second = SamModel().embed(_image(2))
    path = {
        e.image_hash: root / SamModel().card_id / f"{e.image_hash}.npy" for e in (first, second)
    }
    old = os.stat(path[first.image_hash]).st_mtime - 60  # written a minute apart
    os.utime(path[first.image_hash], (old - 60, old - 60))
    os.utime(path[second.image_hash], (old, old))
    assert SamModel().embed(_image(1)).from_cache  # the first is read again: now the newest

    third = SamModel().embed(_image(3))
    assert not path[second.image_hash].exists()  # the least recently used went
    assert path[first.image_hash].exists()  # the one just read stayed
    assert (root / SamModel().card_id / f"{third.image_hash}.npy").exists()
    assert _total(root) <= 9 * 2**20
    assert outside.exists()  # nothing outside the embeddings folder is touched
    assert SamModel().embed(_image(1)).from_cache


def test_a_cap_smaller_than_one_embedding_caches_nothing(monkeypatch):
    monkeypatch.setenv("MATLENS_CACHE_LIMIT", "1M")
    first = SamModel().embed(_image(4))
    assert not SamModel().embed(_image(4)).from_cache
    assert not list((cache_dir() / "embeddings").rglob(f"{first.image_hash}.npy"))


@pytest.mark.parametrize("workers", [4])
def test_processes_pruning_at_once_leave_no_error_and_spare_links(tmp_path, workers):
    """Several prunes of one folder at once (another MatLens window, a batch): a file another
    one removed first is no error. A link inside the folder is never followed out of it."""
    root = tmp_path / "embeddings" / "mobile_sam"
    root.mkdir(parents=True)
    for i in range(200):
        (root / f"{i:03}.npy").write_bytes(b"x" * 1000)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.npy").write_bytes(b"y" * 100_000)
    (root.parent / "elsewhere").symlink_to(precious, target_is_directory=True)
    dead = root / ".000.4242.1.tmp"  # a write whose process died two hours ago
    dead.write_bytes(b"z" * 1000)
    os.utime(dead, (time.time() - 7200, time.time() - 7200))
    live = root / ".001.4243.1.tmp"  # a write going on now
    live.write_bytes(b"z" * 1000)
    errors: list[BaseException] = []

    def prune():
        try:
            make_room(root.parent, incoming=1000, limit=50_000)
        except BaseException as exc:  # noqa: BLE001 - the test reports any of them
            errors.append(exc)

    threads = [threading.Thread(target=prune) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _total(root) + 1000 <= 50_000
    assert (precious / "data.npy").exists()
    assert not dead.exists() and live.exists()
