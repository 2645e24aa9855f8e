"""The plan's equipment rules applied to what a question says about a unit.

A question names a piece of equipment and, sometimes, its size, fuel, type and
industry. ``RuleBook.judge`` reads those from the normalised question and says,
for every rule about that equipment, whether the unit falls under it — so a
12 t/h casting cupola gets a plain "不属于" instead of the 10 t/h rule recited.

Nothing here knows which fuels, units or equipment a plan has: fuels (with the
words that name them), units (with their spellings) and the heads of equipment
names (炉, 窑) come from the knowledge base, so a plan about gas-fired boilers
sized in 蒸吨/小时 is judged the same way as this one's coal furnaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.intents import FILLERS, INTENT_PATTERNS
from knowledge.model import Answer, Condition, KnowledgeBase, Rule, Unit
from knowledge.normalize import normalize

# Words that mark the fuel named after them as the one a unit uses now (燃煤…改成天然气).
_SWITCH = re.compile(r"改成|改为|改烧|改用|换成|换为|换用|替换为|替代为")
_NOT = re.compile(r"(?:不|没|非|无)[是用烧]?$")  # just before a fuel: 不是煤, 不烧煤, 非煤
# Elimination (not new-capacity) questions about a piece of equipment.
ELIMINATION = re.compile(r"淘汰|取缔|拆除|关停|停用|继续用|继续使用|还能用|保留|还可以用|能用吗")
# What a question says before an equipment name ends it: 今年要淘汰哪些炉 → 炉.
_BEFORE_NAME = re.compile("|".join(
    [re.escape(w) for w in sorted({*FILLERS, *(w for ws in INTENT_PATTERNS.values() for w in ws)},
                                  key=len, reverse=True)
     if len(w) > 1 or "\u4e00" <= w <= "\u9fff"] + [ELIMINATION.pattern]))


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


def _unit_pattern(unit: Unit) -> re.Pattern[str]:
    """A number followed by one of the unit's spellings; a spelling that begins a longer
    one (吨 of 吨/小时) must not be followed by "/" (10吨/年 is no capacity per hour)."""
    spellings = sorted({normalize(s) for s in unit.spellings}, key=len, reverse=True)
    alts = []
    for s in spellings:
        longer = any(o != s and o.startswith(s) for o in spellings)
        alts.append(re.escape(s) + ("(?!/)" if longer else ""))
    return re.compile(rf"(\d+(?:\.\d+)?)(?:{'|'.join(alts)})")


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


class RuleBook:
    """A knowledge base's rules with its fuels, units and equipment kinds."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.rules = kb.rules
        self.fuels = {f.name: f for f in kb.fuels}
        self._fuel_words = sorted(
            ((normalize(w), f.name) for f in kb.fuels for w in (*f.words, f.name) if w),
            key=lambda pair: len(pair[0]), reverse=True,
        )
        self.units = self._units = {u.name: _unit_pattern(u) for u in kb.units}
        self._names = [(r, tuple(normalize(n) for n in (r.equipment, *r.aliases)))
                       for r in kb.rules]
        self.heads = tuple(normalize(h) for h in kb.equipment.heads)
        self.generic = frozenset(normalize(g) for g in kb.equipment.generic)
        self.names = frozenset(n for _, names in self._names for n in names)
        heads = "|".join(re.escape(h) for h in sorted(self.heads, key=len, reverse=True))
        self._equipment = (re.compile(rf"[\u4e00-\u9fffa-z0-9]{{1,6}}?(?:{heads})")
                           if heads else None)
        self._fuel_of = dict(self._fuel_words)
        self._fuel_re = re.compile("|".join(re.escape(w) for w, _ in self._fuel_words))
        self._name_re = re.compile("|".join(
            re.escape(n) for n in sorted(self.names, key=len, reverse=True)))

    # -- reading a question -----------------------------------------------------------

    def matching(self, text: str) -> list[Rule]:
        """Rules whose equipment the question names (directly, by alias or by typo repair)."""
        return [rule for rule, names in self._names if any(n in text for n in names)]

    def fuels_named(self, text: str) -> tuple[str, ...]:
        """Names of the fuels ``text`` says the unit uses. A fuel said as not used (不是煤,
        不烧煤) is not named; one inside a rule's name the question quotes (算不算燃煤热风炉)
        counts only if no other fuel is named; and when the question says one replaced
        another (燃煤热风炉改成天然气), the one named after the switch."""
        quoted = [m.span() for m in self._name_re.finditer(text)] if self.names else []
        found: list[tuple[int, str, bool]] = []
        for m in self._fuel_re.finditer(text) if self._fuel_words else ():
            if _NOT.search(text[: m.start()]):
                continue
            in_name = any(a <= m.start() and m.end() <= b for a, b in quoted)
            found.append((m.start(), self._fuel_of[m.group(0)], in_name))
        found.sort()
        if any(not in_name for _, _, in_name in found):
            found = [f for f in found if not f[2]]
        names = tuple(dict.fromkeys(name for _, name, _ in found))
        if len(names) > 1:
            switch = max((m.end() for m in _SWITCH.finditer(text)), default=-1)
            after = tuple(dict.fromkeys(n for pos, n, _ in found if pos >= switch))
            if switch >= 0 and after:
                return after
        return names

    def quantities(self, text: str, unit: str) -> list[Quantity]:
        """Sizes in ``text`` given in ``unit`` (in any of its spellings)."""
        pattern = self._units.get(unit)
        if pattern is None:
            return []
        found = []
        for m in pattern.finditer(text):
            above = bool(_ABOVE_AFTER.match(text[m.end() :])
                         or _ABOVE_BEFORE.search(text[: m.start()]))
            found.append(Quantity(float(m.group(1)), above))
        return found

    def is_equipment(self, word: str) -> bool:
        """A word that names a specific piece of equipment (ends in a head, not generic)."""
        return len(word) >= 2 and word.endswith(self.heads) and word not in self.generic

    def unlisted(self, text: str) -> str | None:
        """A piece of equipment the question asks to eliminate that no rule names."""
        if self._equipment is None or not ELIMINATION.search(text):
            return None
        for match in self._equipment.finditer(text):
            word = _BEFORE_NAME.split(match.group(0))[-1]
            if self.is_equipment(word) and not any(word in name for name in self.names):
                return word
        return None

    # -- answering ----------------------------------------------------------------------

    def answer(self, rules: list[Rule], expanded: str, named: set[str]) -> Answer:
        """Whether the unit the question describes is under ``rules`` (the ones naming its
        equipment), with the reasons; ``named``: the industries the question names."""
        verdicts = [self.judge(rule, expanded, named) for rule in rules]
        # A rule ruled out only by industry matters when no rule fits the industry named.
        verdicts = [v for v in verdicts if not v.other_industry] or verdicts
        yes = [v for v in verdicts if v.applies is True]
        no = [v for v in verdicts if v.applies is False]
        open_ = [v for v in verdicts if v.applies is None]
        if verdicts and all(v.other_industry for v in verdicts):
            named_ = "、".join(sorted(named))
            musts = "；".join(_dedupe(v.must for v in verdicts))
            lead = f"不属于{_actions(verdicts)}范围。"
            body = [f"{named_}不在此条所列行业内（{musts}）。"]
        elif yes:
            lead = f"需要{_actions(yes)}。"
            body = [v.reason for v in yes]
        elif no:
            lead = f"不属于{_actions(no)}范围。"
            body = [v.reason for v in no] + [f"另：{v.reason}" for v in open_]
        else:
            lead = ""
            body = [v.reason for v in open_]
        primary = yes or no or open_  # whose notes are shown
        chosen = yes or (no + open_)  # whose clauses are cited
        text = lead + "".join(_dedupe(body)) + "".join(_dedupe(v.rule.note for v in primary))
        clauses = _dedupe(self.kb.task(v.rule.task).citation for v in chosen)
        return Answer(
            text=f"{text}\n依据：{'；'.join(clauses)}",
            confident=True,
            sources=tuple(clauses),
        )

    def not_listed(self, equipment: str) -> Answer:
        """Equipment no rule names: not listed, and what the rules do list."""
        rules = self.rules
        listed = "；".join(_dedupe(f"{r.action}{self.scope_of(r)}" for r in rules))
        clauses = _dedupe(self.kb.task(r.task).citation for r in rules)
        return Answer(
            text=f"{equipment}不在方案列出的淘汰/取缔设备中（未列入）。方案要求的是：{listed}。"
            f"\n依据：{'；'.join(clauses)}",
            confident=True,
            sources=tuple(clauses),
        )


    def fuel_wording(self, rule: Rule) -> str:
        return "、".join(self.fuels[f].said if f in self.fuels else f for f in rule.fuels)

    def scope_of(self, rule: Rule) -> str:
        """The rule's reach in the plan's words, e.g. ``铸造行业10吨/小时及以下的冲天炉``."""
        parts = []
        if rule.industries:
            parts.append("、".join(rule.industries) + "行业")
        if rule.condition:
            parts.append(rule.condition.wording + "的")
        if rule.fuels and not self._names_its_fuel(rule):
            parts.append(f"以{self.fuel_wording(rule)}为燃料的")
        kinds = "".join(k for k in rule.kinds if k not in rule.equipment)
        parts.append(kinds + rule.equipment)
        return "".join(parts)

    def _names_its_fuel(self, rule: Rule) -> bool:
        """Whether the equipment's own name says its fuel (燃煤热风炉)."""
        name = normalize(rule.equipment)
        return any(word in name for word, fuel in self._fuel_words if fuel in rule.fuels)

    def judge(self, rule: Rule, text: str, industries_named: set[str]) -> Verdict:
        """Decide whether the unit the question describes falls under ``rule``. ``text`` is
        the question as expanded by the vocabulary; its fuel and size are read from what
        the user wrote (before the first "|"), not from words a repair added."""
        said = text.split("|")[0]
        scope = self.scope_of(rule)
        when = rule.deadline.wording if rule.deadline else ""
        must = f"{scope}须{when}{rule.action}" if when else f"{scope}须{rule.action}"

        if rule.industries and industries_named and not industries_named & set(rule.industries):
            named = "、".join(sorted(industries_named))
            return Verdict(rule, False, f"{named}不在此条所列行业内：{must}。", True, must)
        known = not rule.industries or bool(industries_named & set(rule.industries))
        prefix = "" if known else f"如属{'、'.join(rule.industries)}行业，"
        if rule.kinds and not any(normalize(k) in text for k in rule.kinds):
            return Verdict(rule, None, f"{must}。")
        fuels = self.fuels_named(said)
        if rule.fuels and fuels and not set(fuels) & set(rule.fuels):
            return Verdict(rule, False,
                           f"不以{self.fuel_wording(rule)}为燃料的，不在此列：{must}。")
        if rule.condition:
            sizes = self.quantities(said, rule.condition.unit)
            if sizes:
                return _sized(rule, rule.condition, sizes[0], prefix, must)
            return Verdict(rule, None, f"{must}。")
        if (rule.fuels and not fuels) or not known:
            return Verdict(rule, None, f"{must}。")
        return Verdict(rule, True, f"属于{rule.action}范围：{must}。")


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _actions(verdicts: list[Verdict]) -> str:
    return "/".join(_dedupe(v.rule.action for v in verdicts))


def _sized(rule: Rule, condition: Condition, size: Quantity, prefix: str, must: str) -> Verdict:
    """The verdict on a unit of a stated size."""
    shown = f"{_fmt(size.value)}{condition.unit}"
    wording = condition.wording
    # "超过10吨" describes a unit larger than the number said.
    if size.above and not condition.above and size.value >= condition.limit:
        return Verdict(rule, False, f"{prefix}超过{shown}的不在“{wording}”范围内，"
                                    f"不属于此条{rule.action}范围（{must}）。")
    if size.above and condition.above and size.value >= condition.limit:
        return Verdict(rule, True, f"{prefix}超过{shown}的在“{wording}”范围内，"
                                   f"属于{rule.action}范围：{must}。")
    if condition.covers(size.value):
        return Verdict(rule, True, f"{prefix}{shown}在“{wording}”范围内，"
                                   f"属于{rule.action}范围：{must}。")
    boundary = ""
    if size.value == condition.limit:
        boundary = f"；恰为{shown}是否算“{wording}”，方案未作说明，请向负责处室确认"
    return Verdict(rule, False, f"{prefix}{shown}不在“{wording}”范围内，"
                                f"不属于此条{rule.action}范围（{must}）{boundary}。")
