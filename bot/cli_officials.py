"""Shell commands for operators and officials: roles, notices.

``lvdong grant`` / ``lvdong revoke`` set roles in the database; ``lvdong notify``
queues a notice (the running bot delivers it) and ``lvdong notices`` prints every
notice with its delivery figures. They work on the same database as the bot and
write the same audit entries (actor ``0``: the server shell).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database

from bot.settings import Settings
from storage.regions import normalize_region

SHELL = 0  # the audit log's actor for commands run on the server


@contextmanager
def _db(settings: Settings) -> Iterator[Database]:
    from storage.db import open_db

    db = open_db(settings.db_path)
    try:
        yield db
    finally:
        db.conn.close()


def _regions(cities: list[str] | None) -> list[str] | None:
    """Normalised regions, or None (after printing why) if one is unknown."""
    out = []
    for city in cities or ():
        region = normalize_region(city)
        if region is None:
            print(f"lvdong: 不认识的地市 {city!r}（例如 郑州市、济源示范区、巩义市）",
                  file=sys.stderr)
            return None
        out.append(region)
    return out


def cmd_grant(args: argparse.Namespace, settings: Settings) -> int:
    """Give a Telegram user a role (officials and staff: of cities, or the province)."""
    from storage import audit
    from storage.clock import utc_now
    from storage.db import transaction
    from storage.users import Role, grant_role

    regions = _regions(args.city)
    if regions is None:
        return 2
    role = Role(args.role)
    if regions and role not in (Role.OFFICIAL, Role.STAFF):
        print("lvdong: 只有 official 和 staff 有负责的地市 (--city)", file=sys.stderr)
        return 2
    now = utc_now()
    with _db(settings) as db, transaction(db):
        user = grant_role(db, args.user_id, role, regions, now, by=SHELL)
        audit.record(db, actor_id=SHELL, action="grant", subject=f"user:{args.user_id}", now=now,
                     role=role.value, regions=sorted(regions))
    from handlers.core.access import ROLE_NAMES

    scoped = role in (Role.OFFICIAL, Role.STAFF)
    where = f"（{user.scope.describe()}）" if scoped else ""
    print(f"用户 {args.user_id}：{ROLE_NAMES[role]}{where}")
    return 0


def cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Make a user an ordinary (enterprise) user again."""
    from storage import audit
    from storage.clock import utc_now
    from storage.db import transaction
    from storage.users import revoke_role

    now = utc_now()
    with _db(settings) as db, transaction(db):
        user = revoke_role(db, args.user_id, now, by=SHELL)
        if user is not None:
            audit.record(db, actor_id=SHELL, action="revoke", subject=f"user:{args.user_id}",
                         now=now)
    if user is None:
        print(f"lvdong: 没有见过用户 {args.user_id}", file=sys.stderr)
        return 1
    print(f"用户 {args.user_id}：普通企业用户")
    return 0


def _audience(spec: str, kb: Any) -> Any:
    """``all``, ``city:郑州``, ``industry:铸造`` or ``task:13`` → Audience (or an error text)."""
    from storage.audiences import Audience, AudienceKind

    kind, _, value = spec.partition(":")
    if kind == "all" and not value:
        return Audience(AudienceKind.ALL)
    if kind == "city":
        region = normalize_region(value)
        return Audience(AudienceKind.CITY, region) if region else f"不认识的地市 {value!r}"
    if kind == "industry":
        return (Audience(AudienceKind.INDUSTRY, value) if value in kb.industries
                else f"不认识的行业 {value!r}（可选：{'、'.join(kb.industries)}）")
    if kind == "task":
        if not value.isdecimal() or int(value) not in kb.task_numbers:
            return f"没有任务 {value!r}"
        if int(value) not in kb.concern():
            return f"任务{value}不涉及企业"
        return Audience(AudienceKind.TASK, value)
    return "--to 应为 all、city:地市、industry:行业 或 task:编号"


def cmd_notify(args: argparse.Namespace, settings: Settings) -> int:
    """Queue a notice from the shell; the running bot delivers it."""
    from handlers.officials.notices import queue_notice
    from knowledge.loader import load_kb
    from storage.clock import utc_now
    from storage.fields import FieldError, parse_send_time
    from storage.users import PROVINCE

    kb = load_kb(settings.kb_path)
    audience = _audience(args.to, kb)
    if isinstance(audience, str):
        print(f"lvdong: {audience}", file=sys.stderr)
        return 2
    text = args.text.strip()
    if not text:
        print("lvdong: --text 不能为空", file=sys.stderr)
        return 2
    now = utc_now()
    send_at = now
    if args.at:
        when = parse_send_time(args.at, now=now)
        if isinstance(when, FieldError):
            print(f"lvdong: --at: {when.message}", file=sys.stderr)
            return 2
        send_at = when
    with _db(settings) as db:
        notice, count = queue_notice(db, kb, by=SHELL, scope=PROVINCE, audience=audience,
                                     text=text, send_at=send_at, now=now)
    from storage.clock import format_local

    print(f"通知 #{notice.id}：{count}个收件账号，{audience.describe()}，"
          f"北京时间 {format_local(send_at)} 发送（由运行中的机器人送出）")
    return 0


def cmd_notices(args: argparse.Namespace, settings: Settings) -> int:
    """Every notice with its delivery figures, newest first."""
    from handlers.core.telegram_html import to_plain
    from handlers.officials.notices import card
    from storage.clock import utc_now
    from storage.notices import list_notices

    now = utc_now()
    with _db(settings) as db:
        notices = list_notices(db, limit=args.limit)
        if not notices:
            print("没有通知")
        for notice in notices:
            print(to_plain(card(db, notice, now)[0]) + "\n")
    return 0


Command = Callable[[argparse.Namespace, Settings], int]


def add_commands(sub: Any, bind: Callable[[Command], Callable[[argparse.Namespace], int]]) -> None:
    """Register the subcommands; ``bind`` gives each the settings."""
    grant = sub.add_parser("grant", help="在数据库中授予 Telegram 用户角色")
    grant.add_argument("user_id", type=int, help="Telegram 用户 id")
    grant.add_argument("role", choices=["enterprise", "official", "staff", "admin"])
    grant.add_argument("--city", action="append", metavar="CITY",
                       help="业务处室和工作人员负责的地市或县（可重复；"
                            "不写：全省）")
    grant.set_defaults(func=bind(cmd_grant))

    revoke = sub.add_parser("revoke", help="撤销角色，恢复为普通用户")
    revoke.add_argument("user_id", type=int)
    revoke.set_defaults(func=bind(cmd_revoke))

    notify = sub.add_parser("notify", help="排队一条通知，由运行中的机器人发送")
    notify.add_argument("--to", required=True,
                        help="all | city:地市 | industry:行业 | task:N（尚未完成任务N的企业）")
    notify.add_argument("--text", required=True)
    notify.add_argument("--at", help='发送时间（北京时间），如 "2026-12-05 09:00"（默认：立即）')
    notify.set_defaults(func=bind(cmd_notify))

    notices = sub.add_parser("notices", help="所有通知及其送达情况")
    notices.add_argument("--limit", type=int, default=50)
    notices.set_defaults(func=bind(cmd_notices))
