"""Telegram's HTML parse mode: build safe messages, and read them back as plain text.

Replies are sent with ``parse_mode=HTML``; every piece of text that came from a
user or from the knowledge base goes through :func:`escape` so that ``<b>``,
``&``, ``*`` or ``_`` in a question can never break a reply. :func:`to_plain`
is the strict reading Telegram applies (unknown tags, unbalanced tags and bare
``&``/``<`` are errors); the local Bot API uses it to reject what Telegram would
reject, and the terminal chat uses it to print messages.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

MAX_MESSAGE_CHARS = 4096  # Telegram's limit, counted after entity parsing, in UTF-16 units
ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
        "tg-spoiler", "span", "blockquote", "tg-emoji",
    }
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-fA-F]{1,6});")
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)')""")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; the message reads like Telegram's."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def clean(text: str) -> str:
    """Drop control and other invisible format characters, keeping newlines and tabs."""
    return "".join(
        ch for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    )


def escape(text: str) -> str:
    """Escape text from a user or the knowledge base for HTML parse mode."""
    return html.escape(clean(text), quote=False)


def fit(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut plain ``text`` so that ``escape(result)`` fits ``limit`` UTF-16 units."""
    if utf16_len(escape(text)) <= limit:
        return text
    budget = limit - utf16_len(ellipsis)
    out: list[str] = []
    used = 0
    for ch in clean(text):
        size = utf16_len(escape(ch))
        if used + size > budget:
            break
        out.append(ch)
        used += size
    return "".join(out).rstrip() + ellipsis


def visible_len(markup: str) -> int:
    """What Telegram's 4096 limit counts: the parsed text's UTF-16 units."""
    return utf16_len(to_plain(markup))


def _as_plain_line(line: str, limit: int) -> str:
    """A line of markup that cannot go as it is (too long, or not valid on its own): its
    text, shortened as plain text first and escaped after, so no cut lands in a tag."""
    try:
        text = to_plain(line)
    except HtmlError:
        text = html.unescape(_TAG.sub("", line))
    return escape(fit(text, limit))


def pack(blocks: Sequence[str], limit: int = MAX_MESSAGE_CHARS,
         sep: str = "\n") -> list[tuple[str, list[int]]]:
    """Messages of at most ``limit`` visible UTF-16 units holding ``blocks`` (each valid
    markup on its own) in order, joined by ``sep``; with each message the indices of the
    blocks that end in it. A block too long for one message is split at its lines, and a
    line too long on its own is shortened as plain text (:func:`_as_plain_line`)."""
    messages: list[tuple[str, list[int]]] = []
    text, used = "", 0  # the message being filled
    ended: list[int] = []
    for index, block in enumerate(blocks):
        if visible_len(block) <= limit:
            pieces = [block]
        else:
            pieces = []
            for line in block.split("\n"):
                try:
                    fits = visible_len(line) <= limit
                except HtmlError:
                    fits = False
                pieces.append(line if fits else _as_plain_line(line, limit))
        for number, piece in enumerate(pieces):
            joint = "\n" if number else sep  # a block's own lines stay together
            size = visible_len(piece)
            if text and used + utf16_len(joint) + size > limit:
                messages.append((text, ended))
                text, used, ended = "", 0, []
            if not text and not piece.strip():
                continue  # a message never starts with a blank line
            text = f"{text}{joint}{piece}" if text else piece
            used = visible_len(text)
        ended.append(index)
    if text or ended:
        messages.append((text or "…", ended))
    return messages


def fit_lines(lines: Sequence[str], limit: int, more: str = "……") -> str:
    """Whole lines of markup while they fit ``limit`` visible UTF-16 units, then ``more``
    (a list cut short never cuts a line, a tag or an entity in half)."""
    kept: list[str] = []
    used = 0
    for line in lines:
        size = visible_len(line) + 1
        if used + size > limit - utf16_len(more) - 1:
            kept.append(more)
            break
        kept.append(line)
        used += size
    return "\n".join(kept)


def to_plain(markup: str) -> str:
    """Parse Telegram HTML into the text a user sees; raise :class:`HtmlError` like Telegram.

    Links render as ``text (url)`` so the terminal can show them.
    """
    out: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag, href)
    link_start: list[int] = []
    pos = 0
    while pos < len(markup):
        ch = markup[pos]
        if ch == "<":
            match = _TAG.match(markup, pos)
            if not match:
                raise HtmlError(
                    f"Can't parse entities: unexpected end of name token at byte offset {pos}"
                )
            closing, tag, attrs = match.group(1), match.group(2).lower(), match.group(3)
            if tag not in ALLOWED_TAGS:
                kind = "end" if closing else "start"
                raise HtmlError(
                    f'Can\'t parse entities: unsupported {kind} tag "{tag}" at byte offset {pos}'
                )
            if closing:
                if not stack or stack[-1][0] != tag:
                    raise HtmlError(
                        f'Can\'t parse entities: can\'t find start tag corresponding to end '
                        f'tag "{tag}"'
                    )
                _, href = stack.pop()
                if tag == "a":
                    start = link_start.pop()
                    if href and href != "".join(out[start:]):
                        out.append(f" ({href})")
            else:
                href_match = _HREF.search(attrs) if tag == "a" else None
                href = (href_match.group(1) or href_match.group(2) or "") if href_match else ""
                stack.append((tag, html.unescape(href)))
                if tag == "a":
                    link_start.append(len(out))
            pos = match.end()
        elif ch == "&":
            match = _ENTITY.match(markup, pos)
            if not match:
                raise HtmlError(
                    f"Can't parse entities: unsupported entity at byte offset {pos}; "
                    "write & as &amp;"
                )
            out.append(html.unescape(match.group(0)))
            pos = match.end()
        elif ch == ">":
            out.append(ch)  # Telegram tolerates a bare '>'
            pos += 1
        else:
            nxt = pos
            while nxt < len(markup) and markup[nxt] not in "<&>":
                nxt += 1
            out.append(markup[pos:nxt])
            pos = nxt
    if stack:
        raise HtmlError(
            "Can't parse entities: can't find end tag corresponding to start tag "
            f'"{stack[-1][0]}"'
        )
    return "".join(out)
