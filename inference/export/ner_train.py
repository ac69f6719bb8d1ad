"""Gold sentences and BIO labels for the materials/value tagger, and span-overlap scores.

Corpora: SOFC-Exp (CC-BY; MATERIAL and VALUE spans in sentences marked as describing
experiments) and MSPT (MIT; Material spans of synthesis procedures; its numbers follow another
scheme, so value-like word pieces there carry no loss). Both have train/dev/test splits.
SuperMat (CC-BY; superconductor papers with gold TEI): material spans only, and only the
benchmark's tuning part is read (see `ner_finetune.supermat_papers`). The training itself is
`inference/export/ner_finetune.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference.literature.ner import LABELS
from inference.literature.sentences import split_sentences

if TYPE_CHECKING:
    from pathlib import Path

IGNORE = -1  # no loss (MSPT numbers)
DROP = -2  # [CLS], [SEP], padding
MSPT_VALUE_TYPES = {"Number", "Amount-Unit", "Condition-Unit", "Property-Unit", "Apparatus-Unit"}

Gold = tuple[str, list]  # (sentence, [(start, end, "MAT" | "VAL" | None)])


# --- corpora -> (sentence, [(start, end, "MAT"|"VAL"|None)]) --------------------------------
def sofc(root: Path, split: str) -> list[Gold]:
    """Sentences flagged as describing experiments, with their MATERIAL and VALUE spans.

    Sentences whose annotated tokens do not spell the text are skipped: in 5 of the 45 texts
    (PMC3793895, PMC4663492, PMC6158676 in train; PMC4495617, PMC4735809 in dev) the text
    lines are not the annotated sentences, so their offsets point at the wrong characters.
    """
    meta = (root / "sofc_exp" / "SOFC-Exp-Metadata.csv").read_text(encoding="utf-8").splitlines()
    header = meta[0].split("\t")
    rows = [r.split("\t") for r in meta[1:]]
    names = [
        r[header.index("name")]
        for r in rows
        if len(r) == len(header) and r[header.index("set")] == split
    ]
    out = []
    for name in names:
        sentences = (
            (root / "sofc_exp" / "texts" / f"{name}.txt").read_text(encoding="utf-8").split("\n")
        )
        flags = (
            (root / "sofc_exp" / "annotations" / "sentences" / f"{name}.csv")
            .read_text()
            .splitlines()
        )
        keep = {int(r.split("\t")[0]) for r in flags if r.count("\t") and r.split("\t")[1] == "1"}
        spans: dict[int, list] = {}
        tokens: dict[int, list[str]] = {}
        cur = None
        path = root / "sofc_exp" / "annotations" / "entity_types_and_slots" / f"{name}.csv"
        for line in path.read_text(encoding="utf-8").splitlines():
            c = line.split("\t")
            if len(c) < 5:
                continue
            sid, b, e, tag = int(c[0]), int(c[2]), int(c[3]), c[4]
            line_text = sentences[sid - 1] if sid - 1 < len(sentences) else ""
            tokens.setdefault(sid, []).append(line_text[b:e])
            kind = {"MATERIAL": "MAT", "VALUE": "VAL"}.get(tag[2:])
            if tag.startswith("B-") and kind:
                cur = [b, e, kind]
                spans.setdefault(sid, []).append(cur)
            elif tag.startswith("I-") and kind and cur is not None and cur[2] == kind:
                cur[1] = e
            else:
                cur = None
        for sid in sorted(keep):
            if sid - 1 >= len(sentences):
                continue
            if "".join(tokens.get(sid, [])) != "".join(sentences[sid - 1].split()):
                continue  # misaligned annotation
            out.append((sentences[sid - 1], [tuple(s) for s in spans.get(sid, [])]))
    return out


def mspt(root: Path, split: str) -> list[Gold]:
    base = root / "mspt_synthesis_brat"
    names = (base / f"ner-{split}-fnames.txt").read_text().split()
    out = []
    for name in names:
        txt, ann = base / "data" / f"{name}.txt", base / "data" / f"{name}.ann"
        if not txt.is_file() or not ann.is_file():
            continue
        text = txt.read_text(encoding="utf-8")
        ents = []
        for line in ann.read_text(encoding="utf-8").splitlines():
            if not line.startswith("T"):
                continue
            _, info, _ = (line.split("\t") + ["", ""])[:3]
            parts = info.replace(";", " ").split()
            kind, b, e = parts[0], int(parts[1]), int(parts[-1])
            if kind == "Material":
                ents.append((b, e, "MAT"))
            elif kind in MSPT_VALUE_TYPES:
                ents.append((b, e, None))  # no loss here
        for s0, s1 in split_sentences(text):
            inside = [(b - s0, e - s0, k) for b, e, k in ents if b >= s0 and e <= s1]
            out.append((text[s0:s1], inside))
    return out


def bio_labels(offsets, special, spans) -> list[int]:
    """Label index per word piece: B- on a span's first piece, I- on the rest."""
    y = []
    started: set[int] = set()
    for (s, e), sp in zip(offsets, special, strict=True):
        if sp or e <= s:
            y.append(DROP)
            continue
        label = 0
        for k, (b, end, kind) in enumerate(spans):
            if s < end and b < e:
                if kind is None:
                    label = IGNORE
                else:
                    first = k not in started
                    started.add(k)
                    label = LABELS.index(("B-" if first else "I-") + kind)
                break
        y.append(label)
    return y


