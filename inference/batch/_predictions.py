"""Predictions: `matlens predict FOLDER_OR_CSV --out OUT`.

A folder of structures: each file is one item (CHGNet, optionally relaxed and with E(V)), its
record in `predictions/<name>.json`. A CSV of compositions: each slice of `rows_per_item` rows
is one item (the composition models take a few milliseconds per formula, so one task per row
would cost more in hand-offs than in work). The composition is the column named formula,
composition, compound or material, else the first column. Each composition goes through
`predict_compositions`, the function behind `matlens predict FORMULA` and the Prediction pane:
its known table values first, then the predictions, one whose 90 % interval misses the known
value (or a metal call DFT contradicts) withheld with its one-line note. The merge writes
`predictions.json` (the records in input order, each as `matlens predict FORMULA --json` gives
it plus its `row`; a bad file or formula is `{"file" | "row", "error"}` in its place),
`predictions.csv` (the pane's export columns: item, quantity, value, interval_90_or_range,
unit, kind, source, note; the value cell empty where it is withheld) and `failures.csv`.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference.batch._cache import cached_model
from inference.batch._model import Item, ItemFailure, ItemOutput, MergeResult
from inference.batch._store import replacing
from inference.errors import MatLensError, UnreadableFile
from inference.prediction.service import CSV_COLUMNS

if TYPE_CHECKING:
    from inference.jobs import CancelToken, ProgressCallback

VERSION = 2  # 2: known values first, doubtful predictions withheld, kind and note columns
ROWS_PER_ITEM = 500
FORMULA_COLUMNS = ("formula", "composition", "compound", "material")


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in (".csv", ".tsv")


def read_formulas(path: Path) -> list[str]:
    """The formula column of a CSV (or TSV), one string per data row (blank rows kept as "")."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(f"{path.name} is not a UTF-8 text table") from None
    except FileNotFoundError:
        raise UnreadableFile(f"File not found: {path}") from None
    lines = text.splitlines()
    rows = list(csv.reader(lines, delimiter=_delimiter(path, lines)))
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise MatLensError(f"{path.name} has no rows")
    header = [c.strip().lower() for c in rows[0]]
    column = next((header.index(c) for c in FORMULA_COLUMNS if c in header), None)
    if column is None:  # "Chemical Formula", "Composition (at%)": a column that says so
        column = next(
            (i for i, h in enumerate(header) if any(c in h for c in FORMULA_COLUMNS)), None
        )
    if column is None:
        from inference.prediction.notation import parse_composition

        column = 0
        try:  # no header: the first row is a composition too (an alloy as well: "Ti-6Al-4V")
            parse_composition(rows[0][0] if rows[0] else "")
            rows.insert(0, [])
        except MatLensError:
            pass
    data = rows[1:]
    if not data:
        raise MatLensError(f"{path.name} has a header but no compositions")
    return [(r[column].strip() if column < len(r) else "") for r in data]


