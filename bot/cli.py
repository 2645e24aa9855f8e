"""The ``lvdong`` command line.

Each subcommand is a small function; ``main`` only parses and dispatches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.cli_officials import Command, add_commands
from bot.cli_staff import add_commands as add_staff_commands
from bot.cli_staff import add_roster_commands
from bot.settings import Settings, SettingsError, load_settings
from knowledge.learned import LearnedQuestions
from knowledge.loader import KBError
from storage.db import DatabaseUnusable

DEFAULT_CHAT_USER = 10001  # the user `lvdong chat` plays unless --user-id says otherwise


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

    settings = _settings(args)
    engine = load_engine(settings.kb_path)
    engine.learned = _taught_questions(settings.db_path)
    today = args.today or dt.datetime.now(SHANGHAI).date()
    questions = (line.rstrip("\n") for line in sys.stdin) if args.question == "-" else [
        args.question
    ]
    previous = ""
    for question in questions:
        if args.explain:
            sys.stdout.write(engine.explain(question, previous) + "\n")
        answer = engine.ask(question, today=today, previous=previous)
        previous = answer.understood
        if args.json:
            sys.stdout.write(json.dumps(answer.to_json(), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(answer.text + ("\n\n" if args.question == "-" else "\n"))
        sys.stdout.flush()
    return 0


def _taught_questions(db_path: Path) -> LearnedQuestions:
    """The questions staff taught in the bot (/unanswered), when its database exists: the
    terminal answers them as the bot does. Nothing is created when there is none."""
    from storage.db import open_db
    from storage.learned import learned

    if not db_path.exists():
        return LearnedQuestions()
    try:
        db = open_db(db_path)
    except DatabaseUnusable:
        return LearnedQuestions()
    try:
        return LearnedQuestions((item.normalized, item.fact_id) for item in learned(db))
    finally:
        db.conn.close()


def cmd_kb_check(args: argparse.Namespace) -> int:
    """Validate a KB file; print every problem as FILE:LINE: message."""
    from knowledge.loader import default_kb_path, validate_file

    path = Path(args.path) if args.path else (_settings(args).kb_path or default_kb_path())
    problems = validate_file(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{path}：{len(problems)}个问题", file=sys.stderr)
        return 1
    print(f"{path}：OK，没有问题")
    return 0


def cmd_kb_learned(args: argparse.Namespace) -> int:
    """The questions staff taught (/unanswered) as YAML, to merge into the knowledge base."""
    from handlers.staff.unanswered import learned_yaml
    from storage.db import open_db

    db = open_db(_settings(args).db_path)
    try:
        text = learned_yaml(db)
    finally:
        db.conn.close()
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(args.out).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"lvdong: 无法写入 {args.out}：{exc.strerror}", file=sys.stderr)
        return 2
    print(f"{args.out}：{text.count('- fact:')}个条目有工作人员关联的问法")
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


def cmd_backup(args: argparse.Namespace) -> int:
    """A consistent copy of the database (safe while the bot runs); see storage.backup."""
    from storage.backup import BackupError, backup_database, backup_target
    from storage.clock import to_local, utc_now

    settings = _settings(args)
    target = backup_target(Path(args.path), to_local(utc_now()))  # named in Beijing time
    try:
        result = backup_database(settings.db_path, target)
    except BackupError as exc:
        print(f"lvdong: {exc}", file=sys.stderr)
        return 2
    print(f"{settings.db_path} → {result.target}：{result.pages}页，"
          f"{result.bytes / 1e6:.1f} MB，integrity_check ok，用时 {result.seconds:.2f} 秒"
          f"（复制 {result.copy_seconds:.2f} 秒）")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check settings, knowledge base, database, Bot API and webhook; 1 if anything is wrong."""
    from bot.doctor import Finding, report, run_doctor

    try:
        settings = _settings(args)
    except SettingsError as exc:
        return report([Finding("设置", False, str(exc), "改正这个设置（环境变量或配置文件）。")],
                      sys.stdout)
    if args.confirm_clock:
        confirm_clock(settings)
    return run_doctor(settings, sys.stdout)


