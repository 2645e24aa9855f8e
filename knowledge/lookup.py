"""Structured questions, answered from the knowledge base's structure rather than by
scoring facts: a task by its number, tasks by area, by deadline or by industry, the
standards of a family of products, the meaning of a term.

Each lookup fires only when the question names nothing but its key (an area, a date,
an industry…) and the kind of answer; every listed item carries its clause.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.dates import period_of
from knowledge.intents import without_cues
from knowledge.model import Answer, KnowledgeBase, Standard, Task
from knowledge.normalize import normalize
from knowledge.passages import body, split, summary
from knowledge.question import Question
from knowledge.terms import TermIndex, area_words, common_prefix
from storage.parsing import chinese_integer

_N = r"(\d{1,3}|[一二两三四五六七八九十〇零]{1,4})"
_TASK_REF = re.compile(
    rf"第{_N}(?:项|条)(?:任务|工作)?|第{_N}个?任务|任务(?:第)?{_N}(?![\d.年月日号万台家个%吨米])|{_N}号任务"
)
_CLAUSE_REF = re.compile(r"([一二三四五六七八九十]+)\(([一二三四五六七八九十]+)\)" + _N + "?")
_APPENDIX = re.compile(r"附件|重点任务分工")
_COUNT = re.compile(r"几项|几条|几个|多少项|多少条|多少个|多少")
_DUE = re.compile(r"完成|到期|截止|执行|实施|要做|做什么|干什么|有什么|有哪些|哪些|什么任务|任务")
_DEFINE = re.compile(r"什么意思|啥意思|是什么|是啥|是个啥|指什么|指的是|是指|指哪些|含义|意思|"
                     r"什么叫|何为|何谓|什么是|啥是|定义|包括哪些|包括什么")
_TASK_WORD = re.compile(r"任务|工作")
_ASKING = re.compile(r"任务|工作|要求|完成|内容|方面|部分|领域|几项|几条|多少|一共|[的了有要在]")
_WHO = re.compile(r"谁负责|由谁|哪个处|哪些处|哪个部门|负责处室")
_DATED = re.compile(r"时间节点|有时限|有期限|有截止|有完成时间|有时间要求|有deadline")
_PART_REF = re.compile(r"第([一二三四五六七八九十\d]{1,2})(?:个)?(?:部分|大部分|章|大块)")
_EXTREME = re.compile(r"最早|最晚|最先|最迟|最后|最多|最少")
_SHARED = re.compile(r"两个或以上|两个以上|多个处|几个处室共同|共同负责|按职责分工")
_PLACE_ASK = re.compile(r"提到|提及|涉及|点名|有什么要求|有哪些|哪些任务|说了什么|有没有")
_THE_PLAN = frozenset({"本方案", "这个方案", "该方案"})  # this plan names no subject
_IN_THE_PLAN = re.compile(r"(?:本|这个|该|整个)?方案(?:里|中|上)")  # nor does "in the plan"
_PARTS = re.compile(r"几个部分|几部分|哪几部分|哪些部分|分几(?:个|大)?(?:部分|块)|由哪些部分|"
                    r"(?:文件|方案|正文)(?:的)?(?:结构|框架)")
LIST_GIST = 2  # a list of this many tasks or fewer shows each one's opening clause
LONG_LIST = 5  # asked how many, a longer list is told by its count, first and last


@dataclass(frozen=True)
class Ref:
    """A numbered item a question names: a task, an appendix item or a work requirement."""

    kind: str  # "task", "key_task" or "requirement"
    number: int
    span: tuple[int, int]


def _number(numeral: str) -> int | None:
    if numeral.isdigit():
        return int(numeral)
    return chinese_integer(numeral)


class Lookups:
    """The structured lookups of one knowledge base."""

    def __init__(self, kb: KnowledgeBase, terms: TermIndex):
        self.kb = kb
        self.terms = terms
        self._sections = {normalize(s.clause): s for s in kb.sections}
        self._titles = sorted(((normalize(t.title), t.number) for t in kb.tasks),
                              key=lambda p: -len(p[0]))
        self._areas = area_words(kb)
        # The words of the section the work requirements are in (三 工作要求): "工作要求第三条".
        self._requirement_words = [normalize(s.title) for s in kb.sections
                                   if normalize(s.clause) == self._requirements_clause()]
        self._families = _families(kb.standards)
        self._definitions = {normalize(w): t for t in kb.glossary if t.means
                             for w in (t.term, *t.also)}
        for alias, canonical in kb.aliases.items():
            if normalize(canonical) in self._definitions:
                self._definitions.setdefault(normalize(alias),
                                             self._definitions[normalize(canonical)])
        # Industries by the names questions use (their own and their aliases').
        self.industries = {normalize(i): i for i in kb.industries}
        for alias, canonical in kb.aliases.items():
            if canonical in kb.industries:
                self.industries.setdefault(normalize(alias), canonical)
        date = kb.document.date
        self._year = date.year if date is not None else (
            min((d.date.year for t in kb.tasks for d in t.deadlines), default=dt.date.today().year))

    # -- references to numbered items ---------------------------------------------------

    def reference(self, text: str) -> Ref | None:
        """The task, appendix item or work requirement a question names by number."""
        m = _CLAUSE_REF.search(text)
        if m:
            section = self._sections.get(f"{m.group(1)}({m.group(2)})")
            number = _number(m.group(3)) if m.group(3) else None
            if section and number is not None and any(
                t.number == number and t.section == section.id for t in self.kb.tasks
            ):
                return Ref("task", number, m.span())
            requirement = _number(m.group(2))
            if m.group(1) == self._requirements_clause() and requirement and not m.group(3):
                return Ref("requirement", requirement, m.span())
        m = _TASK_REF.search(text)
        if m:
            numeral = next(g for g in m.groups() if g)
            number = _number(numeral)
            if number is not None:
                kind = "task"
                if _APPENDIX.search(text):
                    kind = "key_task"
                elif any(w in text for w in self._requirement_words):
                    kind = "requirement"
                return Ref(kind, number, m.span())
        # A task named by its title, as suggestion buttons do: 加快落后产能淘汰由哪个处负责？
        for title, number in self._titles:
            at = text.find(title)
            if at >= 0:
                return Ref("task", number, (at, at + len(title)))
        return None

    def _requirements_clause(self) -> str:
        items = self.kb.document.requirements
        return normalize(items[0].clause).split("(")[0] if items else ""

    def numbered(self, ref: Ref, intents: frozenset[str], text: str) -> Answer:
        """A numbered item, told the way the question asks (office, dates, figures…)."""
        if ref.kind == "key_task":
            return self._key_task(ref.number)
        if ref.kind == "requirement":
            return self._requirement(ref.number)
        if ref.number not in self.kb.task_numbers:
            first, last = min(self.kb.task_numbers), max(self.kb.task_numbers)
            return Answer(
                text=f"方案共{len(self.kb.tasks)}项主要任务（任务{first}—{last}），"
                     f"没有任务{ref.number}。",
                confident=False,
            )
        task = self.kb.task(ref.number)
        name = f"任务{task.number}“{task.title}”"
        if "who" in intents:
            shared = "按职责分工" if len(task.offices) > 1 else ""
            body = f"{name}由{'、'.join(task.offices)}{shared}负责。"
        elif "when" in intents:
            dates = "；".join(f"{d.wording}{d.what}" for d in task.deadlines)
            body = f"{name}的时间要求：{dates}。" if dates else f"{name}未规定具体完成时限。"
        elif "target" in intents and task.targets:
            body = f"{name}的目标：{'；'.join(task.targets)}。"
        elif "list" in intents and task.industries and "行业" in text:
            body = f"{name}涉及{'、'.join(task.industries)}等行业。"
        else:
            body = f"{name}：{summary(task)}"
        return _cited(body, task.citation)

    def _key_task(self, number: int) -> Answer:
        items = self.kb.document.key_tasks
        for item in items:
            if item.number == number:
                return _cited(f"附件重点任务分工第{number}项：{item.text}（{item.office}）",
                              "附件 重点任务分工")
        return Answer(text=f"附件重点任务分工共{len(items)}项，没有第{number}项。",
                      confident=False)

    def _requirement(self, number: int) -> Answer:
        items = self.kb.document.requirements
        if 0 < number <= len(items):
            req = items[number - 1]
            first = split(req.text)[:1]
            return _cited(f"{req.clause}{req.title}：{''.join(first)}",
                          f"{req.clause} {req.title}")
        return Answer(text=f"方案的工作要求共{len(items)}条，没有第{number}条。",
                      confident=False)

    # -- lists ------------------------------------------------------------------------

    def answer(self, text: str, intents: frozenset[str],
               question: Question | None = None) -> Answer | None:
        """The structured answer to ``text``, if it is a structured question."""
        if question is not None:
            found = (self._parts(text) or self._part(text) or self._appendix(text)
                     or self._task_standards(question)
                     or self._cooperating(question)
                     or self._office_count(question)
                     or self._extreme(text)
                     or self._shared(text) or self._place(question))
            if found is not None:
                return found
        return (self._definition(text) or self._area(text)
                or self._due(text, intents) or self._industry_tasks(text, intents)
                or self._standards(text, intents))

    def _only(self, text: str, spans: Iterable[tuple[int, int]], allowed: Iterable[str] = ()
              ) -> bool:
        """Whether ``text`` names no subject outside ``spans`` but the ``allowed`` words. A
        known word made of ways of asking (哪些任务, 几项任务) names nothing."""
        keep = list(text)
        for start, end in [*spans, *(m.span() for m in _IN_THE_PLAN.finditer(text))]:
            keep[start:end] = [" "] * (end - start)
        rest = "".join(keep)
        ok = {normalize(a) for a in allowed} | _THE_PLAN
        for span in self.terms.find(rest, subjects_only=True):
            if span.term in ok:
                continue
            if _ASKING.sub("", without_cues(span.term)):
                return False
        return True

    def _cooperating(self, question: Question) -> Answer | None:
        """Tasks done with a cooperating department (哪些任务要配合省市场监管局)."""
        wanted = question.department
        if not wanted or not _TASK_WORD.search(question.text + "哪项"):
            return None
        stem = wanted[:2]
        hits = [(t, s) for t in self.kb.tasks for s in split(t.text)
                if "配合" in s and stem in s[s.index("配合"):]]
        if not hits:
            return None
        tasks = list(dict.fromkeys(t for t, _ in hits))
        if len(tasks) <= LIST_GIST:
            items = "；".join(f"{t.clause} {t.title}：{_clause_with(s, '配合')}"
                             for t, s in hits[:2])
        else:
            items = _task_list(tasks)
        cited = [t.citation for t in tasks] if len(tasks) <= LONG_LIST else ["二 主要任务"]
        said = question.department_said or wanted
        return _cited_all(f"需要配合{said}的任务（{len(tasks)}项）：{items}。", cited)

    def _parts(self, text: str) -> Answer | None:
        """The document's parts (方案正文分几个部分): its top-level sections, in order."""
        asked = _PARTS.search(text)
        if asked is None or not self._only(text, [asked.span()]):
            return None
        top: dict[str, str] = {}
        for s in self.kb.sections:
            head = re.split(r"[（(]", s.clause)[0]
            if head != s.clause:  # a subsection: its part is named by the tasks' area
                top.setdefault(head, "主要任务")
            else:
                top.setdefault(head, s.title)
        body = [f"{head} {title}" for head, title in top.items() if head != "附件"]
        extra = "，另有附件" if "附件" in top else ""
        return _cited(f"方案正文分{len(body)}个部分：{'；'.join(body)}{extra}。", "方案正文")

    def _part(self, text: str) -> Answer | None:
        """One part of the document by its number (方案第三部分讲的什么)."""
        m = _PART_REF.search(text)
        if m is None or not self._only(text, [m.span()]):
            return None
        number = _number(m.group(1))
        heads = list(dict.fromkeys(re.split(r"[（(]", s.clause)[0] for s in self.kb.sections
                                   if s.clause != "附件"))
        if number is None or not 0 < number <= len(heads):
            return None
        head = heads[number - 1]
        inside = [s for s in self.kb.sections if re.split(r"[（(]", s.clause)[0] == head]
        if len(inside) > 1:  # 二 主要任务: its areas, each with its tasks
            items = "；".join(
                f"{s.clause}{s.title}（任务{min(t.number for t in ts)}—"
                f"{max(t.number for t in ts)}）"
                for s in inside if (ts := [t for t in self.kb.tasks if t.section == s.id]))
            return _cited(f"第{head}部分“主要任务”：{items}。", f"{head} 主要任务")
        section = inside[0]
        requirements = [r for r in self.kb.document.requirements if r.clause.startswith(head)]
        if requirements:
            items = "；".join(f"{r.clause}{r.title}" for r in requirements)
            return _cited(f"第{head}部分“{section.title}”共{len(requirements)}条：{items}。",
                          f"{head} {section.title}")
        return _cited(f"第{head}部分“{section.title}”：{self.kb.document.purpose}",
                      f"{head} {section.title}")

    def _appendix(self, text: str) -> Answer | None:
        """The appendix as a whole (附件一共几项任务, 附件里有哪些任务)."""
        if "附件" not in text or _TASK_REF.search(text) or not (
                _COUNT.search(text) or re.search(r"哪些|什么|啥|内容|哪一?项|哪条|对应", text)):
            return None
        at = text.find("附件")
        items = self.kb.document.key_tasks
        if not items:
            return None
        if not self._only(text, [(at, at + 2)]):
            return self._key_task_about(text)
        listed = "；".join(f"{i.number}. {i.text}（{i.office}）" for i in items)
        return _cited(f"附件重点任务分工共{len(items)}项：{listed}", "附件 重点任务分工")

    def _key_task_about(self, text: str) -> Answer | None:
        """The appendix's item on what the question names (重污染企业退城搬迁…附件里对应的
        任务是什么): the one sharing the most words with it, if one clearly does."""
        named = {s.term for s in self.terms.find(text) if self.terms.names(s.term)}
        shared = sorted(((sum(term in normalize(item.text) for term in named), item.number)
                         for item in self.kb.document.key_tasks), reverse=True)
        if not shared or shared[0][0] == 0 or (len(shared) > 1 and shared[1][0] == shared[0][0]):
            return None
        return self._key_task(shared[0][1])

    def _task_standards(self, question: Question) -> Answer | None:
        """The standards one task cites (源头替代那条引用了几个标准 / 哪些国家标准), counted."""
        text = question.text
        if "标准" not in text or not (_COUNT.search(text) or _EVERY.search(text)):
            return None
        tasks = {int(k.split(":")[1]) for w in question.words for k in self.terms.kinds(w)
                 if k.startswith("task:")}
        if len(tasks) != 1:
            return None
        number = tasks.pop()
        national = bool(_NATIONAL.search(text))
        cited = [s for s in self.kb.standards
                 if s.task == number and (_national(s) or not national)]
        if len(cited) < 2:
            return None
        items = "；".join(f"{s.covers[0]} {s.number}" for s in cited)
        task = self.kb.task(number)
        return _cited(f"任务{number}“{task.title}”引用了{len(cited)}个标准：{items}。",
                      task.citation)

    def _office_count(self, question: Question) -> Answer | None:
        """How many tasks an office leads (节能与综合利用处负责多少项任务), or which of them
        have a date (节能与综合利用处负责的任务里哪些有时间节点)."""
        offices = question.named("office")
        text = question.text
        dated = bool(_DATED.search(text))
        if len(offices) != 1 or not _TASK_WORD.search(text) or not (
                _COUNT.search(text) or dated):
            return None
        office = next((o for o in self.kb.offices if normalize(o) == offices[0]), None)
        tasks = [t for t in self.kb.tasks if office in t.offices]
        if office is None or not tasks:
            return None
        if dated:
            due = [t for t in tasks if t.deadlines]
            items = "；".join(f"{t.clause} {t.title}（{_wordings(t)}）" for t in due)
            cited = [t.citation for t in due] if len(due) <= LIST_GIST else ["二 主要任务"]
            return _cited_all(f"{office}负责的{len(tasks)}项任务中，{len(due)}项有时间节点："
                              f"{items}。", cited)
        cited = [t.citation for t in tasks] if len(tasks) <= LONG_LIST else ["二 主要任务"]
        return _cited_all(f"{office}负责{len(tasks)}项任务：{_task_list(tasks)}。", cited)

    def _extreme(self, text: str) -> Answer | None:
        """The earliest or latest deadline of the plan (截止时间最早的是哪项), and the office
        with the most tasks (哪个处负责的任务最多)."""
        m = _EXTREME.search(text)
        if not m or not self._only(text, [m.span()]):
            return None
        if "处" in text and "任务" in text and m.group(0) in ("最多", "最少"):
            counts = {o: sum(o in t.offices for t in self.kb.tasks) for o in self.kb.offices}
            pick = max if m.group(0) == "最多" else min
            office = pick(counts, key=lambda o: counts[o])
            return _cited(f"{office}负责的任务{m.group(0)}，共{counts[office]}项；各处负责任务数："
                          + "、".join(f"{o}{n}项" for o, n in sorted(
                              counts.items(), key=lambda p: -p[1]) if n) + "。", "二 主要任务")
        if not re.search(r"时间|截止|节点|期限|完成|先|后|早|晚", text):
            return None
        # Asked what must be done by then, a date from which a rule applies (自…起) is no
        # deadline.
        due = bool(re.search(r"截止|完成", text))
        dated = sorted(((d.date, t, d) for t in self.kb.tasks for d in t.deadlines
                        if not (due and "起" in d.wording)), key=lambda x: x[0])
        if not dated:
            return None
        early = m.group(0) in ("最早", "最先")
        edge = dated[0][0] if early else dated[-1][0]
        items = "；".join(f"{t.clause} {d.wording}{d.what}" for day, t, d in dated if day == edge)
        return _cited_all(f"方案中{'最早' if early else '最晚'}的时间节点：{items}。",
                          [t.citation for day, t, _ in dated if day == edge])

    def _shared(self, text: str) -> Answer | None:
        """Tasks several offices share (哪些任务由两个以上处室负责)."""
        if not (_TASK_WORD.search(text) and _SHARED.search(text)):
            return None
        tasks = [t for t in self.kb.tasks if len(t.offices) > 1]
        items = "；".join(f"{t.clause} {t.title}（{'、'.join(t.offices)}）" for t in tasks)
        return _cited_all(f"由两个及以上处室按职责分工负责的任务（{len(tasks)}项）：{items}。",
                          [t.citation for t in tasks])

    def _place(self, question: Question) -> Answer | None:
        """Tasks naming a place (方案里提到洛阳了吗, 涉及许昌的任务有哪些)."""
        places = question.named("place")
        if len(places) != 1 or not _PLACE_ASK.search(question.text):
            return None
        place = places[0]
        at = question.text.find(place)
        if not self._only(question.text, [(at, at + len(place))], ("方案", "本方案")):
            return None
        hits = [(t, s) for t in self.kb.tasks for s in split(t.text) if place in s]
        if not hits:
            return Answer(text=f"方案的任务中没有点名{place}。", confident=False)
        items = "；".join(f"{t.clause} {s.rstrip('。；')}" for t, s in hits[:3])
        return _cited_all(f"方案点名{place}的内容（{len(hits)}处）：{items}。",
                          [t.citation for t, _ in hits])

    def _definition(self, text: str) -> Answer | None:
        cue = _DEFINE.search(text)
        if not cue:
            return None
        for span in self.terms.find(text):
            term = self._definitions.get(span.term)
            if term and self._only(text, [(span.start, span.end), cue.span()],
                                   (term.term, *term.also, span.term)):
                return _cited(f"{term.term}：{term.means}", term.clause)
        return None

    def _area(self, text: str) -> Answer | None:
        if not _TASK_WORD.search(text):
            return None
        for word, section_id in self._areas:
            at = text.find(word)
            if at < 0 or not self._only(text, [(at, at + len(word))]):
                continue
            tasks = [t for t in self.kb.tasks if t.section == section_id]
            section = next(s for s in self.kb.sections if s.id == section_id)
            head = (f"{section.title}共{len(tasks)}项任务（任务{tasks[0].number}—"
                    f"{tasks[-1].number}）")
            where = f"{section.clause} {section.title}"
            if _WHO.search(text):  # 分别由谁负责: each task with its offices
                items = "；".join(f"{t.clause} {t.title}（{'、'.join(t.offices)}）" for t in tasks)
                return _cited(f"{head}：{items}。", where)
            if _COUNT.search(text) and len(tasks) > LONG_LIST:
                return _cited(f"{head}，从“{tasks[0].title}”到“{tasks[-1].title}”。", where)
            return _cited(f"{head}：{_task_list(tasks)}。", where)
        return None

    def _due(self, text: str, intents: frozenset[str]) -> Answer | None:
        period = period_of(text, self._year)
        if period is None or not (_DUE.search(text) or intents & {"list", "what", "how"}):
            return None
        if not self._only(text, [period.span]):
            return None
        due = [(t, d) for t in self.kb.tasks for d in t.deadlines
               if period.first <= d.date <= period.last]
        said = text[period.span[0] : period.span[1]]
        if not due:
            all_dates = "、".join(dict.fromkeys(
                d.wording for t in sorted(self.kb.tasks, key=lambda t: t.number)
                for d in sorted(t.deadlines, key=lambda d: d.date)))
            return Answer(text=f"方案没有以{said}为期限的任务。方案的时间节点有：{all_dates}。",
                          confident=False, sources=())
        items = "；".join(f"{t.clause} {d.wording}{d.what}" for t, d in due)
        return _cited_all(f"方案中{said}的时间节点（{len(due)}项）：{items}。",
                          [t.citation for t, _ in due])

    def _industry_tasks(self, text: str, intents: frozenset[str]) -> Answer | None:
        if not _TASK_WORD.search(text) or not intents & {"list", "what", "target"}:
            return None
        for word, industry in sorted(self.industries.items(), key=lambda p: -len(p[0])):
            at = text.find(word)
            if at < 0 or not self._only(text, [(at, at + len(word))]):
                continue
            tasks = [t for t in self.kb.tasks if industry in t.industries]
            if not tasks:
                return None
            sections = {s.id: f"{s.clause} {s.title}" for s in self.kb.sections}
            return _cited_all(
                f"方案中点名{industry}行业的任务（{len(tasks)}项）：{_task_list(tasks)}。",
                [sections.get(t.section, "") for t in tasks],
            )
        return None

    def _every_standard(self, text: str) -> Answer | None:
        """Every standard the plan cites (方案里涉及哪些国家标准), when the question asks for
        all of them and names nothing they would be narrowed by."""
        if not _EVERY.search(text) or not self._only(text, [], _STANDARD_WORDS):
            return None
        national = bool(_NATIONAL.search(text))
        chosen = [s for s in self.kb.standards if _national(s) or not national]
        if not chosen:
            return None
        kind = "国家标准" if national else "标准"
        items = "；".join(s.number if not s.title else f"《{s.title}》" if s.number in s.title
                         else f"《{s.title}》（{s.number}）" for s in chosen)
        return _cited_all(f"方案涉及{len(chosen)}项{kind}：{items}。",
                          [self.kb.task(s.task).citation for s in chosen
                           if s.task in self.kb.task_numbers])

    def _standards(self, text: str, intents: frozenset[str]) -> Answer | None:
        if "standard" not in intents:
            return None
        every = self._every_standard(text)
        if every is not None:
            return every
        for family, members in self._families.items():
            at = text.find(family)
            if at < 0:
                continue
            covers = {normalize(c) for s in self.kb.standards for c in s.covers} - {family}
            if any(c in text for c in covers) or not self._only(text, [(at, at + len(family))]):
                return None
            items = "；".join(f"{s.covers[0]} {s.number}" for s in members)
            return _cited_all(f"{family}按产品分别执行：{items}。",
                              [self.kb.task(s.task).citation for s in members])
        return None


