"""Settings, read from the environment (and an optional ``KEY=value`` config file).

The environment wins over the file, so a deployment can override one value
without editing the file. The token is kept out of ``repr`` so it never lands
in a log line or a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "lvdong"


class SettingsError(ValueError):
    """A setting has a value lvdong cannot use; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    token: str = field(default="", repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    db_path: Path = DEFAULT_DATA_DIR / "lvdong.sqlite"
    admins: frozenset[int] = frozenset()
    kb_path: Path | None = None  # None: the shipped plan
    webhook_url: str = ""  # empty: long polling
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = field(default="", repr=False)  # X-Telegram-Bot-Api-Secret-Token
    flood_burst: int = 6  # questions a user may send in a burst
    flood_per_minute: float = 20.0  # sustained questions per minute per user
    max_concurrent_updates: int = 64  # across users; one user's updates stay in order
    user_backlog: int = 8  # one user's updates held at once; beyond: "慢一点", dropped
    dialog_timeout: float = 1800.0  # seconds of silence after which a dialog is closed
    max_rate: float = 30.0  # messages a second, replies and outbox together (Telegram: ~30)
    send_rate: float = 25.0  # messages a second the outbox may take of that
    outbox_concurrency: int = 8  # outbox sends in flight at once (bounds "uncertain")
    reminder_time: dt.time = dt.time(9, 0)  # Beijing time of the daily reminders
    reminder_days: tuple[int, ...] = (30, 7, 1)  # days before a deadline to remind
    reminder_catchup_days: int = 7  # a missed reminder older than this is not sent
    invite_hours: float = 72.0  # how long an invitation link stays valid
    enterprise_invite_days: float = 90.0  # how long an enterprise's invitation link stays valid
    log_level: str = "INFO"  # DEBUG | INFO | WARNING | ERROR (lvdong's own loggers)
    log_format: str = "text"  # text | json (one JSON object per line)

    @property
    def has_token(self) -> bool:
        return bool(self.token.strip())


def read_config_file(path: Path) -> dict[str, str]:
    """Parse ``KEY=value`` lines; ``#`` starts a comment. Errors name file and line."""
    values: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{lineno}: expected KEY=value, got {line[:40]!r}")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _parse_admins(raw: str) -> frozenset[int]:
    admins = set()
    for part in raw.replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdecimal():
            raise SettingsError(f"LVDONG_ADMINS: {part!r} is not a Telegram user id (digits)")
        admins.add(int(part))
    return frozenset(admins)


def _positive(merged: Mapping[str, str], key: str, default: str, *, integer: bool = False) -> float:
    raw = (merged.get(key) or default).strip()
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingsError(f"{key}: {raw!r} is not {kind}") from None
    if value <= 0:
        raise SettingsError(f"{key}: must be greater than 0, got {raw!r}")
    return float(value)


def _time(merged: Mapping[str, str], key: str, default: str) -> dt.time:
    raw = (merged.get(key) or default).strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise SettingsError(f"{key}: {raw!r} is not a time of day like 09:00")
    return dt.time(int(match[1]), int(match[2]))


def _days(merged: Mapping[str, str], key: str, default: str) -> tuple[int, ...]:
    raw = (merged.get(key) or default).replace("，", ",")
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or not all(part.isdecimal() and 0 < int(part) <= 366 for part in parts):
        raise SettingsError(f"{key}: {raw!r} should be days before a deadline, like 30,7,1")
    return tuple(sorted({int(part) for part in parts}, reverse=True))


def load_settings(
    environ: Mapping[str, str] | None = None, config_file: Path | None = None
) -> Settings:
    """Build settings from ``environ`` (default ``os.environ``) over an optional config file."""
    env = dict(os.environ if environ is None else environ)
    config = env.get("LVDONG_CONFIG")
    path = config_file or (Path(config) if config else None)
    merged = {**(read_config_file(path) if path else {}), **env}

    data_dir = Path(merged.get("LVDONG_DATA_DIR") or DEFAULT_DATA_DIR)
    kb = merged.get("LVDONG_KB", "").strip()
    port = merged.get("LVDONG_WEBHOOK_PORT", "8443").strip()
    if not port.isdecimal():
        raise SettingsError(f"LVDONG_WEBHOOK_PORT: {port!r} is not a port number")
    burst = _positive(merged, "LVDONG_FLOOD_BURST", "6", integer=True)
    per_minute = _positive(merged, "LVDONG_FLOOD_PER_MINUTE", "20")
    concurrency = _positive(merged, "LVDONG_CONCURRENCY", "64", integer=True)
    dialog_timeout = _positive(merged, "LVDONG_DIALOG_TIMEOUT", "1800")
    max_rate = _positive(merged, "LVDONG_MAX_RATE", "30")
    send_rate = _positive(merged, "LVDONG_SEND_RATE", "25")
    if send_rate > max_rate:
        raise SettingsError(
            f"LVDONG_SEND_RATE ({send_rate:g}) cannot exceed LVDONG_MAX_RATE ({max_rate:g})")
    return Settings(
        token=merged.get("TELEGRAM_BOT_TOKEN", "").strip(),
        api_base_url=merged.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL,
        db_path=Path(merged.get("LVDONG_DB") or data_dir / "lvdong.sqlite"),
        admins=_parse_admins(merged.get("LVDONG_ADMINS", "")),
        kb_path=Path(kb) if kb else None,
        webhook_url=merged.get("LVDONG_WEBHOOK_URL", "").strip(),
        webhook_listen=merged.get("LVDONG_WEBHOOK_LISTEN", "127.0.0.1").strip(),
        webhook_port=int(port),
        webhook_secret=merged.get("LVDONG_WEBHOOK_SECRET", "").strip(),
        flood_burst=int(burst),
        flood_per_minute=per_minute,
        max_concurrent_updates=int(concurrency),
        user_backlog=int(_positive(merged, "LVDONG_USER_BACKLOG", "8", integer=True)),
        dialog_timeout=dialog_timeout,
        max_rate=max_rate,
        send_rate=send_rate,
        outbox_concurrency=int(_positive(merged, "LVDONG_OUTBOX_CONCURRENCY", "8", integer=True)),
        reminder_time=_time(merged, "LVDONG_REMINDER_TIME", "09:00"),
        reminder_days=_days(merged, "LVDONG_REMINDER_DAYS", "30,7,1"),
        reminder_catchup_days=int(
            _positive(merged, "LVDONG_REMINDER_CATCHUP_DAYS", "7", integer=True)),
        invite_hours=_positive(merged, "LVDONG_INVITE_HOURS", "72"),
        enterprise_invite_days=_positive(merged, "LVDONG_ENTERPRISE_INVITE_DAYS", "90"),
        log_level=_choice(merged, "LVDONG_LOG_LEVEL", LOG_LEVELS, "INFO").upper(),
        log_format=_choice(merged, "LVDONG_LOG_FORMAT", LOG_FORMATS, "text").lower(),
    )


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")


def _choice(merged: Mapping[str, str], key: str, allowed: tuple[str, ...], default: str) -> str:
    raw = (merged.get(key) or default).strip()
    if raw.lower() not in {a.lower() for a in allowed}:
        raise SettingsError(f"{key}: {raw!r} is not one of {', '.join(allowed)}")
    return raw
