"""Whether a message is meant for the bot, and the question it asks.

In a private chat every message is. In a group the bot stays silent unless it is
mentioned (``@bot 问题``), replied to, or called with a command (``/ask 问题``).
"""

from __future__ import annotations

from telegram import Message, MessageEntity, Update
from telegram.ext import filters


def mentions_bot(message: Message) -> bool:
    """``@botname`` in the text, or a reply to one of the bot's messages."""
    bot = message.get_bot()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    username = (bot.username or "").lower()
    if not username:
        return False
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    return any(text[1:].lower() == username for text in mentions)


def strip_mentions(message: Message) -> str:
    """The message text without ``@botname`` mentions of this bot."""
    text = message.text or ""
    bot = message.get_bot()
    username = (bot.username or "").lower()
    if username:
        for mention in message.parse_entities([MessageEntity.MENTION]).values():
            if mention[1:].lower() == username:
                text = text.replace(mention, " ")
    return " ".join(text.split())


def is_command(message: Message) -> bool:
    entities = message.entities or ()
    return any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in entities)


def addressed_to_bot(update: Update) -> bool:
    """Whether the bot should react to ``update`` at all (used by flood control too)."""
    if update.callback_query is not None:
        return True
    message = update.effective_message
    if message is None or update.effective_chat is None:
        return False
    if update.effective_chat.type == "private":
        return True
    return is_command(message) or mentions_bot(message)


class _MentionsBot(filters.MessageFilter):
    """Group messages that mention or reply to the bot."""

    def filter(self, message: Message) -> bool:
        return mentions_bot(message)


MENTIONS_BOT = _MentionsBot(name="MENTIONS_BOT")
