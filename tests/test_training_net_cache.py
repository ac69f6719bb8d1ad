"""The composition training keeps each fitted net on disk: a stopped or parallel retrain reads
the nets already fitted instead of spending minutes per net again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training.prediction import train  # noqa: E402


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    return x, 2 * x[:, 0] - x[:, 1]


def _outputs(member, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return member(torch.tensor(x)).numpy()


def test_a_fitted_net_is_read_back_not_refitted(tmp_path, monkeypatch):
    monkeypatch.setenv("MATLENS_TRAINING_CACHE", str(tmp_path))
    task = dataclasses.replace(train.TASKS["steels_yield"], epochs=2, hidden=8, batch=32)
    x, y = _data()
    first = train._train_net(task, x, y, seed=3)
    assert len(list((tmp_path / "nets").glob("*.pt"))) == 1

    def refit(*args, **kwargs):
        raise AssertionError("refitted a net that is on disk")

    with monkeypatch.context() as m:
        m.setattr(train, "_fit_now", refit)
        again = train._train_net(task, x, y, seed=3)
    np.testing.assert_array_equal(_outputs(first, x), _outputs(again, x))

    # another seed, other data or another setting is another net, fitted anew
    train._train_net(task, x, y, seed=4)
    train._train_net(task, *_data(1), seed=3)
    train._train_net(dataclasses.replace(task, epochs=3), x, y, seed=3)
    assert len(list((tmp_path / "nets").glob("*.pt"))) == 4
    assert not list((tmp_path / "nets").glob("*.part"))  # no half-written file left
