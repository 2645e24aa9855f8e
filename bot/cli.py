"""The ``lvdong`` command line.

Each subcommand is a small function; ``main`` only parses and dispatches.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.cli_officials import add_commands
from bot.settings import Settings, SettingsError, load_settings

DEFAULT_CHAT_USER = 10001  # the user `lvdong chat` plays unless --user-id says otherwise


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(config_file=getattr(args, "config", None))
    kb = getattr(args, "kb", None)
    if kb:
        settings = Settings(**{**settings.__dict__, "kb_path": Path(kb)})
    return settings


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question, or one question per stdin line with ``--json -``."""
    from knowledge.engine import load_engine

    engine = load_engine(_settings(args).kb_path)
    if args.question == "-":
        out = sys.stdout
        for line in sys.stdin:
            answer = engine.ask(line.rstrip("\n"))
            if args.json:
                out.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
            else:
                out.write(answer.text + "\n\n")
            out.flush()
        return 0
    answer = engine.ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.text)
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
    return run_terminal_chat(settings, role=None, user_id=DEFAULT_CHAT_USER)


def cmd_chat(args: argparse.Namespace) -> int:
    """The whole bot in this terminal, no token, no network."""
    from bot.terminal import run_terminal_chat

    return run_terminal_chat(_settings(args), role=args.as_role, user_id=args.user_id)


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
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate a KB file")
    check.add_argument("path", nargs="?")
    check.set_defaults(func=cmd_kb_check)

    run = sub.add_parser("run", help="start the Telegram bot")
    run.set_defaults(func=cmd_run)

    add_commands(sub, lambda command: lambda args: command(args, _settings(args)))

    chat = sub.add_parser(
        "chat", help="try the bot in this terminal, without a token",
        description="The whole bot in this terminal: no token, no network, the same "
                    "database as `lvdong run`. Buttons are lettered [a], [b] ...: type the "
                    "letter to press one; a typed number is always text. Log records go to "
                    "lvdong-chat.log next to the database.",
    )
    chat.add_argument(
        "--as", dest="as_role", default=None, metavar="ROLE",
        choices=["enterprise", "official", "staff", "admin"],
        help="who you are: enterprise, official, staff or admin. Default: the role the "
             "database gives --user-id. The chat never writes a role: 'admin' holds for "
             "this session only (like LVDONG_ADMINS); any other role must be the stored "
             "one, else the chat refuses to start (grant it with `lvdong grant`).",
    )
    chat.add_argument(
        "--user-id", type=int, default=DEFAULT_CHAT_USER, metavar="N",
        help=f"the Telegram user id you play (default {DEFAULT_CHAT_USER}); the id of a real "
             "user means acting as that user on the shared database",
    )
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
