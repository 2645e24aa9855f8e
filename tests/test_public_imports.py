"""Production code imports only python-telegram-bot's public modules: a private one
(``telegram.ext._utils.types``, ``telegram._bot`` ...) may change in any minor release."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge", "storage")
# "import telegram._x", "from telegram.ext._x import", "from telegram._x.y import" ...
PRIVATE = re.compile(r"^\s*(?:from|import)\s+telegram(?:\.\w+)*\._", re.M)


def test_no_private_telegram_modules_are_imported() -> None:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    assert len(files) > 50
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        for path in files
        for text in [path.read_text(encoding="utf-8")]
        for match in PRIVATE.finditer(text)
    ]
    assert found == []
    assert PRIVATE.search("from telegram.ext._utils.types import CDCData")
    assert PRIVATE.search("import telegram._bot")
    assert not PRIVATE.search("from telegram.ext import BasePersistence")
