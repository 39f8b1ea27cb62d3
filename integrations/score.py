"""Reading a service's Score workload file (`score.dev/v1b1`) to build an environment from it.

An environment starts from the service's `score.yaml`: each of its `resources` goes to one of
the platform's engines (`plan_resources`, which lists what has no engine here rather than
dropping it), and once they are provisioned the containers' `variables` get their
placeholders (`${resources.db.host}`, `${metadata.name}`) filled in from the outputs
(`resolve_variables`). The filled-in values hold passwords: they go to the requester with the
credentials, never into a channel, and never into an exception message or a repr.

`load_score` / `parse_score` check in code every rule the bot relies on (`score_rules`), so
the bot works without the spec directory; given the official JSON schema (`score-v1b1.json`,
not shipped with the package) they check the rest of it too (`score_schema`). Each problem is
a field path and a reason in plain words, with names and values cut short.

    ScoreError                 a Score file the bot cannot use as asked
    ├── ScoreInvalid           not a valid workload: `.problems`, each a path and a reason
    ├── PlaceholderUnresolved  a variable's placeholder is malformed or names no output
    └── ResolvedTooLarge       the filled-in variables would pass `max_chars`

Hostile input is bounded: files over `MAX_SCORE_BYTES` are not parsed, YAML aliases cannot
multiply the work (`MAX_NODES`), and placeholders are read by one left-to-right scan, so
resolving takes time linear in the text, whatever it holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from integrations.catalog_rules import shown
from integrations.score_placeholders import (
    Budget,
    Outputs,
    OverBudget,
    Unresolved,
    Workload,
    substitute,
)
from integrations.score_rules import API_VERSION, check_workload

__all__ = [
    "API_VERSION",
    "DEFAULT_ENGINES",
    "MAX_RESOLVED_CHARS",
    "MAX_SCORE_BYTES",
    "EngineResource",
    "Outputs",
    "PlaceholderUnresolved",
    "ResolvedContainer",
    "ResolvedTooLarge",
    "ResourcePlan",
    "ScoreContainer",
    "ScoreError",
    "ScoreInvalid",
    "ScoreProblem",
    "ScoreResource",
    "ScoreWorkload",
    "ServicePort",
    "load_score",
    "parse_score",
    "plan_resources",
    "resolve_variables",
]

MAX_SCORE_BYTES = 256 * 1024
# Values visited while checking, counting each use of a YAML alias again: a file of a few KB
# can otherwise alias its way to billions of values for the schema validator to walk.
MAX_NODES = 50_000
MAX_PROBLEMS_SHOWN = 20
MAX_RESOLVED_CHARS = 1_000_000
MAX_PLACEHOLDER_KEPT = 200
# Score's resource types are conventions of its implementations, not a schema enum; these are
# the ones with an engine of ours (mysql runs on MariaDB, amqp on RabbitMQ).
DEFAULT_ENGINES: Mapping[str, str] = MappingProxyType(
    {"postgres": "postgres", "mysql": "mariadb", "redis": "redis", "amqp": "rabbitmq"}
)


class ScoreError(ValueError):
    """A Score file the bot cannot use as asked; the message is for the person who wrote it."""


@dataclass(frozen=True, slots=True)
class ScoreProblem:
    """One thing wrong in a Score file: where (`resources.db.type`; "" is the whole file)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or 'the file'}: {self.reason}"


