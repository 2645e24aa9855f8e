"""Shell commands for staff: ``lvdong export``, the Excel ledger (or CSV) of the reports.

The shell works for the whole province; ``--city`` and ``--task`` narrow the ledger.
The file appears whole or not at all: it is written next to its destination and
renamed into place, so a failed export never leaves half a workbook behind.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.cli_officials import Command, _db, _regions
from bot.settings import Settings


def _fail(message: str) -> int:
    print(f"lvdong: {message}", file=sys.stderr)
    return 2


def _tasks(numbers: list[str] | None, known: tuple[int, ...]) -> list[int] | str:
    """The task numbers asked for, or what is wrong with them."""
    out = []
    for text in numbers or ():
        number = text.strip().removeprefix("任务")
        if not number.isdecimal() or int(number) not in known:
            return f"没有任务 {text!r}（任务编号 {known[0]}–{known[-1]}）"
        out.append(int(number))
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write the ledger of the reports (all, or of --city / --task) to --out."""
    from handlers.core.plan import describe_enterprises
    from knowledge.loader import load_kb
    from storage.ledger import LedgerFormat, export_ledger, scratch_dir
    from storage.progress import ReportFilter

    out = Path(args.out)
    if out.is_dir():
        return _fail(f"{out} 是一个目录；--out 应是文件路径，例如 {out / '台账.xlsx'}")
    if _is_database_file(out, Path(settings.db_path)):
        return _fail(f"{out} 是 lvdong 的数据库（或其 -wal/-shm 文件），导出不会写入它；"
                     "请换一个文件名")
    if out.exists() or out.is_symlink():
        return _fail(f"{out} 已存在，导出不会覆盖它；请换一个文件名或先移走它")
    fmt = LedgerFormat(args.format) if args.format else LedgerFormat.of_path(out)
    if fmt is None:
        return _fail(f"看不出 {out.name} 要什么格式：文件名以 .xlsx 或 .csv 结尾，或用 --format")
    regions = _regions(args.city)
    if regions is None:
        return 2
    kb = load_kb(settings.kb_path)
    tasks = _tasks(args.task, kb.task_numbers)
    if isinstance(tasks, str):
        return _fail(tasks)
    if not out.parent.is_dir():
        return _fail(f"目录 {out.parent} 不存在")
    if not Path(settings.db_path).exists():
        return _fail(f"数据库 {settings.db_path} 不存在（LVDONG_DB 或 LVDONG_DATA_DIR 指向哪里？）")
    flt = ReportFilter(regions=frozenset(regions), tasks=frozenset(tasks))
    titles = kb.task_titles
    invitations = _invitations(settings, args.bot_username)
    try:
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.",
                                             suffix=".part")
    except OSError as exc:
        return _fail(f"不能在 {out.parent} 中写文件（{exc.strerror}）")
    try:
        with os.fdopen(handle, "wb") as stream, _db(settings) as db:
            summary = export_ledger(db, flt, stream, task_titles=titles, fmt=fmt,
                                    concern=kb.concern(), invitations=invitations,
                                    describe=describe_enterprises(kb),
                                    scratch=scratch_dir(Path(settings.db_path)))
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's file is private; make it usual
        _place(Path(temporary), out)
    except FileExistsError:
        Path(temporary).unlink(missing_ok=True)
        return _fail(f"{out} 已存在，导出不会覆盖它；请换一个文件名或先移走它")
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        return _fail(f"写 {out} 失败（{exc.strerror or exc}）；没有留下不完整的文件")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(f"{out}: {summary.describe()}")
    return 0


def _place(temporary: Path, out: Path) -> None:
    """Move the finished file to ``out`` without ever replacing a file (FileExistsError):
    a hard link where the file system has them, else an exclusive placeholder."""
    try:
        os.link(temporary, out)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.replace(temporary, out)
        return
    temporary.unlink()


def _is_database_file(out: Path, db_path: Path) -> bool:
    """Whether ``out`` is the database or one of the files SQLite keeps beside it."""
    target = out.resolve()
    database = db_path.resolve()
    companions = {database, *(database.with_name(database.name + suffix)
                              for suffix in ("-wal", "-shm", "-journal"))}
    if target in companions:
        return True
    return out.exists() and db_path.exists() and os.path.samefile(out, db_path)


