"""One dialog shape: a dialog is a :class:`Flow` of :class:`Step` declarations.

A step is declared once — its name (the conversation state), its prompt, the parser
of typed text and what a parsed value does, its buttons (:class:`Action`, or a
multi-select :class:`Pick` with its ✅ marks), and the label it has in the edit menu
if it can be changed from the summary. Everything else is built here from that
declaration, once for every dialog: the ConversationHandler's states, the summary
step with 确认 / 修改 / 取消, the edit menu, the typed-label mapping (a button's label
typed at its step presses it, see :mod:`handlers.core.dialogs`), wrong input answered
with what is wrong and the same step again, and the access check at every step
(:mod:`handlers.core.dialog_access`).

A new step is one declaration plus its parser::

    Step(PHONE, prompt=lambda c: ("第7步：请输入联系电话。", []),
         parse=lambda c, text: parse_phone(text), key="phone", edit="联系电话")

What a step leads to (:data:`Go`): ``None`` (or :class:`Next`, with a note) moves on
to the step after it (:attr:`Flow.after`; the summary when one field is being
corrected), :class:`Ask` shows a step (the same one with an error, or another), and
``END`` ends the dialog.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as tg_filters

from handlers.core.access import Need
from handlers.core.callback_queries import acknowledge
from handlers.core.context import Context
from handlers.core.dialog_access import ObjectCheck
from handlers.core.dialogs import (
    Dialog,
    Handlers,
    callback_tail,
    check_mark,
    close_buttons,
    conversation_handler,
    dialog_step,
    draft,
    in_rows,
    keyboard,
    show_prompt,
    small_int,
    text_of,
)
from handlers.core.dialogs import Step as Callback
from storage.fields import FieldError, parse_description

CONFIRM = "CONFIRM"
EDIT = "EDIT"
TOKEN = "token"  # draft key: the dialog's token (see storage.dialog_results)
EDITING = "editing"  # draft key: one field is being corrected, then back to the summary

Rows = list[list[tuple[str, str]]]
Screen = tuple[str, Rows]  # a prompt: HTML text and rows of (label, callback data)


@dataclass(frozen=True)
class Ask:
    """Show ``state``'s prompt (after an error or a note, plain text) and wait there."""

    state: str
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Next:
    """Move on to the step after the current one, with a note above its prompt."""

    note: str | None = None


Go = Ask | Next | int | None  # int: END
Parser = Callable[[Context, str], Any]  # typed text → a value, or a FieldError
# What a parsed value does (without one: stored under the step's key, then go on); a
# step that commits or speaks is a coroutine of (update, context, value).
Accept = Callable[[Context, Any], Go] | Callable[[Update, Context, Any], Awaitable[Go]]
Run = Callable[[Update, Context, str], Awaitable[Go]]  # a button: its data's tail


@dataclass(frozen=True)
class Action:
    """Buttons of a step whose data are ``<prefix>:<key>`` (``tail`` False) or
    ``<prefix>:<key>:<tail>``; the pressed message's buttons are removed first."""

    key: str
    run: Run
    tail: bool = False
    toast: str | None = None


@dataclass(frozen=True)
class Pick:
    """A multi-select: one button per option (``<prefix>:<key>:<n>``, ✅ when chosen),
    pressed again to unchoose, redrawn in place; "完成" (``<prefix>:<key>:done``)."""

    key: str
    options: Callable[[Context], Sequence[tuple[int, str]]]  # (n, label)
    chosen: Callable[[Context], Collection[int]]
    toggle: Callable[[Context, int], None]
    done: Callable[[Context], Go]
    per_row: int = 3


@dataclass(frozen=True)
class Files:
    """A step that takes photos and documents; other messages get ``hint``."""

    filters: tg_filters.BaseFilter
    take: Callable[[Update, Context], Awaitable[Go]]


@dataclass(frozen=True)
class Step:
    """One step of a dialog, declared once (see the module's docstring)."""

    name: str
    prompt: Callable[[Context], Screen]
    parse: Parser | None = None
    key: str = ""  # the draft key a parsed value is stored under (without ``accept``)
    accept: Accept | None = None
    actions: tuple[Action, ...] = ()
    pick: Pick | None = None
    files: Files | None = None
    hint: str = ""  # what typed text gets at a step without ``parse``
    edit: str = ""  # its label in the edit menu; "" when it cannot be changed there
    on_edit: Callable[[Context], str | None] | None = None  # why not now, or None
    commits: bool = False  # the dialog's result is stored from this step


@dataclass(frozen=True)
class Summary:
    """The summary step: ``text`` of the draft, confirmed with ``label``; the edit menu
    lists the steps declared with an ``edit`` label."""

    text: Callable[[Context], str]
    commit: Callable[[Update, Context], Awaitable[Go]]
    label: str = "确认提交"
    footer: str = "\n\n请核对以上信息。"
    hint: str = ""  # typed text at the summary
    edit_hint: str = "请点击按钮选择要修改的内容。"  # typed text at the edit menu
    toast: str = "正在提交…"


