"""A notice's audience as a sheet: who will get it in chat, and whom to phone.

``/notify``'s preview offers it: the enterprises of the audience, those reached in chat
on one sheet and those nobody has joined for (未加入, see :func:`storage.audiences.contacts`)
on another, with their contact and phone, so an official can phone the ones the notice
cannot reach. Written with the ledger's sheet writer (text never read as a formula).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from storage.audiences import Contact
from storage.ledger import Column, _Sheet, new_workbook

COLUMNS = (Column("地市", 11), Column("企业名称", 36), Column("联系人", 12),
           Column("联系电话", 16))
REACHED = "可送达"
NOT_JOINED = "未加入（需电话联系）"


def contact_sheet(contacts: Sequence[Contact]) -> bytes:
    """The .xlsx of ``contacts``: a sheet of those joined, then one of those not."""
    workbook = new_workbook()
    sheets = [_Sheet(workbook, REACHED, COLUMNS), _Sheet(workbook, NOT_JOINED, COLUMNS)]
    try:
        for contact in contacts:
            sheets[0 if contact.joined else 1].append(
                (contact.city, contact.name, contact.contact_name or None,
                 contact.phone or None))
        for sheet in sheets:
            sheet.close()
        out = io.BytesIO()
        workbook.save(out)
    finally:
        for sheet in sheets:
            sheet.discard()
    return out.getvalue()
