"""The feature's services on a real app database, without Slack: the harness of test_service.py.

Jobs run in the test's thread (`JobRunner.run_once`); provisioners are in-memory fakes and
the notifier records what it would have said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from bot.core.audit import AuditLog
from bot.core.db import make_session_factory
from bot.core.identity import IdentityService, Principal
from bot.core.jobs import JobQueue, JobRunner
from bot.core.policy import Policy
from commands.new_db.feature import NewDb, build_graph
from commands.new_db.ids import JobKind
from commands.new_db.service.form import NewDbForm
from commands.new_db.service.types import MessageRef, RequestInfo, ResourceInfo, Step
from integrations.fakes import FakeProvisioner, FakeUserDirectory
from integrations.protocols import DirectoryUser
from integrations.provisioning_protocols import WrappedSecret
from tests.commands.new_db.conftest import example_config


class RecordingNotifier:
    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []

    def _note(self, what: str, detail: str = "") -> MessageRef:
        self.said.append((what, detail))
        return MessageRef("D0BOB", str(len(self.said)))

    def post_request_card(self, request: RequestInfo) -> MessageRef | None:
        return self._note("card", request.resource.name)

    def update_request_card(self, request: RequestInfo) -> None:
        self._note("card updated", request.status)

    def post_approval(self, request: RequestInfo, channel: str) -> MessageRef | None:
        return self._note("approval", channel)

    def update_approval(self, request: RequestInfo) -> None:
        self._note("approval updated", request.status)

    def post_progress(self, request: RequestInfo, step: Step) -> MessageRef | None:
        return self._note("progress", step)

    def edit_progress(
        self, ref: MessageRef, request: RequestInfo, step: Step, *, failure: str | None = None
    ) -> None:
        self._note("progress edited", failure or step)

    def tell(self, user_id: str, text: str, *, thread: MessageRef | None = None) -> None:
        self._note(f"tell {user_id}", text)

    def deliver_wrapped(
        self, request: RequestInfo, wrapped: WrappedSecret, path: str
    ) -> MessageRef | None:
        return self._note("wrapped", path)

    def deliver_reveal(self, request: RequestInfo) -> MessageRef | None:
        return self._note("reveal offer", request.resource.id)

    def mark_revealed(self, offer: MessageRef, resource: ResourceInfo, when: datetime) -> None:
        self._note("revealed", offer.ts)

    def warn_expiry(self, resource: ResourceInfo, *, hours_left: float) -> None:
        self._note("expiry warning", resource.name)

    def tell_extended(self, resource: ResourceInfo, *, user_id: str) -> None:
        self._note(f"extended for {user_id}", resource.name)


def person(user_id: str, *, teams: set[str], lead: bool = False, admin: bool = False) -> Principal:
    return Principal(
        user_id=user_id,
        name=user_id,
        email=None,
        tz="UTC",
        is_bot=False,
        is_guest=False,
        deleted=False,
        teams=frozenset(teams),
        lead_of=frozenset(teams if lead else ()),
        roles=frozenset({"admin"} if admin else ()),
        usergroups=frozenset({"platform-team"} if admin else ()),
    )


BOB = person("U0BOB", teams={"payments"})
CAROL = person("U0CAROL", teams={"payments"}, lead=True)
ALICE = person("U0ALICE", teams={"platform"}, admin=True)
# The same people in the workspace directory, where the config finds them by email.
DIRECTORY_USERS = [
    DirectoryUser(id="U0BOB", name="bob", real_name="Bob", email="bob@example.com"),
    DirectoryUser(id="U0CAROL", name="carol", real_name="Carol", email="carol@example.com"),
    DirectoryUser(id="U0ALICE", name="alice", real_name="Alice", email="alice@example.com"),
]


@dataclass
class Harness:
    feature: NewDb
    runner: JobRunner
    notifier: RecordingNotifier
    provisioners: dict[str, FakeProvisioner]
    sessions: Callable[..., Any]
    directory: FakeUserDirectory
    identity: IdentityService

    def run_jobs(self) -> int:
        ran = 0
        while self.runner.run_once():
            ran += 1
        return ran

    def count(self, model: Any, *where: Any) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def build_harness(engine: Engine, tmp_path: Path) -> Harness:
    config = example_config(tmp_path)
    sessions = make_session_factory(engine)
    notifier = RecordingNotifier()
    provisioners = {kind: FakeProvisioner(kind) for kind in ("postgres", "sqlite", "redis")}
    directory = FakeUserDirectory(DIRECTORY_USERS, usergroups={"platform-team": ["U0ALICE"]})
    identity = IdentityService(directory, config, sessions)
    feature = build_graph(
        config,
        config.databases,
        sessions=sessions,
        policy=Policy(config),
        audit=AuditLog(sessions),
        jobs=JobQueue(sessions),
        notifier=notifier,
        provisioners=provisioners,
        secrets=None,
        identity=identity,
    )
    runner = JobRunner(
        sessions,
        engine,
        handlers={
            JobKind.PROVISION: feature.provision_job,
            JobKind.DROP: feature.drop_job,
            JobKind.HANDOFF: feature.handoff_job,
            JobKind.ROTATE: feature.rotate_job,
        },
        workers=1,
    )
    return Harness(feature, runner, notifier, provisioners, sessions, directory, identity)


def form(name: str, **changes: Any) -> NewDbForm:
    base = NewDbForm(
        engine="postgres", name=name, tier="staging", team="payments", plan="small", ttl_hours=48
    )
    return base.model_copy(update=changes)
