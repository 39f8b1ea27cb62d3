"""The failover drill's parts: its config, the traffic it sends and what it reads back.

The deployment runs jobs in workers (`jobs.run_in: workers`) on one PostgreSQL database, with
two NPS campaigns: `drill`, run by hand, asks the emulator's synthetic crowd (`C0LOAD`); and
`ticking`, scheduled every minute for one person, whose rounds (one per due minute, with
`scheduled_for`) are how the drill counts scheduled runs. new-db requests use the SQLite
engine, so each one really provisions a database file.

What a person sees is read from the emulator (every chat.postMessage it carried out) and
what the bot recorded from the database, through the features' own tables.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.fernet import Fernet
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from benchmarks.load import slash_command_body
from benchmarks.new_db import bench_config, request_form_body
from bot.core.jobs import Job
from bot.emulator.workspace import LOAD_CHANNEL
from commands.new_db.models import DbCredentialDrop, DbRequest, DbResource
from surveys.delivery import DeliveryState
from surveys.nps.ids import JobKind as NpsJobKind
from surveys.nps.models import NpsDelivery, NpsRound
from tests.runtime.fleet import SlackProcess

DRILL, TICKING = "drill", "ticking"
DRILL_QUESTION = "Failover drill: how likely are you to recommend the platform?"
TICKING_QUESTION = "Every minute: how likely are you to recommend the platform?"
TICKING_AUDIENCE = "U0BOB"
ADMIN = "U0ALICE"
# (user, a team they are in): the example config's people, so every request is allowed.
SUBMITTERS = (
    ("U0ALICE", "platform"),
    ("U0BOB", "payments"),
    ("U0CAROL", "payments"),
    ("U0DAVE", "search"),
)
NAME = re.compile(r"\b(failover-\d{2})\b")


@dataclass(frozen=True)
class Pace:
    """How fast the drill's world runs: the emulator's windows and the bot's pacer are both
    scaled by `scale` (a minute lasts 60 x scale seconds)."""

    scale: float
    messages_per_minute: int
    senders: int
    lease_seconds: int


def write_config(directory: Path, pace: Pace) -> Path:
    """The example config for the drill, written into `directory`."""
    raw = yaml.safe_load(bench_config(directory / "data", run_in="workers"))
    # A job whose worker died is taken over as a new attempt: leave room for it.
    raw["databases"]["provision_attempts"] = 3
    raw["jobs"].update(lease_seconds=pace.lease_seconds, stop_grace_seconds=1)
    all_week = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    raw["surveys"]["delivery"] = {
        "messages_per_minute": pace.messages_per_minute,
        "senders": pace.senders,
        "time_scale": pace.scale,
        "working_hours": {"start": "00:00", "end": "23:59:59", "days": all_week},
    }
    raw["surveys"]["campaigns"] = [
        {
            "name": DRILL,
            "schedule": "0 9 1 1 *",  # run by hand in the drill
            "audience": {"kind": "channel", "channel": LOAD_CHANNEL},
            "question": DRILL_QUESTION,
        },
        {
            "name": TICKING,
            "schedule": "* * * * *",
            "audience": {"kind": "users", "users": [TICKING_AUDIENCE]},
            "question": TICKING_QUESTION,
        },
    ]
    path = directory / "platform.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def environment(
    base: dict[str, str], slack: SlackProcess, database_url: str, config: Path
) -> dict[str, str]:
    return {
        **base,
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": slack.signing_secret,
        "DATABASE_URL": database_url,
        "PLATFORM_CONFIG": str(config),
        # Every process reads and writes the same sealed credentials.
        "PLATFORM_BOT_SECRET_KEY": Fernet.generate_key().decode(),
        "LOG_LEVEL": "INFO",
    }


class Traffic:
    """Signed requests to the proxy, as Slack sends them."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self._url = f"{url}/slack/events"
        self._verifier = SignatureVerifier(signing_secret)

    def _post(self, body: str) -> httpx.Response:
        timestamp = str(int(time.time()))
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body) or ""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
        return httpx.post(self._url, content=body, headers=headers, timeout=10)

    def command(self, user: str, text: str) -> httpx.Response:
        return self._post(slash_command_body(text, user, 0))

    def submit_new_db(self, n: int) -> httpx.Response:
        """The new-db modal submitted by the n-th submitter in turn, for `failover-NN`."""
        user, team = SUBMITTERS[n % len(SUBMITTERS)]
        body = request_form_body(
            user,
            team,
            request_name(n),
            team_id="T0PLATFORM",
            app_id="A0PLATBOT",
            trigger=f"drill.{n}",
        )
        return self._post(body)


def request_name(n: int) -> str:
    return f"failover-{n:02d}"


# -- what people got (the emulator) ----------------------------------------------------------


def survey_dms(posts: Iterable[dict[str, Any]], question: str) -> Counter[str]:
    """How many invitations with `question` each person was sent."""
    return Counter(str(p["channel"]) for p in posts if str(p.get("text", "")) == question)


def ticking_dms(posts: Iterable[dict[str, Any]]) -> Counter[int]:
    """How many invitations of each `ticking` round were posted (the buttons name the round)."""
    rounds: Counter[int] = Counter()
    for post in posts:
        if str(post.get("text", "")) == TICKING_QUESTION:
            rounds[_round_of(post)] += 1
    return rounds


