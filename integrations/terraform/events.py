"""Terraform's machine-readable UI stream (`-json`) as typed events, and `output -json`.

Each `-json` line is one object with `type`; the types the bot reacts to become frozen
dataclasses, every other type (`version`, `log`, `refresh_*`, `provision_*`, ...) is skipped,
so a newer Terraform that adds types does not break a run. A line that is not a JSON object
is refused with its length only: such a line may hold anything Terraform printed, values of
variables included, and an error message ends up in logs and chat.

Sensitive outputs are wrapped in `Sensitive`, whose repr and str never show the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from integrations.terraform.errors import MalformedOutput

T = TypeVar("T")


class Sensitive(Generic[T]):
    """A value Terraform marks sensitive; `reveal()` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        return self._value

    def __repr__(self) -> str:
        return "Sensitive('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sensitive) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Sensitive", repr(self._value)))


@dataclass(frozen=True, slots=True)
class Output:
    """One root-module output; `value` is `Sensitive` when Terraform says so."""

    name: str
    type: Any
    sensitive: bool
    value: Any


@dataclass(frozen=True, slots=True)
class SourcePosition:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class SourceRange:
    filename: str
    start: SourcePosition
    end: SourcePosition


@dataclass(frozen=True, slots=True)
class Diagnostic:
    severity: str
    """`error` or `warning`."""
    summary: str
    detail: str = ""
    address: str | None = None
    range: SourceRange | None = None


@dataclass(frozen=True, slots=True)
class PlannedChange:
    address: str
    action: str
    """create, update, delete, replace, read, noop, move, import, forget."""


@dataclass(frozen=True, slots=True)
class ChangeSummary:
    add: int
    change: int
    remove: int
    operation: str
    """plan, apply or destroy."""


@dataclass(frozen=True, slots=True)
class ApplyStart:
    address: str
    action: str


@dataclass(frozen=True, slots=True)
class ApplyComplete:
    address: str
    action: str
    elapsed_seconds: float = 0


@dataclass(frozen=True, slots=True)
class ApplyErrored:
    address: str
    action: str
    elapsed_seconds: float = 0


@dataclass(frozen=True, slots=True)
class Outputs:
    outputs: Mapping[str, Output]


Event = (
    PlannedChange | ChangeSummary | ApplyStart | ApplyComplete | ApplyErrored | Diagnostic | Outputs
)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What a plan would do: the counts and, per action, the resource addresses."""

    add: int
    change: int
    remove: int
    addresses: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_events(cls, events: list[Event]) -> PlanSummary:
        by_action: dict[str, list[str]] = {}
        for event in events:
            if isinstance(event, PlannedChange):
                by_action.setdefault(event.action, []).append(event.address)
        counts = next(
            (e for e in reversed(events) if isinstance(e, ChangeSummary)), None
        ) or ChangeSummary(0, 0, 0, "plan")
        return cls(
            add=counts.add,
            change=counts.change,
            remove=counts.remove,
            addresses={action: tuple(sorted(addrs)) for action, addrs in by_action.items()},
        )

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.remove)


def parse_line(line: str) -> Event | None:
    """One line of the `-json` stream → an event, or None for a type the bot ignores."""
    try:
        message = json.loads(line)
    except ValueError:
        raise MalformedOutput(f"a line of {len(line)} characters is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise MalformedOutput(f"a line of {len(line)} characters is not a JSON UI message")
    parse = _PARSERS.get(message["type"])
    if parse is None:
        return None
    try:
        return parse(message)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise MalformedOutput(f"a {message['type']} message lacks a field it needs") from None


def parse_outputs(text: str) -> dict[str, Output]:
    """The object `terraform output -json` prints, by output name."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        raise MalformedOutput(f"output -json gave {len(text)} characters of non-JSON") from None
    if not isinstance(data, dict):
        raise MalformedOutput("output -json did not give an object")
    return _outputs(data)


def _outputs(data: Mapping[str, Any]) -> dict[str, Output]:
    found: dict[str, Output] = {}
    for name, spec in data.items():
        sensitive = bool(spec.get("sensitive", False))
        value = spec.get("value")
        found[name] = Output(
            name=name,
            type=spec.get("type"),
            sensitive=sensitive,
            value=Sensitive(value) if sensitive else value,
        )
    return found


def _hook(message: Mapping[str, Any]) -> tuple[str, str, float]:
    hook = message["hook"]
    return hook["resource"]["addr"], hook["action"], float(hook.get("elapsed_seconds", 0))


def _planned_change(message: Mapping[str, Any]) -> PlannedChange:
    change = message["change"]
    return PlannedChange(address=change["resource"]["addr"], action=change["action"])


def _change_summary(message: Mapping[str, Any]) -> ChangeSummary:
    changes = message["changes"]
    return ChangeSummary(
        add=int(changes["add"]),
        change=int(changes["change"]),
        remove=int(changes["remove"]),
        operation=str(changes["operation"]),
    )


def _apply_start(message: Mapping[str, Any]) -> ApplyStart:
    address, action, _ = _hook(message)
    return ApplyStart(address=address, action=action)


def _apply_complete(message: Mapping[str, Any]) -> ApplyComplete:
    return ApplyComplete(*_hook(message))


def _apply_errored(message: Mapping[str, Any]) -> ApplyErrored:
    return ApplyErrored(*_hook(message))


def _diagnostic(message: Mapping[str, Any]) -> Diagnostic:
    diagnostic = message["diagnostic"]
    where = diagnostic.get("range")
    return Diagnostic(
        severity=str(diagnostic["severity"]),
        summary=str(diagnostic["summary"]),
        detail=str(diagnostic.get("detail", "")),
        address=diagnostic.get("address"),
        range=_range(where) if where else None,
    )


def _range(where: Mapping[str, Any]) -> SourceRange:
    start, end = where["start"], where["end"]
    return SourceRange(
        filename=str(where["filename"]),
        start=SourcePosition(line=int(start["line"]), column=int(start["column"])),
        end=SourcePosition(line=int(end["line"]), column=int(end["column"])),
    )


def _outputs_event(message: Mapping[str, Any]) -> Outputs:
    return Outputs(outputs=_outputs(message["outputs"]))


_PARSERS: dict[str, Callable[[Mapping[str, Any]], Event]] = {
    "planned_change": _planned_change,
    "change_summary": _change_summary,
    "apply_start": _apply_start,
    "apply_complete": _apply_complete,
    "apply_errored": _apply_errored,
    "diagnostic": _diagnostic,
    "outputs": _outputs_event,
}
