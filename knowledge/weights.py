"""The engine's tuned constants, in one object (``W``), read by every module that scores.

Changing one is a tuning decision: run every question set (bench/engine_scores.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    """Every tuned constant of the engine, in one place (tuned on the development set; see
    README, "How a question is answered")."""

    # -- ranking facts (knowledge.engine) --

    topic: float = 2.0  # share of the fact's topic groups the question names
    specific: float = 0.12  # per character of the matched topic words, weighted by rarity
    intent: float = 0.6  # the question asks what the fact answers (negative when otherwise)
    fuzzy: float = 1.0  # similarity to the fact's sample questions
    answer: float = 1.5  # the question's words reappearing in the answer (above the floor)
    answer_floor: float = 0.3  # partial similarity any two sentences reach by chance
    answer_check: int = 8  # leaders whose answers are compared with the question
    derived_penalty: float = 0.25  # a hand-written fact beats a derived one on a tie
    min_coverage: float = 0.4  # share of the question's content the engine understood
    fuzzy_clear: float = 0.5  # ...unless it is this close to one of a fact's sample questions
    giving_margin: float = 0.8  # how far behind a fact giving the asked kind of answer may be
    short_match: int = 2  # a match on this many topic characters or fewer is thin...
    thin_coverage: float = 0.5  # ...and needs this share of the question understood
    min_specific_to_suggest: float = 3  # fewer matched topic characters: no lead at all
    lead_coverage: float = 0.6  # ...unless this share of the question is understood
    passage_sure: float = 0.8  # with no fact for it, a sentence holding this much of a question
    passage_lead: float = 0.6  # ...or this much, when it leads the next sentence by...
    passage_margin: float = 0.4  # ...this much
    sentence_over_fact: float = 0.3  # a sentence holding this much more than a fact's answer
    # -- sentences (knowledge.passages, knowledge.retrieval) --
    min_pairs: int = 3  # a question of fewer content pairs is too short to pin to a sentence
    max_sentences: int = 2  # sentences of one task answering equally well, shown together
    bm25_k1: float = 1.2  # BM25 term-frequency saturation (knowledge.retrieval)
    bm25_b: float = 0.75  # BM25 length normalisation
    candidates: int = 12  # sentences BM25 retrieves for the re-ranker
    # -- follow-ups, typos, taught questions --
    max_ask_only: int = 2  # characters left once its cues are gone, for a question to name nothing
    any_typo_length: int = 5  # from this length on, any one wrong character is repaired
    max_typo_scan: int = 120  # characters of a question scanned for typos
    learned_similarity: float = 92.0  # rapidfuzz ratio a taught question must reach...
    learned_typo_length: int = 6  # ...or, this long or longer, be one character off


W = Weights()
