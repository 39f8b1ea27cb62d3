"""Reading the runbook directory: every file validated, every problem as `file:line: key: …`.

The runtime's line-remembering YAML loader belongs to the runtime, which features do not
import, so this module keeps its own small one (yaml's `compose` gives each node its line).
It is bounded: at most `MAX_FILES` files of `MAX_FILE_BYTES` each, and YAML aliases are
refused (a few lines of anchors can expand to millions of nodes).

Beyond the model, a runbook is checked against the config: a command step's program must be
on the allowlist (a name is resolved to its path on PATH now, so what runs is what was
checked), every placeholder must name a parameter, `runner` or a configured secret, secrets
go in HTTP headers only, a command argument with a placeholder is only that placeholder,
and an HTTP step's host is literal (and allowed, when `http.allowed_hosts` is set). A `bot`
step's action and argument names are checked by the runtime once every feature has offered
its actions: each file gives them as `BotCall`s, with the place to name in a problem.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from commands.runbooks.config import RunbooksSection
from commands.runbooks.render import PLACEHOLDER
from commands.runbooks.spec import Runbook

MAX_FILES = 200
MAX_FILE_BYTES = 64_000
Location = tuple[str | int, ...]


class RunbookProblems(Exception):
    """Every problem found, one `path:line: key: message` per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class BotCall:
    action: str
    args: tuple[str, ...]
    where: str
    """`file:line: steps.N.bot`, the start of a problem with this call."""


@dataclass(frozen=True)
class Loaded:
    runbook: Runbook
    path: Path
    programs: Mapping[str, str]
    """A command step's `program` → the absolute path that runs."""
    calls: tuple[BotCall, ...] = ()


class _Lines:
    def __init__(self) -> None:
        self.lines: dict[Location, int] = {}

    def line_of(self, location: Location) -> int:
        for end in range(len(location), -1, -1):
            if (line := self.lines.get(location[:end])) is not None:
                return line
        return 1

    def build(self, node: yaml.Node, loc: Location) -> Any:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = _scalar(key_node)
                self.lines[(*loc, key)] = key_node.start_mark.line + 1
                mapping[key] = self.build(value_node, (*loc, key))
            return mapping
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader(stream="").construct_object(node)


