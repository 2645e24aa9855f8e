"""Time helpers, and nothing else.

Every timestamp that reaches the database goes through :func:`to_db`, which
stores it as UTC ISO-8601 *with* its offset and a fixed number of digits, so
that the stored text is unambiguous and sorts in time order as plain text.
Storage functions never read the system clock: they are handed ``now`` by the
caller, which makes every time-dependent behaviour testable.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def utc_now() -> dt.datetime:
    """The production clock, for the bot to pass down as ``now`` (storage never calls it)."""
    return dt.datetime.now(UTC)


def require_aware(ts: dt.datetime) -> dt.datetime:
    """Reject naive datetimes: a naive value could mean UTC or Beijing time, and guessing
    wrong shifts every deadline by eight hours."""
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed: {ts!r}")
    return ts


def to_db(ts: dt.datetime) -> str:
    """Serialise an aware datetime as fixed-width UTC ISO-8601, e.g.
    ``2021-06-01T02:00:00.000000+00:00``; fixed width keeps text order equal to time order."""
    return require_aware(ts).astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str) -> dt.datetime:
    """Parse a stored timestamp back into an aware UTC datetime."""
    return require_aware(dt.datetime.fromisoformat(text)).astimezone(UTC)


def to_local(ts: dt.datetime | str) -> dt.datetime:
    """The same instant in Beijing time, for showing to users."""
    value = from_db(ts) if isinstance(ts, str) else require_aware(ts)
    return value.astimezone(SHANGHAI)


def format_local(ts: dt.datetime | str) -> str:
    """A short Beijing-time rendering such as ``2021-12-31 18:05`` for messages."""
    return to_local(ts).strftime("%Y-%m-%d %H:%M")


def local_today(now: dt.datetime) -> dt.date:
    """The calendar date in Henan at instant ``now``: deadlines are Beijing dates,
    and between 00:00 and 08:00 Beijing time the UTC date is still yesterday."""
    return to_local(now).date()
