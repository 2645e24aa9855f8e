"""An HTTP stand-in for the Telegram Bot API, for end-to-end tests and the benchmark.

An aiohttp server on 127.0.0.1 (a free port) speaks the Bot API's protocol at
``/bot<TOKEN>/<method>``: JSON, form-encoded and multipart bodies, as
python-telegram-bot sends them. The semantics are :class:`bot.local_api.LocalBotApi`'s,
so the HTTP stand-in and the terminal chat behave alike.

Faults can be injected per method, to see the bot survive them:

* ``"429"`` — HTTP 429 ``{"ok":false,"error_code":429,"parameters":{"retry_after":N}}``
* ``"502"`` — HTTP 502 with an HTML body, as a proxy in front of Telegram would send
* ``"timeout"`` — the response is held back longer than the client waits; the
  request is dropped (as if lost on the way), so a retry is not a duplicate.
* ``"slow"`` — the request is carried out (a message *is* delivered), then the
  response is held back longer than the client waits: the ambiguous case.
* ``"400"`` — HTTP 400 Bad Request, as Telegram refuses a malformed message
* ``"403"`` — ``Forbidden: bot was blocked by the user``.
* ``"409"`` — HTTP 409 Conflict, as Telegram answers ``getUpdates`` while another
  instance polls with the same token

A fault may be limited to one chat (``chat_id``). A wrong token
(``TELEGRAM_BOT_TOKEN`` other than ``token``; change ``token`` to revoke the running
bot's) is answered 401 Unauthorized, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.local_api import LocalBotApi

TEST_TOKEN = "123456789:TEST-token_for-the-local-stand-in-000"
REFUSALS = {
    "400": (400, "Bad Request: message text is empty"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "409": (409, "Conflict: terminated by other getUpdates request; "
                 "make sure that only one bot instance is running"),
}


@dataclass
class Fault:
    method: str  # Bot API method name, or "*" for any but getUpdates
    kind: str  # "429" | "502" | "timeout" | "slow" | "400" | "403" | "409"
    times: int = 1
    retry_after: int = 1
    delay: float = 2.0  # for "timeout" and "slow": how long the response is held back
    chat_id: int | None = None  # only requests to this chat
    hits: int = 0


@dataclass
class BotApiServer:
    """The Bot API over HTTP. Use ``async with BotApiServer() as server``."""

    token: str = TEST_TOKEN
    api: LocalBotApi = field(default_factory=LocalBotApi)
    faults: list[Fault] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # method of every HTTP request
    port: int = 0
    latency: float = 0.0  # simulated network round trip added to every request (seconds)
    _runner: web.AppRunner | None = None
    _held: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        """What to put in ``TELEGRAM_API_BASE_URL`` (the token and method are appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def inject(self, method: str, kind: str, *, times: int = 1, **options: Any) -> Fault:
        fault = Fault(method=method, kind=kind, times=times, **options)
        self.faults.append(fault)
        return fault

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        assert sockets, "the site is listening"
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        self.api.close()
        await asyncio.sleep(0)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _fault_for(self, method: str, chat_id: object) -> Fault | None:
        for fault in self.faults:
            if fault.hits >= fault.times:
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            if fault.method == method or (fault.method == "*" and method != "getUpdates"):
                fault.hits += 1
                return fault
        return None

    def deliveries(self, text: str = "") -> dict[int, int]:
        """How many messages (containing ``text``) each chat received."""
        counts: dict[int, int] = {}
        for call in self.api.sent():
            if text in str(call.params.get("text", "")):
                chat = int(call.params["chat_id"])
                counts[chat] = counts.get(chat, 0) + 1
        return counts

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.requests.append(method)
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params, files = await _read_params(request)
        fault = self._fault_for(method, params.get("chat_id"))
        if fault is not None:
            if fault.kind == "429":
                return web.json_response(
                    {"ok": False, "error_code": 429,
                     "description": f"Too Many Requests: retry after {fault.retry_after}",
                     "parameters": {"retry_after": fault.retry_after}},
                    status=429,
                )
            if fault.kind == "502":
                return web.Response(
                    status=502, text="<html><body>502 Bad Gateway</body></html>",
                    content_type="text/html",
                )
            if fault.kind in REFUSALS:
                code, description = REFUSALS[fault.kind]
                return web.json_response(
                    {"ok": False, "error_code": code, "description": description}, status=code
                )
            if fault.kind == "timeout":
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(fault.delay)
                return web.json_response(
                    {"ok": False, "error_code": 504, "description": "Gateway Timeout"},
                    status=504,
                )
        status, body = await self.api.call(method, params, files)
        if fault is not None and fault.kind == "slow":
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(fault.delay)
        return web.Response(
            status=status, body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            content_type="application/json",
        )

    async def _download(self, request: web.Request) -> web.StreamResponse:
        """A file the bot got from ``getFile``, as Telegram serves it."""
        self.requests.append("file")
        content = None
        if request.match_info["token"] == self.token:
            content = self.api.download(request.match_info["path"])
        if content is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=content, content_type="application/octet-stream")


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = dict(request.query)
    files: dict[str, bytes] = {}
    if not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        body = await request.json()
        for key, value in body.items():
            params[key] = value if isinstance(value, str) else json.dumps(value)
        return params, files
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            files[key] = value.file.read()
        else:
            params[key] = value
    return params, files


@contextlib.asynccontextmanager
async def serving(token: str = TEST_TOKEN) -> AsyncIterator[BotApiServer]:
    async with BotApiServer(token=token) as server:
        yield server
