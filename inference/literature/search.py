"""Library search over a folder of PDFs: MiniLM passage embeddings plus BM25 keywords.

The index is kept per library in the cache folder, one entry per PDF keyed by size and mtime,
so `update()` parses and embeds only new or changed files and drops deleted ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inference.errors import MatLensError
from inference.jobs import CancelToken, ProgressCallback, no_progress
from inference.literature.sentences import split_sentences
from inference.runtime.paths import cache_dir
from inference.wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any

    # Runs `fn(*call)` for each call on `workers` worker processes and yields (index, result)
    # as they finish, an exception as the result; JobCancelled on cancel. The batch runner's
    # `inference.batch.papers_on_workers` is one; the library does not import it, since the
    # batch runner drives the domains and not the other way round.
    OnWorkers = Callable[
        [Callable[..., Any], Sequence[tuple[Any, ...]], int, CancelToken | None],
        Iterator[tuple[int, Any]],
    ]

# 2: a reference list headed "Reference" is left out, Symbol-font glyphs are read as their
# characters and titles keep a short last line; an index of version 1 is rebuilt once
# 3: a paragraph a page break cuts is one passage (and its word split by a hyphen one word)
# 4: reference entries of a list with no heading over it (a letter's) are left out
INDEX_VERSION = 4
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9.\-]*[A-Za-z0-9]|\d+(?:\.\d+)?|[A-Za-z]")


@dataclass(frozen=True)
class Passage:
    paper: str  # path relative to the library
    title: str
    page: int  # 1-based
    start: int  # offsets in the paper's text
    end: int
    text: str
    section: str


@dataclass(frozen=True)
class Hit:
    paper: str
    title: str
    page: int
    text: str
    score: float
    start: int
    end: int

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class UpdateReport:
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    failed: dict[str, str]

    def to_json(self) -> dict:
        return asdict(self)


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def passages_of(paper, rel: str) -> list[Passage]:
    """~3-sentence passages of a paper's body (references and headings left out). A paragraph
    a page break cuts ("... a well-organized, multi-" / "layered film ..." on the next page)
    is read as one, so its sentence is one passage on the page where it begins."""
    out: list[Passage] = []
    for parts in _paragraphs(paper):
        text, origin = _joined(paper, parts)
        group: list[tuple[int, int]] = []
        for span in split_sentences(text):
            group.append(span)
            if group[-1][1] - group[0][0] > 450 or len(group) == 3:
                out.append(_passage(paper, rel, text, origin, group, parts[0].section))
                group = []
        if group:
            out.append(_passage(paper, rel, text, origin, group, parts[0].section))
    return out


_MIN_BODY = 40  # characters: shorter blocks are page numbers, running heads, labels


def _paragraphs(paper) -> list[list]:
    """The body blocks to search, each with the blocks on the following pages that continue
    it: a page's last body block whose text stops mid-sentence (no full stop, or a hyphen)
    and the next page's first body block, starting in lower case."""
    from inference.literature.sections import EXCLUDED

    body = [b for b in paper.blocks if b.section not in EXCLUDED and not b.heading]
    out: list[list] = []
    for block in body:
        text = paper.text[block.start : block.end]
        continued = out and _continues(paper, out[-1][-1], block)
        if continued:
            out[-1].append(block)
        elif len(text) >= _MIN_BODY:
            out.append([block])
    return out


def _continues(paper, before, block) -> bool:
    """Whether `block` carries on the paragraph that `before` ends at the bottom of a page.
    `before` is the last part kept, so no other long body block lies between the two: it is
    its page's last, and `block` the next page's first (short running heads skipped)."""
    if block.page != before.page + 1 or not paper.text[block.start : block.start + 1].islower():
        return False
    ending = paper.text[before.start : before.end].rstrip()
    return bool(ending) and ending[-1] not in ".!?:"  # no full stop: the sentence goes on


def _joined(paper, parts) -> tuple[str, list[int]]:
    """The text of a paragraph's parts as one, the hyphen that split a word at the page break
    dropped as the reader drops one at a line end; `origin[i]` is the offset in `Paper.text`
    of character i (and one past the last)."""
    text, origin = "", []
    for k, block in enumerate(parts):
        piece = paper.text[block.start : block.end]
        offsets = list(range(block.start, block.end))
        if k:
            if len(text) > 2 and text[-1] == "-" and text[-2].islower():
                text, origin = text[:-1], origin[:-1]
            else:
                text, origin = text + " ", [*origin, origin[-1] + 1]
        text, origin = text + piece, origin + offsets
    return text, [*origin, parts[-1].end]


def passage_spans(paper, start: int, end: int) -> list[tuple[int, int]]:
    """The pieces of `Paper.text` a passage from `start` to `end` is read from: one, or one
    per page where a page break cuts its paragraph (the page number and running head between
    them are no part of it, and are not marked)."""
    spans = [
        (max(start, block.start), min(end, block.end))
        for parts in _paragraphs(paper)
        for block in parts
        if block.start < end and start < block.end
    ]
    return spans or [(start, end)]