def _delimiter(path: Path, lines: list[str]) -> str:
    """Tab for a .tsv; else what the header row is split by: a comma, or the semicolon that
    Excel writes where the decimal mark is a comma (every row failed as 'TiO2;"a"')."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    first = next((line for line in lines if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def _composition_models():
    from inference.prediction.composition import predict_formulas

    predict_formulas(["Fe2O3"])  # the models load once per process (composition keeps them)
    return predict_formulas


def _potential():
    from inference.prediction.potential import get_potential

    return get_potential()


@dataclass(frozen=True)
class Predictions:
    target: str  # a folder of structures, or a CSV of compositions
    relax: bool = False
    eos: bool = False
    rows_per_item: int = ROWS_PER_ITEM
    kind: str = "predictions"

    @property
    def source(self) -> str:
        return self.target

    @property
    def table(self) -> bool:
        return is_table(self.target)

    def settings(self) -> dict[str, Any]:
        if self.table:
            return {"version": VERSION, "table": True, "rows_per_item": self.rows_per_item}
        return {"version": VERSION, "relax": self.relax, "eos": self.eos}

    def items(self) -> list[Item]:
        target = Path(self.target)
        if self.table:
            return self._slices(target)
        from inference.prediction.inputs import classify

        if not target.is_dir():
            raise MatLensError(f"{target}: give a folder of structures or a CSV of compositions")
        paths = classify(str(target)).paths
        names = _unique_stems(paths)
        items = []
        for p in paths:
            st = p.stat()
            items.append(Item(names[p], p.name, str(p.resolve()), f"{st.st_size}:{st.st_mtime_ns}"))
        return items

    def _slices(self, path: Path) -> list[Item]:
        if self.rows_per_item < 1:
            raise MatLensError("rows per item must be at least 1")
        formulas = read_formulas(path)
        items = []
        for start in range(0, len(formulas), self.rows_per_item):
            chunk = tuple(formulas[start : start + self.rows_per_item])
            first, last = start + 1, start + len(chunk)
            stamp = hashlib.sha256("\n".join(chunk).encode("utf-8")).hexdigest()[:16]
            items.append(
                Item(
                    f"rows-{first:07d}-{last:07d}",
                    f"rows {first}-{last}" if last > first else f"row {first}",
                    str(path.resolve()),
                    stamp,
                    chunk,
                )
            )
        return items

    def prepare(self, out_dir: Path) -> None:
        if not self.table and Path(out_dir).resolve() == Path(self.target).resolve():
            raise MatLensError("choose an output folder other than the folder of structures")

    def process(
        self, item: Item, staging: Path, progress: ProgressCallback, cancel: CancelToken | None
    ) -> ItemOutput:
        compositions = bool(item.payload)
        data = (
            self._compositions(item, progress, cancel)
            if compositions
            else self._structure(item, progress, cancel)
        )
        out = f"predictions/{item.name}.json"
        (staging / "predictions").mkdir()
        (staging / out).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        errors = sum(1 for r in data["records"] if "error" in r)
        return ItemOutput((out,), {"records": len(data["records"]), "errors": errors})

    def _structure(self, item: Item, progress, cancel) -> dict[str, Any]:
        from inference.prediction.service import csv_cells, run_prediction

        cached_model("chgnet", _potential)
        report = run_prediction(
            item.source, relax=self.relax, eos=self.eos, progress=progress, cancel=cancel
        )
        return {
            "records": report.records,
            "rows": [csv_cells(r) for r in report.rows],
            "warnings": report.warnings,
        }

    def _compositions(self, item: Item, progress, cancel) -> dict[str, Any]:
        from inference.prediction.service import csv_cells, predict_compositions

        cached_model("composition", _composition_models)
        first = int(item.name.split("-")[1])
        reports = predict_compositions(list(item.payload), progress=progress, cancel=cancel)
        records, rows, warnings = [], [], []
        for i, report in enumerate(reports):
            records.append({"row": first + i, **report.records[0]})
            rows.extend(csv_cells(r) for r in report.rows)
            warnings.extend(f"row {first + i}: {w}" for w in report.warnings)
        return {"records": records, "rows": rows, "warnings": warnings}

    def merge(
        self,
        out_dir: Path,
        items: list[Item],
        done: dict[str, dict[str, Any]],
        failed: dict[str, ItemFailure],
    ) -> MergeResult:
        out_dir = Path(out_dir)
        failures = [failed[item.name] for item in items if item.name in failed]
        records: list[dict[str, Any]] = []
        rows: list[list[str]] = []
        bad_rows: list[list[str]] = []
        for item in items:
            if item.name in failed:
                key = "rows" if item.payload else "file"
                records.append({key: item.label, "error": failed[item.name].reason})
                continue
            if item.name not in done:
                continue  # not reached (cancelled)
            data = json.loads((out_dir / f"predictions/{item.name}.json").read_text("utf-8"))
            records.extend(data["records"])
            rows.extend(data["rows"])
            bad_rows.extend(
                [f"row {r['row']}: {r['formula'] or '(blank)'}", r["error"]]
                for r in data["records"]
                if "error" in r and "row" in r
            )
        merged = out_dir / "predictions.json"
        with replacing(merged) as tmp:
            tmp.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
        table = out_dir / "predictions.csv"
        with replacing(table) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)
        failures_csv = out_dir / "failures.csv"
        with replacing(failures_csv) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["file", "reason"])
            writer.writerows([f.file, f.reason] for f in failures)
            writer.writerows(bad_rows)
        notes: list[str] = []
        if bad_rows:
            notes.append(f"{len(bad_rows)} compositions could not be predicted (see failures.csv)")
        withheld = sum(1 for r in rows if r[CSV_COLUMNS.index("kind")] == "doubtful: prediction")
        if withheld:
            notes.append(
                f"{withheld} predictions withheld as doubtful: a known value or DFT contradicts "
                "them (predictions.csv: an empty value, the note says why)"
            )
        return MergeResult(
            (str(merged), str(table), str(failures_csv)), tuple(notes), failed_parts=len(bad_rows)
        )


def _unique_stems(paths: list[Path]) -> dict[Path, str]:
    """The file's stem, or stem_ext where two files share a stem (POSCAR and CONTCAR keep
    their names)."""
    counts: dict[str, int] = {}
    for p in paths:
        counts[p.stem.lower()] = counts.get(p.stem.lower(), 0) + 1
    return {p: p.stem if counts[p.stem.lower()] == 1 else f"{p.stem}_{p.suffix[1:]}" for p in paths}
