"""The one type in (IncomingMessage) and the one type out (Reply) shared by every platform."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message from a user, already converted from the platform's event.

    Attributes:
        platform: ``console``, ``slack`` or ``telegram``.
        workspace: Slack team id, or ``""`` where the platform has none.
        user: The platform's user id.
        chat: Where to answer (channel or chat id).
        text: What the user typed, or the id of the button pressed when ``action`` is set.
        locale_hint: The locale the platform reports for the user (``fr-FR``), if any.
        action: True when ``text`` is a button id rather than typed text.
        tz_hint: The IANA time zone the platform reports for the user, if any.
    """

    platform: str
    user: str
    text: str
    workspace: str = ""
    chat: str = ""
    locale_hint: str | None = None
    action: bool = False
    tz_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A link shown under a reply.

    Attributes:
        label: The text of the link.
        url: Where it goes.
        note: A short remark shown after the link, already in the reply's language, such as
            "(English only)" for a page that exists only in English; empty for none.
    """

    label: str
    url: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Button:
    """A button; ``id`` comes back as the text of an action message when pressed."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Platform-neutral reply that adapters render.

    Attributes:
        text: Plain text; adapters escape it for their markup.
        links: Links to show with the text.
        buttons: Buttons to offer.
        title: Optional heading shown in bold.
        lang: The language the reply is written in.
        kind: What produced it (``answer``, ``clarify``, ``fallback``, ``help``, ``error`` …).
        topic: The knowledge entry answered, if any.
        replace: True when the reply should replace the message whose button was pressed.
    """

    text: str
    links: tuple[Link, ...] = ()
    buttons: tuple[Button, ...] = ()
    title: str = ""
    lang: str = "en"
    kind: str = "info"
    topic: str | None = None
    replace: bool = False
    meta: dict[str, object] = field(default_factory=dict, compare=False, hash=False)


#: Slack's limit on a button label; the strictest of the platforms.
MAX_BUTTON_LABEL = 75


def fit_label(label: str, limit: int = MAX_BUTTON_LABEL) -> str:
    """A button label cut to the platforms' limit."""
    label = " ".join(label.split())
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"
