"""KB validation: every problem names the file and the line; another plan loads the same way."""

from pathlib import Path

import pytest

from bot.cli import main
from knowledge.engine import load_engine
from knowledge.loader import KBError, default_kb_path, load_kb, validate_file
from knowledge.model import KnowledgeBase

MINI = Path(__file__).parent / "data" / "mini-kb.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kb.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = MINI.read_text(encoding="utf-8")
    assert old in text, old
    return _write(tmp_path, text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_shipped_kb_is_valid() -> None:
    assert validate_file(default_kb_path()) == []


def test_another_plan_loads_and_answers() -> None:
    engine = load_engine(MINI)
    assert "测试处" in engine.ask("锅炉淘汰谁负责").text
    answer = engine.ask("8吨每小时的燃煤锅炉要淘汰吗")
    assert answer.confident and "不属于" in answer.text and "5吨/小时" in answer.text


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        ("    task: 1\n    topics", "    task: 27\n    topics", "task: 27", "unknown task 27"),
        ("intents: [who]", "intents: [whom]", "intents: [whom]", "unknown intent 'whom'"),
        ("date: 2022-12-31, wording: 2022年年底前, what: 淘汰小锅炉",
         "date: 2022-13-45, wording: 2022年年底前, what: 淘汰小锅炉",
         "2022-13-45", "not a date"),
        ("    section: air", "    section: sky", "section: sky", "unknown section 'sky'"),
        ("    offices: [测试处]", "    offices: [不存在处]", "不存在处", "not listed"),
        ("limit: 5,", "limit: five,", "limit: five", "'limit' should be"),
        ("    answer: 锅炉淘汰由测试处负责。\n", "", "id: office-boiler",
         "missing required key 'answer'"),
        ("    keywords: [锅炉]", "    keywords: [锅炉]\n    keyword: [炉]", "keyword: [炉]",
         "unknown key 'keyword'"),
        # fuels and units of rules are the plan's own, defined in the file
        ("    fuels: [煤]", "    fuels: [柴]", "fuels: [柴]", "fuel '柴' is not defined"),
        ("unit: 吨/小时,", "unit: 担/天,", "unit: 担/天", "unit '担/天' is not defined"),
        ("  - {name: 天然气, words: [天然气, 燃气]}", "  - {name: 天然气}", "name: 天然气",
         "missing required key 'words'"),
    ],
)
def test_each_problem_names_file_line_and_cause(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    path = _broken(tmp_path, old, new)
    problems = validate_file(path)
    assert problems, "the broken file should not validate"
    assert any(
        p.path == str(path) and p.line == _line_of(path, needle) and message in p.message
        for p in problems
    ), [str(p) for p in problems]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "format: 1\ndocument: {number: x\ntasks: []\n")
    [problem] = validate_file(path)
    assert problem.line >= 2 and "YAML syntax error" in problem.message


def test_duplicate_keys_are_reported(tmp_path: Path) -> None:
    path = _broken(tmp_path, "format: 1\n", "format: 1\nformat: 1\n")
    assert any("duplicate key 'format'" in p.message and p.line == 4 for p in validate_file(path))


def test_duplicate_fact_ids_and_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = MINI.read_text(encoding="utf-8")
    fact = text[text.index("  - id: office-boiler"):]
    path = _write(tmp_path, text + fact.replace("intents: [who]", "intents: [bogus]"))
    messages = [p.message for p in validate_file(path)]
    assert any("duplicate id" in m for m in messages)
    assert any("unknown intent 'bogus'" in m for m in messages)


def test_load_kb_refuses_a_broken_file(tmp_path: Path) -> None:
    path = _broken(tmp_path, "format: 1", "format: 2")
    with pytest.raises(KBError) as err:
        load_kb(path)
    assert f"{path}:" in str(err.value) and "format 2 is not supported" in str(err.value)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    assert "file not found" in validate_file(tmp_path / "nope.yaml")[0].message
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("任务".encode("gbk"))
    assert "not UTF-8" in validate_file(bad)[0].message


