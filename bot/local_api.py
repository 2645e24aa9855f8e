"""An in-process stand-in for the Telegram Bot API.

:class:`LocalBotApi` holds the Bot-API semantics lvdong relies on: it hands
out updates through long-polling ``getUpdates``, numbers the messages the bot
sends, validates them the way Telegram does (HTML parse mode, 4096 characters,
64-byte callback data), remembers callback queries so that a stale one is
refused with Telegram's "query is too old", serves the files users sent (``getFile``
and then a GET of ``/file/bot<token>/<file_path>``, as Telegram does), and keeps
a transcript. A driver (a
test, the terminal chat, the benchmark) plays the users: :meth:`send_text` and
:meth:`click` inject updates.

:class:`LocalRequest` plugs it into python-telegram-bot as a ``BaseRequest``,
so the real ``Application`` runs against it with no token and no network. The
HTTP stand-in in ``tests/botapi_server.py`` serves the same object over HTTP.
Parameters arrive as python-telegram-bot encodes them (strings, with JSON for
structured values) whichever way they travel; :meth:`LocalBotApi.call` decodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from handlers.core.telegram_html import MAX_MESSAGE_CHARS, HtmlError, to_plain, utf16_len

JSON = dict[str, Any]

BOT_ID = 7000000001
FILE_NAME_SUFFIX = "#name"  # LocalRequest passes an upload's file name as <field>#name
FILE_PATH_PREFIX = "documents/"  # file_path of a stored file: this + its file_id
# What a user's PDF starts with (a minimal, well-formed PDF), unless a test says otherwise.
SAMPLE_PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
              b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
              b"trailer <</Root 1 0 R>>\n%%EOF\n")
BOT_USERNAME = "lvdong_local_bot"
CALLBACK_QUERY_LIFETIME = 15 * 60.0  # seconds Telegram accepts an answer for (roughly)

_JSON_FIELDS = frozenset(
    {
        "reply_markup", "commands", "scope", "allowed_updates", "entities",
        "link_preview_options", "reply_parameters", "caption_entities", "media",
    }
)
_INT_FIELDS = frozenset({"message_id", "offset", "limit", "reply_to_message_id"})
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset({"show_alert", "disable_notification", "drop_pending_updates"})
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


class ApiError(Exception):
    """A Bot API error response."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made, decoded, and what it returned (once it has)."""

    method: str
    params: JSON
    at: float
    result: JSON = field(default_factory=dict, compare=False)  # a sent message, when one


@dataclass
class _Query:
    user_id: int
    created: float
    answered: bool = False


