"""Library indexing on worker processes: the same index as in this process, paper by paper."""

from __future__ import annotations

import shutil

import numpy as np
from conftest import shared

PAPERS = ("JPS0710709-CC.pdf", "PHC3410729-CC.pdf")


def test_worker_processes_index_the_same_passages_and_vectors(tmp_path):
    from inference.batch import papers_on_workers
    from inference.literature.search import Library, index_workers

    root = tmp_path / "papers"
    root.mkdir()
    for name in PAPERS:
        shutil.copy(shared("papers", "supermat_dev", "pdf", name), root)
    here = Library(root, index_dir=tmp_path / "here")
    here.update(workers=1)
    messages: list[tuple[float, str]] = []
    there = Library(root, index_dir=tmp_path / "there")
    report = there.update(
        workers=2,
        on_workers=papers_on_workers,
        progress=lambda f, m="": messages.append((f, m)),
    )
    assert sorted(report.added) == sorted(PAPERS) and not report.failed
    for name in PAPERS:
        assert there._entries[name]["passages"] == here._entries[name]["passages"]
        assert (
            np.abs(
                there._vectors[name].astype(np.float32) - here._vectors[name].astype(np.float32)
            ).max()
            < 1e-2
        )
    done = [m for _, m in messages if m.startswith("indexed ")]
    assert sorted(m.split()[1] for m in done) == sorted(PAPERS)
    assert [m.split(" (")[1] for m in done] == ["1 of 2 papers)", "2 of 2 papers)"]
    assert [f for f, m in messages if m.startswith("indexed ")] == [0.5, 1.0]
    # a search over the index the workers built finds the same passage first
    assert there.search("superconducting transition", top=1) == here.search(
        "superconducting transition", top=1
    )
    assert index_workers(6, cores=2) == 1 and index_workers(6, cores=16) == 6
    assert index_workers(3, cores=16) == 3


def test_an_index_built_by_the_earlier_reader_is_rebuilt(tmp_path):
    """Passages read before the reference list headed "Reference" was left out (index version
    1) would keep answering with cited titles: such an index is read again, not reused."""
    import json

    from inference.literature.search import Library

    root = tmp_path / "papers"
    root.mkdir()
    shutil.copy(shared("papers", "grobid_quantities", "pdf", "1903.06952.pdf"), root)
    index = tmp_path / "index"
    assert Library(root, index_dir=index).update(embed=False).added == ["1903.06952.pdf"]
    meta = index / "index.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    data["version"] = 1
    data["papers"]["1903.06952.pdf"]["passages"][0]["text"] = "6 Yankowitz, M. et al. Tuning"
    meta.write_text(json.dumps(data), encoding="utf-8")
    library = Library(root, index_dir=index)
    assert library.update(embed=False).added == ["1903.06952.pdf"]
    texts = [p["text"] for p in library._entries["1903.06952.pdf"]["passages"]]
    assert texts and not any("Yankowitz" in t for t in texts)
