"""The words a knowledge base knows, and how a question is mapped onto them.

Two kinds of mapping, both additive (the question keeps its own words and
gains the knowledge base's words, so a wrong guess can only add a candidate,
never erase what the user wrote):

* aliases: ``胶水`` → ``胶粘剂``, ``车漆`` → ``车辆涂料``;
* typo repair: a run of characters that is one character away from a known
  term of three or more characters, where the differing characters sound
  alike (``冲天护`` → ``冲天炉``), or any run that is a homophone of a known
  term (``冲天路``). Terms of five or more characters accept any single
  substitution (``非道路移动机戒``); shorter ones are too easily a different
  word (``方案由谁`` is not a typo of ``方案是谁``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from knowledge.normalize import normalize
from knowledge.weights import W

# Initials and finals people confuse when typing by pinyin or by ear.
_FUZZY_INITIALS = [{"l", "n"}, {"h", "f"}, {"zh", "z"}, {"ch", "c"}, {"sh", "s"}, {"r", "l"},
                   {"h", "l"}]
# Everyday words of questions about industry, never typos of a knowledge-base term.
COMMON_WORDS = frozenset(
    {
        "企业", "公司", "工厂", "厂里", "行业", "项目", "标准", "要求", "部门", "单位",
        "时间", "生产", "排放", "管理", "政策", "技术", "设备", "设施", "问题", "什么",
        "怎么", "哪些", "多少", "可以", "需要", "规定", "方案", "文件", "工作", "情况",
        "我们", "你们", "现在", "今年", "明年", "环保", "治理", "改造", "建设", "检测",
        "监测", "材料", "产品", "产能", "能源", "车辆", "机械", "城市", "地方", "国家",
        "全省",
    }
)
_KILN = re.compile(r"[\u4e00-\u9fff]窑")


@lru_cache(maxsize=8192)
def _pinyin(ch: str) -> tuple[str, str]:
    """(initial, final) of a character; ("", ch) for anything that is not a Han character."""
    if not "\u4e00" <= ch <= "\u9fff":
        return "", ch
    initial = lazy_pinyin(ch, style=Style.INITIALS, strict=False)[0]
    final = lazy_pinyin(ch, style=Style.FINALS, strict=False)[0]
    return initial, final


def sounds_alike(a: str, b: str) -> bool:
    """Two characters a phone keyboard or an ear could confuse."""
    (ia, fa), (ib, fb) = _pinyin(a), _pinyin(b)
    if not ia and not fa.isalpha():
        return False
    if fa == fb and (ia == ib or any({ia, ib} <= pair for pair in _FUZZY_INITIALS)):
        return True
    return ia == ib and ia != "" and fa.rstrip("g") == fb.rstrip("g")


def _is_han(text: str) -> bool:
    return all("\u4e00" <= ch <= "\u9fff" for ch in text)


class Vocabulary:
    """Known terms of a knowledge base, with alias and typo expansion of questions."""

    def __init__(self, terms: Iterable[str], aliases: dict[str, str]):
        self.aliases = {
            normalize(k): normalize(v) for k, v in aliases.items() if normalize(k) and normalize(v)
        }
        self.terms = frozenset(t for t in (normalize(t) for t in terms) if len(t) >= 2) | set(
            self.aliases
        ) | set(self.aliases.values())
        self._alias_keys = sorted(self.aliases, key=len, reverse=True)
        # masked[(length, position, term-with-that-char-removed)] -> terms
        self._masked: dict[tuple[int, int, str], list[str]] = defaultdict(list)
        self._homophones: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for term in self.terms:
            if len(term) >= 3 and _is_han(term):
                for i in range(len(term)):
                    self._masked[(len(term), i, term[:i] + term[i + 1 :])].append(term)
                self._homophones[tuple("".join(_pinyin(c)) for c in term)].append(term)
        self._lengths = sorted({len(t) for t in self.terms if len(t) >= 3 and _is_han(t)})
        # A window one character off a term of its length has the term's first or second
        # character in place; a homophone of it starts with a syllable a term starts with.
        self._leads: dict[int, tuple[set[str], set[str], set[str]]] = {
            n: (set(), set(), set()) for n in self._lengths
        }
        for term in self.terms:
            if len(term) >= 3 and _is_han(term):
                first, second, sound = self._leads[len(term)]
                first.add(term[0])
                second.add(term[1])
                sound.add("".join(_pinyin(term[0])))
        self._known_lengths = sorted(
            {len(t) for t in self.terms | COMMON_WORDS if 2 <= len(t) <= 8}
        )

    def repairs(self, text: str) -> list[str]:
        """Known terms that a near-miss run of ``text`` was probably meant to be."""
        found: list[str] = []
        scan = text[:W.max_typo_scan]
        known = self._known_positions(scan)
        # Windows of Chinese characters only, and not wholly known (no repair could apply
        # to a character that belongs to a known word): counted with running sums.
        han = [0]
        fixed = [0]
        for ch, k in zip(scan, known, strict=True):
            han.append(han[-1] + ("\u4e00" <= ch <= "\u9fff"))
            fixed.append(fixed[-1] + k)
        sounds = ["".join(_pinyin(ch)) for ch in scan]
        for length in self._lengths:
            first, second, sound = self._leads[length]
            for start in range(len(scan) - length + 1):
                end = start + length
                if han[end] - han[start] < length or fixed[end] - fixed[start] == length:
                    continue
                if not (scan[start] in first or scan[start + 1] in second
                        or sounds[start] in sound):
                    continue
                window = scan[start:end]
                if window not in self.terms:
                    found.extend(self._near(window, known[start:end]))
        return found

    def _known_positions(self, text: str) -> list[bool]:
        """Characters that already belong to a known word, which a repair must not change:
        高耗能行业 is 高耗能 + 行业, not a typo of 高耗水行业; 工业企业 is not 工业漆."""
        known = [False] * len(text)
        for length in self._known_lengths:
            for start in range(len(text) - length + 1):
                word = text[start : start + length]
                if word in self.terms or word in COMMON_WORDS:
                    known[start : start + length] = [True] * length
        return known

    def _near(self, window: str, known: list[bool]) -> list[str]:
        out = []
        for i in range(len(window)):
            key = (len(window), i, window[:i] + window[i + 1 :])
            for term in self._masked.get(key, ()):
                if known[i]:
                    continue
                if len(term) >= W.any_typo_length or sounds_alike(window[i], term[i]):
                    out.append(term)
        if not any(known):
            homophone = tuple("".join(_pinyin(c)) for c in window)
            out.extend(self._homophones.get(homophone, ()))
        return out

    def canonical(self, text: str) -> str:
        """``text`` with each alias replaced by the plan's word (土壤重点监管单位 →
        土壤污染重点监管单位), longest alias first; typos are left as typed."""
        for alias in self._alias_keys:
            if alias in text and self.aliases[alias] not in text:
                text = text.replace(alias, self.aliases[alias])
        return text

    def expand(self, text: str) -> str:
        """``text`` plus the canonical words its aliases and typos stand for."""
        extra: list[str] = []
        # Any kind of kiln (轮窑, 隧道窑, 辊道窑 …) is a 炉窑 in the plan's words.
        if "炉窑" in self.terms and _KILN.search(text):
            extra.append("炉窑")
        for alias in self._alias_keys:
            if alias in text:
                extra.append(self.aliases[alias])
        extra.extend(self.repairs(text))
        if not extra:
            return text
        expanded = text + "|" + "|".join(dict.fromkeys(extra))
        # An alias reached through a typo (e.g. 化铁护 → 化铁炉 → 冲天炉) maps on too.
        for alias in self._alias_keys:
            if alias not in text and alias in expanded and self.aliases[alias] not in expanded:
                expanded += "|" + self.aliases[alias]
        return expanded
