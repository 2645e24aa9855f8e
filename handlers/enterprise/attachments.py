"""Which files a report may carry: photos and PDF documents, few and not too big.

The bytes stay on Telegram; a report keeps each file's ``file_id`` (to send it on
to staff), ``file_unique_id`` (to recognise the same file sent twice), MIME type,
size and name, stored as :class:`storage.reports.Attachment`.

A document's name and MIME type are whatever the sender's phone says, so a file
claiming to be a PDF is fetched (``getFile``, then the download python-telegram-bot
does: the whole file, at most the 20 MB Telegram lets a bot download) and its
leading bytes must be a PDF header: an .exe renamed .pdf is refused. Photos are
re-encoded by Telegram and need no check.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Message
from telegram.error import TelegramError

from storage.fields import FieldError, visible
from storage.reports import Attachment

_LOGGER = logging.getLogger(__name__)

MAX_ATTACHMENTS = 5
MAX_BYTES = 20 * 1024 * 1024  # what a bot can download from Telegram
PDF = "application/pdf"
PDF_MAGIC = b"%PDF-"
HEADER_WINDOW = 1024  # readers accept the header anywhere in the first 1024 bytes


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def attachment_of(message: Message) -> Attachment | FieldError:
    """The attachment a message carries, or why it is not accepted."""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        attachment = Attachment(
            file_id=largest.file_id,
            file_unique_id=largest.file_unique_id,
            kind="photo",
            mime_type="image/jpeg",
            size=largest.file_size,
        )
    elif message.document is not None:
        document = message.document
        name = visible(document.file_name or "").strip()
        is_pdf = document.mime_type == PDF or (
            not document.mime_type and name.lower().endswith(".pdf")
        )
        if not is_pdf:
            shown = name or document.mime_type or "该文件"
            return FieldError(f"只接受照片和PDF文件，“{shown}”不是PDF。请转换为PDF或拍照后发送。")
        attachment = Attachment(
            file_id=document.file_id,
            file_unique_id=document.file_unique_id,
            kind="document",
            mime_type=PDF,
            size=document.file_size,
            file_name=name or None,
        )
    else:
        return FieldError("只接受照片和PDF文件。")
    if attachment.size is not None and attachment.size > MAX_BYTES:
        return FieldError(
            f"文件太大（{_megabytes(attachment.size)}），单个附件不能超过"
            f"{MAX_BYTES // (1024 * 1024)} MB。"
        )
    return attachment


async def check_content(bot: Bot, attachment: Attachment) -> FieldError | None:
    """Why a document's bytes are not what it claims (a PDF), or None. Only ids and
    the error's class are logged, never the file's name."""
    if attachment.kind != "document":
        return None
    try:
        file = await bot.get_file(attachment.file_id)
        head = bytes((await file.download_as_bytearray())[:HEADER_WINDOW])
    except TelegramError as exc:
        _LOGGER.info("attachment %s not checked: %s", attachment.file_unique_id,
                     type(exc).__name__)
        return FieldError("这个文件暂时无法读取，请稍后重新发送。")
    if PDF_MAGIC not in head:
        shown = attachment.file_name or "该文件"
        return FieldError(f"“{shown}”的内容不是PDF格式（可能只是改了扩展名）。"
                          "请导出为PDF或拍照后重新发送。")
    return None


def add_attachment(
    stored: list[dict[str, Any]], attachment: Attachment
) -> list[dict[str, Any]] | FieldError:
    """The draft's attachment list with ``attachment`` added (JSON-able dicts)."""
    if any(item.get("file_unique_id") == attachment.file_unique_id for item in stored):
        return FieldError("这个文件已经添加过了。")
    if len(stored) >= MAX_ATTACHMENTS:
        return FieldError(f"最多只能添加{MAX_ATTACHMENTS}个附件，已经够了。请点“完成”继续。")
    return [*stored, to_json(attachment)]


def to_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "file_id": attachment.file_id,
        "file_unique_id": attachment.file_unique_id,
        "kind": attachment.kind,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "file_name": attachment.file_name,
    }


def from_json(item: dict[str, Any]) -> Attachment:
    return Attachment(
        file_id=str(item["file_id"]),
        file_unique_id=str(item["file_unique_id"]),
        kind=str(item["kind"]),
        mime_type=item.get("mime_type"),
        size=item.get("size"),
        file_name=item.get("file_name"),
    )
