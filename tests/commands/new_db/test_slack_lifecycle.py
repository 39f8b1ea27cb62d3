"""`dbs`, `drop-db`, the expiry sweep, the one-time reveal and the rating, driven over signed
HTTP through the Slack emulator (Slack tier)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.core.audit import AuditRecord
from bot.core.db import utcnow
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.models import DbRequest, DbResource
from surveys.csat.ids import ActionId as CsatActionId
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    dm_texts,
    open_modal,
    request,
    resources,
    reveal_offer,
    told,
    wait_status,
)
from tests.concurrency import together


def test_dbs_lists_and_drop_db_removes_everything(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db sqlite gone-soon --env dev")
    wait_status(dbbot, "active")
    listing = dbbot.bot.signer.slash_command(CAROL, "dbs")  # same team
    assert "gone-soon" in json.dumps(listing.json)
    assert "gone-soon" not in json.dumps(dbbot.bot.signer.slash_command(DAVE, "dbs").json)
    view = open_modal(dbbot, BOB, "drop-db gone-soon")
    wrong = dbbot.bot.signer.view_submission(
        BOB, view.id, {BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "gone"}}
    )
    assert "Type gone-soon" in wrong.json["errors"]["confirm_name"]
    right = dbbot.bot.signer.view_submission(
        BOB, view.id, {BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "gone-soon"}}
    )
    assert right.body == ""
    dropped = wait_status(dbbot, "dropped")
    assert dropped.active_key is None
    assert dbbot.provisioners["sqlite"].state()["resources"] == {}
    assert dbbot.bot.emulator.wait_for(
        lambda: any("was dropped" in t for t in dm_texts(dbbot, BOB))
    )


def test_the_scheduled_sweep_warns_offers_extend_and_then_drops(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db sqlite short-lived --env dev", ttl="1")
    resource = wait_status(dbbot, "active")
    assert resource.expires_at is not None
    sweep = next(t for t in dbbot.services.tasks if t.id == "new-db-sweep")
    sweep.func()
    sweep.func()  # warns once
    state = dbbot.bot.emulator.state
    channel = state.dm_channel(BOB)
    assert channel is not None
    warnings = [m for m in state.messages(channel) if "Drop now" in json.dumps(m.blocks)]
    assert len(warnings) == 1 and "Extend" in json.dumps(warnings[0].blocks)

    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.EXTEND, value=resource.id, message=(channel, warnings[0].ts)
    )
    assert dbbot.bot.emulator.wait_for(lambda: bool(state.modal_stack(BOB)))
    extend = state.modal_stack(BOB)[-1]
    assert "At most 336 hours" in json.dumps(extend.spec)
    hours = {BlockId.EXTEND_HOURS: {ActionId.EXTEND_HOURS: "soon"}}
    refused = dbbot.bot.signer.view_submission(BOB, extend.id, hours)
    assert refused.json["errors"]["extend_hours"] == (
        "Extend by: give a number of hours above 0 and at most 336."
    )
    hours = {BlockId.EXTEND_HOURS: {ActionId.EXTEND_HOURS: "500"}}
    refused = dbbot.bot.signer.view_submission(BOB, extend.id, hours)
    assert "at most 336" in refused.json["errors"]["extend_hours"]
    hours = {BlockId.EXTEND_HOURS: {ActionId.EXTEND_HOURS: "24"}}
    assert dbbot.bot.signer.view_submission(BOB, extend.id, hours).body == ""
    extended = resources(dbbot)[0]
    assert extended.expires_at is not None and extended.warned_at is None
    assert timedelta(hours=23) < extended.expires_at - resource.expires_at <= timedelta(hours=24)

    with dbbot.services.sessions.begin() as session:
        session.execute(
            update(DbResource)
            .where(DbResource.id == resource.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    sweep.func()
    wait_status(dbbot, "dropped")
    assert dbbot.provisioners["sqlite"].state()["resources"] == {}


def test_the_password_appears_nowhere_but_the_reveal_modal(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres secretive --env staging", plan="small")
    resource = wait_status(dbbot, "active")
    channel = dbbot.bot.emulator.state.dm_channel(BOB)
    assert channel is not None
    offer = reveal_offer(dbbot, BOB, resource.id)
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=resource.id, message=(channel, offer.ts)
    )
    assert dbbot.bot.emulator.wait_for(lambda: bool(dbbot.bot.emulator.state.modal_stack(BOB)))
    shown = json.dumps(dbbot.bot.emulator.state.modal_stack(BOB)[-1].spec)
    password = shown.split("*Password:* `")[1].split("`")[0]
    assert len(password) >= 24
    state = dbbot.bot.emulator.state
    for conversation in [channel, "C0GENERAL", "C0APPROVALS", "C0PAYMENTS"]:
        for message in state.messages(conversation):
            assert password not in message.text + json.dumps(message.blocks)
    for user in (BOB, CAROL, ALICE):
        for ephemeral in state.ephemerals(user):
            assert password not in ephemeral.text + json.dumps(ephemeral.blocks)
    for record in dbbot.logs:
        if record.name.startswith("bot.emulator"):
            continue  # the emulator plays Slack, which does receive the modal
        assert password not in record.getMessage() + str(record.exc_info or "")
    with dbbot.services.sessions() as session:
        for row in session.scalars(select(AuditRecord)).all():
            assert password not in json.dumps(row.inputs) + (row.detail or "") + (row.target or "")
        for row in session.scalars(select(DbResource)).all():
            assert row.password_ciphertext is None


def test_two_reveal_clicks_at_once_show_the_credentials_once(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres twice-shown --env staging", plan="small")
    resource = wait_status(dbbot, "active")
    state = dbbot.bot.emulator.state
    channel = state.dm_channel(BOB)
    assert channel is not None
    offer = reveal_offer(dbbot, BOB, resource.id)

    def click() -> Any:
        return dbbot.bot.signer.block_action(
            BOB, action_id=ActionId.REVEAL, value=resource.id, message=(channel, offer.ts)
        )

    assert [r.status for r in together(click, click)] == [200, 200]
    assert told(dbbot, BOB, "already revealed")
    assert dbbot.bot.emulator.wait_for(lambda: bool(state.modal_stack(BOB)))
    assert len(dbbot.bot.emulator.calls("views.open")) == 2  # the request modal + one reveal
    assert not any("went wrong" in e.text for e in state.ephemerals(BOB))


def test_two_drop_confirmations_at_once_drop_once(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db sqlite dropped-once --env dev")
    wait_status(dbbot, "active")
    first = open_modal(dbbot, BOB, "drop-db dropped-once")
    second = open_modal(dbbot, CAROL, "drop-db dropped-once")  # same team
    assert first.id != second.id
    confirm = {BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "dropped-once"}}
    answers = together(
        lambda: dbbot.bot.signer.view_submission(BOB, first.id, confirm),
        lambda: dbbot.bot.signer.view_submission(CAROL, second.id, confirm),
    )
    bodies = sorted(a.body for a in answers)
    assert bodies[0] == ""  # one of them closed its modal
    refused = json.loads(bodies[1])["errors"]["confirm_name"]
    assert refused in (
        "A drop of this resource is already requested.",
        "This resource is not active any more.",
    )
    wait_status(dbbot, "dropped")
    with dbbot.services.sessions() as session:
        drops = session.scalars(select(DbRequest).where(DbRequest.action == "db.drop")).all()
    assert len(drops) == 1
    assert dbbot.provisioners["sqlite"].state()["calls"].count("drop") == 1


def test_a_ready_database_asks_the_requester_for_a_rating_once(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres rated-db --env staging", plan="small", ttl="24")
    wait_status(dbbot, "active")
    request(dbbot, BOB, "new-db postgres rated-two --env staging", plan="small", ttl="24")
    assert dbbot.bot.emulator.wait_for(
        lambda: [r.status for r in resources(dbbot)] == ["active", "active"], timeout=15
    )
    channel = dbbot.bot.emulator.state.dm_channel(BOB)
    assert channel is not None

    def ratings() -> list[Any]:
        return [
            m
            for m in dbbot.bot.emulator.state.messages(channel)
            if CsatActionId.RATE_PREFIX in json.dumps(m.blocks)
        ]

    assert dbbot.bot.emulator.wait_for(lambda: len(ratings()) == 1)
    assert ratings()[0].thread_ts is not None  # in the request's progress thread
    dbbot.bot.emulator.wait_idle()
    assert len(ratings()) == 1  # the second database within the period asks nothing
