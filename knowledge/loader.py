"""Load a knowledge-base YAML file into ``KnowledgeBase``, or say exactly what is wrong.

Validation works on the parsed file with line numbers kept, so every problem
names the file and the line (``henan-2021.yaml:120: fact 'x': unknown task 27``).
A file with any problem is never half-loaded: ``load_kb`` raises ``KBError``
carrying the whole list.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from knowledge.model import (
    DEFAULT_STATUSES,
    NOBODY,
    Audience,
    AudienceOp,
    Condition,
    DateKind,
    Deadline,
    Document,
    EquipmentKinds,
    Fact,
    Fuel,
    IndustryGroup,
    KeyTask,
    KnowledgeBase,
    ProgressStatus,
    Qualifier,
    Requirement,
    Rule,
    Section,
    Standard,
    Task,
    Term,
    Unit,
)

FORMAT_VERSION = 1
QUALIFIER_KEY = re.compile(r"[a-z][a-z0-9_]*")
_RESERVED = frozenset({"all", "none", "industries", "any"})
# A date the plan gives as the day something starts to apply: 自2022年9月1日起(执行).
_STARTS = re.compile(r"起(执行|实施|施行)?$")
INTENTS = frozenset({"when", "who", "standard", "target", "ban", "list", "how", "what"})
DATA_DIR = Path(__file__).parent / "data"


def default_kb_path() -> Path:
    """The shipped plan."""
    return DATA_DIR / "henan-2021.yaml"


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class KBError(ValueError):
    """The file is not a valid knowledge base; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(shown + more)


# --- YAML with line numbers ---------------------------------------------------------


