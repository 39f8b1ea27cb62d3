"""Text people type into `/platform new-db` never reaches Slack as markup (Slack tier).

Each free-text field carries `HOSTILE_TEXT` through its whole flow (request reason, deny
reason, drop reason and confirmation, slash arguments, a label from the config) and then
nothing the emulator ever displayed may carry it raw.
"""

from __future__ import annotations

import json

import pytest

from bot.runtime.config import PlatformConfig
from commands.new_db.ids import ActionId, BlockId
from commands.resources.config import EngineKind
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    CAROL,
    approval_message,
    click,
    dm_texts,
    only_request_id,
    open_modal,
    request,
    request_id_for,
    told,
    wait_status,
)
from tests.hostile import HOSTILE_TEXT, raw_markup_shown

ESCAPED = "&lt;!channel&gt; &lt;https://evil.example/sso|Approve in the portal&gt; &amp; more"


def test_a_hostile_request_reason_and_deny_reason_stay_text(dbbot: DbBot) -> None:
    response = request(
        dbbot, BOB, "new-db postgres ledger --env prod", plan="large", reason=HOSTILE_TEXT
    )
    assert response.body == ""
    request_id = only_request_id(dbbot)
    message = approval_message(dbbot)
    assert ESCAPED in json.dumps(message.blocks)
    click(dbbot, CAROL, ActionId.APPROVE, message, request_id)
    assert dbbot.bot.emulator.wait_for(lambda: any("1 of 2" in t for t in dm_texts(dbbot, BOB)))
    click(dbbot, ALICE, ActionId.DENY, message, request_id)
    state = dbbot.bot.emulator.state
    assert dbbot.bot.emulator.wait_for(lambda: bool(state.modal_stack(ALICE)))
    deny = state.modal_stack(ALICE)[-1]
    answer = dbbot.bot.signer.view_submission(
        ALICE, deny.id, {BlockId.DENY_REASON: {ActionId.DENY_REASON: HOSTILE_TEXT}}
    )
    assert answer.body == ""
    wait_status(dbbot, "cancelled")
    # The requester's card, their DM and the approvals card all show the reasons as text.
    assert dbbot.bot.emulator.wait_for(lambda: sum(ESCAPED in t for t in dm_texts(dbbot, BOB)) >= 2)
    assert dbbot.bot.emulator.wait_for(
        lambda: "Denied" in json.dumps(state.messages("C0APPROVALS")[-1].blocks)
    )
    dbbot.bot.emulator.wait_idle()
    assert raw_markup_shown(dbbot.bot.emulator) == []


def test_a_hostile_drop_reason_and_confirmation_stay_text(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db sqlite going-away --env dev")
    wait_status(dbbot, "active")
    view = open_modal(dbbot, BOB, "drop-db going-away")
    wrong = dbbot.bot.signer.view_submission(
        BOB, view.id, {BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: HOSTILE_TEXT}}
    )
    assert "Type going-away" in wrong.json["errors"]["confirm_name"]
    right = dbbot.bot.signer.view_submission(
        BOB,
        view.id,
        {
            BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "going-away"},
            BlockId.REASON: {ActionId.REASON: HOSTILE_TEXT},
        },
    )
    assert right.body == ""
    wait_status(dbbot, "dropped")
    assert dbbot.bot.emulator.wait_for(lambda: any(ESCAPED in t for t in dm_texts(dbbot, BOB)))
    dbbot.bot.emulator.wait_idle()
    assert raw_markup_shown(dbbot.bot.emulator) == []


def test_hostile_slash_arguments_are_answered_as_text(dbbot: DbBot) -> None:
    dbbot.bot.signer.slash_command(BOB, f"drop-db {HOSTILE_TEXT}")
    dbbot.bot.signer.slash_command(BOB, f"new-db {HOSTILE_TEXT}")
    assert told(dbbot, BOB, "not a resource name")
    dbbot.bot.emulator.wait_idle()
    assert raw_markup_shown(dbbot.bot.emulator) == []


def _hostile_labels(config: PlatformConfig) -> PlatformConfig:
    databases = config.databases
    postgres = databases.engines[EngineKind.POSTGRES].model_copy(update={"label": HOSTILE_TEXT})
    engines = {**databases.engines, EngineKind.POSTGRES: postgres}
    teams = {
        key: team.model_copy(update={"name": HOSTILE_TEXT}) for key, team in config.teams.items()
    }
    return config.model_copy(
        update={"databases": databases.model_copy(update={"engines": engines}), "teams": teams}
    )


@pytest.mark.parametrize("dbbot", [_hostile_labels], indirect=True)
def test_labels_from_the_config_stay_text(dbbot: DbBot) -> None:
    request(dbbot, BOB, "new-db postgres labelled --env staging", plan="small", ttl="24")
    wait_status(dbbot, "active")
    request(dbbot, BOB, "new-db postgres ledger --env prod", plan="large", reason="launch")
    message = approval_message(dbbot)
    click(dbbot, BOB, ActionId.APPROVE, message, request_id_for(dbbot, "ledger"))
    assert told(dbbot, BOB, "own request")
    dbbot.bot.signer.slash_command(BOB, "drop-db labelled")
    dbbot.bot.emulator.wait_idle()
    assert raw_markup_shown(dbbot.bot.emulator) == []
