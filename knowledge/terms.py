"""The knowledge base's words, where a question names them, and what kind each one is.

Two questions are about "the same kind of thing" when their words are of one kind:
two industries, two products with a standard, two fuels, two sizes, two areas of the
plan, or two words the knowledge base itself treats as alternatives — the same topic
group of a fact (A级|B级|C级|D级), or the same place in sibling facts (新建 and 现有 in
the two facts on when new and existing dischargers apply the Yellow River standard).
A follow-up (那现有的呢) replaces the word of its kind in the previous question; a
structured lookup checks that a question names nothing but its key.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.model import Fact, KnowledgeBase
from knowledge.normalize import normalize
from knowledge.scope import HENAN_PLACES


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    term: str


# Kinds of a word that only tie it to one entry's topics (group:N:M) or to the other
# words of its group (sibling): the word is how a question asks, not what it names.
ENTRY_WORDS = frozenset({"group", "sibling"})


class TermIndex:
    """Known words of one knowledge base, each with its kinds; some are subjects (what a
    question is about) rather than ways of asking (负责, 哪些要求)."""

    def __init__(self, units: Iterable[str] = ()) -> None:
        spellings = sorted({normalize(u) for u in units}, key=len, reverse=True)
        # A number with a unit of the KB (or a percentage) is a size: a word of its own kind.
        alts = "|".join([*(re.escape(u) for u in spellings), "%"])
        self._quantity = re.compile(rf"\d+(?:\.\d+)?(?:{alts})")
        self._kinds: dict[str, set[str]] = defaultdict(set)
        self._subjects: set[str] = set()
        self._by_prefix: dict[str, list[str]] = defaultdict(list)

    def add(self, words: Iterable[str], kind: str, subject: bool = True) -> None:
        for word in words:
            word = normalize(word)
            if len(word) < 2:
                continue
            if word not in self._kinds:
                self._by_prefix[word[:2]].append(word)
            self._kinds[word].add(kind)
            if subject:
                self._subjects.add(word)

    def find(self, text: str, subjects_only: bool = False) -> list[Span]:
        """Known words in ``text``, longest first, not overlapping; quantities (10吨/小时,
        3米) count as words of the kind ``quantity``."""
        candidates = []
        for pos in range(len(text) - 1):
            for word in self._by_prefix.get(text[pos : pos + 2], ()):
                if text.startswith(word, pos) and (not subjects_only or word in self._subjects):
                    candidates.append(Span(pos, pos + len(word), word))
        candidates += [Span(m.start(), m.end(), m.group(0)) for m in self._quantity.finditer(text)]
        candidates.sort(key=lambda s: (-(s.end - s.start), s.start))
        taken = [False] * len(text)
        found = []
        for span in candidates:
            if not any(taken[span.start : span.end]):
                taken[span.start : span.end] = [True] * (span.end - span.start)
                found.append(span)
        return sorted(found, key=lambda s: s.start)

    def names(self, word: str) -> bool:
        """Whether ``word`` names a subject (an industry, a task, a product…) rather than
        only a way of asking (牵头, 我们这种): a kind beyond :data:`ENTRY_WORDS`."""
        return any(kind.split(":")[0] not in ENTRY_WORDS for kind in self.kinds(word))

    def kinds(self, word: str) -> set[str]:
        """The kinds of ``word``, and of the known words it ends in: a Chinese compound names
        a kind of its last word (木器涂料 is a 涂料, so it is of a kind with 油墨)."""
        if self._quantity.fullmatch(word):
            return {"quantity"}
        out = set(self._kinds.get(word, ()))
        for start in range(1, len(word) - 1):
            out |= self._kinds.get(word[start:], set())
        return out


def area_words(kb: KnowledgeBase) -> list[tuple[str, str]]:
    """Words that name each area of tasks: a section title without what all such titles
    share (加强工业领域…污染防治 → 大气, 水, 土壤), with 污染 after it, and alone if it is
    two characters or more. Longest first."""
    sections = [s for s in kb.sections if any(t.section == s.id for t in kb.tasks)]
    if len(sections) < 2:
        return []
    titles = [normalize(s.title) for s in sections]
    prefix = common_prefix(titles)
    suffix = common_prefix([t[::-1] for t in titles])[::-1]
    words = []
    for section, title in zip(sections, titles, strict=True):
        name = title[len(prefix) : len(title) - len(suffix)]
        if not name:
            continue
        words.append((name + suffix[:2], section.id))
        if len(name) >= 2:
            words.append((name, section.id))
    return sorted(words, key=lambda w: -len(w[0]))


def common_prefix(texts: list[str]) -> str:
    out = ""
    for chars in zip(*texts, strict=False):
        if len(set(chars)) != 1:
            break
        out += chars[0]
    return out


def build_terms(kb: KnowledgeBase, facts: Iterable[Fact]) -> TermIndex:
    """The term index of ``kb``; ``facts`` are its facts, hand-written and derived."""
    index = TermIndex(s for unit in kb.units for s in (unit.name, *unit.spellings))
    aliases = {normalize(k): normalize(v) for k, v in kb.aliases.items()}

    def with_aliases(words: Iterable[str]) -> list[str]:
        canon = {normalize(w) for w in words}
        return [*canon, *(a for a, c in aliases.items() if c in canon)]

    index.add(with_aliases(kb.industries), "industry")
    index.add(with_aliases(n for r in kb.rules for n in (r.equipment, *r.aliases)), "equipment")
    index.add(with_aliases(c for s in kb.standards for c in s.covers), "product")
    index.add(HENAN_PLACES, "place")
    index.add(kb.offices, "office")
    index.add((w for f in kb.fuels for w in f.words), "fuel")
    index.add((word for word, _ in area_words(kb)), "area")
    for term in kb.glossary:
        index.add(with_aliases((term.term, *term.also)), f"term:{term.term}")
    for task in kb.tasks:
        index.add((*task.keywords, task.title), f"task:{task.number}")
    siblings: dict[tuple[object, ...], list[Fact]] = defaultdict(list)
    for n, fact in enumerate(facts):
        for g, group in enumerate(fact.topics):
            # The first group names what a fact is about; later ones how it is asked.
            index.add(group, f"group:{n}:{g}", subject=g == 0)
        if fact.topics:
            siblings[(fact.task, fact.topics[0])].append(fact)
    for key, group_of in siblings.items():
        if len(group_of) > 1:
            for fact in group_of:
                for g, group in enumerate(fact.topics[1:], start=1):
                    index.add(group, f"sibling:{key}:{g}", subject=False)
    return index
