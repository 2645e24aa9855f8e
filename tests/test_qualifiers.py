"""Qualifiers: the knowledge base declares them, audiences name them (checked with file
and line), storage keeps each enterprise's answers, audited, and the SQL form of an
audience gives the same answer as the knowledge base's own."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.loader import load_kb, validate_file
from knowledge.model import Audience
from storage import audit
from storage.db import open_db
from storage.migrations import LATEST, schema_version
from storage.qualifiers import (
    audience_sql,
    qualifiers_of,
    set_qualifiers,
    unanswered,
)
from tests.test_kb_check import MINI, _line_of, _write
from tests.test_storage_audiences import approved
from tests.test_storage_reports import T0

QUALIFIERS = """qualifiers:
  - key: soil_key_unit
    name: 土壤污染重点监管单位
    question: 是否为土壤污染重点监管单位？
    source: 二（三）25 督促土壤污染重点监管单位全面落实土壤污染防治义务。
"""


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.db")


def test_the_shipped_kb_declares_the_plans_qualifiers() -> None:
    kb = load_kb()
    keys = [q.key for q in kb.qualifiers]
    assert {"soil_key_unit", "relocation_2021", "nonroad_machinery", "bulk_transport",
            "performance_graded", "yellow_river_new", "yellow_river_existing"} <= set(keys)
    soil = kb.qualifier("soil_key_unit")
    assert soil is not None and soil.name == "土壤污染重点监管单位"
    assert soil.question.endswith("？") and "二（三）" in soil.source
    for qualifier in kb.qualifiers:  # each rests on a sentence of the plan
        assert qualifier.key.isascii() and qualifier.name and qualifier.question
        assert qualifier.source[:2] in ("二（", "一（", "三（")
    assert kb.task(25).audience == Audience.of_qualifier("soil_key_unit")


def test_a_plan_without_qualifiers_is_valid() -> None:
    kb = load_kb(MINI)
    assert kb.qualifiers == ()


def test_an_audience_naming_an_unknown_qualifier_is_an_error_with_its_line(
    tmp_path: Path,
) -> None:
    text = MINI.read_text(encoding="utf-8").replace(
        "    keywords: [锅炉]", "    keywords: [锅炉]\n    audience: {any: [soil_key_unit, "
        "soil_key_units]}", 1)
    path = _write(tmp_path, text + QUALIFIERS)
    [problem] = validate_file(path)
    assert problem.path == str(path)
    assert problem.line == _line_of(path, "audience: {any")
    assert "'soil_key_units'" in problem.message and "qualifiers" in problem.message
    # declared: valid, and the task concerns only the units that said yes
    path = _write(tmp_path, text.replace("soil_key_units", "soil_key_unit") + QUALIFIERS)
    kb = load_kb(path)
    assert kb.tasks_concerning([], {"soil_key_unit": "yes"}) == (kb.task(1),)
    assert kb.tasks_concerning(["化工"], {"soil_key_unit": "unknown"}) == ()


def test_a_deadline_audience_naming_an_unknown_qualifier_names_its_line(
    tmp_path: Path,
) -> None:
    text = MINI.read_text(encoding="utf-8").replace(
        "what: 淘汰小锅炉}", "what: 淘汰小锅炉, audience: nobody_here}", 1)
    path = _write(tmp_path, text + QUALIFIERS)
    [problem] = validate_file(path)
    assert problem.line == _line_of(path, "nobody_here")
    assert "'nobody_here'" in problem.message


@pytest.mark.parametrize(("entry", "message"), [
    ("  - {key: Soil, name: a, question: b, source: c}", "lower-case ASCII"),
    ("  - {key: all, name: a, question: b, source: c}", "reserved"),
    ("  - {key: soil_key_unit, name: a, question: b, source: c}", "duplicate key"),
    ("  - {key: x, name: a, question: b}", "missing required key 'source'"),
])
def test_bad_qualifiers_are_named(tmp_path: Path, entry: str, message: str) -> None:
    path = _write(tmp_path, MINI.read_text(encoding="utf-8") + QUALIFIERS + entry + "\n")
    problems = validate_file(path)
    assert any(message in p.message and p.line == _line_of(path, entry.strip())
               for p in problems), problems


def test_the_migration_adds_the_table(db: Database) -> None:
    assert schema_version(db) == LATEST
    columns = {c.name for c in db["enterprise_qualifiers"].columns}
    assert columns == {"enterprise_id", "qualifier", "value", "updated_at"}
    eid = approved(db, 1, "郑州市", ("铸造",))
    with pytest.raises(Exception, match="CHECK"):
        db.execute("INSERT INTO enterprise_qualifiers VALUES (?, 'x', 'maybe', 't')", (eid,))


def test_set_qualifiers_returns_what_changed_and_audits_staff_changes(db: Database) -> None:
    eid = approved(db, 1, "郑州市", ("铸造",))
    assert qualifiers_of(db, eid) == {}  # no answer: unknown
    changed = set_qualifiers(db, eid, {"soil_key_unit": "yes", "bulk_transport": "unknown"},
                             actor_id=None, now=T0)
    assert changed == {"soil_key_unit": (None, "yes"), "bulk_transport": (None, "unknown")}
    assert audit.latest(db) == []  # the enterprise's own answers are not staff actions
    changed = set_qualifiers(db, eid, {"soil_key_unit": "no", "bulk_transport": "unknown"},
                             actor_id=77, now=T0)
    assert changed == {"soil_key_unit": ("yes", "no")}
    assert qualifiers_of(db, eid) == {"soil_key_unit": "no", "bulk_transport": "unknown"}
    [entry] = audit.latest(db)
    assert (entry.actor_id, entry.action, entry.subject) == (77, "set_qualifiers",
                                                               f"enterprise:{eid}")
    assert entry.detail == {"changes": {"soil_key_unit": ["yes", "no"]}}
    assert set_qualifiers(db, eid, {"soil_key_unit": "no"}, actor_id=77, now=T0) == {}
    assert len(audit.latest(db)) == 1  # nothing changed, nothing logged
    with pytest.raises(ValueError, match="yes, no, unknown"):
        set_qualifiers(db, eid, {"soil_key_unit": "是"}, actor_id=77, now=T0)


def test_unanswered_lists_enterprises_with_unknown_qualifiers(db: Database) -> None:
    a = approved(db, 1, "郑州市", ("铸造",))
    b = approved(db, 2, "洛阳市", ("铸造",))
    c = approved(db, 3, "洛阳市", ("铸造",))
    set_qualifiers(db, a, {"soil_key_unit": "no", "bulk_transport": "yes"}, actor_id=None, now=T0)
    set_qualifiers(db, b, {"soil_key_unit": "unknown", "bulk_transport": "no"}, actor_id=None,
                   now=T0)
    keys = ("soil_key_unit", "bulk_transport")
    assert [(u.enterprise_id, u.keys) for u in unanswered(db, keys)] == [
        (b, ("soil_key_unit",)), (c, keys)]
    assert [u.enterprise_id for u in unanswered(db, keys, regions={"郑州市"})] == []


def test_audience_sql_agrees_with_the_knowledge_base(db: Database) -> None:
    """Every combination of two industries and two qualifier answers, against a few
    expressions: the SQL picks exactly the enterprises ``Audience.concerns`` picks."""
    profiles = []
    n = 0
    for industries in ((), ("铸造",), ("化工",), ("铸造", "化工")):
        for soil, bulk in itertools.product(("yes", "no", "unknown", None), repeat=2):
            n += 1
            eid = approved(db, n, "郑州市", industries)
            answers = {k: v for k, v in (("soil", soil), ("bulk", bulk)) if v is not None}
            set_qualifiers(db, eid, answers, actor_id=None, now=T0)
            profiles.append((eid, industries, answers))
    soil, bulk = Audience.of_qualifier("soil"), Audience.of_qualifier("bulk")
    casting = Audience.of_industries(["铸造"])
    for who in (soil, casting, Audience.any_of(casting, soil), Audience.every_of(casting, bulk),
                Audience.any_of(Audience.every_of(soil, bulk), Audience.of_industries(["化工"])),
                Audience.of_industries([]), load_kb().task(19).audience):
        sql, params = audience_sql(who)
        found = [r[0] for r in db.execute(f"SELECT e.id FROM enterprises e WHERE {sql} "
                                          "ORDER BY e.id", params)]
        assert found == [eid for eid, ind, ans in profiles if who.concerns(ind, ans)], who


def test_a_start_date_is_read_from_its_wording_or_said_outright(tmp_path: Path) -> None:
    text = MINI.read_text(encoding="utf-8").replace(
        "{date: 2022-12-31, wording: 2022年年底前, what: 淘汰小锅炉}",
        "{date: 2022-12-31, wording: 2022年年底前, what: 淘汰小锅炉}\n"
        "      - {date: 2023-01-01, wording: 自2023年1月1日起执行, what: 执行新标准}\n"
        "      - {date: 2023-02-01, wording: 2023年2月1日起, starts: false, what: 完成备案}", 1)
    kb = load_kb(_write(tmp_path, text))
    assert [d.starts for d in kb.task(1).deadlines] == [False, True, False]


def test_not_applicable_needs_done(tmp_path: Path) -> None:
    path = _write(tmp_path, MINI.read_text(encoding="utf-8") + (
        "progress:\n  statuses:\n    - {name: 在做}\n    - {name: 已完成, done: true}\n"
        "    - {name: 无关, not_applicable: true}\n"))
    [problem] = validate_file(path)
    assert problem.line == _line_of(path, "name: 无关")
    assert "'not_applicable' needs 'done: true'" in problem.message
    kb = load_kb(MINI)
    assert kb.not_applicable_statuses == ("不涉及",), "the default statuses"
