"""`insert_ignore` and `upsert`: the one way to write INSERT … ON CONFLICT, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.core.db import SessionFactory, insert_ignore, upsert
from bot.core.idempotency import IdempotencyKey
from bot.core.identity import IdentityUser

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _claim(sessions: SessionFactory, key: str, scope: str) -> list[str]:
    with sessions.begin() as session:
        statement = (
            insert_ignore(session, IdempotencyKey, conflict=["key"])
            .values(key=key, scope=scope, created_at=NOW)
            .returning(IdempotencyKey.key)
        )
        return list(session.scalars(statement))


def _user(name: str, email: str | None) -> dict[str, Any]:
    return {
        "user_id": "U0BOB",
        "name": name,
        "real_name": name.title(),
        "email": email,
        "tz": None,
        "is_bot": False,
        "is_restricted": False,
        "deleted": False,
        "fetched_at": NOW,
    }


def test_insert_ignore_returns_the_row_only_to_the_insert_that_created_it(
    sessions: SessionFactory,
) -> None:
    assert _claim(sessions, "k", "first") == ["k"]
    assert _claim(sessions, "k", "second") == []
    with sessions() as session:
        assert session.scalars(select(IdempotencyKey.scope)).all() == ["first"]


def test_upsert_inserts_then_overwrites_every_other_column(sessions: SessionFactory) -> None:
    for values in (_user("bob", "bob@example.com"), _user("robert", None)):
        with sessions.begin() as session:
            stored = session.execute(
                upsert(session, IdentityUser, values, conflict=["user_id"]).returning(
                    IdentityUser.name
                )
            ).scalar_one()
        assert stored == values["name"]

    with sessions() as session:
        rows = session.execute(select(IdentityUser.user_id, IdentityUser.email)).all()
    assert [tuple(row) for row in rows] == [("U0BOB", None)]