class Node(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


# The C parser (libyaml) when PyYAML has it: the same nodes and marks, four times faster.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """SafeLoader whose mappings are ``Node``s, and which refuses duplicate keys."""

    duplicate_keys: list[tuple[int, str]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Node:  # type: ignore[override]
        result = Node()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            key = str(key)
            if key in result.key_lines:
                self.duplicate_keys.append((key_node.start_mark.line + 1, key))
            result[key] = self.construct_object(value_node, deep=True)  # type: ignore[no-untyped-call]
            result.key_lines[key] = key_node.start_mark.line + 1
        return result


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> object:
    """A date-shaped value that is no real date (2022-13-45) stays text, for a clear message."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[no-untyped-call]
    except ValueError:
        return str(node.value)


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _LineLoader.construct_mapping,  # type: ignore[arg-type]
)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _parse(path: Path) -> tuple[Any, list[Problem]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [Problem(name, 0, "file not found")]
    except IsADirectoryError:
        return None, [Problem(name, 0, "is a directory, not a knowledge-base file")]
    except OSError as exc:
        return None, [Problem(name, 0, f"cannot be read ({exc.strerror})")]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 0, f"not UTF-8 text ({exc.reason})")]
    loader = _LineLoader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        return None, [Problem(name, line, f"YAML syntax error: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 0, f"YAML error: {exc}")]
    finally:
        loader.dispose()
    problems = [Problem(name, ln, f"duplicate key {key!r}") for ln, key in loader.duplicate_keys]
    if data is None:
        problems.append(Problem(name, 0, "the file is empty (no YAML document)"))
    return data, problems


# --- validation -----------------------------------------------------------------------


class _Checker:
    """Collects problems while reading fields, so one pass reports them all."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.problems: list[Problem] = []

    def fail(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def line_of(self, node: Any, key: str | None = None) -> int:
        if isinstance(node, Node):
            return node.key_lines.get(key, node.line) if key else node.line
        return 0

    def mapping(self, node: Any, what: str, line: int) -> Node | None:
        if not isinstance(node, Node):
            self.fail(line, f"{what}: expected a mapping, got {type(node).__name__}")
            return None
        return node

    def field(
        self, node: Node, key: str, kind: type | tuple[type, ...], what: str, required: bool = True
    ) -> Any:
        if key not in node:
            if required:
                self.fail(node.line, f"{what}: missing required key {key!r}")
            return None
        value = node[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
            names = "/".join(k.__name__ for k in _kinds(kind))
            self.fail(
                self.line_of(node, key),
                f"{what}: {key!r} should be {names}, got {type(value).__name__} {value!r:.40}",
            )
            return None
        return value

    def text(self, node: Node, key: str, what: str, required: bool = True) -> str:
        value = self.field(node, key, (str, int, float), what, required)
        if value is None:
            return ""
        value = str(value).strip()
        if required and not value:
            self.fail(self.line_of(node, key), f"{what}: {key!r} is empty")
        return value

    def strings(self, node: Node, key: str, what: str, required: bool = False) -> tuple[str, ...]:
        value = self.field(node, key, list, what, required)
        if value is None:
            return ()
        out = []
        for item in value:
            if not isinstance(item, (str, int, float)) or isinstance(item, bool):
                self.fail(self.line_of(node, key), f"{what}: {key!r} items must be text")
                continue
            if str(item).strip():
                out.append(str(item).strip())
        return tuple(out)

    def date(self, node: Node, key: str, what: str) -> dt.date | None:
        value = self.field(node, key, (dt.date, str), what)
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                self.fail(self.line_of(node, key), f"{what}: {key!r} is not a date: {value!r}")
        return None

    def unknown_keys(self, node: Node, allowed: set[str], what: str) -> None:
        for key in node:
            if key not in allowed:
                hint = f" (allowed: {', '.join(sorted(allowed))})"
                self.fail(self.line_of(node, key), f"{what}: unknown key {key!r}{hint}")

    def items(self, root: Node, key: str, what: str) -> Iterator[tuple[int, Node]]:
        value = self.field(root, key, list, "top level")
        for index, item in enumerate(value or ()):
            node = self.mapping(item, f"{key}[{index}]", self.line_of(root, key))
            if node is not None:
                yield index, node


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _deadline(
    c: _Checker, node: Any, what: str, line: int,
    audience: tuple[tuple[str, ...], frozenset[str]] | None = None,
) -> Deadline | None:
    """A deadline; with ``audience`` (the task's industries and the file's qualifier
    keys) it may carry its own ``audience`` and ``starts``."""
    m = c.mapping(node, what, line)
    if m is None:
        return None
    allowed = {"date", "wording", "what"} | ({"starts", "audience"} if audience else set())
    c.unknown_keys(m, allowed, what)
    date = c.date(m, "date", what)
    wording = c.text(m, "wording", what)
    starts = c.field(m, "starts", bool, what, required=False) if audience else None
    if starts is None:
        starts = bool(_STARTS.search(wording))
    own = None
    if audience and "audience" in m:
        own = _expression(c, m["audience"], what, c.line_of(m, "audience"), *audience)
    return (Deadline(date, wording, c.text(m, "what", what, required=False), starts, own)
            if date else None)


_DOCUMENT_TEXT = ("issuer", "notice", "region", "addressees", "purpose")


def _read_document(c: _Checker, root: Node) -> Document:
    """``document:``. Keys FORMAT.md does not name are kept as text (``Document.other``),
    not refused: they say what the plan is about and harm nothing."""
    if "document" not in root:
        c.fail(1, "top level: missing required key 'document'")
        return Document("", "")
    node = c.mapping(root.get("document"), "document", c.line_of(root, "document"))
    if node is None:
        return Document("", "")
    requirements = []
    for i, item in c.items(node, "requirements", "document") if "requirements" in node else ():
        what = f"document.requirements[{i}]"
        c.unknown_keys(item, {"clause", "title", "text"}, what)
        requirements.append(Requirement(c.text(item, "clause", what), c.text(item, "title", what),
                                        c.text(item, "text", what)))
    key_tasks = []
    for i, item in c.items(node, "key_tasks", "document") if "key_tasks" in node else ():
        what = f"document.key_tasks[{i}]"
        c.unknown_keys(item, {"number", "text", "office"}, what)
        key_tasks.append(KeyTask(c.field(item, "number", int, what) or 0,
                                 c.text(item, "text", what), c.text(item, "office", what)))
    known = {"number", "title", "date", "basis", "requirements", "key_tasks", *_DOCUMENT_TEXT}
    return Document(
        number=c.text(node, "number", "document"),
        title=c.text(node, "title", "document"),
        date=c.date(node, "date", "document") if "date" in node else None,
        basis=c.strings(node, "basis", "document"),
        requirements=tuple(requirements),
        key_tasks=tuple(key_tasks),
        other=tuple((str(k), str(v)) for k, v in node.items()
                    if k not in known and isinstance(v, (str, int, float))),
        **{key: c.text(node, key, "document", required=False) for key in _DOCUMENT_TEXT},
    )


def _read_sections(c: _Checker, root: Node) -> tuple[Section, ...]:
    out = []
    for i, node in c.items(root, "sections", "sections"):
        what = f"section[{i}]"
        c.unknown_keys(node, {"id", "clause", "title"}, what)
        out.append(Section(c.text(node, "id", what), c.text(node, "clause", what),
                           c.text(node, "title", what)))
    return tuple(out)


def _read_tasks(
    c: _Checker, root: Node, sections: dict[str, Section], offices: dict[str, str],
    qualifiers: frozenset[str] = frozenset(),
) -> tuple[Task, ...]:
    allowed = {"number", "section", "title", "offices", "keywords", "industries",
               "deadlines", "targets", "text", "audience"}
    out: list[Task] = []
    seen: dict[int, int] = {}
    for i, node in c.items(root, "tasks", "tasks"):
        number = c.field(node, "number", int, f"task[{i}]")
        what = f"task {number}" if number is not None else f"task[{i}]"
        c.unknown_keys(node, allowed, what)
        if number is not None:
            if number in seen:
                c.fail(node.line, f"{what}: duplicate task number (first at line {seen[number]})")
            seen[number] = node.line
        section_id = c.text(node, "section", what)
        if section_id and section_id not in sections:
            c.fail(c.line_of(node, "section"), f"{what}: unknown section {section_id!r}")
        industries = c.strings(node, "industries", what)
        deadlines = []
        for d in c.field(node, "deadlines", list, what, required=False) or ():
            deadline = _deadline(c, d, f"{what} deadline", c.line_of(node, "deadlines"),
                                 (industries, qualifiers))
            if deadline:
                deadlines.append(deadline)
        task_offices = c.strings(node, "offices", what, required=True)
        if not task_offices and "offices" in node:
            c.fail(c.line_of(node, "offices"), f"{what}: 'offices' is empty")
        for office in task_offices:
            if offices and office not in offices:
                c.fail(c.line_of(node, "offices"),
                       f"{what}: office {office!r} is not listed under top-level 'offices'")
        section = sections.get(section_id)
        audience = _audience(c, node, what, industries, qualifiers)
        out.append(Task(
            number=number or 0,
            section=section_id,
            clause=f"{section.clause}{number}" if section else str(number),
            title=c.text(node, "title", what),
            text=c.text(node, "text", what),
            offices=task_offices,
            keywords=c.strings(node, "keywords", what),
            deadlines=tuple(deadlines),
            industries=industries,
            targets=c.strings(node, "targets", what),
            audience=audience,
        ))
    return tuple(out)


def _audience(
    c: _Checker, node: Node, what: str, industries: tuple[str, ...], qualifiers: frozenset[str]
) -> Audience:
    """``audience``: an expression (see :func:`_expression`); by default the task's
    industries, if any, else nobody (government work)."""
    default = Audience.of_industries(industries) if industries else NOBODY
    if "audience" not in node:
        return default
    return _expression(c, node["audience"], what, c.line_of(node, "audience"),
                       industries, qualifiers) or default


def _expression(
    c: _Checker, value: Any, what: str, line: int,
    industries: tuple[str, ...], qualifiers: frozenset[str],
) -> Audience | None:
    """``all`` | ``none`` | ``industries`` (the task's) | a qualifier key |
    ``{industries: [..]}`` | ``{any: [..]}`` | ``{all: [..]}``; None after a problem."""
    line = c.line_of(value) or line
    if isinstance(value, str):
        word = value.strip()
        if word == "all":
            return Audience(AudienceOp.ALL)
        if word == "none":
            return NOBODY
        if word == "industries":
            if not industries:
                c.fail(line, f"{what}: audience 'industries' needs 'industries'")
                return None
            return Audience.of_industries(industries)
        if word in qualifiers:
            return Audience.of_qualifier(word)
        known = ", ".join(sorted(qualifiers)) or "none declared"
        c.fail(line, f"{what}: audience {word!r} is not one of all, none, industries or a "
                     f"qualifier declared under top-level 'qualifiers' ({known})")
        return None
    if isinstance(value, Node) and len(value) == 1:
        [(key, items)] = value.items()
        if key in ("any", "all", "industries") and isinstance(items, list) and items:
            if key == "industries":
                if all(isinstance(i, str) and i.strip() for i in items):
                    return Audience.of_industries(i.strip() for i in items)
                c.fail(line, f"{what}: audience 'industries' items must be text")
                return None
            parts = [_expression(c, item, what, line, industries, qualifiers) for item in items]
            if any(part is None for part in parts):
                return None
            chosen = tuple(p for p in parts if p is not None)
            return Audience.any_of(*chosen) if key == "any" else Audience.every_of(*chosen)
    c.fail(line, f"{what}: audience should be all, none, industries, a qualifier key, or "
                 f"{{any: [...]}} / {{all: [...]}} / {{industries: [...]}} with a non-empty list")
    return None


def _read_qualifiers(c: _Checker, root: Node) -> tuple[Qualifier, ...]:
    """``qualifiers: [{key, name, question, source}]``: optional; keys unique ASCII
    identifiers that audiences name."""
    if "qualifiers" not in root:
        return ()
    out: list[Qualifier] = []
    seen: dict[str, int] = {}
    for i, node in c.items(root, "qualifiers", "top level"):
        key = c.text(node, "key", f"qualifiers[{i}]")
        what = f"qualifier {key!r}" if key else f"qualifiers[{i}]"
        c.unknown_keys(node, {"key", "name", "question", "source"}, what)
        if key and not QUALIFIER_KEY.fullmatch(key):
            c.fail(c.line_of(node, "key"),
                   f"{what}: key must be lower-case ASCII letters, digits and _")
        elif key in _RESERVED:
            c.fail(c.line_of(node, "key"), f"{what}: key {key!r} is reserved")
        elif key in seen:
            c.fail(node.line, f"{what}: duplicate key (first at line {seen[key]})")
        seen.setdefault(key, node.line)
        out.append(Qualifier(key=key, name=c.text(node, "name", what),
                             question=c.text(node, "question", what),
                             source=c.text(node, "source", what)))
    return tuple(out)


def _read_progress(c: _Checker, root: Node) -> tuple[ProgressStatus, ...]:
    """``progress: {statuses: [...]}``: what enterprises may report; default the four of
    :data:`knowledge.model.DEFAULT_STATUSES`."""
    if "progress" not in root:
        return DEFAULT_STATUSES
    progress = c.mapping(root["progress"], "progress", c.line_of(root, "progress"))
    if progress is None:
        return DEFAULT_STATUSES
    c.unknown_keys(progress, {"statuses"}, "progress")
    out: list[ProgressStatus] = []
    for i, node in c.items(progress, "statuses", "progress"):
        what = f"progress status[{i}]"
        c.unknown_keys(node, {"name", "done", "asks_percent", "date", "words", "not_applicable"},
                       what)
        name = c.text(node, "name", what)
        done = c.field(node, "done", bool, what, required=False)
        percent = c.field(node, "asks_percent", bool, what, required=False)
        raw_date = c.text(node, "date", what, required=False) or DateKind.EXPECTED.value
        try:
            date = DateKind(raw_date)
        except ValueError:
            c.fail(c.line_of(node, "date"), f"{what}: date {raw_date!r} is not one of "
                   + ", ".join(k.value for k in DateKind))
            date = DateKind.EXPECTED
        if name in {s.name for s in out}:
            c.fail(node.line, f"{what}: duplicate status {name!r}")
        words = c.strings(node, "words", what)
        exempt = c.field(node, "not_applicable", bool, what, required=False) is True
        if exempt and not done:
            c.fail(c.line_of(node, "not_applicable"),
                   f"{what}: 'not_applicable' needs 'done: true' (it ends the reminders)")
        out.append(ProgressStatus(name, bool(done), bool(percent), date, words, exempt))
    if not out:
        c.fail(c.line_of(root, "progress"), "progress: 'statuses' needs at least one status")
        return DEFAULT_STATUSES
    if not any(s.done for s in out):
        c.fail(c.line_of(root, "progress"), "progress: no status is marked 'done: true'")
    return tuple(out)


def _read_industry_groups(
    c: _Checker, root: Node, industries: tuple[str, ...]
) -> tuple[IndustryGroup, ...]:
    """``industry_groups: [{name, members}]``: members from ``industries``, each in at
    most one group; a name may not be another group's or an outside industry's."""
    out: list[IndustryGroup] = []
    grouped: set[str] = set()
    if "industry_groups" not in root:
        return ()
    for i, node in c.items(root, "industry_groups", "top level"):
        what = f"industry_groups[{i}]"
        c.unknown_keys(node, {"name", "members"}, what)
        name = c.text(node, "name", what)
        members = c.strings(node, "members", what, required=True)
        line = c.line_of(node, "members")
        for member in members:
            if member not in industries:
                c.fail(line, f"{what}: {member!r} is not in 'industries'")
            elif member in grouped:
                c.fail(line, f"{what}: {member!r} is already in another group")
            grouped.add(member)
        clash = name in industries and name not in members
        if clash or name in {g.name for g in out}:
            c.fail(c.line_of(node, "name"), f"{what}: name {name!r} is taken")
        out.append(IndustryGroup(name, members))
    return tuple(out)


def _read_standards(c: _Checker, root: Node, tasks: set[int]) -> tuple[Standard, ...]:
    out = []
    for i, node in c.items(root, "standards", "standards"):
        what = f"standard[{i}]"
        c.unknown_keys(node, {"number", "title", "covers", "task", "note"}, what)
        task = c.field(node, "task", int, what)
        if task is not None and task not in tasks:
            c.fail(c.line_of(node, "task"), f"{what}: unknown task {task}")
        out.append(Standard(
            number=c.text(node, "number", what),
            title=c.text(node, "title", what),
            covers=c.strings(node, "covers", what, required=True),
            task=task or 0,
            note=c.text(node, "note", what, required=False),
        ))
    return tuple(out)


def _read_rules(
    c: _Checker, root: Node, tasks: set[int], fuels: set[str], units: set[str]
) -> tuple[Rule, ...]:
    """Rules; their fuels and units must be the file's own (``fuels``, ``units``)."""
    allowed = {"id", "equipment", "aliases", "industries", "fuels", "kinds", "condition",
               "action", "task", "deadline", "note"}
    out = []
    for i, node in c.items(root, "rules", "rules"):
        rid = c.text(node, "id", f"rule[{i}]")
        what = f"rule {rid!r}"
        c.unknown_keys(node, allowed, what)
        task = c.field(node, "task", int, what)
        if task is not None and task not in tasks:
            c.fail(c.line_of(node, "task"), f"{what}: unknown task {task}")
        condition = None
        if node.get("condition") is not None:
            cn = c.mapping(node["condition"], f"{what} condition", c.line_of(node, "condition"))
            if cn is not None:
                cw = f"{what} condition"
                c.unknown_keys(
                    cn, {"quantity", "unit", "limit", "inclusive", "above", "wording"}, cw
                )
                limit = c.field(cn, "limit", (int, float), cw)
                inclusive = c.field(cn, "inclusive", bool, cw)
                unit = c.text(cn, "unit", cw)
                if unit and unit not in units:
                    c.fail(c.line_of(cn, "unit"),
                           f"{cw}: unit {unit!r} is not defined under top-level 'units'")
                condition = Condition(
                    quantity=c.text(cn, "quantity", cw),
                    unit=unit,
                    limit=float(limit or 0),
                    inclusive=bool(inclusive),
                    wording=c.text(cn, "wording", cw),
                    above=c.field(cn, "above", bool, cw, required=False) is True,
                )
        deadline = None
        if node.get("deadline") is not None:
            deadline = _deadline(c, node["deadline"], f"{what} deadline",
                                 c.line_of(node, "deadline"))
        rule_fuels = c.strings(node, "fuels", what)
        for fuel in rule_fuels:
            if fuel not in fuels:
                c.fail(c.line_of(node, "fuels"),
                       f"{what}: fuel {fuel!r} is not defined under top-level 'fuels'")
        out.append(Rule(
            id=rid,
            equipment=c.text(node, "equipment", what),
            aliases=c.strings(node, "aliases", what),
            action=c.text(node, "action", what),
            task=task or 0,
            deadline=deadline,
            industries=c.strings(node, "industries", what),
            fuels=rule_fuels,
            kinds=c.strings(node, "kinds", what),
            condition=condition,
            note=c.text(node, "note", what, required=False),
        ))
    return tuple(out)


def _read_fuels(c: _Checker, root: Node) -> tuple[Fuel, ...]:
    """``fuels``: each ``{name, words, wording}``; rules name fuels by ``name``."""
    if "fuels" not in root:
        return ()
    out = []
    for i, node in c.items(root, "fuels", "fuels"):
        what = f"fuel[{i}]"
        c.unknown_keys(node, {"name", "words", "wording"}, what)
        out.append(Fuel(name=c.text(node, "name", what),
                        words=c.strings(node, "words", what, required=True),
                        wording=c.text(node, "wording", what, required=False)))
    return tuple(out)


def _read_units(c: _Checker, root: Node) -> tuple[Unit, ...]:
    """``units``: each ``{name, spellings}``; conditions name units by ``name``."""
    if "units" not in root:
        return ()
    out = []
    for i, node in c.items(root, "units", "units"):
        what = f"unit[{i}]"
        c.unknown_keys(node, {"name", "spellings"}, what)
        name = c.text(node, "name", what)
        spellings = c.strings(node, "spellings", what) or (name,)
        out.append(Unit(name=name, spellings=spellings))
    return tuple(out)


def _read_equipment(c: _Checker, root: Node, rules: tuple[Rule, ...]) -> EquipmentKinds:
    """``equipment: {heads, generic}``; by default the last character of each rule's
    equipment (冲天炉 → 炉) is a head and no word is generic."""
    node = root.get("equipment")
    if node is None:
        return EquipmentKinds(heads=tuple(dict.fromkeys(r.equipment[-1:] for r in rules)))
    m = c.mapping(node, "equipment", c.line_of(root, "equipment"))
    if m is None:
        return EquipmentKinds()
    c.unknown_keys(m, {"heads", "generic"}, "equipment")
    return EquipmentKinds(heads=c.strings(m, "heads", "equipment", required=True),
                          generic=c.strings(m, "generic", "equipment"))


def _read_glossary(c: _Checker, root: Node, tasks: dict[int, Task]) -> tuple[Term, ...]:
    """``glossary``: the plan's terms, their other and English names and, where the plan
    explains a term, ``means`` with the ``task`` or ``clause`` that says so."""
    if "glossary" not in root:
        return ()
    out = []
    for i, node in c.items(root, "glossary", "glossary"):
        term = c.text(node, "term", f"glossary[{i}]")
        what = f"glossary term {term!r}"
        c.unknown_keys(node, {"term", "also", "en", "means", "task", "clause"}, what)
        task = c.field(node, "task", int, what, required=False)
        clause = c.text(node, "clause", what, required=False)
        if task is not None and task not in tasks:
            c.fail(c.line_of(node, "task"), f"{what}: unknown task {task}")
        elif task is not None and not clause:
            clause = tasks[task].citation
        means = c.text(node, "means", what, required=False)
        if means and not clause:
            c.fail(node.line, f"{what}: 'means' needs 'task' or 'clause' (where the plan says so)")
        out.append(Term(term=term, also=c.strings(node, "also", what),
                        english=c.strings(node, "en", what), means=means, clause=clause))
    return tuple(out)


def _read_facts(c: _Checker, root: Node, tasks: dict[int, Task]) -> tuple[Fact, ...]:
    allowed = {"id", "task", "clause", "topics", "intents", "answer", "questions", "covered",
               "members"}
    out = []
    seen: dict[str, int] = {}
    for i, node in c.items(root, "facts", "facts"):
        fid = c.text(node, "id", f"fact[{i}]")
        what = f"fact {fid!r}"
        c.unknown_keys(node, allowed, what)
        if fid in seen:
            c.fail(node.line, f"{what}: duplicate id (first at line {seen[fid]})")
        seen[fid] = node.line
        task = c.field(node, "task", int, what, required=False)
        clause = c.text(node, "clause", what, required=False)
        if task is not None and task not in tasks:
            c.fail(c.line_of(node, "task"), f"{what}: unknown task {task}")
        if task is None and not clause:
            c.fail(node.line, f"{what}: needs 'task' or 'clause' (every fact cites its clause)")
        if task in tasks and not clause:
            clause = tasks[task].citation
        intents = c.strings(node, "intents", what)
        for intent in intents:
            if intent not in INTENTS:
                c.fail(c.line_of(node, "intents"),
                       f"{what}: unknown intent {intent!r} (one of {', '.join(sorted(INTENTS))})")
        topics = c.strings(node, "topics", what, required=True)
        if "topics" in node and not topics:
            c.fail(c.line_of(node, "topics"), f"{what}: 'topics' is empty")
        out.append(Fact(
            id=fid,
            task=task,
            clause=clause,
            answer=c.text(node, "answer", what),
            topics=tuple(tuple(a.strip() for a in t.split("|") if a.strip()) for t in topics),
            intents=intents,
            questions=c.strings(node, "questions", what),
            covered=c.field(node, "covered", bool, what, required=False) is not False,
            members=c.strings(node, "members", what),
        ))
    return tuple(out)


def _read_mapping_of_text(c: _Checker, root: Node, key: str) -> dict[str, str]:
    node = root.get(key)
    if node is None:
        return {}
    m = c.mapping(node, key, c.line_of(root, key))
    if m is None:
        return {}
    out = {}
    for k, v in m.items():
        if not isinstance(v, (str, int, float)) or not str(v).strip():
            c.fail(c.line_of(m, k), f"{key}: {k!r} needs a text value")
            continue
        out[str(k).strip()] = str(v).strip()
    return out


def _read(path: Path) -> tuple[KnowledgeBase | None, list[Problem]]:
    data, problems = _parse(path)
    if data is None:
        return None, problems
    c = _Checker(path)
    c.problems.extend(problems)
    root = c.mapping(data, "top level", 1)
    if root is None:
        return None, c.problems
    c.unknown_keys(root, {"format", "document", "sections", "tasks", "offices", "industries",
                          "aliases", "standards", "rules", "facts", "progress",
                          "industry_groups", "fuels", "units", "equipment", "glossary",
                          "qualifiers"},
                    "top level")
    version = c.field(root, "format", int, "top level")
    if version is not None and version != FORMAT_VERSION:
        c.fail(c.line_of(root, "format"), f"format {version} is not supported "
                                          f"(this lvdong reads format {FORMAT_VERSION})")
    document = _read_document(c, root)
    sections = _read_sections(c, root)
    offices = _read_mapping_of_text(c, root, "offices")
    qualifiers = _read_qualifiers(c, root)
    tasks = _read_tasks(c, root, {s.id: s for s in sections}, offices,
                        frozenset(q.key for q in qualifiers))
    by_number = {t.number: t for t in tasks}
    industries = c.strings(root, "industries", "top level")
    fuels = _read_fuels(c, root)
    units = _read_units(c, root)
    rules = _read_rules(c, root, set(by_number), {f.name for f in fuels}, {u.name for u in units})
    kb = KnowledgeBase(
        source=str(path),
        document=document,
        sections=sections,
        tasks=tasks,
        facts=_read_facts(c, root, by_number),
        rules=rules,
        standards=_read_standards(c, root, set(by_number)),
        aliases=_read_mapping_of_text(c, root, "aliases"),
        industries=industries,
        offices=offices,
        statuses=_read_progress(c, root),
        industry_groups=_read_industry_groups(c, root, industries),
        fuels=fuels,
        units=units,
        equipment=_read_equipment(c, root, rules),
        glossary=_read_glossary(c, root, by_number),
        qualifiers=qualifiers,
    )
    if not kb.tasks and not kb.facts:
        c.fail(1, "the knowledge base has no tasks and no facts: the bot would answer nothing")
    return kb, c.problems


def validate_file(path: Path) -> list[Problem]:
    """Every problem of the KB file at ``path``; empty when it is valid."""
    return _read(Path(path))[1]


def load_kb(path: Path | None = None) -> KnowledgeBase:
    """Load and validate; raise ``KBError`` listing every problem."""
    kb, problems = _read(Path(path) if path else default_kb_path())
    if problems or kb is None:
        raise KBError(problems)
    return kb

