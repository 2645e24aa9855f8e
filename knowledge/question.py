"""A message parsed once into a typed question: its parts, what is asked, its subjects.

Everything after parsing reads the ``Question``, never the raw text again:

* ``parts``: a message holding several questions (…吗？另外…哪个处管？) split into them;
  clauses that ask nothing (我们是做铸造的，) are context and stay with the part after them;
* ``asked``: what kind of answer each question wants, as :class:`Asked` members;
* ``subjects``: the knowledge base's words it names, by kind (industry, equipment,
  product, place, office, fuel, area, task…), with sizes (10吨/小时) as ``quantity``;
* ``department``: a cooperating department it names (配合省市场监管局 → 市场监管);
* ``figure``: the kind of figure it asks for (多少天 → 天, 百分之多少 → %), if any.

How people ask in Chinese lives here and in ``knowledge.intents``; which words are of
one kind comes from the knowledge base (``knowledge.terms``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from knowledge.intents import detect_intents
from knowledge.terms import TermIndex


class Asked(Enum):
    """What kind of answer a question wants (from the cue words of ``knowledge.intents``)."""

    WHO = "who"  # an office or department
    WHEN = "when"  # a date or deadline
    STANDARD = "standard"  # a standard's number or name
    HOW_MANY = "target"  # a figure, a share, a count
    LIST = "list"  # the members of a list
    VERDICT = "ban"  # yes or no: is it banned, covered, allowed
    DEFINITION = "what"  # what something is or says
    DETAIL = "how"  # what must be done


# A message's questions are separated by question marks, semicolons, or words that
# open another question (另外…); 还有 only between two long enough clauses.
_SEPARATOR_KEPT = re.compile(r"([^?;。!]+)([?;。!]*)")
_INTERROGATIVE = re.compile(r"哪|什么|啥|几|多少|如何|怎么|怎样|[吗呢么]$|有没有|是不是|算不算|能不能|要不要")
_ANOTHER = re.compile(r"(?:另外|此外|再就是|同时想问|还想问|另问|再问)[,:，]?")
_ALSO = re.compile(r"(?<=[吗呢么行不])还有(?=.{4,})")
MIN_PART = 3  # characters a piece needs to be a question of its own
# The kind of figure a question asks for: 多少天, 几家, 百分之多少, 多少亿, 多少克每升…
_FIGURE = re.compile(
    r"(?:多少|几)(个百分点|克每升|克/升|g/l|万元|亿元|万|亿|元|天|个月|月|年|台|家|个|项|条|次|吨|米|小时|人|%)?"
    r"|百分之(?:多少|几)|比例(?:是|为)?(?:多少|多大)|多久|多长时间"
)
# A cooperating department: 配合省市场监管局, 配合税务部门, 需要配合省发展改革委.
_DEPARTMENT = re.compile(
    r"配合(?:省|国家|市|县)?([\u4e00-\u9fff]{2,8}?)(?:部门|厅|局|委员会|委|总局)"
)


@dataclass(frozen=True)
class Question:
    """One question of a message, parsed."""

    text: str  # normalised
    asked: frozenset[Asked]
    subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    department: str = ""
    figure: str | None = None  # None: no figure asked; "": a bare figure (多少)

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(a.value for a in self.asked)

    def named(self, kind: str) -> tuple[str, ...]:
        return self.subjects.get(kind, ())


def parse(text: str, terms: TermIndex) -> Question:
    """The typed question ``text`` (normalised) stands for."""
    asked = frozenset(Asked(i) for i in detect_intents(text))
    subjects: dict[str, list[str]] = {}
    for span in terms.find(text):
        for kind in terms.kinds(span.term):
            head = kind.split(":")[0]
            if head in {"group", "sibling"}:
                continue
            subjects.setdefault(head, [])
            if span.term not in subjects[head]:
                subjects[head].append(span.term)
    department = ""
    m = _DEPARTMENT.search(text)
    if m:
        department = m.group(1)
    figure = None
    f = _FIGURE.search(text)
    if f:
        figure = "%" if "百分" in f.group(0) or "比例" in f.group(0) else (f.group(1) or "")
    return Question(text, asked, {k: tuple(v) for k, v in subjects.items()}, department,
                    figure)


def split_parts(text: str) -> list[str]:
    """The questions of a normalised message, in order; one part if it holds one. A piece
    before a question mark is a question; another piece only if it asks something."""
    pieces: list[tuple[str, bool]] = []
    for chunk, mark in _SEPARATOR_KEPT.findall(text):
        split = _ANOTHER.split(chunk)
        for n, piece in enumerate(split):
            subs = _ALSO.split(piece) if len(piece) > 12 else [piece]
            for m, sub in enumerate(subs):
                last = n == len(split) - 1 and m == len(subs) - 1
                pieces.append((sub, bool(mark.strip(".。!")) and last))
    parts: list[str] = []
    context = ""
    for piece, marked in ((p.strip(",:，、 "), q) for p, q in pieces):
        if len(piece) < MIN_PART:
            continue
        if not (marked or detect_intents(piece) or _INTERROGATIVE.search(piece)):
            context += piece + ","
            continue
        parts.append(context + piece)
        context = ""
    if context and parts:
        parts[-1] += "," + context.rstrip(",")
    elif context:
        parts.append(context.rstrip(","))
    return parts or [text]
