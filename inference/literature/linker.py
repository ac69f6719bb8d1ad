"""Which sample a Tc value belongs to, chosen among the samples around it.

The syntax rules of `links` pick one sample per value inside its sentence (else the paragraph's
current sample, else the paper's main sample). A learned linker weighs more: every sample
mention of the value's sentence, of the earlier sentences of its paragraph, and the samples the
paper names most, each scored from cues (`features`: whether it is the rules' choice and by
which rule, distance, order, the mention's kind, whether it is the paragraph's current sample,
how often and how early the paper names it, the section, whether the value has a qualifier,
...). The best candidate gets the value when it scores high enough; else the value keeps no
material (a wrong link is worse than none).

The model ships as a model card (`resources/models/tc_linker.json`: training data, licence,
scores) that carries its coefficients: a logistic regression per (value, candidate) pair with
a probability threshold (`LinearLinker`), or one softmax over a value's candidates and a "no
material" option scored from the value's own cues (`SoftmaxLinker`); the card also says how
many of the paper's most named samples join the candidates. Without the card the rule linker
is used.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from dataclasses import dataclass

from inference.literature.materials import MaterialSpan, placeholders
from inference.literature.variables import variables_of

CARD = "tc_linker.json"
# "paragraph": the rules' fallback when the sentence names no sample
RULE_LINKS = ("bracket", "for", "subject", "sentence", "after", "respectively", "paragraph")
KINDS = ("formula", "abbreviation", "doping", "code", "descriptor", "element", "name")
FRONT_SENTENCES = 4
# how many of the paper's most named samples join every value's candidates (a card that says
# nothing; the samples a paper names most are its subject)
PAPER_CANDIDATES = 3
# a paper that names one sample in at least this share of its sample mentions is about that
# sample: a Tc value whose paragraph names no sample goes to it (cross-validated on the halves
# of the tuning papers: 0.65-0.75 help both halves, below 0.6 reviews and multi-sample papers
# lose more than single-sample papers gain)
MAIN_SAMPLE_SHARE = 0.7
SECTIONS = ("abstract", "introduction", "experimental", "results", "captions", "conclusions")
_CLAUSE_BREAK = re.compile(r";|\bwhile\b|\bwhereas\b|\bbut\b")
_TC_WORD = re.compile(r"T\s?c|critical temperature|transition temperature|superconduct", re.I)
# a pressure or field the value is measured under: "32 K at 1 GPa", "53 K in 7-T field"
_CONDITION = re.compile(r"\d\s?-?(?:GPa|kbar|kOe|Oe|kG|G|T)\b|pressure|field", re.I)
_CITATION_AFTER = re.compile(r"^\s*(?:\[\d|\d{1,3}(?:[,-]\d{1,3})*\s*(?:[).,;]|$))")
_REPORTED = re.compile(r"report|record|previous|literature|known|highest|discover", re.I)


@dataclass(frozen=True)
class Candidate:
    """A sample mention that a Tc value may belong to."""

    mention: MaterialSpan  # offsets inside its sentence
    offset: int  # its sentence's offset in Paper.text
    sentence: int  # index of its sentence in the paper
    written: str  # as written, spaces normalised
    scope: str  # sentence (the value's) | paragraph (an earlier sentence of it) | paper

    @property
    def start(self) -> int:
        return self.offset + self.mention.start

    @property
    def end(self) -> int:
        return self.offset + self.mention.end

    @property
    def key(self) -> str:
        """What names this material across the paper: the written text without spaces."""
        return "".join(self.written.split())


@dataclass(frozen=True)
class LinkQuery:
    """A Tc value and the candidates for its material."""

    value: tuple[int, int]  # offsets in Paper.text
    offset: int  # the value's sentence's offset in Paper.text
    sentence: int  # index of that sentence in the paper
    text: str  # the sentence (normalised)
    keyword: tuple[int, int] | None  # the Tc words, offsets inside the sentence
    qualifier: str
    modifier: str  # the value's: =, ~, >, <, >=, <=, range
    uncertain: bool  # written with an uncertainty ("5.91(2) K")
    section: str
    n_values: int  # Tc values in the sentence
    rule: Candidate | None  # the rules' choice
    rule_link: str  # how the rules chose it (`RULE_LINKS`), "" for none
    current: Candidate | None  # the paragraph's current sample
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class PaperCounts:
    """How often the paper names each sample (by `Candidate.key`) and their ranks."""

    counts: dict[str, int]
    rank: dict[str, int]  # 0 = the paper's most named sample
    first: dict[str, int]  # index of the sentence that names it first

    @classmethod
    def of(cls, keys: list[str], sentences: list[int]) -> PaperCounts:
        """From every sample mention's key and sentence index, in reading order."""
        counts = Counter(keys)
        first: dict[str, int] = {}
        for k, i in zip(keys, sentences, strict=True):
            first.setdefault(k, i)
        order = sorted(counts, key=lambda k: (-counts[k], first[k]))
        return cls(dict(counts), {k: i for i, k in enumerate(order)}, first)

    @functools.cached_property
    def main(self) -> str | None:
        """The sample the paper is about: the one it names in at least `MAIN_SAMPLE_SHARE` of
        its sample mentions (None when no sample is named that often). Cached: the learned
        linker asks for it once per candidate of every value."""
        if not self.counts:
            return None
        top = min(self.rank, key=self.rank.__getitem__)
        total = sum(self.counts.values())
        return top if self.counts[top] >= MAIN_SAMPLE_SHARE * total else None


