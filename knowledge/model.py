"""Domain types of the knowledge base and of the engine's answers.

The YAML file (see ``knowledge/FORMAT.md``) is loaded into these frozen
dataclasses once; the engine only ever reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType


class AudienceOp(StrEnum):
    """The kinds of term of an :class:`Audience` expression."""

    ALL = "all"  # every enterprise (those it does not fit answer 不涉及 once)
    NONE = "none"  # government work: no enterprise is reminded of it
    INDUSTRIES = "industries"  # enterprises of one of ``industries``
    QUALIFIER = "qualifier"  # enterprises that answered "yes" to ``qualifier``
    ANY = "any"  # any of ``parts``
    EVERY = "every"  # all of ``parts``


@dataclass(frozen=True)
class Audience:
    """Which registered enterprises a task (or one of its deadlines) concerns: an
    expression over industries and qualifiers (see ``knowledge/FORMAT.md``).

    The one answer to "does this concern that enterprise": :meth:`concerns` in Python,
    and the same expression handed to storage, which turns it into SQL in one place
    (``storage.qualifiers.audience_sql``). A qualifier counts only when answered
    ``yes``: ``no``, ``unknown`` or no answer is not concerned.
    """

    op: AudienceOp
    industries: frozenset[str] = frozenset()
    qualifier: str = ""
    parts: tuple[Audience, ...] = ()

    @classmethod
    def of_industries(cls, industries: Iterable[str]) -> Audience:
        return cls(AudienceOp.INDUSTRIES, industries=frozenset(industries))

    @classmethod
    def of_qualifier(cls, key: str) -> Audience:
        return cls(AudienceOp.QUALIFIER, qualifier=key)

    @classmethod
    def any_of(cls, *parts: Audience) -> Audience:
        return cls(AudienceOp.ANY, parts=tuple(parts))

    @classmethod
    def every_of(cls, *parts: Audience) -> Audience:
        return cls(AudienceOp.EVERY, parts=tuple(parts))

    def concerns(
        self, industries: Iterable[str], qualifiers: Mapping[str, str] | None = None
    ) -> bool:
        """Whether an enterprise of ``industries`` with these qualifier answers (key →
        yes / no / unknown; a missing key is unknown) is concerned."""
        chosen = industries if isinstance(industries, (set, frozenset)) else set(industries)
        return self._holds(chosen, qualifiers or {})

    def _holds(self, industries: Collection[str], qualifiers: Mapping[str, str]) -> bool:
        if self.op is AudienceOp.ALL:
            return True
        if self.op is AudienceOp.NONE:
            return False
        if self.op is AudienceOp.INDUSTRIES:
            return not self.industries.isdisjoint(industries)
        if self.op is AudienceOp.QUALIFIER:
            return qualifiers.get(self.qualifier) == "yes"
        if self.op is AudienceOp.ANY:
            return any(part._holds(industries, qualifiers) for part in self.parts)
        return all(part._holds(industries, qualifiers) for part in self.parts)

    @property
    def nobody(self) -> bool:
        """True when no enterprise can be concerned (government work)."""
        if self.op is AudienceOp.NONE:
            return True
        if self.op is AudienceOp.INDUSTRIES:
            return not self.industries
        if self.op is AudienceOp.ANY:
            return all(part.nobody for part in self.parts)
        if self.op is AudienceOp.EVERY:
            return any(part.nobody for part in self.parts)
        return False

    @property
    def everyone(self) -> bool:
        return self.op is AudienceOp.ALL

    @property
    def qualifiers(self) -> frozenset[str]:
        """The qualifier keys the expression names."""
        if self.op is AudienceOp.QUALIFIER:
            return frozenset({self.qualifier})
        return frozenset(key for part in self.parts for key in part.qualifiers)

    @property
    def all_industries(self) -> frozenset[str]:
        """Every industry the expression names (for narrowing by industry)."""
        if self.op is AudienceOp.INDUSTRIES:
            return self.industries
        return frozenset(name for part in self.parts for name in part.all_industries)

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """In words, for staff: ``铸造、岩棉行业企业``, ``土壤污染重点监管单位``;
        ``names``: qualifier key → the plan's wording."""
        if self.op is AudienceOp.ALL:
            return "全部企业"
        if self.op is AudienceOp.NONE:
            return "不涉及企业（政府工作）"
        if self.op is AudienceOp.INDUSTRIES:
            return "、".join(sorted(self.industries)) + "行业企业"
        if self.op is AudienceOp.QUALIFIER:
            return (names or {}).get(self.qualifier, self.qualifier)
        joiner = "或" if self.op is AudienceOp.ANY else "且"
        return joiner.join(part.describe(names) for part in self.parts)


EVERYONE = Audience(AudienceOp.ALL)
NOBODY = Audience(AudienceOp.NONE)


