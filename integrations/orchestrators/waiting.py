"""Following an orchestrator's run until it is ready (or gone), one status poll at a time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from integrations.errors import ProviderRejected
from integrations.orchestrators.base import Handle, Orchestrator, Phase, Status


@dataclass(frozen=True)
class Polling:
    poll_seconds: float = 5.0
    timeout_seconds: float = 1800.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic


class NotInTime(ProviderRejected):
    """The run did not reach the phase in time; it was left as it was."""


def wait_for(
    orchestrator: Orchestrator,
    handle: Handle,
    until: Phase,
    polling: Polling,
    *,
    said: Callable[[str], None] | None = None,
) -> Status:
    """Poll until `until`; each new status message goes to `said`. A run that fails (or is
    gone while waiting for ready) raises `ProviderRejected` with the orchestrator's reason."""
    deadline = polling.monotonic() + polling.timeout_seconds
    last = ""
    while True:
        status = orchestrator.status(handle)
        if said is not None and status.message and status.message != last:
            said(status.message)
            last = status.message
        if status.phase is until:
            return status
        if status.phase is Phase.FAILED:
            raise ProviderRejected(orchestrator.name, status.message or "the run failed")
        if status.phase is Phase.GONE:
            raise ProviderRejected(
                orchestrator.name, "what was started is gone: it was removed outside the bot"
            )
        if polling.monotonic() >= deadline:
            raise NotInTime(
                orchestrator.name,
                f"not {until} after {polling.timeout_seconds / 60:g} minutes "
                f"(last: {status.message or status.phase})",
            )
        polling.sleep(polling.poll_seconds)
