"""Papers: `matlens extract FOLDER --out OUT`. Each PDF (the folder and its subfolders) is one
item: its records go to `papers/<name>.json` (the `matlens extract --json` document, with
`paper` relative to the folder), and its search passages with their MiniLM embeddings to
`.matlens-batch/index/`. The merge writes `records.json`, `records.csv` (one row per record,
with its paper) and `failures.csv`, and stores the passages in the library's search index,
so `matlens search FOLDER` and the Literature pane find every paper without parsing it again.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.batch._cache import cached_model
from inference.batch._model import Item, ItemFailure, ItemOutput, MergeResult
from inference.batch._store import replacing
from inference.errors import MatLensError, ModelUnavailable
from inference.wording import counted

if TYPE_CHECKING:
    from inference.jobs import CancelToken, ProgressCallback

# Part of the settings digest: a folder's papers done by an older extraction are read again.
# 2: conditions paired per value with units, no Tc outside superconductivity papers, no power
# density as density, reference lists headed "Reference" left out. 3: `value_si`/`unit_si`
# became `value_normalised`/`unit_normalised` (energies in eV, not J; NORMAL_UNITS).
VERSION = 3
INDEX = ".matlens-batch/index"


def _embedder():
    from inference.literature.embed import embedder

    return embedder()


def _paper_names(rels: list[str]) -> dict[str, str]:
    """papers/a/b.pdf -> a__b; a name two papers would share gets a hash of the path."""
    flat = {rel: rel[: -len(Path(rel).suffix)].replace("/", "__") for rel in rels}
    counts: dict[str, int] = {}
    for name in flat.values():
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    return {
        rel: name
        if counts[name.lower()] == 1
        else f"{name}_{hashlib.sha1(rel.encode()).hexdigest()[:8]}"
        for rel, name in flat.items()
    }


@dataclass(frozen=True)
class Papers:
    folder: str
    ner: bool = False
    kind: str = "papers"

    @property
    def source(self) -> str:
        return self.folder

    def settings(self) -> dict[str, Any]:
        return {"version": VERSION, "ner": self.ner}

    def pdfs(self) -> list[Path]:
        root = Path(self.folder)
        return sorted(p for p in root.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())

    def items(self) -> list[Item]:
        root = Path(self.folder)
        if not root.is_dir():
            raise MatLensError(f"{root}: not a folder")
        pdfs = self.pdfs()
        if not pdfs:
            raise MatLensError(f"no PDF files in {root}")
        rels = {p: p.relative_to(root).as_posix() for p in pdfs}
        names = _paper_names(list(rels.values()))
        items = []
        for p in pdfs:
            st = p.stat()
            stamp = f"{st.st_size}:{st.st_mtime_ns}"
            items.append(Item(names[rels[p]], rels[p], str(p.resolve()), stamp))
        return items

    def prepare(self, out_dir: Path) -> None:
        if Path(out_dir).resolve() == Path(self.folder).resolve():
            raise MatLensError("choose an output folder other than the folder of papers")

    def process(
        self, item: Item, staging: Path, progress: ProgressCallback, cancel: CancelToken | None
    ) -> ItemOutput:
        import numpy as np

        from inference.literature.extract import extract_pdf
        from inference.literature.search import passages_of

        if self.ner:
            from inference.literature.ner import tagger

            cached_model("materials_ner", tagger)

        def reading(fraction: float, message: str = "") -> None:
            progress(0.8 * fraction, message)

        read = extract_pdf(Path(item.source), ner=self.ner, progress=reading, cancel=cancel)
        paper, extraction = read.paper, read.extraction
        document = extraction.to_json()
        document["paper"] = item.label  # relative: the same on every machine
        records = f"papers/{item.name}.json"
        (staging / "papers").mkdir()
        (staging / records).write_text(
            json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        # The search passages need no tables: the text and its blocks are the same either way.
        progress(0.85, "embedding passages for search")
        passages = passages_of(paper, item.label)
        files = [records, f"{INDEX}/{item.name}.json"]
        (staging / INDEX).mkdir(parents=True)
        index = {"title": paper.title, "passages": [asdict(p) for p in passages]}
        try:
            embed = cached_model("minilm", _embedder)
        except ModelUnavailable as exc:
            index["notice"] = f"keyword search only: {exc}"
        else:
            vectors = embed.embed([p.text for p in passages], cancel=cancel)
            np.save(staging / INDEX / f"{item.name}.npy", vectors.astype(np.float16))
            files.append(f"{INDEX}/{item.name}.npy")
        (staging / INDEX / f"{item.name}.json").write_text(
            json.dumps(index, ensure_ascii=False), encoding="utf-8"
        )
        return ItemOutput(tuple(files), {"records": len(document["records"])})

    def merge(
        self,
        out_dir: Path,
        items: list[Item],
        done: dict[str, dict[str, Any]],
        failed: dict[str, ItemFailure],
    ) -> MergeResult:
        import numpy as np

        from inference.literature.export import CSV_COLUMNS
        from inference.literature.schema import PropertyRecord, csv_row, from_json
        from inference.literature.search import Library, Passage

        out_dir = Path(out_dir)
        papers = [item for item in items if item.name in done]
        failures = [failed[item.name] for item in items if item.name in failed]
        documents = [
            json.loads((out_dir / f"papers/{item.name}.json").read_text(encoding="utf-8"))
            for item in papers
        ]
        merged = out_dir / "records.json"
        with replacing(merged) as tmp:
            data = {
                "papers": documents,
                "failures": [{"paper": f.file, "reason": f.reason} for f in failures],
            }
            tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        table = out_dir / "records.csv"
        with replacing(table) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            # the conventions of `matlens extract --csv` (inference.literature.export), plus
            # the paper each record comes from
            writer = csv.writer(fh)
            writer.writerow(["paper", *CSV_COLUMNS])
            for doc in documents:
                for record in doc["records"]:
                    row = csv_row(from_json(PropertyRecord, record))
                    writer.writerow([doc["paper"], *(row[c] for c in CSV_COLUMNS)])
        failures_csv = out_dir / "failures.csv"
        with replacing(failures_csv) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["file", "reason"])
            writer.writerows([f.file, f.reason] for f in failures)

        library = Library(Path(self.folder))
        notes = set()
        for item in papers:
            index = json.loads((out_dir / INDEX / f"{item.name}.json").read_text(encoding="utf-8"))
            vectors_file = out_dir / INDEX / f"{item.name}.npy"
            vectors = np.load(vectors_file) if vectors_file.is_file() else None
            if "notice" in index:
                notes.add(index["notice"])
            size, mtime_ns = (int(v) for v in item.stamp.split(":"))
            passages = [Passage(**p) for p in index["passages"]]
            library.add_paper(
                item.label, [size, mtime_ns], index["title"], passages, vectors, save=False
            )
        library.save_index()
        notes.add(f"search index of {counted(len(papers), 'paper')} updated ({library.index_dir})")
        return MergeResult((str(merged), str(table), str(failures_csv)), tuple(sorted(notes)))