def _alias_line(text: str) -> int | None:
    """The line of the first YAML alias, if any (aliases are refused: see the docstring)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            return event.start_mark.line + 1 if event.start_mark is not None else 1
    return None


def load_directory(
    section: RunbooksSection, config_dir: Path, teams: Sequence[str]
) -> dict[str, Loaded]:
    """Every runbook of `section.directory`, by name; `RunbookProblems` if any is wrong."""
    if section.directory is None:
        return {}
    directory = (
        section.directory if section.directory.is_absolute() else config_dir / section.directory
    )
    if not directory.is_dir():
        raise RunbookProblems([f"{directory}: not a directory"])
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if len(files) > MAX_FILES:
        raise RunbookProblems([f"{directory}: more than {MAX_FILES} runbook files"])
    allowlist = allowed_programs(section.commands)
    found: dict[str, Loaded] = {}
    problems: list[str] = []
    for path in files:
        loaded, file_problems = load_file(path, section, allowlist, teams)
        problems += file_problems
        if loaded is None:
            continue
        if loaded.runbook.name in found:
            other = found[loaded.runbook.name].path.name
            problems.append(f"{path}:1: name: {loaded.runbook.name!r} is also {other}'s")
        found[loaded.runbook.name] = loaded
    if problems:
        raise RunbookProblems(problems)
    return found


def allowed_programs(commands: Sequence[str]) -> dict[str, str]:
    """The allowlist as written → the absolute path it names (names resolved on PATH now)."""
    resolved: dict[str, str] = {}
    for command in commands:
        path = command if os.path.isabs(command) else shutil.which(command)
        if path is not None and os.access(path, os.X_OK):
            resolved[command] = path
            resolved[path] = path
    return resolved


def load_file(
    path: Path, section: RunbooksSection, allowlist: Mapping[str, str], teams: Sequence[str]
) -> tuple[Loaded | None, list[str]]:
    if path.stat().st_size > MAX_FILE_BYTES:
        return None, [f"{path}:1: larger than {MAX_FILE_BYTES} bytes"]
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = _Lines()
    try:
        alias = _alias_line(text)
        if alias is not None:
            return None, [f"{path}:{alias}: YAML aliases (*name) are not allowed in runbooks"]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark is not None else 1
        return None, [f"{path}:{line}: not valid YAML: {error.problem}"]
    except yaml.YAMLError as error:
        return None, [f"{path}:1: not valid YAML: {error}"]
    data = lines.build(node, ()) if node is not None else {}
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as error:
        return None, [_problem(path, lines, tuple(e["loc"]), e["msg"]) for e in error.errors()]
    checks = _Checks(runbook, section, allowlist, teams)
    checks.run()
    problems = [_problem(path, lines, loc, message) for loc, message in checks.problems]
    calls = tuple(
        BotCall(step.bot.action, tuple(step.bot.args), _where(path, lines, ("steps", i, "bot")))
        for i, step in enumerate(runbook.steps)
        if step.bot is not None
    )
    return (None if problems else Loaded(runbook, path, checks.programs, calls)), problems


def _problem(path: Path, lines: _Lines, loc: Location, message: str) -> str:
    return f"{_where(path, lines, loc)}: {message.removeprefix('Value error, ')}"


def _where(path: Path, lines: _Lines, loc: Location) -> str:
    key = ".".join(str(part) for part in loc) or "(top level)"
    return f"{path}:{lines.line_of(loc)}: {key}"


class _Checks:
    """What the model cannot know: the config's allowlist, hosts, secrets and teams."""

    def __init__(
        self,
        runbook: Runbook,
        section: RunbooksSection,
        allowlist: Mapping[str, str],
        teams: Sequence[str],
    ) -> None:
        self.runbook, self.section, self.allowlist, self.teams = runbook, section, allowlist, teams
        self.params = {p.name for p in runbook.parameters}
        self.problems: list[tuple[Location, str]] = []
        self.programs: dict[str, str] = {}

    def run(self) -> None:
        if self.runbook.owner not in self.teams:
            self.problems.append(
                (("owner",), f"{self.runbook.owner!r} is not a team of the config")
            )
        for index, step in enumerate(self.runbook.steps):
            loc: Location = ("steps", index)
            if step.http is not None:
                self._http((*loc, "http"), step.http.url, step.http.headers, step.http.body)
            elif step.command is not None:
                self._command((*loc, "command"), step.command.program, step.command.args)
            elif step.message is not None:
                self._placeholders((*loc, "message", "text"), step.message.text)
            elif step.bot is not None:
                for key, text in step.bot.args.items():
                    self._placeholders((*loc, "bot", "args", key), text)
            else:
                self._placeholders((*loc, "confirm"), step.confirm or "")

    def _placeholders(self, loc: Location, text: str, *, secrets: bool = False) -> None:
        for match in PLACEHOLDER.finditer(text):
            name = match.group(1)
            if name.startswith("secret:"):
                if not secrets:
                    self.problems.append((loc, "secrets go in HTTP headers only"))
                elif name.removeprefix("secret:") not in self.section.secrets:
                    self.problems.append((loc, f"{name} is not in runbooks.secrets"))
            elif name.startswith("params.") and name.removeprefix("params.") not in self.params:
                self.problems.append((loc, f"${{{name}}} names no parameter"))
        if "${" in PLACEHOLDER.sub("", text):
            self.problems.append((loc, "write ${params.NAME}, ${runner} or ${secret:NAME}"))

    def _http(self, loc: Location, url: str, headers: Mapping[str, str], body: Any) -> None:
        self._placeholders((*loc, "url"), url)
        for key, value in headers.items():
            self._placeholders((*loc, "headers", key), value, secrets=True)
        for text in _strings(body):
            self._placeholders((*loc, "body"), text)
        head = url.split("${", 1)[0]
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or "/" not in head.removeprefix(f"{parts.scheme}://")
        ):
            self.problems.append(
                (
                    (*loc, "url"),
                    "an http(s) URL whose host is written out (placeholders after the host)",
                )
            )
        elif (
            self.section.http.allowed_hosts
            and parts.hostname not in self.section.http.allowed_hosts
        ):
            self.problems.append(
                ((*loc, "url"), f"{parts.hostname} is not in runbooks.http.allowed_hosts")
            )

    def _command(self, loc: Location, program: str, args: Sequence[str]) -> None:
        path = self.allowlist.get(program)
        if path is None:
            self.problems.append(
                ((*loc, "program"), f"{program!r} is not in runbooks.commands (the allowlist)")
            )
        else:
            self.programs[program] = path
        for index, arg in enumerate(args):
            self._placeholders((*loc, "args", index), arg)
            if PLACEHOLDER.search(arg) and not PLACEHOLDER.fullmatch(arg):
                self.problems.append(
                    ((*loc, "args", index), "a placeholder fills a whole argument")
                )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []
