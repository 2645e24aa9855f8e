"""The /stats pictures: completion by city for one task, or by task, as a PNG.

Each bar is the enterprises a task concerns (100%), split into 已完成 (a done status),
不涉及 (the enterprise says the task does not concern it: its own colour, never counted
as done), 已填报未完成 (reported, not done) and 未填报 (never reported on the task), from
the :class:`~storage.progress.Completion` rows; the caption is :func:`completion_summary`,
which says so plainly when nobody has reported yet.

Chinese must render on any machine, so the text is drawn with the font shipped in
``fonts/`` (a subset of Noto Sans CJK SC, SIL OFL 1.1, rebuilt by
tools/build_chart_font.py), loaded from its file, never whatever the system has. It
holds GB 2312, the shipped knowledge base and Henan's place names. A character it
lacks (another plan's rare hanzi) is drawn as 〓 — a visible gap instead of an empty
box, while the caption, rendered by the phone, keeps the exact text — and logged by
code point, so the font can be rebuilt with that plan's YAML.

Rendering is blocking (a few hundred ms): call it off the event loop. It uses the
object-oriented matplotlib API with the Agg canvas only (no pyplot, no display, no
global state), so charts may be drawn in several threads at once.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.transforms import blended_transform_factory

from storage.progress import Completion

log = logging.getLogger(__name__)

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "LvdongSansSC-Regular.otf"
MISSING = "〓"  # drawn for a character the font lacks (GB 2312 A1FE, so the font has it)

DONE_COLOUR, EXEMPT_COLOUR = "#2e7d32", "#5b8fd6"
REPORTED_COLOUR, SILENT_COLOUR = "#f2a900", "#c8c8c8"
NOT_JOINED_COLOUR = "#f2c4c4"  # on the list, not in the bot yet
SEGMENTS = (("已完成", DONE_COLOUR), ("不涉及", EXEMPT_COLOUR),
            ("已填报未完成", REPORTED_COLOUR), ("未填报", SILENT_COLOUR),
            ("未加入", NOT_JOINED_COLOUR))


@cache
def font_characters() -> frozenset[str]:
    """Every character the chart font has a glyph for."""
    return frozenset(chr(code) for code in FT2Font(str(FONT_PATH)).get_charmap())


def font(size: float = 10) -> FontProperties:
    """The chart font, from its file."""
    return FontProperties(fname=FONT_PATH, size=size)


def drawable(text: str) -> str:
    """``text`` with each character the font lacks replaced by :data:`MISSING`."""
    have = font_characters()
    missing = sorted({c for c in text if c not in have and not c.isspace()})
    if not missing:
        return text
    log.warning("chart font lacks %s; drawn as %s (rebuild it: tools/build_chart_font.py "
                "--text the-kb.yaml)", " ".join(f"U+{ord(c):04X}" for c in missing), MISSING)
    return "".join(MISSING if c in missing else c for c in text)


@dataclass(frozen=True)
class ChartLabels:
    """What a chart says: its title, what a bar is, each bar's name, and the unit of
    the counts (家 for enterprises; 家次 for enterprise × task pairs)."""

    title: str
    axis: str
    names: Mapping[str, str] = field(default_factory=dict)  # Completion.key → bar label
    unit: str = "家"
    prefix: str = ""  # the caption names a bar prefix + key: 任务13

    def name(self, key: str) -> str:
        return self.names.get(key, key)


def _short(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def city_labels(*, task: int, task_title: str, scope: str) -> ChartLabels:
    """Labels for :func:`storage.progress.completion_by_city` rows of one task;
    ``scope``: 全省, or the regions the asker sees (``Scope.describe()``)."""
    return ChartLabels(f"任务{task}「{_short(task_title, 20)}」各地完成情况（{scope}）", "地市")


def task_labels(*, titles: Mapping[int, str], scope: str,
                industry: str | None = None) -> ChartLabels:
    """Labels for :func:`storage.progress.completion_by_task` rows; ``titles``: task
    number → title, from the knowledge base."""
    whose = f"，{industry}行业" if industry else ""
    return ChartLabels(f"各任务完成情况（{scope}{whose}）", "任务",
                       {str(n): f"{n} {_short(title)}" for n, title in titles.items()}, "家次",
                       "任务")


def _ordered(rows: Sequence[Completion], labels: ChartLabels) -> list[Completion]:
    """Cities by share done, best first (who is behind is what leaders ask); tasks in
    task order."""
    if labels.axis == "任务":
        return sorted(rows, key=lambda r: int(r.key) if r.key.isdigit() else 0)
    return sorted(rows, key=lambda r: (-r.share_done, -r.concerned, r.key))


def completion_figure(rows: Sequence[Completion], labels: ChartLabels) -> Figure:
    """The chart as a matplotlib Figure (:func:`completion_chart` renders it)."""
    rows = _ordered(rows, labels)
    height = 1.9 + 0.34 * max(len(rows), 3)
    fig = Figure(figsize=(8.6, height), dpi=110)
    FigureCanvasAgg(fig)
    if not any(r.concerned for r in rows) or not any(r.reported for r in rows):
        fig.text(0.03, 0.9, drawable(labels.title), fontproperties=font(13), va="top")
        concerned = sum(r.concerned for r in rows)
        empty = ("没有涉及的企业，暂无数据" if not concerned
                 else f"涉及 {concerned:,} {labels.unit}，还没有企业填报，暂无完成情况")
        fig.text(0.03, 0.6, drawable(empty), va="top", fontproperties=font(12), color="#555555")
        return fig
    ax = fig.add_subplot()
    ax.set_title(drawable(labels.title), fontproperties=font(13), loc="left", pad=28)
    positions = list(range(len(rows)))[::-1]  # first row on top
    left = [0.0] * len(rows)
    for (name, colour), values in zip(SEGMENTS, _segments(rows), strict=True):
        ax.barh(positions, values, left=left, color=colour, height=0.68,
                label=drawable(name), edgecolor="white", linewidth=0.5)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(positions, [drawable(labels.name(r.key)) for r in rows], fontproperties=font())
    ticks = [i / 5 for i in range(6)]
    ax.set_xticks(ticks, [f"{t:.0%}" for t in ticks], fontproperties=font(9))
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlabel(drawable(f"占涉及企业的比例（右侧：已完成/涉及，{labels.unit}）"),
                  fontproperties=font(9))
    ax.set_ylabel(drawable(labels.axis), fontproperties=font(10))
    right = blended_transform_factory(ax.transAxes, ax.transData)
    for y, row in zip(positions, rows, strict=True):
        text = (f"{row.share_done:.0%}  {row.done:,}/{row.concerned:,}" if row.concerned
                else "无涉及")
        ax.text(1.015, y, drawable(text), transform=right, va="center", fontproperties=font(9),
                clip_on=False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=5, frameon=False,
              prop=font(9), borderaxespad=0.2, handlelength=1.2)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig


def _segments(rows: Sequence[Completion]) -> tuple[list[float], ...]:
    """Per row the shares done, not applicable, reported but neither, not reported
    (joined), and not joined (on the list, nobody in the bot yet)."""
    done, exempt, reported, silent, absent = [], [], [], [], []
    for row in rows:
        whole = row.concerned or 1
        done.append(row.done / whole)
        exempt.append(row.exempt / whole)
        reported.append((row.reported - row.done - row.exempt) / whole)
        silent.append((row.concerned - row.reported - row.not_joined) / whole
                      if row.concerned else 0.0)
        absent.append(row.not_joined / whole)
    return done, exempt, reported, silent, absent


def completion_chart(rows: Sequence[Completion], labels: ChartLabels) -> bytes:
    """The chart as PNG bytes, for ``send_photo``."""
    fig = completion_figure(rows, labels)
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight", pad_inches=0.15, facecolor="white")
    return out.getvalue()


def completion_summary(rows: Sequence[Completion], labels: ChartLabels) -> str:
    """One line for the photo's caption: the totals, and the best and worst bars."""
    concerned = sum(r.concerned for r in rows)
    if not concerned:
        return f"{labels.title}：没有涉及的企业。"
    done = sum(r.done for r in rows)
    exempt = sum(r.exempt for r in rows)
    reported = sum(r.reported for r in rows)
    unit = labels.unit
    absent = sum(r.not_joined for r in rows)
    if not reported:
        return (f"{labels.title}：涉及 {concerned:,} {unit}，还没有企业填报，暂无完成情况"
                + (f"（其中未加入 {absent:,} {unit}）。" if absent else "。"))
    line = (f"{labels.title}：涉及 {concerned:,} {unit}，已完成 {done:,} {unit}"
            f"（{done / concerned:.0%}），"
            + (f"不涉及 {exempt:,} {unit}，" if exempt else "")
            + f"已填报未完成 {reported - done - exempt:,} {unit}，"
            f"未填报 {concerned - reported - absent:,} {unit}")
    if absent:
        line += f"，未加入 {absent:,} {unit}"
    ranked = sorted((r for r in rows if r.concerned), key=lambda r: (-r.share_done, r.key))
    if len(ranked) >= 2 and ranked[0].share_done > ranked[-1].share_done:
        best, worst = ranked[0], ranked[-1]
        line += (f"；最高 {labels.prefix}{best.key} {best.share_done:.0%}，"
                 f"最低 {labels.prefix}{worst.key} {worst.share_done:.0%}")
    return line + "。"
