"""The Feature contract: what every feature package exposes, and what the runtime does with it.

A feature is one folder (`commands/NAME/`, `surveys/NAME/`) whose `feature.py` holds one
object satisfying `Feature`. The runtime's feature list names each object once, and for each

1. validates its config `sections` as part of the platform config (so `check-config` reports
   `file:line` for every key of every feature),
2. imports its `models` module, so its tables are in `Base.metadata`, and adds its
   `migrations` directory to Alembic's version locations (the feature's own branch),
3. calls `build(core)` once per process and wires the `Parts` it returns: subcommands on the
   `/platform` router, listeners on the Bolt app, job handlers on the job runner, scheduled
   tasks on the leader's scheduler, `start` and `close` with the process.

`Core` is everything a feature may use: the core services, the config sections, the ports to
Slack and the capabilities other features offer. Features never import each other, the
runtime or Bolt's App. A feature that offers something to the others returns it in its parts
(`Parts.feedback`, `Parts.catalog`, `Parts.actions`, `Parts.runbooks`, `Parts.dashboard`,
`Parts.nps_rounds`, `Parts.csat_weeks`); the runtime hands it on through `Core.feedback`,
`Core.catalog`, `Core.actions`, `Core.runbooks`, `Core.dashboard`, `Core.feedback_trends`.
Several features of one family may share a section or a migrations directory (the surveys
do); the runtime takes each once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from bot.core.actions import BotAction, BotActions
from bot.core.audit import AuditLog
from bot.core.catalog import CatalogRefresh, CatalogRelay
from bot.core.config import CoreConfig
from bot.core.dashboard import DashboardRelay, DashboardSource
from bot.core.db import SessionFactory
from bot.core.errors import ConfigProblem
from bot.core.feedback import ActionFeedback
from bot.core.feedback_trends import CsatWeeks, FeedbackTrends, NpsRounds
from bot.core.identity import IdentityService, Principal
from bot.core.jobs import JobHandler, JobQueue
from bot.core.policy import Policy
from bot.core.router import Subcommand
from bot.core.runbook_links import RunbookRelay, ServiceRunbooks
from bot.core.scheduler import ScheduledTask
from integrations.protocols import Messenger, WorkspaceRoster

SectionT = TypeVar("SectionT", bound=BaseModel)
T_co = TypeVar("T_co", covariant=True)


DeploymentCheck = Callable[[Any, bool], Sequence[ConfigProblem]]
"""(the validated section, whether several processes share the app database) → problems."""


@dataclass(frozen=True)
class ConfigSection:
    """A top-level key of the platform config and the pydantic model that validates it.

    `check` finds what the model alone cannot: problems of the section for the deployment at
    hand (e.g. a key every replica must share). The runtime runs it before anything starts.
    """

    key: str
    model: type[BaseModel]
    check: DeploymentCheck | None = None


class ListenerKind(StrEnum):
    """Bolt's listener kinds a feature may register (`App.action`, `App.view`, …)."""

    ACTION = "action"
    VIEW = "view"
    VIEW_CLOSED = "view_closed"
    EVENT = "event"
    OPTIONS = "options"
    SHORTCUT = "shortcut"


@dataclass(frozen=True)
class Listener:
    """One Slack listener: what it matches (an id or a pattern) and the handler to call."""

    kind: ListenerKind
    matcher: str | re.Pattern[str]
    handler: Callable[..., Any]


