"""Upgrading numbers the rounds already stored, per campaign, in the order they opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from bot.runtime.schema import alembic_config, upgrade
from surveys.nps.models import NpsAnswer, NpsRound

OPENED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def _round(campaign: str, week: int) -> dict[str, object]:
    at = OPENED + timedelta(weeks=week)
    return {
        "campaign": campaign,
        "scheduled_for": at,
        "opened_at": at,
        "closes_at": at + timedelta(days=7),
        "trigger": "schedule",
        "anonymity": "anonymous",
        "question": "How likely…?",
        "follow_up": "Why?",
        "min_group_size": 5,
        "reminders_planned": 0,
        "reminder_every_hours": 72.0,
        "reminders_sent": 0,
        "audience_size": 10,
    }


def test_existing_rounds_are_numbered_within_their_campaign(empty_engine: Engine) -> None:
    config = alembic_config()
    with empty_engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_surveys")
        for campaign, week in [("pulse", 0), ("dx", 0), ("pulse", 1), ("pulse", 2), ("dx", 3)]:
            connection.execute(insert(NpsRound.__table__).values(_round(campaign, week)))
        connection.execute(
            insert(NpsAnswer.__table__).values(
                id="a1", round_id=1, score=9, answered_on=OPENED.date()
            )
        )
        connection.commit()

    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        numbered = connection.execute(
            select(NpsRound.campaign, NpsRound.number).order_by(NpsRound.id)
        ).all()
        assert [tuple(row) for row in numbered] == [
            ("pulse", 1),
            ("dx", 1),
            ("pulse", 2),
            ("pulse", 3),
            ("dx", 2),
        ]
        assert connection.execute(select(NpsAnswer.id)).scalars().all() == ["a1"]
        with pytest.raises(IntegrityError):
            connection.execute(insert(NpsRound.__table__).values(number=2, **_round("dx", 9)))
