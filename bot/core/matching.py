"""Question -> knowledge entry matching with rapidfuzz: answer, clarify or fall back."""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from rapidfuzz import fuzz, process

from bot.core.classifier import OFF_TOPIC, Prediction
from bot.core.knowledge import Entry, KnowledgeBase
from bot.core.lexicon import JOINING_WORDS, STOPWORDS, all_stopwords
from bot.core.text import (
    MAX_INPUT_CHARS,
    light_stem,
    normalize,
    proclitic_stems,
    script_of,
    strip_markup,
    token_parts,
    tokens,
    variants,
)


@dataclass(frozen=True, slots=True)
class MatchConfig:
    """Thresholds of the matcher (scores are 0–100).

    Attributes:
        answer_threshold: Minimum score to answer with an entry.
        margin: The best entry must lead the runner-up by this much to be answered outright.
        clarify_threshold: Minimum score to offer "did you mean" choices.
        coverage_weight: Share of the final score that comes from how much of the question the entry
            explains (the rest is the closest sample question's similarity).
        fuzzy_cutoff: Minimum rapidfuzz ratio for a misspelt word to count as a known word.
        max_suggestions: How many choices to offer when clarifying.
        model_answer: With a trained classifier: minimum probability (in %) of the best entry to
            answer with it.
        model_clarify: With a trained classifier: minimum probability (in %) of the best entry to offer
            choices instead of falling back; below it, or when "off-topic" is more likely, the
            question falls back.
        model_choice: With a trained classifier: minimum probability (in %) of another entry to be
            offered as a choice next to the best one.
        model_margin: With a trained classifier: the best entry's probability (in %) must lead the
            runner-up's by this much to be answered outright; otherwise both are offered.
        model_off_topic: With a trained classifier: an entry is answered outright only while the
            probability (in %) that the question is off-topic stays below this; from it, the entry
            is offered as a choice instead (near-domain questions about salaries, other events'
            posts or other pages of the website are often half-way between).
    """

    answer_threshold: float = 50.0
    margin: float = 8.0
    clarify_threshold: float = 40.0
    coverage_weight: float = 0.5
    fuzzy_cutoff: float = 84.0
    max_suggestions: int = 3
    model_answer: float = 40.0
    model_clarify: float = 25.0
    model_choice: float = 12.0
    model_margin: float = 15.0
    model_off_topic: float = 25.0


@dataclass(frozen=True, slots=True)
class Match:
    """The matcher's verdict.

    Attributes:
        decision: ``answer``, ``clarify`` or ``fallback``.
        topic: The entry answered (``answer``) or the best candidate (``clarify``), else None.
        score: Score of the best entry, 0–100.
        suggestions: Entry ids offered as choices, best first.
        lang: The language the question seems written in, when it could tell.
        several: The question asks for several entries at once (``clarify`` offers each of them).
        guesses: The likeliest classes with their scores (0–100), best first, at most three; the
            classifier's include its off-topic class. What an editor reviewing the question sees.
    """

    decision: str
    topic: str | None
    score: float
    suggestions: tuple[str, ...] = ()
    lang: str | None = None
    several: bool = False
    guesses: tuple[tuple[str, float], ...] = ()


#: How many of the matcher's guesses a Match keeps.
GUESSES = 3

# How much a word found in each field of an entry counts.
_FIELD_WEIGHTS = {"questions": 1.0, "keywords": 1.0, "title": 0.9, "answer": 0.55, "labels": 0.7}
_PREFIX_MIN = 5
# Shortest known word taken as the stem or a part of a longer unknown word, and how close that counts.
_AFFIX_MIN = 4
_AFFIX_SIM = 0.8
_HEAD_MIN = 5
# How close another form of the same word counts (see text.variants).
_VARIANT_SIM = 0.85
#: Scripts that one shipped language alone is written in: a word of them says the language.
_OWN_SCRIPTS = frozenset({"HANGUL", "ARABIC"})
_CANDIDATES = 6
# A question of two requests is short; a long message's "and" joins the parts of one request.
_TWO_REQUESTS_WORDS = 16
# ...and the whole question gives each of its two entries at least this chance (in %).
_TWO_REQUESTS_FLOOR = 0.5
# When not one word of a text is known and its best-known word has under half of its character
# n-grams known, the text is gibberish ("zzzz": 0.27, "asdfgh": 0.41) and the model's answer would only
# reflect its priors. A misspelt or inflected word stays well above ("recrutment": 0.84, "perskit": 0.69,
# "아워오브코드가": 0.81).
_GIBBERISH = 0.5
_WORD = re.compile(r"\w+")
# A letter or script found in this many languages or fewer counts towards detecting them.
_DISTINCT_LANGS = 3