def _national(standard: Standard) -> bool:
    """A national standard: GB (mandatory) or GB/T (recommended), China's own prefixes."""
    return standard.number.upper().startswith("GB")


# A question asking for every standard, and the words it may use to say so.
_EVERY = re.compile(r"(?:哪些|哪几|几个|几项|多少个|多少项|都有|有什么|有啥|列出|所有|全部|一共)"
                    r"[^,?。]{0,6}标准|标准(?:有哪些|有几个|有几项|都有|有什么|有啥)")
_NATIONAL = re.compile(r"国家标准|国标|gb")
_STANDARD_WORDS = ("国家标准", "国标", "标准", "地方标准", "行业标准", "涉及", "引用", "提到")


def _cited(body: str, clause: str) -> Answer:
    return Answer(text=f"{body}\n依据：{clause}", confident=True, sources=(clause,))


def _cited_all(body: str, citations: Iterable[str]) -> Answer:
    clauses = list(dict.fromkeys(c for c in citations if c))
    return Answer(text=f"{body}\n依据：{'；'.join(clauses)}", confident=True,
                  sources=tuple(clauses))


def _task_list(tasks: list[Task]) -> str:
    """``二（三）24 推动实施绿色化改造；…``; a short list shows each task's opening clause."""
    if len(tasks) <= LIST_GIST:
        return "；".join(f"{t.clause} {t.title}（{_first_clause(t)}）" for t in tasks)
    return "；".join(f"{t.clause} {t.title}" for t in tasks)