@dataclass(frozen=True)
class Parts(Generic[T_co]):
    """What a built feature gives the runtime to wire. `api` is the feature's own object
    graph, for its tests and benchmarks; nothing in the runtime looks inside it."""

    api: T_co
    subcommands: Sequence[Subcommand] = ()
    listeners: Sequence[Listener] = ()
    job_handlers: Mapping[str, JobHandler] = field(default_factory=dict)
    tasks: Sequence[ScheduledTask] = ()
    start: Sequence[Callable[[], None]] = ()
    """Background work started with the process (after every feature is wired)."""
    close: Sequence[Callable[[], None]] = ()
    """Stopped or closed with the process, in reverse order."""
    feedback: ActionFeedback | None = None
    """Offered to every feature as `Core.feedback` (one feature at most offers it)."""
    catalog: CatalogRefresh | None = None
    """The catalog index, offered to every feature as `Core.catalog` (one feature at most)."""
    actions: Mapping[str, BotAction] = field(default_factory=dict)
    """The bot actions this feature offers the others by name, through `Core.actions`."""
    runbooks: ServiceRunbooks | None = None
    """The runbooks of a service, for its card, as `Core.runbooks` (one feature at most)."""
    dashboard: DashboardSource | None = None
    """What people see of this feature on their dashboard, through `Core.dashboard`."""
    nps_rounds: NpsRounds | None = None
    """NPS per round, for `Core.feedback_trends` (one feature at most)."""
    csat_weeks: CsatWeeks | None = None
    """Action CSAT per week, for `Core.feedback_trends` (one feature at most)."""


@dataclass(frozen=True)
class Core:
    """What `Feature.build` gets: the core services and the ports the runtime built."""

    config: CoreConfig
    sections: Mapping[str, BaseModel]
    config_dir: Path
    """The platform config's directory: relative paths in sections are relative to it."""
    sessions: SessionFactory
    postgres: bool
    clock: Callable[[], datetime]
    policy: Policy
    identity: IdentityService
    audit: AuditLog
    jobs: JobQueue
    messenger: Messenger
    """Posts, edits and uploads; retries what is safe to retry (429s, connection errors)."""
    paced_messenger: Messenger
    """Retries nothing: for fan-outs that pace themselves and must see every 429."""
    roster: WorkspaceRoster
    feedback: ActionFeedback
    commands_for: Callable[[Principal], list[Subcommand]]
    """The `/platform` subcommands a person may run, of every feature (what help lists)."""
    subcommand_names: Callable[[], Collection[str]] = field(default=lambda: ())
    """Every registered `/platform` subcommand name (a fixed set, e.g. for metric labels);
    complete once every feature is wired."""
    closers: list[Callable[[], None]] = field(default_factory=list)
    """Adapters built for a feature append their `close` here (HTTP clients, pools)."""
    catalog: CatalogRelay = field(default_factory=CatalogRelay)
    """Refreshes the catalog index now (a feature that added an entity to its source)."""
    actions: BotActions = field(default_factory=BotActions)
    """Every feature's offered actions; call them as the acting person (bot.core.actions)."""
    runbooks: RunbookRelay = field(default_factory=RunbookRelay)
    """The runbooks of a service the person may run (bot.core.runbook_links)."""
    dashboard: DashboardRelay = field(default_factory=DashboardRelay)
    """Every feature's dashboard items, and "these people's things changed" (bot.core.dashboard)."""
    feedback_trends: FeedbackTrends = field(default_factory=FeedbackTrends)
    """NPS per round and CSAT per week over a period (bot.core.feedback_trends)."""

    def section(self, key: str, model: type[SectionT]) -> SectionT:
        """The validated config section `key` (the runtime validated it with `model`)."""
        value = self.sections[key]
        if not isinstance(value, model):
            raise TypeError(f"config section {key!r} is not a {model.__name__}")
        return value


class Feature(Protocol[T_co]):
    """One feature package, as the runtime's feature list names it."""

    @property
    def name(self) -> str:
        """A slug, unique among features; also its migration branch label."""
        ...

    @property
    def sections(self) -> Sequence[ConfigSection]: ...

    @property
    def models(self) -> str | None:
        """The dotted name of the module that declares its tables, if any."""
        ...

    @property
    def migrations(self) -> Path | None:
        """The directory of its Alembic revisions, if it has tables."""
        ...

    def build(self, core: Core) -> Parts[T_co]: ...