class Matcher:
    """Scores a question against every entry of a knowledge base, in every language at once.

    A question is split into tokens (stop words out, CJK and Korean text as bigrams that share
    their word's weight, see :func:`~bot.core.text.token_parts`). Each token is resolved to words
    of the knowledge base: exactly, as another form of the same word (an Arabic proclitic or verb
    person), by a shared stem-like prefix, as a stem with an ending or a part of a compound, by a
    light stem (Turkish suffixes), or by rapidfuzz when misspelt. An entry's *coverage* is the share
    of the question's token weight (inverse document frequency; unknown words weigh the most) that
    the entry explains; the few best entries are then compared with rapidfuzz to their sample
    questions. Unknown words drag the score down, which is what keeps off-topic questions from being
    answered.

    The question's language is voted for by its stop words, the words it shares with each
    language's content (not counting words a translation borrowed from its fallback language) and
    the letters or script only a few languages use (ñ, ş, Hangul, Arabic...).
    """

    def __init__(self, kb: KnowledgeBase, config: MatchConfig | None = None) -> None:
        self.kb = kb
        self.config = config or MatchConfig()
        self._stop = all_stopwords()
        self._entries: list[Entry] = list(kb.entries)
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        langs_of: dict[str, set[str]] = defaultdict(set)
        self._samples: list[tuple[int, frozenset[str]]] = []
        letters: dict[str, set[str]] = defaultdict(set)
        for idx, entry in enumerate(self._entries):
            samples: list[frozenset[str]] = []
            for lang, content in sorted(entry.content.items()):
                fields: dict[str, Iterable[str]] = {
                    "questions": content.questions,
                    "keywords": content.keywords,
                    "title": (content.title,),
                    "answer": (content.answer,),
                    "labels": [link.label for link in content.links],
                }
                borrowed = self._fallback_tokens(entry, lang)
                for name, texts in fields.items():
                    weight = _FIELD_WEIGHTS[name]
                    curated = name in ("questions", "keywords")
                    for text in texts:
                        for tok in tokens(normalize(text), self._stop):
                            if postings[tok].get(idx, 0.0) < weight:
                                postings[tok][idx] = weight
                            # Words the guide left in the fallback language say nothing of this one.
                            if curated or tok not in borrowed:
                                langs_of[tok].add(lang)
                        if curated or not content.fallback:
                            for ch in set(text.casefold()):
                                if ch.isalpha() and not ch.isascii():
                                    letters[ch].add(lang)
                for text in (*content.questions, *content.keywords, content.title):
                    toks = frozenset(tokens(normalize(text), self._stop))
                    if toks:
                        samples.append(toks)
            for sample in sorted(set(samples), key=sorted):
                self._samples.append((idx, sample))
        # An Arabic word written with a one-letter proclitic (لساعه, بساعه) is the same word as the
        # plain one the knowledge base also has (ساعه): index them as one.
        alias: dict[str, str] = {}
        for tok in sorted(postings):
            stem = next((s for s in proclitic_stems(tok) if s in postings and s not in alias), None)
            if stem is not None:
                alias[tok] = stem
        for tok, stem in alias.items():
            for idx, weight in postings.pop(tok).items():
                postings[stem][idx] = max(weight, postings[stem].get(idx, 0.0))
            langs_of[stem] |= langs_of.pop(tok, set())
        if alias:
            self._samples = [(idx, frozenset(alias.get(t, t) for t in sample)) for idx, sample in self._samples]
        self._postings = dict(postings)
        self._langs_of = {tok: frozenset(v) for tok, v in langs_of.items()}
        # Letters and scripts that tell languages apart: ñ, ã, ş, ı, Hangul, Arabic, kana...
        scripts: dict[str, set[str]] = defaultdict(set)
        for ch, langs in letters.items():
            scripts[script_of(ch)] |= langs
        self._letter_langs = {ch: frozenset(v) for ch, v in letters.items() if len(v) <= _DISTINCT_LANGS}
        self._script_langs = {sc: frozenset(v) for sc, v in scripts.items() if len(v) <= _DISTINCT_LANGS}
        total = max(len(self._entries), 1)
        self._idf = {tok: math.log(1.0 + total / len(p)) for tok, p in self._postings.items()}
        self._unknown_weight = math.log(1.0 + total)
        # Where to look for a word the knowledge base lacks: words sharing its first letters (a stem),
        # or, for a typo, words of the same initial and about the same length.
        by_stem: dict[str, list[str]] = defaultdict(list)
        by_shape: dict[tuple[str, int], list[str]] = defaultdict(list)
        for tok in self._postings:
            if len(tok) >= _PREFIX_MIN:
                by_stem[tok[:_PREFIX_MIN]].append(tok)
            by_shape[(tok[0], len(tok))].append(tok)
        self._by_stem = {k: sorted(v) for k, v in by_stem.items()}
        by_light_stem: dict[str, list[str]] = defaultdict(list)
        for tok in self._postings:
            by_light_stem[light_stem(tok)].append(tok)
        self._by_light_stem = {k: sorted(v) for k, v in by_light_stem.items()}
        self._by_shape = {k: sorted(v) for k, v in by_shape.items()}
        self._resolved: dict[str, tuple[tuple[str, float], ...]] = {}
        joined: dict[int, list[str]] = defaultdict(list)
        for idx, sample in self._samples:
            joined[idx].append(" ".join(sorted(sample)))
        self._texts: dict[int, list[str]] = dict(joined)
        by_entry: dict[int, list[frozenset[str]]] = defaultdict(list)
        for idx, sample in self._samples:
            by_entry[idx].append(sample)
        self._samples_by_entry: dict[int, list[frozenset[str]]] = dict(by_entry)

    def _resolve(self, tok: str) -> tuple[tuple[str, float], ...]:
        """Words of the knowledge base that ``tok`` stands for, with a similarity in [0, 1]."""
        cached = self._resolved.get(tok)
        if cached is not None:
            return cached
        found: list[tuple[str, float]] = []
        if tok in self._postings:
            found.append((tok, 1.0))
        else:
            stem = next((s for s in proclitic_stems(tok) if s in self._postings), None)
            if stem is not None:
                found.append((stem, 1.0))
            else:
                found.extend((alt, _VARIANT_SIM) for alt in variants(tok) if alt in self._postings)
        if not found and len(tok) >= _PREFIX_MIN and not tok.isdigit():
            for word in self._by_stem.get(tok[:_PREFIX_MIN], ()):
                if _shared_prefix(tok, word) >= max(_PREFIX_MIN, min(len(tok), len(word)) - 2):
                    found.append((word, 0.85))
            if not found:
                found.extend(self._prefix_word(tok))
            # A compound is about its last part (Schul|homepage) whatever its first part matched.
            found.extend(head for head in self._head_word(tok) if head[0] not in dict(found))
            if not found:
                found.extend((word, _AFFIX_SIM) for word in self._by_light_stem.get(light_stem(tok), ()))
            if not found:
                pool = [
                    word
                    for length in range(len(tok) - 3, len(tok) + 4)
                    for word in self._by_shape.get((tok[0], length), ())
                ]
                best = process.extractOne(tok, pool, scorer=fuzz.ratio, score_cutoff=self.config.fuzzy_cutoff)
                if best is not None:
                    found.append((best[0], 0.8 * best[1] / 100.0))
        result = tuple(found)
        if len(self._resolved) > 50_000:
            self._resolved.clear()
        self._resolved[tok] = result
        return result

    def _prefix_word(self, tok: str) -> list[tuple[str, float]]:
        """The longest known word ``tok`` starts with: a stem and its ending (Turkish ``okulumuz`` ->
        ``okul``, ``plans`` -> ``plan``) or the first part of a compound."""
        for end in range(len(tok) - 1, _AFFIX_MIN - 1, -1):
            if tok[:end] in self._postings:
                return [(tok[:end], _AFFIX_SIM)]
        return []

    def _head_word(self, tok: str) -> list[tuple[str, float]]:
        """The longest known word ``tok`` ends with: the head of a compound (``bezirkshomepage`` ->
        ``homepage``, ``aanmeldformulier`` -> ``formulier``)."""
        # The first part has a few letters at least ("katmak" is not "k" + "atmak") and the head is
        # a word of its own ("reminders" is not "remin" + Turkish "ders").
        for start in range(_AFFIX_MIN - 1, len(tok) - _HEAD_MIN + 1):
            if tok[start:] in self._postings:
                return [(tok[start:], _AFFIX_SIM)]
        return []

    def _fallback_tokens(self, entry: Entry, lang: str) -> frozenset[str]:
        """Tokens of the guide text of ``entry`` in the language ``lang``'s content fell back to."""
        content = entry.content[lang]
        source = entry.content.get(content.fallback) if content.fallback else None
        if source is None or content.fallback == lang:
            return frozenset()
        texts = (source.title, source.answer, *(link.label for link in source.links))
        return frozenset(tok for text in texts for tok in tokens(normalize(text), self._stop))

    def detect_language(self, text: str, *, sentence_words: int = 0) -> str | None:
        """The language whose words, stop words and letters the text uses most, if one stands out.

        With ``sentence_words``, only a clear verdict counts: text in a script of its own (Hangul,
        Arabic), or a sentence of at least that many words where one language has at least three
        votes and one and a half more than any other.
        """
        words = normalize(text).split()
        ranked = self._votes(text, words)
        if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
            return None
        if sentence_words:
            if any(script_of(ch) in _OWN_SCRIPTS for ch in text[:MAX_INPUT_CHARS] if ch.isalpha()):
                return ranked[0][0]
            if len(words) < sentence_words or ranked[0][1] < 3:
                return None
            if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < 1.5:
                return None
        return ranked[0][0]

    def _detect(self, raw: str, words: Sequence[str]) -> str | None:
        ranked = self._votes(raw, words)
        if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
            return None
        return ranked[0][0]

    def _votes(self, raw: str, words: Sequence[str]) -> list[tuple[str, float]]:
        votes: dict[str, float] = defaultdict(float)
        for word in words:
            for lang, stop in STOPWORDS.items():
                if word in stop:
                    votes[lang] += 1.0
            for tok in tokens(word):
                langs = self._langs_of.get(tok)
                if langs is not None:
                    if len(langs) < 6:
                        for lang in langs:
                            votes[lang] += 1.0 / len(langs)
                    continue
                # An inflected word votes for the languages of the words it stands for; a looser
                # likeness (a compound part, a typo) says little of the language.
                for known, sim in self._resolve(tok):
                    langs = self._langs_of.get(known)
                    if langs and len(langs) < 6 and sim >= _VARIANT_SIM:
                        for lang in langs:
                            votes[lang] += sim / len(langs)
        for ch in set(raw[: MAX_INPUT_CHARS * 2].casefold()):
            if ch.isalpha() and not ch.isascii():
                langs = self._letter_langs.get(ch) or self._script_langs.get(script_of(ch))
                if langs:
                    for lang in langs:
                        votes[lang] += 1.0 / len(langs)
        return sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))

    def scores(self, text: str) -> list[tuple[str, float]]:
        """Every candidate entry with its score, best first."""
        return self._score(token_parts(normalize(text), self._stop))

    def _score(self, parts: list[tuple[str, float]]) -> list[tuple[str, float]]:
        if not parts:
            return []
        share_of: dict[str, float] = {}
        for tok, part in parts:
            share_of[tok] = max(part, share_of.get(tok, 0.0))
        total_weight = 0.0
        # Knowledge-base word -> (its similarity to a query word, that query word's weight).
        matched: dict[str, tuple[float, float]] = {}
        known: list[tuple[float, tuple[tuple[str, float], ...], int]] = []
        for tok, part in share_of.items():
            resolved = self._resolve(tok)
            if not resolved:
                total_weight += self._unknown_weight * part
                continue
            weight = part * max(self._idf[word] for word, _ in resolved)
            total_weight += weight
            for word, sim in resolved:
                if sim > matched.get(word, (0.0, 0.0))[0]:
                    matched[word] = (sim, weight)
            known.append((weight, resolved, sum(len(self._postings[word]) for word, _ in resolved)))
        if not known:
            return []
        # Candidates come from the question's rarer words when it has some: walking the postings of
        # words found in most entries would cost time on a large knowledge base and rank nothing.
        limit = max(64, len(self._entries) // 20)
        pool = [k for k in known if k[2] <= limit] or known
        partial: dict[int, float] = defaultdict(float)
        for weight, resolved, _ in pool:
            for idx, value in self._best_per_entry(resolved).items():
                partial[idx] += weight * value
        shortlist = heapq.nlargest(_CANDIDATES * 4, partial, key=partial.__getitem__)
        coverage: dict[int, float] = {}
        for idx in shortlist:
            total = 0.0
            for weight, resolved, _ in known:
                total += weight * max(sim * self._postings[word].get(idx, 0.0) for word, sim in resolved)
            coverage[idx] = total
        ranked = heapq.nlargest(_CANDIDATES, coverage.items(), key=itemgetter(1))
        agreement = self._agreement(matched, total_weight, {idx for idx, _ in ranked})
        query = " ".join(share_of)
        weight_cov = self.config.coverage_weight
        out: list[tuple[str, float]] = []
        for idx, cov in ranked:
            share = 100.0 * cov / total_weight
            similar = max(100.0 * agreement.get(idx, 0.0), self._sort_ratio(query, idx))
            final = weight_cov * share + (1.0 - weight_cov) * similar * min(1.0, share / 60.0)
            out.append((self._entries[idx].id, final))
        out.sort(key=lambda kv: (-kv[1], kv[0]))
        return out

    def _best_per_entry(self, resolved: tuple[tuple[str, float], ...]) -> dict[int, float]:
        """For each entry holding one of ``resolved``'s words, the best similarity times field weight."""
        if len(resolved) == 1:
            word, sim = resolved[0]
            postings = self._postings[word]
            return {idx: sim * fw for idx, fw in postings.items()} if sim != 1.0 else dict(postings)
        best: dict[int, float] = {}
        for word, sim in resolved:
            for idx, field_weight in self._postings[word].items():
                value = sim * field_weight
                if value > best.get(idx, 0.0):
                    best[idx] = value
        return best

    def _agreement(
        self, matched: dict[str, tuple[float, float]], query_weight: float, candidates: set[int]
    ) -> dict[int, float]:
        """Best weighted F1 between the question and one sample question of each candidate entry.

        Precision: the share of the question's weight found in the sample; recall: the share of the
        sample's weight found in the question. A sample with telling words the question lacks
        ("what comes *after* the Hour of Code") scores low against "what is the Hour of Code".
        """
        best: dict[int, float] = {}
        for idx in candidates:
            for sample in self._samples_by_entry.get(idx, ()):
                if matched.keys().isdisjoint(sample):
                    continue
                found = 0.0
                sample_weight = 0.0
                sample_found = 0.0
                for tok in sample:
                    w = self._idf[tok]
                    sample_weight += w
                    hit = matched.get(tok)
                    if hit is not None:
                        sample_found += w * hit[0]
                        found += hit[1] * hit[0]
                precision = min(1.0, found / query_weight) if query_weight else 0.0
                recall = sample_found / sample_weight if sample_weight else 0.0
                if precision + recall:
                    f1 = 2 * precision * recall / (precision + recall)
                    if f1 > best.get(idx, 0.0):
                        best[idx] = f1
        return best

    def _sort_ratio(self, query: str, idx: int) -> float:
        texts = self._texts[idx]
        hit = process.extractOne(query, texts, scorer=fuzz.token_sort_ratio) if texts else None
        return float(hit[1]) if hit else 0.0

    def match(self, text: str) -> Match:
        """Decide how to answer ``text``: with the knowledge base's classifier when it has one."""
        folded = normalize(text)
        lang = self._detect(text, folded.split())
        if self.kb.model is not None:
            return self._decide(text, self.kb.model.predict(text), lang)
        ranked = self._score(token_parts(folded, self._stop))
        cfg = self.config
        if not ranked:
            return Match("fallback", None, 0.0, (), lang)
        best_id, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        best_score = round(min(best, 100.0), 1)
        guesses = tuple((eid, round(min(s, 100.0), 1)) for eid, s in ranked[:GUESSES])
        if best >= cfg.answer_threshold and best - second >= cfg.margin:
            return Match("answer", best_id, best_score, (), lang, guesses=guesses)
        if best >= cfg.clarify_threshold:
            floor = max(cfg.clarify_threshold, best - 2 * cfg.margin)
            picks = tuple(eid for eid, s in ranked if s >= floor)[: cfg.max_suggestions]
            if len(picks) == 1 and best >= cfg.answer_threshold:
                return Match("answer", best_id, best_score, (), lang, guesses=guesses)
            return Match("clarify", best_id, best_score, picks, lang, guesses=guesses)
        return Match("fallback", None, best_score, (), lang, guesses=guesses)

    def _decide(self, text: str, prediction: Prediction, lang: str | None) -> Match:
        """Answer when one entry is likely; offer the likely entries when two or three share the
        probability (a question about two steps offers both); fall back when off-topic is likelier
        than any entry, or no entry is likely enough."""
        cfg = self.config
        if not prediction.known or (not prediction.words_known and prediction.coverage < _GIBBERISH):
            return Match("fallback", None, 0.0, (), lang)
        entries = [(label, 100.0 * p) for label, p in prediction.ranked if label != OFF_TOPIC]
        off_topic = 100.0 * prediction.off_topic
        guesses = tuple((label, round(100.0 * p, 1)) for label, p in prediction.ranked[:GUESSES])
        if not entries:
            return Match("fallback", None, 0.0, (), lang, guesses=guesses)
        best_id, best = entries[0]
        score = round(best, 1)
        # Halves that each sound like a step do not make a question the model finds off-topic.
        both = self._two_requests(text, prediction) if best > off_topic else ()
        if len(both) > 1:
            return Match("clarify", best_id, score, both[: cfg.max_suggestions], lang, several=True, guesses=guesses)
        runner_up = entries[1][1] if len(entries) > 1 else 0.0
        if (
            best >= cfg.model_answer
            and off_topic < cfg.model_off_topic
            and best > off_topic
            and best - runner_up >= cfg.model_margin
        ):
            return Match("answer", best_id, score, (), lang, guesses=guesses)
        if best >= cfg.model_clarify and best > off_topic:
            picks = tuple(eid for eid, p in entries if p >= cfg.model_choice)[: cfg.max_suggestions]
            return Match("clarify", best_id, score, picks or (best_id,), lang, guesses=guesses)
        return Match("fallback", None, score, (), lang, guesses=guesses)

    def _two_requests(self, text: str, whole: Prediction) -> tuple[str, ...]:
        """The entries of a question that asks for two steps at once ("réseaux sociaux ou page
        d'accueil ?"): each side of a joining word is classified on its own, and when two sides
        clearly ask for different entries that the whole question also gives a chance, both are
        returned (in the whole question's order). Otherwise nothing."""
        model = self.kb.model
        words = _WORD.findall(strip_markup(text[:MAX_INPUT_CHARS]).casefold())
        if model is None or not any(w in JOINING_WORDS for w in words) or len(words) > _TWO_REQUESTS_WORDS:
            return ()
        parts: list[list[str]] = [[]]
        for word in words:
            if word in JOINING_WORDS:
                parts.append([])
            else:
                parts[-1].append(word)
        found: set[str] = set()
        for part in parts:
            if not part:
                continue
            prediction = model.predict(" ".join(part))
            label, p = prediction.best
            if prediction.known and label != OFF_TOPIC and 100.0 * p >= self.config.model_answer:
                found.add(label)
        if len(found) < 2:
            return ()
        ranked = [label for label, p in whole.ranked if label in found and 100.0 * p >= _TWO_REQUESTS_FLOOR]
        return tuple(ranked) if len(ranked) > 1 else ()


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