@dataclass(frozen=True)
class LinkChoice:
    candidate: Candidate | None
    link: str  # a rule's name, "learned" (the model chose another sample) or "none"
    score: float  # the model's probability for the chosen candidate (1.0 for the rules)


def _variable(formula: str) -> bool:
    return bool(variables_of(formula) or placeholders(formula))


def features(query: LinkQuery, c: Candidate, paper: PaperCounts) -> dict[str, float]:
    """The cues one (value, candidate) pair is scored on; absent keys count 0."""
    f: dict[str, float] = {}
    is_rule = query.rule is not None and (query.rule.start, query.rule.end) == (c.start, c.end)
    if is_rule:
        f["rule"] = 1.0
        f[f"rule_{query.rule_link}"] = 1.0
    f[f"scope_{c.scope}"] = 1.0
    back = query.sentence - c.sentence
    if c.scope != "paper":
        f["sentences_back"] = min(back, 4) / 4
    v0, v1 = query.value
    before = c.end <= v0
    f["before" if before else "after"] = 1.0
    distance = v0 - c.end if before else c.start - v1
    f["log_distance"] = math.log1p(max(distance, 0)) / 8
    window = [x for x in query.candidates if x.scope != "paper"]
    if before:
        between = [x for x in window if c.end <= x.start and x.end <= v0]
    else:
        between = [x for x in window if v1 <= x.start and x.end <= c.start]
    f["between"] = min(len({x.key for x in between} - {c.key}), 3) / 3
    if not between and c.scope != "paper":
        f["nearest_before" if before else "nearest_after"] = 1.0
    kind = c.mention.kind if c.mention.kind in KINDS else "name"
    f[f"kind_{kind}"] = 1.0
    if query.current is not None and query.current.key == c.key:
        f["current"] = 1.0
    f["log_count"] = math.log1p(paper.counts.get(c.key, 0)) / 4
    rank = paper.rank.get(c.key, 99)
    if rank == 0:
        f["top1"] = 1.0
    if rank < 3:
        f["top3"] = 1.0
    total = sum(paper.counts.values())
    f["share"] = paper.counts.get(c.key, 0) / total if total else 0.0
    if paper.first.get(c.key, 99) < FRONT_SENTENCES:
        f["named_in_front"] = 1.0  # in the title or the abstract's first sentences
    if paper.first.get(c.key, 99) == 0:
        f["in_title"] = 1.0
    most = max(paper.counts.values(), default=0)
    f["count_rel"] = paper.counts.get(c.key, 0) / most if most else 0.0
    main = paper.main
    if main == c.key:
        f["paper_main"] = 1.0
    if query.rule is not None and query.rule.key == c.key:
        f["rule_key"] = 1.0  # the rules' material, maybe named at another place
    if (query.rule.key if query.rule is not None else main) == c.key:
        f["rules_choice"] = 1.0  # what `matlens extract --linker rules` gives the value
    f |= query_features(query)
    if _variable(c.mention.formula):
        f["variable"] = 1.0
    if c.mention.compositions:
        f["compositions"] = 1.0
    if c.scope == "sentence":
        s = query.text
        a, b = (
            (c.mention.end, v0 - query.offset) if before else (v1 - query.offset, c.mention.start)
        )
        gap = s[a:b]
        if _CLAUSE_BREAK.search(gap):
            f["clause_break"] = 1.0
        if query.keyword is not None and a <= query.keyword[0] and query.keyword[1] <= b:
            f["keyword_between"] = 1.0
        if before and re.match(r"^\s*\(", gap):
            f["bracket"] = 1.0
        if _TC_WORD.search(gap):
            f["tc_word_between"] = 1.0
    return f


