"""English questions, put into the plan's Chinese words before they are answered.

Foreign-invested enterprises ask in English. The plan's own terms come from the
knowledge base's glossary (``en`` names: "wood coatings" → 木器涂料, "cupola" →
冲天炉); how questions are asked ("which office", "when", "can we build") is
English, not the plan, so it lives here. Phrases are matched longest first on
singular, lower-case words; words neither list knows are kept, so a question the
plan does not cover still reads as mostly not understood and is refused.
The answer is the plan's Chinese: dates, standard numbers and offices unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from knowledge.model import Term

# How questions are asked, in the words the intent cues know (knowledge.intents).
QUESTION_PHRASES: dict[str, str] = {
    # who
    "which office": "哪个处", "what office": "哪个处", "which division": "哪个处",
    "which department": "哪个部门", "what department": "哪个部门", "who": "谁",
    "responsible": "负责", "in charge": "负责", "handle": "负责", "oversee": "负责",
    "contact": "找哪个处",
    # when
    "when": "什么时候", "by when": "什么时候", "since when": "从什么时候",
    "from when": "从什么时候",
    "from what date": "从什么时候", "what date": "什么时候", "deadline": "截止时间",
    "due": "截止时间", "how long": "多长时间", "before": "之前", "after": "之后",
    # standard
    "which standard": "什么标准", "what standard": "什么标准", "standard": "标准",
    "limit": "限值", "norm": "标准", "apply for": "申请", "apply": "执行", "meet": "符合",
    "comply with": "符合",
    # target
    "how many": "多少", "how much": "多少", "what share": "多少比例",
    "what percentage": "多少比例", "what proportion": "多少比例", "what percent": "多少比例",
    "share": "比例", "percentage": "比例", "proportion": "比例", "target": "目标",
    "rate": "率", "goal": "目标", "reach": "达到", "level": "级别",
    # ban and elimination
    "phase out": "淘汰", "phased out": "淘汰", "eliminate": "淘汰", "elimination": "淘汰",
    "eliminated": "淘汰", "scrap": "淘汰", "scrapped": "淘汰", "retire": "淘汰",
    "ban": "取缔", "banned": "取缔", "prohibit": "禁止", "prohibited": "禁止",
    "forbidden": "禁止", "allowed": "允许吗", "permitted": "允许吗", "can we": "能不能",
    "can i": "能不能", "may we": "能不能", "still use": "还能用吗", "keep using": "还能用吗",
    "build a new": "新建", "build new": "新建", "build": "新建", "new": "新建",
    "expand": "扩建", "expansion": "扩建", "covered by": "属于", "covered": "属于",
    "existing": "现有", "do we need to": "需要吗", "do we have to": "需要吗",
    "need to": "需要", "have to": "需要", "must we": "需要吗", "should we": "需要吗",
    # list, how, what
    "which industries": "哪些行业", "what industries": "哪些行业", "which sector": "哪些行业",
    "which": "哪些", "what are": "有哪些", "list": "哪些", "include": "包括",
    "how": "怎么", "what should": "怎么做", "what must": "怎么做", "requirement": "要求",
    "required": "要求", "measure": "措施", "what does": "什么", "mean": "是什么意思",
    "meaning": "意思", "what is": "是什么", "what": "什么", "stand for": "是什么意思",
    # plain words of a trade or a place
    "plant": "厂", "factory": "厂", "mill": "厂", "enterprise": "企业", "company": "企业",
    "firm": "企业", "park": "园区", "city": "市", "tons per hour": "吨/小时",
    "ton per hour": "吨/小时", "tonnes per hour": "吨/小时", "tonne per hour": "吨/小时",
    "steam ton": "蒸吨", "meter": "米", "metre": "米", "year end": "年底",
    "end of the year": "年底", "end of year": "年底", "end of": "年底",
    "issued": "印发", "issue": "印发", "published": "印发", "authority": "部门",
    "which authority": "哪个部门", "name": "名单", "named": "点名", "names of": "名单",
    "this plan": "本方案", "this document": "本方案", "this notice": "本方案",
    "subsidy": "补贴", "subsidies": "补贴", "fine": "罚款", "penalty": "罚款",
    "cost": "费用", "price": "价格", "fee": "收费", "money": "钱", "funding": "资金",
    "fund": "资金", "grade": "级", "what happens to": "会怎样", "happen": "会怎样",
    "cooperation with": "配合", "in cooperation with": "配合", "cooperate with": "配合",
    "work with": "配合", "together with": "配合", "lead": "牵头", "leads": "牵头", "led by": "牵头",
    "task": "任务", "division": "处", "annual": "年度", "require": "要求", "requires": "要求",
    "requirements for": "要求",
    "instead of": "替代", "replace": "替代", "use instead": "替代",
}
# Words that carry nothing once the rest is translated.
STOPWORDS = frozenset((
    "a", "an", "the", "of", "for", "in", "on", "at", "to", "by", "with", "and", "or", "is",
    "are", "be", "been", "was", "were", "do", "does", "did", "have", "has", "had", "will",
    "would", "shall", "should", "can", "could", "may", "might", "must", "it", "its", "this",
    "that", "these", "those", "there", "their", "they", "we", "our", "us", "i", "my", "me",
    "you", "your", "any", "anything", "some", "something", "please", "about", "from", "into",
    "henan", "province", "provincial", "plan", "action", "also", "still", "already", "yet",
    "so", "then", "than", "as", "if", "whether", "get", "got", "make", "made", "use", "used",
    "using", "sold", "selling", "sell",
))
_WORD = re.compile(r"[a-z0-9]+(?:[./][a-z0-9]+)*")
_MAX_PHRASE = 8


def singular(word: str) -> str:
    """A crude singular, the same for the glossary and the question: batteries → battery,
    coatings → coating; short words and -ss/-is/-us words are left alone."""
    if len(word) <= 3 or word.endswith(("ss", "is", "us")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace("-", " ")
    text = re.sub(r"['’]s\b", "", text)
    return [singular(w) for w in _WORD.findall(text)]


def is_english(text: str) -> bool:
    """A question written in English: letters, no Chinese, at least two words."""
    if re.search(r"[\u4e00-\u9fff]", text):
        return False
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 2


class English:
    """Translates English questions with a knowledge base's glossary."""

    def __init__(self, glossary: Iterable[Term]):
        self._phrases: dict[tuple[str, ...], str] = {}
        for english, chinese in QUESTION_PHRASES.items():
            self._phrases[tuple(_words(english))] = chinese
        for term in glossary:  # the plan's terms win over the generic words
            for name in term.english:
                self._phrases[tuple(_words(name))] = term.term

    def translate(self, text: str) -> str:
        """The question in the plan's words; unknown words kept, stopwords dropped. Two
        questions joined by ", and" or "?" become two questions ("…?…")."""
        clauses = [c for c in re.split(r",\s*and\s+|\?\s*|;\s*|\s+and\s+(?=(?:which|what|when|"
                                       r"who|how|where|by when)\b)", text, flags=re.I)
                   if c.strip()]
        if len(clauses) > 1:
            return "?".join(self._clause(c) for c in clauses) + "?"
        return self._clause(text)

    def _clause(self, text: str) -> str:
        words = _words(text)
        out: list[str] = []
        unknown: list[int] = []  # where in ``out`` words neither list knows were kept
        i = 0
        while i < len(words):
            for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
                chinese = self._phrases.get(tuple(words[i : i + size]))
                if chinese is not None:
                    out.append(chinese)
                    i += size
                    break
            else:
                if words[i] not in STOPWORDS:
                    unknown.append(len(out))
                    out.append(words[i])
                i += 1
        # Mostly understood, the words left over are how it is put (need, info, here), not
        # what it asks: they go. Mostly not understood, they stay, and it reads as such.
        if len(unknown) * 2 <= len(out):
            # ...but a short or numeric token may be a unit or a size (t/h, 2.5, m).
            dropped = {n for n in unknown
                       if len(out[n]) > 3 and not re.search(r"[\d/.]", out[n])}
            out = [w for n, w in enumerate(out) if n not in dropped]
        # A question ending in English punctuation of doubt asks yes or no (…吗).
        joined = "".join(out)
        if text.rstrip().endswith("?") and re.match(r"\s*(?:is|are|do|does|can|must|should|"
                                                    r"may|will|has|have)\b", text.lower()):
            joined += "吗"
        return joined
