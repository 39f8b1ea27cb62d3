"""new-db's steps on an orchestrator: apply and wait, read its outputs, destroy and wait."""

from __future__ import annotations

import pytest

from integrations.errors import ProviderRejected
from integrations.orchestrators.base import Phase
from integrations.orchestrators.provisioner import OrchestratedProvisioner
from integrations.orchestrators.waiting import NotInTime, Polling, wait_for
from integrations.provisioning_protocols import ResourceSpec
from tests.integrations.orchestrators.memory import MemoryOrchestrator

SPEC = ResourceSpec("postgres", "orders-db")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def provisioner(
    orchestrator: MemoryOrchestrator, clock: Clock, timeout: float = 60
) -> OrchestratedProvisioner:
    polling = Polling(
        poll_seconds=5, timeout_seconds=timeout, sleep=clock.sleep, monotonic=clock.monotonic
    )
    return OrchestratedProvisioner("postgres", orchestrator, polling=polling)


def test_create_waits_until_ready_and_credentials_come_from_the_orchestrator() -> None:
    orchestrator, clock = MemoryOrchestrator(polls=3), Clock()
    made = provisioner(orchestrator, clock)
    made.create_resource(SPEC)
    assert clock.now == 15  # three polls of 5 s before Ready
    made.create_user(SPEC, "ignored")
    made.grant(SPEC)
    credentials = made.credentials(SPEC, "ignored")
    assert credentials.password == "s3cret-from-orchestrator"
    assert (credentials.host, credentials.port, credentials.database) == (
        "db.internal",
        5432,
        "orders-db",
    )
    assert orchestrator.applied == ["orders-db"]  # one apply, found again for the credentials
    made.drop(SPEC)
    assert orchestrator.runs == {}


def test_a_restarted_job_finds_the_same_run() -> None:
    orchestrator, clock = MemoryOrchestrator(), Clock()
    provisioner(orchestrator, clock).create_resource(SPEC)
    provisioner(orchestrator, clock).credentials(SPEC, "")  # a new process: no cached handle
    assert orchestrator.applied == ["orders-db"]


def test_a_failed_run_says_why_and_a_slow_one_times_out() -> None:
    with pytest.raises(ProviderRejected, match="quota exceeded"):
        provisioner(MemoryOrchestrator(fail_with="quota exceeded"), Clock()).create_resource(SPEC)
    with pytest.raises(NotInTime, match="not ready after 1 minutes"):
        provisioner(MemoryOrchestrator(never_ready=True), Clock()).create_resource(SPEC)


def test_an_invalid_name_is_refused_before_anything_is_asked() -> None:
    orchestrator = MemoryOrchestrator()
    with pytest.raises(ProviderRejected):
        provisioner(orchestrator, Clock()).create_resource(ResourceSpec("postgres", "Bad Name"))
    assert orchestrator.applied == []


def test_wait_for_reports_each_new_message_once() -> None:
    orchestrator, clock = MemoryOrchestrator(polls=2), Clock()
    handle = orchestrator.apply(provisioner(orchestrator, clock)._request("x-db"))
    said: list[str] = []
    polling = Polling(
        poll_seconds=1, timeout_seconds=10, sleep=clock.sleep, monotonic=clock.monotonic
    )
    assert (
        wait_for(orchestrator, handle, Phase.READY, polling, said=said.append).phase is Phase.READY
    )
    assert said == ["Synced, waiting for Ready (1)", "Synced, waiting for Ready (2)", "Ready"]
