"""``lvdong chat``: the whole bot in this terminal, with no token and no network.

The same ``Application`` and handlers as ``lvdong run`` talk to the in-process
:class:`~bot.local_api.LocalBotApi`; this module only plays the Telegram client:
it turns what you type into updates and prints what the bot sends, as it is sent
(a dialog's timeout note appears when it happens, not with your next line).

Inline buttons are lettered, ``[a] …``, and pressed by typing the letter: a typed
number is always text (a task number, a percentage, a phone number), never a button.

Roles: the chat shares the bot's database, so it never writes a role. Without
``--as`` you are whoever the database says user ``--user-id`` is. ``--as admin``
holds for this session only (like ``LVDONG_ADMINS``, never stored); another
``--as`` must agree with the stored role, else the chat refuses to start and says
how to grant it (``lvdong grant``).

Log records go to a file next to the database, not into the conversation; and
flood control, which protects the bot from many Telegram users, is off for the one
person at this keyboard (piped questions are not throttled).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import mimetypes
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.app import build_application, update_processor
from bot.lifecycle import polling
from bot.local_api import ApiCall, LocalBotApi, LocalRequest
from bot.log_redaction import LIBRARY_LOGGERS, NOISY_LOGGERS, TEXT_FORMAT, TokenRedactor
from bot.settings import Settings
from handlers.core.telegram_html import HtmlError, to_plain

BANNER = (
    "绿动 · 终端对话（本地模拟 Telegram，无需令牌、不联网）\n"
    "身份：{role}（用户 {user_id}）；数据库：{db}\n"
    "直接输入问题或 /命令；输入按钮前的字母（如 a）点按钮，数字总是当作文字；"
    "第二条消息的按钮加数字（如 2a）；/file 路径 发送文件（如填报时的附件）；"
    "/quit 或 Ctrl-D 退出。日志写在 {log}。\n"
    "本窗口只收到发给用户 {user_id} 的消息；发给别人的消息留在队列里，"
    "等对方的窗口（lvdong chat --user-id 对方ID）打开时送达。\n"
)
FILE_COMMAND = "/file"  # "/file PATH": send that file, as at an attachment step
FILES_DIR = "lvdong-chat-files"  # next to the database: files the bot sent, per user
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
OUTBOX_POLL = 1.0  # seconds: how soon a window sees what another window queued for it
QUIT = frozenset({"/quit", "/exit", "/q"})
REPLY_WAIT = 15.0  # seconds to wait for the bot to finish with one input
PROMPT = "\n你> "
UNTHROTTLED = 1_000_000  # flood-control burst and rate for the single local user
LOG_FILE = "lvdong-chat.log"


class RoleConflict(Exception):
    """``--as`` asks for a role the database does not give this user."""


def button_key(index: int) -> str:
    """a, b, …, z, aa, ab, …: the key that presses the ``index``-th button (from 0)."""
    key = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        key = chr(ord("a") + rest) + key
    return key


@dataclasses.dataclass
class TerminalClient:
    """Plays the Telegram app for one user against a :class:`LocalBotApi`.

    Every message still on screen keeps its buttons: the first message with buttons in
    one reply is lettered ``a``, ``b``…, the second ``2a``, ``2b``…, and so on; a message
    keeps its label when edited, and a later message takes over a label only when it
    needs that same one.
    """

    api: LocalBotApi
    user_id: int
    out: TextIO
    files_dir: Path | None = None  # where files the bot sends are saved (None: not saved)
    buttons: dict[str, tuple[int, str]] = dataclasses.field(default_factory=dict)
    seen_calls: int = 0
    labels: dict[int, str] = dataclasses.field(default_factory=dict)  # message id → label
    _batch: int = 0  # keyboards shown since the last input (however many prints)

    def input_to_update(self, line: str) -> int | None:
        """Turn one typed line into an update (a button press for a button's key, a file
        for ``/file PATH``); None if nothing was sent (the file was not found)."""
        self._batch = 0  # the reply to this input numbers its keyboards from 1 again
        key = line.strip().strip("[]").lower()
        if key in self.buttons:
            message_id, data = self.buttons[key]
            return self.api.click(self.user_id, self.user_id, message_id, data)
        command, _, rest = line.strip().partition(" ")
        if command == FILE_COMMAND and rest.strip():
            return self._send_file(Path(rest.strip()).expanduser())
        return self.api.send_text(self.user_id, line, first_name="终端用户")

    def _send_file(self, path: Path) -> int | None:
        try:
            content = path.read_bytes()
        except OSError as exc:
            self.out.write(f"（找不到文件或无法读取：{path}：{exc.strerror or exc}）\n")
            return None
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return self.api.send_photo(self.user_id, file_size=len(content), content=content)
        mime = mimetypes.guess_type(path.name)[0]
        return self.api.send_document(self.user_id, file_name=path.name, mime_type=mime,
                                      content=content)

    @property
    def has_new(self) -> bool:
        return len(self.api.calls) > self.seen_calls

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
            saved = self._save_file(call)
            if saved is not None:
                self.out.write(f"  〔文件已保存到 {saved}〕\n")
            self._show_buttons(call, params.get("reply_markup"))

    def _save_file(self, call: ApiCall) -> Path | None:
        """Save a file the bot sent under ``files_dir``; returns where (None: not saved)."""
        if self.files_dir is None:
            return None
        result = call.result
        document = result.get("document") or (result.get("photo") or [{}])[-1]
        data = self.api.files.get(str(document.get("file_id")))
        if data is None:
            return None
        name = Path(str(document.get("file_name") or "")).name or (
            "图片.png" if call.method == "sendPhoto" else "文件")
        folder = self.files_dir / str(self.user_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{result.get('message_id', 0)}-{name}"
        path.write_bytes(data)
        return path

    def _show_buttons(self, call: ApiCall, markup: Any) -> None:
        rows = (markup or {}).get("inline_keyboard") or []
        message_id = self._message_id_of(call)
        if message_id is None:
            return
        self._forget(message_id)
        if not rows:
            self.labels.pop(message_id, None)
            return
        label = self.labels.get(message_id)
        if label is None:
            self._batch += 1
            label = "" if self._batch == 1 else str(self._batch)
            for other, other_label in list(self.labels.items()):
                if other_label == label:  # this label now means the new message
                    self._forget(other)
                    del self.labels[other]
            self.labels[message_id] = label
        index = 0
        for row in rows:
            cells = []
            for button in row:
                if "callback_data" in button:
                    key = label + button_key(index)
                    index += 1
                    self.buttons[key] = (message_id, str(button["callback_data"]))
                    cells.append(f"[{key}] {button['text']}")
                elif "url" in button:
                    cells.append(f"{button['text']} ({button['url']})")
            if cells:
                self.out.write("  " + "   ".join(cells) + "\n")

    def _forget(self, message_id: int) -> None:
        for key in [key for key, (mid, _) in self.buttons.items() if mid == message_id]:
            del self.buttons[key]

    def _message_id_of(self, call: ApiCall) -> int | None:
        if "message_id" in call.params:
            return int(call.params["message_id"])
        if "message_id" in call.result:
            return int(call.result["message_id"])
        return None


def _plain(params: dict[str, Any]) -> str:
    text = str(params.get("text") or "")
    if str(params.get("parse_mode") or "").upper() == "HTML":
        try:
            return to_plain(text)
        except HtmlError:
            return text
    return text


def session_settings(
    settings: Settings, db: Any, requested: str | None, user_id: int
) -> tuple[Settings, str]:
    """The settings and role label for this session; the database is never written.

    No ``requested``: the stored role. ``admin``: added to this session's admins only.
    Any other: must be the stored role, else :class:`RoleConflict` says what to do.
    """
    from storage.users import Role, role_of

    stored = role_of(db, user_id, settings.admins)
    if requested is None or requested == stored.value:
        return settings, stored.value
    if requested == Role.ADMIN.value:
        admins = settings.admins | {user_id}
        return dataclasses.replace(settings, admins=admins), "admin（仅本次对话）"
    raise RoleConflict(
        f"用户 {user_id} 在数据库中的角色是 {stored.value}，不是 {requested}。"
        "终端对话不会改动数据库中的角色：请去掉 --as 以原角色对话，或换一个 --user-id，"
        f"或先用 lvdong grant {user_id} {requested} 明确授予；--as admin 只在本次对话有效。"
    )


@contextlib.contextmanager
def logs_to_file(path: Path) -> Iterator[None]:
    """Send every log record to ``path`` for the chat's duration (not into the chat)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(TokenRedactor())
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in (*NOISY_LOGGERS, *LIBRARY_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        handler.close()
        root.handlers[:], level = saved
        root.setLevel(level)


async def chat(
    settings: Settings, *, role: str | None, user_id: int, stdin: TextIO, stdout: TextIO
) -> int:
    from knowledge.engine import load_engine
    from storage.db import open_db

    engine = load_engine(settings.kb_path)
    db = open_db(settings.db_path)
    try:
        settings, shown_role = session_settings(settings, db, role, user_id)
    except RoleConflict as exc:
        db.conn.close()
        print(f"lvdong chat: {exc}", file=sys.stderr)
        return 2
    settings = dataclasses.replace(
        settings, token="", flood_burst=UNTHROTTLED, flood_per_minute=UNTHROTTLED
    )
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
    # this window is one user's Telegram app: it delivers only what is queued for them
    sender = application.bot_data.outbox
    sender.chats = frozenset({user_id})
    sender.idle_poll = OUTBOX_POLL
    client = TerminalClient(api, user_id, stdout, files_dir=settings.db_path.parent / FILES_DIR)
    interactive = stdin.isatty()
    reading = False  # the prompt is shown and a line is being typed
    changed = asyncio.Event()
    api.listeners.append(lambda call: changed.set())

    async def show_as_sent() -> None:
        """Print what the bot sends when it sends it (a timeout note, a late reply)."""
        while True:
            await changed.wait()
            changed.clear()
            await asyncio.sleep(0)  # let the call finish (its message is then stored)
            if client.has_new:
                if reading and interactive:
                    stdout.write("\n")
                client.print_new()
                if reading and interactive:
                    stdout.write(PROMPT)
                    stdout.flush()

    log = settings.db_path.parent / LOG_FILE
    stdout.write(BANNER.format(role=shown_role, user_id=user_id, db=settings.db_path, log=log))
    loop = asyncio.get_running_loop()
    async with polling(application, poll_timeout=1.0):
        printer = asyncio.create_task(show_as_sent())
        client.print_new()
        while True:
            if interactive:
                stdout.write(PROMPT)
                stdout.flush()
            reading = True
            line = await loop.run_in_executor(None, stdin.readline)
            reading = False
            if not line:  # Ctrl-D / end of input
                break
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            client.print_new()  # whatever arrived while the line was typed comes first
            if not interactive:
                stdout.write(PROMPT + line + "\n")
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
        printer.cancel()
        api.close()
    stdout.write("\n再见！\n")
    stdout.flush()
    return 0


def run_terminal_chat(
    settings: Settings,
    role: str | None,
    user_id: int,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Chat with the bot in the terminal until ``/quit`` or end of input."""
    with logs_to_file(settings.db_path.parent / LOG_FILE):
        try:
            return asyncio.run(
                chat(settings, role=role, user_id=user_id,
                     stdin=stdin or sys.stdin, stdout=stdout or sys.stdout)
            )
        except KeyboardInterrupt:
            return 130
