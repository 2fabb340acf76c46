"""Telegram adapter on python-telegram-bot: updates in, IncomingMessage to the handler, replies out.

- ``config``: the TELEGRAM_* settings, and the token kept out of the logs;
- ``convert``: updates to the handler's IncomingMessage (or silence), the webhook body's quick check;
- ``render``: replies as HTML messages (split below Telegram's limit) and inline keyboards;
- ``outbox``: sends and edits under the bot's rate limiter, flood control waited out up to a cap;
- ``sender``: the reminder sender;
- ``platform``: ``hoc-bot run``'s Telegram platform (long polling or webhook, the inbox, replies).
"""

from bot.adapters.telegram.config import SECRET_HEADER, WEBHOOK_PATH, TelegramConfig, protect_logs
from bot.adapters.telegram.convert import callback_to_incoming, looks_like_update, to_incoming
from bot.adapters.telegram.outbox import NETWORK_RETRIES, Outbox
from bot.adapters.telegram.platform import TelegramPlatform, menu
from bot.adapters.telegram.sender import TelegramSender
from bot.adapters.toolkit.pacing import RateLimiter

__all__ = [
    "NETWORK_RETRIES",
    "SECRET_HEADER",
    "WEBHOOK_PATH",
    "Outbox",
    "RateLimiter",
    "TelegramConfig",
    "TelegramPlatform",
    "TelegramSender",
    "callback_to_incoming",
    "looks_like_update",
    "menu",
    "protect_logs",
    "to_incoming",
]
