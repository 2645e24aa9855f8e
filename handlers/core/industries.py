"""Which industry a registering user means when they type one instead of pressing it.

People type "铸造厂", "做家具的", "平板玻璃", "铸早" (a pinyin-keyboard slip) at the
industry step. Each typed name is read against the knowledge base's registration
choices (``kb.industry_choices``: groups of overlapping industries) in this order:
the plan's aliases (``铸件厂`` → ``铸造``), an exact name of a choice or of one of its
members, containment (``家具`` in ``家具制造``), the same pinyin (``铸早`` → ``铸造``),
then rapidfuzz similarity. Pure functions, no telegram.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz, process

from knowledge.model import IndustryGroup

MIN_SIMILARITY = 60  # rapidfuzz ratio (0-100) below which a typed name matches nothing
MAX_CHARS, MAX_PARTS = 100, 10  # beyond: not a list of industries (and bounded work)
_NOISE = re.compile(r"^(?:做|搞|生产|从事|我们是|我们做|我们)|(?:行业|企业|工厂|厂|公司|的|类)+$")
_SEPARATORS = re.compile(r"[、，,;；/|\s]+|(?<=.)[和与跟](?=.)")


@dataclass(frozen=True)
class Reading:
    """What a typed text names: the choices found, and the parts that named none or
    more than one choice (with the candidates, to ask which). Text longer than
    :data:`MAX_CHARS` or of more than :data:`MAX_PARTS` parts names nothing."""

    found: tuple[IndustryGroup, ...] = ()
    unknown: tuple[str, ...] = ()
    ambiguous: dict[str, tuple[IndustryGroup, ...]] = field(default_factory=dict)


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _strip_noise(text: str) -> str:
    stripped = _NOISE.sub("", text)
    return stripped or text


def _names(choices: Sequence[IndustryGroup]) -> dict[str, IndustryGroup]:
    names: dict[str, IndustryGroup] = {}
    for choice in choices:
        for name in (choice.name, *choice.members):
            names.setdefault(name, choice)
    return names


def _exact(
    typed: str, names: Mapping[str, IndustryGroup], aliases: Mapping[str, str]
) -> IndustryGroup | None:
    for candidate in (typed, _strip_noise(typed)):
        canonical = aliases.get(candidate, candidate)
        if canonical in names:
            return names[canonical]
    return None


def match_one(
    text: str, choices: Sequence[IndustryGroup], aliases: Mapping[str, str]
) -> tuple[IndustryGroup, ...]:
    """The choices ``text`` may mean: one when it is clear, several when ambiguous,
    none when it names no industry of the plan (or is a single character)."""
    typed = _fold(text)
    names = _names(choices)
    exact = _exact(typed, names, aliases)
    if exact is not None:
        return (exact,)
    core = _strip_noise(typed)
    if len(core) < 2:
        return ()
    containing = [g for n, g in names.items() if core in n or (len(n) >= 2 and n in core)]
    if containing:
        return tuple(dict.fromkeys(containing))
    sound = lazy_pinyin(core)
    same_sound = tuple(dict.fromkeys(g for n, g in names.items() if lazy_pinyin(n) == sound))
    if same_sound:
        return same_sound
    best = process.extract(core, list(names), scorer=fuzz.ratio, limit=2)
    if best and best[0][1] >= MIN_SIMILARITY:
        if len(best) > 1 and best[1][1] == best[0][1] and names[best[1][0]] != names[best[0][0]]:
            return (names[best[0][0]], names[best[1][0]])
        return (names[best[0][0]],)
    return ()


def read_industries(
    text: str, choices: Sequence[IndustryGroup], aliases: Mapping[str, str]
) -> Reading:
    """Read a typed answer naming one industry, or several separated by 、，/和."""
    whole = _exact(_fold(text), _names(choices), aliases)
    if whole is not None:
        return Reading(found=(whole,))
    folded = _fold(text)
    parts = [part for part in _SEPARATORS.split(folded[: MAX_CHARS + 1]) if part]
    if len(folded) > MAX_CHARS or len(parts) > MAX_PARTS:
        return Reading(unknown=(folded[:20] + "…",))
    found: list[IndustryGroup] = []
    unknown: list[str] = []
    ambiguous: dict[str, tuple[IndustryGroup, ...]] = {}
    for part in parts:
        matched = match_one(part, choices, aliases)
        if len(matched) == 1:
            found.append(matched[0])
        elif matched:
            ambiguous[part] = matched
        else:
            unknown.append(part)
    return Reading(tuple(dict.fromkeys(found)), tuple(unknown), ambiguous)


def reading_problems(reading: Reading) -> list[str]:
    """What is wrong with a typed list of industries, one message per part: a name of
    no industry of the plan, or one that may mean several (registration and the list
    import say the same)."""
    problems = [f"没有找到“{part[:20]}”这个行业" for part in reading.unknown]
    problems += [f"“{part[:20]}”可能是：" + "、".join(c.name for c in options) + "，请写得具体一些"
                 for part, options in reading.ambiguous.items()]
    return problems
