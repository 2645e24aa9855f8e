"""The /stats charts (handlers/staff/charts.py): a real PNG, Chinese drawn with the shipped
font, and that font holds a glyph for every character a chart draws."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from handlers.staff.charts import (
    DONE_COLOUR,
    EXEMPT_COLOUR,
    FONT_PATH,
    MISSING,
    ChartLabels,
    city_labels,
    completion_chart,
    completion_figure,
    completion_summary,
    drawable,
    task_labels,
)
from knowledge.engine import Engine
from storage.progress import Completion
from storage.regions import COUNTIES, REGIONS


@pytest.fixture(scope="module")
def glyphs() -> frozenset[str]:
    """The characters the shipped font has, read with fontTools (not matplotlib)."""
    return frozenset(chr(code) for code in TTFont(FONT_PATH).getBestCmap())


def city_rows() -> list[Completion]:
    return [Completion(region, 40 + n, n % 17, n % 17 + n % 5)
            for n, region in enumerate(REGIONS)]


def drawn(fig: Figure) -> Iterator[Text]:
    """Every text the rendered figure shows."""
    fig.canvas.draw()
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            yield text


def assert_every_character_has_a_glyph(fig: Figure, glyphs: frozenset[str]) -> str:
    shown = ""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        for text in drawn(fig):
            assert Path(text.get_fontproperties().get_file()) == FONT_PATH, text.get_text()
            lacking = {c for c in text.get_text() if c not in glyphs and not c.isspace()}
            assert not lacking, f"{text.get_text()!r}: no glyph for {sorted(lacking)}"
            shown += text.get_text()
    return shown


def test_the_chart_is_a_png_of_a_readable_size() -> None:
    png = completion_chart(city_rows(), city_labels(task=13, task_title="建设门禁系统",
                                                    scope="全省"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    image = Image.open(io.BytesIO(png))
    image.verify()
    width, height = Image.open(io.BytesIO(png)).size
    assert 700 <= width <= 1600 and height >= 28 * 25, "a bar per region, readable on a phone"


def test_city_chart_draws_every_region_name_with_the_shipped_font(
    engine: Engine, glyphs: frozenset[str]
) -> None:
    task = engine.kb.tasks[0]
    fig = completion_figure(city_rows(), city_labels(task=task.number, task_title=task.title,
                                                      scope="全省"))
    shown = assert_every_character_has_a_glyph(fig, glyphs)
    for region in REGIONS:
        assert region in shown
    assert "已完成" in shown and "未填报" in shown


def test_task_charts_draw_every_task_title_and_industry(
    engine: Engine, glyphs: frozenset[str]
) -> None:
    kb = engine.kb
    titles = {t.number: t.title for t in kb.tasks}
    rows = [Completion(str(n), 10 + n, n % 4, n % 7) for n in titles]
    for industry in (None, kb.industries[0], kb.industries[-1]):
        labels = task_labels(titles=titles, scope="洛阳市", industry=industry)
        shown = assert_every_character_has_a_glyph(completion_figure(rows, labels), glyphs)
        assert industry is None or industry in shown
    # titles are shortened on the bars, and the other industries' charts are alike:
    # what they would draw, the font has
    for text in (*titles.values(), *kb.industries, *(s.name for s in kb.statuses)):
        assert drawable(text) == text and set(text) <= glyphs | {" "}, text


def test_the_font_holds_every_place_name_and_gb2312(glyphs: frozenset[str]) -> None:
    names = "".join(REGIONS) + "".join("".join(c) for c in COUNTIES.values())
    assert set(names) <= glyphs
    assert "瀍" in glyphs and "浉" in glyphs, "outside GB 2312, in 瀍河回族区 and 浉河区"
    hanzi = bytes(b for row in range(0xB0, 0xF8) for cell in range(0xA1, 0xFF)
                  for b in (row, cell)).decode("gb2312", errors="ignore")
    assert len(set(hanzi)) == 6763 and set(hanzi) <= glyphs


def test_a_character_the_font_lacks_is_drawn_as_a_marker_and_logged(
    glyphs: frozenset[str], caplog: pytest.LogCaptureFixture
) -> None:
    rare = next(c for c in "㐀䶮𠀀鿰" if c not in glyphs)  # e.g. another plan's rare hanzi
    labels = ChartLabels(f"任务1{rare}完成情况", "地市")
    rows = [Completion(f"{rare}城", 10, 5, 7), Completion("郑州市", 10, 2, 3)]
    with caplog.at_level(logging.WARNING, logger="handlers.staff.charts"):
        fig = completion_figure(rows, labels)
    shown = assert_every_character_has_a_glyph(fig, glyphs)
    assert rare not in shown and f"任务1{MISSING}完成情况" in shown and f"{MISSING}城" in shown
    assert f"U+{ord(rare):04X}" in caplog.text and rare not in caplog.text
    assert rare in completion_summary(rows, labels), "the caption keeps the exact text"


def test_bars_split_the_concerned_enterprises(glyphs: frozenset[str]) -> None:
    rows = [Completion("郑州市", 200, 50, 120, not_joined=30),
            Completion("洛阳市", 100, 80, 90)]
    fig = completion_figure(rows, city_labels(task=3, task_title="任务", scope="全省"))
    ax = fig.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    by_row: dict[float, list[float]] = {}
    for bar in bars:
        by_row.setdefault(round(bar.get_y(), 2), []).append(round(bar.get_width(), 3))
    top, bottom = (by_row[y] for y in sorted(by_row, reverse=True))
    assert top == [0.8, 0.0, 0.1, 0.1, 0.0], "洛阳市 first: 80% done"
    assert bottom == [0.25, 0.0, 0.35, 0.25, 0.15], "未加入 is a category of its own"


def test_not_applicable_has_its_own_colour_and_is_never_done(glyphs: frozenset[str]) -> None:
    """Three enterprises, one says 不涉及: no green, a 不涉及 third (issue 15)."""
    rows = [Completion("洛阳市", 3, 0, 1, 1)]
    labels = city_labels(task=3, task_title="任务", scope="全省")
    fig = completion_figure(rows, labels)
    bars = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    widths = {p.get_facecolor()[:3]: round(p.get_width(), 3) for p in bars}
    assert widths[to_rgb(DONE_COLOUR)] == 0.0
    assert widths[to_rgb(EXEMPT_COLOUR)] == 0.333
    assert "不涉及" in assert_every_character_has_a_glyph(fig, glyphs)
    line = completion_summary(rows, labels)
    assert "已完成 0 家（0%），不涉及 1 家，已填报未完成 0 家，未填报 2 家" in line


def test_summary_gives_totals_and_the_best_and_worst() -> None:
    rows = [Completion("郑州市", 200, 50, 120), Completion("洛阳市", 100, 80, 90)]
    line = completion_summary(rows, city_labels(task=3, task_title="推动工业企业绿色发展",
                                                scope="全省"))
    assert "涉及 300 家，已完成 130 家（43%），已填报未完成 80 家，未填报 90 家" in line
    assert "最高 洛阳市 80%，最低 郑州市 25%" in line
    tasks = completion_summary([Completion("13", 10, 1, 2), Completion("3", 10, 5, 5)],
                               task_labels(titles={3: "甲", 13: "乙"}, scope="全省"))
    assert "家次" in tasks and "最高 任务3 50%，最低 任务13 10%" in tasks
    assert "没有涉及的企业" in completion_summary([], task_labels(titles={}, scope="全省"))


def test_a_chart_nobody_reported_on_says_there_is_nothing_yet(glyphs: frozenset[str]) -> None:
    rows = [Completion("12", 4, 0, 0), Completion("7", 3, 0, 0)]
    labels = task_labels(titles={7: "甲", 12: "乙"}, scope="全省")
    line = completion_summary(rows, labels)
    assert "还没有企业填报" in line and "最高" not in line and "0%" not in line
    shown = assert_every_character_has_a_glyph(completion_figure(rows, labels), glyphs)
    assert "还没有企业填报" in shown
    same = completion_summary([Completion("12", 4, 0, 1), Completion("7", 3, 0, 2)], labels)
    assert "最高" not in same, "no best and worst when every bar is the same"


def test_no_data_is_said_in_the_picture(glyphs: frozenset[str]) -> None:
    fig = completion_figure([], city_labels(task=3, task_title="任务", scope="郑州市"))
    assert "没有涉及的企业，暂无数据" in assert_every_character_has_a_glyph(fig, glyphs)
