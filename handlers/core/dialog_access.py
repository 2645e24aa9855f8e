"""Access decided at every step of a dialog, and again where it commits.

The :class:`~handlers.core.access.AccessGuard` checks a command or a button when it
arrives; typed text has nothing to check against there. A dialog therefore carries
its declared :class:`~handlers.core.access.Need` (from ``handlers.policy``) and every
update it handles — typed text, a typed button label, a pressed button, a file — is
checked against the user's role and scope *now*, read from the database:

- the role must still be one the dialog's need allows;
- a dialog started with a scope (``start_scoped``: what the official chose from) must
  still be within the user's scope (a narrowed official cannot send the province's
  notice they previewed);
- a dialog on an object (a review's report) passes that object's check again.

:func:`committing` opens the transaction that stores the dialog's result and checks
the same again inside it, so a revoke that lands between the last step and the
commit is seen. A dialog whose user lost the right raises :class:`AccessLost`; the
dialog machinery ends it with :func:`ended_text` and drops the draft.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from handlers.core.access import NOT_ALLOWED, OUT_OF_SCOPE, Actor, Need, actor_of
from handlers.core.context import Context
from storage.db import transaction
from storage.dialog_results import record_result, result_of
from storage.users import Scope

# Per-dialog check on the draft's object: why the actor may not go on, or None.
ObjectCheck = Callable[[Context, Actor, Mapping[str, Any]], str | None]


class AccessLost(Exception):
    """The user may no longer do what the dialog is for; ``reason`` is for them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DialogAccess:
    """What a dialog needs, as ``handlers.policy`` declares it, plus its object check."""

    command: str
    need: Need
    check: ObjectCheck | None = None

    def refusal(self, context: Context, user_id: int, kept: Mapping[str, Any]) -> str | None:
        """Why ``user_id`` may not go on with this dialog now (``kept``: its draft)."""
        actor = actor_of(context.bot_data, user_id)
        if actor.role not in self.need.roles:
            return NOT_ALLOWED.format(what=f" /{self.command}")
        scope = kept.get("scope")
        if isinstance(scope, list) and not actor.covers_all(frozenset(scope)):
            return OUT_OF_SCOPE.format(scope=actor.scope.describe()) + (
                f"（开始时为：{Scope(frozenset(scope)).describe()}）")
        if self.check is not None:
            return self.check(context, actor, kept)
        return None

    def enforce(self, context: Context, user_id: int, kept: Mapping[str, Any]) -> None:
        reason = self.refusal(context, user_id, kept)
        if reason is not None:
            raise AccessLost(reason)


def ended_text(reason: str, title: str, command: str) -> str:
    """What a user who lost the right reads (plain text)."""
    return (f"{reason}\n{title}已结束，填写的内容没有保存。"
            f"如有需要，请在权限恢复后重新发送 /{command}。")


class AlreadyDone(Exception):
    """The dialog's result was committed before (a confirm replayed after a crash);
    ``subject`` says what it was, e.g. ``通知 #3``."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject)
        self.subject = subject


def already_done_text(subject: str) -> str:
    return f"✅ 这一步已经完成了（{subject}），没有重复提交。"


@contextlib.contextmanager
def committing(
    context: Context, user_id: int, kept: Mapping[str, Any], *, token: str | None = None
) -> Iterator[Callable[[str], None]]:
    """The write transaction of a dialog's result, with the dialog's access checked
    again inside it (raises :class:`AccessLost`, rolling back), and idempotent by the
    dialog's token (``kept["token"]`` unless ``token`` is given): a token that already
    committed raises :class:`AlreadyDone`. The block names what it stored through the
    callable it gets (``done("通知 #3")``); that is recorded with the token, in the
    same transaction."""
    access = context.dialog_access
    bot_data = context.bot_data
    token = token or (str(kept["token"]) if kept.get("token") else None)
    subjects: list[str] = []
    with transaction(bot_data.db):
        if access is not None:
            access.enforce(context, user_id, kept)
        if token is not None:
            before = result_of(bot_data.db, token)
            if before is not None:
                raise AlreadyDone(before)
        yield subjects.append
        if token is not None:
            record_result(bot_data.db, token, dialog=access.command if access else "",
                          user_id=user_id, subject=subjects[-1] if subjects else "",
                          now=bot_data.now())
