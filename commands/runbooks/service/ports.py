"""What the runbook services need from outside: step executors and Slack, as protocols.

The HTTP client and the subprocess runner live in `commands/runbooks/executors.py` and the
Slack side in `notifier.py`; services and jobs see only these protocols (and tests pass
fakes or the real ones).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.actions import BotActions
from bot.core.audit import AuditLog
from bot.core.db import SessionFactory
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from commands.runbooks.config import RunbooksSection
from commands.runbooks.loader import Loaded
from commands.runbooks.render import Rendered
from commands.runbooks.spec import Runbook

Thread = tuple[str, str]


def policy_context(runbook: Runbook) -> dict[str, str]:
    return {"team": runbook.owner, "runbook": runbook.name}


@dataclass(frozen=True)
class StepResult:
    ok: bool
    summary: str
    """One line: "HTTP 200", "exit status 1", "timed out after 10 s"."""
    output: str = ""
    """What the step printed or answered, as received (the job redacts and cuts it)."""


class StepExecutor(Protocol):
    def http(self, step: Rendered, *, timeout: float) -> StepResult: ...

    def command(self, step: Rendered, *, timeout: float) -> StepResult: ...


class RunNotifier(Protocol):
    """Slack as runs use it; every method swallows Slack errors (the run goes on)."""

    def start_thread(self, user_id: str, text: str) -> Thread | None: ...

    def reply(self, thread: Thread | None, text: str) -> None: ...

    def post(self, channel: str, text: str) -> str | None:
        """Post a message step's text; a short reason when Slack refused it."""
        ...

    def ask_confirmation(self, thread: Thread | None, run_id: int, step: Rendered) -> None: ...

    def ask_approval(
        self, channel: str, run_id: int, runbook: str, runner: str, step: Rendered, approvers: str
    ) -> None: ...

    def tell(self, user_id: str, text: str) -> None: ...


@dataclass(frozen=True)
class RunbookContext:
    """The feature's collaborators, wired once by feature.py."""

    section: RunbooksSection
    runbooks: Mapping[str, Loaded]
    sessions: SessionFactory
    policy: Policy
    identity: IdentityService
    audit: AuditLog
    jobs: JobQueue
    notifier: RunNotifier
    executor: StepExecutor
    clock: Callable[[], datetime]
    team_channels: Mapping[str, str | None]
    actions: BotActions
    """The bot's own actions, for `bot` steps (run as the runner)."""
    changed: Callable[[Collection[str]], None] = lambda _people: None
    """`Core.dashboard.changed`: a run waiting for an approval, or leaving the wait."""