@dataclass(frozen=True)
class Flow:
    """A dialog declared step by step."""

    dialog: Dialog
    start: Callable[[Update, Context], Awaitable[Go]]
    steps: tuple[Step, ...]
    summary: Summary | None = None
    after: Callable[[Context, str], str] | None = None  # the step after a step
    entry_button: str = ""  # buttons elsewhere that start it (``<entry_button>:...``)
    check: ObjectCheck | None = None  # the access check on the draft's object
    by_name: dict[str, Step] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        steps = {step.name: step for step in self.steps}
        if self.summary is not None:
            steps[CONFIRM] = self._confirm_step(self.summary)
            editable = [step for step in self.steps if step.edit]
            if editable:
                steps[EDIT] = self._edit_step(editable, self.summary)
        object.__setattr__(self, "by_name", steps)

    @property
    def commit_states(self) -> frozenset[str]:
        """The states from which the dialog stores its result (a restart while a user
        waits there may have lost their confirm: see ``dialog_expiry``)."""
        states = {step.name for step in self.steps if step.commits}
        return frozenset(states | ({CONFIRM} if self.summary is not None else set()))

    # --- prompts ----------------------------------------------------------------

    def data(self, key: str, tail: object = None) -> str:
        """A button's callback data: ``<prefix>:<key>[:<tail>]``."""
        prefix = self.dialog.prefix
        return f"{prefix}:{key}" if tail is None else f"{prefix}:{key}:{tail}"

    def prompt(self, context: Context, state: str) -> tuple[str, InlineKeyboardMarkup | None]:
        step = self.by_name[state]
        text, rows = step.prompt(context)
        if step.pick is not None:
            rows = [*pick_rows(self, step.pick, context), *rows]
        return text, keyboard(rows)

    async def ask(self, update: Update, context: Context, state: str,
                  error: str | None = None, note: str | None = None) -> str:
        return await show_prompt(update, context, self.prompt, state, error, note=note)

    def following(self, context: Context, state: str) -> str:
        """The step after ``state``: the summary when one field is being corrected."""
        if self.after is not None:
            return self.after(context, state)
        if self.summary is not None and draft(context, self.dialog).get(EDITING):
            return CONFIRM
        order = [step.name for step in self.steps] + [CONFIRM]
        return order[order.index(state) + 1]

    async def go(self, update: Update, context: Context, state: str, outcome: Go) -> object:
        """Carry out what a step's handling led to."""
        if isinstance(outcome, int):
            return outcome
        if isinstance(outcome, Ask):
            return await self.ask(update, context, outcome.state, outcome.error, outcome.note)
        following = self.following(context, state)
        if following == CONFIRM:
            draft(context, self.dialog).pop(EDITING, None)
        note = outcome.note if isinstance(outcome, Next) else None
        return await self.ask(update, context, following, note=note)

    # --- the summary and the edit menu ------------------------------------------------

    def _confirm_step(self, summary: Summary) -> Step:
        async def commit(update: Update, context: Context, _tail: str) -> Go:
            return await summary.commit(update, context)

        async def edit(update: Update, context: Context, _tail: str) -> Go:
            return Ask(EDIT)

        editable = any(step.edit for step in self.steps)

        def screen(context: Context) -> Screen:
            row = [(summary.label, self.data("ok"))]
            if editable:
                row.append(("修改", self.data("edit")))
            return (summary.text(context) + summary.footer,
                    [[*row, ("取消", self.data("cancel"))]])

        return Step(CONFIRM, screen, hint=summary.hint, actions=(
            Action("ok", commit, toast=summary.toast), Action("edit", edit)))

    def _edit_step(self, editable: Sequence[Step], summary: Summary) -> Step:
        labels = {step.name: step for step in editable}

        async def fix(update: Update, context: Context, tail: str) -> Go:
            step = labels.get(tail)
            if step is None:
                return Ask(EDIT)
            refused = step.on_edit(context) if step.on_edit is not None else None
            if refused is not None:
                return Ask(EDIT, refused)
            draft(context, self.dialog)[EDITING] = True
            return Ask(step.name)

        def screen(context: Context) -> Screen:
            buttons = [(step.edit, self.data("fix", step.name)) for step in editable]
            return "请选择要修改的内容：", in_rows(buttons, 2)

        return Step(EDIT, screen, hint=summary.edit_hint,
                    actions=(Action("fix", fix, tail=True),))

    # --- handlers ------------------------------------------------------------------

    def conversation(self, timeout: float | None, need: Need) -> ConversationHandler[Any]:
        """The ConversationHandler, every state built from its step's declaration."""
        states: dict[object, Handlers] = {
            name: self._handlers(step) for name, step in self.by_name.items()}
        return conversation_handler(
            self.dialog, states=states, entry=dialog_step(self.dialog, entry=True)(self._start),
            prompt=self.prompt, timeout=timeout, need=need, check=self.check,
            entry_button=self.entry_button,
        )

    async def _start(self, update: Update, context: Context) -> object:
        outcome = await self.start(update, context)
        if isinstance(outcome, int):
            return outcome
        # the dialog commits at most once: its result is recorded under this token
        draft(context, self.dialog).setdefault(TOKEN, uuid.uuid4().hex)
        first = self.steps[0].name
        if isinstance(outcome, Ask):
            return await self.ask(update, context, outcome.state, outcome.error, outcome.note)
        return await self.ask(update, context, first)

    def _handlers(self, step: Step) -> list[BaseHandler[Update, Any, Any]]:
        step_of = dialog_step(self.dialog)
        prefix = self.dialog.prefix
        handlers: list[BaseHandler[Update, Any, Any]] = []
        if step.files is not None:
            handlers.append(MessageHandler(step.files.filters, step_of(self._files(step))))
        for action in step.actions:
            pattern = rf"^{prefix}:{action.key}:" if action.tail else rf"^{prefix}:{action.key}$"
            handlers.append(CallbackQueryHandler(step_of(self._action(step, action)),
                                                 pattern=pattern))
        if step.pick is not None:
            handlers.append(CallbackQueryHandler(step_of(self._pick(step, step.pick)),
                                                 pattern=rf"^{prefix}:{step.pick.key}:"))
        typed = ~tg_filters.COMMAND if step.files is not None else (
            tg_filters.TEXT & ~tg_filters.COMMAND)
        handlers.append(MessageHandler(typed, step_of(self._text(step))))
        return handlers

    def _text(self, step: Step) -> Callback:
        async def typed(update: Update, context: Context) -> object:
            if step.parse is None:
                return await self.ask(update, context, step.name, step.hint or None)
            value = step.parse(context, text_of(update))
            if isinstance(value, FieldError):
                return await self.ask(update, context, step.name, value.message)
            outcome: Any = None
            accept: Any = step.accept
            if inspect.iscoroutinefunction(accept):
                outcome = await accept(update, context, value)
            elif accept is not None:
                outcome = accept(context, value)
            else:
                draft(context, self.dialog)[step.key] = value
            return await self.go(update, context, step.name, outcome)

        typed.__name__ = f"{self.dialog.name}_{step.name.lower()}_text"
        return typed

    def _action(self, step: Step, action: Action) -> Callback:
        prefix = f"{self.dialog.prefix}:{action.key}"

        async def pressed(update: Update, context: Context) -> object:
            await close_buttons(update, action.toast)
            tail = callback_tail(update, context, prefix) or ""
            return await self.go(update, context, step.name, await action.run(update, context,
                                                                              tail))

        pressed.__name__ = f"{self.dialog.name}_{step.name.lower()}_{action.key}"
        return pressed

    def _pick(self, step: Step, pick: Pick) -> Callback:
        prefix = f"{self.dialog.prefix}:{pick.key}"

        async def pressed(update: Update, context: Context) -> object:
            tail = callback_tail(update, context, prefix) or ""
            if tail == "done":
                await close_buttons(update)
                return await self.go(update, context, step.name, pick.done(context))
            index = small_int(tail)
            if index is not None and index in {n for n, _ in pick.options(context)}:
                pick.toggle(context, index)
            query = update.callback_query
            if query is None:  # the label was typed: show the list again below it
                return await self.ask(update, context, step.name)
            text, markup = self.prompt(context, step.name)
            await acknowledge(query)
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return step.name

        pressed.__name__ = f"{self.dialog.name}_{step.name.lower()}_pick"
        return pressed

    def _files(self, step: Step) -> Callback:
        assert step.files is not None
        take = step.files.take

        async def received(update: Update, context: Context) -> object:
            return await self.go(update, context, step.name, await take(update, context))

        received.__name__ = f"{self.dialog.name}_{step.name.lower()}_file"
        return received


def pick_rows(flow: Flow, pick: Pick, context: Context) -> Rows:
    """The multi-select keyboard: the options (✅ when chosen), then "完成"."""
    chosen = set(pick.chosen(context))
    buttons = [(check_mark(label, n in chosen), flow.data(pick.key, n))
               for n, label in pick.options(context)]
    return [*in_rows(buttons, pick.per_row), [("完成", flow.data(pick.key, "done"))]]


def ordered_toggle(values: Sequence[str], value: str, order: Sequence[str]) -> list[str]:
    """``values`` with ``value`` added or removed, in ``order``."""
    chosen = set(values) ^ {value}
    return [item for item in order if item in chosen]


def described(text: str, limit: int, label: str) -> str | FieldError:
    """A required free text of at most ``limit`` characters, the error naming ``label``
    (意见, 通知内容, 要求) where the parser says 情况说明."""
    value = parse_description(text, limit=limit, required=True)
    if isinstance(value, FieldError):
        return FieldError(value.message.replace("情况说明", label))
    return value
