"""``lvdong chat``: the whole bot in this terminal, with no token and no network.

The same ``Application`` and handlers as ``lvdong run`` talk to the in-process
:class:`~bot.local_api.LocalBotApi`; this module only plays the Telegram client:
it turns what you type into updates and prints what the bot sends. Inline
buttons are shown as ``[1] …`` and pressed by typing ``1`` (or ``#1``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from typing import Any, TextIO

from bot.app import build_application, update_processor
from bot.lifecycle import polling
from bot.local_api import ApiCall, LocalBotApi, LocalRequest
from bot.settings import Settings
from handlers.core.context import system_clock
from handlers.core.telegram_html import HtmlError, to_plain

BANNER = (
    "绿动 · 终端对话（本地模拟 Telegram，无需令牌、不联网）\n"
    "身份：{role}（用户 {user_id}）；数据库：{db}\n"
    "直接输入问题或 /命令；输入按钮编号（如 1 或 #1）点按钮；/quit 或 Ctrl-D 退出。\n"
)
QUIT = frozenset({"/quit", "/exit", "/q"})
REPLY_WAIT = 15.0  # seconds to wait for the bot to finish with one input


@dataclasses.dataclass
class TerminalClient:
    """Plays the Telegram app for one user against a :class:`LocalBotApi`."""

    api: LocalBotApi
    user_id: int
    out: TextIO
    buttons: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (msg id, data)
    seen_calls: int = 0

    def input_to_update(self, line: str) -> int | None:
        """Turn one typed line into an update; None if nothing was sent."""
        choice = line.removeprefix("#").strip()
        pressed = line.strip().startswith("#")
        if choice.isdigit() and self.buttons and (
            pressed or len(choice) == 1 or int(choice) <= len(self.buttons)
        ):  # a longer number that is no button (a phone, a percentage) is typed text
            index = int(choice) - 1
            if not 0 <= index < len(self.buttons):
                self.out.write(f"（没有按钮 {choice}，可选 1–{len(self.buttons)}）\n")
                return None
            message_id, data = self.buttons[index]
            return self.api.click(self.user_id, self.user_id, message_id, data)
        return self.api.send_text(self.user_id, line, first_name="终端用户")

    def print_new(self) -> None:
        """Print what the bot did since the last call."""
        calls = self.api.calls[self.seen_calls:]
        self.seen_calls = len(self.api.calls)
        for call in calls:
            self._print_call(call)
        self.out.flush()

    def _print_call(self, call: ApiCall) -> None:
        params = call.params
        if params.get("chat_id") not in (None, self.user_id):
            return
        if call.method == "sendMessage":
            self.out.write("\n绿动> " + _plain(params) + "\n")
            self._show_buttons(call, params.get("reply_markup"))
        elif call.method == "editMessageText":
            self.out.write("\n绿动（修改了消息）> " + _plain(params) + "\n")
            self._show_buttons(call, params.get("reply_markup"))
        elif call.method == "editMessageReplyMarkup":
            if params.get("reply_markup"):
                self.out.write("（按钮已更新）\n")
                self._show_buttons(call, params.get("reply_markup"))
        elif call.method == "answerCallbackQuery" and params.get("text"):
            self.out.write(f"  〔提示〕{params['text']}\n")
        elif call.method in ("sendDocument", "sendPhoto"):
            caption = params.get("caption") or ""
            self.out.write(f"\n绿动> 〔发送了文件〕{caption}\n")

    def _show_buttons(self, call: ApiCall, markup: Any) -> None:
        rows = (markup or {}).get("inline_keyboard") or []
        if not rows:
            if call.method == "sendMessage":
                self.buttons = []  # a new prompt without buttons: digits are typed text
            return
        message_id = self._message_id_of(call)
        self.buttons = []
        for row in rows:
            cells = []
            for button in row:
                if "callback_data" in button and message_id is not None:
                    self.buttons.append((message_id, str(button["callback_data"])))
                    cells.append(f"[{len(self.buttons)}] {button['text']}")
                elif "url" in button:
                    cells.append(f"{button['text']} ({button['url']})")
            if cells:
                self.out.write("  " + "   ".join(cells) + "\n")

    def _message_id_of(self, call: ApiCall) -> int | None:
        if "message_id" in call.params:
            return int(call.params["message_id"])
        # a sendMessage: the newest bot message in this chat with this keyboard
        for (chat_id, message_id), message in reversed(self.api.messages.items()):
            if chat_id == self.user_id and message.get("from", {}).get("id") == self.api.bot_id:
                return message_id
        return None


def _plain(params: dict[str, Any]) -> str:
    text = str(params.get("text") or "")
    if str(params.get("parse_mode") or "").upper() == "HTML":
        try:
            return to_plain(text)
        except HtmlError:
            return text
    return text


def _grant(settings: Settings, db: Any, role: str, user_id: int) -> Settings:
    """Give the local user ``role``: admins through settings, other roles in the DB."""
    from storage.users import Role, grant_role

    if role == Role.ADMIN.value:
        return dataclasses.replace(settings, admins=settings.admins | {user_id})
    grant_role(db, user_id, Role(role), (), system_clock())
    return settings


async def chat(
    settings: Settings, *, role: str, user_id: int, stdin: TextIO, stdout: TextIO
) -> int:
    from knowledge.engine import load_engine
    from storage.db import open_db

    engine = load_engine(settings.kb_path)
    db = open_db(settings.db_path)
    settings = _grant(dataclasses.replace(settings, token=""), db, role, user_id)
    api = LocalBotApi()
    application = build_application(
        settings, engine=engine, db=db,
        request=LocalRequest(api), get_updates_request=LocalRequest(api),
    )
    processed: dict[int, asyncio.Event] = {}

    def on_processed(update: object) -> None:
        event = processed.get(getattr(update, "update_id", -1))
        if event is not None:
            event.set()

    update_processor(application).listeners.append(on_processed)
    client = TerminalClient(api, user_id, stdout)
    interactive = stdin.isatty()
    stdout.write(BANNER.format(role=role, user_id=user_id, db=settings.db_path))
    loop = asyncio.get_running_loop()
    async with polling(application, poll_timeout=1.0):
        client.print_new()
        while True:
            if interactive:
                stdout.write("\n你> ")
                stdout.flush()
            line = await loop.run_in_executor(None, stdin.readline)
            if not line:  # Ctrl-D / end of input
                break
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if not interactive:
                stdout.write(f"\n你> {line}\n")
            if line.strip() in QUIT:
                break
            update_id = client.input_to_update(line)
            if update_id is None:
                continue
            event = processed.setdefault(update_id, asyncio.Event())
            try:
                await asyncio.wait_for(event.wait(), REPLY_WAIT)
            except TimeoutError:
                stdout.write("（机器人没有及时回应）\n")
            processed.pop(update_id, None)
            client.print_new()
        api.close()
    stdout.write("\n再见！\n")
    stdout.flush()
    return 0


def run_terminal_chat(
    settings: Settings,
    role: str,
    user_id: int,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Chat with the bot in the terminal until ``/quit`` or end of input."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "apscheduler", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        return asyncio.run(
            chat(settings, role=role, user_id=user_id,
                 stdin=stdin or sys.stdin, stdout=stdout or sys.stdout)
        )
    except KeyboardInterrupt:
        return 130
