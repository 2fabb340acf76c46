"""Slack settings read from the environment; errors name the variable and never show a secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.core.errors import ConfigError

#: Web API base URL used unless ``SLACK_API_URL`` says otherwise.
DEFAULT_API_URL = "https://slack.com/api/"
#: Bot scopes the code uses (keep slack/manifest.yml in step).
BOT_SCOPES = ("app_mentions:read", "chat:write", "commands", "im:history", "im:write", "users:read")
#: The slash command.
COMMAND = "/hoc"


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """Slack settings; secrets stay out of ``repr`` (and so out of logs and tracebacks).

    Attributes:
        bot_token: ``SLACK_BOT_TOKEN``: one workspace.
        signing_secret: ``SLACK_SIGNING_SECRET``: verifies requests in HTTP mode.
        app_token: ``SLACK_APP_TOKEN``: Socket Mode instead of HTTP.
        client_id: ``SLACK_CLIENT_ID``: OAuth, many workspaces.
        client_secret: ``SLACK_CLIENT_SECRET``.
        state_secret: ``SLACK_STATE_SECRET``: signs the OAuth ``state``.
        api_url: ``SLACK_API_URL``: Web API base URL of every client the adapter creates.
        redirect_uri: ``SLACK_REDIRECT_URI``: OAuth redirect URL, when not the app's default one.
    """

    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    state_secret: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    redirect_uri: str | None = None

    @property
    def socket_mode(self) -> bool:
        """True when events come through Socket Mode rather than HTTP."""
        return bool(self.app_token)

    @property
    def oauth(self) -> bool:
        """True when workspaces install the app through OAuth."""
        return bool(self.client_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackConfig:
        """Read and check the ``SLACK_*`` variables.

        Raises:
            ConfigError: A variable is missing, malformed or contradicts another; the message
                names the variable and never shows a secret.
        """

        def get(name: str) -> str | None:
            return env.get(name, "").strip() or None

        bot_token = get("SLACK_BOT_TOKEN")
        app_token = get("SLACK_APP_TOKEN")
        oauth_names = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET")
        oauth = {name: get(name) for name in oauth_names}
        if any(oauth.values()):
            if bot_token:
                raise ConfigError(
                    "SLACK_BOT_TOKEN: set it for one workspace, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
                    "SLACK_STATE_SECRET for OAuth installs in many workspaces, not both"
                )
            for name in oauth_names:
                if not oauth[name]:
                    raise ConfigError(f"{name}: missing (OAuth needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and {name})")
            if len(oauth["SLACK_STATE_SECRET"] or "") < 32:
                raise ConfigError("SLACK_STATE_SECRET: too short; use at least 32 random characters")
        elif not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN: missing (or set SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET "
                "for OAuth installs)"
            )
        elif not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN: not a bot token (bot tokens start with xoxb-)")
        if app_token and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN: not an app-level token (they start with xapp-)")
        signing_secret = get("SLACK_SIGNING_SECRET") or ""
        if not app_token and not signing_secret:
            raise ConfigError(
                "SLACK_SIGNING_SECRET: missing (it verifies requests to /slack/events; "
                "or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            client_id=oauth["SLACK_CLIENT_ID"],
            client_secret=oauth["SLACK_CLIENT_SECRET"],
            state_secret=oauth["SLACK_STATE_SECRET"],
            api_url=_http_url(env, "SLACK_API_URL", DEFAULT_API_URL, trailing_slash=True) or DEFAULT_API_URL,
            redirect_uri=_http_url(env, "SLACK_REDIRECT_URI", None),
        )


def _http_url(env: Mapping[str, str], name: str, default: str | None, *, trailing_slash: bool = False) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        parts = urlsplit(raw)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name}: {raw[:200]!r} is not an http(s) URL such as https://slack.com/api/")
    return raw if not trailing_slash or raw.endswith("/") else raw + "/"
