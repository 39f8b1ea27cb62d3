"""A prod environment waits for the example policy's two approvals, through the emulator."""

from __future__ import annotations

from sqlalchemy import select

from commands.environments.ids import ActionId
from commands.environments.models import EnvApproval
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import (
    ALICE,
    BOB,
    CAROL,
    create,
    env_named,
    fill,
    open_form,
    plan_view,
    text_of,
    told,
    wait_status,
)
from tests.concurrency import together

APPROVALS = "C0APPROVALS"  # the policy's #platform-approvals


def test_prod_needs_a_reason_and_two_approvers_other_than_the_requester_each_counted_once(
    envbot: EnvBot,
) -> None:
    view = open_form(envbot, BOB, "env create release ledger --tier prod")
    fill(envbot, BOB, view, tier="prod")
    assert "The policy asks for a reason here." in text_of(plan_view(envbot, BOB, view.id))
    assert envbot.provisioners["postgres"].state()["resources"] == {}

    plan = create(envbot, BOB, "env create release ledger", tier="prod", reason="ledger launch")
    assert "Needs 2 approval(s)" in text_of(plan)
    env = wait_status(envbot, "ledger", "pending_approval")
    emulator = envbot.bot.emulator
    assert emulator.wait_for(lambda: bool(emulator.state.messages(APPROVALS)))
    card = emulator.state.messages(APPROVALS)[-1]
    assert "ledger launch" in card.text + str(card.blocks)

    def click(user: str) -> int:
        return envbot.bot.signer.block_action(
            user, action_id=ActionId.APPROVE, value=env.id, message=(card.channel, card.ts)
        ).status

    assert click(BOB) == 200
    assert told(envbot, BOB, "own request")
    # Carol's double click: two deliveries at the same moment.
    statuses = together(lambda: click(CAROL), lambda: click(CAROL))
    assert statuses == [200, 200]
    assert told(envbot, CAROL, "already approved")
    with envbot.services.sessions() as session:
        votes = session.scalars(
            select(EnvApproval.approver_id).where(EnvApproval.environment_id == env.id)
        ).all()
    assert votes == [CAROL]
    assert env_named(envbot, "ledger").status == "pending_approval"
    assert envbot.provisioners["postgres"].state()["resources"] == {}

    assert click(ALICE) == 200
    wait_status(envbot, "ledger", "ready")
    assert told(envbot, BOB, "was approved")
    assert "ledger-db" in envbot.provisioners["postgres"].state()["resources"]