def confirm_clock(settings: Settings) -> None:
    """``lvdong doctor --confirm-clock``: accept this machine's time as the reminders'
    clock after a jump (the bot waits for this, or an admin's /clock 确认)."""
    from storage.clock import format_local, utc_now
    from storage.db import open_db
    from storage.reminders import clock_mark, set_clock_mark

    db = open_db(settings.db_path)
    try:
        before, now = clock_mark(db), utc_now()
        with db.conn:
            set_clock_mark(db, now)
    finally:
        db.conn.close()
    shown = format_local(before) if before else "从未运行"
    print(f"提醒时钟已确认为 {format_local(now)}（之前：{shown}）。")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lvdong", description="绿动: 河南工业污染防治攻坚助手")
    parser.add_argument("--config", type=Path, help="KEY=value 格式的设置文件（环境变量优先）")
    parser.add_argument("--kb", help="知识库 YAML（默认：LVDONG_KB，或随附的方案）")
    parser.set_defaults(func=cmd_start)
    sub = parser.add_subparsers(dest="command")

    start = sub.add_parser(
        "start", help="设置了 TELEGRAM_BOT_TOKEN 时在 Telegram 上运行机器人，否则进入终端对话"
    )
    start.set_defaults(func=cmd_start)

    ask = sub.add_parser("ask", help="回答问题（'-'：从标准输入逐行读取）")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="每个回答输出一个 JSON 对象")
    ask.add_argument("--explain", action="store_true", help="每个回答前说明如何得出："
                     "问题的解析结果、给出回答的环节、得分最高的候选")
    ask.add_argument("--today", type=_date, help="按这一天作答，YYYY-MM-DD"
                     "（默认：北京时间今天）；此前的期限说成已过")
    ask.set_defaults(func=cmd_ask)

    kb = sub.add_parser("kb", help="知识库工具")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="检查知识库文件")
    check.add_argument("path", nargs="?")
    check.set_defaults(func=cmd_kb_check)
    taught = kb_sub.add_parser("learned", help="工作人员关联过的问题，导出为知识库用的 YAML")
    taught.add_argument("--out", default="-", help="写入的文件（默认：标准输出）")
    taught.set_defaults(func=cmd_kb_learned)

    run = sub.add_parser("run", help="启动 Telegram 机器人")
    run.set_defaults(func=cmd_run)

    backup = sub.add_parser("backup", help="安全地备份数据库（机器人运行时也可以）")
    backup.add_argument("path", help="新文件，或存放带时间戳文件的目录")
    backup.set_defaults(func=cmd_backup)

    doctor = sub.add_parser("doctor", help="检查部署，并说明问题如何解决")
    doctor.add_argument("--confirm-clock", action="store_true",
                        help="时钟跳变后，确认以本机时间继续安排提醒")
    doctor.set_defaults(func=cmd_doctor)

    def bind(command: Command) -> Callable[[argparse.Namespace], int]:
        return lambda args: command(args, _settings(args))

    add_commands(sub, bind)
    add_staff_commands(sub, bind)
    add_roster_commands(sub, bind)

    chat = sub.add_parser(
        "chat", help="在终端里试用机器人，不需要令牌",
        description="在终端里运行完整的机器人：不需要令牌、不联网，与 `lvdong run` 使用"
                    "同一个数据库。按钮标为 [a]、[b] ……：输入字母即按下该按钮；输入的数字"
                    "总是文字。日志写入数据库旁的 lvdong-chat.log。",
    )
    chat.add_argument(
        "--as", dest="as_role", default=None, metavar="ROLE",
        choices=["enterprise", "official", "staff", "admin"],
        help="您的身份：enterprise、official、staff 或 admin。默认：数据库中 --user-id 的"
             "角色。终端对话从不写入角色：admin 只在本次对话有效（如同 LVDONG_ADMINS）；"
             "其他角色必须与数据库中的一致，否则不启动（先用 `lvdong grant` 授予）。",
    )
    chat.add_argument(
        "--user-id", type=int, default=DEFAULT_CHAT_USER, metavar="N",
        help=f"您扮演的 Telegram 用户 id（默认 {DEFAULT_CHAT_USER}）；填真实用户的 id，"
             "即在共用的数据库上以该用户身份操作",
    )
    chat.set_defaults(func=cmd_chat)
    return parser


def _kb_problem(exc: KBError) -> str:
    path = exc.problems[0].path if exc.problems else "?"
    return (f"知识库 {path} 有{len(exc.problems)}个问题，未启动：\n{exc}\n"
            f"修改后用 lvdong kb check {path} 检查；不设 LVDONG_KB（也不用 --kb）则使用内置方案。")


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand. A start-up problem (settings, knowledge base, database) is one
    paragraph naming the file and what to do, and exit code 2; never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (SettingsError, DatabaseUnusable) as exc:
        print(f"lvdong: {exc}", file=sys.stderr)
        return 2
    except KBError as exc:
        print(f"lvdong: {_kb_problem(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `lvdong ask … | head -1`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
