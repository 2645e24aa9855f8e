"""Follow-up questions: what they leave out, and the standalone question they stand for.

In a chat people ask "那石灰窑呢？" after "陶瓷企业工业炉窑治理要达到啥目标", or
"哪个处负责？" after a question about door-access systems. Two shapes:

* a new subject only (那…呢, 还有…吗, …的呢): the previous question is asked again with
  the new subject in place of the word of the same kind (see ``knowledge.terms``):
  "石灰窑，企业工业炉窑治理要达到啥目标";
* a new kind of answer only (哪个处负责？, 这个什么时候截止): the previous question's
  subject is kept and asked the new way: "门禁系统要建完，哪个处负责".

How people ask in Chinese lives here; which words are of one kind comes from the
knowledge base. The caller decides how long a previous question stays current.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

from knowledge.intents import FILLERS, INTENT_PATTERNS, detect_intents
from knowledge.normalize import to_simplified
from knowledge.terms import TermIndex
from knowledge.weights import W

_OPENER = re.compile(r"^(?:那么|那(?![个种些样])|还有|另外|再问一下|再问|如果是|要是|换成|换做)")
_CLOSER = re.compile(r"(?:的话)?(?:呢|怎么样|咋样|又如何|如何|又怎样|怎样)?[?？!！。.~…]*$")
_ENDS_WITH_NE = re.compile(r"呢[?？!！。.~…]*$")
_PRONOUN = re.compile(r"这个|这项|这条|这件事|这件|该项|这块|这事|此项|上述|上面这|它")
# Verbs of asking that carry no subject: "哪个处负责" names nothing but what is asked.
_ASKING = re.compile(r"负责|管|归|找|牵头|办|截止|完成|执行|要求|规定|呢|开始|实施|施行|生效|"
                     r"印发|发布|出台|制定|从|起|谁")
_ASK_PATTERN = re.compile(
    "|".join(re.escape(w) for intent, words in INTENT_PATTERNS.items() if intent != "ban"
             for w in sorted(words, key=len, reverse=True))
)
_YES_NO_TAIL = re.compile(r"(?:吗|么|没有|不)?[?？!！。.~…]*$")
_FILLER_RE = re.compile("|".join(re.escape(w) for w in sorted(FILLERS, key=len, reverse=True)))
_TRADE = re.compile(r"([\u4e00-\u9fff]{2,6}?)(?:加工厂|厂|企业|公司|行业)")


class Shape(Enum):
    SUBJECT = "subject"  # a new subject only: 那石灰窑呢
    ASK = "ask"  # a new kind of answer only: 哪个处负责
    BOTH = "both"  # 那抽检率有要求吗: complete on its own, unless it is not


@dataclass(frozen=True)
class FollowUp:
    shape: Shape
    core: str  # the question without 那/还有 and 呢
    shown: str  # the new subject as the user wrote it, for the answer to lead with


@dataclass(frozen=True)
class Merged:
    text: str  # the standalone question
    replaced: bool  # the new subject took the place of a word of the previous question
    shown: str  # what the answer says it understood


def follow_up_of(text: str, raw: str, terms: TermIndex) -> FollowUp | None:
    """The follow-up shape of the normalised question ``text`` (``raw``: as typed), if any."""
    opener = _OPENER.match(text)
    core = _CLOSER.sub("", text[opener.end() :] if opener else text)
    if not core:
        return None
    asked = bool(detect_intents(core))
    subjects = terms.find(core, subjects_only=True)
    pronoun = bool(_PRONOUN.search(core))
    if (opener or _ENDS_WITH_NE.search(text)) and not asked:
        return FollowUp(Shape.SUBJECT, core, _shown(raw))
    if asked and not subjects:
        rest = _FILLER_RE.sub("", _ASKING.sub("", _PRONOUN.sub("", _ASK_PATTERN.sub("", core))))
        if pronoun or len(rest) <= W.max_ask_only:
            return FollowUp(Shape.ASK, core, "")
    if opener or pronoun:
        return FollowUp(Shape.BOTH, core, _shown(raw))
    return None


def merge(follow: FollowUp, previous: str, terms: TermIndex) -> Merged:
    """The standalone question ``follow`` stands for after the question ``previous``."""
    if follow.shape is Shape.ASK:
        asked = _YES_NO_TAIL.sub("", _ASK_PATTERN.sub("", previous))
        subjects = [s.term for s in terms.find(previous, subjects_only=True)]
        shown = "、".join(sorted(subjects, key=len, reverse=True)[:2])
        return Merged(f"{asked}，{follow.core}", True, shown)
    kinds: set[str] = set()
    for span in terms.find(follow.core):
        kinds |= terms.kinds(span.term)
    if _new_trade(follow.core, terms):
        kinds.add("industry")
    drop = [s for s in terms.find(previous) if terms.kinds(s.term) & kinds
            and s.term not in follow.core]
    reduced = previous
    for span in sorted(drop, key=lambda s: s.start, reverse=True):
        reduced = reduced[: span.start] + reduced[span.end :]
    return Merged(f"{follow.core}，{reduced}", bool(drop), follow.shown)


def _new_trade(core: str, terms: TermIndex) -> bool:
    """A trade the knowledge base does not know, named as one (服装厂, 锂电池企业)."""
    for match in _TRADE.finditer(core):
        word = match.group(1)
        if not terms.find(word):
            return True
    return False


def _shown(raw: str) -> str:
    """The new subject as typed (script and width folded, case kept): 那C、D级呢 → C、D级."""
    text = to_simplified("".join(unicodedata.normalize("NFKC", raw).split()))
    text = _CLOSER.sub("", _OPENER.sub("", text, count=1))
    return re.sub(r"的$", "", text)
