"""The plan's text as sentences, so a question about one detail gets that sentence.

A long task (二（一）16 is over 300 characters) holds many answers. When the best
fact is a whole task, the answer is the sentence of the plan's text that the
question's words point to: the one that holds most of the question's content,
each pair of characters weighted by how rare it is in the plan (``coverage``).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from knowledge.intents import FILLERS, without_cues
from knowledge.model import KnowledgeBase, Task
from knowledge.normalize import normalize
from knowledge.retrieval import BM25, terms_of
from knowledge.weights import W

# "（节能与综合利用处负责。）": who is responsible is said elsewhere, not in a detail.
_RESPONSIBILITY = re.compile(r"[（(][^（）()]*负责[^（）()]*[）)]")
_SENTENCE = re.compile(r"[^。；\n]+[。；]?")
_RUN = re.compile(r"[\u4e00-\u9fffa-z0-9]+")
_SINGLE_FILLERS = frozenset(w for w in FILLERS if len(w) == 1)
_BRACKETS = re.compile(r"[()（）《》“”\"']")  # 处（室） reads 处室
SUMMARY_CHARS = 100  # a task's overview: its opening sentences, about this long
# Greetings, pronouns and particles; single characters only when they are particles, so
# 现有 and 以下 keep their 有 and 下.
_FILLER = re.compile("|".join(re.escape(w) for w in sorted(FILLERS, key=len, reverse=True)
                              if len(w) > 1 or w in "的了吗呢啊吧呀嘛么"))


# What a sentence gives beyond a description: dates, figures, standard numbers, offices.
_GIVES = {
    "when": re.compile(r"\d{4}年|月底|日起|年底"),
    "target": re.compile(r"\d+(?:\.\d+)?(?:%|万|台|家|个)"),
    "standard": re.compile(r"GB|DB\d"),
    "who": re.compile(r"负责|牵头"),
}


@dataclass(frozen=True)
class Passage:
    text: str  # the sentence as the plan writes it, ending in 。
    task: int | None  # None: a work requirement
    clause: str  # its citation

    @property
    def gives(self) -> frozenset[str]:
        return frozenset(kind for kind, cue in _GIVES.items() if cue.search(self.text))


def bigrams(text: str) -> set[str]:
    """Pairs of neighbouring characters of ``text`` (normalised, fillers dropped), Chinese,
    Latin or digits: "d级" keeps D级 apart from B级."""
    out: set[str] = set()
    for run in _RUN.findall(_FILLER.sub(" ", _BRACKETS.sub("", normalize(text)))):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def split(text: str) -> list[str]:
    """The sentences (and ；-clauses) of a task's text, responsibility notes dropped."""
    text = _RESPONSIBILITY.sub("", text)
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.strip()) > 6]


def body(task: Task) -> list[str]:
    """The sentences of a task's text after its title (the text opens with the title)."""
    return [s for s in split(task.text) if s.rstrip("。；") != task.title]


def summary(task: Task, limit: int = SUMMARY_CHARS) -> str:
    """The task's opening sentences, whole, about ``limit`` characters; a first sentence
    longer than that is cut at a clause (，) and closed, never left with "……"."""
    sentences = body(task)
    out = ""
    for sentence in sentences:
        if out and len(out) + len(sentence) > limit:
            break
        out += sentence
    if len(out) > limit * 1.5:
        cut = out.rfind("，", 0, limit)
        out = out[:cut] + "。" if cut > 20 else out
    return out[:-1] + "。" if out.endswith("；") else out


