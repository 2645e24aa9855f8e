"""The invitation sheet an office prints or mails from: one row per listed enterprise
with its link, and beside it a zip of QR-code PNGs named by credit code
(``邀请.二维码.zip``: ``91410100….png``) for letters and SMS.

QR codes are encoded by segno (pure Python) with a fixed mask pattern — choosing the
best of the eight masks costs four times the encoding (about 5 ms a code) and any mask
is a valid QR code — and written as 1-bit PNGs here (segno's own PNG writer takes about
twice as long), in worker processes, one per core: bench/bench_import.py has the
figures. Both files are written beside their destination and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from storage.clock import SHANGHAI
from storage.enterprise_invites import InviteKey, invite_lines, link
from storage.ledger import Column, Kind, _Sheet, new_workbook

COLUMNS = (Column("地市", 11), Column("区县", 14), Column("企业名称", 32),
           Column("统一社会信用代码", 21), Column("联系人", 10), Column("联系电话", 14),
           Column("加入状态", 9), Column("邀请链接", 60), Column("有效期至", 12, Kind.DATE),
           Column("二维码文件", 26))
QR_MASK = 4  # any of 0–7 is valid; see the module docstring
QR_SCALE, QR_BORDER = 6, 4  # pixels per module; the quiet zone the standard asks, in modules
_PARALLEL_FROM = 400  # codes from which worker processes pay off


@dataclass(frozen=True)
class InvitationSummary:
    rows: int
    not_joined: int
    codes: int
    zip_path: Path


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a black-and-white PNG."""
    import segno

    matrix = segno.make(url, error="m", mask=QR_MASK, boost_error=False).matrix
    size = len(matrix) + 2 * QR_BORDER
    width = size * QR_SCALE
    dark, light = "0" * QR_SCALE, "1" * QR_SCALE  # 1-bit greyscale: 0 is black
    pad = "1" * (-width % 8)
    quiet = light * QR_BORDER
    blank = _png_row(light * size + pad)
    rows = [blank] * (QR_BORDER * QR_SCALE)
    for line in matrix:
        bits = quiet + "".join(dark if module else light for module in line) + quiet + pad
        rows += [_png_row(bits)] * QR_SCALE
    rows += [blank] * (QR_BORDER * QR_SCALE)
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + _chunk(b"IEND", b""))


def _png_row(bits: str) -> bytes:
    return b"\0" + int(bits, 2).to_bytes(len(bits) // 8, "big")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _qr_chunk(urls: list[str]) -> list[bytes]:
    return [qr_png(url) for url in urls]


def qr_pngs(urls: list[str]) -> Iterator[bytes]:
    """The PNG of each url, in order; in worker processes when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(urls) < _PARALLEL_FROM or workers < 2:
        yield from _qr_chunk(urls)
        return
    size = max(100, len(urls) // (workers * 8))
    chunks = [urls[i:i + size] for i in range(0, len(urls), size)]
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for pngs in pool.map(_qr_chunk, chunks):
            yield from pngs


def zip_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}.二维码.zip")


def write_invitations(db: Database, out: Path, *, key: InviteKey, username: str,
                      now: dt.datetime, regions: frozenset[str] = frozenset(),
                      not_joined: bool = False) -> InvitationSummary:
    archive_path = zip_path_for(out)
    sheet_tmp = _temporary(out)
    zip_tmp = _temporary(archive_path)
    rows = waiting = codes = 0
    workbook = new_workbook()
    sheet = _Sheet(workbook, "邀请", COLUMNS)
    try:
        lines = list(invite_lines(db, key=key, now=now, regions=regions,
                                  not_joined=not_joined))
        urls = {line.enterprise_id: link(username, line.code) for line in lines if line.code}
        for line in lines:
            rows += 1
            url = urls.get(line.enterprise_id)
            waiting += not line.joined
            expires = line.expires_at.astimezone(SHANGHAI).date() if line.expires_at else None
            sheet.append((line.city, line.county, line.name, line.credit_code,
                          line.contact_name or None, line.phone or None,
                          "已加入" if line.joined else "未加入",
                          url or ("已使用" if line.used_by else None), expires,
                          f"{line.credit_code}.png" if url else None))
        with zipfile.ZipFile(zip_tmp, "w", zipfile.ZIP_STORED) as archive:
            coded = [line for line in lines if line.enterprise_id in urls]
            pngs = qr_pngs([urls[line.enterprise_id] for line in coded])
            for line, png in zip(coded, pngs, strict=True):
                archive.writestr(f"{line.credit_code}.png", png)
                codes += 1
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
