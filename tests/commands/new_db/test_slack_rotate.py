"""`/platform db-credentials NAME` driven over signed HTTP through the Slack emulator: the
refusals before any modal, the confirmation, the job and the new Reveal in the owner's DM."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.jobs.model import Job
from bot.emulator.state import Message
from commands.new_db.ids import ActionId
from commands.new_db.models import DbRequest
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    BOB,
    CAROL,
    dm_texts,
    open_modal,
    request,
    reveal_offer,
    wait_status,
)
from tests.hostile import raw_markup_shown


def _reveal(db: DbBot, offer: Message, resource_id: str) -> str:
    """Click the offer's Reveal button; the password the modal shows."""
    state = db.bot.emulator.state
    db.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=resource_id, message=(offer.channel, offer.ts)
    )
    assert db.bot.emulator.wait_for(lambda: bool(state.modal_stack(BOB)))
    shown = json.dumps(state.modal_stack(BOB)[-1].spec)
    state.clear_views(BOB)  # closed: the next modal is the only one open
    found = re.search(r"\*Password:\* `([^`]+)`", shown)
    assert found is not None, shown
    return found.group(1)


def _digest(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def _answer(db: DbBot, user: str, text: str) -> str:
    response = db.bot.signer.slash_command(user, text)
    assert response.status == 200
    return json.dumps(response.json)


def test_the_owner_re_issues_and_reveals_a_new_password(
    dbbot: DbBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    request(dbbot, BOB, "new-db postgres orders-db --env staging", plan="small", ttl="24")
    resource = wait_status(dbbot, "active")
    first = _reveal(dbbot, reveal_offer(dbbot, BOB, resource.id), resource.id)
    fake = dbbot.provisioners["postgres"]
    assert fake.state()["users"]["orders-db"] == _digest(first)

    view = open_modal(dbbot, BOB, "db-credentials orders-db")
    assert "Apps using the current password stop connecting" in json.dumps(view.spec)
    assert fake.state()["users"]["orders-db"] == _digest(first)  # nothing yet
    signer = dbbot.bot.signer
    sent: list[dict[str, Any]] = []
    original = signer._interaction

    def recording(payload: dict[str, Any]) -> Any:
        sent.append(payload)
        return original(payload)

    monkeypatch.setattr(signer, "_interaction", recording)
    assert signer.view_submission(BOB, view.id, {}).body == ""
    # The same submission again: a double click, and Slack retrying the delivery.
    assert original(sent[-1]).body == ""
    signer.send({"payload": json.dumps(sent[-1])}, retry_num=1, retry_reason="http_timeout")

    assert dbbot.bot.emulator.wait_for(
        lambda: any("Re-issuing credentials for orders-db…" in t for t in dm_texts(dbbot, BOB))
    )

    def new_offer() -> list[str]:
        return [t for t in dm_texts(dbbot, BOB) if "New credentials for" in t]

    assert dbbot.bot.emulator.wait_for(lambda: bool(new_offer()), timeout=15)
    offers = [
        m
        for m in dbbot.bot.emulator.state.messages(reveal_offer(dbbot, BOB, resource.id).channel)
        if "New credentials for *PostgreSQL* `orders-db` are ready" in json.dumps(m.blocks)
    ]
    assert len(offers) == 1
    second = _reveal(dbbot, offers[0], resource.id)
    assert second != first
    assert fake.state()["users"]["orders-db"] == _digest(second)
    with dbbot.services.sessions() as session:
        statuses = session.scalars(
            select(DbRequest.status).where(DbRequest.action == "db.rotate")
        ).all()
    assert statuses == ["completed"]
    with dbbot.services.sessions() as session:
        assert len(session.scalars(select(Job.id).where(Job.kind == "db.rotate")).all()) == 1
    entries = dbbot.services.audit.recent(action="db.rotate")
    assert sorted(e.outcome for e in entries) == ["requested", "succeeded"]
    assert raw_markup_shown(dbbot.bot.emulator) == []


def test_refusals_come_as_the_command_answer_before_any_modal(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db sqlite local-db --env dev")
    request(dbbot, BOB, "new-db postgres orders-db --env staging", plan="small", ttl="24")
    assert dbbot.bot.emulator.wait_for(
        lambda: len([t for t in dm_texts(dbbot, BOB) if "is ready" in t]) >= 2, timeout=15
    )

    assert "Only the person who requested orders-db can re-issue its credentials." in _answer(
        dbbot, CAROL, "db-credentials orders-db"
    )
    assert "SQLite databases have no password; there is nothing to re-issue." in _answer(
        dbbot, BOB, "db-credentials local-db"
    )
    assert "You have no active resource named nope." in _answer(dbbot, BOB, "db-credentials nope")
    assert "Which one?" in _answer(dbbot, BOB, "db-credentials")
    assert not dbbot.bot.emulator.state.modal_stack(BOB)
    assert not dbbot.bot.emulator.state.modal_stack(CAROL)
