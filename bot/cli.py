"""The ``lvdong`` command line.

Each subcommand is a small function; ``main`` only parses and dispatches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(config_file=getattr(args, "config", None))
    kb = getattr(args, "kb", None)
    if kb:
        settings = Settings(**{**settings.__dict__, "kb_path": Path(kb)})
    return settings


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one question per stdin line with ``-``: the lines are one
    conversation, so a follow-up (那…呢, 哪个处负责？) builds on the line before it."""
    from knowledge.engine import load_engine
    from storage.clock import SHANGHAI

    engine = load_engine(_settings(args).kb_path)
    today = args.today or dt.datetime.now(SHANGHAI).date()
    questions = (line.rstrip("\n") for line in sys.stdin) if args.question == "-" else [
        args.question
    ]
    previous = ""
    for question in questions:
        answer = engine.ask(question, today=today, previous=previous)
        previous = answer.understood
        if args.json:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(answer.text + ("\n\n" if args.question == "-" else "\n"))
        sys.stdout.flush()
    return 0


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Validate a KB file; print every problem as FILE:LINE: message."""
    from knowledge.loader import default_kb_path, validate_file

    path = Path(args.path) if args.path else (_settings(args).kb_path or default_kb_path())
    problems = validate_file(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{path}: OK")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Start the Telegram bot (long polling, or webhook when configured)."""
    from bot.runner import run_bot

    return run_bot(_settings(args))


def cmd_start(args: argparse.Namespace) -> int:
    """The main job: the Telegram bot when a token is set, else the terminal chat."""
    settings = _settings(args)
    if settings.has_token:
        from bot.runner import run_bot

        return run_bot(settings)
    from bot.terminal import run_terminal_chat

    print("lvdong: 未设置 TELEGRAM_BOT_TOKEN，启动终端对话（lvdong chat）。"
          "设置令牌后再运行即连接 Telegram（见 lvdong run）。", file=sys.stderr)
    return run_terminal_chat(settings, role="enterprise", user_id=10001)


def cmd_chat(args: argparse.Namespace) -> int:
    """The whole bot in this terminal, no token, no network."""
    from bot.terminal import run_terminal_chat

    return run_terminal_chat(_settings(args), role=args.as_role, user_id=args.user_id)


def cmd_grant(args: argparse.Namespace) -> int:
    """Give a Telegram user a role (staff of a city, or of the province without --city)."""
    from storage.clock import utc_now
    from storage.db import open_db
    from storage.regions import normalize_region
    from storage.users import Role, grant_role

    city = None
    if args.city:
        city = normalize_region(args.city)
        if city is None:
            print(f"lvdong: 不认识的地市 {args.city!r}（例如 郑州市、济源示范区、巩义市）",
                  file=sys.stderr)
            return 2
    db = open_db(_settings(args).db_path)
    try:
        grant_role(db, args.user_id, Role(args.role), city, utc_now())
    finally:
        db.conn.close()
    where = city or "全省"
    print(f"user {args.user_id}: {args.role}" + (f" ({where})" if args.role == "staff" else ""))
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lvdong", description="绿动: 河南工业污染防治攻坚助手")
    parser.add_argument("--config", type=Path, help="KEY=value settings file (env wins)")
    parser.add_argument("--kb", help="knowledge-base YAML (default: LVDONG_KB or the shipped plan)")
    parser.set_defaults(func=cmd_start)
    sub = parser.add_subparsers(dest="command")

    start = sub.add_parser(
        "start", help="the bot on Telegram if TELEGRAM_BOT_TOKEN is set, else the terminal chat"
    )
    start.set_defaults(func=cmd_start)

    ask = sub.add_parser("ask", help="answer a question ('-' reads one per line from stdin)")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="one JSON object per answer")
    ask.add_argument("--today", type=_date, help="answer as on this day, YYYY-MM-DD "
                     "(default: today in China); deadlines before it are said to have passed")
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate a KB file")
    check.add_argument("path", nargs="?")
    check.set_defaults(func=cmd_kb_check)

    run = sub.add_parser("run", help="start the Telegram bot")
    run.set_defaults(func=cmd_run)

    grant = sub.add_parser("grant", help="give a Telegram user a role in the database")
    grant.add_argument("user_id", type=int, help="the Telegram user id")
    grant.add_argument("role", choices=["enterprise", "official", "staff"])
    grant.add_argument("--city", help="staff of this city or county (default: the province)")
    grant.set_defaults(func=cmd_grant)

    chat = sub.add_parser("chat", help="try the bot in this terminal, without a token")
    chat.add_argument(
        "--as", dest="as_role", default="enterprise",
        choices=["enterprise", "official", "staff", "admin"],
    )
    chat.add_argument("--user-id", type=int, default=10001)
    chat.set_defaults(func=cmd_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"lvdong: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `lvdong ask … | head -1`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
