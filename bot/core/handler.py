"""The shared handler: one IncomingMessage in, a list of Replies out, whatever the platform."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from bot.core.commands import Accepts, Vocabulary, no_arguments, split_command, strip_prefix
from bot.core.guide_commands import GuideCommands
from bot.core.knowledge import ENTRY_IDS, Content, Entry, KnowledgeBase
from bot.core.lexicon import BYE_WORDS, GREETING_WORDS, OK_WORDS, SMALLTALK_WORDS, STEP_WORDS, THANKS_WORDS
from bot.core.matching import Match, Matcher
from bot.core.messages import Button, IncomingMessage, Link, Reply, fit_label
from bot.core.ports import Clock, Store, Translations, Translator, UserKey, UserState
from bot.core.ratelimit import RateLimiter
from bot.core.text import MAX_INPUT_CHARS, fold, normalize

_log = logging.getLogger(__name__)
#: Id of the message being handled, for log lines (set by Handler.handle).
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
# One person at a terminal: no rate limit (scripts pipe many lines at once).
_LOCAL_PLATFORMS = frozenset({"console", "cli"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
#: A sentence this long (in words) in another language than the user's changes their language.
SENTENCE_WORDS = 4
#: Length of the reference a "did you mean" question's buttons carry (hex digits).
CLARIFY_REF_CHARS = 16


def clarify_choice(action: str) -> tuple[str | None, str | None]:
    """The entry and the question reference of a topic button: ``topic:<entry>:<ref>`` (a "did you
    mean" choice) gives both, ``topic:<entry>`` the entry alone; anything else ``(None, None)``."""
    name, _, rest = action.partition(":")
    if name != "topic" or not rest:
        return None, None
    entry, _, ref = rest.partition(":")
    return entry, ref or None


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """What the handler needs from configuration.

    Attributes:
        default_locale: Language for users whose language is unknown (``HOC_DEFAULT_LOCALE``).
        country: District country overriding the one derived from the locale (``HOC_COUNTRY``).
        max_input: Longest message read; the rest is cut with a notice.
        rate_limit: Messages one user may send per ``rate_window`` seconds (0: no limit).
        rate_window: The rate limit's window, in seconds.
    """

    default_locale: str = "fr"
    country: str | None = None
    max_input: int = MAX_INPUT_CHARS
    rate_limit: int = 20
    rate_window: float = 10.0


@dataclass(frozen=True, slots=True)
class Turn:
    """Everything known while answering one message."""

    msg: IncomingMessage
    key: UserKey
    user: UserState
    lang: str
    locale: str
    t: Translator


CommandFn = Callable[[Turn, str], list[Reply]]


class Handler:
    """Answers messages from the knowledge base; never sends anything itself."""

    def __init__(
        self,
        kb: KnowledgeBase,
        translations: Translations,
        store: Store,
        clock: Clock,
        settings: HandlerSettings | None = None,
        matcher: Matcher | None = None,
    ) -> None:
        self.kb = kb
        self.matcher = matcher or Matcher(kb)
        self.translations = translations
        self.store = store
        self.clock = clock
        self.settings = settings or HandlerSettings()
        self.commands: dict[str, CommandFn] = {}
        self.accepts: dict[str, Accepts] = {}
        self._extra_aliases: dict[str, tuple[str, ...]] = {}
        self._vocabulary: Vocabulary | None = None
        self.guide = GuideCommands(self)
        self.help_lines: list[Callable[[Translator], list[str]]] = []
        #: Hooks that read typed text as a button press (a label typed, ``Europe/Paris``): an action or None.
        self.typed_buttons: list[Callable[[Turn, str], str | None]] = [self._typed_step_button]
        self.observers: list[Callable[[IncomingMessage, list[Reply], float], None]] = []
        self.limiter = RateLimiter(self.settings.rate_limit, self.settings.rate_window)
        self.welcome: Callable[[Turn], Reply] | None = None

    # ----------------------------------------------------------------- entry point
    def handle(self, msg: IncomingMessage) -> list[Reply]:
        """Answer one message: a command, a button press, small talk or a question.

        Never raises: a failure (the database gone, a bug) becomes a short apology in the user's
        language, and is logged. A user sending faster than the rate limit gets one notice, then
        nothing until they slow down.
        """
        started = time.perf_counter()
        REQUEST_ID.set(uuid.uuid4().hex[:12])
        try:
            replies = self._handle(msg)
        except Exception:
            _log.exception("handling a %s message failed", msg.platform)
            replies = [self._apology(msg)]
        elapsed = time.perf_counter() - started
        for observe in self.observers:
            try:
                observe(msg, replies, elapsed)
            except Exception:
                _log.exception("an observer of the handler failed")
        return replies

    def _apology(self, msg: IncomingMessage) -> Reply:
        lang = self.translations.negotiate(msg.locale_hint, self.settings.default_locale)
        t = self.translations.get(lang)
        return Reply(
            t.gettext("Sorry, something went wrong on my side. Please try again in a moment."),
            lang=lang,
            kind="error",
        )

    def reload(self, kb: KnowledgeBase) -> None:
        """Serve ``kb`` from now on (it was validated by the caller)."""
        matcher = Matcher(kb, self.matcher.config)
        self.kb, self.matcher = kb, matcher

    def _handle(self, msg: IncomingMessage) -> list[Reply]:
        key = UserKey(msg.platform, msg.workspace, msg.user)
        verdict = "ok" if msg.platform in _LOCAL_PLATFORMS else self.limiter.check(key, time.monotonic())
        if verdict != "ok":
            if verdict == "silent":
                return []
            lang = self.translations.negotiate(msg.locale_hint, self.settings.default_locale)
            text = self.translations.get(lang).gettext(
                "You are sending messages very fast: I will answer again in a few seconds."
            )
            return [Reply(text, lang=lang, kind="notice")]
        text = _CONTROL.sub(" ", msg.text or "")
        notices: list[Reply] = []
        cut = len(text) > self.settings.max_input
        if cut:
            text = text[: self.settings.max_input]
        user = stored = self.store.get_user(key)
        first_contact = user is None
        if user is None:
            user = UserState(
                key=key,
                chat=msg.chat,
                locale_hint=msg.locale_hint,
                tz=msg.tz_hint,
                created_at=self.clock.now(),
            )
        elif (
            (msg.locale_hint and msg.locale_hint != user.locale_hint)
            or (msg.chat and msg.chat != user.chat)
            or (msg.tz_hint and not user.tz_chosen and msg.tz_hint != user.tz)
        ):
            user = dataclasses.replace(
                user,
                locale_hint=msg.locale_hint or user.locale_hint,
                chat=msg.chat or user.chat,
                tz=user.tz if user.tz_chosen else (msg.tz_hint or user.tz),
            )
        locale = user.locale or user.written_lang or msg.locale_hint or user.locale_hint or self.settings.default_locale
        lang = self.translations.negotiate(locale, self.settings.default_locale)
        switched = None
        if not user.locale and not msg.action and self.parse_command(text, lang)[0] is None:
            # No language chosen with "lang": a whole sentence in another language switches to it.
            written = self._sentence_language(text)
            if written is not None and written != lang:
                switched = written
                locale = lang = written
                user = dataclasses.replace(user, written_lang=written)
        turn = Turn(msg, key, user, lang, locale, self.translations.get(lang))
        if switched is not None:
            current = self.store.get_user(key)
            if current is not None:
                self.store.save_user(dataclasses.replace(current, written_lang=switched))
                notices.append(
                    Reply(
                        turn.t.gettext("From now on I will answer you in English.")
                        + " "
                        + turn.t.gettext("To change, type: {command}").format(
                            command=f"{self.command_word(turn.t, 'lang')} {stored_lang(current, self)}"
                        ),
                        lang=lang,
                        kind="notice",
                    )
                )
        if cut:
            notices.append(
                Reply(
                    turn.t.gettext("Your message was long: I read only its first {count} characters.").format(
                        count=self.settings.max_input
                    ),
                    lang=lang,
                    kind="notice",
                )
            )
        replies = self._dispatch(turn, text, first_contact)
        if first_contact and self.welcome is not None and _introduction(text, replies):
            replies = []  # "Bonjour, je suis à la mairie de Rennes": the welcome answers it
        if any(r.kind == "forget" for r in replies):
            return replies  # the user asked to be erased: keep nothing, not even this turn
        self._save(turn, stored)
        if first_contact and self.welcome is not None and not any(r.kind == "help" for r in replies):
            chosen = next((r.lang for r in replies if r.kind == "lang" and r.lang), None)
            if chosen is not None and chosen != turn.lang:
                # "lang de" as a first message: welcome them in the language they just chose.
                turn = dataclasses.replace(turn, lang=chosen, locale=chosen, t=self.translations.get(chosen))
            notices.insert(0, self.welcome(turn))
        return notices + replies

    def _sentence_language(self, text: str) -> str | None:
        """The language of ``text`` when it is clearly a sentence of one language we serve, else None.

        Short or unclear input (``next``, ``ok``, a command, code) says nothing of the language;
        a script of one language (Hangul, Arabic) does.
        """
        detected = self.matcher.detect_language(text, sentence_words=SENTENCE_WORDS)
        if detected is None:
            return None
        lang = self.translations.negotiate(detected)
        return lang if lang == detected.split("-")[0] and lang in self.languages() else None

    def _save(self, turn: Turn, stored: UserState | None) -> None:
        """Record first contact and what the platform told us; commands saved their own changes.

        ``stored`` is the user as read at the start of the turn: when it was welcomed already and
        the platform tells nothing new, there is nothing to record (nor to read again).
        """
        if (
            stored is not None
            and stored.welcomed
            and (stored.locale_hint, stored.chat) == (turn.user.locale_hint, turn.user.chat)
        ):
            return
        current = self.store.get_user(turn.key)
        if current is None:
            self.store.save_user(dataclasses.replace(turn.user, welcomed=True))
        elif not current.welcomed or (current.locale_hint, current.chat) != (
            turn.user.locale_hint,
            turn.user.chat,
        ):
            self.store.save_user(
                dataclasses.replace(current, welcomed=True, locale_hint=turn.user.locale_hint, chat=turn.user.chat)
            )

    def _dispatch(self, turn: Turn, text: str, first_contact: bool) -> list[Reply]:
        if turn.msg.action:
            return self._action(turn, text.strip())
        if len(text.split()) <= 8:
            # A button's label typed as text does what the button does ("Remind me", "Europe/Paris").
            for press in self.typed_buttons:
                action = press(turn, text)
                if action is not None:
                    pressed = dataclasses.replace(turn.msg, text=action, action=True)
                    return self._action(dataclasses.replace(turn, msg=pressed), action)
        command, args = self.parse_command(text, turn.lang)
        if command is not None:
            return self.commands[command](turn, args)
        folded = normalize(text)
        if not folded:
            return self.guide.help(turn, "")
        small = self._smalltalk(turn, folded)
        if small is not None:
            return small
        step = self._step_question(folded)
        if step is not None:
            return self.guide.step(turn, str(step))
        return self.answer(turn, text)

    def register(self, name: str, fn: CommandFn, *aliases: str, accepts: Accepts = no_arguments) -> None:
        """Add a command (extensions such as onboarding use this).

        Args:
            name: The command's name, also the English word that calls it; the catalogs give the
                words of other languages (context ``command``).
            fn: What the command does.
            aliases: Words that are not in the catalogs (admin commands).
            accepts: Whether a message's arguments fit the command; when they do not, the message is
                a question (``plan a district event`` is not ``plan``).
        """
        self.commands[name] = fn
        self.accepts[name] = accepts
        self._extra_aliases[name] = aliases
        self._vocabulary = None

    @property
    def vocabulary(self) -> Vocabulary:
        """The command words of every shipped language (built on first use)."""
        if self._vocabulary is None:
            translators = [self.translations.get(lang) for lang in self.languages()]
            vocabulary = Vocabulary.build(translators, self._extra_aliases)
            known = set(self.commands)
            self._vocabulary = Vocabulary(
                {k: v for k, v in vocabulary.aliases.items() if v in known},
                vocabulary.arguments,
                vocabulary.first_word,
            )
        return self._vocabulary

    def languages(self) -> list[str]:
        """The languages users can choose: those of the knowledge base."""
        return sorted(set(self.kb.languages))

    def command_word(self, t: Translator, name: str) -> str:
        """The word for command ``name`` in ``t``'s language (``plan``, ``fait``)."""
        return self.vocabulary.first_word.get(t.lang, {}).get(name, name)

    # ----------------------------------------------------------------- parsing
    def parse_command(self, text: str, lang: str = "en") -> tuple[str | None, str]:
        """``("step", "2")`` for ``/hoc step 2``, ``étape 2`` or ``/step 2``; ``(None, text)`` otherwise.

        A message is a command only when all of it parses as one: its first words name a command
        and the rest fits that command's arguments. ``/hoc`` alone is ``help``; after ``/hoc``, text
        that is not a command is a question.
        """
        stripped, had_prefix = strip_prefix(text)
        if not stripped:
            return ("help", "") if had_prefix else (None, text)
        found = split_command(stripped, self.vocabulary.aliases)
        if found is None or not self.accepts[found[0]](found[1], lang):
            return (None, stripped if had_prefix else text)
        return found

    def _typed_step_button(self, turn: Turn, text: str) -> str | None:
        """The labels of the handler's own buttons typed as text: "All steps", "Show step 2"."""
        typed = fold(text)
        t = turn.t
        if typed == fold(t.gettext("All steps")):
            return "steps"
        for number in range(1, 6):
            for label in (t.gettext("Show step {number}"), t.gettext("Next: step {number}")):
                if typed == fold(label.format(number=number)):
                    return f"step:{number}"
        return None

    def _step_question(self, folded: str) -> int | None:
        """``étape 3``, ``step 3 ?``, ``3단계``: a short question naming a step by its number."""
        words = folded.split()
        if len(words) > 4:
            return None
        for i, word in enumerate(words):
            for step_word in STEP_WORDS:
                if word == step_word and i + 1 < len(words) and words[i + 1] in "12345":
                    return int(words[i + 1])
                if word.endswith(step_word) and word[: -len(step_word)] in {"1", "2", "3", "4", "5"}:
                    return int(word[: -len(step_word)])
        return None

    def _smalltalk(self, turn: Turn, folded: str) -> list[Reply] | None:
        words = folded.split()
        if not words or len(words) > 6 or any(w not in SMALLTALK_WORDS for w in words):
            return None
        t = turn.t
        plan = self.command_word(t, "plan")
        text = None
        if any(w in THANKS_WORDS for w in words):
            text = t.gettext("You're welcome! Ask me anything else about the guide.")
        elif any(w in BYE_WORDS for w in words):
            text = t.gettext("Goodbye! Come back whenever you like: type “{plan}” to see where you are.").format(
                plan=plan
            )
        elif all(w in OK_WORDS for w in words):
            text = t.gettext("Good. Type “{plan}” for your next step, or ask me a question.").format(plan=plan)
        if text is not None:
            return [Reply(text, lang=turn.lang, kind="smalltalk")]
        return [
            Reply(
                t.gettext(
                    "Hello! I help you bring every school of your district into the Hour of Code. "
                    "Ask me a question, or pick a topic."
                ),
                buttons=self.topic_buttons(turn),
                lang=turn.lang,
                kind="smalltalk",
            )
        ]

    # ----------------------------------------------------------------- answering
    def answer(self, turn: Turn, text: str) -> list[Reply]:
        """Answer a free-text question from the knowledge base."""
        match = self.matcher.match(text)
        meta: dict[str, object] = {
            "score": match.score,
            "suggestions": list(match.suggestions),
            "guesses": [list(guess) for guess in match.guesses],
        }
        reply = None
        if match.decision == "answer" and match.topic:
            entry = self.kb.get(match.topic)
            if entry is not None:
                reply = self.entry_reply(turn, entry)
        elif match.decision == "clarify" and match.suggestions:
            reply = self._clarify(turn, match)
        if reply is None:
            reply = self.fallback(turn)
        reply.meta.update(meta)
        return [reply]

    def content_lang(self, entry: Entry, turn: Turn) -> str:
        """The language of ``entry`` to show this user."""
        base = turn.locale.replace("_", "-").split("-")[0].lower()
        code, _ = entry.best(base, self.settings.default_locale)
        return code

    def entry_reply(self, turn: Turn, entry: Entry) -> Reply:
        """An entry as a reply, in the user's language, with links for the user's country."""
        code, content = entry.best(turn.locale.replace("_", "-").split("-")[0].lower(), self.settings.default_locale)
        locale = turn.locale if turn.locale.lower().startswith(code.lower()) else code
        links = self.links_for(content, locale)
        buttons: list[Button] = []
        t = turn.t
        if entry.step is not None and entry.step < 5:
            buttons.append(
                Button(
                    f"step:{entry.step + 1}",
                    fit_label(t.gettext("Next: step {number}").format(number=entry.step + 1)),
                )
            )
        buttons.append(Button("steps", fit_label(t.gettext("All steps"))))
        title = content.title
        if entry.step is not None:
            title = t.gettext("Step {number} of {total}: {title}").format(number=entry.step, total=5, title=title)
        return Reply(
            content.answer,
            links=links,
            buttons=tuple(buttons),
            title=title,
            lang=code,
            kind="answer",
            topic=entry.id,
        )

    def links_for(self, content: Content, locale: str) -> tuple[Link, ...]:
        """The links of ``content`` resolved for ``locale`` and the district's country.

        A link to a page only in English (for a reader of another language), or only for the United
        States (for a reader elsewhere), carries a note saying so in the language of ``locale``.
        """
        out = []
        t: Translator | None = None
        for ref in content.links:
            url = self.kb.links.url_of(ref, locale, self.settings.country)
            if not url:
                continue
            note = ""
            restriction = self.kb.links.restriction(ref, locale, self.settings.country)
            if restriction is not None:
                t = t or self.translations.get(self.translations.negotiate(locale, self.settings.default_locale))
                note = t.gettext("(English only)") if restriction == "english" else t.gettext("(U.S. only)")
            out.append(Link(ref.label, url, note))
        return tuple(out)

    def _clarify(self, turn: Turn, match: Match) -> Reply:
        # The buttons carry a random reference that the questions log keeps with the question: the
        # choice clicked is recorded against the question (an editor's implicit label) without the
        # log ever naming who asked.
        ref = uuid.uuid4().hex[:CLARIFY_REF_CHARS]
        buttons = []
        for eid in match.suggestions:
            entry = self.kb.get(eid)
            if entry is not None:
                choice = f"{eid}:{ref}"
                buttons.append(Button(f"topic:{choice}", fit_label(self.title(entry, turn))))
        if match.several:
            text = turn.t.gettext("Your question is about several steps. Which one first?")
        else:
            text = turn.t.gettext("I am not sure I understood. Did you mean:")
        return Reply(
            text,
            buttons=tuple(buttons),
            lang=turn.lang,
            kind="clarify",
            topic=match.topic,
            meta={"ref": ref},
        )

    def fallback(self, turn: Turn) -> Reply:
        faq = self.kb.links.resolve("faq", turn.locale, self.settings.country)
        links = (Link(turn.t.gettext("Hour of Code FAQ"), faq),) if faq else ()
        return Reply(
            turn.t.gettext(
                "I could not find that in the district guide. Here are the topics I know; the FAQ may help too."
            ),
            links=links,
            buttons=self.topic_buttons(turn),
            lang=turn.lang,
            kind="fallback",
        )

    def title(self, entry: Entry, turn: Turn) -> str:
        _, content = entry.best(turn.locale.split("-")[0].lower(), self.settings.default_locale)
        if entry.step is not None:
            return turn.t.gettext("Step {number}: {title}").format(number=entry.step, title=content.title)
        return content.title

    def topic_buttons(self, turn: Turn) -> tuple[Button, ...]:
        order = {eid: i for i, eid in enumerate(ENTRY_IDS)}
        entries = sorted(self.kb.entries, key=lambda e: (order.get(e.id, len(order)), e.id))
        return tuple(Button(f"topic:{e.id}", fit_label(self.title(e, turn))) for e in entries)

    # ----------------------------------------------------------------- buttons
    def _action(self, turn: Turn, action: str) -> list[Reply]:
        name, _, arg = action.partition(":")
        if name == "topic":
            entry = self.kb.get(clarify_choice(action)[0] or "")
            if entry is not None:
                return [self.entry_reply(turn, entry)]
        elif name in self.commands:
            return self.commands[name](turn, arg)
        return [
            Reply(
                turn.t.gettext("That button is no longer valid. Here are the topics I know:"),
                buttons=self.topic_buttons(turn),
                lang=turn.lang,
                kind="error",
            )
        ]


def stored_lang(user: UserState, handler: Handler) -> str:
    """The language ``user`` was answered in before this turn."""
    return handler.translations.negotiate(
        user.written_lang or user.locale_hint or handler.settings.default_locale, handler.settings.default_locale
    )


#: Question marks of the languages served (Latin, Arabic, full-width, Spanish opening).
_QUESTION_MARKS = ("?", "؟", "？", "¿")


def _introduction(text: str, replies: list[Reply]) -> bool:
    """Whether a first message is a greeting with an introduction ("Hallo, ich bin Koordinatorin beim
    Schulamt Freiburg") that found no answer: no question mark, the first word a greeting, and only a
    fallback or a "did you mean" to show for it."""
    words = normalize(text).split()
    return (
        bool(words)
        and words[0] in GREETING_WORDS
        and not any(mark in text for mark in _QUESTION_MARKS)
        and bool(replies)
        and all(r.kind in {"fallback", "clarify"} for r in replies)
    )