def _passage(paper, rel, text, origin, group, section) -> Passage:
    (first, _), (_, last) = group[0], group[-1]
    start, end = origin[first], origin[last - 1] + 1
    shown = " ".join(text[first:last].split())
    return Passage(rel, paper.title, paper.page_of(start) + 1, start, end, shown, section)


@dataclass(frozen=True)
class IndexedPaper:
    """One paper made searchable: its passages and their embeddings (None: keyword search
    only), or why it could not be read. Plain values: it comes back from a worker process."""

    rel: str  # path relative to the library
    stamp: tuple[int, int]  # size, mtime_ns of the file that was read
    title: str = ""
    passages: tuple[Passage, ...] = ()
    vectors: np.ndarray | None = None
    error: str = ""  # the file could not be read: one line


def index_paper(
    path: str,
    rel: str,
    stamp: tuple[int, int],
    embed: bool = True,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> IndexedPaper:
    """Parse one PDF into passages and embed them: the unit of library indexing, run in this
    process or on a worker process (`Library.update(workers=...)`)."""
    from inference.literature.pdf import parse_pdf

    progress(0.0, "reading")
    try:
        paper = parse_pdf(Path(path), tables=False, cancel=cancel)
    except MatLensError as exc:
        return IndexedPaper(rel, stamp, error=str(exc))
    passages = tuple(passages_of(paper, rel))
    vectors = None
    if embed:
        progress(0.3, "embedding passages")
        model = _embedder_or_none()
        if model is not None:
            vectors = model.embed([p.text for p in passages], cancel=cancel)
    return IndexedPaper(rel, stamp, paper.title, passages, vectors)


def _embedder_or_none():
    """MiniLM, or None when it is not installed (keyword search only; `Library` says so)."""
    from inference.literature.embed import embedder

    try:
        return embedder()
    except MatLensError:
        return None


def index_workers(papers: int, cores: int | None = None) -> int:
    """Worker processes for indexing `papers` papers (1: this process). MiniLM already runs on
    every core of one process, so a worker only pays when each still gets two cores: on two
    cores, two workers of one thread each took 1.25-1.4x as long as this process, starting
    them and loading MiniLM in each included (benchmarks/library_indexing.py)."""
    cores = cores or os.cpu_count() or 1
    return max(1, min(papers, cores // 2))


class Library:
    """A folder of PDFs and its index (passages.json + embeddings.npy in the cache folder)."""

    def __init__(self, root: Path, index_dir: Path | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise MatLensError(f"{self.root}: not a folder")
        key = hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:16]
        self.index_dir = index_dir or cache_dir() / "literature" / key
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.notice = ""
        self.last_mode = ""
        self._entries: dict[str, dict] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._load()

    # index on disk -------------------------------------------------------------------------
    def _load(self) -> None:
        meta = self.index_dir / "index.json"
        if not meta.is_file():
            return
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except ValueError:
            return  # a broken index is rebuilt
        if data.get("version") != INDEX_VERSION:
            return
        self._entries = data["papers"]
        for rel, entry in self._entries.items():
            vec = self.index_dir / f"{entry['id']}.npy"
            if vec.is_file():
                self._vectors[rel] = np.load(vec)

    def _save(self) -> None:
        tmp = self.index_dir / "index.json.tmp"
        data = {"version": INDEX_VERSION, "papers": self._entries}
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.index_dir / "index.json")

    def pdfs(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())

    def update(
        self,
        *,
        embed: bool = True,
        workers: int | None = 1,
        on_workers: OnWorkers | None = None,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
    ) -> UpdateReport:
        """Index new and changed PDFs, forget deleted ones; each paper is kept as it is done
        (a cancelled update keeps the papers finished so far).

        `workers` > 1 indexes the papers on that many worker processes of this computer,
        each paper on one, through `on_workers` (`inference.batch.papers_on_workers`, which
        the caller passes: the library knows nothing of the workers); progress then moves
        paper by paper. None: as many as pay on this computer (`index_workers`). Without
        `on_workers` the papers are indexed in this process."""
        files = {str(p.relative_to(self.root)): p for p in self.pdfs()}
        report = UpdateReport([], [], [], 0, {})
        for rel in [r for r in self._entries if r not in files]:
            entry = self._entries.pop(rel)
            (self.index_dir / f"{entry['id']}.npy").unlink(missing_ok=True)
            self._vectors.pop(rel, None)
            report.removed.append(rel)
        todo: list[tuple[str, Path, tuple[int, int]]] = []
        existed: set[str] = set()
        for rel, path in files.items():
            st = path.stat()
            stamp = (st.st_size, st.st_mtime_ns)
            entry = self._entries.get(rel)
            if entry and tuple(entry["stamp"]) == stamp and (rel in self._vectors or not embed):
                report.unchanged += 1
                continue
            todo.append((rel, path, stamp))
            if entry is not None:
                existed.add(rel)
        if embed and todo and self._embedder() is None:
            embed = False  # keyword search only; `notice` says why
        if workers is None:
            workers = index_workers(len(todo))
        try:
            if on_workers is not None and workers > 1 and len(todo) > 1:
                papers = self._index_on_workers(todo, embed, workers, on_workers, progress, cancel)
            else:
                papers = self._index_here(todo, embed, progress, cancel)
            for indexed in papers:
                if indexed.error:
                    report.failed[indexed.rel] = indexed.error
                    continue
                self.add_paper(
                    indexed.rel,
                    list(indexed.stamp),
                    indexed.title,
                    list(indexed.passages),
                    indexed.vectors,
                    save=False,
                )
                (report.updated if indexed.rel in existed else report.added).append(indexed.rel)
        finally:
            self._save()
        progress(1.0, "")
        return report

    def _index_here(self, todo, embed, progress, cancel):
        """Paper after paper in this process, with progress within each paper."""
        count = len(todo)
        for i, (rel, path, stamp) in enumerate(todo):
            if cancel:
                cancel.raise_if_cancelled()

            def within(fraction: float, message: str = "", i=i, name=path.name) -> None:
                what = f"indexing {name} (paper {i + 1} of {count})"
                progress((i + fraction) / count, f"{what}: {message}" if message else what)

            within(0.0)
            yield index_paper(str(path), rel, stamp, embed, progress=within, cancel=cancel)

    def _index_on_workers(self, todo, embed, workers, on_workers, progress, cancel):
        """Papers on worker processes; progress moves as each paper comes back."""
        count = len(todo)
        workers = min(workers, count)
        processes = counted(workers, "worker process", "worker processes")
        progress(0.0, f"starting {processes} to index {counted(count, 'paper')}")
        calls = [(str(path), rel, stamp, embed) for rel, path, stamp in todo]
        finished = on_workers(index_paper, calls, workers, cancel)
        for done, (index, indexed) in enumerate(finished, start=1):
            rel, path, stamp = todo[index]
            if isinstance(indexed, BaseException):
                indexed = IndexedPaper(rel, stamp, error=f"{path.name}: {indexed}")
            progress(done / count, f"indexed {path.name} ({done} of {counted(count, 'paper')})")
            yield indexed

    def add_paper(
        self,
        rel: str,
        stamp: list[int],
        title: str,
        passages: list[Passage],
        vectors: np.ndarray | None,
        *,
        save: bool = True,
    ) -> None:
        """Store one paper's passages and their embeddings (None: keyword search only), as
        `update` does; `stamp` is [size, mtime_ns]. The batch runner (inference.batch) embeds
        papers on other processes or machines and stores them here, saving once at the end
        (`save=False`, then `save_index()`)."""
        entry_id = hashlib.sha1(rel.encode()).hexdigest()[:16]
        self._entries[rel] = {
            "id": entry_id,
            "stamp": list(stamp),
            "title": title,
            "passages": [asdict(p) for p in passages],
        }
        if vectors is not None:
            np.save(self.index_dir / f"{entry_id}.npy", vectors.astype(np.float16))
            self._vectors[rel] = vectors.astype(np.float16)
        if save:
            self._save()

    def save_index(self) -> None:
        self._save()

    def _embedder(self):
        from inference.literature.embed import embedder

        try:
            return embedder()
        except MatLensError as exc:
            self.notice = f"keyword search only: {exc}"
            return None

    # search -------------------------------------------------------------------------------
    def _all(self) -> list[Passage]:
        return [Passage(**p) for e in self._entries.values() for p in e["passages"]]

    @property
    def n_papers(self) -> int:
        """The papers in the index (those that could be read)."""
        return len(self._entries)

    def search(self, query: str, top: int = 10, mode: str = "hybrid") -> list[Hit]:
        passages = self._all()
        if not passages or not query.strip():
            return []
        keyword = _bm25(query, passages)
        semantic = None
        if mode in ("hybrid", "semantic"):
            semantic = self._semantic(query)
        if semantic is None:
            scores, self.last_mode = keyword, "keyword"
        elif mode == "semantic":
            scores, self.last_mode = semantic, "semantic"
        else:
            peak = keyword.max() if keyword.max() > 0 else 1.0
            scores, self.last_mode = semantic + 0.3 * keyword / peak, "hybrid"
        order = np.argsort(-scores)[:top]
        return [
            Hit(p.paper, p.title, p.page, p.text, float(scores[i]), p.start, p.end)
            for i in order
            if scores[i] > 0
            for p in [passages[i]]
        ]

    def _semantic(self, query: str) -> np.ndarray | None:
        model = self._embedder()
        if model is None:
            return None
        vectors = [
            self._vectors.get(rel, np.zeros((len(e["passages"]), 384), np.float16))
            for rel, e in self._entries.items()
        ]
        matrix = np.concatenate(vectors).astype(np.float32)
        q = model.embed([query])[0]
        return matrix @ q


def _bm25(query: str, passages: list[Passage], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    docs = [Counter(tokens(p.text)) for p in passages]
    lengths = np.array([sum(d.values()) for d in docs], dtype=np.float64)
    avg = lengths.mean() if len(lengths) else 1.0
    scores = np.zeros(len(docs))
    for term in set(tokens(query)):
        df = sum(1 for d in docs if term in d)
        if not df:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        tf = np.array([d.get(term, 0) for d in docs], dtype=np.float64)
        scores += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / avg))
    return scores
