"""Ranked, typo-tolerant search over entity names, titles, tags, descriptions, types and
lifecycles.

An inverted index from word to entity postings, packed into flat numpy arrays so 50,000
entities cost a few megabytes and a query scores every posting in vectorised steps (a Python
loop per posting took 20-80 ms for a common word in a 50,000-entity catalog). A query word
matches a word in the index exactly, as a prefix, or — through a trigram index over the
vocabulary — as a close misspelling; each match scores by how good it is times how telling
the field is (a name beats a description).

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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Protocol

import numpy as np
import numpy.typing as npt

MAX_QUERY_WORDS = 8
# Field codes are stored in the low three bits of each posting.
NAME, TITLE, TAG, DESCRIPTION, TYPE, LIFECYCLE = 0, 1, 2, 3, 4, 5
FIELD_WEIGHT = (8.0, 5.0, 4.0, 1.5, 3.0, 2.0)
_WEIGHT_OF = np.array(FIELD_WEIGHT)
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


def _texts(entity: Searchable) -> Iterator[tuple[int, str | None]]:
    """Each searchable text of `entity` with its field code."""
    yield NAME, entity.name
    yield TITLE, entity.title
    yield TITLE, entity.display_name
    for tag in entity.tags:
        yield TAG, tag
    yield DESCRIPTION, entity.description
    yield TYPE, entity.type
    yield LIFECYCLE, entity.lifecycle


def _trigrams(word: str) -> set[str]:
    padded = f" {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class SearchIndex:
    """The index over `entities`, addressed by their positions in that sequence.

    Postings are kept as three flat numpy arrays (one slice per vocabulary word: the
    positions of the entities holding it and the code of the best field of each, one byte
    where a float weight took eight), so a query
    scores tens of thousands of postings in a few vectorised steps instead of a Python loop
    per posting.
    """

    def __init__(self, entities: Sequence[Searchable]) -> None:
        fresh = _Postings()
        for position, entity in enumerate(entities):
            fresh.add(position, entity)
        words_of, positions, fields = fresh.arrays()
        self._set(fresh.vocabulary(), words_of, positions, fields, len(entities))

    @classmethod
    def updated(
        cls,
        previous: SearchIndex,
        moved: npt.NDArray[np.int64],
        entities: Sequence[Searchable],
        fresh_positions: Iterable[int],
    ) -> SearchIndex:
        """The index over `entities`, the same as `SearchIndex(entities)`, reusing what
        `previous` read: `moved[p]` is the new position of the entity at `previous` position
        p (-1 when it is gone or changed); only the entities at `fresh_positions` are read."""
        fresh = _Postings()
        for position in fresh_positions:
            fresh.add(position, entities[position])
        counts = np.diff(previous._offsets)
        old_words = np.repeat(np.arange(len(previous._vocabulary)), counts)
        new_positions = moved[previous._positions]
        kept = new_positions >= 0
        old_words = old_words[kept]
        vocabulary = sorted(
            {previous._vocabulary[n] for n in np.unique(old_words).tolist()} | fresh.numbers.keys()
        )
        number_in = {word: number for number, word in enumerate(vocabulary)}
        renumber = np.array([number_in.get(w, -1) for w in previous._vocabulary], dtype=np.int64)
        fresh_words, fresh_at, fresh_fields = fresh.arrays()
        fresh_renumber = np.array([number_in[w] for w in fresh.vocabulary()], dtype=np.int64)
        index = cls.__new__(cls)
        index._set(
            vocabulary,
            np.concatenate((renumber[old_words], fresh_renumber[fresh_words])),
            np.concatenate((new_positions[kept].astype(np.int32), fresh_at)),
            np.concatenate((previous._fields[kept], fresh_fields)),
            len(entities),
            _regrams(previous, renumber, vocabulary, number_in),
        )
        return index

    def _set(
        self,
        vocabulary: list[str],
        words_of: npt.NDArray[np.int64],
        positions: npt.NDArray[np.int32],
        fields: npt.NDArray[np.uint8],
        size: int,
        grams: dict[str, array[int]] | None = None,
    ) -> None:
        self._vocabulary = vocabulary
        self._offsets, self._positions, self._fields = _pack(
            len(vocabulary), words_of, positions, fields
        )
        self._grams = _grams(enumerate(vocabulary)) if grams is None else grams
        self.size = size

    def search(
        self, query: str, *, limit: int = 10, allowed: Callable[[int], bool] | None = None
    ) -> list[tuple[float, int]]:
        """(score, position) of the best matches, best first; only `allowed` positions."""
        query_words = list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]
        if not query_words or self.size == 0:
            return []
        totals = np.zeros(self.size)
        hits = np.zeros(self.size, dtype=np.uint8)
        for query_word in query_words:
            # An entity counts once per query word, by the best of its matches for it.
            best = np.zeros(self.size)
            for number, quality in self._expand(query_word):
                start, end = self._offsets[number], self._offsets[number + 1]
                positions = self._positions[start:end]
                weights = _WEIGHT_OF[self._fields[start:end]]
                best[positions] = np.maximum(best[positions], weights * quality)
            totals += best
            hits += best > 0
        scores = np.where(hits == len(query_words), totals * 1.5, totals)
        matched = np.flatnonzero(scores)
        # Best first; equal scores in index order.
        ordered = matched[np.lexsort((matched, -scores[matched]))]
        ranked: list[tuple[float, int]] = []
        for position in ordered.tolist():
            if allowed is None or allowed(position):
                ranked.append((float(scores[position]), position))
                if len(ranked) == limit:
                    break
        return ranked

    def _number(self, word: str) -> int | None:
        number = bisect_left(self._vocabulary, word)
        found = number < len(self._vocabulary) and self._vocabulary[number] == word
        return number if found else None

    def _expand(self, query_word: str) -> Iterable[tuple[int, float]]:
        """Vocabulary numbers of the words standing for `query_word`, with the quality of
        each match."""
        exact = self._number(query_word)
        if exact is not None:
            yield exact, EXACT
        if len(query_word) >= 2:
            start = bisect_left(self._vocabulary, query_word)
            for number in range(start, min(start + MAX_PREFIX_WORDS + 1, len(self._vocabulary))):
                word = self._vocabulary[number]
                if not word.startswith(query_word):
                    break
                if word != query_word:
                    yield number, PREFIX
        if len(query_word) >= 3:
            yield from self._fuzzy(query_word)

    def _fuzzy(self, query_word: str) -> Iterable[tuple[int, float]]:
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
                scored.append((ratio, word, number))
        scored.sort(reverse=True)
        for ratio, _word, number in scored[:MAX_FUZZY_WORDS]:
            yield number, FUZZY * ratio


def _grams(numbered: Iterable[tuple[int, str]]) -> dict[str, array[int]]:
    """The trigram index: each trigram's word numbers, ascending."""
    grams: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
    for number, word in numbered:
        for gram in _trigrams(word):
            grams[gram].append(number)
    return dict(grams)


