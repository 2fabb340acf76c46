"""Slack adapter on slack-bolt: Slack events to IncomingMessage, replies to Block Kit, reminders to DMs.

- ``config``: the SLACK_* settings;
- ``input``: what the endpoint checks before bolt sees a request, and which events are a person writing;
- ``render``: replies as Block Kit messages and the App Home view;
- ``client``: Web API clients (429s waited out up to a cap) and their failures in the runner's terms;
- ``oauth``: signed OAuth states and the installation store (many workspaces);
- ``delivery``: where a turn's replies go and the calls that post them;
- ``sender``: the reminder sender (a user's DM, paced per channel);
- ``platform``: ``hoc-bot run``'s Slack platform.
"""

from bot.adapters.slack.client import make_client, send_error
from bot.adapters.slack.config import BOT_SCOPES, SlackConfig
from bot.adapters.slack.input import is_user_message
from bot.adapters.slack.oauth import SignedStateStore, ThreadedInstallationStore
from bot.adapters.slack.platform import SlackBotParts, SlackPlatform
from bot.adapters.slack.sender import SlackSender

__all__ = [
    "BOT_SCOPES",
    "SignedStateStore",
    "SlackBotParts",
    "SlackConfig",
    "SlackPlatform",
    "SlackSender",
    "ThreadedInstallationStore",
    "is_user_message",
    "make_client",
    "send_error",
]
