"""A message parsed once into a typed question: its parts, what is asked, its subjects.

Everything after parsing reads the ``Question``, never the raw text again:

* ``parts``: a message holding several questions (…吗？另外…哪个处管？) split into them;
  clauses that ask nothing (我们是做铸造的，) are context and stay with the part after them;
* ``asked``: what kind of answer each question wants, as :class:`Asked` members;
* ``subjects``: the knowledge base's words it names, by kind (industry, equipment,
  product, place, office, fuel, area, task…), with sizes (10吨/小时) as ``quantity``;
* ``department``: a cooperating department it names (配合省市场监管局 → 市场监管);
* ``figure``: the kind of figure it asks for (多少天 → 天, 百分之多少 → %), if any;
* ``negated``: whether it says something is not the case (不是燃煤的; the engine reads
  the question without that clause).

How people ask in Chinese lives here and in ``knowledge.intents``; which words are of
one kind comes from the knowledge base (``knowledge.terms``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from knowledge.intents import detect_intents
from knowledge.passages import bigrams
from knowledge.terms import ENTRY_WORDS, TermIndex


class Asked(Enum):
    """What kind of answer a question wants (from the cue words of ``knowledge.intents``)."""

    WHO = "who"  # an office or department
    WHEN = "when"  # a date or deadline
    STANDARD = "standard"  # a standard's number or name
    HOW_MANY = "target"  # a figure, a share, a count
    LIST = "list"  # the members of a list
    VERDICT = "ban"  # yes or no: is it banned, covered, allowed
    DEFINITION = "what"  # what something is or says
    DETAIL = "how"  # what must be done


# A message's questions are separated by question marks, semicolons, or words that
# open another question (另外…); 还有 only between two long enough clauses.
_SEPARATOR_KEPT = re.compile(r"([^?;。!]+)([?;。!]*)")
_INTERROGATIVE = re.compile(
    r"哪|什么|啥|几|多少|如何|怎么|怎样|[吗呢么]$|有没有|是不是|算不算|能不能|要不要|谁")
# 几 that counts rather than asks (十几年, 几十家, 好几台); and what asks even in a
# sentence ended with a full stop, where 几 (我们有几台窑炉。) and a noun like 时间 or 标准
# only describe (我们是陶瓷企业，有几台窑炉。想问：…).
_INDEFINITE = re.compile(r"十几|几十|几百|几千|几万|好几|这几|那几|前几|近几|最近几|"
                         r"几(?:个|件)(?:事|问题|事情|地方)")  # 麻烦问几个事: no figure asked
_ASKING = re.compile(r"哪|什么|啥|多少|如何|怎么|怎样|[吗呢么]$|有没有|是不是|算不算|能不能|"
                     r"要不要|谁|请问|想问|想了解|想知道|咨询|请介绍|请说明")
_ANNOUNCING = re.compile(r"(?:想问|请问|想请教|请教|想了解|想知道|咨询)(?:一下|下)?"
                         r"(?:几个问题|以下问题|几件事|如下)?$")
_ANOTHER = re.compile(r"(?:另外|此外|再就是|同时想问|还想问|另问|再问)[,:，]?")
_ALSO = re.compile(r"(?<=[吗呢么行不啊呀])还有(?=.{4,})")
MIN_PART = 3  # characters a piece needs to be a question of its own
# The kind of figure a question asks for: 多少天, 几家, 百分之多少, 多少亿, 多少克每升…
_FIGURE = re.compile(
    r"(?<![这那哪])(?:多少|几)(个百分点|克每升|克/升|g/l|万元|亿元|万|亿|元|天|个月|月|年|台|家|个|项|条|次|吨|米|小时|人|%)?"
    r"|百分之(?:多少|几)|比例(?:是|为)?(?:多少|多大)|多久|多长时间"
)
# A cooperating department: 配合省市场监管局, 配合税务部门, 需要配合省发展改革委.
_DEPARTMENT = re.compile(
    r"配合(?:省|国家)?([\u4e00-\u9fff]{2,8}?)(?:部门|厅|局|委员会|委|总局|的|$)"
)


@dataclass(frozen=True)
class Question:
    """One question of a message, parsed."""

    text: str  # normalised
    asked: frozenset[Asked]
    subjects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    department: str = ""  # the department's stem (市场监管), what a task's text is searched for
    department_said: str = ""  # as the question says it (省市场监管局)
    figure: str | None = None  # None: no figure asked; "": a bare figure (多少)
    words: tuple[str, ...] = ()  # every known word it names, of whatever kind
    negated: bool = False  # it says something is not the case (不是燃煤的), dropped from text

    @property
    def intents(self) -> frozenset[str]:
        return frozenset(a.value for a in self.asked)

    def named(self, kind: str) -> tuple[str, ...]:
        return self.subjects.get(kind, ())


def parse(text: str, terms: TermIndex) -> Question:
    """The typed question ``text`` (normalised) stands for."""
    asked = frozenset(Asked(i) for i in detect_intents(text))
    subjects: dict[str, list[str]] = {}
    spans = terms.find(text)
    for span in spans:
        for kind in terms.kinds(span.term):
            head = kind.split(":")[0]
            if head in ENTRY_WORDS:
                continue
            subjects.setdefault(head, [])
            if span.term not in subjects[head]:
                subjects[head].append(span.term)
    department = department_said = ""
    m = _DEPARTMENT.search(text)
    if m:
        department = m.group(1)
        department_said = m.group(0)[2:].removesuffix("的")
    figure = None
    # the last one: what a message asks comes after what it tells (我们有几台窑炉，想问…多少)
    asking = text.rsplit("。", 1)[-1]  # not the sentences before it, which tell
    f = next(reversed(list(_FIGURE.finditer(_INDEFINITE.sub("", asking)))), None)
    if f:
        figure = "%" if "百分" in f.group(0) or "比例" in f.group(0) else (f.group(1) or "")
    return Question(text, asked, {k: tuple(v) for k, v in subjects.items()}, department,
                    department_said, figure, tuple(s.term for s in spans))


def _asked_clauses(piece: str) -> list[str]:
    """A piece of comma-separated clauses that each ask something (清洁取暖归谁管，什么
    时候完成) as those questions; a clause asking nothing stays with the next one."""
    clauses = piece.split(",")
    if len(clauses) < 2:
        return [piece]
    out: list[str] = []
    held = ""
    asked: frozenset[str] = frozenset()
    for clause in clauses:
        held = f"{held},{clause}" if held else clause
        if not (_INTERROGATIVE.search(clause) and len(clause) >= MIN_PART):
            continue
        kinds = detect_intents(clause)
        if out and kinds <= asked:  # asks again what the clause before asked: one question
            out[-1] += f",{held}"
        else:
            out.append(held)
        asked, held = kinds, ""
    if held:
        out = [*out[:-1], f"{out[-1]},{held}"] if out else [held]
    return out


_WHO_TAIL = re.compile(r"(?:是|由|归)?(?:哪个|哪些|什么)(?:处|部门|单位|科室)[\u4e00-\u9fff]{0,4}$|"
                       r"(?:是|由)?谁(?:负责|管|来管|主管)[\u4e00-\u9fff]{0,2}$|归(?:谁|哪)[\u4e00-\u9fff]{0,4}$")


def _trailing_who(piece: str) -> list[str]:
    """An unpunctuated question that ends asking who, after asking something else
    (门禁系统啥时候建完哪个处负责): the two questions."""
    m = _WHO_TAIL.search(piece)
    if not m or m.start() < 4:
        return [piece]
    head = piece[: m.start()]
    if not (detect_intents(head) - {"who"}) or not _INTERROGATIVE.search(head + "吗"):
        return [piece]
    if not re.search(r"吗|不|没|么|呢|什么时候|啥时候|何时|多少|几|哪|什么|啥|要|须", head[-6:]):
        return [piece]
    return [head, piece[m.start():]]


def _asks(piece: str, stated: bool) -> bool:
    """Whether a piece without a question mark asks something. In a sentence ended with a
    full stop only a word that asks does; elsewhere a kind of question (时间, 标准) too."""
    definite = _INDEFINITE.sub("", piece)
    if stated:  # 有两件事想问。/ 想请教： announce the questions after them
        return bool(_ASKING.search(_ANNOUNCING.sub("", definite)))
    return bool(detect_intents(definite) or _INTERROGATIVE.search(definite))


# A number that starts an item of the message's own list (想请教：1.…2.…, ①…, 一、…).
_ENUMERATOR = re.compile(r"(?:^|(?<=[,:;。?!]))\(?(?:\d{1,2}|[一二三四五六七八九十])[.、)](?!\d)"
                         r"|[①②③④⑤⑥⑦⑧⑨⑩]")


def split_parts(text: str) -> list[str]:
    """The questions of a normalised message, in order; one part if it holds one. A piece
    before a question mark is a question; another piece only if it asks something. An
    item number of the message's own list ends the sentence before it."""
    text = _ENUMERATOR.sub("。", text)
    pieces: list[tuple[str, bool, bool]] = []
    for chunk, mark in _SEPARATOR_KEPT.findall(text):
        split = [q for piece in _ANOTHER.split(chunk) for p in _asked_clauses(piece)
                 for q in _trailing_who(p)]
        stated = "。" in mark and "?" not in mark
        for n, piece in enumerate(split):
            subs = _ALSO.split(piece) if len(piece) > 12 else [piece]
            for m, sub in enumerate(subs):
                last = n == len(split) - 1 and m == len(subs) - 1
                pieces.append((sub, bool(mark.strip(".。!")) and last, stated))
    parts: list[str] = []
    context = ""
    for piece, marked, stated in ((p.strip(",:，、 "), q, s) for p, q, s in pieces):
        if len(piece) < MIN_PART:
            continue
        if not (marked or _asks(piece, stated)):
            context += piece + ","
            continue
        # what it tells ends with a full stop: the question is the sentence after it
        parts.append(f"{context.rstrip(',')}。{piece}" if context else piece)
        context = ""
    if context and parts:
        parts[-1] += "," + context.rstrip(",")
    elif context:
        parts.append(context.rstrip(","))
    return parts or [text]


