"""How a self-report reads in chat — for the enterprise (/myreports) and for staff alike.

Each line labels its dates (预计完成 / 实际完成 / 填报于) and flags an expected date
that is already past; what a status's date means comes from the knowledge base
(``ProgressStatus.date``). A report's review (已核实 / 有问题 / 驳回, with the comment)
is shown under it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from handlers.core.telegram_html import escape
from knowledge.model import DateKind, KnowledgeBase
from storage.clock import format_local
from storage.reports import Report
from storage.reviews import Review

DATE_LABELS = {DateKind.ACTUAL: "实际完成", DateKind.EXPECTED: "预计完成",
               DateKind.OPTIONAL: "相关日期"}


def status_words(report: Report, kb: KnowledgeBase) -> str:
    status = kb.status(report.status)
    if report.percent is not None and status is not None and status.asks_percent:
        return f"{report.status} {report.percent}%"
    return report.status


def date_words(report: Report, kb: KnowledgeBase, today: dt.date) -> str:
    """``预计完成 2021-12-31``, flagged when an expected date of an open task has passed."""
    if report.completion_date is None:
        return ""
    status = kb.status(report.status)
    kind = status.date if status is not None else DateKind.EXPECTED
    text = f"{DATE_LABELS[kind]} {report.completion_date.isoformat()}"
    if kind is DateKind.EXPECTED and report.completion_date < today and not (
            status is not None and status.done):
        text += "（⚠️ 已过预计日期，请及时更新进展）"
    return text


def review_words(review: Review | None) -> str:
    """``审核：有问题（照片不清楚）``; empty when not reviewed."""
    if review is None:
        return ""
    comment = f"（{review.comment}）" if review.comment else ""
    return f"审核：{review.verdict.words}{comment} · {format_local(review.created_at)[:10]}"


def latest_line(
    report: Report, title: str, kb: KnowledgeBase, today: dt.date, review: Review | None = None
) -> str:
    parts = [f"<b>{escape(status_words(report, kb))}</b>"]
    date = date_words(report, kb, today)
    if date:
        parts.append(escape(date))
    parts.append(f"填报于 {format_local(report.created_at)[:10]}")
    if review is not None:
        parts.append(escape(review_words(review)))
    return f"{report.task}. {escape(title)} — " + "；".join(parts)


def history_entry(
    report: Report, kb: KnowledgeBase, today: dt.date, reviews: Sequence[Review] = ()
) -> str:
    lines = [f"<b>#{report.id}</b> 填报于 {format_local(report.created_at)} · "
             f"{escape(status_words(report, kb))}"]
    date = date_words(report, kb, today)
    if date:
        lines.append(escape(date))
    if report.description:
        lines.append(f"说明：{escape(report.description)}")
    if report.attachments:
        lines.append(f"附件：{len(report.attachments)}个")
    if report.from_pending:
        lines.append("（企业审核通过前所报）")
    lines += [escape(review_words(review)) for review in reviews]
    return "\n".join(lines)