class ScoreInvalid(ScoreError):
    """The file is not a Score workload the bot can use; `problems` lists every reason found."""

    def __init__(self, problems: Sequence[ScoreProblem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(str(problem) for problem in self.problems[:MAX_PROBLEMS_SHOWN])
        more = len(self.problems) - MAX_PROBLEMS_SHOWN
        super().__init__(
            f"not a valid Score file: {listed}" + (f"; {more} more" if more > 0 else "")
        )


class PlaceholderUnresolved(ScoreError):
    """A placeholder in a variable is malformed or names nothing that was provisioned."""

    def __init__(self, *, container: str, variable: str, placeholder: str, reason: str) -> None:
        self.container, self.variable = container, variable
        # An unclosed `${` runs to the end of the value; keep the start, enough to find it.
        self.placeholder, self.reason = placeholder[:MAX_PLACEHOLDER_KEPT], reason
        super().__init__(
            f"container {shown(container)}, variable {shown(variable)}: "
            f"{shown(placeholder)} {reason}"
        )


class ResolvedTooLarge(ScoreError):
    """The filled-in variables would be larger than the bound the caller set."""

    def __init__(self, *, container: str, variable: str, max_chars: int) -> None:
        self.container, self.variable, self.max_chars = container, variable, max_chars
        super().__init__(
            f"container {shown(container)}, variable {shown(variable)}: the variables would be "
            f"more than {max_chars:,} characters once filled in"
        )


@dataclass(frozen=True, slots=True)
class ScoreContainer:
    name: str
    image: str
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """As written in the file, placeholders included (see `resolve_variables`)."""


@dataclass(frozen=True, slots=True)
class ScoreResource:
    name: str
    type: str
    resource_class: str | None = None
    """The file's `class`: a specialisation of the type, e.g. `large`."""
    id: str | None = None
    """Shares the resource between workloads that give the same type, class and id."""
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class ServicePort:
    name: str
    port: int
    target_port: int
    """The container's port; Score defaults it to `port`."""
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True)
class ScoreWorkload:
    """A valid Score workload, reduced to what building an environment reads."""

    name: str
    containers: tuple[ScoreContainer, ...]
    resources: tuple[ScoreResource, ...] = ()
    ports: tuple[ServicePort, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineResource:
    resource: ScoreResource
    engine: str


@dataclass(frozen=True, slots=True)
class ResourcePlan:
    """Which engine provisions each resource, and the resources no engine here provides."""

    on_engines: tuple[EngineResource, ...]
    unsupported: tuple[ScoreResource, ...]


@dataclass(frozen=True, slots=True)
class ResolvedContainer:
    """A container's variables with the placeholders filled in; the repr shows no value."""

    name: str
    variables: Mapping[str, str] = field(repr=False)


def load_score(text: str | bytes, *, schema: Mapping[str, Any] | None = None) -> ScoreWorkload:
    """The workload in a Score file's text; `ScoreInvalid` if it is not one (see `parse_score`)."""
    # Characters are at most bytes, so only text that might fit is encoded to be measured.
    if len(text) > MAX_SCORE_BYTES or (
        isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > MAX_SCORE_BYTES
    ):
        raise ScoreInvalid(
            [ScoreProblem("", f"the file is over {MAX_SCORE_BYTES // 1024} KB, too large to read")]
        )
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        reason = str(getattr(exc, "problem", None) or "invalid YAML")[:120]
        raise ScoreInvalid([ScoreProblem("", f"not valid YAML{where}: {reason}")]) from None
    except RecursionError:
        raise ScoreInvalid([ScoreProblem("", "nested too deeply to read")]) from None
    return parse_score(document, schema=schema)


def parse_score(document: Any, *, schema: Mapping[str, Any] | None = None) -> ScoreWorkload:
    """The workload in a parsed Score document; `ScoreInvalid` listing every problem otherwise.

    Without `schema` the bot's own rules are checked; with the official schema (a dict of
    `score-v1b1.json`) everything it says is checked too, in the same plain words.
    """
    if not _within(document, MAX_NODES):
        raise ScoreInvalid([ScoreProblem("", "too large or too deeply nested once aliases expand")])
    problems = [ScoreProblem(path, reason) for path, reason in check_workload(document)]
    if schema is not None:
        # Imported here: jsonschema (with referencing, rpds and attrs) costs every process a
        # few MB, and only a check against the official schema uses it.
        import jsonschema

        from integrations.score_schema import schema_problems

        validator = jsonschema.Draft202012Validator(schema)
        problems += [
            ScoreProblem(path, reason)
            for path, reason in schema_problems(validator, document)
            if not any(_under(path, ours.path) for ours in problems)
        ]
    if problems:
        raise ScoreInvalid(problems)
    return _workload(document)


def plan_resources(
    workload: ScoreWorkload, *, engines: Mapping[str, str] = DEFAULT_ENGINES
) -> ResourcePlan:
    """Each resource with the engine for its `type` (exact match), and those with none."""
    on_engines = tuple(
        EngineResource(resource, engines[resource.type])
        for resource in workload.resources
        if resource.type in engines
    )
    unsupported = tuple(r for r in workload.resources if r.type not in engines)
    return ResourcePlan(on_engines=on_engines, unsupported=unsupported)


def resolve_variables(
    workload: ScoreWorkload, outputs: Outputs, *, max_chars: int = MAX_RESOLVED_CHARS
) -> tuple[ResolvedContainer, ...]:
    """Every container's variables with `${resources.NAME.KEY}` and `${metadata.name}` filled
    in from `outputs`, and `$${…}` written as the literal `${…}` (Score's escape).

    A `$` followed by anything else stays as it is. Raises `PlaceholderUnresolved` (an unknown
    resource or key, an empty or unclosed placeholder) or `ResolvedTooLarge` when all the
    values together would pass `max_chars`. An unclosed `${` is refused where Score's own
    tools pass it on as text: in a variable it is a typo, and the value would not work.
    """
    budget = Budget(max_chars)
    names = Workload(workload.name, frozenset(r.name for r in workload.resources))
    resolved = []
    for container in workload.containers:
        variables = {}
        for variable, text in container.variables.items():
            try:
                variables[variable] = substitute(text, names, outputs, budget)
            except Unresolved as exc:
                raise PlaceholderUnresolved(
                    container=container.name,
                    variable=variable,
                    placeholder=exc.placeholder,
                    reason=exc.reason,
                ) from None
            except OverBudget:
                raise ResolvedTooLarge(
                    container=container.name, variable=variable, max_chars=max_chars
                ) from None
        resolved.append(ResolvedContainer(container.name, MappingProxyType(variables)))
    return tuple(resolved)


# --- checking --------------------------------------------------------------------------------


def _within(document: Any, budget: int) -> bool:
    """Whether walking the document, aliases expanded, visits at most `budget` values."""
    pending = [document]
    while pending:
        budget -= 1
        if budget < 0:
            return False
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node.keys())
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return True


def _under(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor + ".") or not ancestor


def _workload(document: dict[str, Any]) -> ScoreWorkload:
    containers = tuple(
        ScoreContainer(name, c["image"], MappingProxyType(dict(c.get("variables") or {})))
        for name, c in document["containers"].items()
    )
    resources = tuple(
        ScoreResource(
            name,
            r["type"],
            resource_class=r.get("class"),
            id=r.get("id"),
            params=MappingProxyType(dict(r.get("params") or {})),
        )
        for name, r in (document.get("resources") or {}).items()
    )
    ports = tuple(
        ServicePort(name, p["port"], p.get("targetPort", p["port"]), p.get("protocol", "TCP"))
        for name, p in ((document.get("service") or {}).get("ports") or {}).items()
    )
    return ScoreWorkload(document["metadata"]["name"], containers, resources, ports)