# What an answer must hold to give what is asked; each check is (what the question says,
# what the answer must then hold, how the missing thing is named).
_ASKS_DATE = re.compile(r"什么时候|啥时候|何时|哪天|哪一天|几号|几月|哪[一1]?年|截止日期|"
                        r"截止时间|到哪年|多久")
_DATE = re.compile(r"\d{4}年|\d+月|年底|月底|\d+日")
_ASKS_STANDARD = re.compile(r"(?:哪个|什么|哪项|啥)[\u4e00-\u9fff]{0,4}(?:标准|规范)|标准号|"
                            r"哪个国标|技术规范")
_ASKS_PROCEDURE = re.compile(r"怎么(?:办理|申请|申报|报名)|如何(?:办理|申请|申报)|"
                             r"(?:办理|申请|申报)(?:流程|程序|手续)|(?:准备|提交|需要)(?:哪些|什么)材料")
_PROCEDURE = re.compile(r"办理|申请|申报|流程|程序|手续|提交|材料|备案|报送|制定")
_ASKS_CONDITION = re.compile(
    r"(?:申报|申请|评选|入选|认定)(?:需要|要|有)?(?:什么|哪些|啥)?(?:条件|资格)|"
    r"(?:需要|要|得)(?:满足|具备|符合)?(?:什么|哪些|啥)(?:条件|资格)")
