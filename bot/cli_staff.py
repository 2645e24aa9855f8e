"""Shell commands for staff: ``lvdong export``, the Excel ledger (or CSV) of the reports.

The shell works for the whole province; ``--city`` and ``--task`` narrow the ledger.
The file appears whole or not at all: it is written next to its destination and
renamed into place, so a failed export never leaves half a workbook behind.
"""

from __future__ import annotations

import argparse
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
    try:
        handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.",
                                             suffix=".part")
    except OSError as exc:
        return _fail(f"不能在 {out.parent} 中写文件（{exc.strerror}）")
    try:
        with os.fdopen(handle, "wb") as stream, _db(settings) as db:
            summary = export_ledger(db, flt, stream, task_titles=titles, fmt=fmt,
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
        "export", help="write the Excel ledger (or CSV) of the self-reports",
        description="The ledger staff keep (工作台账): an .xlsx with the sheets 最新进展 "
                    "(latest report per enterprise and task), 填报记录 (every report, with "
                    "reviews) and 企业 (registrations); or the 最新进展 sheet as CSV "
                    "(UTF-8 with BOM). Safe while the bot runs.")
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    export.add_argument("--city", action="append", metavar="CITY",
                        help="only this city or county (repeat for several; default: all)")
    export.add_argument("--task", action="append", metavar="N",
                        help="only this task number (repeat for several; default: all)")
    export.add_argument("--format", choices=("xlsx", "csv"),
                        help="xlsx or csv (default: from the file name's suffix)")
    export.set_defaults(func=bind(cmd_export))

