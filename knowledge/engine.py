"""The answer engine: a question in, a short answer with its clause out.

How ``Engine.ask`` answers a message:

1. English is put into the plan's words (``knowledge.english``, the KB's glossary); the
   text is normalised: width, script, numerals, units (``knowledge.normalize``).
2. A question staff taught (/unanswered, ``Engine.learned``) gets the entry it was
   attached to, with one mistyped character forgiven (``knowledge.learned``).
3. A message holding several questions is split into them (``knowledge.question``:
   question marks, 另外…, comma-joined clauses asking new kinds, a trailing 哪个处管),
   a comparison (A和B有什么区别 / 哪个先) into one question about each; each part is
   answered, numbered, a part naming nothing keeping the subject of the one before it.
4. A follow-up (那石灰窑呢？ / 哪个处负责？) becomes the standalone question it stands
   for, built on the previous question (``knowledge.followup``).
5. The standalone question is parsed once (``knowledge.question.parse``: what is asked
   as an ``Asked``, its subjects by kind, the figure and department it names) and goes
   through the answerers of ``ANSWERERS``, in this order; the first answer wins:

   - ``elsewhere``: another province's rules are out of scope;
   - ``numbered``: a task, appendix item or work requirement named by number or title;
   - ``structured``: lists and counts from the KB's structure (``knowledge.lookup``):
     the document's parts and appendix, a task's standards, tasks by cooperating
     department, office (and which have dates), place, area, deadline, industry, product
     family, the earliest/latest deadline, the office with most tasks, a term's meaning;
   - ``money``: an amount of money the plan never states is not guessed;
   - ``rules``: equipment a rule names, judged at the size, fuel and industry given
     (``knowledge.rules``);
   - ``unlisted``: equipment no rule names is said to be not listed;
   - ``facts``: the best-ranked fact (topic words, intents, sample questions, answer
     overlap; weights in ``knowledge.weights``), if clear and giving what is asked; a
     whole task, or a fact a sentence of the plan holds far more of the question than,
     answers with that sentence (``knowledge.passages``);
   - ``sentences``: the plan's sentence holding most of the question, among those BM25
     retrieves (``knowledge.retrieval``);
   - ``not-in-plan``: a fact or sentence that lacks the figure, date, standard, person,
     procedure or names asked for is said with "方案没有给出…", not confident (a figure
     or grade the question states and the plan sets otherwise is said so by the two
     answerers before it);
   - ``fallback``: unsure with up to three suggestions, or not covered.
6. A deadline before ``today`` is said to have passed (``knowledge.dates``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache, cached_property
from pathlib import Path

from rapidfuzz import fuzz, process

from knowledge.dates import passed_note
from knowledge.derive import derived_facts, standard_numbers
from knowledge.english import English, is_english
from knowledge.followup import FollowUp, Shape, follow_up_of, merge
from knowledge.intents import FILLERS, cue_spans, detect_intents
from knowledge.learned import LearnedQuestions
from knowledge.loader import load_kb
from knowledge.lookup import Lookups, Ref
from knowledge.model import Answer, Fact, KnowledgeBase
from knowledge.normalize import drop_negated, normalize
from knowledge.passages import Passages
from knowledge.question import (
    ABSENT,
    Asked,
    Question,
    contradicted,
    lacks,
    not_one_of,
    parse,
    says_absent,
    split_comparison,
    split_each,
    split_parts,
)
from knowledge.rules import RuleBook
from knowledge.scope import HENAN_PLACES, other_region
from knowledge.terms import build_terms
from knowledge.vocabulary import Vocabulary
from knowledge.weights import W

MAX_QUESTION = 500  # characters considered; a 10,000-character paste is cut, not choked on
MAX_PARTS = 4  # questions of one message answered; the rest are left for another message
_FILLER_RE = re.compile("|".join(re.escape(w) for w in sorted(FILLERS, key=len, reverse=True)))



@dataclass(frozen=True)
class _Entry:
    fact: Fact
    groups: tuple[tuple[str, ...], ...]
    derived: bool


@dataclass
class _Scored:
    entry: _Entry
    score: float
    complete: bool  # every topic group named
    specific: float  # matched topic characters, each word weighted by its rarity
    fuzzy: float
    chars: int = 0  # characters of the longest topic words matched, unweighted
    subject: bool = True  # the first topic group (the fact's subject) is named


class Engine:
    """Answers questions from one knowledge base. Build once; ``ask`` is cheap and pure."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        entries = [_Entry(f, _norm_groups(f), False) for f in kb.facts]
        entries += [_Entry(f, _norm_groups(f), True) for f in derived_facts(kb)]
        self._entries = entries
        self._answers = {id(e): normalize(e.fact.answer) for e in entries}
        self._families = [frozenset(_family(e.fact.intents)) for e in entries]
        # Topic words by their first two characters, each with the (fact, group)s it is in.
        places: dict[str, list[tuple[int, int]]] = defaultdict(list)
        facts_with: dict[str, int] = defaultdict(int)
        for i, entry in enumerate(entries):
            for alt in {a for group in entry.groups for a in group}:
                facts_with[alt] += 1
            for g, group in enumerate(entry.groups):
                for alt in group:
                    places[alt].append((i, g))
        self._by_prefix: dict[str, list[tuple[str, list[tuple[int, int]]]]] = defaultdict(list)
        for alt, where in places.items():
            self._by_prefix[alt[:2]].append((alt, where))
        # A word many facts share says less about which fact is meant (rarity weighting).
        self._weight = {alt: len(alt) / math.sqrt(n) for alt, n in facts_with.items()}
        self._questions: list[str] = []
        self._question_owner: list[int] = []
        for i, entry in enumerate(entries):
            for q in entry.fact.questions:
                self._questions.append(_core(normalize(q)))
                self._question_owner.append(i)
        terms: list[str] = [alt for e in entries for g in e.groups for alt in g]
        for rule in kb.rules:
            terms += [rule.equipment, *rule.aliases, *rule.kinds]
        for std in kb.standards:
            terms += [*std.covers, *standard_numbers(std)]
        terms += [*kb.industries, *kb.offices]
        for task in kb.tasks:
            terms += [*task.keywords, task.title]
        aliases = dict(kb.aliases)
        for term in kb.glossary:
            terms.append(term.term)
            aliases.update({other: term.term for other in term.also})
        self.vocabulary = Vocabulary(terms, aliases)
        self._alias_re = re.compile("|".join(re.escape(a) for a in sorted(
            self.vocabulary.aliases, key=len, reverse=True)) or "(?!)")
        self.rulebook = RuleBook(kb)
        self.terms = build_terms(kb, [e.fact for e in entries])
        self.lookups = Lookups(kb, self.terms)
        self.passages = Passages(kb, lambda text: (s.term for s in self.terms.find(text)),
                                 k1=W.bm25_k1, b=W.bm25_b, candidates=W.candidates)
        self.english = English(kb.glossary)
        self.examples = _examples(kb.facts)
        self._plan_text = normalize("".join(
            [t.text for t in kb.tasks] + [p.text for p in self.passages.items]
            + [f"{s.clause}{s.title}" for s in kb.sections] + [kb.document.text]))
        # Questions staff taught (/unanswered), answered with the entry they were attached to.
        self.learned = LearnedQuestions()
        texts = [f.answer for f in kb.facts] + [t.text for t in kb.tasks]
        self._states_money = any(_AMOUNT.search(t) for t in texts)

    # -- public -------------------------------------------------------------------------

    def ask(
        self, question: str, *, today: dt.date | None = None, previous: str | None = None
    ) -> Answer:
        """The answer to ``question``. ``previous``: what the chat's previous question was
        understood as (its ``Answer.understood``), for a follow-up to build on; ``today``:
        the day it is asked, so a deadline already behind it is said to have passed."""
        raw, text = self._prepare(question)
        if not _core(text):
            return Answer(
                text="请用文字描述您的问题，例如：" + "；".join(self.examples),
                confident=False,
                suggestions=self.examples,
            )
        taught = self.learned.match(text)
        if taught is not None:
            answer = self.answer_fact(taught, today=today)
            if answer is not None:
                return replace(answer, understood=text)
        parts = self._parts(text)
        if len(parts) == 1:
            return self._ask_one(raw, text, today, previous)
        answers: list[Answer] = []
        for part in parts:
            answers.append(self._ask_one(part, part, today, previous))
            previous = answers[-1].understood or previous
        return _joined(answers)

    def _parts(self, text: str) -> list[str]:
        """The questions of a message as they are answered: each comparison asked of
        each thing; a part naming nothing takes the subjects of the part before it, one
        naming no trade the one named before (我们是陶瓷厂…)."""
        parts = [q for part in split_parts(text) for p in split_comparison(part, self.terms)
                 for q in split_each(p, self.terms)]
        if len(parts) == 1:
            return parts
        out: list[str] = []
        subjects = ""  # what the parts so far are about, for a part that names nothing
        context = ""  # the trade they name, for a part that names none
        for part in parts[:MAX_PARTS]:
            # what a part names: its industries, tasks, products… (我们这种 names nothing)
            named = [s for s in self.terms.find(part, subjects_only=True)
                     if self.terms.names(s.term)]
            trade = [s.term for s in named if self.terms.kinds(s.term) & _CONTEXT_KINDS]
            if named:
                if context and not trade:
                    part = f"{context},{part}"
                subjects = "".join(dict.fromkeys(s.term for s in named))
            elif subjects and not follow_up_of(part, part, self.terms):
                part = f"{subjects},{part}"
            if trade:
                context = "".join(dict.fromkeys(trade))
            out.append(part)
        return out

    def _ask_one(self, raw: str, text: str, today: dt.date | None,
                 previous: str | None) -> Answer:
        """One question of a message, answered (``previous``: the one before it)."""
        follow = follow_up_of(text, raw, self.terms)

        @cache
        def alone() -> Answer:
            """The question answered on its own (worked out at most once)."""
            return self._answer(text)

        answer = self._followed(follow, previous, alone) if follow and previous else None
        if answer is None:
            answer = alone()
            answer = replace(answer, understood=text if answer.in_scope else "")
        answer = replace(answer, follow_up=follow is not None)
        return self._dated(answer, today) if today else answer

    def explain(self, question: str, previous: str | None = None) -> str:
        """How ``question`` is answered, for diagnosis: each part as parsed, the answerer
        that fired, and the leading facts and sentences with their scores."""
        _, text = self._prepare(question)
        lines = [f"normalised: {text}"]
        for n, part in enumerate(self._parts(text) if _core(text) else [], 1):
            follow = follow_up_of(part, part, self.terms)
            standalone, asking = part, ""
            if follow and previous:
                standalone = merge(follow, normalize(previous), self.terms).text
                asking = follow.core if follow.shape is Shape.ASK else ""
            ctx = _Asking.of(self, standalone, asking)
            q = ctx.question
            lines.append(f"part {n}: {standalone}")
            lines.append(f"  asked: {', '.join(sorted(a.name for a in q.asked)) or '-'}; "
                         f"follow-up: {follow.shape.value if follow else '-'}; "
                         f"figure: {q.figure if q.figure is not None else '-'}; "
                         f"department: {q.department or '-'}; "
                         f"negation: {'yes' if q.negated else '-'}")
            lines.append("  subjects: " + ("; ".join(
                f"{k}={'、'.join(v)}" for k, v in sorted(q.subjects.items())) or "-"))
            trace: list[str] = []
            self._answer(standalone, trace, asking=asking)
            lines.append(f"  answerer: {trace[0] if trace else '-'}")
            for s in ctx.ranked[:5]:
                lines.append(f"  fact {s.score:6.2f} {'complete' if s.complete else 'partial '} "
                             f"{s.entry.fact.id}")
            forms = (standalone, self.vocabulary.canonical(standalone))
            for score, share, passage in self.passages.explained(forms, 5):
                lines.append(f"  sentence bm25 {score:5.2f} share {share:.2f} "
                             f"{passage.clause.split('｜')[0]}: {passage.text[:40]}")
            previous = standalone
        return "\n".join(lines)

    def _prepare(self, question: str) -> tuple[str, str]:
        """The question as read (English translated) and normalised, both bounded."""
        raw = question[: MAX_QUESTION * 4]
        if is_english(raw):
            raw = self.english.translate(raw)
        else:
            # A space between Chinese words is how a phone message separates clauses.
            raw = _CLAUSE_SPACE.sub("，", raw.strip())
        return raw, normalize(raw)[:MAX_QUESTION]

    # -- what staff attach unanswered questions to ---------------------------------------

    def candidates(self, question: str, limit: int = 4) -> list[Fact]:
        """The entries a question most likely meant, best first (for staff to choose the
        right one for a question the engine could not answer): facts the plan answers."""
        _, text = self._prepare(question)
        ranked = self._rank(text, self.vocabulary.expand(text), detect_intents(text))
        return _dedupe_facts(s.entry.fact for s in ranked if s.entry.fact.covered)[:limit]

    def fact(self, fact_id: str) -> Fact | None:
        for entry in self._entries:
            if entry.fact.id == fact_id:
                return entry.fact
        return None

    def answer_fact(self, fact_id: str, *, today: dt.date | None = None) -> Answer | None:
        """The answer of one entry, as a confident answer (a question staff attached to
        it); None if the knowledge base no longer has it."""
        fact = self.fact(fact_id)
        if fact is None:
            return None
        answer = Answer(text=f"{fact.answer}\n依据：{fact.clause}", confident=fact.covered,
                        sources=(fact.clause,))
        return self._dated(answer, today) if today else answer

    def _followed(
        self, follow: FollowUp, previous: str, alone: Callable[[], Answer]
    ) -> Answer | None:
        """A follow-up answered as the standalone question it stands for; None when the
        question is better answered on its own: it names a subject and asks something
        (那抽检率有要求吗), or its subject takes no one's place in the previous question
        (那矿山里的车呢), and it is answered with confidence alone."""
        merged = merge(follow, normalize(previous), self.terms)
        alone_first = follow.shape is Shape.BOTH or (
            follow.shape is Shape.SUBJECT and not merged.replaced
        )
        if alone_first and alone().confident:
            return None
        # A new subject asked the old way is not held to the old question's every word.
        joined = self._answer(merged.text, strict=follow.shape is not Shape.SUBJECT,
                              asking=follow.core if follow.shape is Shape.ASK else "")
        # Unsure of the merged question (an explanation of what the plan leaves open is an
        # answer, not unsure), the question may still stand on its own.
        unsure = not joined.confident and not joined.sources
        if unsure and not alone_first and follow.shape is Shape.SUBJECT and alone().confident:
            return None
        shown = f"{merged.shown}：" if merged.shown and joined.sources else ""
        return replace(joined, text=shown + joined.text,
                       understood=merged.text if joined.in_scope else "")

    def _dated(self, answer: Answer, today: dt.date) -> Answer:
        """The answer with a note on its deadlines already behind ``today``."""
        if not answer.sources or not answer.in_scope:
            return answer
        body, sep, basis = answer.text.partition("\n依据：")
        note = passed_note(body, today)
        return replace(answer, text=f"{body}{note}{sep}{basis}") if note else answer

    def _answer(self, text: str, trace: list[str] | None = None, *,
                strict: bool = True, asking: str = "") -> Answer:
        """The answer to a standalone, normalised question: the first answer of the
        declared answerers (``ANSWERERS``, in order) that gives one. ``asking``: the words
        that say what is asked, when they are not all of ``text`` (a follow-up asking
        哪个处负责 of a question about elimination asks who, not whether)."""
        ctx = _Asking.of(self, text, asking)
        ctx.strict = strict
        for name, answerer in ANSWERERS:
            answer = answerer(self, ctx)
            if answer is not None:
                if trace is not None:
                    trace.append(name + (f" (withheld an answer lacking {ctx.withheld[1]})"
                                         if ctx.withheld else ""))
                return answer
        raise AssertionError("the fallback always answers")

    # -- the answerers, in the order of ANSWERERS ------------------------------------------

    def _elsewhere(self, ctx: _Asking) -> Answer | None:
        if other_region(ctx.raw, self.kb.document.region):
            return self._not_covered()
        return None

    def _by_number(self, ctx: _Asking) -> Answer | None:
        ref = self.lookups.reference(ctx.text)
        return self._numbered(ref, ctx.text, ctx.intents) if ref is not None else None

    def _structured(self, ctx: _Asking) -> Answer | None:
        return self.lookups.answer(ctx.text, ctx.intents, ctx.question)

    def _money(self, ctx: _Asking) -> Answer | None:
        if _MONEY.search(ctx.text) and not self._states_money:
            return self._no_amounts(ctx.ranked)
        return None

    def _rules(self, ctx: _Asking) -> Answer | None:
        rules = self.rulebook.matching(ctx.expanded)
        # Which standard, what target, who is responsible (unless a verdict is asked too):
        # not a verdict.
        asked = ctx.intents - ({"who"} if "ban" in ctx.intents else set())
        if rules and not asked & {"standard", "target", "who"}:
            named = {name for key, name in self.lookups.industries.items()
                     if key in ctx.expanded}
            units = [self.rulebook.units[r.condition.unit] for r in rules
                     if r.condition and r.condition.unit in self.rulebook.units]
            said, _, added = ctx.expanded.partition("|")
            sizes = list(dict.fromkeys(m.span() for unit in units for m in unit.finditer(said)))
            if len({said[a:b] for a, b in sizes}) < 2:
                return self.rulebook.answer(rules, ctx.expanded, named)
            # Several units of different sizes (一台8吨一台12吨): a verdict on each.
            verdicts = []
            for keep in sizes:
                alone = "".join(ch for i, ch in enumerate(said)
                                if not any(a <= i < b for a, b in sizes if (a, b) != keep))
                verdicts.append(self.rulebook.answer(rules, f"{alone}|{added}", named))
            return _joined(verdicts)
        return None

    def _unlisted(self, ctx: _Asking) -> Answer | None:
        if self.rulebook.matching(ctx.expanded):  # a rule names it
            return None
        ranked = ctx.ranked
        unlisted = self.rulebook.unlisted(ctx.text) if "ban" in ctx.intents else None
        if unlisted and not (ranked and ranked[0].complete and not ranked[0].entry.fact.covered):
            return self.rulebook.not_listed(unlisted)
        return None

    def _facts(self, ctx: _Asking) -> Answer | None:
        ranked = ctx.ranked
        if not ranked:
            return None
        best = ranked[0]
        understood = self._understood(ctx.text, ctx.expanded)
        # One short word in common ("食品") is thin evidence: the rest must be understood too.
        needed = W.min_coverage if best.chars > W.short_match else W.thin_coverage
        clear = understood >= needed or best.fuzzy >= W.fuzzy_clear
        if not (best.complete and clear and _gives(best, ctx.intents)):
            return None
        answer = self._fact_answer(best.entry, ctx.text, ctx.expanded, ranked, ctx.intents)
        # A sentence of the plan holding far more of the question than the fact's answer
        # answers it better (a detail deep in a task the fact only touches).
        forms = (ctx.text, self.vocabulary.canonical(ctx.text))
        found = self.passages.best(forms, None, ctx.intents & _SPECIFIC)
        if (found is not None and best.entry.fact.covered and found.share >= W.passage_lead
                and not self._paraphrased(best.entry, ctx.text)):
            body = answer.text.split("\n依据：")[0]
            held = self.passages.share_in(forms, body)
            # What is asked weighs more than the context given before it (我们厂刚被纳入
            # 名录，年度内要做什么监测): compared on the asking clause too.
            asking = _asking_clause(ctx.text)
            ahead = asking != ctx.text and (
                self.passages.share_in((asking,), found.text)
                - self.passages.share_in((asking,), body) >= W.sentence_over_fact)
            if found.share - held >= W.sentence_over_fact or ahead:
                answer = Answer(text=f"{found.text}\n依据：{found.clause}", confident=True,
                                sources=(found.clause,))
        return ctx.checked(answer)

    def _paraphrased(self, entry: _Entry, text: str) -> bool:
        """Whether the question names one of the fact's topic words the plan never writes
        (好处 for 鼓励政策): its author foresaw the question; no sentence holds it."""
        return any(alt in text and alt not in self._plan_text
                   for group in entry.groups for alt in group)

    def _sentences(self, ctx: _Asking) -> Answer | None:
        sure = ctx.checked(self._sentence(ctx.text, ctx.intents, W.passage_sure))
        if sure is not None or ctx.withheld is not None:
            return sure
        # A sentence holding much of the question, far ahead of any other, is the answer.
        top = self.passages.top((ctx.text, self.vocabulary.canonical(ctx.text)), 2)
        if len(top) == 2 and top[0][0] >= W.passage_lead and (
                top[0][0] - top[1][0] >= W.passage_margin):
            return ctx.checked(self._sentence(ctx.text, ctx.intents, W.passage_lead))
        return None

    def _not_in_plan(self, ctx: _Asking) -> Answer | None:
        """What the plan says about the question, and that it gives no such figure, name,
        date or condition as asked: not an answer to the question, so not confident."""
        if ctx.withheld is None:
            return None
        answer, lacking = ctx.withheld
        if not lacking:  # the answer itself says the plan gives no such thing
            return replace(answer, confident=False, suggestions=())
        body, _, basis = answer.text.partition("\n依据：")
        said = f"方案没有给出{lacking}。方案的相关内容是：{body}"
        return replace(answer, text=f"{said}\n依据：{basis}",
                       confident=False, suggestions=())

    def _fallback(self, ctx: _Asking) -> Answer:
        ranked = ctx.ranked
        if not ranked:
            return self._not_covered()
        best = ranked[0]
        understood = self._understood(ctx.text, ctx.expanded)
        # A partial match is a lead only if it names some fact's subject (its first
        # topic group): "怎么样" alone matches phrasing, not a subject.
        lead = best.specific >= W.min_specific_to_suggest or understood >= W.lead_coverage
        if best.complete or (lead and any(s.subject for s in ranked[:5])):
            return self._unsure(ranked)
        return self._not_covered()

    def _sentence(self, text: str, intents: frozenset[str], share: float = 0.0,
                  tasks: Iterable[int] | None = None) -> Answer | None:
        """The plan's sentence holding most of the question, if it holds ``share`` of it."""
        found = self.passages.best((text, self.vocabulary.canonical(text)), tasks,
                                   intents & _SPECIFIC)
        if found is None or found.share < share:
            return None
        return Answer(text=f"{found.text}\n依据：{found.clause}", confident=True,
                      sources=(found.clause,))

    def _fact_answer(self, entry: _Entry, text: str, expanded: str,
                     ranked: list[_Scored], intents: frozenset[str]) -> Answer:
        fact = entry.fact
        if entry.derived and fact.id.endswith(_ABOUT):
            # A whole task: the sentence of the plan's text the question points to.
            sentence = self._sentence(text, intents)
            if sentence is not None:
                return sentence
        # A fact marked "not covered" explains what the plan leaves open: it is said,
        # but not as a confident answer, and other questions are offered.
        others = () if fact.covered else tuple(_suggestions(ranked[1:]))
        return Answer(
            text=f"{self._membership(fact, text, expanded)}{fact.answer}\n依据：{fact.clause}",
            confident=fact.covered,
            sources=(fact.clause,),
            suggestions=others,
        )

    def _no_amounts(self, ranked: list[_Scored]) -> Answer:
        """An amount of money (a fine, a subsidy, a price) from a plan that states none: the
        fact that says so if there is one, else that the plan sets no amounts."""
        for s in ranked:
            if s.complete and not s.entry.fact.covered:
                fact = s.entry.fact
                return Answer(text=f"{fact.answer}\n依据：{fact.clause}", confident=False,
                              sources=(fact.clause,), suggestions=tuple(_suggestions(ranked)))
        said = "方案没有规定具体金额（如罚款、补贴、收费或价格）。"
        funding = self._funding
        if funding is None:
            return Answer(text=said, confident=False, suggestions=tuple(_suggestions(ranked)))
        return Answer(text=f"{said}方案关于资金的内容是：{funding.answer}\n依据：{funding.clause}",
                      confident=False, sources=(funding.clause,),
                      suggestions=tuple(_suggestions(ranked)))

    @cached_property
    def _funding(self) -> Fact | None:
        """The plan's own word on money (funds, support), for a question asking an amount
        or whether there is any: what the plan does say, shown with the answer that it
        sets no amount. None when no covered entry speaks of funds."""
        for entry in self._entries:
            if entry.fact.covered and _FUNDS.search(entry.fact.answer):
                return entry.fact
        return None

    def _numbered(self, ref: Ref, text: str, intents: frozenset[str]) -> Answer:
        """A question naming a task by number: about something inside the task, the fact or
        sentence of that task; otherwise the task itself, told the way it is asked."""
        rest = text[: ref.span[0]] + " " + text[ref.span[1] :]
        if ref.kind == "task" and ref.number in self.kb.task_numbers and self.terms.find(
            rest, subjects_only=True
        ):
            expanded = self.vocabulary.expand(rest)
            ranked = [s for s in self._rank(rest, expanded, intents)
                      if s.entry.fact.task == ref.number and not s.entry.derived]
            if ranked and ranked[0].complete:
                return self._fact_answer(ranked[0].entry, rest, expanded, ranked, intents)
            sentence = self._sentence(rest, intents, tasks=[ref.number])
            if sentence is not None:
                return sentence
        return self.lookups.numbered(ref, intents, text)

    def _membership(self, fact: Fact, text: str, expanded: str) -> str:
        """For a fact that lists members (industries), say whether the one asked about is listed."""
        if not fact.members:
            return ""
        if _HOW_MANY_MEMBERS.search(text):
            # Counted as the answer lists them: 传统煤化工（甲醇、合成氨） is one member.
            listed = re.sub(r"（[^）]*）|\([^)]*\)", "", fact.answer)
            counted = [m for m in fact.members if m in listed]
            if counted:
                return f"所列共{len(counted)}个。"
        members = [normalize(m) for m in fact.members]
        # Industries and places the KB knows by name must match a member exactly (or
        # contain it); 化工 is not 传统煤化工. Trades read loosely off the question
        # (我们是做服装加工的厂) may match either way.
        named = [self.lookups.industries[k] for k in self.lookups.industries if k in expanded]
        named += [p for p in HENAN_PLACES if p in text]
        loose = False
        if not named and _YES_NO.search(text):
            named, loose = [w for w in _subjects(text) if w not in fact.answer], True
        inside = [
            n for n in named
            if any(m in normalize(n) or (loose and normalize(n) in m) for m in members)
        ]
        # A word the answer itself holds outside its list is its subject (铸造 of 铸造专业产业园
        # whose members are cities), not a candidate member.
        said = normalize(fact.answer)
        for m in fact.members:
            said = said.replace(normalize(m), "")
        outside = [n for n in named if n not in inside and normalize(n) not in said]
        if outside and not inside:
            listed = "" if all(m in fact.answer for m in fact.members[:3]) else (
                f"所列为：{'、'.join(fact.members)}。"
            )
            return f"{'、'.join(_dedupe(outside))}不在所列范围内（未列入）。{listed}"
        if inside:
            return f"{'、'.join(_dedupe(inside))}属于所列范围。"
        return ""

    # -- facts ----------------------------------------------------------------------------

    def _rank(self, text: str, expanded: str, intents: frozenset[str]) -> list[_Scored]:
        hits: dict[int, dict[int, float]] = defaultdict(dict)
        lengths: dict[int, dict[int, int]] = defaultdict(dict)
        for pos in range(len(expanded) - 1):
            for alt, where in self._by_prefix.get(expanded[pos : pos + 2], ()):
                if not expanded.startswith(alt, pos):
                    continue
                weight, size = self._weight[alt], len(alt)
                for i, g in where:
                    if weight > hits[i].get(g, 0.0):
                        hits[i][g] = weight
                    if size > lengths[i].get(g, 0):
                        lengths[i][g] = size
        if not hits:
            return []
        fuzzy: dict[int, float] = {}
        core = _core(text)
        for _, score, index in process.extract(
            core, self._questions, scorer=fuzz.ratio, limit=20, score_cutoff=30
        ):
            owner = self._question_owner[index]
            fuzzy[owner] = max(fuzzy.get(owner, 0.0), score / 100)
        scored = []
        asked = _family(intents)
        for i, groups in hits.items():
            entry = self._entries[i]
            share = len(groups) / len(entry.groups)
            specific = sum(groups.values())
            fact_intents = self._families[i]
            if intents & _SPECIFIC & fact_intents:
                intent = 1.0
            elif asked & fact_intents:
                # "时间要求是什么" asks for a date: a description only half answers it.
                intent = 0.5 if intents & _SPECIFIC else 1.0
            elif fact_intents and (intents or (entry.derived and fact_intents <= {"who", "when"})):
                intent = -1.0
            else:
                intent = 0.0
            score = (
                W.topic * share
                + W.specific * specific
                + W.intent * intent
                + W.fuzzy * fuzzy.get(i, 0.0)
                - (W.derived_penalty if entry.derived else 0.0)
            )
            scored.append(_Scored(entry, score, share == 1.0, specific, fuzzy.get(i, 0.0),
                                  sum(lengths[i].values()), 0 in groups))
        # Questions often paraphrase the plan's own sentence: among the leaders, how much of
        # the question reappears in the fact's answer is a last, strong hint.
        scored.sort(key=lambda s: s.score, reverse=True)
        for s in scored[:W.answer_check]:
            overlap = fuzz.partial_ratio(core, self._answers[id(s.entry)]) / 100
            s.score += W.answer * max(0.0, overlap - W.answer_floor)
        # A fact whose every topic the question names outranks any partial match.
        scored.sort(key=lambda s: (s.complete, s.score), reverse=True)
        return scored

    def _understood(self, text: str, expanded: str) -> float:
        """Share of the question's content characters covered by known words or cues."""
        if not text:
            return 0.0
        covered = [False] * len(text)
        spans = list(cue_spans(text)) + self._known_spans(text)
        spans += [m.span() for m in _FILLER_RE.finditer(text)]
        spans += [m.span() for m in _NUMBER.finditer(text)]
        for start, end in spans:
            covered[start:end] = [True] * (end - start)
        # Near-miss words repaired to known terms count as understood.
        repaired = expanded.count("|")
        return min(1.0, (sum(covered) + 2 * repaired) / len(text))

    def _known_spans(self, text: str) -> list[tuple[int, int]]:
        """Where the question names a topic word or an alias."""
        spans = []
        for pos in range(len(text) - 1):
            for alt, _ in self._by_prefix.get(text[pos : pos + 2], ()):
                if text.startswith(alt, pos):
                    spans.append((pos, pos + len(alt)))
        spans += [m.span() for m in self._alias_re.finditer(text)]
        return spans

    def _unsure(self, ranked: list[_Scored]) -> Answer:
        """Ask back with the sample questions of the leading facts."""
        suggestions = _suggestions(ranked)
        lines = ["我不太确定您问的是哪一项。"]
        if suggestions:
            lines.append("您是不是想问：")
            lines += [f"{n}. {q}" for n, q in enumerate(suggestions, 1)]
        return Answer(text="\n".join(lines), confident=False, suggestions=tuple(suggestions))

    def _not_covered(self) -> Answer:
        title = self.kb.document.title or "本方案"
        text = (
            f"抱歉，这个问题不在《{title}》的范围内，我无法回答。\n"
            "我可以回答：哪些设备要淘汰、涂料和胶粘剂执行哪个VOCs标准、某项任务由哪个处负责、"
            "截止时间和目标是什么。例如：\n" + "\n".join(f"· {q}" for q in self.examples)
        )
        return Answer(text=text, confident=False, suggestions=self.examples, in_scope=False)


@dataclass
class _Asking:
    """One standalone question on its way through the answerers: parsed once, with what
    the answerers share worked out at most once."""

    engine: Engine
    raw: str  # normalised, as asked
    text: str  # with negated clauses dropped and "方案…" read as this plan
    question: Question
    expanded: str
    withheld: tuple[Answer, str] | None = None  # an answer lacking what is asked, and what
    strict: bool = True  # False: what is asked was carried over from a previous question
    _ranked: list[_Scored] | None = None

    @classmethod
    def of(cls, engine: Engine, raw: str, asking: str = "") -> _Asking:
        """``raw`` parsed; ``asking``: the words that say what is asked, if not all of it."""
        kept = drop_negated(raw)
        text = _THIS_DOCUMENT.sub("本方案", kept, count=1)
        question = parse(text, engine.terms)
        if kept != raw:
            question = replace(question, negated=True)
        if asking and detect_intents(asking):
            question = replace(question, asked=frozenset(
                Asked(i) for i in detect_intents(asking)))
        return cls(engine, raw, text, question, engine.vocabulary.expand(text))

    @property
    def intents(self) -> frozenset[str]:
        return self.question.intents

    @property
    def ranked(self) -> list[_Scored]:
        if self._ranked is None:
            ranked = self.engine._rank(self.text, self.expanded, self.intents)
            self._ranked = _prefer_giving(ranked, self.intents) if ranked else ranked
        return self._ranked

    def checked(self, answer: Answer | None) -> Answer | None:
        """``answer`` if it gives what the question asks for; else None, and it is kept
        for the not-in-plan answerer."""
        if answer is None or not answer.confident or not self.strict:
            return answer
        body = answer.text.split("\n依据：")[0]
        lacking = lacks(self.question, body)
        if lacking is not None and says_absent(body, lacking):
            return answer  # it says the plan leaves open just what is asked
        if lacking is None and ABSENT.search(body):
            # The answer says what the plan leaves open: an answer, unless the question
            # asks for a figure, which such an answer says the plan does not give.
            if self.question.figure is None:
                return answer
            self.withheld = self.withheld or (answer, "")
            return None
        if lacking is None:
            correction = (not_one_of(self.raw, self.engine.terms, body)
                          or contradicted(self.question, body))
            if correction:
                body = _MEMBER_NOTE.sub("", body)
                return replace(answer, text=correction + body + answer.text[len(
                    answer.text.split("\n依据：")[0]):])
            return answer
        if self.withheld is None:
            self.withheld = (answer, lacking)
        return None


# The answerers, in order; the first to give an answer gives it. A new class of question
# is one method and one line here. (A follow-up is first made standalone, in ``ask``.)
ANSWERERS: tuple[tuple[str, Callable[[Engine, _Asking], Answer | None]], ...] = (
    ("elsewhere", Engine._elsewhere),  # another province's rules: not covered
    ("numbered", Engine._by_number),  # a task, appendix item or requirement by number
    ("structured", Engine._structured),  # lists and counts, definitions (knowledge.lookup)
    ("money", Engine._money),  # an amount of money the plan never states
    ("rules", Engine._rules),  # equipment a rule names, judged at its size/fuel/industry
    ("unlisted", Engine._unlisted),  # equipment no rule names
    ("facts", Engine._facts),  # the best-ranked fact, if clear and giving what is asked
    ("sentences", Engine._sentences),  # the plan's sentence holding most of the question
    ("not-in-plan", Engine._not_in_plan),  # what the plan says, lacking what is asked
    ("fallback", Engine._fallback),  # unsure with suggestions, or not covered
)

# A question that opens with a bare document noun means the document at hand.
_THIS_DOCUMENT = re.compile(r"^(?:行动方案|方案|文件|通知)(?!里|中|上)")

_ABOUT = "-about"
_CLAUSE_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_HOW_MANY_MEMBERS = re.compile(r"(?<![这那哪])(?:几|多少)(?:个|类|种|项)")  # of a list
_OFFICE_NAMED = re.compile(r"处|办公室|负责")  # an answer that names who does it
# Kinds of word that set the scene for the rest of a message (我们是陶瓷厂…): a trade,
# not a piece of equipment (the cupola of one part is not the subject of the next).
_CONTEXT_KINDS = frozenset({"industry"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_MEMBER_NOTE = re.compile(r"^[^。]{1,20}属于所列范围。")  # what _membership says first
# A question asking for an amount of money, and an amount as a plan would state one.
_MONEY = re.compile(r"多少钱|多少元|几元|几块钱|费用多少|多少费用|收费多少|价格多少|价格是多少|"
                    r"什么价钱|罚多少|罚款多少|补多少|补贴多少|补助多少|奖励多少|多少万|金额|"
                    # whether there is money, and who pays: amounts too, which the plan
                    # would state if it set any
                    r"有(?:没有)?(?:补助|补贴|奖励|奖补|奖金)|(?:补助|补贴|奖励|奖补|奖金)吗|"
                    r"费用(?:由|是)?谁|谁(?:来)?(?:承担|出钱|出资|买单)|怎么罚|罚款")
_AMOUNT = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?元")
_FUNDS = re.compile(r"专项资金|财政资金|资金支持")
_YES_NO = re.compile(
    r"吗|是否|是不是|属不属于|在不在|算不算|要不要|需不需要|能不能|可不可以|行不|么"
)
_SUBJECT = re.compile(r"([\u4e00-\u9fff]{2,8}?)(?:加工厂|厂|企业|公司|行业|项目)")
_SUBJECT_NOISE = re.compile(r"^(?:我们|我|想|要|新建|新上|一个|一家|普通|是|做|开|的|家)+")


# "What is required", "how to do it" and "which ones" are answered by the same facts.
_DESCRIPTIVE = frozenset({"what", "how", "list"})


def _family(intents: Iterable[str]) -> set[str]:
    """Intents with the descriptive ones folded together."""
    out = set(intents)
    if out & _DESCRIPTIVE:
        out |= _DESCRIPTIVE
    return out


def _subjects(text: str) -> list[str]:
    """Names of trades a question introduces itself with: 我们是做服装加工的厂 → 服装."""
    found = []
    for match in _SUBJECT.finditer(text):
        word = _SUBJECT_NOISE.sub("", match.group(1))
        if len(word) >= 2:
            found.append(word)
    return found


def _asking_clause(text: str) -> str:
    """The last clause of a question that asks something (its context clauses before it
    dropped); the whole question if no clause does."""
    clauses = [c for c in re.split(r"[,，]", text) if c]
    for clause in reversed(clauses):
        if detect_intents(clause):
            return clause
    return text


def _joined(answers: list[Answer]) -> Answer:
    """The answers to the parts of one message, numbered, their clauses cited once: sure
    only if every part is."""
    lines: list[str] = []
    sources: list[str] = []
    bodies: list[str] = []
    for n, answer in enumerate(answers, 1):
        body = answer.text.split("\n依据：")[0]
        if not answer.confident and not answer.sources:
            body = body.split("\n")[0]
        same = bodies.index(body) + 1 if body in bodies else 0
        bodies.append(body)
        lines.append(f"{n}. 同第{same}条。" if same else f"{n}. {body}")
        sources += answer.sources
    clauses = _dedupe(sources)
    basis = f"\n依据：{'；'.join(clauses)}" if clauses else ""
    return Answer(
        text="\n".join(lines) + basis,
        confident=all(a.confident for a in answers),
        sources=tuple(clauses),
        suggestions=tuple(_dedupe(q for a in answers for q in a.suggestions))[:3],
        in_scope=any(a.in_scope for a in answers),
        understood=answers[-1].understood,
        follow_up=answers[0].follow_up,
    )


def _dedupe_facts(facts: Iterable[Fact]) -> list[Fact]:
    seen: set[str] = set()
    out = []
    for fact in facts:
        if fact.id not in seen:
            seen.add(fact.id)
            out.append(fact)
    return out


def _suggestions(ranked: list[_Scored]) -> list[str]:
    """The first sample question of the best-ranked facts the plan does answer, at most three."""
    facts = [s.entry.fact for s in ranked[:8] if s.entry.fact.covered]
    return _dedupe(q for fact in facts for q in fact.questions[:1])[:3]


def _examples(facts: tuple[Fact, ...]) -> tuple[str, ...]:
    """One sample question for each of the commonest needs: a ban, a standard, an office."""
    picked: list[str] = []
    for intent in ("ban", "standard", "who", "when"):
        for fact in facts:
            if intent in fact.intents and fact.questions and fact.questions[0] not in picked:
                picked.append(fact.questions[0])
                break
    return tuple(picked[:3])


# Intents that ask for one particular kind of fact; a fact that gives another kind
# (an office when a standard number was asked for) is no answer.
_SPECIFIC = frozenset({"when", "who", "standard", "target"})


def _gives(best: _Scored, intents: frozenset[str]) -> bool:
    """Whether a derived fact gives what the question asks for: the office of a task is
    no answer to "which standard". Hand-written facts are trusted to their author, except
    that one naming no office is no answer to who is responsible."""
    if not best.entry.derived:
        return not (intents & {"who"} and best.entry.fact.intents
                    and "who" not in best.entry.fact.intents
                    and not _OFFICE_NAMED.search(best.entry.fact.answer))
    offered = _family(best.entry.fact.intents)
    asked = intents & _SPECIFIC
    if asked:
        return bool(asked & offered)
    return not intents or bool(_family(intents) & offered)


def _prefer_giving(ranked: list[_Scored], intents: frozenset[str]) -> list[_Scored]:
    """Move up the best complete fact that gives the kind of answer asked for, when the
    leader does not ("的时间要求是什么" wants the dates, not the task's description)."""
    if _gives(ranked[0], intents):
        return ranked
    for s in ranked[1:4]:
        if s.complete and _gives(s, intents) and ranked[0].score - s.score <= W.giving_margin:
            return [s, *(r for r in ranked if r is not s)]
    return ranked


def _norm_groups(fact: Fact) -> tuple[tuple[str, ...], ...]:
    """Normalised topic alternatives; single characters match too much to identify anything."""
    groups = []
    for group in fact.topics:
        alts = tuple(dict.fromkeys(a for a in (normalize(x) for x in group) if len(a) >= 2))
        if alts:
            groups.append(alts)
    return tuple(groups)


def _core(text: str) -> str:
    """The question without greetings, particles and punctuation (for similarity)."""
    return _FILLER_RE.sub("", text)


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def load_engine(path: Path | None = None) -> Engine:
    """An engine over the KB at ``path`` (None: the shipped plan)."""
    return Engine(load_kb(path))


__all__ = ["Engine", "load_engine"]