_CONDITION = re.compile(r"条件|资格|标准")
_STANDARD = re.compile(r"gb|db\d|hj|《|标准")
_ASKS_PERSON = re.compile(r"组长|副组长|负责人|联系人|联系电话|电话|联系方式|邮箱|地址在哪")
_PERSON = re.compile(r"\d{7,}")
_ASKS_NAMES = re.compile(r"哪几家|具体是哪|哪些企业|(?:企业|单位|公司)(?:有|是)哪(?:些|几家)|"
                         r"企业名单|名单|叫什么名字|names?of")
_COUNTED = re.compile(r"\d+家")
_QUALIFIER = re.compile(r"(?<![a-z])[a-z]\d?(?=阶段)|\d[a-z](?![a-z])")
_NUMERAL = "一二两三四五六七八九十百千"
# What follows a number that is a figure (a bare 多少 asks for any of these).
_MEASURE = (r"(?:%|个|项|次|家|台|条|级|类|种|年|月|日|天|倍|批|吨|米|万|亿|元|部|处|\b|$|"
            r"[^\u4e00-\u9fff])")


# What an answer saying the plan leaves something open (方案未规定统一的错峰时段) must
# name to be the answer to a question lacking that kind of thing: the words of each kind.
_ABSENT_KINDS = {
    "具体时间": "时间|时段|时限|期限|日期|时候",
    "具体办理流程或材料": "流程|程序|手续|办理|申报|申请|材料",
    "具体条件": "条件|资格",
    "具体标准": "标准",
    "具体名单": "名单|清单|企业名称|哪些企业",
}
# An answer saying the plan leaves something open (hand-written facts do, and the engine's
# own not-in-plan answers); what follows the words is what is left open.
ABSENT = re.compile(r"未规定|没有规定|未明确|未列出|未作规定|未作说明|没有给出")
_ABSENT_SAID = re.compile(rf"(?:{ABSENT.pattern})([^；。，,]{{0,12}})")