@dataclass
class Overlap:
    """Span-overlap counts: a prediction is right if it overlaps a gold span, a gold span is
    found if a prediction overlaps it (the benchmark's SOFC-Exp rule)."""

    right: int = 0
    predicted: int = 0
    found: int = 0
    gold: int = 0

    def add(self, pred: list[tuple[int, int]], gold: list[tuple[int, int]]) -> None:
        self.right += sum(1 for a in pred if any(a[0] < b[1] and b[0] < a[1] for b in gold))
        self.predicted += len(pred)
        self.found += sum(1 for b in gold if any(a[0] < b[1] and b[0] < a[1] for a in pred))
        self.gold += len(gold)

    def scores(self) -> dict[str, float]:
        p = self.right / self.predicted if self.predicted else 0.0
        r = self.found / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3)}


# SuperMat (superconductor papers; annotations CC-BY-4.0, github:lfoppiano/SuperMat; articles
# CC BY 4.0): the gold TEI holds the paper's text with <rs type="material"> spans, so sentences
# come straight from the TEI paragraphs (no PDF alignment). SuperMat marks only some numbers
# (Tc values, pressures), SOFC-Exp marks every value: numbers and the quantities the rules read
# carry no loss here, as MSPT's do.
_TEI = "{http://www.tei-c.org/ns/1.0}"
_TEXT_ELEMENTS = ("title", "p", "ab")
# a number standing alone ("0.5", "−1", "12"); a word holding digits ("Hc2", "63Cu", "mm3")
# keeps its O label, or the tagger learns nothing against marking such symbols
_NUMBER = re.compile(r"(?<![\w.])[-−+±]?\d+(?:[.,]\d+)*(?!\w)")


def supermat(root: Path, stems: list[str]) -> list[Gold]:
    """Sentences of the gold TEI (title, abstract, body paragraphs, captions) of these papers
    in `root` (a folder with gold_tei/), with MAT spans and no-loss spans over numbers."""
    import xml.etree.ElementTree as ET

    out: list[Gold] = []
    for stem in stems:
        tei = ET.parse(root / "gold_tei" / f"{stem}.superconductors.tei.xml").getroot()
        for element in tei.iter():
            if element.tag not in {_TEI + t for t in _TEXT_ELEMENTS}:
                continue
            if element.find(f".//{_TEI}licence") is not None or _inside_licence(tei, element):
                continue
            text, spans = _tei_text(element)
            out += _sentences(text, spans)
    return out


def _inside_licence(tei, element) -> bool:
    return any(element in list(lic.iter()) for lic in tei.iter(f"{_TEI}licence"))


