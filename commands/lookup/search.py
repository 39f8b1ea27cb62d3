"""Ranked, typo-tolerant search over entity names, titles, tags and descriptions.

An inverted index from word to (entity, field) postings, packed into arrays so 50,000
entities cost a few megabytes. A query word matches a word in the index exactly, as a
prefix, or — through a trigram index over the vocabulary — as a close misspelling; each
match scores by how good it is times how telling the field is (a name beats a description).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from typing import Protocol

WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY_WORDS = 8
# Field codes are stored in the low two bits of each posting.
NAME, TITLE, TAG, DESCRIPTION = 0, 1, 2, 3
FIELD_WEIGHT = (8.0, 5.0, 4.0, 1.5)
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
    def description(self) -> str | None: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


def words(text: str | None) -> list[str]:
    return WORD.findall(text.lower()) if text else []


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
                (TITLE, [entity.title]),
                (TAG, list(entity.tags)),
                (DESCRIPTION, [entity.description]),
            ):
                for text in texts:
                    for word in words(text):
                        if (word, code) not in seen:
                            seen.add((word, code))
                            postings[word].append(position << 2 | code)
        self._postings = dict(postings)
        self._vocabulary = sorted(self._postings)
        grams: defaultdict[str, array[int]] = defaultdict(lambda: array("I"))
        for number, word in enumerate(self._vocabulary):
            for gram in _trigrams(word):
                grams[gram].append(number)
        self._grams = dict(grams)
        self.size = len(entities)

    def search(self, query: str, *, limit: int = 10) -> list[tuple[float, int]]:
        """(score, position) of the best matches, best first."""
        query_words = list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]
        if not query_words:
            return []
        totals: dict[int, float] = defaultdict(float)
        hits: dict[int, int] = defaultdict(int)
        for query_word in query_words:
            best: dict[int, float] = {}
            for word, quality in self._expand(query_word):
                for posting in self._postings[word]:
                    score = quality * FIELD_WEIGHT[posting & 3]
                    position = posting >> 2
                    if score > best.get(position, 0.0):
                        best[position] = score
            for position, score in best.items():
                totals[position] += score
                hits[position] += 1
        everything = len(query_words)
        ranked = [
            (score * (1.5 if hits[position] == everything else 1.0), position)
            for position, score in totals.items()
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