@dataclass(frozen=True)
class Qualifier:
    """A designation or circumstance of the plan that decides whether a task concerns an
    enterprise (土壤污染重点监管单位), as registration asks it (yes / no / 不清楚)."""

    key: str  # ASCII identifier, e.g. "soil_key_unit"
    name: str  # the plan's wording
    question: str  # what registration asks: 是否为土壤污染重点监管单位？
    source: str  # the plan's sentence (with its clause) the qualifier comes from


QUALIFIER_VALUES = ("yes", "no", "unknown")


@dataclass(frozen=True)
class Deadline:
    """A dated obligation: ``date`` is machine-readable, ``wording`` is the plan's own.

    ``starts``: the date is when something starts to apply (自…起执行), not a deadline:
    it is never overdue. ``audience``: whom this date concerns when it is not the whole
    task's audience (task 23: new dischargers from one date, existing ones from another).
    """

    date: dt.date
    wording: str
    what: str
    starts: bool = False
    audience: Audience | None = None


@dataclass(frozen=True)
class Task:
    """One numbered task of the plan."""

    number: int
    section: str  # section id, e.g. "air"
    clause: str  # e.g. "二（一）2"
    title: str
    text: str
    offices: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    industries: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    audience: Audience = NOBODY

    def concerns(
        self, industries: Iterable[str], qualifiers: Mapping[str, str] | None = None
    ) -> bool:
        """Whether this task concerns an enterprise of ``industries`` with these qualifier
        answers (see :meth:`Audience.concerns`)."""
        return self.audience.concerns(industries, qualifiers)

    def audience_of(self, deadline: Deadline) -> Audience:
        """Whom one of its deadlines concerns: its own audience, else the task's."""
        return deadline.audience if deadline.audience is not None else self.audience

    @property
    def citation(self) -> str:
        """How an answer cites this task: ``二（一）2 加快落后产能淘汰｜产业政策处负责``."""
        return f"{self.clause} {self.title}｜{'、'.join(self.offices)}负责"


class DateKind(StrEnum):
    """What the date of a progress report means for a status."""

    EXPECTED = "expected"  # planned completion (required)
    ACTUAL = "actual"  # when it was done (required, not in the future)
    OPTIONAL = "optional"  # may be skipped


@dataclass(frozen=True)
class ProgressStatus:
    """A status an enterprise may report on a task, e.g. 进行中."""

    name: str
    done: bool = False  # the task needs nothing more from the enterprise (已完成, 不涉及)
    asks_percent: bool = False  # the dialog asks how far along it is
    date: DateKind = DateKind.EXPECTED
    words: tuple[str, ...] = ()  # everyday words users type for it (完成了 → 已完成)
    # the enterprise says the task does not concern it (不涉及): done, but never 已完成
    not_applicable: bool = False


DEFAULT_STATUSES: tuple[ProgressStatus, ...] = (
    ProgressStatus("未开始", words=("没开始", "尚未开始", "还没开始")),
    ProgressStatus("进行中", asks_percent=True, words=("正在进行", "推进中", "在做", "正在做")),
    ProgressStatus("已完成", done=True, date=DateKind.ACTUAL,
                   words=("完成", "完成了", "已经完成", "做完了")),
    ProgressStatus("不涉及", done=True, date=DateKind.OPTIONAL,
                   words=("无关", "不适用", "没有涉及"), not_applicable=True),
)


@dataclass(frozen=True)
class IndustryGroup:
    """Industries an enterprise chooses together at registration (玻璃 with 平板玻璃):
    names the plan uses for overlapping trades, offered as one choice."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    id: str
    clause: str  # e.g. "二（一）"
    title: str


@dataclass(frozen=True)
class Standard:
    """A standard the plan names, and the products or discharges it governs."""

    number: str  # e.g. "GB 18581-2020"
    title: str
    covers: tuple[str, ...]
    task: int
    note: str = ""


@dataclass(frozen=True)
class Condition:
    """A numeric threshold of a rule, e.g. capacity <= 10 t/h."""

    quantity: str  # e.g. "产能" or "炉膛直径"
    unit: str  # one of the KB's units, e.g. "吨/小时" or "米"
    limit: float
    inclusive: bool  # True: "及以下" (<= limit); False: "以下" read strictly (< limit)
    wording: str  # the plan's words, e.g. "10吨/小时及以下"
    above: bool = False  # True: the rule covers sizes above the limit ("及以上", "以上")

    def covers(self, value: float) -> bool:
        """Whether a unit of size ``value`` is within the condition."""
        if self.above:
            return value >= self.limit if self.inclusive else value > self.limit
        return value <= self.limit if self.inclusive else value < self.limit


@dataclass(frozen=True)
class Fuel:
    """A fuel the plan's rules are about, and the words a question names it by."""

    name: str  # as rules list it, e.g. "煤"
    words: tuple[str, ...]  # e.g. ("燃煤", "烧煤", "煤炭")
    wording: str = ""  # how an answer names it: "以{wording}为燃料" (default: the name)

    @property
    def said(self) -> str:
        return self.wording or self.name


