"""Which files a report may carry: photos and PDF documents, few and not too big.

The bytes stay on Telegram; a report keeps each file's ``file_id`` (to send it on
to staff), ``file_unique_id`` (to recognise the same file sent twice), MIME type,
size and name, stored as :class:`storage.reports.Attachment`.
"""

from __future__ import annotations

from typing import Any

from telegram import Message

from storage.fields import FieldError
from storage.reports import Attachment

MAX_ATTACHMENTS = 5
MAX_BYTES = 20 * 1024 * 1024  # what a bot can download from Telegram
PDF = "application/pdf"


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
        name = document.file_name or ""
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
