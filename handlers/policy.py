"""Every command, button and dialog of the bot, with who may use it — in one place.

``bot.app`` registers the handlers from this declaration, the command menus and
``/help`` are built from it, :class:`handlers.core.access.AccessGuard` enforces it
on every update, and the access-matrix test walks it. A new command is one
:class:`Command` here; a new dialog is one :class:`DialogEntry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import ConversationHandler

from handlers.admin import roles
from handlers.core import dialogs
from handlers.core.access import (
    ADMINS,
    ANYONE,
    OFFICIALS,
    OFFICIALS_AND_STAFF,
    STAFF,
    Button,
    Command,
    Need,
    Relation,
    Target,
    Where,
)
from handlers.core.dialog_shape import Flow
from handlers.core.dialogs import Dialog
from handlers.enterprise import invitation, myreports, register, report
from handlers.enterprise import qualifiers as enterprise_qualifiers
from handlers.officials import deadline_add, notices, notify
from handlers.public import answering, ask, deadlines, feedback, start, suggestions
from handlers.staff import (
    approvals,
    export,
    importing,
    invitations,
    overdue,
    qualifiers,
    reports,
    review,
    stats,
    unanswered,
)
from storage.enterprise_invites import CODE_PREFIX as ENTERPRISE_CODE_PREFIX
from storage.invites import CODE_PREFIX


@dataclass(frozen=True)
class DialogEntry:
    """A dialog: its declaration (steps, command, buttons' prefix) and who may use it."""

    flow: Flow
    need: Need
    summary: str
    usage: str = ""
    entry_button: Button | None = None  # buttons elsewhere that start the dialog

    @property
    def dialog(self) -> Dialog:
        return self.flow.dialog

    @property
    def prefix(self) -> str:
        return self.dialog.prefix

    def handler(self, timeout: float | None) -> ConversationHandler[Any]:
        """The dialog's ConversationHandler, checking ``need`` at every step."""
        return self.flow.conversation(timeout, self.need)

    @property
    def command(self) -> Command:
        return Command(self.dialog.command, self.need, self.summary, usage=self.usage)

    @property
    def buttons(self) -> tuple[Button, ...]:
        return (Button(self.prefix, self.need),
                *((self.entry_button,) if self.entry_button is not None else ()))


DIALOGS: tuple[DialogEntry, ...] = (
    DialogEntry(register.FLOW, Need(ANYONE),
                "企业登记（绑定企业）"),
    DialogEntry(report.FLOW, Need(ANYONE),
                "填报任务进展"),
    DialogEntry(notify.FLOW, Need(OFFICIALS),
                "向企业发送通知"),
    DialogEntry(deadline_add.FLOW,
                Need(OFFICIALS), "新增截止日期（/deadline add）或查看、撤销自己新增的",
                usage="/deadline add"),
    DialogEntry(importing.FLOW, Need(STAFF),
                "导入企业名单（Excel/CSV，限负责范围内）"),
    DialogEntry(review.FLOW, Need(STAFF),
                "审核一份报告（已核实 / 有问题 / 驳回）", usage="/review 123",
                entry_button=Button(review.ENTRY_PREFIX, review.NEED)),
)

COMMANDS: tuple[Command, ...] = (
    Command("start", Need(ANYONE), "开始使用绿动", roles.start_with_invite, where=Where.PRIVATE,
            in_dialogs=True, payload=CODE_PREFIX, menu=False),
    Command("start", Need(ANYONE), "开始使用绿动", invitation.start_with_enterprise_invite,
            where=Where.PRIVATE, in_dialogs=True, payload=ENTERPRISE_CODE_PREFIX, menu=False),
    Command("start", Need(ANYONE), "开始使用绿动", start.start, where=Where.ANYWHERE,
            in_dialogs=True),
    Command("help", Need(ANYONE), "我能做什么", start.show_help, where=Where.ANYWHERE,
            in_dialogs=True),
    Command("ask", Need(ANYONE), "提问（群聊中使用）", ask.ask_command,
            usage="/ask 冲天炉要淘汰吗", where=Where.ANYWHERE, in_dialogs=True),
    *(entry.command for entry in DIALOGS),
    Command("myreports", Need(ANYONE), "查看本企业已报进展", myreports.myreports_command),
    Command("deadlines", Need(ANYONE), "截止日期日程（已过的会注明）", deadlines.deadlines_command),
    Command("cancel", Need(ANYONE), "取消当前操作", dialogs.nothing_to_cancel),
    Command("notices", Need(OFFICIALS), "已发和定时的通知及送达情况", notices.notices_command),
    Command("pending", Need(STAFF), "待审核的企业登记", approvals.pending_command),
    Command("reports", Need(STAFF), "查看、筛选企业填报", reports.reports_command,
            usage="/reports 洛阳 任务13 已完成"),
    Command("enterprise", Need(STAFF), "查找一家企业及其全部进展", reports.enterprise_command,
            usage="/enterprise 绿源化工"),
    Command("overdue", Need(OFFICIALS_AND_STAFF), "逾期未完成的企业（按地市、任务统计）",
            overdue.overdue_command, usage="/overdue 洛阳 任务13"),
    Command("silent", Need(OFFICIALS_AND_STAFF), "未加入和从未填报的企业", overdue.silent_command,
            usage="/silent 郑州"),
    Command("stats", Need(OFFICIALS_AND_STAFF), "完成情况统计图", stats.stats_command,
            usage="/stats 任务13"),
    Command("export", Need(STAFF), "导出Excel台账（按当前筛选条件）", export.export_command,
            usage="/export 洛阳 任务13"),
    Command("qualifiers", Need(STAFF), "认定事项（如土壤污染重点监管单位）未知的企业",
            qualifiers.qualifiers_command),
    Command("unanswered", Need(STAFF), "没能回答或被点👎的问题", unanswered.unanswered_command),
    Command("learned", Need(STAFF), "已关联的问题（可删除）", unanswered.learned_command),
    Command("grant", Need(ADMINS), "授予角色", roles.grant_command,
            usage="/grant 123456789 staff 郑州 洛阳"),
    Command("revoke", Need(ADMINS), "撤销角色", roles.revoke_command, usage="/revoke 123456789"),
    Command("invite", Need(ADMINS), "生成一次性邀请链接", roles.invite_command,
            usage="/invite official 郑州"),
    Command("invites", Need(ADMINS), "未使用的邀请链接（可撤回）", roles.invites_command),
    Command("clock", Need(ADMINS), "提醒时钟（跳变后确认：/clock 确认）", roles.clock_command,
            usage="/clock 确认"),
    Command("audit", Need(ADMINS), "最近的操作记录", roles.audit_command, usage="/audit 20"),
)

BUTTONS: tuple[Button, ...] = (
    Button(answering.COMMON_PREFIX, Need(ANYONE), start.common_question, asks_engine=True),
    Button(answering.SUGGESTION_PREFIX, Need(ANYONE), suggestions.on_suggestion,
           asks_engine=True),
    Button(answering.FEEDBACK_PREFIX, Need(ANYONE, Target.QUESTION, Relation.OWN),
           feedback.on_feedback),
    Button(myreports.PREFIX, Need(ANYONE), myreports.on_history),
    Button(approvals.APPROVE_PREFIX, Need(STAFF, Target.ACCOUNT, Relation.NOT_OWN),
           approvals.on_decision),
    Button(approvals.REJECT_PREFIX, Need(STAFF, Target.ACCOUNT, Relation.NOT_OWN),
           approvals.on_decision),
    Button(notices.CANCEL_PREFIX, Need(OFFICIALS, Target.NOTICE), notices.on_cancel),
    Button(notices.RESEND_PREFIX, Need(OFFICIALS, Target.NOTICE), notices.on_resend),
    Button(notices.PAGE_PREFIX, Need(OFFICIALS), notices.on_page),
    Button(notices.UNREACHED_PREFIX, Need(OFFICIALS, Target.NOTICE), notices.on_unreached),
    Button(deadline_add.WITHDRAW_PREFIX, Need(OFFICIALS, Target.DEADLINE),
           deadline_add.on_withdraw),
    Button(reports.PREFIX, Need(STAFF), reports.on_panel),
    Button(reports.OPEN_PREFIX, Need(STAFF, Target.ENTERPRISE), reports.on_open),
    Button(invitations.REISSUE_PREFIX, Need(STAFF, Target.ENTERPRISE), invitations.on_reissue),
    Button(qualifiers.SET_PREFIX, Need(STAFF, Target.ENTERPRISE), qualifiers.on_set),
    Button(qualifiers.ASK_PREFIX, Need(STAFF), qualifiers.on_ask),
    Button(enterprise_qualifiers.ANSWER_PREFIX, Need(ANYONE, Target.ENTERPRISE, Relation.OWN),
           enterprise_qualifiers.on_answer),
    Button(unanswered.LEARN_PREFIX, Need(STAFF), unanswered.on_learn),
    Button(unanswered.UNLEARN_PREFIX, Need(STAFF), unanswered.on_unlearn),
    Button(roles.WITHDRAW_PREFIX, Need(ADMINS), roles.on_withdraw),
    *(button for entry in DIALOGS for button in entry.buttons),
)
