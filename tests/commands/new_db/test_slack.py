"""`/platform new-db` driven over signed HTTP through the Slack emulator (Slack tier)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.core.db import utcnow
from bot.core.errors import Conflict
from bot.emulator.signer import SubmissionBlocked
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.models import DbRequest
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    approval_message,
    click,
    dm_texts,
    open_modal,
    request,
    resources,
    reveal_offer,
    submit,
    told,
    wait_status,
)


def test_the_modal_opens_prefilled_and_follows_the_engine(dbbot: DbBot) -> None:
    view = open_modal(dbbot, BOB, "new-db postgres orders-db --env staging")
    blocks = {b["block_id"]: b for b in view.spec["blocks"]}
    assert blocks["name"]["element"]["initial_value"] == "orders-db"
    assert blocks["engine"]["element"]["initial_option"]["value"] == "postgres"
    assert blocks["tier"]["element"]["initial_option"]["value"] == "staging"
    assert blocks["team"]["element"]["initial_option"]["value"] == "payments"
    assert "large" in json.dumps(blocks["plan"])
    response = dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.ENGINE, selected_option="redis", view_id=view.id
    )
    assert response.status == 200
    assert dbbot.bot.emulator.wait_for(
        lambda: "large" not in json.dumps(dbbot.bot.emulator.state.modal_stack(BOB)[-1].spec)
    )
    updated = dbbot.bot.emulator.state.modal_stack(BOB)[-1]
    assert updated.id == view.id
    name = next(b for b in updated.spec["blocks"] if b["block_id"] == "name")
    assert name["element"]["initial_value"] == "orders-db"  # what was typed survives
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.TIER, selected_option="prod", view_id=view.id
    )
    assert dbbot.bot.emulator.wait_for(
        lambda: "ttl" not in json.dumps(dbbot.bot.emulator.state.modal_stack(BOB)[-1].spec)
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ('x"; DROP TABLE', "Only lowercase letters, digits and '-' are allowed"),
        ("a" * 64, "At most 31 characters"),
        ("Orders", "Use lowercase letters only"),
        ("1orders", "Start with a letter"),
        ("pg-orders", "reserved by a database server"),
        ("postgres", "reserved by a database server"),
    ],
)
def test_bad_names_get_their_own_message_and_create_nothing(
    dbbot: DbBot, name: str, message: str
) -> None:
    response = request(dbbot, BOB, "new-db postgres", name=name, tier="staging", plan="small")
    assert response.json["response_action"] == "errors"
    assert message in response.json["errors"]["name"]
    assert resources(dbbot) == []
    assert dbbot.provisioners["postgres"].state()["calls"] == []


def test_guardrails_plan_tier_team_and_quota(dbbot: DbBot) -> None:
    # A plan the tier does not allow is not offered (test_service checks a forged one).
    # Reason is required in prod, so Slack itself will not submit the form without one.
    with pytest.raises(SubmissionBlocked, match="reason"):
        request(dbbot, BOB, "new-db postgres --env prod", name="orders", plan="large")
    view = open_modal(dbbot, DAVE, "new-db postgres")
    team = next(b for b in view.spec["blocks"] if b["block_id"] == "team")
    assert [o["value"] for o in team["element"]["options"]] == ["search"]
    # The quota: staging allows 5 per team in the example config.
    for index in range(5):
        response = request(dbbot, DAVE, "new-db sqlite", name=f"cache-{index}", tier="staging")
        assert response.body == "", response.body
    response = request(dbbot, DAVE, "new-db sqlite", name="cache-9", tier="staging")
    assert "quota of 5 staging" in response.json["errors"]["team"]
    assert len(resources(dbbot)) == 5


def test_staging_request_is_provisioned_and_revealed_once_to_the_requester(dbbot: DbBot) -> None:
    response = request(
        dbbot, BOB, "new-db postgres orders-db --env staging", plan="small", ttl="48"
    )
    assert response.body == ""  # the modal closes
    resource = wait_status(dbbot, "active")
    assert resource.expires_at is not None
    assert timedelta(hours=47) < resource.expires_at - utcnow() <= timedelta(hours=48)
    state = dbbot.provisioners["postgres"].state()
    assert "orders-db" in state["resources"] and state["grants"] == ["orders-db"]
    channel = dbbot.bot.emulator.state.dm_channel(BOB)
    assert channel is not None
    assert dbbot.bot.emulator.wait_for(
        lambda: any(
            m.thread_ts and m.text.endswith(": ready")
            for m in dbbot.bot.emulator.state.messages(channel)
        )
    )
    progress = [m for m in dbbot.bot.emulator.state.messages(channel) if m.thread_ts]
    assert progress and progress[0].edited is not None  # one message, edited per step
    assert "ready" in progress[0].text
    offer = reveal_offer(dbbot, BOB, resource.id)
    # Someone else clicking is refused and sees nothing.
    dbbot.bot.signer.block_action(
        CAROL, action_id=ActionId.REVEAL, value=resource.id, message=(channel, offer.ts)
    )
    assert not dbbot.bot.emulator.state.modal_stack(CAROL)
    assert told(dbbot, CAROL, "Only the person")
    emulator = dbbot.bot.emulator
    earlier = {e.ts for e in emulator.state.ephemerals(BOB)}
    dbbot.bot.signer.slash_command(BOB, "dbs")  # its Reveal button is clicked after the DM's
    listing = next(e for e in emulator.state.ephemerals(BOB) if e.ts not in earlier)
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=resource.id, message=(channel, offer.ts)
    )
    assert emulator.wait_for(lambda: bool(emulator.state.modal_stack(BOB)))
    shown = emulator.state.modal_stack(BOB)[-1]
    assert "orders-db_app" in json.dumps(shown.spec) and "Password" in json.dumps(shown.spec)
    assert emulator.wait_for(  # the used button leaves the DM
        lambda: ActionId.REVEAL not in json.dumps(emulator.state.find(channel, offer.ts).blocks)
    )
    emulator.state.clear_views(BOB)
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=resource.id, message=(listing.channel, listing.ts)
    )
    assert not emulator.state.modal_stack(BOB)
    assert told(dbbot, BOB, "already revealed")


def test_prod_waits_for_two_distinct_approvals_and_never_the_requester(dbbot: DbBot) -> None:
    response = request(
        dbbot,
        BOB,
        "new-db postgres ledger --env prod",
        plan="large",
        reason="ledger service launch",
    )
    assert response.body == ""
    resource = wait_status(dbbot, "awaiting_approval")
    with dbbot.services.sessions() as session:
        request_id = session.scalars(select(DbRequest.id)).one()
    message = approval_message(dbbot)
    assert "ledger service launch" in json.dumps(message.blocks)
    click(dbbot, BOB, ActionId.APPROVE, message, request_id)  # the requester
    assert told(dbbot, BOB, "own request")
    click(dbbot, DAVE, ActionId.APPROVE, message, request_id)  # lead of another team
    assert told(dbbot, DAVE, "Only")
    click(dbbot, CAROL, ActionId.APPROVE, message, request_id)
    click(dbbot, CAROL, ActionId.APPROVE, message, request_id)  # a double click counts once
    assert told(dbbot, CAROL, "count once")
    assert resources(dbbot)[0].status == "awaiting_approval"
    assert dbbot.bot.emulator.wait_for(lambda: any("1 of 2" in t for t in dm_texts(dbbot, BOB)))
    assert resources(dbbot)[0].status == "awaiting_approval"
    assert resource.active_key == "postgres:ledger"


def test_prod_is_provisioned_after_two_approvals_exactly_once(dbbot: DbBot) -> None:
    request(
        dbbot,
        BOB,
        "new-db postgres ledger --env prod",
        plan="large",
        reason="ledger service launch",
    )
    wait_status(dbbot, "awaiting_approval")
    with dbbot.services.sessions() as session:
        request_id = session.scalars(select(DbRequest.id)).one()
    message = approval_message(dbbot)
    shown = copy.deepcopy(message)  # the card as Alice's client shows it before her clicks
    click(dbbot, BOB, ActionId.APPROVE, message, request_id)
    assert told(dbbot, BOB, "own request")
    click(dbbot, CAROL, ActionId.APPROVE, message, request_id)
    click(dbbot, ALICE, ActionId.APPROVE, message, request_id)
    click(dbbot, ALICE, ActionId.APPROVE, shown, request_id, stale=True)
    wait_status(dbbot, "active")
    assert dbbot.provisioners["postgres"].state()["calls"].count("create_resource") == 1
    assert dbbot.bot.emulator.wait_for(
        lambda: (
            "new_db_approve"
            not in json.dumps(dbbot.bot.emulator.state.messages("C0APPROVALS")[-1].blocks)
        )
    )
    texts = dm_texts(dbbot, BOB)
    assert any("<@U0CAROL> approved" in t for t in texts)
    assert any("<@U0ALICE> approved" in t for t in texts)


def test_deny_asks_for_a_reason_and_tells_the_requester(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres ledger --env prod", plan="large", reason="launch")
    with dbbot.services.sessions() as session:
        request_id = session.scalars(select(DbRequest.id)).one()
    message = approval_message(dbbot)
    click(dbbot, CAROL, ActionId.DENY, message, request_id)
    assert dbbot.bot.emulator.wait_for(lambda: bool(dbbot.bot.emulator.state.modal_stack(CAROL)))
    deny = dbbot.bot.emulator.state.modal_stack(CAROL)[-1]
    response = dbbot.bot.signer.view_submission(
        CAROL, deny.id, {BlockId.DENY_REASON: {ActionId.DENY_REASON: "use the shared cluster"}}
    )
    assert response.body == ""
    assert wait_status(dbbot, "cancelled").active_key is None
    assert dbbot.bot.emulator.wait_for(
        lambda: any("use the shared cluster" in t for t in dm_texts(dbbot, BOB))
    )
    assert dbbot.bot.emulator.wait_for(
        lambda: (
            "new_db_approve"
            not in json.dumps(dbbot.bot.emulator.state.messages("C0APPROVALS")[-1].blocks)
        )
    )
    with pytest.raises(Conflict, match="was denied"):
        dbbot.services.feature("new-db").approvals.check_approver(
            dbbot.services.identity.principal(ALICE), request_id
        )


def test_an_expired_approval_is_denied_and_everyone_is_told(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres ledger --env prod", plan="large", reason="launch")
    message = approval_message(dbbot)
    with dbbot.services.sessions.begin() as session:
        request_id = session.scalars(select(DbRequest.id)).one()
        session.execute(update(DbRequest).values(expires_at=utcnow() - timedelta(minutes=1)))
    click(dbbot, CAROL, ActionId.APPROVE, message, request_id)
    assert told(dbbot, CAROL, "expired")
    assert dbbot.services.feature("new-db").lifecycle.sweep()["expired_requests"] == 1
    assert resources(dbbot)[0].status == "cancelled"
    assert dbbot.bot.emulator.wait_for(lambda: any("expired" in t for t in dm_texts(dbbot, BOB)))
    updated = dbbot.bot.emulator.state.messages("C0APPROVALS")[-1]
    assert "Expired" in json.dumps(updated.blocks) and "new_db_approve" not in json.dumps(
        updated.blocks
    )


def test_double_submit_and_slack_retry_give_one_database(dbbot: DbBot) -> None:
    signer = dbbot.bot.signer
    sent: list[dict[str, Any]] = []
    original = signer._interaction

    def recording(payload: dict[str, Any]) -> Any:
        sent.append(payload)
        return original(payload)

    signer._interaction = recording  # type: ignore[method-assign]
    view = open_modal(dbbot, BOB, "new-db sqlite twice --env dev")
    assert submit(dbbot, BOB, view).body == ""
    # The same submission again: a double click, and Slack retrying the delivery.
    assert original(sent[-1]).body == ""
    signer.send({"payload": json.dumps(sent[-1])}, retry_num=1, retry_reason="http_timeout")
    wait_status(dbbot, "active")
    assert len(resources(dbbot)) == 1
    assert dbbot.provisioners["sqlite"].state()["calls"].count("create_resource") == 1


def test_a_duplicate_name_is_refused(dbbot: DbBot) -> None:
    assert request(dbbot, BOB, "new-db sqlite shared-db --env dev").body == ""
    response = request(dbbot, DAVE, "new-db sqlite shared-db --env dev")
    assert "named shared-db exists" in response.json["errors"]["name"]
    assert len(resources(dbbot)) == 1


def test_a_failing_step_rolls_back_and_says_why(dbbot: DbBot) -> None:
    dbbot.provisioners["postgres"].fail_at = "grant"
    request(dbbot, BOB, "new-db postgres flaky --env staging", plan="small")
    failed = wait_status(dbbot, "failed")
    assert failed.active_key is None
    state = dbbot.provisioners["postgres"].state()
    assert state["resources"] == {} and state["users"] == {}
    assert "drop" in state["calls"]
    assert dbbot.bot.emulator.wait_for(
        lambda: any("failed while granting" in t and "removed" in t for t in dm_texts(dbbot, BOB))
    )


def test_server_down_fails_cleanly(dbbot: DbBot) -> None:
    dbbot.provisioners["mariadb"].down = True
    request(dbbot, BOB, "new-db mariadb down-db --env staging", plan="small")
    wait_status(dbbot, "failed")
    assert dbbot.bot.emulator.wait_for(
        lambda: any("unavailable while checking the server" in t for t in dm_texts(dbbot, BOB))
    )
    assert "create_resource" not in dbbot.provisioners["mariadb"].state()["calls"]
