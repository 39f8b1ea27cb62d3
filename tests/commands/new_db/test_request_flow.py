"""What people see along a request: the arguments, the form, the cards and the result thread.

Driven over signed HTTP through the Slack emulator, as a person would use it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.emulator.state import Message
from commands.new_db.ids import ActionId, BlockId
from surveys.csat.ids import ActionId as CsatActionId
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    approval_message,
    click,
    open_modal,
    request,
    request_id_for,
    resources,
    told,
    wait_status,
)

# -- arguments that are not understood are said, never replaced ------------------------------


def _answer(db: DbBot, text: str) -> str:
    response = db.bot.signer.slash_command(BOB, text)
    assert response.status == 200
    db.bot.emulator.wait_idle()
    assert not db.bot.emulator.state.modal_stack(BOB), f"{text}: a form opened anyway"
    return json.dumps(response.json)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("new-db oracle orders", ["oracle", "PostgreSQL", "SQLite", "Redis"]),
        ("new-db postgres orders --env qa", ["qa", "dev", "staging", "prod"]),
        ("new-db postgres orders --tier=qa", ["qa", "dev", "staging", "prod"]),
        ("new-db postgres orders --env", ["--env", "dev", "staging", "prod"]),
        ("new-db postgres orders --ttl", ["--ttl", "hours"]),
        ("new-db postgres orders --size 10", ["--size", "--env", "--ttl"]),
        ("new-db postgres orders extra", ["extra"]),
        ("new-db postgres orders --ttl soon", ["--ttl", "soon", "hours"]),
        ("new-db postgres orders --ttl nan", ["--ttl", "nan", "hours"]),
        ("new-db postgres orders --ttl 337 --env dev", ["--ttl", "337", "336"]),
        ("new-db postgres orders --ttl 2 --env prod", ["--ttl", "prod", "expire"]),
    ],
)
def test_arguments_not_understood_are_named_with_the_choices(
    dbbot: DbBot, text: str, said: list[str]
) -> None:
    answer = _answer(dbbot, text)
    for word in said:
        assert word in answer, (word, answer)


def _blocks(spec: dict[str, Any]) -> dict[str, Any]:
    return {b.get("block_id"): b for b in spec["blocks"]}


def test_understood_arguments_prefill_the_form(dbbot: DbBot) -> None:
    view = open_modal(dbbot, BOB, "new-db PostgreSQL orders --ttl 2 --env=dev")
    blocks = _blocks(view.spec)
    assert blocks["engine"]["element"]["initial_option"]["value"] == "postgres"
    assert blocks["tier"]["element"]["initial_option"]["value"] == "dev"
    assert blocks["ttl"]["element"]["initial_value"] == "2"


# -- the form follows the tier: plans and whether a reason is required -----------------------


def _plans(blocks: dict[str, Any]) -> list[str]:
    return [o["value"] for o in blocks["plan"]["element"]["options"]]


def test_the_prod_form_offers_prod_plans_and_requires_a_reason(dbbot: DbBot) -> None:
    blocks = _blocks(open_modal(dbbot, BOB, "new-db postgres orders --env prod").spec)
    assert _plans(blocks) == ["large"]
    assert blocks["plan"]["element"]["initial_option"]["value"] == "large"
    assert blocks["reason"].get("optional", False) is False
    shown = json.dumps([blocks["reason"]["label"], blocks["reason"].get("hint")])
    assert "optional" not in shown.lower() and "Required for prod" in shown


def test_the_dev_form_offers_dev_plans_and_an_optional_reason(dbbot: DbBot) -> None:
    blocks = _blocks(open_modal(dbbot, BOB, "new-db postgres orders --env dev").spec)
    assert _plans(blocks) == ["small"]
    assert blocks["plan"]["element"]["initial_option"]["value"] == "small"
    assert blocks["reason"]["optional"] is True


def test_changing_the_tier_updates_plans_and_the_reason(dbbot: DbBot) -> None:
    view = open_modal(dbbot, BOB, "new-db postgres orders --env dev")
    state = dbbot.bot.emulator.state
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.TIER, selected_option="prod", view_id=view.id
    )
    assert dbbot.bot.emulator.wait_for(
        lambda: _plans(_blocks(state.modal_stack(BOB)[-1].spec)) == ["large"]
    )
    blocks = _blocks(state.modal_stack(BOB)[-1].spec)
    assert blocks["plan"]["element"]["initial_option"]["value"] == "large"
    assert blocks["reason"].get("optional", False) is False
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.TIER, selected_option="staging", view_id=view.id
    )
    assert dbbot.bot.emulator.wait_for(
        lambda: _plans(_blocks(state.modal_stack(BOB)[-1].spec)) == ["small", "large"]
    )
    assert _blocks(state.modal_stack(BOB)[-1].spec)["reason"]["optional"] is True


def test_an_engine_without_a_plan_for_the_tier_says_so(dbbot: DbBot) -> None:
    view = open_modal(dbbot, BOB, "new-db sqlite orders --env prod")
    blocks = _blocks(view.spec)
    assert "plan" not in blocks
    assert "no SQLite plan for prod" in json.dumps(view.spec)


# -- one card per request, and the cards follow the request to its end -------------------------


def _dm(db: DbBot, user: str) -> list[Message]:
    channel = db.bot.emulator.state.dm_channel(user)
    return db.bot.emulator.state.messages(channel) if channel else []


def _cards(db: DbBot, user: str) -> list[Message]:
    return [m for m in _dm(db, user) if m.thread_ts is None and m.text.startswith("Your request")]


def test_a_self_service_request_shows_exactly_one_card(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db sqlite one-card --env dev")
    wait_status(dbbot, "active")
    assert dbbot.bot.emulator.wait_for(
        lambda: "Done" in json.dumps([c.blocks for c in _cards(dbbot, BOB)])
    )
    dbbot.bot.emulator.wait_idle()
    cards = _cards(dbbot, BOB)
    assert len(cards) == 1, [c.text for c in cards]
    replies = [m for m in _dm(dbbot, BOB) if m.thread_ts is not None]
    assert replies and all(m.thread_ts == cards[0].ts for m in replies)


def _approve_prod(db: DbBot, name: str) -> Message:
    request(db, BOB, f"new-db postgres {name} --env prod", plan="large", reason="launch")
    message = approval_message(db)
    request_id = request_id_for(db, name)
    click(db, CAROL, ActionId.APPROVE, message, request_id)
    click(db, ALICE, ActionId.APPROVE, message, request_id)
    return message


def _approval_card(db: DbBot) -> str:
    return json.dumps(db.bot.emulator.state.messages("C0APPROVALS")[-1].blocks)


def test_an_approved_request_shows_one_card_and_the_approval_card_reaches_done(
    dbbot: DbBot,
) -> None:
    _approve_prod(dbbot, "ledger")
    wait_status(dbbot, "active")
    assert dbbot.bot.emulator.wait_for(lambda: "Done" in _approval_card(dbbot))
    assert "new_db_approve" not in _approval_card(dbbot)
    dbbot.bot.emulator.wait_idle()
    assert len(_cards(dbbot, BOB)) == 1


def test_the_approval_card_shows_a_failure(dbbot: DbBot) -> None:
    dbbot.provisioners["postgres"].fail_at = "grant"
    _approve_prod(dbbot, "flaky")
    wait_status(dbbot, "failed")
    assert dbbot.bot.emulator.wait_for(lambda: "Failed" in _approval_card(dbbot))
    assert "granting" in _approval_card(dbbot)


def test_an_approved_drop_shows_dropped_on_its_approval_card(dbbot: DbBot) -> None:
    _approve_prod(dbbot, "retiring")
    wait_status(dbbot, "active")
    view = open_modal(dbbot, BOB, "drop-db retiring")
    confirm = {
        BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "retiring"},
        BlockId.REASON: {ActionId.REASON: "retired"},
    }
    assert dbbot.bot.signer.view_submission(BOB, view.id, confirm).body == ""
    assert dbbot.bot.emulator.wait_for(lambda: "new_db_approve" in _approval_card(dbbot))
    message = dbbot.bot.emulator.state.messages("C0APPROVALS")[-1]
    drop_id = request_id_for(dbbot, "retiring", "db.drop")
    click(dbbot, CAROL, ActionId.APPROVE, message, drop_id)
    click(dbbot, ALICE, ActionId.APPROVE, message, drop_id)
    wait_status(dbbot, "dropped")
    assert dbbot.bot.emulator.wait_for(lambda: "Dropped" in _approval_card(dbbot))
    dbbot.bot.emulator.wait_idle()
    drop_cards = [c for c in _cards(dbbot, BOB) if "Drop" in json.dumps(c.blocks)]
    assert len(drop_cards) == 1


def test_the_rating_question_goes_in_the_result_thread(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres rated-db --env staging", plan="small", ttl="24")
    wait_status(dbbot, "active")

    def ratings() -> list[Message]:
        return [m for m in _dm(dbbot, BOB) if CsatActionId.RATE_PREFIX in json.dumps(m.blocks)]

    assert dbbot.bot.emulator.wait_for(lambda: len(ratings()) == 1)
    roots = {m.ts for m in _dm(dbbot, BOB) if m.thread_ts is None}
    # The thread's root: the request card, not the progress reply inside its thread.
    assert ratings()[0].thread_ts in roots
    assert ratings()[0].thread_ts == _cards(dbbot, BOB)[0].ts


# -- refusals name people as a person would ---------------------------------------------------


def test_an_approver_outside_the_rule_is_told_who_may_approve(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres ledger --env prod", plan="large", reason="launch")
    message = approval_message(dbbot)
    click(dbbot, DAVE, ActionId.APPROVE, message, request_id_for(dbbot, "ledger"))
    assert told(
        dbbot,
        DAVE,
        "Only the platform-team group, admins or the leads of Payments may approve this request.",
    )
    assert resources(dbbot)[0].status == "awaiting_approval"