def _regrams(
    previous: SearchIndex,
    renumber: npt.NDArray[np.int64],
    vocabulary: list[str],
    number_in: Mapping[str, int],
) -> dict[str, array[int]]:
    """The trigram index of `vocabulary` from `previous`'s: its words renumbered (those gone
    dropped), and only the new words' trigrams read."""
    grams: dict[str, array[int]] = {}
    for gram, numbers in previous._grams.items():
        kept = renumber[np.frombuffer(numbers, dtype=np.uint32)]
        kept = kept[kept >= 0]
        if len(kept):
            grams[gram] = array("I", kept.astype(np.uint32).tobytes())
    known = set(previous._vocabulary)
    added = [(number_in[word], word) for word in vocabulary if word not in known]
    for gram, numbers in _grams(added).items():
        merged = sorted([*grams.get(gram, ()), *numbers])
        grams[gram] = array("I", merged)
    return grams


class _Postings:
    """Postings read from entities: word numbers in the order words were first seen."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self._words = array("I")
        self._packed = array("I")

    def add(self, position: int, entity: Searchable) -> None:
        number_of, numbers = self.numbers.setdefault, self.numbers
        base = position << _FIELD_BITS
        for code, text in _texts(entity):
            found = words(text)
            if found:
                self._words.extend([number_of(word, len(numbers)) for word in found])
                self._packed.extend([base | code] * len(found))

    def vocabulary(self) -> list[str]:
        return sorted(self.numbers)

    def arrays(
        self,
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
        """(word, position, field) of each posting, words numbered as in `vocabulary()` for
        a fresh index; `updated` renumbers them itself."""
        first_seen = [self.numbers[word] for word in self.vocabulary()]
        rank = np.zeros(len(first_seen), dtype=np.int64)
        rank[np.array(first_seen, dtype=np.int64)] = np.arange(len(first_seen))
        seen_order = np.frombuffer(self._words, dtype=np.uint32).astype(np.int64)
        postings = np.frombuffer(self._packed, dtype=np.uint32)
        positions = (postings >> _FIELD_BITS).astype(np.int32)
        fields = (postings & _FIELD_MASK).astype(np.uint8)
        return rank[seen_order], positions, fields


def _pack(
    size: int,
    words_of: npt.NDArray[np.int64],
    positions: npt.NDArray[np.int32],
    fields: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
    """Offsets into, positions and field codes of every word's postings, in vocabulary order.

    A word found in several fields of one entity keeps one posting, with the code of the
    field weighing most; positions are ascending within a word. Done for all words at once:
    a numpy step per word took a second for a 50,000-entity catalog.
    """
    # By word, then position, best weight first; then the first of each (word, position).
    order = np.lexsort((-_WEIGHT_OF[fields], positions, words_of))
    words_of, positions, fields = words_of[order], positions[order], fields[order]
    first = np.ones(len(positions), dtype=bool)
    first[1:] = (positions[1:] != positions[:-1]) | (words_of[1:] != words_of[:-1])
    counts = np.bincount(words_of[first], minlength=size)
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, positions[first], fields[first]
