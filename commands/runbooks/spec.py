"""What a runbook file says: its parameters and its steps, validated as a pydantic model.

A step is exactly one of `http`, `command`, `message`, `confirm` or `bot` (a call into the
bot's own actions, `bot.core.actions`, with string arguments). Templates are strings
holding `${params.NAME}`, `${runner}` and, in HTTP headers only, `${secret:NAME}`; the
loader checks every placeholder names something that exists (loader.py), and render.py fills
them: URL-encoded in a URL, whole arguments in a command, never through a shell.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from bot.core.config import Section
from commands.runbooks.ids import PolicyAction
from commands.runbooks.pattern import PatternError, compile_pattern

NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")
PARAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,29}")
ACTION = re.compile(r"[a-z][a-z0-9_.-]{0,59}")
MAX_VALUE_CHARS = 200
"""The longest value a person may type for a string parameter (a Slack input's cap)."""
MAX_STEPS = 30
MAX_TEMPLATE_CHARS = 2000


class ParamType(StrEnum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    CHOICE = "choice"


class Parameter(Section):
    name: str = Field(pattern=PARAM_NAME.pattern)
    label: str | None = Field(default=None, max_length=60)
    hint: str | None = Field(default=None, max_length=150)
    type: ParamType = ParamType.STRING
    required: bool = True
    default: str | int | bool | None = None
    pattern: str | None = Field(default=None, description="see pattern.py for the language")
    max_length: int = Field(default=80, ge=1, le=MAX_VALUE_CHARS)
    min: int | None = None
    max: int | None = None
    choices: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_pattern(value)
            except PatternError as error:
                raise ValueError(f"pattern: {error}") from None
        return value

    @model_validator(mode="after")
    def _fits_type(self) -> Parameter:
        if (self.type is ParamType.CHOICE) != bool(self.choices):
            raise ValueError("choices go with type choice, and type choice needs choices")
        if (self.min is not None or self.max is not None) and self.type is not ParamType.INT:
            raise ValueError("min and max go with type int")
        if self.pattern is not None and self.type is not ParamType.STRING:
            raise ValueError("pattern goes with type string")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


class HttpStep(Section):
    method: str = Field(default="GET", pattern=r"GET|POST|PUT|PATCH|DELETE|HEAD")
    url: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    body: Any = Field(default=None, description="a JSON body; strings may hold placeholders")
    expect: list[int] = Field(default_factory=lambda: [200], min_length=1, max_length=20)
    timeout_seconds: float | None = Field(default=None, gt=0, le=120)

    @field_validator("expect")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        if any(not 100 <= status <= 599 for status in value):
            raise ValueError("expected statuses are between 100 and 599")
        return value


class CommandStep(Section):
    program: str = Field(min_length=1, max_length=200)
    args: list[str] = Field(default_factory=list, max_length=50)
    timeout_seconds: float | None = Field(default=None, gt=0, le=600)


class MessageStep(Section):
    channel: str = Field(min_length=1, max_length=80)
    text: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)


class BotStep(Section):
    action: str = Field(pattern=ACTION.pattern, description="e.g. env.extend")
    args: dict[str, str] = Field(default_factory=dict, max_length=20)

    @field_validator("args")
    @classmethod
    def _arg_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if not PARAM_NAME.fullmatch(key):
                raise ValueError(f"{key!r}: argument names are a-z, 0-9 and _")
            if len(text) > MAX_TEMPLATE_CHARS:
                raise ValueError(f"{key}: at most {MAX_TEMPLATE_CHARS} characters")
        return value


class StepKind(StrEnum):
    HTTP = "http"
    COMMAND = "command"
    MESSAGE = "message"
    CONFIRM = "confirm"
    BOT = "bot"


class Step(Section):
    name: str | None = Field(default=None, max_length=80)
    http: HttpStep | None = None
    command: CommandStep | None = None
    message: MessageStep | None = None
    confirm: str | None = Field(default=None, min_length=1, max_length=500)
    bot: BotStep | None = None
    risky: bool = Field(default=False, description="needs the policy's `action` (approval)")
    action: str | None = Field(default=None, pattern=ACTION.pattern)

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [kind for kind in StepKind if getattr(self, kind.value) is not None]
        if len(kinds) != 1:
            raise ValueError("a step is exactly one of http, command, message, confirm or bot")
        if self.action is not None and not self.risky:
            raise ValueError("action goes with risky: true")
        return self

    @property
    def kind(self) -> StepKind:
        return next(kind for kind in StepKind if getattr(self, kind.value) is not None)

    @property
    def policy_action(self) -> str | None:
        """The action the policy decides for this step, if it is risky."""
        return (self.action or PolicyAction.RISKY) if self.risky else None

    def title(self, index: int) -> str:
        return self.name or f"Step {index + 1} ({self.kind})"


class Runbook(Section):
    name: str = Field(pattern=NAME.pattern)
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    owner: str = Field(min_length=1, max_length=64, description="the owning team's key")
    service: str | None = Field(default=None, max_length=100, description="a catalog entity")
    policy: str = Field(default=PolicyAction.RUN, pattern=ACTION.pattern)
    parameters: list[Parameter] = Field(default_factory=list, max_length=10)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("parameters")
    @classmethod
    def _unique_names(cls, value: list[Parameter]) -> list[Parameter]:
        names = [p.name for p in value]
        if len(set(names)) != len(names):
            raise ValueError("parameter names must be unique")
        return value