# Where the asker introduces themselves (我是安阳市工信局的, 我们是平顶山的企业): a place
# named there is theirs, not one a figure is asked for.
_SELF_INTRODUCED = re.compile(r"(?:我是|我们是|我在|我们在|本人是|这里是)[^,:;?。]{0,20}")
_ASKS_GRADE = re.compile(r"几级(?!联动)|哪一?级|什么级|啥级")
_GRADE = re.compile(r"[a-d]级|\d级")


def says_absent(body: str, lacking: str) -> bool:
    """Whether ``body`` says the plan leaves open the kind of thing ``lacking`` names
    (then it answers the question: 错峰生产具体什么时候 → 方案未规定统一的错峰时段)."""
    words = _ABSENT_KINDS.get(lacking)
    if words is None:
        return False
    return any(re.search(words, m.group(1)) for m in _ABSENT_SAID.finditer(body))


def lacks(question: Question, body: str) -> str | None:
    """What ``question`` asks for that the answer ``body`` does not hold (a figure, a date,
    a standard, a person, the members of a list, a qualifier), named for the user; None
    when the body holds it or nothing of the kind is asked."""
    text, said = question.text, body.lower()
    if _ASKS_GRADE.search(text):  # 几级 / 哪一级: a grade is a letter (B级), not a number
        if not _GRADE.search(said):
            return "具体级别"
    elif question.figure is not None and not re.search(r"哪几|几[级项条个]?(?:联动|方面|部分)",
                                                        text):
        unit = re.escape(question.figure) if question.figure else _MEASURE
        if not re.search(rf"\d[\d.]*(?:万|亿)?{unit}|[{_NUMERAL}]+(?:万|亿)?{unit}", said):
            return "具体数字"
        own = "".join(m.group(0) for m in _SELF_INTRODUCED.finditer(text))
        for place in question.named("place"):
            if place not in said and place not in own:  # 我是安阳市工信局的: the asker's
                return f"{place}的具体数字"
    if _ASKS_DATE.search(text) and not _DATE.search(said):
        return "具体时间"
    if _ASKS_STANDARD.search(text) and not _STANDARD.search(said):
        return "具体标准"
    if _ASKS_PERSON.search(text) and not _PERSON.search(said):
        return "具体人员或联系方式"
    if _ASKS_PROCEDURE.search(text) and not _PROCEDURE.search(said):
        return "具体办理流程或材料"
    if _ASKS_CONDITION.search(text) and not _CONDITION.search(said):
        return "具体条件"
    if _COUNTED.search(said) and "、" not in said and (
            _ASKS_NAMES.search(text) or any(p not in said for p in question.named("place"))):
        return "具体名单"
    for m in _QUALIFIER.finditer(text):
        if m.group(0) not in said:
            return f"关于“{m.group(0)}”的规定"
    return None


# A comparison of two things (A和B…有什么区别 / 哪个高 / 哪个先截止): asked as the same
# question about each. The comparing words become a plain question of their kind.
_COMPARED = re.compile(
    r"(?:之间)?(?:的)?(?:有(?:什么|啥)(?:区别|不同|不一样|差别|差异)|(?:区别|不同|差别|差异)"
    r"(?:是什么|在哪里?)?|一样吗|(?:是)?哪个(?:更)?(?P<which>高|低|大|小|多|少|先|后|早|晚|严)"
    r"(?P<rest>[\u4e00-\u9fff]{0,4})|哪个(?P<verb>(?:要|需要|必须|得|会|能|可以|还能)?"
    r"[\u4e00-\u9fff]{1,4})|(?P<gap>(?:时间)?(?:相差|差|间隔|隔)(?:多久|多少天|多少|几个月|多长时间)))"
    r"[?]?$"
)
_AND = re.compile(r"和|与|跟|同")
_ASK_AS = {"先": "什么时候", "后": "什么时候", "早": "什么时候", "晚": "什么时候"}


_EACH = re.compile(r"分别|各自|各是|各为")
_NOT_CATEGORIES = ENTRY_WORDS | {"term", "task", "quantity"}


def split_each(part: str, terms: TermIndex) -> list[str]:
    """``part`` asking the same of each of several things of one kind (车辆涂料和工业防护
    涂料分别执行什么标准) as one question about each; else ``[part]``."""
    each = _EACH.search(part)
    if not each:
        return [part]
    named = [s for s in terms.find(part[: each.start()]) if terms.names(s.term)]
    found = list(dict.fromkeys(s.term for s in named))
    found = [t for t in found if not any(t != o and t in o for o in found)]  # 涂料 in 车辆涂料
    by_kind: dict[str, list[str]] = {}
    for term in found:
        # things of one category (industry, equipment, product…): not merely words of the
        # glossary or of one task, nor sizes (8吨, 12吨: the rules read each against the
        # thing it measures)
        for head in {k.split(":")[0] for k in terms.kinds(term)} - _NOT_CATEGORIES:
            by_kind.setdefault(head, []).append(term)
    things = max(by_kind.values(), key=len, default=[])
    if len(things) < 2:
        return [part]
    last = max(s.end for s in named if s.term in things)
    asked = part[last:].replace(each.group(0), "", 1).lstrip(",的")
    return [f"{thing}{asked}" for thing in things]


def split_comparison(part: str, terms: TermIndex) -> list[str]:
    """``part`` as one question about each of two things it compares, or ``[part]``."""
    cmp = _COMPARED.search(part)
    if not cmp:
        return [part]
    head = part[: cmp.start()]
    clause_start = max(head.rfind(","), head.rfind(":")) + 1
    if clause_start > 0 and not _AND.search(head[clause_start:]):
        clause_start = max(head.rfind(",", 0, clause_start - 1), -1) + 1
    lead, body = head[:clause_start], head[clause_start:]
    joint = _AND.search(body)
    if not joint:
        return [part]
    first, after = body[: joint.start()], body[joint.end() :]
    if not first or not after:
        return [part]
    # Where the second thing ends: at the first 的 or comma at least half as long as the
    # first thing; else the end nearest in length to it among the ends of known words
    # and the end of the clause.
    marks = [i for i, ch in enumerate(after) if ch in "的," and i * 2 >= len(first)]
    ends = {len(after)} | {s.end for s in terms.find(after)}
    end = marks[0] if marks else min(ends, key=lambda e: (abs(e - len(first)), -e))
    second, shared = after[:end], after[end:].lstrip("的,")
    if not (terms.find(first) and terms.find(second)):
        return [part]
    which = cmp.group("which")
    if cmp.group("gap"):  # 时间差多久: when is each
        asked = "什么时候"
    elif cmp.group("verb"):  # 哪个要淘汰: is each to be?
        asked = f"{cmp.group('verb')}吗"
    elif which in _ASK_AS:
        asked = f"{cmp.group('rest') or '完成'}{_ASK_AS[which]}"
    elif which:
        asked = "是多少"
    else:
        asked = "是什么"
    link = "的" if shared else ""
    return [f"{lead}{thing}{link}{shared}{asked}" for thing in (first, second)]


_STATED = re.compile(r"\d+(?:\.\d+)?%")
_GRADE_STATED = re.compile(r"(?<![a-z、])([a-d])级(?!以上)")  # 要达到A级吗 (not A、B级)
_GRADE_FLOOR = re.compile(r"(?<![a-z、])([a-d])级以上")
_YES_NO = re.compile(r"吗|是不是|是否|对不对|对吗")
_APPLIES = re.compile(r"适用|管(?:我们|不管)|要求我们|用不用|要不要|需不需要")


# A designation the asker says they are not (我们不是土壤污染重点监管单位…适用吗).
_NOT_ONE = re.compile(r"(?:不是|不属于|并非|不算|没有被列为|没被列为|未被列为|没有列入|未列入)"
                      r"(?:一家|一个)?")
_STATED_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")


def not_one_of(asked: str, terms: TermIndex, body: str) -> str:
    """The asker says they are not what the answer's rule is for (我们不是土壤污染重点
    监管单位…适用吗; ``asked`` as typed, before the negated clause is set aside):
    "贵企业不属于X，这项要求不适用；…"; else ""."""
    if not (_YES_NO.search(asked) or _APPLIES.search(asked)):
        return ""
    for m in _NOT_ONE.finditer(asked):
        for span in terms.find(asked[m.end() : m.end() + 20]):
            # an industry or a term the plan defines (a designation), not a task's word
            kinds = {k.split(":")[0] for k in terms.kinds(span.term)}
            if span.start == 0 and kinds & {"industry", "term"} and span.term in body:
                return f"贵企业不属于{span.term}，这项要求不适用；方案针对{span.term}的规定是："
    return ""


def _other_date(question: Question, body: str) -> str:
    """A yes/no question stating a date (现有单位是不是从2021年3月1日起执行) that the
    plan's clause closest to the question gives as another: "不需要从…起…". """
    stated = _STATED_DATE.findall(question.text)
    if len(stated) != 1:
        return ""
    asked = bigrams(_STATED_DATE.sub("", question.text))
    clauses = [c for c in re.split(r"[，。；]", body) if _STATED_DATE.search(c)]
    if not clauses:
        return ""
    best = max(clauses, key=lambda c: len(asked & bigrams(_STATED_DATE.sub("", c))))
    if stated[0] in best:
        return ""
    return f"不需要从{stated[0]}起：{best}。"


def contradicted(question: Question, body: str) -> str:
    """A yes/no question stating a figure (陶瓷是30%那一档吗) for something the plan
    gives another figure: "陶瓷不属于30%那一档（方案为50%）。"; a date the plan gives
    otherwise; else ""."""
    if not _YES_NO.search(question.text):
        return ""
    said = _other_date(question, body)
    if said:
        return said
    grade = _GRADE_STATED.search(question.text)
    floor = _GRADE_FLOOR.search(body.lower())
    if grade and floor and grade.group(1) != floor.group(1):
        asked, least = grade.group(1).upper(), floor.group(1).upper()
        if asked < least:  # A is better than B: more than the plan asks
            return f"不需要一定达到{asked}级（方案要求{least}级以上）。"
        return f"{asked}级不在“{least}级以上”范围内（方案要求{least}级以上）。"
    stated = _STATED.findall(question.text)
    if len(stated) != 1:
        return ""
    for name in (*question.named("industry"), *question.words):
        if _STATED.fullmatch(name):
            continue
        for clause in re.split(r"[，。；]", body):
            if name in clause:
                figures = _STATED.findall(clause)
                if figures and stated[0] not in figures:
                    return f"{name}不属于{stated[0]}那一档（方案为{figures[0]}）。"
    return ""
