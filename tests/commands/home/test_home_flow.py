"""The App Home dashboard through the emulator: what a person sees, refreshes, approving
and cancelling from it (Slack tier)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

from sqlalchemy import select, update

from bot.core.db import utcnow
from bot.core.jobs import Job
from commands.home.ids import ActionId as HomeAction
from commands.new_db.ids import ActionId as DbAction
from commands.new_db.models import DbRequest
from surveys.office_hours.models import OfficeHoursSession
from tests.commands.home.driving import click_home, home_drops, home_shows, home_text, open_home
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    approval_message,
    click,
    request,
    request_id_for,
    resources,
    told,
    wait_status,
)


def _prod_request(db: DbBot, name: str = "ledger") -> str:
    request(db, BOB, f"new-db postgres {name} --env prod", plan="large", reason="launch")
    assert db.bot.emulator.wait_for(lambda: any(r.name == name for r in resources(db)))
    return request_id_for(db, name)


def test_an_empty_home_is_friendly_and_keeps_the_help(homebot: DbBot) -> None:
    home = open_home(homebot, DAVE)
    text = json.dumps(home.spec["blocks"])
    assert "Nothing is waiting for you." in text
    assert "No open requests." in text
    assert "You have none yet" in text
    assert "New database" in text and "New environment" in text
    assert "/platform whoami" in text  # "What you can do", from the person's help
    assert "Platform today" not in text  # Dave is no admin


def test_home_shows_resources_requests_and_approvals_and_follows_an_approval(
    homebot: DbBot,
) -> None:
    request(homebot, BOB, "new-db postgres orders-db --env staging", plan="small")
    wait_status(homebot, "active")
    request_id = _prod_request(homebot)
    open_home(homebot, BOB)
    # A refresh marked by the first request may publish just before the tab's own publish:
    # wait for the view that has the second request, as Bob's tab soon shows it.
    assert home_shows(homebot, BOB, f"`{request_id[:8]}`")
    text = home_text(homebot, BOB)
    assert "orders-db" in text and "Drop" in text  # the resource, with the feature's button
    assert f"`{request_id[:8]}`" in text and "0 of 2 approvals" in text
    assert "who can approve" in text
    assert HomeAction.CANCEL in text

    carol = open_home(homebot, CAROL)
    assert "<@U0BOB> asks to create PostgreSQL ledger (prod)" in json.dumps(carol.spec)
    click_home(homebot, CAROL, DbAction.APPROVE, request_id)
    # Bob's tab follows without him opening it again; Carol's approval leaves her list.
    assert home_shows(homebot, BOB, "1 of 2 approvals")
    assert home_shows(homebot, CAROL, "Nothing is waiting for you.")

    open_home(homebot, ALICE)
    assert "Platform today" in home_text(homebot, ALICE)  # Alice is an admin
    shown = copy.deepcopy(approval_message(homebot))
    click_home(homebot, ALICE, DbAction.APPROVE, request_id)
    click(homebot, ALICE, DbAction.APPROVE, shown, request_id, stale=True)  # and once more
    assert homebot.bot.emulator.wait_for(
        lambda: sum(r.status == "active" for r in resources(homebot)) == 2, timeout=15
    )
    assert homebot.provisioners["postgres"].state()["calls"].count("create_resource") == 2
    # Provisioned once: the ledger is now among Bob's resources, no longer a request.
    assert home_drops(homebot, BOB, f"`{request_id[:8]}`", timeout=15)
    assert home_shows(homebot, BOB, "ledger")


def test_cancel_on_home_stops_a_pending_request_and_updates_the_approvers_card(
    homebot: DbBot,
) -> None:
    request_id = _prod_request(homebot)
    card = approval_message(homebot)
    assert DbAction.APPROVE in json.dumps(card.blocks)
    open_home(homebot, BOB)
    click_home(homebot, BOB, HomeAction.CANCEL, request_id)
    assert homebot.bot.emulator.wait_for(
        lambda: (
            "Cancelled by <@U0BOB>"
            in json.dumps(homebot.bot.emulator.state.messages("C0APPROVALS")[-1].blocks)
        )
    )
    updated = homebot.bot.emulator.state.messages("C0APPROVALS")[-1]
    assert DbAction.APPROVE not in json.dumps(updated.blocks)
    assert resources(homebot)[0].status == "cancelled"
    assert resources(homebot)[0].active_key is None  # the name is free again
    assert home_drops(homebot, BOB, request_id[:8])
    # An approver with the card as it was: told, nothing provisioned.
    click(homebot, CAROL, DbAction.APPROVE, card, request_id, stale=True)
    assert told(homebot, CAROL, "cancelled by its requester")
    assert homebot.provisioners["postgres"].state()["calls"].count("create_resource") == 0


def test_cancel_command_refuses_others_and_repeats(homebot: DbBot) -> None:
    request_id = _prod_request(homebot)
    ref = request_id[:8]
    homebot.bot.signer.slash_command(CAROL, f"cancel {ref}")
    assert told(homebot, CAROL, f"You have no request `{ref}`")
    homebot.bot.signer.slash_command(BOB, "cancel")
    assert told(homebot, BOB, "Which request?")
    homebot.bot.signer.slash_command(BOB, "cancel <!channel>")
    assert told(homebot, BOB, "You have no request `&lt;!channel&gt;`")
    homebot.bot.signer.slash_command(BOB, f"cancel {ref.upper()}")
    assert told(homebot, BOB, "Cancelled your request to create PostgreSQL ledger (prod)")
    homebot.bot.signer.slash_command(BOB, f"cancel {ref}")
    assert told(homebot, BOB, "That request was already cancelled.")
    with homebot.services.sessions() as session:
        assert session.get(DbRequest, request_id).status == "cancelled"  # type: ignore[union-attr]


def test_requests_and_approvals_in_chat(homebot: DbBot) -> None:
    homebot.bot.signer.slash_command(DAVE, "requests")
    assert told(homebot, DAVE, "No open requests")
    homebot.bot.signer.slash_command(CAROL, "approvals")
    assert told(homebot, CAROL, "Nothing to approve")
    request_id = _prod_request(homebot)
    homebot.bot.signer.slash_command(BOB, "requests")
    assert told(homebot, BOB, "1 request(s)")
    shown = homebot.bot.emulator.state.ephemerals(BOB)[-1]
    assert f"`{request_id[:8]}`" in json.dumps(shown.blocks)
    assert "/platform cancel ID" in json.dumps(shown.blocks)
    homebot.bot.signer.slash_command(CAROL, "approvals")
    assert told(homebot, CAROL, "1 approval(s) waiting")
    assert DbAction.APPROVE in json.dumps(homebot.bot.emulator.state.ephemerals(CAROL)[-1].blocks)


def test_an_expired_request_leaves_the_home(homebot: DbBot) -> None:
    request_id = _prod_request(homebot)
    open_home(homebot, BOB)
    assert home_shows(homebot, BOB, request_id[:8])
    with homebot.services.sessions.begin() as session:
        session.execute(
            update(DbRequest)
            .where(DbRequest.id == request_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    sweep = next(t for t in homebot.services.tasks if t.id == "new-db-sweep")
    sweep.func()
    assert home_drops(homebot, BOB, request_id[:8])
    assert "No open requests." in home_text(homebot, BOB)


def test_a_running_request_cannot_be_cancelled_and_a_queued_one_can(
    homebot_paused: DbBot,
) -> None:
    db = homebot_paused
    request(db, BOB, "new-db postgres queued-db --env staging", plan="small")
    request(db, BOB, "new-db postgres running-db --env staging", plan="small")
    queued = request_id_for(db, "queued-db")
    running = request_id_for(db, "running-db")
    with db.services.sessions.begin() as session:
        session.execute(
            update(Job)
            .where(Job.idempotency_key == f"db.provision:{running}")
            .values(status="running", attempts=1)
        )
    db.bot.signer.slash_command(BOB, "requests")
    assert told(db, BOB, "2 request(s)")
    listed = json.dumps(db.bot.emulator.state.ephemerals(BOB)[-1].blocks)
    assert "*queued*" in listed and "*running*" in listed
    db.bot.signer.slash_command(BOB, f"cancel {running[:8]}")
    assert told(db, BOB, "cannot be cancelled: provisioning has started")
    db.bot.signer.slash_command(BOB, f"cancel {queued[:8]}")
    assert told(db, BOB, "Cancelled your request to create PostgreSQL queued-db")
    assert db.bot.run_jobs() == 0  # the queued job was cancelled with its request
    with db.services.sessions() as session:
        statuses = {
            row.id: row.status for row in session.execute(select(DbRequest.id, DbRequest.status))
        }
    assert statuses == {queued: "cancelled", running: "approved"}


def test_the_next_office_hours_are_on_the_home(homebot: DbBot) -> None:
    assert "Office hours" not in json.dumps(open_home(homebot, DAVE).spec)
    now = utcnow()
    with homebot.services.sessions.begin() as session:
        for days in (7, 14):  # only the next one of the schedule is shown
            session.add(
                OfficeHoursSession(
                    schedule="platform",
                    sequence=days,
                    starts_at=now + timedelta(days=days),
                    ends_at=now + timedelta(days=days, hours=1),
                    channel="C0PLATFORM",
                    hosts=[],
                )
            )
    text = json.dumps(open_home(homebot, DAVE).spec)
    assert text.count("Office hours: platform") == 1
    assert str(int((now + timedelta(days=7)).timestamp())) in text