def add_commands(sub: Any, bind: Callable[[Command], Callable[[argparse.Namespace], int]]) -> None:
    """Register the staff subcommands; ``bind`` gives each the settings."""
    export = sub.add_parser(
        "export", help="导出企业填报的 Excel 台账（或 CSV）",
        description="工作台账：.xlsx 含“最新进展”（每家企业每项任务的最新填报）、"
                    "“填报记录”（全部填报及审核）和“企业”（登记信息）三个工作表；"
                    "或把“最新进展”导出为 CSV（UTF-8，带 BOM）。机器人运行时也可以导出。")
    export.add_argument("--out", required=True, metavar="FILE", help="写入的文件")
    export.add_argument("--city", action="append", metavar="CITY",
                        help="只导出这个地市或县（可重复；默认：全部）")
    export.add_argument("--task", action="append", metavar="N",
                        help="只导出这项任务（可重复；默认：全部）")
    export.add_argument("--format", choices=("xlsx", "csv"),
                        help="xlsx 或 csv（默认：看文件名后缀）")
    export.add_argument("--bot-username", metavar="NAME",
                        help="“邀请链接”列所用的机器人用户名（默认：用 getMe 查询；"
                             "没有令牌时该列为空）")
    export.set_defaults(func=bind(cmd_export))



def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Bring in an enterprise list (.xlsx or .csv); --dry-run only checks it."""
    from bot.cli_officials import SHELL
    from handlers.staff.importing import difference_lines, run_import
    from knowledge.loader import load_kb
    from storage.clock import utc_now
    from storage.db import MEMORY, open_db, open_reader
    from storage.enterprise_invites import load_key
    from storage.roster import MAX_BYTES, BadFile, iter_problem_lines, problem_path
    from storage.users import PROVINCE

    source = Path(args.file)
    if not source.is_file():
        return _fail(f"{source} 不存在或不是文件")
    if source.stat().st_size > MAX_BYTES:
        return _fail(f"{source}：文件超过 {MAX_BYTES // 1024 // 1024} MB 的上限，"
                     "请按地市分成几个文件；没有导入任何内容")
    data = source.read_bytes()
    kb = load_kb(settings.kb_path)
    exists = Path(settings.db_path).exists()
    if args.dry_run:  # writes nothing to the database, not even its schema
        db = open_reader(settings.db_path) if exists else open_db(MEMORY)
    else:
        db = open_db(settings.db_path)
    key = None if args.dry_run else load_key(settings.db_path)
    try:
        outcome = run_import(db, data, source.name, kb=kb, scope=PROVINCE, actor_id=SHELL,
                             now=utc_now(), key=key,
                             valid_for=dt.timedelta(days=settings.enterprise_invite_days),
                             dry_run=args.dry_run)
    except BadFile as exc:
        return _fail(f"{source}：{exc} 没有导入任何内容。")
    finally:
        db.conn.close()
    dry = "（试运行：只检查，没有写入数据库）" if args.dry_run else ""
    print(outcome.summary(source.name) + dry)
    steps = {"read": "读取", "check": "检查", "import": "写入（一个事务）"}
    print("用时：" + "，".join(f"{steps[k]} {v:.1f} 秒" for k, v in outcome.seconds.items()))
    if outcome.problems_xlsx is not None:
        target = problem_path(source)
        target.write_bytes(outcome.problems_xlsx)
        lines = list(iter_problem_lines(outcome.checked.problems))
        print(f"有问题的 {len(lines):,} 行" + ("" if args.dry_run else "没有导入")
              + f"，逐行说明见 {target}（“问题”列）：", file=sys.stderr)
        for line in lines[:SHOWN]:
            print("  " + line, file=sys.stderr)
        if len(lines) > SHOWN:
            print(f"  ……另有 {len(lines) - SHOWN:,} 行", file=sys.stderr)
    if outcome.result is not None and outcome.result.differences:
        print("名单与本平台登记不一致（登记未被覆盖，请核实）：")
        for line in difference_lines(outcome.result.differences):
            print("  " + line)
    return 1 if outcome.checked.problems else 0


SHOWN = 20  # problem lines printed on the terminal (all are in the 问题 copy)


def _bot_username(settings: Settings, given: str | None) -> str | None:
    """The bot's username: --bot-username, else getMe with the token."""
    import asyncio

    if given:
        return given.lstrip("@")
    if not settings.has_token:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    async def ask() -> str | None:
        bot = Bot(settings.token, base_url=settings.api_base_url)
        async with bot:
            return (await bot.get_me()).username

    try:
        return asyncio.run(ask())
    except TelegramError:
        return None


