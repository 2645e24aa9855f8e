"""Escaping and fitting replies for Telegram's HTML parse mode."""

from __future__ import annotations

import pytest

from handlers.core.telegram_html import HtmlError, escape, fit, to_plain, utf16_len


@pytest.mark.parametrize(
    "text", ["<b>x</b> & * _", "a < b > c", "&amp;&lt;", "<script>", "x\x00y\x1b", "😀" * 3]
)
def test_escaped_text_parses_back(text: str) -> None:
    plain = to_plain(f"<b>问</b>{escape(text)}")
    assert plain.startswith("问")
    assert "\x00" not in plain and "\x1b" not in plain


@pytest.mark.parametrize(
    "markup", ["<b>x", "x</b>", "<b><i>x</b></i>", "a < b", "a & b", "<blink>x</blink>"]
)
def test_invalid_html_is_rejected_like_telegram(markup: str) -> None:
    with pytest.raises(HtmlError):
        to_plain(markup)


def test_links_render_plainly() -> None:
    assert to_plain('<a href="https://x.cn/a?b=1&amp;c=2">方案</a>') == "方案 (https://x.cn/a?b=1&c=2)"


def test_fit_respects_the_escaped_utf16_budget() -> None:
    text = "&<😀" * 2000
    cut = fit(text, 4096)
    assert utf16_len(escape(cut)) <= 4096
    assert cut.endswith("…")
    assert fit("短", 4096) == "短"
