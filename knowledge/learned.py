"""Questions staff taught the bot: a question the engine could not answer, attached to
the knowledge-base entry that answers it.

Kept apart from the engine's own matching (which a knowledge-base edit would retune):
a question is matched to a taught one after the same normalisation the engine uses
(width, script, numerals, spacing, punctuation), exactly or — for the typo a phone
keyboard adds — with a rapidfuzz similarity of at least :data:`W.learned_similarity`, or one
character off when it is :data:`W.learned_typo_length` characters or longer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from knowledge.normalize import normalize
from knowledge.weights import W

_NOISE = re.compile(r"[\s\W_]+")


def learned_key(question: str) -> str:
    """What a taught question is stored and matched under."""
    return _NOISE.sub("", normalize(question))


class LearnedQuestions:
    """Taught questions → the id of the entry that answers them."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._facts = dict(pairs)  # learned key -> fact id
        self._keys = list(self._facts)

    def match(self, question: str) -> str | None:
        """The entry a question was taught to mean, or None."""
        key = learned_key(question)
        if not key:
            return None
        if key in self._facts:
            return self._facts[key]
        found = process.extractOne(key, self._keys, scorer=fuzz.ratio,
                                   score_cutoff=W.learned_similarity)
        if found:
            return self._facts[found[0]]
        # One character mistyped (a homophone from a pinyin keyboard, a slip), as the
        # engine repairs in the knowledge base's own words.
        if len(key) >= W.learned_typo_length:
            near = process.extractOne(key, self._keys, scorer=Levenshtein.distance,
                                      score_cutoff=1)
            if near and len(near[0]) >= W.learned_typo_length:
                return self._facts[near[0]]
        return None

    def __len__(self) -> int:
        return len(self._keys)