@dataclass
class LocalBotApi:
    """The Bot API, in memory. All methods run on the event loop that drives the bot."""

    bot_id: int = BOT_ID
    bot_username: str = BOT_USERNAME
    bot_name: str = "绿动"
    clock: Callable[[], float] = time.time
    calls: list[ApiCall] = field(default_factory=list)
    messages: dict[tuple[int, int], JSON] = field(default_factory=dict)
    commands: dict[str, list[JSON]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    listeners: list[Callable[[ApiCall], None]] = field(default_factory=list)  # told of each call
    blocked: set[int] = field(default_factory=set)  # users who blocked the bot: sends get 403
    _pending: list[JSON] = field(default_factory=list)
    _pushed: dict[int, JSON] = field(default_factory=dict)  # every update, by id
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _queries: dict[str, _Query] = field(default_factory=dict)
    _changed: asyncio.Condition | None = None
    _closed: bool = False

    # ------------------------------------------------------------------ driver side

    @property
    def bot_user(self) -> JSON:
        return {
            "id": self.bot_id, "is_bot": True, "first_name": self.bot_name,
            "username": self.bot_username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
        }

    @staticmethod
    def user(user_id: int, first_name: str = "", username: str | None = None) -> JSON:
        user: JSON = {
            "id": user_id, "is_bot": False, "first_name": first_name or f"用户{user_id}",
            "language_code": "zh-hans",
        }
        if username:
            user["username"] = username
        return user

    @staticmethod
    def chat_of(user: JSON, chat_id: int | None = None, title: str = "") -> JSON:
        if chat_id is None or chat_id == user["id"]:
            return {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        return {"id": chat_id, "type": "supergroup", "title": title or f"群{chat_id}"}

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "",
        reply_to: int | None = None,
    ) -> int:
        """A user sends ``text`` (to the bot, or in group ``chat_id``); returns the update id."""
        user = self.user(user_id, first_name)
        chat = self.chat_of(user, chat_id)
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(self.clock()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        entities = _entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            replied = self.messages.get((chat["id"], reply_to))
            if replied is not None:
                message["reply_to_message"] = replied
        self.messages[(chat["id"], message["message_id"])] = message
        return self._push({"message": message})

    def send_photo(
        self, user_id: int, *, file_size: int = 50_000, caption: str = "", unique: str = "",
        content: bytes = b"",
    ) -> int:
        """A user sends a photo (Telegram offers it in several sizes); returns the update id."""
        key = unique or f"p{len(self.files) + 1}"
        self.files[key] = content
        sizes = [
            {"file_id": f"{key}-s", "file_unique_id": f"{key}-s", "width": 90, "height": 60,
             "file_size": max(1, file_size // 20)},
            {"file_id": key, "file_unique_id": f"u{key}", "width": 1280, "height": 853,
             "file_size": file_size},
        ]
        return self._push_user_message(user_id, {"photo": sizes}, caption)

    def send_document(
        self,
        user_id: int,
        *,
        file_name: str = "报告.pdf",
        mime_type: str | None = "application/pdf",
        file_size: int | None = None,
        caption: str = "",
        unique: str = "",
        content: bytes = SAMPLE_PDF,
    ) -> int:
        """A user sends a file (``content``; ``file_size`` claims another size, e.g. one
        too big to download); returns the update id."""
        key = unique or f"d{len(self.files) + 1}"
        self.files[key] = content
        size = len(content) if file_size is None else file_size
        document: JSON = {"file_id": key, "file_unique_id": f"u{key}", "file_name": file_name,
                          "file_size": size}
        if mime_type:
            document["mime_type"] = mime_type
        return self._push_user_message(user_id, {"document": document}, caption)

    def _push_user_message(self, user_id: int, content: JSON, caption: str) -> int:
        user = self.user(user_id)
        chat = self.chat_of(user)
        message: JSON = {
            "message_id": self._next_message_id(chat["id"]),
            "date": int(self.clock()),
            "chat": chat,
            "from": user,
            **content,
        }
        if caption:
            message["caption"] = caption
        self.messages[(chat["id"], message["message_id"])] = message
        return self._push({"message": message})

    def set_blocked(self, user_id: int, blocked: bool) -> int:
        """A user blocks (or unblocks) the bot: Telegram sends a ``my_chat_member`` update;
        returns its update id."""
        user = self.user(user_id)
        (self.blocked.add if blocked else self.blocked.discard)(user_id)
        member = {"user": self.bot_user, "status": "member"}
        kicked = {"user": self.bot_user, "status": "kicked", "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        change: JSON = {
            "chat": self.chat_of(user), "from": user, "date": int(self.clock()),
            "old_chat_member": old, "new_chat_member": new,
        }
        return self._push({"my_chat_member": change})

    def click(self, user_id: int, chat_id: int, message_id: int, data: str) -> int:
        """A user presses an inline button with callback ``data``; returns the update id."""
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        query_id = f"{self.bot_id}{next(self._update_ids)}"
        self._queries[query_id] = _Query(user_id=user_id, created=self.clock())
        query: JSON = {
            "id": query_id, "from": self.user(user_id), "chat_instance": str(chat_id),
            "message": message, "data": data,
        }
        return self._push({"callback_query": query})

    def buttons(self, chat_id: int, message_id: int) -> list[JSON]:
        """The inline buttons a message currently shows, in reading order."""
        markup = self.messages[(chat_id, message_id)].get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[ApiCall]:
        """Calls of ``method`` the bot made (to ``chat_id``), oldest first."""
        return [
            call for call in self.calls
            if call.method == method
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``predicate()`` holds (checked after every bot call); TimeoutError if not."""
        async with self._condition():
            await asyncio.wait_for(self._condition().wait_for(predicate), timeout)

    def close(self) -> None:
        """Release every waiting long poll (for a fast shutdown)."""
        self._closed = True
        asyncio.get_running_loop().create_task(self._notify())

    def reopen(self) -> None:
        """Accept long polls again after :meth:`close` (a bot restarted on the same API)."""
        self._closed = False

    def redeliver(self, update_id: int) -> None:
        """Deliver update ``update_id`` again, as Telegram does after a crash when the
        bot had not confirmed it (the next ``getUpdates`` offset)."""
        self._pending.append(self._pushed[update_id])
        asyncio.get_running_loop().create_task(self._notify())

    @property
    def pending_updates(self) -> int:
        return len(self._pending)

    # ------------------------------------------------------------------ Bot API side

    async def call(
        self, method: str, params: Mapping[str, Any], files: Mapping[str, bytes] | None = None
    ) -> tuple[int, JSON]:
        """Handle one Bot API request; returns (HTTP status, response body)."""
        decoded = _decode(params)
        if method != "getUpdates":
            call = ApiCall(method, decoded, self.clock())
            self.calls.append(call)
            for listener in self.listeners:
                listener(call)
        try:
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if method == "getUpdates":
                result = await handler(decoded)
            else:
                result = handler(decoded, dict(files or {}))
                if isinstance(result, dict):
                    call.result.update(result)
            return 200, {"ok": True, "result": result}
        except ApiError as exc:
            return exc.code, exc.body()
        finally:
            if method != "getUpdates":
                await self._notify()

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if not self._pending and timeout > 0 and not self._closed:
            cond = self._condition()
            async with cond:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        cond.wait_for(lambda: bool(self._pending) or self._closed), timeout
                    )
        return self._pending[:limit]

    def _m_getMe(self, params: JSON, files: dict[str, bytes]) -> JSON:
        return self.bot_user

    def _m_sendMessage(self, params: JSON, files: dict[str, bytes]) -> JSON:
        chat_id = _chat_id(params)
        text = str(params.get("text") or "")
        plain = self._checked_text(text, params.get("parse_mode"))
        markup = _checked_markup(params.get("reply_markup"))
        message = self._bot_message(chat_id, {"text": plain}, markup)
        message["html"] = text  # not Telegram's: what the bot sent, for transcripts
        return message

    def _m_editMessageText(self, params: JSON, files: dict[str, bytes]) -> JSON:
        message = self._own_message(params)
        text = str(params.get("text") or "")
        plain = self._checked_text(text, params.get("parse_mode"))
        markup = _checked_markup(params.get("reply_markup"))
        if plain == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same")
        message.update(text=plain, html=text, edit_date=int(self.clock()))
        _set_markup(message, markup)
        return message

    def _m_editMessageReplyMarkup(self, params: JSON, files: dict[str, bytes]) -> JSON:
        message = self._own_message(params)
        markup = _checked_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same")
        _set_markup(message, markup)
        message["edit_date"] = int(self.clock())
        return message

    def _m_answerCallbackQuery(self, params: JSON, files: dict[str, bytes]) -> bool:
        query = self._queries.get(str(params.get("callback_query_id")))
        if (
            query is None
            or query.answered
            or self.clock() - query.created > CALLBACK_QUERY_LIFETIME
        ):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired "
                                "or query ID is invalid")
        query.answered = True
        return True

    def _m_sendChatAction(self, params: JSON, files: dict[str, bytes]) -> bool:
        _chat_id(params)
        return True

    def _m_setMyCommands(self, params: JSON, files: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(params)] = list(commands)
        return True

    def _m_getMyCommands(self, params: JSON, files: dict[str, bytes]) -> list[JSON]:
        return self.commands.get(_scope_key(params), [])

    def _m_deleteMyCommands(self, params: JSON, files: dict[str, bytes]) -> bool:
        self.commands.pop(_scope_key(params), None)
        return True

    def _m_deleteWebhook(self, params: JSON, files: dict[str, bytes]) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _m_setWebhook(self, params: JSON, files: dict[str, bytes]) -> bool:
        return True

    def _m_close(self, params: JSON, files: dict[str, bytes]) -> bool:
        return True

    def _m_logOut(self, params: JSON, files: dict[str, bytes]) -> bool:
        return True

    def _m_sendDocument(self, params: JSON, files: dict[str, bytes]) -> JSON:
        return self._send_file(params, files, "document")

    def _m_sendPhoto(self, params: JSON, files: dict[str, bytes]) -> JSON:
        return self._send_file(params, files, "photo")

    def _m_getFile(self, params: JSON, files: dict[str, bytes]) -> JSON:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id, "file_unique_id": f"u{file_id}",
            "file_size": len(self.files[file_id]), "file_path": FILE_PATH_PREFIX + file_id,
        }

    def download(self, file_path: str) -> bytes | None:
        """The bytes at ``file_path`` (from ``getFile``), or None: what Telegram serves at
        ``https://api.telegram.org/file/bot<token>/<file_path>``. The transcript records
        the download as a ``downloadFile`` call (no Bot API method: a plain GET)."""
        file_id = file_path.removeprefix(FILE_PATH_PREFIX)
        if not file_path.startswith(FILE_PATH_PREFIX) or file_id not in self.files:
            return None
        self.calls.append(ApiCall("downloadFile", {"file_path": file_path}, self.clock()))
        return self.files[file_id]

    # ------------------------------------------------------------------ helpers

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def _notify(self) -> None:
        cond = self._condition()
        async with cond:
            cond.notify_all()

    def _push(self, payload: JSON) -> int:
        update_id = next(self._update_ids)
        self._pushed[update_id] = {"update_id": update_id, **payload}
        self._pending.append(self._pushed[update_id])
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _checked_text(self, text: str, parse_mode: object) -> str:
        plain = text
        if parse_mode and str(parse_mode).upper() == "HTML":
            try:
                plain = to_plain(text)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: {exc}") from None
        elif parse_mode:
            raise ApiError(400, f"Bad Request: parse mode {parse_mode} is not supported here")
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(plain) > MAX_MESSAGE_CHARS:
            raise ApiError(400, "Bad Request: message is too long")
        return plain

    def _bot_message(self, chat_id: int, content: JSON, markup: JSON | None) -> JSON:
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        chat = (
            {"id": chat_id, "type": "private", "first_name": f"用户{chat_id}"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": f"群{chat_id}"}
        )
        message: JSON = {
            "message_id": self._next_message_id(chat_id),
            "date": int(self.clock()),
            "chat": chat,
            "from": self.bot_user,
            **content,
        }
        _set_markup(message, markup)
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _own_message(self, params: JSON) -> JSON:
        key = (_chat_id(params), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _send_file(self, params: JSON, files: dict[str, bytes], kind: str) -> JSON:
        chat_id = _chat_id(params)
        ref = str(params.get(kind) or "")
        # an upload arrives as the multipart field named after the kind, or as attach://
        data = files.get(kind) or (
            files.get(ref.removeprefix("attach://"), b"") if ref.startswith("attach://") else b"")
        if not data and ref in self.files:
            data = self.files[ref]
        file_id = f"F{len(self.files) + 1}"
        self.files[file_id] = data
        described: JSON = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                           "file_size": len(data)}
        name = files.get(f"{kind}{FILE_NAME_SUFFIX}")
        if name and kind == "document":
            described["file_name"] = name.decode("utf-8", "replace")
        content: JSON = (
            {"photo": [{**described, "width": 1, "height": 1}]}
            if kind == "photo" else {"document": described}
        )
        if params.get("caption"):
            content["caption"] = str(params["caption"])
        return self._bot_message(chat_id, content, _checked_markup(params.get("reply_markup")))


def _decode(params: Mapping[str, Any]) -> JSON:
    """Undo python-telegram-bot's encoding: JSON for structures, strings for scalars."""
    decoded: JSON = {}
    for key, value in params.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            try:
                if key in _JSON_FIELDS:
                    value = json.loads(value)
                elif key in _INT_FIELDS or key == "chat_id":
                    value = int(value) if re.fullmatch(r"-?\d+", value) else value
                elif key in _FLOAT_FIELDS:
                    value = float(value)
                elif key in _BOOL_FIELDS:
                    value = value.lower() in ("true", "1")
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse {key}: {exc}") from None
        decoded[key] = value
    return decoded


def _chat_id(params: JSON) -> int:
    chat_id = params.get("chat_id")
    if not isinstance(chat_id, int):
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def _checked_markup(markup: object) -> JSON | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline "
                                    "keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _set_markup(message: JSON, markup: JSON | None) -> None:
    if markup and markup.get("inline_keyboard"):
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)


def _scope_key(params: JSON) -> str:
    scope = params.get("scope") or {"type": "default"}
    language = params.get("language_code") or ""
    return json.dumps({"scope": scope, "lang": language}, sort_keys=True)


def _entities(text: str) -> list[JSON]:
    """The bot_command and mention entities Telegram would attach (offsets in UTF-16 units)."""
    entities: list[JSON] = []
    command = _COMMAND.match(text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command[0])})
    for mention in _MENTION.finditer(text):
        if command and mention.start() < command.end():
            continue
        entities.append({
            "type": "mention",
            "offset": utf16_len(text[: mention.start()]),
            "length": utf16_len(mention[0]),
        })
    return entities


FILE_URL_PART = "/file/bot"


def file_base_url(api_base_url: str) -> str:
    """Where a Bot API server serves files, from where it serves methods: Telegram's
    ``https://api.telegram.org/bot`` → ``https://api.telegram.org/file/bot`` (the same
    for a self-hosted server and for the stand-ins)."""
    root = api_base_url.rstrip("/").removesuffix("/bot")
    return root + FILE_URL_PART


class LocalRequest(BaseRequest):
    """A python-telegram-bot request that talks to a :class:`LocalBotApi` in-process."""

    def __init__(self, api: LocalBotApi, read_timeout: float | None = 5.0) -> None:
        self.api = api
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if FILE_URL_PART in url:  # a file download: GET <base>/file/bot<token>/<file_path>
            file_path = url.split(FILE_URL_PART, 1)[1].split("/", 1)[-1]
            served = self.api.download(file_path)
            if served is None:
                return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
            return 200, served
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                content = part[1] if isinstance(part, tuple) else part
                files[name] = content if isinstance(content, bytes) else content.read()
                if isinstance(part, tuple) and part[0]:
                    files[name + FILE_NAME_SUFFIX] = str(part[0]).encode("utf-8")
        status, body = await self.api.call(api_method, params, files)
        return status, json.dumps(body, ensure_ascii=False).encode("utf-8")
