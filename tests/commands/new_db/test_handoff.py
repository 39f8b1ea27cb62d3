"""Handing credentials over when Slack is down, and the Reveal button in `/platform dbs`.

The emulator fails every chat.postMessage while a fault is installed (the bot's client
retries 5xx twice, so a one-off fault would be absorbed): the hand-off DM cannot be posted,
and the job runner retries it with backoff until Slack is back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.jobs import JobInfo, JobStatus
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.jobs import handoff
from commands.new_db.models import DbRequest, DbResource
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    BOB,
    CAROL,
    dm_texts,
    open_modal,
    request,
    resources,
    reveal_offer,
    told,
    wait_status,
)
from tests.hostile import raw_markup_shown


@pytest.fixture
def slack_down(dbbot: DbBot) -> Iterator[None]:
    dbbot.bot.emulator.faults.inject("chat.postMessage", "server_error", probability=1.0)
    yield
    dbbot.bot.emulator.faults.clear()


def _handoff_job(db: DbBot, resource: DbResource) -> JobInfo | None:
    with db.services.sessions() as session:
        request_id = session.scalars(
            select(DbRequest.id).where(DbRequest.resource_id == resource.id)
        ).one()
    return db.services.jobs.get_by_key(f"db.handoff:{request_id}")


def _wait_handoff_failed_once(db: DbBot, resource: DbResource) -> JobInfo:
    def failed_once() -> bool:
        job = _handoff_job(db, resource)
        return job is not None and job.attempts >= 1 and job.last_error is not None

    assert db.bot.emulator.wait_for(failed_once, timeout=15)
    job = _handoff_job(db, resource)
    assert job is not None
    return job


def _listing(db: DbBot, user: str) -> Any:
    response = db.bot.signer.slash_command(user, "dbs")
    assert response.status == 200
    return response.json


def _reveal_buttons(listing: Any) -> list[str]:
    """The resource ids of the Reveal buttons in a `dbs` answer."""
    return [
        block["accessory"]["value"]
        for block in listing["blocks"]
        if block.get("accessory", {}).get("action_id") == ActionId.REVEAL
    ]


def _click_listing_reveal(db: DbBot, user: str, resource_id: str) -> None:
    """Run `dbs` (the answer is ephemeral) and click the resource's Reveal button in it."""
    before = {e.ts for e in db.bot.emulator.state.ephemerals(user)}
    _listing(db, user)
    shown = [e for e in db.bot.emulator.state.ephemerals(user) if e.ts not in before]
    assert shown, "the dbs answer was not shown"
    db.bot.signer.block_action(
        user,
        action_id=ActionId.REVEAL,
        value=resource_id,
        message=(shown[-1].channel, shown[-1].ts),
    )


def _shown_credentials(db: DbBot, user: str) -> str:
    state = db.bot.emulator.state
    assert db.bot.emulator.wait_for(lambda: bool(state.modal_stack(user)))
    return json.dumps(state.modal_stack(user)[-1].spec)


@pytest.mark.slow
def test_slack_down_at_hand_off_retries_the_dm_and_keeps_the_resource(
    dbbot: DbBot, slack_down: None
) -> None:
    request(dbbot, BOB, "new-db postgres outage-db --env staging", plan="small", ttl="24")
    resource = wait_status(dbbot, "active")
    job = _wait_handoff_failed_once(dbbot, resource)
    assert job.status in (JobStatus.QUEUED, JobStatus.RUNNING)  # to be retried
    assert "Slack was unavailable" in (job.last_error or "")
    # Only the DM failed: the database stays, and nothing offers it in the DM yet.
    assert [r.status for r in resources(dbbot)] == ["active"]
    assert "drop" not in dbbot.provisioners["postgres"].state()["calls"]
    assert not any(ActionId.REVEAL in t for t in dm_texts(dbbot, BOB))

    dbbot.bot.emulator.faults.clear()
    offer = reveal_offer(dbbot, BOB, resource.id)
    assert "is ready" in json.dumps(offer.blocks)
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=resource.id, message=(offer.channel, offer.ts)
    )
    assert "outage-db_app" in _shown_credentials(dbbot, BOB)
    # The used button goes away, and the DM says when the credentials were revealed.
    state = dbbot.bot.emulator.state

    def offer_now() -> Any:
        return state.find(offer.channel, offer.ts)

    assert dbbot.bot.emulator.wait_for(lambda: offer_now().edited is not None)
    assert ActionId.REVEAL not in json.dumps(offer_now().blocks)
    assert "were revealed <!date^" in json.dumps(offer_now().blocks)
    assert _reveal_buttons(_listing(dbbot, BOB)) == []
    job = _handoff_job(dbbot, resource)
    assert job is not None and job.status == JobStatus.SUCCEEDED
    assert raw_markup_shown(dbbot.bot.emulator) == []


