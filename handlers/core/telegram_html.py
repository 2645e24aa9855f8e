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
