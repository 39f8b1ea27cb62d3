"""Ranked, typo-tolerant search over entity names, titles, tags, descriptions, types and
lifecycles.

An inverted index from word to (entity, field) postings, packed into arrays so 50,000
entities cost a few megabytes. A query word matches a word in the index exactly, as a
prefix, or — through a trigram index over the vocabulary — as a close misspelling; each
match scores by how good it is times how telling the field is (a name beats a description).

Words are Unicode: text is casefolded and NFKC-normalised (so `CAFÉ`, `café` typed with a
combining accent, full-width letters and `Straße`/`strasse` meet), and a word is a run of
letters, digits and combining marks in any script (Devanagari vowel signs stay inside their
word). The word pattern is one character class repeated, so matching is linear; ASCII text,
most of any catalog, takes a faster class that finds the same words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from difflib import SequenceMatcher
from typing import Protocol

MAX_QUERY_WORDS = 8
# Field codes are stored in the low three bits of each posting.
NAME, TITLE, TAG, DESCRIPTION, TYPE, LIFECYCLE = 0, 1, 2, 3, 4, 5
FIELD_WEIGHT = (8.0, 5.0, 4.0, 1.5, 3.0, 2.0)
_FIELD_BITS = 3
_FIELD_MASK = (1 << _FIELD_BITS) - 1
EXACT, PREFIX, FUZZY = 1.0, 0.7, 0.55
MAX_PREFIX_WORDS = 40
MAX_FUZZY_WORDS = 6
FUZZY_CUTOFF = 0.75


class Searchable(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def display_name(self) -> str | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def type(self) -> str | None: ...
    @property
    def lifecycle(self) -> str | None: ...


_ASCII_WORD = re.compile(r"[a-z0-9]+")


@functools.cache
def _word_pattern() -> re.Pattern[str]:
    """Word characters (`\\w`) or the combining marks `\\w` leaves out, as code point ranges."""
    ranges: list[list[int]] = []
    for code in (*range(0x20000), *range(0xE0100, 0xE01F0)):
        if unicodedata.category(chr(code)).startswith("M"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    marks = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    return re.compile(r"[\w" + marks + r"]+")


def normalize(text: str) -> str:
    """Casefolded NFKC, the form both the index and queries are compared in."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def words(text: str | None) -> list[str]:
    """The words of `text` in normalised form; `_` separates words, as `-` does."""
    if not text:
        return []
    if text.isascii():  # most catalogs: the same words, several times faster
        return _ASCII_WORD.findall(text.lower())
    return _word_pattern().findall(normalize(text).replace("_", " "))


def _trigrams(word: str) -> set[str]:
    padded = f" {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class SearchIndex:
    def __init__(self, entities: Sequence[Searchable]) -> None:
        postings: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
        for position, entity in enumerate(entities):
            seen: set[tuple[str, int]] = set()
            for code, texts in (
                (NAME, [entity.name]),
                (TITLE, [entity.title, entity.display_name]),
                (TAG, list(entity.tags)),
                (DESCRIPTION, [entity.description]),
                (TYPE, [entity.type]),
                (LIFECYCLE, [entity.lifecycle]),
            ):
                for text in texts:
                    for word in words(text):
                        if (word, code) not in seen:
                            seen.add((word, code))
                            postings[word].append(position << _FIELD_BITS | code)
        self._postings = dict(postings)
        self._vocabulary = sorted(self._postings)
        grams: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
        for number, word in enumerate(self._vocabulary):
            for gram in _trigrams(word):
                grams[gram].append(number)
        self._grams = dict(grams)
        self.size = len(entities)

    def search(
        self, query: str, *, limit: int = 10, allowed: Callable[[int], bool] | None = None
    ) -> list[tuple[float, int]]:
        """(score, position) of the best matches, best first; only `allowed` positions."""
        query_words = list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]
        if not query_words:
            return []
        totals: dict[int, float] = defaultdict(float)
        hits: dict[int, int] = defaultdict(int)
        for query_word in query_words:
            best: dict[int, float] = {}
            for word, quality in self._expand(query_word):
                for posting in self._postings[word]:
                    score = quality * FIELD_WEIGHT[posting & _FIELD_MASK]
                    position = posting >> _FIELD_BITS
                    if score > best.get(position, 0.0):
                        best[position] = score
            for position, score in best.items():
                totals[position] += score
                hits[position] += 1
        everything = len(query_words)
        ranked = [
            (score * (1.5 if hits[position] == everything else 1.0), position)
            for position, score in totals.items()
            if allowed is None or allowed(position)
        ]
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return ranked[:limit]

    def _expand(self, query_word: str) -> Iterable[tuple[str, float]]:
        """Index words standing for `query_word`, with the quality of each match."""
        if query_word in self._postings:
            yield query_word, EXACT
        if len(query_word) >= 2:
            start = bisect_left(self._vocabulary, query_word)
            for word in self._vocabulary[start : start + MAX_PREFIX_WORDS + 1]:
                if not word.startswith(query_word):
                    break
                if word != query_word:
                    yield word, PREFIX
        if len(query_word) >= 3:
            yield from self._fuzzy(query_word)

    def _fuzzy(self, query_word: str) -> Iterable[tuple[str, float]]:
        counts: dict[int, int] = defaultdict(int)
        for gram in _trigrams(query_word):
            for number in self._grams.get(gram, ()):
                counts[number] += 1
        # The words sharing the most trigrams are the only ones worth a closer look.
        candidates = sorted(counts.items(), key=lambda item: -item[1])[: MAX_FUZZY_WORDS * 4]
        scored = []
        for number, _ in candidates:
            word = self._vocabulary[number]
            if word == query_word or word.startswith(query_word):
                continue
            ratio = SequenceMatcher(None, query_word, word).ratio()
            if ratio >= FUZZY_CUTOFF:
                scored.append((ratio, word))
        scored.sort(reverse=True)
        for ratio, word in scored[:MAX_FUZZY_WORDS]:
            yield word, FUZZY * ratio