@pytest.mark.slow
def test_the_owner_reveals_from_dbs_while_the_dm_cannot_be_sent(
    dbbot: DbBot, slack_down: None
) -> None:
    request(dbbot, BOB, "new-db postgres stranded-db --env staging", plan="small", ttl="24")
    resource = wait_status(dbbot, "active")
    _wait_handoff_failed_once(dbbot, resource)
    # CAROL (same team) sees the resource, but only its owner gets the button.
    carol = _listing(dbbot, CAROL)
    assert "stranded-db" in json.dumps(carol) and _reveal_buttons(carol) == []
    assert _reveal_buttons(_listing(dbbot, BOB)) == [resource.id]

    _click_listing_reveal(dbbot, BOB, resource.id)
    assert "stranded-db_app" in _shown_credentials(dbbot, BOB)
    assert _reveal_buttons(_listing(dbbot, BOB)) == []
    # Slack comes back: the job finds nothing left to offer and posts no button.
    dbbot.bot.emulator.faults.clear()
    assert dbbot.bot.emulator.wait_for(
        lambda: getattr(_handoff_job(dbbot, resource), "status", None) == JobStatus.SUCCEEDED,
        timeout=15,
    )
    assert not any(ActionId.REVEAL in t for t in dm_texts(dbbot, BOB))


@pytest.mark.slow
def test_a_hand_off_that_never_gets_through_leaves_the_reveal_in_dbs(
    dbbot: DbBot, slack_down: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "HANDOFF_ATTEMPTS", 2)
    request(dbbot, BOB, "new-db sqlite never-told --env dev")
    resource = wait_status(dbbot, "active")
    assert dbbot.bot.emulator.wait_for(
        lambda: getattr(_handoff_job(dbbot, resource), "status", None) == JobStatus.FAILED,
        timeout=20,
    )
    assert [r.status for r in resources(dbbot)] == ["active"]
    assert "never-told" in dbbot.provisioners["sqlite"].state()["resources"]
    assert _reveal_buttons(_listing(dbbot, BOB)) == [resource.id]


@pytest.mark.slow
def test_a_dropped_resource_reveals_nothing_from_a_stale_button(
    dbbot: DbBot, slack_down: None
) -> None:
    request(dbbot, BOB, "new-db sqlite drop-first --env dev")
    resource = wait_status(dbbot, "active")
    before = {e.ts for e in dbbot.bot.emulator.state.ephemerals(BOB)}
    assert _reveal_buttons(_listing(dbbot, BOB)) == [resource.id]
    stale = next(e for e in dbbot.bot.emulator.state.ephemerals(BOB) if e.ts not in before)
    view = open_modal(dbbot, BOB, "drop-db drop-first")
    confirm = {BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "drop-first"}}
    assert dbbot.bot.signer.view_submission(BOB, view.id, confirm).body == ""
    wait_status(dbbot, "dropped")
    dbbot.bot.emulator.state.clear_views(BOB)
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=resource.id, message=(stale.channel, stale.ts)
    )
    assert told(dbbot, BOB, "not active any more")
    assert not dbbot.bot.emulator.state.modal_stack(BOB)


def test_credentials_whose_window_slack_did_not_open_are_kept(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres kept-db --env staging", plan="small", ttl="24")
    resource = wait_status(dbbot, "active")
    offer = reveal_offer(dbbot, BOB, resource.id)
    dbbot.bot.emulator.faults.inject("views.open", "server_error")

    def click() -> None:
        dbbot.bot.signer.block_action(
            BOB, action_id=ActionId.REVEAL, value=resource.id, message=(offer.channel, offer.ts)
        )

    click()
    assert told(dbbot, BOB, "Nothing was shown, and they are kept")
    assert not dbbot.bot.emulator.state.modal_stack(BOB)
    still = dbbot.bot.emulator.state.find(offer.channel, offer.ts)
    assert still is not None and ActionId.REVEAL in json.dumps(still.blocks)
    click()
    assert "kept-db_app" in _shown_credentials(dbbot, BOB)
