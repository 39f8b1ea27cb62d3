"""The platform config: one YAML file, validated at startup, documented key by key in README.

Loading never raises a traceback at a user: `load_config` returns the model or raises
`ConfigError`, whose message lists every problem as `file:line: key: what is wrong`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError, create_model

from bot.core.config import CoreConfig
from bot.core.feature import Feature
from bot.runtime.features import FEATURES, config_sections
from bot.runtime.yaml_source import SourceError, load_yaml


class ConfigError(Exception):
    """The platform config cannot be used; the message names every bad key and its line."""

    def __init__(self, path: Path | str, errors: list[SourceError]) -> None:
        self.path = Path(path)
        self.errors = errors
        lines = [error.render(path) for error in errors]
        super().__init__(
            f"invalid platform config ({len(errors)} problem(s)):\n" + "\n".join(lines)
        )


def assemble(features: Sequence[Feature[Any]] = FEATURES) -> type[CoreConfig]:
    """The platform config model: the core's sections plus every feature's, each optional."""
    fields: dict[str, Any] = {
        section.key: (section.model, Field(default_factory=section.model))
        for section in config_sections(features)
    }
    model: type[CoreConfig] = create_model(
        "PlatformConfig",
        __base__=CoreConfig,
        __doc__="The whole platform config: the core's sections and every feature's.",
        **fields,
    )
    return model


# Assembled from the feature list at import. Type checkers see the core part: features read
# their sections through `Core.section`, which checks the model.
if TYPE_CHECKING:
    PlatformConfig = CoreConfig
else:
    PlatformConfig = assemble()


def feature_sections(config: CoreConfig) -> dict[str, BaseModel]:
    """The features' sections of an assembled config, by key."""
    return {section.key: getattr(config, section.key) for section in config_sections()}


def load_config(path: Path | str, environ: Mapping[str, str] | None = None) -> PlatformConfig:
    """Read, interpolate and validate the platform config at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, [SourceError((), None, f"cannot read: {exc.strerror}")]) from None
    return parse_config(text, path, os.environ if environ is None else environ)


def parse_config(text: str, path: Path | str, environ: Mapping[str, str]) -> PlatformConfig:
    loaded = load_yaml(text, environ)
    errors = list(loaded.errors)
    if loaded.data is not None and not isinstance(loaded.data, dict):
        errors.append(SourceError((), 1, "the config must be a mapping of sections"))
    if errors:
        raise ConfigError(path, errors)
    try:
        return PlatformConfig.model_validate(loaded.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            location = tuple(part for part in error["loc"] if isinstance(part, str | int))
            message = _describe(error)
            errors.append(SourceError(location, loaded.line_of(location), message))
        raise ConfigError(path, errors) from None


def _describe(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling against README, 'Platform config')"
    if error["type"] == "string_pattern_mismatch" and "everyone" in str(error.get("ctx", "")):
        return (
            f"{error['input']!r} is not a subject: use everyone, role:NAME, team:NAME, "
            "lead:TEAM, user:ID-OR-EMAIL or usergroup:HANDLE"
        )
    return str(error["msg"])


def check_deployment(path: Path | str, config: CoreConfig, *, shared_database: bool) -> None:
    """Raise `ConfigError` for what the features' sections cannot be in this deployment."""
    errors = [
        SourceError(problem.location, None, problem.message)
        for section in config_sections()
        if section.check is not None
        for problem in section.check(getattr(config, section.key), shared_database)
    ]
    if errors:
        raise ConfigError(path, errors)
