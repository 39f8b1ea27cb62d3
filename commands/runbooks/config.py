"""The `runbooks:` section of the platform config: where runbooks live and what they may do.

Runbook files are read from `directory` (relative to the config file) and validated when the
bot starts: a command step may run only a program of `commands`, an HTTP step may reach only
the hosts of `http.allowed_hosts` (when it is set), and `${secret:NAME}` may name only a key of
`secrets`, whose values come from the environment through the config's `${VAR}` interpolation.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from bot.core.config import Section

SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
MAX_OUTPUT_CHARS = 2800
"""What a step's output may show at most: a section block holds 3000 characters."""


class HttpSettings(Section):
    timeout_seconds: float = Field(default=10, gt=0, le=120)
    allowed_hosts: list[str] = Field(
        default_factory=list, description="hosts HTTP steps may call; empty: any host"
    )


class RunbooksSection(Section):
    directory: Path | None = Field(default=None, description="a directory of runbook YAML files")
    commands: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="programs command steps may run: absolute paths or names found on PATH",
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="NAME → value (write ${ENV_VAR}), for ${secret:NAME}"
    )
    command_timeout_seconds: float = Field(default=30, gt=0, le=600)
    output_chars: int = Field(default=1500, ge=100, le=MAX_OUTPUT_CHARS)

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name in value:
            if not SECRET_NAME.fullmatch(name):
                raise ValueError(f"{name!r}: secret names are A-Z, 0-9 and _ (e.g. DEPLOY_TOKEN)")
        return value