def _tei_text(element) -> tuple[str, list[tuple[int, int, str]]]:
    """An element's text and its <rs> spans (start, end, type); nested <p>s are left to their
    own turn (a caption or a paragraph inside a paragraph)."""
    parts: list[str] = []
    spans: list[tuple[int, int, str]] = []
    pos = 0

    def add(piece: str | None) -> None:
        nonlocal pos
        if piece:
            parts.append(piece)
            pos += len(piece)

    add(element.text)
    for child in element:
        if child.tag in {_TEI + t for t in _TEXT_ELEMENTS}:
            add(child.tail)
            continue
        start = pos
        add("".join(child.itertext()))
        if child.tag == f"{_TEI}rs":
            spans.append((start, pos, child.get("type") or ""))
        add(child.tail)
    return "".join(parts), spans


def _sentences(text: str, spans: list[tuple[int, int, str]]) -> list[Gold]:
    """The paragraph cut into sentences; each keeps the spans wholly inside it."""
    from inference.literature.quantities import find_quantities

    out: list[Gold] = []
    for s0, s1 in split_sentences(text):
        sentence = text[s0:s1].replace("\n", " ")
        mats = [
            (b - s0, e - s0, "MAT") for b, e, t in spans if t == "material" and s0 <= b < e <= s1
        ]
        quiet = [(q.start, q.end, None) for q in find_quantities(sentence)]
        quiet += [
            (b - s0, e - s0, None)
            for b, e, t in spans
            if t in ("tcValue", "pressure") and s0 <= b < e <= s1
        ]
        quiet += [(m.start(), m.end(), None) for m in _NUMBER.finditer(sentence)]
        out.append((sentence, mats + quiet))  # MAT first: bio_labels takes the first overlap
    return out


_SAME = str.maketrans({"−": "-", "–": "-", "‐": "-", "⋅": "·", "•": "·", "∙": "·"})


def supermat_pdf(root: Path, stems: list[str]) -> list[Gold]:
    """Sentences of the papers' PDFs as MatLens reads them (page furniture, author lists and
    captions included, references left out as `extract` does), with MAT where a gold material
    text of the paper occurs, spaces ignored and not inside a longer word: the scoring's own
    rule (per paper, distinct material texts), and the text the tagger meets in use."""
    import xml.etree.ElementTree as ET

    from inference.literature.pdf import parse_pdf
    from inference.literature.quantities import find_quantities
    from inference.literature.sections import EXCLUDED

    out: list[Gold] = []
    for stem in stems:
        tei = ET.parse(root / "gold_tei" / f"{stem}.superconductors.tei.xml").getroot()
        names = {
            "".join("".join(rs.itertext()).translate(_SAME).split())
            for rs in tei.iter(f"{_TEI}rs")
            if rs.get("type") == "material"
        }
        names = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
        paper = parse_pdf(root / "pdf" / f"{stem}.pdf")
        for block in paper.blocks:
            if block.section in EXCLUDED or block.heading:
                continue
            for s0, s1 in split_sentences(paper.text[block.start : block.end], block.start):
                sentence = paper.text[s0:s1].replace("\n", " ")
                mats = _occurrences(sentence, names)
                quiet = [(q.start, q.end, None) for q in find_quantities(sentence)]
                quiet += [(m.start(), m.end(), None) for m in _NUMBER.finditer(sentence)]
                out.append((sentence, [(b, e, "MAT") for b, e in mats] + quiet))
    return out


def _occurrences(sentence: str, names: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) of the names in the sentence, spaces ignored, longest
    first, not a piece of a longer word ("Cu" not in "CuO")."""
    keep = [i for i, ch in enumerate(sentence) if not ch.isspace()]
    squashed = "".join(sentence[i] for i in keep).translate(_SAME)
    found: list[tuple[int, int]] = []
    for name in names:
        pos = squashed.find(name)
        while pos >= 0:
            b, e = keep[pos], keep[pos + len(name) - 1] + 1
            alone = (b == 0 or not sentence[b - 1].isalnum()) and (
                e == len(sentence) or not sentence[e].isalnum()
            )
            if alone and not any(b < y and x < e for x, y in found):
                found.append((b, e))
            pos = squashed.find(name, pos + 1)
    return found
