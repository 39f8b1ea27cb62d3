"""A parameter's `pattern`: a small regular language matched in linear time.

Runbook authors write patterns, people type values, and both are untrusted enough that
Python's backtracking `re` (where `(a+)+b` takes exponential time) is not used. The language
is what parameter checks need: literals, `\\` escapes (`\\d \\w \\s` and escaped punctuation),
`.`, classes `[a-z0-9_-]` (`[^…]` negates), each optionally quantified by `? * + {m} {m,n}`.
There are no groups, alternation or back-references (a `choice` parameter covers "one of").

`compile_pattern` expands `{m,n}` into at most `MAX_STATES` states; `matches` follows every
state at once (a Thompson NFA simulation), so it reads each character once and the cost is
at most len(value) * MAX_STATES steps, whatever the pattern and the value. The whole value
must match (fullmatch).
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass

MAX_PATTERN_CHARS = 200
MAX_STATES = 400
_SHORTHANDS: dict[str, Callable[[str], bool]] = {
    "d": str.isdigit,
    "w": lambda c: c.isalnum() or c == "_",
    "s": str.isspace,
}


class PatternError(ValueError):
    """The pattern is not in the language; the message says where."""


@dataclass(frozen=True)
class _Atom:
    test: Callable[[str], bool]
    low: int
    high: int | None  # None: unbounded


@dataclass(frozen=True)
class Pattern:
    source: str
    states: tuple[tuple[Callable[[str], bool], bool], ...]
    """(test, loops): a looping state may consume any number of characters."""
    reach: tuple[int, ...]
    """reach[i]: the first state at or after i that must read a character (or the end)."""

    def matches(self, value: str) -> bool:
        current = self._closure({0})
        for char in value:
            following: set[int] = set()
            for index in current:
                if index < len(self.states):
                    test, loops = self.states[index]
                    if test(char):
                        following.add(index if loops else index + 1)
            if not following:
                return False
            current = self._closure(following)
        return len(self.states) in current

    def _closure(self, indexes: set[int]) -> set[int]:
        # An optional state may be passed over without reading a character; each state is
        # added once, so this costs O(states) per character.
        found: set[int] = set()
        covered = -1
        for index in sorted(indexes):
            if index > covered:
                covered = self.reach[index]
                found.update(range(index, covered + 1))
        return found


def compile_pattern(source: str) -> Pattern:
    if len(source) > MAX_PATTERN_CHARS:
        raise PatternError(f"at most {MAX_PATTERN_CHARS} characters")
    states: list[tuple[Callable[[str], bool], bool]] = []
    skippable: list[bool] = []
    for atom in _atoms(source):
        for _ in range(atom.low):
            states.append((atom.test, False))
            skippable.append(False)
        if atom.high is None:
            states.append((atom.test, True))
            skippable.append(True)
        else:
            for _ in range(atom.high - atom.low):
                states.append((atom.test, False))
                skippable.append(True)
        if len(states) > MAX_STATES:
            raise PatternError(f"repeats add up to more than {MAX_STATES} characters")
    reach = [len(states)] * (len(states) + 1)
    for index in range(len(states) - 1, -1, -1):
        reach[index] = reach[index + 1] if skippable[index] else index
    return Pattern(source, tuple(states), tuple(reach))


def _atoms(source: str) -> list[_Atom]:
    atoms: list[_Atom] = []
    index = 0
    while index < len(source):
        test, index = _single(source, index)
        low, high, index = _quantifier(source, index)
        atoms.append(_Atom(test, low, high))
    return atoms


def _single(source: str, index: int) -> tuple[Callable[[str], bool], int]:
    char = source[index]
    if char == "\\":
        return _escape(source, index + 1), index + 2
    if char == "[":
        return _char_class(source, index + 1)
    if char == ".":
        return (lambda c: c != "\n"), index + 1
    if char in "()|^$":
        raise PatternError(
            f"{char!r} at {index + 1}: groups, alternation and anchors are not supported"
        )
    if char in "?*+{":
        raise PatternError(f"{char!r} at {index + 1} repeats nothing")
    return (lambda c, literal=char: c == literal), index + 1


def _escape(source: str, index: int) -> Callable[[str], bool]:
    if index >= len(source):
        raise PatternError("the pattern ends with a lone backslash")
    char = source[index]
    if char in _SHORTHANDS:
        return _SHORTHANDS[char]
    if char in string.punctuation:
        return lambda c: c == char
    raise PatternError(f"\\{char} at {index}: only \\d, \\w, \\s and escaped punctuation")


def _char_class(source: str, index: int) -> tuple[Callable[[str], bool], int]:
    negated = source.startswith("^", index)
    index += negated
    ranges: list[tuple[str, str]] = []
    start = index
    while index < len(source) and (source[index] != "]" or index == start):
        low = (
            source[index + 1]
            if source[index] == "\\" and index + 1 < len(source)
            else source[index]
        )
        index += 2 if source[index] == "\\" else 1
        high = low
        if source.startswith("-", index) and index + 1 < len(source) and source[index + 1] != "]":
            high = source[index + 1]
            index += 2
            if high < low:
                raise PatternError(f"range {low}-{high} is backwards")
        ranges.append((low, high))
    if index >= len(source):
        raise PatternError("a [ class is not closed")
    frozen = tuple(ranges)
    return (lambda c: any(a <= c <= b for a, b in frozen) != negated), index + 1


def _quantifier(source: str, index: int) -> tuple[int, int | None, int]:
    if index >= len(source):
        return 1, 1, index
    char = source[index]
    if char == "?":
        return 0, 1, index + 1
    if char == "*":
        return 0, None, index + 1
    if char == "+":
        return 1, None, index + 1
    if char != "{":
        return 1, 1, index
    end = source.find("}", index)
    if end == -1:
        raise PatternError("a { repeat is not closed")
    low_text, comma, high_text = source[index + 1 : end].partition(",")
    if (
        not low_text.isdigit()
        or (high_text and not high_text.isdigit())
        or (comma and not high_text)
    ):
        raise PatternError(f"{source[index : end + 1]}: write {{m}} or {{m,n}}")
    low = int(low_text)
    high = int(high_text) if comma else low
    if high < low:
        raise PatternError(f"{source[index : end + 1]}: the maximum is below the minimum")
    return low, high, end + 1
