"""The orchestrated driver's promises, with an orchestrator in memory: one apply however often
a create is resumed, progress once per new status, removal or keeping on timeout, destroy
waits until gone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.db import SessionFactory
from commands.environments.config import TemplateConfig
from commands.environments.drivers.base import EnvShape
from commands.environments.drivers.orchestrated import OrchestratedDriver, TimedOut, Waiting
from commands.environments.models import EnvResource, ResourceState
from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import Handle, OrchestratorRequest, Status
from tests.commands.environments.rows import creating
from tests.integrations.orchestrators.memory import MemoryOrchestrator

TEMPLATE = TemplateConfig.model_validate(
    {
        "description": "t",
        "driver": "kubernetes",
        "tiers": ["dev"],
        "kubernetes": {"kubeconfig": "k", "flavour": "managed", "manifest": "m.yaml"},
    }
)
ENV = EnvShape("e1", "orders-k8s", "k8s", TEMPLATE, "dev", "payments", {}, ())


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[SessionFactory]:
    with creating(
        tmp_path, ENV, driver="kubernetes", key="orchestrator", engine="orchestrator"
    ) as made:
        yield made


class Flaky(MemoryOrchestrator):
    """Unreachable on the first status poll after apply: the job's attempt ends there."""

    failed_once: bool = False

    def status(self, handle: Handle) -> Status:
        if not self.failed_once:
            self.failed_once = True
            raise ProviderUnavailable(self.name, "connection refused")
        return super().status(handle)


def driver(
    sessions: object, orchestrator: MemoryOrchestrator, **waiting: object
) -> OrchestratedDriver:
    return OrchestratedDriver(
        sessions=sessions,
        orchestrators=lambda env: orchestrator,
        waiting=lambda env: Waiting(poll_seconds=0, **waiting),  # type: ignore[arg-type]
        requests=lambda env: OrchestratorRequest(env.name, env.team, env.tier, env.template_key),
        sleep=lambda seconds: None,
    )


def test_a_resumed_create_follows_the_stored_run_instead_of_applying_again(
    sessions: object,
) -> None:
    orchestrator = Flaky(polls=1)
    said: list[str] = []
    with pytest.raises(ProviderUnavailable):
        driver(sessions, orchestrator).create(ENV, said.append)  # the attempt a crash ends
    applied = driver(sessions, orchestrator).create(ENV, said.append)  # another process
    assert orchestrator.applied == ["orders-k8s"]
    assert applied.secrets["password"] == "s3cret-from-orchestrator"
    assert said == ["memory accepted the request.", "Synced, waiting for Ready (1)", "Ready"]


@pytest.mark.parametrize("keep", [False, True])
def test_not_ready_in_time_is_removed_or_kept(sessions: SessionFactory, keep: bool) -> None:
    orchestrator = MemoryOrchestrator(never_ready=True)
    made = driver(sessions, orchestrator, timeout_seconds=0.2, keep_on_timeout=keep)
    with pytest.raises(TimedOut):
        made.create(ENV, lambda text: None)
    left = made.roll_back(ENV, lambda text: None)
    assert bool(left) is keep
    assert ("orders-k8s" in orchestrator.runs) is keep


def test_a_failed_run_says_why_and_destroy_waits_until_gone(sessions: SessionFactory) -> None:
    with pytest.raises(ProviderRejected, match="quota exceeded"):
        driver(sessions, MemoryOrchestrator(fail_with="quota exceeded")).create(ENV, lambda t: None)
    orchestrator = MemoryOrchestrator()
    made = driver(sessions, orchestrator)
    made.destroy(ENV, lambda text: None)  # the failed run of this environment is removed
    assert orchestrator.runs == {}
    with sessions() as session:
        state = session.scalars(select(EnvResource.state)).one()
    assert state == ResourceState.REMOVED