def query_features(query: LinkQuery) -> dict[str, float]:
    """The cues of the value itself, alike for all its candidates; absent keys count 0."""
    f: dict[str, float] = {}
    if query.rule is None:
        f["no_rule"] = 1.0
    else:
        f[f"rule_link_{query.rule_link}"] = 1.0
    if query.section in SECTIONS:
        f[f"section_{query.section}"] = 1.0
    if query.qualifier:
        f["qualified"] = 1.0
    if query.modifier in (">", "<", ">=", "<="):
        f["bound"] = 1.0
    elif query.modifier == "~":
        f["approximate"] = 1.0
    elif query.modifier == "range":
        f["range"] = 1.0
    if query.uncertain:
        f["uncertain"] = 1.0
    v0, v1 = query.value
    s0, s1 = v0 - query.offset, v1 - query.offset
    if _CONDITION.search(query.text[s1 : s1 + 40]) or _CONDITION.search(
        query.text[max(0, s0 - 40) : s0]
    ):
        f["condition"] = 1.0
    if _CITATION_AFTER.match(query.text[s1 : s1 + 12]):
        f["citation"] = 1.0
    if _REPORTED.search(query.text):
        f["reported"] = 1.0
    if not any(x.scope == "sentence" for x in query.candidates):
        f["no_sentence_sample"] = 1.0
    if "respectively" in query.text:
        f["respectively"] = 1.0
    if query.n_values > 1:
        f["several_values"] = 1.0
    if query.keyword is None:
        f["no_keyword"] = 1.0
    return f


@dataclass(frozen=True)
class LinearLinker:
    """Logistic regression over `features`; a value links to its best candidate above
    `threshold`."""

    weights: dict[str, float]  # per feature name; features the model never saw weigh 0
    intercept: float
    threshold: float
    paper_candidates: int = PAPER_CANDIDATES

    def score(self, query: LinkQuery, c: Candidate, paper: PaperCounts) -> float:
        f = features(query, c, paper)
        z = self.intercept + sum(self.weights.get(n, 0.0) * v for n, v in f.items())
        return 1.0 / (1.0 + math.exp(-z))

    def choose(self, query: LinkQuery, paper: PaperCounts) -> LinkChoice:
        best, best_p = None, -1.0
        for c in query.candidates:
            p = self.score(query, c, paper)
            if p > best_p:
                best, best_p = c, p
        if best is None or best_p < self.threshold:
            return LinkChoice(None, "none", max(best_p, 0.0))
        same = query.rule is not None and query.rule.key == best.key
        return LinkChoice(best, query.rule_link if same else "learned", best_p)


@dataclass(frozen=True)
class SoftmaxLinker:
    """One softmax over a value's candidates and a "no material" option: each candidate
    scores `weights` · `features`, the option scores `none_bias` + `none_weights` ·
    `query_features`. The best candidate gets the value when it outscores the option by
    `margin` (in logits); else the value keeps no material."""

    weights: dict[str, float]
    none_weights: dict[str, float]
    none_bias: float
    margin: float
    paper_candidates: int = PAPER_CANDIDATES

    def choose(self, query: LinkQuery, paper: PaperCounts) -> LinkChoice:
        none = self.none_bias + sum(
            self.none_weights.get(n, 0.0) * v for n, v in query_features(query).items()
        )
        scores = [
            sum(self.weights.get(n, 0.0) * v for n, v in features(query, c, paper).items())
            for c in query.candidates
        ]
        top = max([none, *scores])
        total = math.exp(none - top) + sum(math.exp(z - top) for z in scores)
        if not scores:
            return LinkChoice(None, "none", 0.0)
        i = max(range(len(scores)), key=scores.__getitem__)
        p = math.exp(scores[i] - top) / total
        if scores[i] - none < self.margin:
            return LinkChoice(None, "none", p)
        best = query.candidates[i]
        same = query.rule is not None and query.rule.key == best.key
        return LinkChoice(best, query.rule_link if same else "learned", p)


class RuleLinker:
    """The syntax rules' choice (`links.choose`, else the paragraph's current sample)."""

    def choose(self, query: LinkQuery, paper: PaperCounts) -> LinkChoice:
        if query.rule is None:
            return LinkChoice(None, "none", 0.0)
        return LinkChoice(query.rule, query.rule_link, 1.0)


@functools.lru_cache(maxsize=1)
def default_linker() -> LinearLinker | SoftmaxLinker | RuleLinker:
    """The shipped learned linker, or the rules when its card is missing or unreadable."""
    from inference.runtime.paths import resources_dir

    path = resources_dir() / "models" / CARD
    try:
        extra = json.loads(path.read_text(encoding="utf-8"))["extra"]
        if extra.get("objective") == "softmax":
            return SoftmaxLinker(
                {str(k): float(w) for k, w in extra["weights"].items()},
                {str(k): float(w) for k, w in extra["none_weights"].items()},
                float(extra["none_bias"]),
                float(extra["margin"]),
                int(extra.get("paper_candidates", PAPER_CANDIDATES)),
            )
        return LinearLinker(
            {str(k): float(w) for k, w in extra["weights"].items()},
            float(extra["intercept"]),
            float(extra["threshold"]),
            int(extra.get("paper_candidates", PAPER_CANDIDATES)),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return RuleLinker()