def cmd_invites(args: argparse.Namespace, settings: Settings) -> int:
    """The invitation sheet (and QR codes) of the listed enterprises, or one reissued."""
    from bot.cli_officials import SHELL
    from storage.clock import utc_now
    from storage.db import transaction
    from storage.enterprise_invites import (
        CODE_PREFIX,
        ensure_invites,
        enterprise_of_code,
        link,
        listed_ids,
        load_key,
        reissue,
    )
    from storage.enterprises import find_by_code, get_enterprise
    from storage.invitation_sheet import write_invitations

    if not args.out and not args.reissue:
        return _fail("请给出 --out 邀请.xlsx，或 --reissue 统一社会信用代码")
    username = _bot_username(settings, args.bot_username)
    if username is None:
        return _fail("不知道机器人的用户名：设置 TELEGRAM_BOT_TOKEN（用 getMe 查询），"
                     "或用 --bot-username 指定")
    if not Path(settings.db_path).exists():
        return _fail(f"数据库 {settings.db_path} 不存在（LVDONG_DB 或 LVDONG_DATA_DIR 指向哪里？）")
    key = load_key(settings.db_path)
    now = utc_now()
    valid_for = dt.timedelta(days=settings.enterprise_invite_days)
    if args.reissue:
        with _db(settings) as db:
            if args.reissue.strip().startswith(CODE_PREFIX):  # the link's code itself
                found = enterprise_of_code(db, args.reissue)
                enterprise = get_enterprise(db, found) if found is not None else None
            else:
                enterprise = find_by_code(db, args.reissue)
            if enterprise is None:
                return _fail(f"没有找到 {args.reissue} 对应的企业（统一社会信用代码，或邀请链接中 "
                             f"start= 之后的代码）")
            code = reissue(db, enterprise.id, key=key, by=SHELL, now=now, valid_for=valid_for)
        print(f"{enterprise.credit_code} {enterprise.name}：新的邀请链接（原链接已作废）\n"
              f"{link(username, code)}")
        return 0
    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        return _fail(f"{out.name}：邀请表应为 .xlsx 文件")
    if not out.parent.is_dir():
        return _fail(f"目录 {out.parent} 不存在")
    regions = _regions(args.city)
    if regions is None:
        return 2
    with _db(settings) as db:
        with transaction(db):
            issued = ensure_invites(db, listed_ids(db, frozenset(regions)), key=key, by=SHELL,
                                    now=now, valid_for=valid_for)
        summary = write_invitations(db, out, key=key, username=username, now=now,
                                    regions=frozenset(regions), not_joined=args.not_joined)
    print(f"{out}：{summary.rows:,} 家企业（未加入 {summary.not_joined:,} 家，"
          f"新发放链接 {issued:,} 个）；二维码 {summary.codes:,} 个在 {summary.zip_path}")
    return 0


def _invitations(settings: Settings, given: str | None) -> Any:
    """The ledger's invitation links (None without a known bot username)."""
    from storage.clock import utc_now
    from storage.enterprise_invites import load_key
    from storage.ledger import Invitations

    username = _bot_username(settings, given)
    if username is None or not Path(settings.db_path).exists():
        return None
    return Invitations(load_key(settings.db_path), username, utc_now())


def add_roster_commands(sub: Any,
                        bind: Callable[[Command], Callable[[argparse.Namespace], int]]) -> None:
    """``lvdong import`` and ``lvdong invites``."""
    imp = sub.add_parser(
        "import", help="导入企业名单（.xlsx 或 .csv）",
        description="导入全省（或某市）的企业名单：按表头识别列（企业名称、统一社会信用代码、"
                    "地市；可选 区县、行业、联系人、联系电话）。每行按 /register 的规则检查；"
                    "有问题的行会列出，并写入名单旁的 FILE.问题.xlsx；合格的行导入。"
                    "退出码 0：全部合格；1：部分行未导入；2：整个文件未导入。")
    imp.add_argument("file", metavar="FILE", help="名单文件，.xlsx 或 .csv")
    imp.add_argument("--dry-run", action="store_true",
                     help="只检查：除带“问题”列的副本外不写任何东西")
    imp.set_defaults(func=bind(cmd_import))
    inv = sub.add_parser(
        "invites", help="名单内企业的邀请链接（及二维码）",
        description="每家名单内企业一行，含其邀请链接（https://t.me/<bot>?start=...），"
                    "旁边另存以信用代码命名的二维码 PNG 压缩包；或为一家企业重新生成链接。")
    inv.add_argument("--out", metavar="FILE", help="写入的 .xlsx")
    inv.add_argument("--city", action="append", metavar="CITY",
                     help="只导出这个地市或县（可重复；默认：全部）")
    inv.add_argument("--not-joined", action="store_true",
                     help="只导出尚未加入的企业")
    inv.add_argument("--reissue", metavar="CODE",
                     help="为这个信用代码（或邀请码 ent_...）的企业重新生成链接；"
                          "旧链接随即失效")
    inv.add_argument("--bot-username", metavar="NAME",
                     help="机器人用户名（默认：用 getMe 查询）")
    inv.set_defaults(func=bind(cmd_invites))
