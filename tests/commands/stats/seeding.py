"""Seeding usage, audit and survey rows with known answers, straight into their tables."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory
from bot.core.usage import CommandUsage
from surveys.csat.models import CsatRequest
from surveys.nps.models import NpsAnswer, NpsRound
from tests.clock import START

NOW = START + timedelta(days=100)


def ago(**parts: float) -> datetime:
    return NOW - timedelta(**parts)


def use(
    sessions: SessionFactory, user: str, team: str | None, subcommand: str, at: datetime
) -> None:
    with sessions.begin() as session:
        session.execute(
            insert(CommandUsage),
            [
                {
                    "created_at": at,
                    "user_id": user,
                    "team": team,
                    "subcommand": subcommand,
                    "outcome": "ok",
                    "duration_ms": 5,
                }
            ],
        )


def audit(
    sessions: SessionFactory,
    action: str,
    outcome: str,
    at: datetime,
    *,
    target: str | None = None,
    detail: str | None = None,
    **inputs: Any,
) -> None:
    # Through the audit log itself, at `at`: each record is chained to the one before.
    AuditLog(sessions, clock=lambda: at).record(
        actor="U0X",
        action=action,
        outcome=Outcome(outcome),
        inputs=inputs,
        target=target,
        detail=detail,
    )


def nps_round(
    sessions: SessionFactory,
    campaign: str,
    number: int,
    opened_at: datetime,
    scores: list[int],
    *,
    min_group_size: int = 5,
) -> None:
    """A round of `campaign` opened at `opened_at`, with one anonymous answer per score."""
    with sessions.begin() as session:
        round_ = NpsRound(
            campaign=campaign,
            number=number,
            scheduled_for=opened_at,
            opened_at=opened_at,
            closes_at=opened_at + timedelta(days=7),
            trigger="schedule",
            anonymity="anonymous",
            question="How likely are you to recommend the platform?",
            follow_up="Why?",
            min_group_size=min_group_size,
            reminders_planned=0,
            reminder_every_hours=72.0,
            reminders_sent=0,
            audience_size=len(scores),
        )
        session.add(round_)
        session.flush()
        session.add_all(
            NpsAnswer(
                id=uuid.uuid4().hex,
                round_id=round_.id,
                score=score,
                answered_on=opened_at.date(),
            )
            for score in scores
        )


def csat(sessions: SessionFactory, action: str, requested_at: datetime, score: int | None) -> None:
    """A rating request for `action` made at `requested_at`; `score` None: not rated."""
    with sessions.begin() as session:
        session.add(
            CsatRequest(
                user_id=f"U{uuid.uuid4().hex[:8].upper()}",
                action=action,
                channel="D0DM",
                requested_at=requested_at,
                score=score,
                rated_at=None if score is None else requested_at + timedelta(minutes=5),
            )
        )
