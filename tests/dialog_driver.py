"""Play one user through the bot's dialogs: type, press buttons by their label, send files."""

from __future__ import annotations

from dataclasses import dataclass

from bot.local_api import ApiCall
from handlers.core.telegram_html import to_plain
from storage.credit_code import check_character, org_check_character
from tests.bot_harness import RunningBot

SHOWN = ("sendMessage", "editMessageText")


def credit_code(n: int, division: str = "410100") -> str:
    """A valid unified social credit code, different for each ``n``."""
    body = f"{n:08d}"
    first17 = "91" + division + body + org_check_character(body)
    return first17 + check_character(first17)


def texts(calls: list[ApiCall], chat_id: int) -> list[str]:
    """What the user saw: the plain text of messages sent or edited in their chat."""
    return [
        _plain(call) for call in calls
        if call.method in SHOWN and call.params.get("chat_id") == chat_id
    ]


def _plain(call: ApiCall) -> str:
    text = str(call.params.get("text", ""))
    return to_plain(text) if call.params.get("parse_mode") == "HTML" else text


@dataclass
class Chat:
    bot: RunningBot
    user_id: int

    async def say(self, text: str) -> str:
        """Send ``text``; everything the bot showed this user meanwhile, joined."""
        return "\n".join(await self._run(lambda: self.bot.api.send_text(self.user_id, text)))

    async def press(self, label: str) -> str:
        """Press the newest button labelled ``label`` (a ✅ mark is ignored)."""
        message_id, data = self.button(label)
        return "\n".join(await self._run(
            lambda: self.bot.api.click(self.user_id, self.user_id, message_id, data)
        ))

    async def photo(self, **options: object) -> str:
        return "\n".join(await self._run(
            lambda: self.bot.api.send_photo(self.user_id, **options)  # type: ignore[arg-type]
        ))

    async def document(self, **options: object) -> str:
        return "\n".join(await self._run(
            lambda: self.bot.api.send_document(self.user_id, **options)  # type: ignore[arg-type]
        ))

    def button(self, label: str) -> tuple[int, str]:
        api = self.bot.api
        ids = sorted(
            (mid for (cid, mid), msg in api.messages.items()
             if cid == self.user_id and msg.get("from", {}).get("id") == api.bot_id),
            reverse=True,
        )
        for message_id in ids:
            for button in api.buttons(self.user_id, message_id):
                if button["text"].removeprefix("✅ ") == label and "callback_data" in button:
                    return message_id, str(button["callback_data"])
        raise AssertionError(f"no button {label!r} in chat {self.user_id}")

    def labels(self) -> list[str]:
        """The buttons of the newest bot message that has any."""
        api = self.bot.api
        for (cid, mid), msg in sorted(api.messages.items(), reverse=True):
            if cid == self.user_id and msg.get("from", {}).get("id") == api.bot_id:
                buttons = api.buttons(cid, mid)
                if buttons:
                    return [b["text"] for b in buttons]
        return []

    async def _run(self, act: object) -> list[str]:
        before = len(self.bot.api.calls)
        update_id = act()  # type: ignore[operator]
        await self.bot.wait_processed(update_id)
        await self.bot.outbox_drained()
        return texts(self.bot.api.calls[before:], self.user_id)


QUALIFIER_STEP = "（补充"  # the prompt of a qualifier question at /register's step 5


async def answer_qualifiers(chat: Chat, reply: str, answers: dict[str, str] | None = None,
                            *, default: str = "不清楚", typed: bool = False) -> str:
    """Answer /register's qualifier questions while ``reply`` is one: the label
    (是 / 否 / 不清楚) of the first key of ``answers`` whose text is in the question (the
    qualifier's name or question), else ``default``; returns the reply after them."""
    while QUALIFIER_STEP in reply:
        label = next((value for text, value in (answers or {}).items() if text in reply),
                     default)
        reply = await (chat.say(label) if typed else chat.press(label))
    return reply


async def register(
    chat: Chat,
    *,
    name: str = "河南绿源化工有限公司",
    code: str | None = None,
    city: str = "郑州市",
    county: str | None = "中原区",
    industries: tuple[str, ...] = ("化工",),
    contact: str = "张三",
    phone: str = "13812345678",
    qualifiers: dict[str, str] | None = None,
    confirm: bool = True,
) -> str:
    """Go through /register with valid answers; returns the last reply. The qualifier
    questions are answered from ``qualifiers`` (see :func:`answer_qualifiers`)."""
    await chat.say("/register")
    await chat.say(name)
    await chat.say(code or credit_code(chat.user_id))
    await chat.press(city)
    if county is None:
        await chat.press("跳过")
    else:
        await chat.say(county)
    for industry in industries:
        await chat.press(industry)
    await answer_qualifiers(chat, await chat.press("完成"), qualifiers)
    await chat.say(contact)
    reply = await chat.say(phone)
    if confirm:
        reply = await chat.press("确认提交")
    return reply


ADMIN = 900  # the harness's settings admin


async def register_approved(chat: Chat, **answers: object) -> str:
    """Register (see :func:`register`) and have the admin approve it: only approved
    accounts report."""
    await register(chat, **answers)  # type: ignore[arg-type]
    return await Chat(chat.bot, ADMIN).press("批准")


async def report(
    chat: Chat,
    *,
    task: int = 8,
    status: str = "进行中",
    percent: str | None = "60",
    description: str = "已完成燃煤锅炉改造方案，正在施工。",
    date: str | None = "12月底",
    confirm: bool = True,
) -> str:
    """Go through /report with valid answers and no attachments; returns the last reply."""
    await chat.say("/report")
    await chat.say(str(task))
    await chat.press(status)
    if status == "进行中":
        await (chat.press("跳过") if percent is None else chat.say(percent))
    await chat.say(description)
    await (chat.press("跳过") if date is None else chat.say(date))
    reply = await chat.press("完成")
    if confirm:
        reply = await chat.press("确认提交")
    return reply
