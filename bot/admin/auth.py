"""Sign-in links, sessions and CSRF tokens of the /admin console.

No password to manage: an admin (``HOC_ADMINS``) asks the bot for a link (``admin`` in chat, or
``hoc-bot admin link``) and opens it within :data:`LINK_TTL`. A link works once. Opening it shows a
button; only pressing it (a POST) spends the link, so a chat platform that previews links does not
use it up. The session id goes into a cookie (HttpOnly, Secure, SameSite=Strict, path /admin).

The database keeps only SHA-256 digests of link tokens and session ids (both 256 random bits), so
that several web processes share them, on SQLite and PostgreSQL alike, and a copy of the database
signs nobody in. A session ends :data:`SESSION_MAX` after sign-in, after :data:`SESSION_IDLE`
without a request, or at sign-out (revoked in the database). Every POST form carries a CSRF token:
an HMAC of the session's digest under the console secret (``HOC_ADMIN_SECRET``, or one generated
once and kept in the database so that every process and restart agrees on it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.errors import ConfigError
from bot.store.schema import admin_links, admin_sessions, platform_state

#: How long a sign-in link works.
LINK_TTL = dt.timedelta(minutes=10)
#: A session ends this long after sign-in, whatever happens.
SESSION_MAX = dt.timedelta(hours=8)
#: A session ends after this long without a request.
SESSION_IDLE = dt.timedelta(hours=1)
#: A session's last-seen time is written at most this often (a write per page would be wasted).
SEEN_GRANULARITY = dt.timedelta(minutes=1)
#: Name of the session cookie.
COOKIE = "hoc_admin"
#: Name of the cookie that ties the sign-in form to the browser that opened the link.
SIGNIN_COOKIE = "hoc_admin_signin"
#: Where the console secret is kept when ``HOC_ADMIN_SECRET`` is not set (``platform_state``).
SECRET_STATE = ("admin", "secret")

LinkState = Literal["valid", "expired", "used", "unknown"]


def digest(secret: str) -> str:
    """The hex SHA-256 of a token or session id: what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def public_url(env: dict[str, str] | None) -> str | None:
    """``HOC_PUBLIC_URL`` without its trailing slash, or None when unset.

    Raises ConfigError when it is not an http(s) URL.
    """
    raw = (env or {}).get("HOC_PUBLIC_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(("https://", "http://")) or len(raw) > 500:
        raise ConfigError(f"HOC_PUBLIC_URL: {raw[:60]!r} is not an address such as https://bot.example.org")
    return raw.rstrip("/")


def signin_url(base: str, token: str) -> str:
    """The link an admin opens to sign in."""
    return f"{base}/admin/signin?token={token}"


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in admin.

    Attributes:
        key: The digest of the session id (the database's key; never sent to the browser).
        admin: Who signed in (``slack:T1:U1``, ``cli:root``); never shown on a page.
        lang: The interface language chosen in the console, if any.
        csrf: The token every POST form of this session carries.
    """

    key: str
    admin: str
    lang: str | None
    csrf: str


class AdminAuth:
    """Sign-in links and sessions in the database of ``engine``."""

    def __init__(self, engine: Engine, *, secret: str | None, now: Callable[[], dt.datetime]) -> None:
        self.engine = engine
        self.now = now
        self._secret: bytes | None = secret.encode() if secret else None

    @classmethod
    def from_env(cls, engine: Engine, env: dict[str, str] | None, now: Callable[[], dt.datetime]) -> AdminAuth:
        """With ``HOC_ADMIN_SECRET`` when set (at least 32 characters)."""
        secret = (env or {}).get("HOC_ADMIN_SECRET", "").strip() or None
        if secret is not None and len(secret) < 32:
            raise ConfigError("HOC_ADMIN_SECRET: use at least 32 random characters (openssl rand -hex 32)")
        return cls(engine, secret=secret, now=now)

    # ------------------------------------------------------------------ the secret
    def secret(self) -> bytes:
        """The console secret: ``HOC_ADMIN_SECRET``, else the one in the database (made on first use)."""
        if self._secret is None:
            self._secret = self._stored_secret().encode()
        return self._secret

    def _stored_secret(self) -> str:
        platform, name = SECRET_STATE
        where = and_(platform_state.c.platform == platform, platform_state.c.name == name)
        with self.engine.connect() as conn:
            found = conn.scalar(select(platform_state.c.value).where(where))
        if found:
            return str(found)
        fresh = secrets.token_hex(32)
        try:
            with self.engine.begin() as conn:
                # Another process may have made one meanwhile: its value wins.
                found = conn.scalar(select(platform_state.c.value).where(where))
                if found:
                    return str(found)
                conn.execute(
                    insert(platform_state).values(platform=platform, name=name, value=fresh, updated_at=self.now())
                )
        except IntegrityError:
            with self.engine.connect() as conn:
                return str(conn.scalar(select(platform_state.c.value).where(where)))
        return fresh

    def _mac(self, purpose: str, value: str) -> str:
        return hmac.new(self.secret(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    # ------------------------------------------------------------------ links
    def issue_link(self, admin: str) -> str:
        """A fresh single-use token for ``admin``, valid :data:`LINK_TTL` (expired ones are purged)."""
        token = secrets.token_urlsafe(32)
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(delete(admin_links).where(admin_links.c.expires_at <= now))
            conn.execute(delete(admin_sessions).where(admin_sessions.c.expires_at <= now))
            conn.execute(
                insert(admin_links).values(
                    token_hash=digest(token), admin=admin[:200], created_at=now, expires_at=now + LINK_TTL
                )
            )
        return token

    def link_state(self, token: str) -> LinkState:
        """Whether ``token`` would sign in now (without spending it)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(admin_links.c.expires_at, admin_links.c.used_at).where(admin_links.c.token_hash == digest(token))
            ).first()
        if row is None:
            return "unknown"
        if row.used_at is not None:
            return "used"
        return "expired" if row.expires_at <= self.now() else "valid"

    def redeem(self, token: str, lang: str | None = None) -> str | None:
        """Spend ``token`` and open a session: the new session id (for the cookie), or None when the
        token is unknown, expired or already used. Two requests with one token: one session at most."""
        now = self.now()
        key = digest(token)
        with self.engine.begin() as conn:
            spent = conn.execute(
                update(admin_links)
                .where(admin_links.c.token_hash == key, admin_links.c.used_at.is_(None), admin_links.c.expires_at > now)
                .values(used_at=now)
            ).rowcount
            if spent != 1:
                return None
            admin = conn.scalar(select(admin_links.c.admin).where(admin_links.c.token_hash == key))
            session_id = secrets.token_urlsafe(32)
            conn.execute(
                insert(admin_sessions).values(
                    session_hash=digest(session_id),
                    admin=admin,
                    created_at=now,
                    seen_at=now,
                    expires_at=now + SESSION_MAX,
                    lang=lang,
                )
            )
        return session_id

    # ------------------------------------------------------------------ sessions
    def session(self, session_id: str | None) -> Session | None:
        """The live session of a cookie's ``session_id``, or None (unknown, expired, idle or revoked)."""
        if not session_id or len(session_id) > 100:
            return None
        key = digest(session_id)
        now = self.now()
        with self.engine.connect() as conn:
            row = conn.execute(select(admin_sessions).where(admin_sessions.c.session_hash == key)).first()
        if row is None or row.revoked_at is not None or row.expires_at <= now or row.seen_at + SESSION_IDLE <= now:
            return None
        if now - row.seen_at >= SEEN_GRANULARITY:
            with self.engine.begin() as conn:
                conn.execute(update(admin_sessions).where(admin_sessions.c.session_hash == key).values(seen_at=now))
        return Session(key, row.admin, row.lang, self._mac("csrf", key))

    def set_lang(self, session: Session, lang: str) -> None:
        """Keep the interface language chosen in the console."""
        with self.engine.begin() as conn:
            conn.execute(update(admin_sessions).where(admin_sessions.c.session_hash == session.key).values(lang=lang))

    def revoke(self, session: Session) -> None:
        """Sign out: the session id works no more, in any process."""
        with self.engine.begin() as conn:
            conn.execute(
                update(admin_sessions).where(admin_sessions.c.session_hash == session.key).values(revoked_at=self.now())
            )

    def live_sessions(self) -> int:
        """Sessions neither expired, idle nor revoked (for tests and operators)."""
        now = self.now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(admin_sessions.c.seen_at).where(
                    admin_sessions.c.revoked_at.is_(None), admin_sessions.c.expires_at > now
                )
            ).all()
        return sum(1 for (seen,) in rows if seen + SESSION_IDLE > now)

    # ------------------------------------------------------------------ CSRF
    def check_csrf(self, session: Session, given: str | None) -> bool:
        """True when ``given`` is the session's CSRF token."""
        return bool(given) and hmac.compare_digest(str(given).encode("utf-8", "replace"), session.csrf.encode())

    def signin_csrf(self, nonce: str) -> str:
        """The token of the sign-in form, for the nonce kept in the :data:`SIGNIN_COOKIE` cookie."""
        return self._mac("signin", nonce)

    def check_signin_csrf(self, nonce: str | None, given: str | None) -> bool:
        """True when the sign-in form's token matches the browser's nonce."""
        if not nonce or not given or len(nonce) > 100:
            return False
        return hmac.compare_digest(str(given).encode("utf-8", "replace"), self.signin_csrf(nonce).encode())
