"""Facts the engine derives from the structured parts of a knowledge base.

The YAML states each task's offices and deadlines, each office's duty and each
standard's coverage once; the questions "who is responsible for X", "by when",
"what does office Y do" and "what does GB Z cover" are answered from those, so
the file never repeats them as hand-written facts.
"""

from __future__ import annotations

import re

from knowledge.model import Fact, KnowledgeBase, Standard, Task
from knowledge.passages import summary

_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def _group(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in words if w))


def task_facts(task: Task) -> list[Fact]:
    """A task's office, summary and (when it has any) deadlines, each as a fact."""
    topics = (_group([*task.keywords, task.title]),)

    def fact(kind: str, answer: str, intents: tuple[str, ...], question: str) -> Fact:
        return Fact(
            id=f"task-{task.number}-{kind}",
            task=task.number,
            clause=task.citation,
            answer=answer,
            topics=topics,
            intents=intents,
            questions=(question,),
        )

    offices = "、".join(task.offices)
    facts = [
        fact("who", f"“{task.title}”（任务{task.number}）由{offices}负责。", ("who",),
             f"{task.title}由哪个处负责？"),
        fact("about", summary(task), ("what", "how"), f"{task.title}有什么要求？"),
    ]
    if task.deadlines:
        when = "；".join(f"{d.wording}{d.what}" for d in task.deadlines)
        facts.append(fact("when", f"{when}。", ("when",), f"{task.title}的时间要求是什么？"))
    return facts


def office_facts(kb: KnowledgeBase) -> list[Fact]:
    facts = []
    for office, duty in kb.offices.items():
        tasks = [t for t in kb.tasks if office in t.offices]
        listed = "；".join(f"{t.number}.{t.title}" for t in tasks)
        answer = f"{office}：{duty}" + (f"。负责任务：{listed}。" if listed else "")
        key_tasks = _key_tasks_of(kb, office)
        if key_tasks:
            answer += f"附件重点任务：{'；'.join(key_tasks)}"
        facts.append(
            Fact(
                id=f"office-{office}",
                task=None,
                clause="；".join(t.citation for t in tasks[:1]) or "附件 重点任务分工",
                answer=answer,
                topics=((office,),),
                intents=("what", "list", "who", "how"),
                questions=(f"{office}负责哪些任务？",),
            )
        )
    return facts


def _key_tasks_of(kb: KnowledgeBase, office: str) -> list[str]:
    """The appendix's key tasks (document.key_tasks) assigned to ``office``."""
    return [item.text for item in kb.document.key_tasks if item.office == office]


def standard_numbers(standard: Standard) -> tuple[str, ...]:
    """Ways a standard's number is typed: ``GB 18581-2020``, ``GB18581``, ``18581``."""
    number = standard.number
    digits = re.search(r"\d{3,}", number)
    core = re.sub(r"[—–－]", "-", number)
    variants = [number, core, core.replace(" ", "")]
    if digits:
        variants.append(digits.group(0))
        prefix = re.match(r"[A-Za-z/]+\s*\d*", core)
        if prefix:
            variants.append(prefix.group(0).replace(" ", ""))
    return _group(variants)


def standard_facts(kb: KnowledgeBase) -> list[Fact]:
    facts = []
    for std in kb.standards:
        task = kb.task(std.task)
        covers = std.covers[0]  # the rest are other names people use for it
        note = std.note
        dated = ("when",) if _DATE.search(note) else ()
        facts.append(
            Fact(
                id=f"standard-{std.number}-covers",
                task=std.task,
                clause=task.citation,
                answer=f"{std.number}《{std.title}》，适用于{covers}。{note}",
                topics=(standard_numbers(std),),
                intents=("what", "list", "standard", "how", *dated),
                questions=(f"{std.number}是什么标准？",),
            )
        )
        facts.append(
            Fact(
                id=f"standard-{std.number}-for",
                task=std.task,
                clause=task.citation,
                answer=f"{covers}执行《{std.title}》（{std.number}）。{note}",
                topics=(_group(list(std.covers)),),
                intents=("standard", *dated),
                questions=(f"{std.covers[0]}执行什么标准？",),
            )
        )
    return facts


def derived_facts(kb: KnowledgeBase) -> list[Fact]:
    facts: list[Fact] = []
    for task in kb.tasks:
        facts.extend(task_facts(task))
    facts.extend(office_facts(kb))
    facts.extend(standard_facts(kb))
    return facts
