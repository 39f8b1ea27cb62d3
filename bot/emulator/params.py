"""Request arguments: decoding Slack's three encodings and checking names against the spec.

slack_sdk sends JSON bodies for some methods, form bodies for others, and the async client
uses query strings, so the emulator merges all three. Argument names are checked against the
official OpenAPI spec when it is available; it dates from 2020, so methods and arguments added
since (files upload v2, message metadata, ...) come from a built-in table instead.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from bot.emulator.state import JSON

SPEC_FILE = "slack_web_openapi_v2.json"

# Methods missing from the 2020 spec, or needed when it is absent: (allowed, required).
BUILTIN_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "files.getUploadURLExternal": (
        frozenset({"filename", "length", "alt_txt", "snippet_type"}),
        frozenset({"filename", "length"}),
    ),
    "files.completeUploadExternal": (
        frozenset({"files", "channel_id", "channels", "initial_comment", "thread_ts", "blocks"}),
        frozenset({"files"}),
    ),
}
# Arguments Slack added after the spec was frozen; accepted on top of the spec's list.
NEWER_PARAMS: dict[str, frozenset[str]] = {
    "chat.postMessage": frozenset({"metadata", "markdown_text", "unfurl_links", "unfurl_media"}),
    "chat.postEphemeral": frozenset({"markdown_text"}),
    "chat.update": frozenset({"metadata", "markdown_text", "file_ids", "reply_broadcast"}),
    "conversations.open": frozenset({"prevent_creation"}),
    "views.open": frozenset({"interactivity_pointer"}),
    "views.push": frozenset({"interactivity_pointer"}),
}
# Accepted by every method: the token, and the team slack_sdk adds for org-wide installs.
IGNORED = frozenset({"token", "team_id"})


class ApiError(Exception):
    """A Slack error answer: `{"ok": false, "error": code}` plus optional extra keys."""

    def __init__(self, code: str, *, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra: JSON = dict(extra)
        if messages:
            self.extra["response_metadata"] = {"messages": messages}

    def body(self) -> JSON:
        return {"ok": False, "error": self.code, **self.extra}


class Args:
    """Typed access to a call's arguments, raising Slack's own errors for bad values."""

    def __init__(self, values: JSON) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        return default if value is None else str(value)

    def opt(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value in (None, "") else str(value)

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def number(self, name: str, default: int) -> int:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        try:
            return int(str(value))
        except ValueError as exc:
            raise ApiError(
                "invalid_arguments", messages=[f"[ERROR] {name} must be a number"]
            ) from exc

    def json(self, name: str) -> Any:
        """Blocks and views arrive as JSON text in form bodies and as objects in JSON bodies."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            error = "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
            raise ApiError(error, messages=[f"[ERROR] {name} is not valid JSON"]) from exc


class ParamSpec:
    """Allowed and required argument names per method, from the spec and the built-in table."""

    def __init__(self, spec_dir: Path | None) -> None:
        self._table = dict(BUILTIN_PARAMS)
        if spec_dir is not None and (spec_dir / SPEC_FILE).is_file():
            self._table.update(_load_spec(spec_dir / SPEC_FILE))

    @property
    def from_spec(self) -> bool:
        return len(self._table) > len(BUILTIN_PARAMS)

    def knows(self, method: str) -> bool:
        return method in self._table

    def check(self, method: str, args: JSON) -> None:
        if method not in self._table:
            return
        allowed, required = self._table[method]
        allowed = allowed | NEWER_PARAMS.get(method, frozenset()) | IGNORED
        unknown = sorted(set(args) - allowed)
        if unknown:
            raise ApiError(
                "invalid_arg_name", messages=[f"[ERROR] unknown argument: {n}" for n in unknown]
            )
        missing = sorted(n for n in required - IGNORED if args.get(n) in (None, ""))
        if missing:
            raise ApiError(
                "invalid_arguments",
                messages=[f"[ERROR] missing required field: {n}" for n in missing],
            )


@cache
def _load_spec(path: Path) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    spec = json.loads(path.read_text("utf-8"))
    table: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for route, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            params = operation.get("parameters", [])
            names = frozenset(p["name"] for p in params)
            required = frozenset(p["name"] for p in params if p.get("required"))
            table[route.lstrip("/")] = (names, required)
    return table