@dataclass(frozen=True)
class Unit:
    """A unit of the rules' sizes and how questions spell it (after normalisation)."""

    name: str  # canonical, e.g. "吨/小时"
    spellings: tuple[str, ...]  # e.g. ("吨/小时", "吨"): a number followed by one is a size


@dataclass(frozen=True)
class EquipmentKinds:
    """How the plan's equipment is named, so a question about unlisted equipment is told so."""

    heads: tuple[str, ...] = ()  # a word ending in one of these names equipment: 炉, 窑
    generic: tuple[str, ...] = ()  # words for any such equipment (工业炉窑, 炉子), no unit


@dataclass(frozen=True)
class Term:
    """A glossary entry: a term of the plan, its other names and, if the plan explains it,
    what it means, with the clause that says so."""

    term: str
    also: tuple[str, ...] = ()  # other Chinese names (挥发性有机物 for VOCs)
    english: tuple[str, ...] = ()  # English names, for questions in English
    means: str = ""  # the plan's explanation; empty: a translation only
    clause: str = ""  # where the plan explains it


@dataclass(frozen=True)
class Rule:
    """A piece of equipment the plan eliminates or bans, and when it applies."""

    id: str
    equipment: str  # e.g. "冲天炉"
    aliases: tuple[str, ...]
    action: str  # e.g. "淘汰" / "取缔"
    task: int
    deadline: Deadline | None
    industries: tuple[str, ...] = ()  # empty: any industry
    fuels: tuple[str, ...] = ()  # empty: any fuel; else names of the KB's fuels, e.g. ("煤",)
    kinds: tuple[str, ...] = ()  # required qualifier words, e.g. ("间歇式固定床",)
    condition: Condition | None = None
    note: str = ""


@dataclass(frozen=True)
class Fact:
    """A short answer to one kind of question, with the clause it rests on."""

    id: str
    task: int | None  # None: a fact about the document itself
    clause: str  # citation text, derived from the task when not given
    answer: str
    topics: tuple[tuple[str, ...], ...]  # groups of alternative words; each group must appear
    intents: tuple[str, ...] = ()  # kinds of question it answers: when, who, standard, ...
    questions: tuple[str, ...] = ()  # sample phrasings, also used as suggestions
    covered: bool = True  # False: the answer explains that the plan does not settle this
    members: tuple[str, ...] = ()  # the closed list the answer enumerates (e.g. industries)


@dataclass(frozen=True)
class Requirement:
    """One of the plan's work requirements (三、工作要求)."""

    clause: str
    title: str
    text: str


@dataclass(frozen=True)
class KeyTask:
    """One line of the appendix's division of key tasks (附件 重点任务分工)."""

    number: int
    text: str
    office: str


