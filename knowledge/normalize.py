"""Turn what people type into the form the knowledge base is matched against.

Preprocessing only: no scoring happens here (that is ``knowledge.match``), so
each step can be tested on its own. The steps, in order:

1. Unicode NFKC (full-width letters, digits and punctuation → half-width),
   control characters and emoji dropped, whitespace removed, lower case;
2. traditional → simplified characters (OpenCC ``t2s``);
3. Chinese numerals that carry a unit → Arabic (``十吨`` → ``10吨``,
   ``两米五`` → ``2.5米``). Only numerals followed by a unit are touched, so
   words like ``一律`` and ``统一`` stay as they are (how a numeral reads is
   ``storage.parsing``'s, shared with the dialogs' fields);
4. units folded to one spelling (``10t/h``, ``10吨每小时`` → ``10吨/小时``;
   ``20蒸吨每小时`` → ``20蒸吨/小时``; ``2500mm`` → ``2.5米``). Which units a rule is
   sized in, and how questions may spell them, is the knowledge base's business.

Typo correction needs the knowledge base's vocabulary and lives in
``knowledge.vocabulary``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

from storage.parsing import CN_DIGITS, CN_NUMERAL_CHARS, PERCENT, chinese_to_number

# Units after which a Chinese numeral is a quantity, not part of a word.
_UNITS = ("米|吨|噸|蒸吨|台|家|个|万|小时|钟头|毫米|厘米|公分|公尺|月|日|号|次|倍|年|天|"
          "m|t|%|个百分点")

_converter = opencc.OpenCC("t2s")


@lru_cache(maxsize=4096)
def to_simplified(text: str) -> str:
    return str(_converter.convert(text))


def _is_dropped(ch: str) -> bool:
    """Control and format characters, and pictographs (emoji) carry no meaning here."""
    cat = unicodedata.category(ch)
    return cat in {"Cc", "Cf", "Co", "Cs", "Cn", "So", "Sk", "Mn"} or ch.isspace()


def clean(text: str) -> str:
    """NFKC, drop control characters, emoji and whitespace, lower-case."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if not _is_dropped(ch)).lower()


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


_NUM_UNIT = re.compile(rf"(?<![0-9.])([{CN_NUMERAL_CHARS}]+)(?=({_UNITS}))")


def arabic_numerals(text: str) -> str:
    """Chinese numerals followed by a unit → Arabic digits (``十吨`` → ``10吨``)."""

    def numeral(match: re.Match[str]) -> str:
        run = match.group(1)
        value = chinese_to_number(run)
        return _fmt(value) if value is not None else run

    def percent(match: re.Match[str]) -> str:
        run = match.group(1)
        value = chinese_to_number(run)
        return f"{_fmt(value) if value is not None else run}%"

    text = PERCENT.sub(percent, text)
    text = _NUM_UNIT.sub(numeral, text)
    # 两米五 → 2米5 (after the step above) → 2.5米
    text = re.sub(r"(?<!\d)(\d+)米([一二三四五六七八九])(?![\u4e00-\u9fff]?[米吨])",
                  lambda m: f"{m.group(1)}.{CN_DIGITS[m.group(2)]}米", text)
    text = re.sub(r"(?<!\d)(\d+)米(\d)(?!\d|\.|米|吨)", r"\1.\2米", text)
    return text


_PER_HOUR = r"(?:/|每|一|per|p)?(?:h|hr|hour|小时|钟头|时)"
# A number starts where its digits start (``_AT_NUMBER``): otherwise a long run of digits
# makes each pattern try every position of it and scan to its end — quadratic, a second
# of CPU for 10,000 digits.
_AT_NUMBER = r"(?<![\d.])"
_TONNES_PER_HOUR = re.compile(rf"{_AT_NUMBER}(\d+(?:\.\d+)?)(?:t|吨|噸)(?:/|每|一)?{_PER_HOUR}")
_TONNES_PER_HOUR_2 = re.compile(rf"{_AT_NUMBER}(\d+(?:\.\d+)?)(?:吨|t)/{_PER_HOUR}")
_STEAM_TONNES_PER_HOUR = re.compile(
    rf"{_AT_NUMBER}(\d+(?:\.\d+)?)(?:蒸吨|蒸t)(?:/|每|一)?{_PER_HOUR}")
_MILLIMETRES = re.compile(rf"{_AT_NUMBER}(\d+(?:\.\d+)?)(?:mm|毫米)")
_CENTIMETRES = re.compile(rf"{_AT_NUMBER}(\d+(?:\.\d+)?)(?:cm|厘米|公分)")
_METRES = re.compile(rf"{_AT_NUMBER}(\d+(?:\.\d+)?)(?:m|公尺)(?![a-z])")


def fold_units(text: str) -> str:
    """One spelling per unit: ``吨/小时`` for capacity, ``蒸吨/小时`` for a boiler's, ``米``
    for length."""
    text = _STEAM_TONNES_PER_HOUR.sub(r"\1蒸吨/小时", text)
    text = _TONNES_PER_HOUR.sub(r"\1吨/小时", text)
    text = _TONNES_PER_HOUR_2.sub(r"\1吨/小时", text)
    text = _MILLIMETRES.sub(lambda m: f"{_fmt(float(m.group(1)) / 1000)}米", text)
    text = _CENTIMETRES.sub(lambda m: f"{_fmt(float(m.group(1)) / 100)}米", text)
    text = _METRES.sub(r"\1米", text)
    return text


_NEGATED = re.compile(
    r"(?:(?<!有)没有|(?<!是)不是|不涉及|不含|(?<!属)不属于|并非|(?<!用)不用|没用|不使用|没使用)"
    r"([\u4e00-\u9fffa-z0-9]{2,10}?)(?=[,.;!?、。，；！？]|的|$)"
)


# What a question sets aside to ask about the rest: 除了执行新标准，还要探索什么.
_BESIDES = re.compile(r"除了[\u4e00-\u9fffa-z0-9]{2,16}?(?:以外|之外|外)?(?=[,，]|还|也)[,，]?")


def drop_negated(text: str) -> str:
    """Remove what the question says it is *not* (``没有冲天炉``, ``不是间歇式固定床``) or
    sets aside (``除了执行新标准，``), so a word the user rules out is not matched as the
    subject."""
    return _BESIDES.sub("", _NEGATED.sub("～", text))


@lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """The whole preprocessing chain; vocabulary-free, so usable on KB text too.

    Cached: building an engine normalises every KB word, many of them repeatedly.
    """
    text = clean(text)
    text = to_simplified(text)
    text = arabic_numerals(text)
    return fold_units(text)
