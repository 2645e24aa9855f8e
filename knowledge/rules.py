"""The plan's equipment rules applied to what a question says about a unit.

A question names a piece of equipment and, sometimes, its size, fuel, type and
industry. ``judge`` reads those from the normalised question and says, for
every rule about that equipment, whether the unit falls under it — so a
12 t/h casting cupola gets a plain "不属于" instead of the 10 t/h rule recited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.model import Condition, Rule
from knowledge.normalize import normalize

# Fuels: the plan's rules are about coal; naming a clean fuel takes a unit out of them.
_COAL = re.compile(
    r"燃煤|烧煤|用煤|煤炭|原煤|散煤|煤为燃料|煤做燃料|以煤|煤炉|燃料煤|煤粉|烧的煤|是煤"
)
_NOT_COAL = re.compile(
    r"天然气|燃气(?!发生)|液化气|lng|电加热|电炉|用电|电能|电的|电力|生物质|燃油|柴油|重油|"
    r"甲醇|氢能|氢气|蒸汽|余热|煤改气|煤改电|改气|改电"
)
_QUANTITY_UNITS = {"吨/小时": r"吨/小时|吨(?!/)", "米": r"米"}


@dataclass(frozen=True)
class Verdict:
    """What one rule says about the unit described in the question."""

    rule: Rule
    applies: bool | None  # None: the question does not say enough to decide
    reason: str  # the sentence that explains the decision
    other_industry: bool = False  # ruled out only because the question names another industry
    must: str = ""  # the rule in the plan's words, e.g. "铸造行业…的冲天炉须2021年年底前淘汰"


@dataclass(frozen=True)
class Quantity:
    """A size read from a question; ``above`` for "10吨以上", "超过10吨", "大于10吨"."""

    value: float
    above: bool = False


_ABOVE_AFTER = re.compile(r"^(?:以上|多|出头|往上|左右以上)")
_ABOVE_BEFORE = re.compile(r"(?:超过|大于|高于|多于|超出)$")


def quantities(text: str, unit: str) -> list[Quantity]:
    """Sizes in ``text`` carrying ``unit`` (``吨/小时`` also accepts a bare 吨)."""
    pattern = _QUANTITY_UNITS.get(unit, re.escape(unit))
    found = []
    for m in re.finditer(rf"(\d+(?:\.\d+)?)(?:{pattern})", text):
        above = bool(_ABOVE_AFTER.match(text[m.end() :]) or _ABOVE_BEFORE.search(text[: m.start()]))
        found.append(Quantity(float(m.group(1)), above))
    return found


def fuel_of(text: str) -> str | None:
    """``"煤"``, ``"other"`` or None (not said)."""
    if _NOT_COAL.search(text):
        return "other"
    if _COAL.search(text):
        return "煤"
    return None


def _within(value: float, condition: Condition) -> bool:
    return value <= condition.limit if condition.inclusive else value < condition.limit


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def scope_of(rule: Rule) -> str:
    """The rule's reach in the plan's words, e.g. ``铸造行业10吨/小时及以下的冲天炉``."""
    parts = []
    if rule.industries:
        parts.append("、".join(rule.industries) + "行业")
    if rule.condition:
        parts.append(rule.condition.wording + "的")
    if rule.fuels and not any(f in rule.equipment for f in rule.fuels):
        fuels = "、".join(f"{f}炭" if f == "煤" else f for f in rule.fuels)
        parts.append(f"以{fuels}为燃料的")
    kinds = "".join(k for k in rule.kinds if k not in rule.equipment)
    parts.append(kinds + rule.equipment)
    return "".join(parts)


def matching_rules(rules: tuple[Rule, ...], text: str) -> list[Rule]:
    """Rules whose equipment the question names (directly, by alias or by typo repair)."""
    found = []
    for rule in rules:
        names = (rule.equipment, *rule.aliases)
        if any(normalize(n) in text for n in names):
            found.append(rule)
    return found


def judge(rule: Rule, text: str, industries_named: set[str]) -> Verdict:
    """Decide whether the unit the question describes falls under ``rule``."""
    scope = scope_of(rule)
    when = rule.deadline.wording if rule.deadline else ""
    must = f"{scope}须{when}{rule.action}" if when else f"{scope}须{rule.action}"

    if rule.industries and industries_named and not industries_named & set(rule.industries):
        named = "、".join(sorted(industries_named))
        return Verdict(rule, False, f"{named}不在此条所列行业内：{must}。", True, must)
    known = not rule.industries or bool(industries_named & set(rule.industries))
    prefix = "" if known else f"如属{'、'.join(rule.industries)}行业，"
    if rule.kinds and not any(normalize(k) in text for k in rule.kinds):
        return Verdict(rule, None, f"{must}。")
    fuel = fuel_of(text)
    if rule.fuels and fuel == "other":
        return Verdict(rule, False, f"不以煤为燃料的，不在此列：{must}。")
    if rule.condition:
        sizes = quantities(text, rule.condition.unit)
        if sizes:
            value = sizes[0].value
            shown = f"{_fmt(value)}{rule.condition.unit}"
            if sizes[0].above and value >= rule.condition.limit:
                return Verdict(rule, False, f"{prefix}超过{shown}的不在“{rule.condition.wording}”"
                                            f"范围内，不属于此条{rule.action}范围（{must}）。")
            if _within(value, rule.condition):
                return Verdict(rule, True, f"{prefix}{shown}在“{rule.condition.wording}”范围内，"
                                           f"属于{rule.action}范围：{must}。")
            boundary = ""
            if value == rule.condition.limit:
                boundary = (f"；恰为{shown}是否算“{rule.condition.wording}”，方案未作说明，"
                            "请向负责处室确认")
            return Verdict(rule, False, f"{prefix}{shown}不在“{rule.condition.wording}”范围内，"
                                        f"不属于此条{rule.action}范围（{must}）{boundary}。")
        return Verdict(rule, None, f"{must}。")
    if (rule.fuels and fuel is None) or not known:
        return Verdict(rule, None, f"{must}。")
    return Verdict(rule, True, f"属于{rule.action}范围：{must}。")