@dataclass(frozen=True)
class Document:
    """Facts about the document itself (``document:`` in the YAML, knowledge/FORMAT.md)."""

    number: str  # 文号
    title: str
    issuer: str = ""
    notice: str = ""  # the title of the covering notice
    date: dt.date | None = None
    region: str = ""  # where the plan applies
    addressees: str = ""
    purpose: str = ""
    basis: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    key_tasks: tuple[KeyTask, ...] = ()
    other: tuple[tuple[str, str], ...] = ()  # keys FORMAT.md does not name, kept as text

    @property
    def text(self) -> str:
        """Everything the document section says, as one text (what the plan is about)."""
        parts = [self.number, self.title, self.issuer, self.notice, self.region,
                 self.addressees, self.purpose, *self.basis]
        parts += [f"{r.clause}{r.title}{r.text}" for r in self.requirements]
        parts += [f"{k.text}{k.office}" for k in self.key_tasks]
        parts += [value for _, value in self.other]
        return "".join(parts)


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything lvdong knows, loaded from one YAML file."""

    source: str  # path of the YAML file it came from
    document: Document
    sections: tuple[Section, ...]
    tasks: tuple[Task, ...]
    facts: tuple[Fact, ...]
    rules: tuple[Rule, ...]
    standards: tuple[Standard, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)  # colloquial -> canonical
    industries: tuple[str, ...] = ()
    offices: dict[str, str] = field(default_factory=dict)  # office -> what it is responsible for
    statuses: tuple[ProgressStatus, ...] = DEFAULT_STATUSES  # what enterprises may report
    industry_groups: tuple[IndustryGroup, ...] = ()  # overlapping industries chosen together
    fuels: tuple[Fuel, ...] = ()  # the fuels rules name
    units: tuple[Unit, ...] = ()  # the units of rules' sizes
    equipment: EquipmentKinds = EquipmentKinds()
    glossary: tuple[Term, ...] = ()
    qualifiers: tuple[Qualifier, ...] = ()  # designations that decide who a task concerns

    def task(self, number: int) -> Task:
        for task in self.tasks:
            if task.number == number:
                return task
        raise KeyError(number)

    @property
    def title(self) -> str:
        """The plan's title as messages show it: ``《…》``."""
        return f"《{self.document.title}》"

    @cached_property
    def industry_choices(self) -> tuple[IndustryGroup, ...]:
        """What registration offers: every industry once, in the ``industries`` order,
        the members of a group together under the group's name."""
        group_of = {m: g for g in self.industry_groups for m in g.members}
        out: list[IndustryGroup] = []
        for name in self.industries:
            choice = group_of.get(name, IndustryGroup(name, (name,)))
            if choice not in out:
                out.append(choice)
        return tuple(out)

    def industry_members(self, name: str) -> tuple[str, ...]:
        """The industries a choice stands for: a group's members, else the name itself."""
        for group in self.industry_groups:
            if group.name == name:
                return group.members
        return (name,)

    @property
    def task_numbers(self) -> tuple[int, ...]:
        return tuple(task.number for task in self.tasks)

    @cached_property
    def task_titles(self) -> Mapping[int, str]:
        """Task number → title, in the plan's order (built once)."""
        return MappingProxyType({task.number: task.title for task in self.tasks})

    def status(self, name: str) -> ProgressStatus | None:
        for status in self.statuses:
            if status.name == name:
                return status
        return None

    @cached_property
    def status_words(self) -> Mapping[str, str]:
        """Everyday word → the status it means (see ``ProgressStatus.words``)."""
        return MappingProxyType({word: s.name for s in self.statuses for word in s.words})

    @property
    def done_statuses(self) -> tuple[str, ...]:
        """Statuses after which an enterprise is no longer reminded of a task."""
        return tuple(s.name for s in self.statuses if s.done)

    @property
    def not_applicable_statuses(self) -> tuple[str, ...]:
        """Statuses saying a task does not concern the enterprise (不涉及): they end the
        reminders, but charts never count them as completed."""
        return tuple(s.name for s in self.statuses if s.not_applicable)

    def qualifier(self, key: str) -> Qualifier | None:
        return next((q for q in self.qualifiers if q.key == key), None)

    @cached_property
    def qualifier_names(self) -> Mapping[str, str]:
        """Qualifier key → the plan's wording."""
        return MappingProxyType({q.key: q.name for q in self.qualifiers})

    def deciding_qualifiers(self, industries: Iterable[str]) -> tuple[Qualifier, ...]:
        """The qualifiers whose answer changes what concerns an enterprise of
        ``industries`` (a task, or one of a task's dated audiences): registration asks
        these and no others, so a foundry is not asked what cannot matter to it."""
        chosen = frozenset(industries)
        audiences = [task.audience for task in self.tasks] + [
            task.audience_of(deadline) for task in self.tasks for deadline in task.deadlines]
        return tuple(
            q for q in self.qualifiers
            if any(a.concerns(chosen, {q.key: "yes"}) != a.concerns(chosen, {}) for a in audiences)
        )

    def tasks_concerning(
        self, industries: Iterable[str], qualifiers: Mapping[str, str] | None = None
    ) -> tuple[Task, ...]:
        """The tasks that concern an enterprise of ``industries`` with these qualifier
        answers (key → yes / no / unknown; missing: unknown), in task order.

        The one answer to "which tasks concern this enterprise": reminders, overdue
        lists, /report's first page and the staff views all use it (or, in SQL,
        :meth:`concern`, the same expressions handed to storage).
        """
        chosen = frozenset(industries)
        return tuple(task for task in self.tasks if task.concerns(chosen, qualifiers))

    def concern(self) -> dict[int, Audience]:
        """Task number → its audience (whom it concerns); tasks that concern no
        enterprise are left out. Storage turns these into SQL in one place
        (``storage.qualifiers.audience_sql``)."""
        return {task.number: task.audience for task in self.tasks if not task.audience.nobody}


@dataclass(frozen=True)
class Answer:
    """What the engine says to one question."""

    text: str  # the text a user sees
    confident: bool  # False when it fell back or only offers suggestions
    sources: tuple[str, ...] = ()  # clause references
    suggestions: tuple[str, ...] = ()  # "did you mean" questions, at most three
    in_scope: bool = True  # False: the plan does not cover the question at all
    # The question as understood, standalone: what a follow-up in the same chat builds on.
    understood: str = ""
    follow_up: bool = False  # the question only makes sense after a previous one

    def to_json(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "confident": self.confident,
            "sources": list(self.sources),
            "suggestions": list(self.suggestions),
            "in_scope": self.in_scope,
        }
