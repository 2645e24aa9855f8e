"""Lexical retrieval: Okapi BM25 over words and character pairs, pure Python.

Every sentence of the plan is a document (``knowledge.passages``). A document's terms
are its pairs of neighbouring characters (so a question need not segment Chinese the
way the plan does) and the knowledge base's own words it contains (so 冲天炉 counts as
one word, not only as 冲天 and 天炉). A question's terms are the same, after its
aliases and glossary names are put into the plan's words (``Vocabulary.canonical``).

The index is built once, when the engine is; a query touches only the postings of its
own terms. The scores rank candidates; which one answers is decided by the re-ranker
(``Passages.best``: the share of the question a sentence holds).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence


class BM25:
    """An Okapi BM25 index over documents given as term lists."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float, b: float) -> None:
        self.k1, self.b = k1, b
        self._lengths = [len(d) for d in documents]
        self._average = (sum(self._lengths) / len(documents)) if documents else 1.0
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for index, document in enumerate(documents):
            for term, count in Counter(document).items():
                self._postings[term].append((index, count))
        total = len(documents)
        self._idf = {
            term: math.log(1 + (total - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self._postings.items()
        }

    def scores(self, query: Iterable[str]) -> dict[int, float]:
        """Document index → BM25 score, for the documents sharing a term with ``query``."""
        out: dict[int, float] = defaultdict(float)
        k1, b, average = self.k1, self.b, self._average or 1.0
        for term in set(query):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for index, count in self._postings[term]:
                norm = k1 * (1 - b + b * self._lengths[index] / average)
                out[index] += idf * count * (k1 + 1) / (count + norm)
        return out

    def top(self, query: Iterable[str], limit: int) -> list[tuple[int, float]]:
        """The ``limit`` best documents for ``query``, best first."""
        found = self.scores(query)
        return sorted(found.items(), key=lambda p: (-p[1], p[0]))[:limit]


def terms_of(text: str, words: Callable[[str], Iterable[str]]) -> list[str]:
    """The terms of a (normalised) text: its character pairs and its known ``words``."""
    pairs = [text[i : i + 2] for i in range(len(text) - 1)
             if not any(ch in "，。；、,.;:：（）()《》“”\"' " for ch in text[i : i + 2])]
    return pairs + [f"w:{w}" for w in words(text)]
