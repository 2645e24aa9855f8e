"""``lvdong doctor``: check a deployment, say what is wrong and how to fix it.

Each check returns :class:`Finding`s. Nothing is changed: the database is opened
without migrating, and only read (``PRAGMA integrity_check``); the Bot API is asked
``getMe`` only. ``lvdong run`` uses :func:`webhook_secret_problem` to refuse an
unprotected webhook.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import quote, urlparse

from sqlite_utils import Database

from bot.settings import Settings

LOW_DISK_BYTES = 64 * 1024 * 1024  # below this, a burst of reports with photos may not fit
API_TIMEOUT = 10.0  # seconds for getMe
# Telegram's rule for secret_token: 1-256 characters of A-Z a-z 0-9 _ -
_SECRET_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
MIN_SECRET_CHARS = 16  # a guessable secret is no secret
SECRET_HOWTO = (
    "生成一个随机值写入 LVDONG_WEBHOOK_SECRET，例如："
    "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


@dataclass(frozen=True)
class Finding:
    area: str  # 设置 | 知识库 | 数据库 | Telegram | Webhook
    ok: bool
    text: str  # what was found, or what is wrong
    fix: str = ""  # what to do (when not ok)


def webhook_secret_problem(settings: Settings) -> Finding | None:
    """Why the webhook secret will not do (webhook mode only), or None.

    Without ``X-Telegram-Bot-Api-Secret-Token`` anyone who finds the webhook URL can
    post updates, e.g. an administrator's 批准 button, so webhook mode requires one.
    """
    secret = settings.webhook_secret
    if not settings.webhook_url:
        return None
    if not secret:
        return Finding("Webhook", False,
                       "webhook 模式必须设置 LVDONG_WEBHOOK_SECRET（否则任何人都能向 webhook "
                       "地址伪造更新），未启动", SECRET_HOWTO)
    if len(secret) > 256 or not _SECRET_CHARS.match(secret):
        return Finding("Webhook", False,
                       "LVDONG_WEBHOOK_SECRET 只能包含 A-Z、a-z、0-9、_ 和 -，最长256个字符"
                       "（Telegram 的规定）", SECRET_HOWTO)
    if len(secret) < MIN_SECRET_CHARS:
        return Finding("Webhook", False,
                       f"LVDONG_WEBHOOK_SECRET 太短（{len(secret)}个字符，至少"
                       f"{MIN_SECRET_CHARS}个）", SECRET_HOWTO)
    return None


def check_webhook(settings: Settings) -> list[Finding]:
    if not settings.webhook_url:
        return [Finding("Webhook", True, "未使用（长轮询 long polling）")]
    findings = []
    problem = webhook_secret_problem(settings)
    findings.append(problem or Finding("Webhook", True, "LVDONG_WEBHOOK_SECRET 已设置"))
    if importlib.util.find_spec("tornado") is None:
        findings.append(Finding("Webhook", False, "缺少 webhook 依赖 tornado",
                                'pip install "python-telegram-bot[webhooks]"'))
    url = urlparse(settings.webhook_url)
    if url.scheme != "https" and "api.telegram.org" in settings.api_base_url:
        findings.append(Finding("Webhook", False,
                                f"LVDONG_WEBHOOK_URL 必须是 https 地址，现在是 {url.scheme}",
                                "Telegram 只向 HTTPS 地址推送；在前面放一个带证书的反向代理。"))
    return findings


def check_kb(settings: Settings) -> list[Finding]:
    from knowledge.loader import default_kb_path, load_kb, validate_file

    path = settings.kb_path or default_kb_path()
    problems = validate_file(path)
    if problems:
        shown = "；".join(str(p) for p in problems[:3])
        more = f"（另有{len(problems) - 3}个）" if len(problems) > 3 else ""
        return [Finding("知识库", False, f"{path} 有{len(problems)}个问题：{shown}{more}",
                        f"修改后用 lvdong kb check {path} 检查；不设 LVDONG_KB 则用内置方案。")]
    kb = load_kb(path)
    return [Finding("知识库", True, f"{path}：{len(kb.tasks)}项任务，{len(kb.facts)}条事实")]


def check_db(settings: Settings) -> list[Finding]:
    from storage.db import unusable
    from storage.migrations import LATEST, check_database, schema_version

    path = settings.db_path
    if not path.exists():
        parent = next(p for p in path.parents if p.exists())
        if os.access(parent, os.W_OK | os.X_OK):
            return [Finding("数据库", True, f"{path} 还不存在，lvdong run 第一次启动时新建")]
        return [Finding("数据库", False, f"{path} 不存在，而目录 {parent} 不可写",
                        "请让运行 lvdong 的用户可写该目录，或用 LVDONG_DB 指向可写的位置。")]
    findings = []
    try:
        # mode=rw: never create; no pragma that writes (no journal_mode change, no migration)
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True)
        try:
            check_database(Database(conn, execute_plugins=False))
            version = schema_version(Database(conn, execute_plugins=False))
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except (sqlite3.Error, RuntimeError) as exc:
        problem = unusable(path, exc)
        return [Finding("数据库", False, f"{path}：{problem.problem}", problem.remedy)]
    size = path.stat().st_size / 1e6
    upgrade = "" if version == LATEST else f"，下次启动时升级到{LATEST}"
    if result == ["ok"]:
        findings.append(Finding("数据库", True, f"{path}：lvdong 数据库，结构版本{version}"
                                               f"{upgrade}，{size:.1f} MB，integrity_check ok"))
    else:
        findings.append(Finding("数据库", False, f"{path}：integrity_check 报告 "
                                                f"{'；'.join(result[:3])}",
                                "请停止 lvdong，保留此文件，从备份恢复（见 README“备份与恢复”）。"))
    if not os.access(path.parent, os.W_OK) or not os.access(path, os.W_OK):
        findings.append(Finding("数据库", False, f"{path} 或其目录不可写",
                                "SQLite 要写数据库和它旁边的 -wal、-shm 文件：请给运行 lvdong "
                                "的用户写权限。"))
    free = shutil.disk_usage(path.parent).free
    if free < LOW_DISK_BYTES:
        findings.append(Finding("数据库", False, f"{path.parent} 所在磁盘只剩 {free / 1e6:.0f} MB",
                                "请腾出磁盘空间；磁盘写满时新的报告无法保存。"))
    return findings


async def check_bot_api(settings: Settings) -> list[Finding]:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError
    from telegram.request import HTTPXRequest

    if not settings.has_token:
        return [Finding("Telegram", False, "没有设置 TELEGRAM_BOT_TOKEN",
                        "在 @BotFather 发送 /newbot 取得令牌，写入 TELEGRAM_BOT_TOKEN。")]
    host = urlparse(settings.api_base_url).netloc or settings.api_base_url
    request = HTTPXRequest(connect_timeout=API_TIMEOUT, read_timeout=API_TIMEOUT)
    bot = Bot(settings.token, base_url=settings.api_base_url, request=request)
    try:
        await request.initialize()
        me = await bot.get_me()  # not bot.initialize(): its InvalidToken quotes the token
    except InvalidToken as exc:
        return [Finding("Telegram", False, f"{host} 不接受这个令牌（{_reason(exc)}）",
                        "令牌写错或已被撤销：在 @BotFather 发送 /mybots 查看当前令牌，"
                        "写入 TELEGRAM_BOT_TOKEN。")]
    except NetworkError as exc:
        return [Finding("Telegram", False, f"连不上 {host}（{_reason(exc)}）",
                        "检查网络、代理和防火墙，以及 TELEGRAM_API_BASE_URL。")]
    except TelegramError as exc:
        return [Finding("Telegram", False, f"{host} 回答 getMe 出错（{_reason(exc)}）",
                        "稍后再试；持续出错请检查 TELEGRAM_API_BASE_URL。")]
    finally:
        await request.shutdown()
    return [Finding("Telegram", True, f"{host}：令牌有效，机器人 @{me.username}（id {me.id}）")]


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def report(findings: Sequence[Finding], out: TextIO) -> int:
    """Print the findings; 0 when all are fine, 1 otherwise."""
    for finding in findings:
        mark = "✓" if finding.ok else "✗"
        print(f"{mark} {finding.area}：{finding.text}", file=out)
        if not finding.ok and finding.fix:
            print(f"    怎么办：{finding.fix}", file=out)
    problems = sum(not f.ok for f in findings)
    print("一切正常。" if not problems else f"发现{problems}个问题。", file=out)
    return 1 if problems else 0


def run_doctor(settings: Settings, out: TextIO) -> int:
    mode = f"webhook {settings.webhook_url}" if settings.webhook_url else "长轮询 (long polling)"
    findings = [Finding("设置", True, f"{mode}；数据库 {settings.db_path}；"
                                      f"日志 {settings.log_level} {settings.log_format}")]
    findings += check_kb(settings)
    findings += check_db(settings)
    findings += asyncio.run(check_bot_api(settings))
    findings += check_webhook(settings)
    return report(findings, out)