def _clause_with(sentence: str, word: str) -> str:
    """The clause of ``sentence`` holding ``word`` and the one after it, asides dropped:
    the part of a long sentence a list item needs."""
    clauses = re.split(r"[，；。]", re.sub(r"（[^）]*）|\([^)]*\)", "", sentence))
    at = next((i for i, c in enumerate(clauses) if word in c), 0)
    return "，".join(c for c in clauses[at : at + 2] if c)


def _wordings(task: Task) -> str:
    """A task's deadlines as the plan words them: 2021年年底前、自2022年9月1日起."""
    return "、".join(dict.fromkeys(d.wording for d in task.deadlines))


def _first_clause(task: Task) -> str:
    sentences = body(task)
    return re.split(r"[，。；]", sentences[0] if sentences else task.title)[0]


def _families(standards: tuple[Standard, ...]) -> dict[str, list[Standard]]:
    """Product families several standards share the name of: 木器涂料 and 车辆涂料 → 涂料."""
    names = {s.number: normalize(s.covers[0]) for s in standards if s.covers}
    families: dict[str, list[Standard]] = {}
    for a in standards:
        for b in standards:
            if a.number >= b.number or a.number not in names or b.number not in names:
                continue
            tail = common_prefix([names[a.number][::-1], names[b.number][::-1]])[::-1]
            if len(tail) >= 2:
                families[tail] = []
    for family in families:
        families[family] = [s for s in standards
                            if any(normalize(c).endswith(family) for c in s.covers)]
    return families

