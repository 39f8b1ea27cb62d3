"""The configured copier templates: where each is, and its questions.

A directory template is read when the bot starts (a broken copier.yml is a config problem,
named at startup). A git template is cloned on first use into the repositories root's
`.templates/` folder and rendered from that clone, so its questions and its files are the
same commit; a remote that is down is a clear "try again" then, not a bot that cannot start.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import NotFound, Unavailable
from commands.new_service.config import ServicesSection, ServiceTemplateConfig, is_git_url
from commands.new_service.service.questions import Question, TemplateInvalid, load_questions


@dataclass(frozen=True)
class ServiceTemplate:
    key: str
    directory: Path
    """What copier renders: the template's directory (a git template's clone)."""
    description: str
    dev_environment_template: str | None
    questions: tuple[Question, ...]


class TemplateShelf:
    """Templates by key; git templates cloned once, on first use."""

    def __init__(self, section: ServicesSection, config_dir: Path, cache_dir: Path) -> None:
        self._configs = dict(section.templates)
        self._config_dir = config_dir
        self._cache_dir = cache_dir
        self._loaded: dict[str, ServiceTemplate] = {}
        self._lock = threading.Lock()
        for key, config in self._configs.items():
            if not is_git_url(config.source):
                self._loaded[key] = self._read(key, config, config_dir / config.source)

    @property
    def keys(self) -> list[str]:
        return list(self._configs)

    def describe(self) -> list[tuple[str, str]]:
        return [(k, c.description or k) for k, c in self._configs.items()]

    def get(self, key: str) -> ServiceTemplate:
        config = self._configs.get(key)
        if config is None:
            raise NotFound(f"There is no service template `{key[:40]}`.")
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._read(key, config, self._clone(key, config))
            return self._loaded[key]

    def _read(self, key: str, config: ServiceTemplateConfig, directory: Path) -> ServiceTemplate:
        try:
            questions = load_questions(directory)
        except TemplateInvalid as exc:
            raise TemplateInvalid(f"services.templates.{key}: {exc}") from None
        return ServiceTemplate(
            key=key,
            directory=directory.resolve(),
            description=config.description,
            dev_environment_template=config.dev_environment_template,
            questions=questions,
        )

    def _clone(self, key: str, config: ServiceTemplateConfig) -> Path:
        target = self._cache_dir / key
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        branch = ["--branch", config.ref] if config.ref else []
        try:
            subprocess.run(
                ["git", "clone", "-q", "--depth", "1", *branch, "--", config.source, str(target)],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
                env={"GIT_TERMINAL_PROMPT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"},
            )
        except (OSError, subprocess.SubprocessError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            said = getattr(exc, "stderr", "") or str(exc)
            raise Unavailable(
                f"The template `{key}` could not be fetched from git: "
                f"{said.strip().splitlines()[-1][:300] if said.strip() else 'no answer'}"
            ) from None
        # A plain directory from here on: copier renders it as files (a git checkout would
        # be cloned again by copier, at its own idea of the ref).
        shutil.rmtree(target / ".git", ignore_errors=True)
        return target