def test_kb_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kb", "check", str(MINI)]) == 0
    assert "OK" in capsys.readouterr().out
    broken = _broken(tmp_path, "intents: [who]", "intents: [whom]")
    assert main(["kb", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:{_line_of(broken, 'whom')}: fact 'office-boiler': unknown intent" in err


def test_which_tasks_concern_an_enterprise_follow_its_industries(kb: KnowledgeBase) -> None:
    casting = {t.number for t in kb.tasks_concerning(["铸造"])}
    assert {2, 5, 7, 16} <= casting  # the tasks that name 铸造
    assert 13 not in casting  # door-access systems: bulk-transport enterprises only
    assert 13 in {t.number for t in kb.tasks_concerning(["铸造"], {"bulk_transport": "yes"})}
    assert 17 not in casting and 1 not in casting  # coatings; the eight named relocations
    assert not kb.tasks_concerning(["服装"])  # no task concerns every enterprise
    assert not kb.tasks_concerning(["服装"], {"soil_key_unit": "unknown"})
    assert kb.done_statuses == ("已完成", "不涉及")


def test_audience_and_progress_are_checked_with_their_lines(tmp_path: Path) -> None:
    path = _broken(tmp_path, "    keywords: [锅炉]", "    keywords: [锅炉]\n    audience: everyone")
    [problem] = validate_file(path)
    assert problem.line == _line_of(path, "audience: everyone")
    assert "audience 'everyone'" in problem.message
    path = _write(tmp_path, MINI.read_text(encoding="utf-8") + (
        "progress:\n  statuses:\n    - {name: 在做}\n    - {name: 在做, date: someday}\n"
    ))
    messages = [p.message for p in validate_file(path)]
    assert any("duplicate status '在做'" in m for m in messages)
    assert any("date 'someday'" in m for m in messages)
    assert any("no status is marked 'done: true'" in m for m in messages)


def test_another_plan_brings_its_own_statuses(tmp_path: Path) -> None:
    path = _write(tmp_path, MINI.read_text(encoding="utf-8") + (
        "progress:\n  statuses:\n    - {name: 计划中}\n"
        "    - {name: 已验收, done: true, date: actual}\n"
    ))
    kb = load_kb(path)
    assert [s.name for s in kb.statuses] == ["计划中", "已验收"]
    assert kb.done_statuses == ("已验收",)
    assert kb.title == "《测试行动方案》"


@pytest.mark.parametrize(
    ("groups", "needle", "message"),
    [
        ("  - {name: 炉, members: [化工, 钢铁]}", "members: [化工, 钢铁]", "'钢铁' is not in"),
        ("  - {name: 甲, members: [化工]}\n  - {name: 乙, members: [化工]}",
         "name: 乙", "already in another group"),
        ("  - {name: 化工, members: [制药]}", "name: 化工, members: [制药]",
         "name '化工' is taken"),
    ],
)
def test_industry_groups_are_checked(tmp_path: Path, groups: str, needle: str, message: str
                                     ) -> None:
    path = _broken(tmp_path, "industries: [化工]\n",
                   f"industries: [化工, 制药]\nindustry_groups:\n{groups}\n")
    problems = validate_file(path)
    assert any(p.line == _line_of(path, needle) and message in p.message for p in problems), [
        str(p) for p in problems]


def test_industry_groups_are_offered_as_one_choice(tmp_path: Path) -> None:
    path = _broken(tmp_path, "industries: [化工]\n",
                   "industries: [化工, 制药, 农药]\n"
                   "industry_groups:\n  - {name: 化工, members: [化工, 农药]}\n")
    kb = load_kb(path)
    assert [(c.name, c.members) for c in kb.industry_choices] == [
        ("化工", ("化工", "农药")), ("制药", ("制药",))]
    assert [c.name for c in load_kb(MINI).industry_choices] == ["化工"], "no groups: as listed"


def test_task_titles_follow_the_plans_tasks_and_are_read_only() -> None:
    kb = load_kb(MINI)
    assert list(kb.task_titles) == list(kb.task_numbers)
    assert all(kb.task_titles[t.number] == t.title for t in kb.tasks)
    with pytest.raises(TypeError):
        kb.task_titles[0] = "x"  # type: ignore[index]


def test_the_document_is_read_into_typed_parts_with_lines_for_bad_ones(tmp_path: Path) -> None:
    good = _broken(tmp_path, "  title: 测试行动方案\n", (
        "  title: 测试行动方案\n  date: 2022-03-01\n  source_url: https://example.org/x\n"
        "  requirements:\n    - {clause: 三（一）, title: 加强领导, text: 各地要加强领导。}\n"
        "  key_tasks:\n    - {number: 1, text: 出台方案。, office: 测试处}\n"))
    document = load_kb(good).document
    assert document.date is not None and document.date.isoformat() == "2022-03-01"
    assert document.requirements[0].title == "加强领导"
    assert document.key_tasks[0].office == "测试处"
    assert ("source_url", "https://example.org/x") in document.other  # kept, not refused
    bad = _write(tmp_path, good.read_text(encoding="utf-8").replace(
        "{number: 1, text: 出台方案。", "{number: 一, text: 出台方案。").replace(
        "title: 加强领导, ", "titel: 加强领导, "))
    problems = validate_file(bad)
    assert any(p.line == _line_of(bad, "number: 一") and "'number' should be int" in p.message
               for p in problems), [str(p) for p in problems]
    assert any(p.line == _line_of(bad, "titel:") and "unknown key 'titel'" in p.message
               for p in problems), [str(p) for p in problems]
