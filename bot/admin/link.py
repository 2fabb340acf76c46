"""Sign-in links on request: the ``admin`` chat command and ``hoc-bot admin link``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from bot.admin.auth import LINK_TTL, AdminAuth, public_url, signin_url


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A fresh sign-in link.

    Attributes:
        url: The whole link, or only its path (``/admin/signin?token=…``) when ``HOC_PUBLIC_URL`` is unset.
        complete: False when the address of the bot is missing from ``url``.
        minutes: How long it works.
    """

    url: str
    complete: bool
    minutes: int


def issue(store: object, env: Mapping[str, str], now: dt.datetime, admin: str) -> IssuedLink | None:
    """A single-use sign-in link for ``admin``; None when ``store`` has no database (in-memory store)."""
    engine = getattr(store, "engine", None)
    if engine is None:
        return None
    token = AdminAuth.from_env(engine, dict(env), lambda: now).issue_link(admin)
    base = public_url(dict(env))
    minutes = int(LINK_TTL.total_seconds() // 60)
    return IssuedLink(signin_url(base or "", token), base is not None, minutes)


def link_command(store: object, env: Mapping[str, str], now: dt.datetime, user: str) -> tuple[int, str, str]:
    """``hoc-bot admin link``: (exit code, stdout, stderr)."""
    link = issue(store, env, now, f"cli:{user}")
    if link is None:
        return 2, "", "hoc-bot: the console needs the bot's database\n"
    note = (
        "" if link.complete else "hoc-bot: HOC_PUBLIC_URL is not set: put the bot's public address before this path\n"
    )
    return 0, link.url + "\n", note + f"valid {link.minutes} minutes, once\n"
