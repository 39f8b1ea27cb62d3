"""Seeding usage and audit rows with known answers, straight into core's tables."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory
from bot.core.usage import CommandUsage
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
