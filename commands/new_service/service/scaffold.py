"""Render a copier template and publish it as a new bare git repository on this machine.

Steps, each undone when a later one fails, so nothing is left half-made:

    render   copier.run_copy into a temporary directory (defaults + the checked answers,
             unsafe=False: no tasks, migrations or Jinja extensions run)
    check    the result has catalog-info.yaml naming the new component, and a Score file
    commit   git init / add / commit as the bot, in the temporary directory
    publish  push to a new bare repository under a hidden name, renamed to ROOT/NAME.git
             once complete (an existing repository is never touched; a failed push leaves
             nothing)

Errors (all `PlatformError`s whose message is for people):

    ScaffoldFailed      the template did not render (copier's message), or git failed
    RepositoryExists    ROOT/NAME.git is already there
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import Conflict, PlatformError

logger = logging.getLogger(__name__)

CATALOG_FILE = "catalog-info.yaml"
SCORE_FILES = ("score.yaml", "score.yml")
MESSAGE_LIMIT = 600


class ScaffoldFailed(PlatformError):
    """A step failed; `stage` says which (render, check, git)."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message[:MESSAGE_LIMIT])
        self.stage = stage


class RepositoryExists(Conflict):
    pass


def render(source: str, destination: Path, answers: Mapping[str, Any], ref: str | None) -> None:
    """copier, as `copier copy --defaults --data … --vcs-ref REF SOURCE DEST` would run it."""
    # Imported here: copier and what it brings (Jinja, prompt_toolkit, rich, plumbum) cost a
    # process about 13 MB, and only the process that runs scaffold jobs needs them.
    from copier import run_copy

    try:
        run_copy(
            source,
            destination,
            data=dict(answers),
            vcs_ref=ref,
            defaults=True,
            unsafe=False,
            quiet=True,
            overwrite=True,
        )
    except (
        Exception
    ) as exc:  # copier raises Jinja, YAML, OS and its own errors: all are "did not render"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScaffoldFailed("render", f"copier could not render the template: {first}") from None


def read_catalog_info(directory: Path, name: str) -> str:
    """The rendered catalog-info.yaml, once it names `name`; and a Score file must exist."""
    path = directory / CATALOG_FILE
    if not path.is_file():
        raise ScaffoldFailed("check", f"the template made no {CATALOG_FILE}")
    if not any((directory / score).is_file() for score in SCORE_FILES):
        raise ScaffoldFailed("check", "the template made no Score file (score.yaml)")
    text = path.read_text(encoding="utf-8")
    try:
        documents = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        raise ScaffoldFailed("check", f"{CATALOG_FILE} is not valid YAML: {exc}") from None
    names = [str((d.get("metadata") or {}).get("name")) for d in documents]
    if name not in names:
        raise ScaffoldFailed("check", f"{CATALOG_FILE} does not describe a component `{name}`")
    return text


@dataclass(frozen=True)
class GitRepositories:
    """Bare repositories under `root`, one per service, pushed to with the `git` command."""

    root: Path
    default_branch: str
    author_name: str
    author_email: str
    timeout_seconds: float = 60

    def path_of(self, name: str) -> Path:
        return self.root / f"{name}.git"

    def exists(self, name: str) -> bool:
        return self.path_of(name).exists()

    def publish(self, name: str, work_dir: Path, message: str) -> str:
        """Commit `work_dir` and push it to a new ROOT/NAME.git; its path."""
        self._git(work_dir, "init", "-q", "-b", self.default_branch)
        self._git(work_dir, "add", "-A")
        self._git(work_dir, "commit", "-q", "--no-verify", "-m", message)
        target = self.path_of(name)
        if target.exists():
            raise RepositoryExists(f"A repository `{name}` already exists.")
        # Pushed under a hidden name and renamed when complete: a crash or a failed push never
        # leaves a half-made repository under the real name, and a rerun starts clean.
        partial = self.root / f".{name}.git.partial"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            partial.mkdir(parents=True)
        except OSError as exc:
            raise ScaffoldFailed(
                "git", f"the repositories directory is not usable: {exc}"
            ) from None
        try:
            self._git(partial, "init", "-q", "--bare", "-b", self.default_branch)
            self._git(
                work_dir, "push", "-q", str(partial), f"HEAD:refs/heads/{self.default_branch}"
            )
            if target.exists():
                raise RepositoryExists(f"A repository `{name}` already exists.")
            partial.rename(target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return str(target)

    def delete(self, name: str) -> None:
        shutil.rmtree(self.path_of(name), ignore_errors=True)

    def _git(self, cwd: Path, *args: str) -> None:
        env = {
            **os.environ,
            # The bot's own identity and nothing of the host's git config (hooks, signing).
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": self.author_name,
            "GIT_AUTHOR_EMAIL": self.author_email,
            "GIT_COMMITTER_NAME": self.author_name,
            "GIT_COMMITTER_EMAIL": self.author_email,
        }
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=cwd,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout_seconds,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ScaffoldFailed("git", f"git {args[0]} did not run: {exc}") from None
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ScaffoldFailed("git", f"git {args[0]} failed: {said[-1] if said else '?'}")


@dataclass(frozen=True)
class CatalogDirectory:
    """Where each new service's catalog-info.yaml goes: DIR/NAME/catalog-info.yaml."""

    root: Path

    def path_of(self, name: str) -> Path:
        return self.root / name / CATALOG_FILE

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def write(self, name: str, text: str) -> None:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{CATALOG_FILE}.partial"
        partial.write_text(text, encoding="utf-8")
        # A rename: the catalog's reader never sees half a file.
        partial.replace(folder / CATALOG_FILE)

    def delete(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)
