"""Score placeholders (`${resources.db.host}`, `${metadata.name}`) filled in by one scan.

Linear on any input: each `$` is looked at once and each `}` searched for once, with no
regular expression; the total output is bounded by a `Budget`. Exceptions carry the
placeholder, never a filled-in value (values may be passwords).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from integrations.catalog_rules import shown

Outputs = Mapping[str, Mapping[str, str | int]]
"""Resource name → output key → value, as provisioned."""


@dataclass(frozen=True)
class Workload:
    """What a placeholder may name: the workload's name and its resources."""

    name: str
    resource_names: frozenset[str]


class Unresolved(Exception):
    def __init__(self, placeholder: str, reason: str) -> None:
        self.placeholder, self.reason = placeholder, reason


class OverBudget(Exception):
    pass


class Budget:
    """Characters left for all the resolved values together."""

    def __init__(self, max_chars: int) -> None:
        self.left = max_chars

    def add(self, pieces: list[str], piece: str) -> None:
        self.left -= len(piece)
        if self.left < 0:
            raise OverBudget
        pieces.append(piece)


def substitute(text: str, workload: Workload, outputs: Outputs, budget: Budget) -> str:
    """One left-to-right scan: each `$` is looked at once, each `}` searched for once."""
    pieces: list[str] = []
    copied = 0  # text before this index is in `pieces`
    dollar = text.find("$")
    while dollar != -1:
        budget.add(pieces, text[copied:dollar])
        following = text[dollar + 1 : dollar + 2]
        if following == "{":
            end = text.find("}", dollar + 2)
            if end == -1:
                raise Unresolved(text[dollar:], "has no closing '}'")
            placeholder = text[dollar : end + 1]
            budget.add(pieces, _lookup(placeholder, workload, outputs))
            copied = end + 1
        else:
            budget.add(pieces, "$")  # `$$` is an escaped `$`; a `$` before anything else stays
            copied = dollar + (2 if following == "$" else 1)
        dollar = text.find("$", copied)
    budget.add(pieces, text[copied:])
    return "".join(pieces)


def _lookup(placeholder: str, workload: Workload, outputs: Outputs) -> str:
    parts = _reference_parts(placeholder[2:-1])
    if parts == ["metadata", "name"]:
        return workload.name
    if parts[0] != "resources" or len(parts) != 3:
        raise Unresolved(
            placeholder, "is not a placeholder the bot fills in (${resources.NAME.KEY} or "
            "${metadata.name})"
        )  # fmt: skip
    _, name, key = parts
    if name not in outputs:
        if name in workload.resource_names:
            raise Unresolved(placeholder, f"names resource {shown(name)}, which has no outputs")
        raise Unresolved(placeholder, f"names resource {shown(name)}, not in this Score file")
    if key not in outputs[name]:
        known = ", ".join(sorted(outputs[name]))
        raise Unresolved(
            placeholder, f"names output {shown(key)}, which resource {shown(name)} does not "
            f"have (it has: {shown(known)})"
        )  # fmt: skip
    return str(outputs[name][key])


def _reference_parts(reference: str) -> list[str]:
    """`resources.db.host` → its parts; `\\.` is a dot inside a part, as Score writes it."""
    parts, current, escaped = [], [], False
    for char in reference:
        if escaped:
            current.append(char if char == "." else "\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current) + ("\\" if escaped else ""))
    return parts
