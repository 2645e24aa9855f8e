"""The invitation sheet an office prints or mails from: one row per listed enterprise
with its link, and beside it a zip of QR-code PNGs named by credit code
(``邀请.二维码.zip``: ``91410100….png``) for letters and SMS.

QR codes are drawn by segno (pure Python) with a fixed mask pattern: choosing the
best of the eight masks costs four times the drawing (about 5 ms a code) and any
mask is a valid QR code; a fixed one keeps 20,000 codes within the minute.
Both files are written beside their destination and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from sqlite_utils import Database

from storage.clock import SHANGHAI
from storage.enterprise_invites import InviteKey, invite_lines, link
from storage.ledger import Column, Kind, _Sheet

COLUMNS = (Column("地市", 11), Column("区县", 14), Column("企业名称", 32),
           Column("统一社会信用代码", 21), Column("联系人", 10), Column("联系电话", 14),
           Column("加入状态", 9), Column("邀请链接", 60), Column("有效期至", 12, Kind.DATE),
           Column("二维码文件", 26))
QR_MASK = 4  # any of 0–7 is valid; see the module docstring


@dataclass(frozen=True)
class InvitationSummary:
    rows: int
    not_joined: int
    codes: int
    zip_path: Path


def qr_png(url: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", mask=QR_MASK, boost_error=False).save(
        out, kind="png", scale=6, border=2)
    return out.getvalue()


def zip_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}.二维码.zip")


def write_invitations(db: Database, out: Path, *, key: InviteKey, username: str,
                      now: dt.datetime, regions: frozenset[str] = frozenset(),
                      not_joined: bool = False) -> InvitationSummary:
    archive_path = zip_path_for(out)
    sheet_tmp = _temporary(out)
    zip_tmp = _temporary(archive_path)
    rows = waiting = codes = 0
    workbook = Workbook(write_only=True)
    sheet = _Sheet(workbook, "邀请", COLUMNS)
    try:
        with zipfile.ZipFile(zip_tmp, "w", zipfile.ZIP_STORED) as archive:
            for line in invite_lines(db, key=key, now=now, regions=regions,
                                     not_joined=not_joined):
                rows += 1
                url = link(username, line.code) if line.code else None
                png = None
                if url is not None:
                    png = f"{line.credit_code}.png"
                    archive.writestr(png, qr_png(url))
                    codes += 1
                if not line.joined:
                    waiting += 1
                expires = line.expires_at.astimezone(SHANGHAI).date() if line.expires_at else None
                status = "已加入" if line.joined else "未加入"
                sheet.append((line.city, line.county, line.name, line.credit_code,
                              line.contact_name or None, line.phone or None, status,
                              url or ("已使用" if line.used_by else None), expires, png))
        sheet.close()
        workbook.save(sheet_tmp)
        os.replace(zip_tmp, archive_path)
        os.replace(sheet_tmp, out)
    finally:
        sheet.discard()
        for leftover in (sheet_tmp, zip_tmp):
            Path(leftover).unlink(missing_ok=True)
    return InvitationSummary(rows, waiting, codes, archive_path)


def _temporary(target: Path) -> str:
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(handle)
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(name, 0o666 & ~mask)
    return name
