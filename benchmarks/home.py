"""App Home publish time for a person with 50 resources and 20 approvals waiting on them.

The whole bot runs in process on the example config (every feature, the local Slack
emulator, signed HTTP), on SQLite and on PostgreSQL. Alice, an admin (so her Home also has the
platform overview), owns 50 active databases and may approve 20 pending prod requests.
Measured in the same run, CALLS times each:

- baseline: `/platform help` as Slack sends it (signed HTTP to the app, answered in the ack),
  timed by the client;
- App Home, bot time: building and publishing her Home (`HomeHandlers.publish`: identity,
  every feature's dashboard source, the overview's queries, Block Kit) minus the time spent
  waiting for views.publish to answer, which is Slack's;
- App Home, end to end: `app_home_opened` sent until the emulator holds the new view.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.new_db import bench_config
from bot.core.db import utcnow
from bot.emulator import Emulator
from bot.runtime.config import parse_config
from bot.runtime.local import LocalBot, local_bot
from bot.runtime.settings import Settings
from commands.home.handlers import HomeHandlers
from commands.new_db.models import DbRequest, DbResource, RequestStatus, ResourceStatus
from integrations.protocols import Messenger
from integrations.slack_messaging import SlackMessenger

RESOURCES = 50
APPROVALS = 20
CALLS = 200
END_TO_END_CALLS = 50
PAUSE = 0.01
PERSON = "U0ALICE"  # an admin: the overview's queries run too
REQUESTER = "U0BOB"


@dataclass(frozen=True)
class Latency:
    p50: float
    p99: float

    @classmethod
    def of(cls, samples_ms: list[float]) -> Latency:
        ordered = sorted(samples_ms)
        return cls(statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1])


@dataclass(frozen=True)
class HomeFigures:
    database: str
    help: Latency
    bot_time: Latency
    end_to_end: Latency
    blocks: int


class _TimedSlack:
    """The messenger, with the time spent waiting on views.publish kept aside."""

    def __init__(self, messenger: Messenger) -> None:
        self._messenger = messenger
        self.waited = 0.0

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        started = time.perf_counter()
        self._messenger.publish_home(user_id, view)
        self.waited += time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._messenger, name)


def _seed(bot: LocalBot) -> None:
    now = utcnow()
    with bot.services.sessions.begin() as session:
        for index in range(RESOURCES):
            session.add(
                DbResource(
                    id=f"bench{index:027d}",
                    engine="postgres",
                    name=f"orders-{index}",
                    tier="staging",
                    team="platform",
                    owner_id=PERSON,
                    plan="small",
                    status=ResourceStatus.ACTIVE,
                    active_key=f"postgres:orders-{index}",
                    created_at=now,
                    ready_at=now,
                    expires_at=now + timedelta(days=3),
                )
            )
        for index in range(APPROVALS):
            resource_id = f"wait{index:028d}"
            session.add(
                DbResource(
                    id=resource_id,
                    engine="postgres",
                    name=f"ledger-{index}",
                    tier="prod",
                    team="payments",
                    owner_id=REQUESTER,
                    plan="large",
                    status=ResourceStatus.AWAITING_APPROVAL,
                    active_key=f"postgres:ledger-{index}",
                    created_at=now,
                )
            )
            session.flush()
            session.add(
                DbRequest(
                    id=f"req{index:029d}",
                    action="db.create",
                    status=RequestStatus.PENDING,
                    idempotency_key=f"bench:{index}",
                    resource_id=resource_id,
                    requester_id=REQUESTER,
                    tier="prod",
                    team="payments",
                    reason="launch",
                    approvals_needed=2,
                    expires_at=now + timedelta(hours=24),
                    created_at=now,
                )
            )


def _timed(call: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _bot_time(bot: LocalBot) -> tuple[list[float], int]:
    home = bot.services.feature("home")
    slack = _TimedSlack(SlackMessenger(bot.services.slack))
    handlers = HomeHandlers(
        service=home.service,
        identity=bot.services.identity,
        messenger=slack,
        commands_for=bot.services.router.commands_for,
        shown=5,
    )
    samples = []
    for _ in range(CALLS):
        # People open their Home one at a time: the emulator (in this process) finishes
        # with the previous publish before the next is timed, as Slack would elsewhere.
        time.sleep(PAUSE)
        slack.waited = 0.0
        started = time.perf_counter()
        handlers.publish(PERSON)
        samples.append((time.perf_counter() - started - slack.waited) * 1000)
    view = bot.emulator.state.home(PERSON)
    return samples, len(view.spec["blocks"]) if view is not None else 0


def _published(bot: LocalBot) -> str | None:
    """The hash of the person's Home as the emulator holds it (each publish makes a new one)."""
    view = bot.emulator.state.home(PERSON)
    return None if view is None else view.hash


def _end_to_end(bot: LocalBot) -> list[float]:
    samples = []
    for _ in range(END_TO_END_CALLS):
        before = _published(bot)
        started = time.perf_counter()
        bot.signer.event({"type": "app_home_opened", "user": PERSON, "tab": "home"})
        while _published(bot) == before:
            time.sleep(0.0005)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def measure(database_url: str, label: str) -> HomeFigures:
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        config = parse_config(bench_config(tmp / "data"), tmp / "platform.yaml", os.environ)
        settings = Settings(database_url=database_url, platform_config=tmp / "platform.yaml")
        with (
            Emulator(rate_limits=None) as emulator,
            local_bot(settings, config, emulator=emulator, background=False) as bot,
        ):
            _seed(bot)
            for _ in range(20):  # warm-up: caches, connections, the router's help
                bot.signer.slash_command(PERSON, "help")
                bot.services.feature("home").handlers.publish(PERSON)
            help_ms = _timed(lambda: bot.signer.slash_command(PERSON, "help"), CALLS)
            bot_ms, blocks = _bot_time(bot)
            end_to_end = _end_to_end(bot)
    return HomeFigures(
        database=label,
        help=Latency.of(help_ms),
        bot_time=Latency.of(bot_ms),
        end_to_end=Latency.of(end_to_end),
        blocks=blocks,
    )


def run(postgres: Callable[[], AbstractContextManager[str]]) -> list[HomeFigures]:
    figures = []
    with _sqlite() as url:
        figures.append(measure(url, "SQLite"))
    with postgres() as url:
        figures.append(measure(url, "PostgreSQL"))
    return figures


@contextmanager
def _sqlite() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as raw:
        yield f"sqlite:///{Path(raw) / 'bot.db'}"