class Passages:
    """Every sentence of the plan: the tasks' texts, the work requirements, the appendix's
    key tasks and the document's purpose; retrieved with BM25 (``knowledge.retrieval``),
    re-ranked by the share of the question each holds."""

    def __init__(self, kb: KnowledgeBase,
                 words: Callable[[str], Iterable[str]] = lambda text: (),
                 *, k1: float = 1.2, b: float = 0.75, candidates: int = 12):
        items: list[Passage] = []
        for task in kb.tasks:
            items += [Passage(_ended(sentence), task.number, task.citation)
                      for sentence in body(task)]
        for req in kb.document.requirements:
            clause = f"{req.clause} {req.title}".strip()
            items += [Passage(_ended(sentence), None, clause) for sentence in split(req.text)]
        items += [Passage(_ended(item.text), None, f"附件 重点任务分工第{item.number}项")
                  for item in kb.document.key_tasks]
        items += [Passage(_ended(s), None, "一 总体要求") for s in split(kb.document.purpose)]
        self.items = items
        self._words = words
        self._candidates = candidates
        self.index = BM25([terms_of(normalize(p.text), words) for p in items], k1=k1, b=b)
        self._grams = [bigrams(p.text) for p in items]
        self._gives = [p.gives for p in items]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, grams in enumerate(self._grams):
            for gram in grams:
                self._postings[gram].append(index)
        df: Counter[str] = Counter(g for grams in self._grams for g in grams)
        total = len(items) or 1
        self._idf = {g: math.log(1 + total / n) for g, n in df.items()}
        self._unseen = math.log(1 + total)  # a pair the plan never writes weighs the most

    def _weights(self, question: str) -> dict[str, float] | None:
        """The question's pairs with their rarity. A pair the plan never writes that holds a
        one-character filler (要做, 务要) is an artefact of how the question is put, not
        content; a pair the plan does write (现有, 以下) is kept whatever it holds."""
        wanted = {g for g in bigrams(without_cues(question, " "))
                  if g in self._idf or not _SINGLE_FILLERS.intersection(g)}
        if len(wanted) < W.min_pairs:
            return None
        return {g: self._idf.get(g, self._unseen) for g in wanted}

    def share_in(self, questions: Iterable[str], text: str) -> float:
        """The share of the question ``text`` holds, as a sentence's share is counted."""
        grams = bigrams(text)
        best = 0.0
        for form in dict.fromkeys(questions):
            weight = self._weights(form)
            if weight:
                best = max(best, sum(w for g, w in weight.items() if g in grams)
                           / sum(weight.values()))
        return best

    def retrieve(self, questions: Iterable[str]) -> list[tuple[int, float]]:
        """The candidate sentences for a question (its forms: as typed, with the plan's
        words for its aliases), best BM25 score first."""
        query: list[str] = []
        for form in dict.fromkeys(questions):
            query += terms_of(without_cues(form, " "), self._words)
        return self.index.top(query, self._candidates)

    def _held(self, questions: Iterable[str]) -> dict[int, float]:
        """Candidate index → the share of the question it holds: the best over the
        question's forms (as typed; with the plan's words for its aliases)."""
        forms = list(dict.fromkeys(questions))
        candidates = {index for index, _ in self.retrieve(forms)}
        held: dict[int, float] = {}
        for form in forms:
            weight = self._weights(form)
            if not weight:
                continue
            scale = 1 / sum(weight.values())
            sums: dict[int, float] = defaultdict(float)
            for gram, w in weight.items():
                for index in self._postings.get(gram, ()):
                    if index in candidates:
                        sums[index] += w * scale
            for index, value in sums.items():
                if value > held.get(index, 0.0):
                    held[index] = value
        return held

    def top(self, questions: Iterable[str], limit: int) -> list[tuple[float, Passage]]:
        """The ``limit`` sentences holding most of the question, with their shares."""
        held = sorted(self._held(questions).items(), key=lambda p: -p[1])[:limit]
        return [(share, self.items[index]) for index, share in held]

    def explained(self, questions: Iterable[str], limit: int
                  ) -> list[tuple[float, float, Passage]]:
        """The retrieved sentences, best BM25 first: (BM25 score, share held, sentence)."""
        forms = list(questions)
        held = self._held(forms)
        return [(score, held.get(index, 0.0), self.items[index])
                for index, score in self.retrieve(forms)[:limit]]

    def best(self, questions: Iterable[str], tasks: Iterable[int | None] | None = None,
             asked: frozenset[str] = frozenset()) -> Found | None:
        """The sentence (of ``tasks``, or of all) holding the largest share of the question's
        content, pairs weighted by rarity, among those that give what is ``asked`` (a date
        to a question about when). On a tie, a sentence that gives only what is asked (no
        dates to a question that is not about when) goes first, then the earlier one; a
        sentence of the same clause that ties with it comes along."""
        allowed = None if tasks is None else set(tasks)
        scored = []
        for index, share in self._held(questions).items():
            passage, gives = self.items[index], self._gives[index]
            if (allowed is not None and passage.task not in allowed) or not asked <= gives:
                continue
            scored.append((share, gives <= asked, -index, passage))
        if not scored:
            return None
        top_share = max(s[0] for s in scored)
        # Shares equal up to rounding are a tie.
        scored = [(top_share if top_share - s[0] < 1e-9 else s[0], *s[1:]) for s in scored]
        top = max(scored, key=lambda s: s[:3])
        tied = sorted((s for s in scored if s[0] == top[0] and s[3].clause == top[3].clause),
                      key=lambda s: -s[2])
        chosen = [top[3]] if len(tied) > W.max_sentences else [s[3] for s in tied]
        return Found(tuple(chosen), top[0])


@dataclass(frozen=True)
class Found:
    """The sentence(s) that answer a question, and the share of it they hold."""

    passages: tuple[Passage, ...]
    share: float

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.passages)

    @property
    def clause(self) -> str:
        return self.passages[0].clause


def _ended(sentence: str) -> str:
    return sentence[:-1] + "。" if sentence.endswith("；") else (
        sentence if sentence.endswith("。") else sentence + "。")
