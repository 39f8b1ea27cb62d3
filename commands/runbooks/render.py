"""Checking typed parameter values and filling a step's templates with them.

Placeholders: `${params.NAME}`, `${runner}` (the runner's Slack id) and `${secret:NAME}`
(HTTP headers only). A value is URL-encoded in a URL (it cannot add a path segment, a query
or a host), fills a whole argument of a command (never split, never seen by a shell), keeps
its type in a JSON body when a string is only the placeholder, and is plain text in a
message and in a bot action's arguments (views escape it). Secrets are filled only into
what is sent, never into `shown`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bot.core.errors import InvalidInput
from commands.runbooks.ids import BlockId
from commands.runbooks.pattern import compile_pattern
from commands.runbooks.spec import Parameter, ParamType, Runbook, Step, StepKind

PLACEHOLDER = re.compile(r"\$\{(params\.[a-z][a-z0-9_]*|runner|secret:[A-Z][A-Z0-9_]*)\}")
Value = str | int | bool


class ParamsInvalid(InvalidInput):
    """Values that do not fit their parameters: block id → message, for the modal."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


def block_of(param: Parameter) -> str:
    return f"{BlockId.PARAM_PREFIX}{param.name}"


def check_values(runbook: Runbook, raw: Mapping[str, Value | None]) -> dict[str, Value]:
    """The typed values of every parameter, or `ParamsInvalid` naming each bad field."""
    values: dict[str, Value] = {}
    errors: dict[str, str] = {}
    for param in runbook.parameters:
        given = raw.get(param.name)
        if given is None or given == "":
            given = param.default
        if given is None or given == "":
            if param.required and param.type is not ParamType.BOOL:
                errors[block_of(param)] = f"{param.title} is required."
            elif param.type is ParamType.BOOL:
                values[param.name] = False
            continue
        try:
            values[param.name] = _typed(param, given)
        except ValueError as problem:
            errors[block_of(param)] = f"{param.title}: {problem}"
    if errors:
        raise ParamsInvalid(errors)
    return values


def _typed(param: Parameter, given: Value) -> Value:
    if param.type is ParamType.BOOL:
        return given if isinstance(given, bool) else str(given).lower() in ("true", "yes", "1")
    text = str(given).strip()
    if param.type is ParamType.INT:
        if not re.fullmatch(r"-?\d{1,12}", text):
            raise ValueError("a whole number, please.")
        number = int(text)
        if param.min is not None and number < param.min:
            raise ValueError(f"at least {param.min}.")
        if param.max is not None and number > param.max:
            raise ValueError(f"at most {param.max}.")
        return number
    if param.type is ParamType.CHOICE:
        if text not in param.choices:
            raise ValueError(f"one of {', '.join(param.choices)}.")
        return text
    if len(text) > param.max_length:
        raise ValueError(f"at most {param.max_length} characters.")
    if param.pattern is not None and not compile_pattern(param.pattern).matches(text):
        raise ValueError(f"does not match the pattern `{param.pattern}`.")
    return text


@dataclass(frozen=True)
class Rendered:
    """One step with its templates filled: `sent` goes out, `shown` is safe to display."""

    index: int
    title: str
    kind: StepKind
    shown: str
    risky: bool
    action: str | None
    method: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    expect: tuple[int, ...] = ()
    argv: tuple[str, ...] = ()
    timeout: float | None = None
    channel: str = ""
    text: str = ""
    bot_action: str = ""
    args: dict[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    """The secret values filled in, to mask wherever the step's output shows them."""


class _Filler:
    def __init__(self, values: Mapping[str, Value], runner: str, secrets: Mapping[str, str]):
        self.values, self.runner, self.secrets = values, runner, secrets
        self.used: list[str] = []

    def one(self, name: str, *, reveal: bool) -> str:
        if name == "runner":
            return self.runner
        if name.startswith("secret:"):
            key = name.removeprefix("secret:")
            if not reveal:
                return f"[secret {key}]"
            self.used.append(self.secrets[key])
            return self.secrets[key]
        value = self.values.get(name.removeprefix("params."), "")
        return str(value).lower() if isinstance(value, bool) else str(value)

    def text(self, template: str, *, reveal: bool = False, encode: bool = False) -> str:
        def fill(match: re.Match[str]) -> str:
            value = self.one(match.group(1), reveal=reveal)
            return quote(value, safe="") if encode else value

        return PLACEHOLDER.sub(fill, template)

    def json(self, template: Any) -> Any:
        if isinstance(template, str):
            whole = PLACEHOLDER.fullmatch(template)
            if whole and whole.group(1).startswith("params."):
                return self.values.get(whole.group(1).removeprefix("params."))
            return self.text(template)
        if isinstance(template, list):
            return [self.json(item) for item in template]
        if isinstance(template, dict):
            return {key: self.json(item) for key, item in template.items()}
        return template


def render_step(
    index: int,
    step: Step,
    values: Mapping[str, Value],
    *,
    runner: str,
    secrets: Mapping[str, str],
    programs: Mapping[str, str],
) -> Rendered:
    """Step `index` filled in; `programs` maps a command step's program to its resolved path."""
    filler = _Filler(values, runner, secrets)
    base: dict[str, Any] = {
        "index": index,
        "title": step.title(index),
        "kind": step.kind,
        "risky": step.risky,
        "action": step.policy_action,
    }
    if step.http is not None:
        http = step.http
        url = filler.text(http.url, encode=True)
        headers = {k: filler.text(v, reveal=True) for k, v in http.headers.items()}
        shown_headers = {k: filler.text(v) for k, v in http.headers.items()}
        body = filler.json(http.body) if http.body is not None else None
        shown = f"{http.method} {url}" + "".join(f"\n{k}: {v}" for k, v in shown_headers.items())
        if body is not None:
            shown += f"\n{_compact(body)}"
        return Rendered(
            **base,
            shown=shown,
            method=http.method,
            url=url,
            headers=headers,
            body=body,
            expect=tuple(http.expect),
            timeout=http.timeout_seconds,
            secrets=tuple(filler.used),
        )
    if step.command is not None:
        argv = (programs[step.command.program], *(filler.text(a) for a in step.command.args))
        return Rendered(
            **base,
            shown=" ".join(_quoted(a) for a in argv),
            argv=argv,
            timeout=step.command.timeout_seconds,
        )
    if step.message is not None:
        text = filler.text(step.message.text)
        return Rendered(
            **base,
            shown=f"to {step.message.channel}: {text}",
            channel=step.message.channel,
            text=text,
        )
    if step.bot is not None:
        args = {key: filler.text(value) for key, value in step.bot.args.items()}
        shown = " ".join([step.bot.action, *(f"{k}={_quoted(v)}" for k, v in args.items())])
        return Rendered(**base, shown=shown, bot_action=step.bot.action, args=args)
    text = filler.text(step.confirm or "")
    return Rendered(**base, shown=f"ask to continue: {text}", text=text)


def _compact(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _quoted(arg: str) -> str:
    return arg if arg and re.fullmatch(r"[\w@%+=:,./-]+", arg) else repr(arg)