def _round_of(post: dict[str, Any]) -> int:
    blocks = post["blocks"]
    for block in json.loads(blocks) if isinstance(blocks, str) else blocks:
        for element in block.get("elements", []):
            if element.get("value"):
                return int(element["value"])
    raise AssertionError(f"an invitation without a round: {post}")


def request_posts(posts: Iterable[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(request name, what) for every new-db message: the card, the progress reply and the
    hand-off that says the database is ready."""
    seen: Counter[tuple[str, str]] = Counter()
    for post in posts:
        text = str(post.get("text", ""))
        found = NAME.search(text)
        if found is None:
            continue
        name = found.group(1)
        if text.startswith("Your request:"):
            seen[name, "card"] += 1
        elif text.endswith(" is ready"):
            seen[name, "ready"] += 1
        elif f"{name}:" in text:
            seen[name, "progress"] += 1
    return seen


# -- what the bot recorded (the database) ----------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    name: str
    status: str
    resource_status: str
    card: bool
    progress: bool
    offer: bool


class Records:
    """Reads the drill's rows; every method opens its own short session."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _session(self) -> Session:
        return Session(self._engine)

    def round_id(self, campaign: str) -> int | None:
        with self._session() as session:
            return session.scalar(
                select(func.max(NpsRound.id)).where(NpsRound.campaign == campaign)
            )

    def delivery_states(self, round_id: int) -> Counter[str]:
        with self._session() as session:
            rows = session.execute(
                select(NpsDelivery.state, func.count())
                .where(NpsDelivery.round_id == round_id)
                .group_by(NpsDelivery.state)
            ).all()
        return Counter({str(state): int(count) for state, count in rows})

    def claimed(self, round_id: int) -> int:
        """Rows of the round no longer pending: steady between the pacer's bursts."""
        with self._session() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        NpsDelivery.round_id == round_id,
                        NpsDelivery.state != DeliveryState.PENDING,
                    )
                )
                or 0
            )

    def users_in(self, round_id: int, *states: DeliveryState) -> set[str]:
        with self._session() as session:
            return set(
                session.scalars(
                    select(NpsDelivery.user_id).where(
                        NpsDelivery.round_id == round_id, NpsDelivery.state.in_(list(states))
                    )
                )
            )

    def fanout_holder(self, round_id: int) -> str | None:
        """Which worker thread holds the round's fan-out job (`host:pid:n`), if running."""
        with self._session() as session:
            jobs = session.scalars(select(Job).where(Job.kind == NpsJobKind.FANOUT)).all()
        for job in jobs:
            if job.payload.get("round_id") == round_id and job.status == "running":
                return job.locked_by
        return None

    def requests(self) -> list[RequestRecord]:
        with self._session() as session:
            rows = session.execute(
                select(DbRequest, DbResource, DbCredentialDrop.offer_ts)
                .join(DbResource, DbResource.id == DbRequest.resource_id)
                .outerjoin(DbCredentialDrop, DbCredentialDrop.resource_id == DbResource.id)
            ).all()
            progress = _progress_recorded(session)
        return [
            RequestRecord(
                name=resource.name,
                status=request.status,
                resource_status=resource.status,
                card=request.progress_ts is not None,
                progress=request.id in progress,
                offer=offer_ts is not None,
            )
            for request, resource, offer_ts in rows
        ]

    def held_by(self, pids: Iterable[int]) -> Counter[str]:
        """Running jobs, by kind, that processes `pids` hold (`locked_by` is host:pid:n)."""
        wanted = {str(pid) for pid in pids}
        with self._session() as session:
            running = session.execute(
                select(Job.kind, Job.locked_by).where(Job.status == "running")
            ).all()
        return Counter(str(kind) for kind, by in running if by and by.split(":")[1] in wanted)

    def jobs_by_kind(self) -> Counter[tuple[str, str]]:
        with self._session() as session:
            rows = session.execute(
                select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
            ).all()
        return Counter({(str(kind), str(status)): int(count) for kind, status, count in rows})

    def ticking_runs(self) -> Counter[datetime]:
        """Rounds of the every-minute campaign per due time: one each, or a run was doubled."""
        with self._session() as session:
            due = session.scalars(
                select(NpsRound.scheduled_for).where(NpsRound.campaign == TICKING)
            )
            return Counter(due)


def _progress_recorded(session: Session) -> set[str]:
    """Requests whose provisioning job recorded its progress message (the job's state)."""
    jobs = session.scalars(select(Job).where(Job.kind == "db.provision")).all()
    return {str(job.payload.get("request_id")) for job in jobs if job.state.get("progress")}


def unrecorded(posts: list[dict[str, Any]], records: Records, drill_round: int) -> list[str]:
    """Messages in flight: posted and not yet recorded, or claimed and not yet posted.

    A process killed with one of these in hand leaves a DM missing (a survey row claimed,
    never posted: at most once) or sends it twice (a new-db message posted, not recorded:
    at least once). The drill kills only when this list is empty.
    """
    problems = []
    posted = set(survey_dms(posts, DRILL_QUESTION))
    claimed = records.users_in(drill_round, DeliveryState.SENDING)
    if not claimed <= posted:
        problems.append(f"{len(claimed - posted)} survey DM(s) claimed, not yet posted")
    seen = request_posts(posts)
    for record in records.requests():
        for what, recorded in (
            ("card", record.card),
            ("progress", record.progress),
            ("ready", record.offer),
        ):
            if seen[record.name, what] > int(recorded):
                problems.append(f"{record.name}: {what} posted, not yet recorded")
    return problems
