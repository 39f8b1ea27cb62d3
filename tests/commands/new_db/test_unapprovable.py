"""A request nobody could approve is refused when it is submitted, saying who could approve.

The requester never counts as an approver, so a rule whose only eligible approver is the
requester, or which needs more distinct approvers than it names, would leave the request
waiting until it expires. The modal says so instead, and nothing is recorded or posted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.core.config import ApprovalConfig, PolicyRule
from bot.runtime.config import PlatformConfig
from commands.new_db.ids import ActionId, BlockId
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    DAVE,
    approval_message,
    click,
    open_modal,
    request,
    request_id_for,
    resources,
    wait_status,
)


def _prod_rules(
    create: list[str], count: int, drop: list[str] | None = None
) -> Callable[[PlatformConfig], PlatformConfig]:
    """The example config with prod creates (and drops) approved by `create` (`drop`)."""

    def rule(action: str, approvers: list[str]) -> PolicyRule:
        return PolicyRule(
            action=action,
            when={"tier": "prod"},
            allow=["everyone"],
            require_reason=True,
            approval=ApprovalConfig(
                approvers=approvers, count=count, channel="#platform-approvals"
            ),
        )

    def change(config: PlatformConfig) -> PlatformConfig:
        rules = [rule("db.create", create), rule("db.drop", drop or create)]
        return config.model_copy(update={"policies": [*rules, *config.policies]})

    return change


def _refusal(answer: Any) -> str:
    body = answer.json
    assert body["response_action"] == "push", body
    return json.dumps(body["view"])


def _refused_at_submit(db: DbBot, user: str, name: str) -> str:
    """Request a prod database; the refusal shown, once checked that nothing was recorded."""
    answer = request(db, user, f"new-db postgres {name} --env prod", plan="large", reason="x")
    shown = _refusal(answer)
    assert resources(db) == []
    assert db.bot.emulator.state.messages("C0APPROVALS") == []
    return shown


@pytest.mark.parametrize("dbbot", [_prod_rules(["lead:owner"], count=1)], indirect=True)
def test_a_requester_who_is_the_only_approver_is_told_at_submit(dbbot: DbBot) -> None:
    shown = _refused_at_submit(dbbot, DAVE, "index")
    assert "cannot be approved" in shown
    assert "the leads of Search" in shown and "you are the only one" in shown


def test_too_few_eligible_approvers_for_the_count_is_told_at_submit(dbbot: DbBot) -> None:
    # The example config: two of the platform-team group, admins or Search's leads; Dave
    # leads Search, so only Alice is left.
    shown = _refused_at_submit(dbbot, DAVE, "index")
    assert "needs 2 approvals" in shown and f"only <@{ALICE}> could approve" in shown
    assert "own request" in shown


@pytest.mark.parametrize(
    "dbbot", [_prod_rules(["usergroup:platform-team", "lead:owner"], count=3)], indirect=True
)
def test_a_count_above_everyone_named_is_told_at_submit(dbbot: DbBot) -> None:
    shown = _refused_at_submit(dbbot, BOB, "ledger")
    assert "needs 3 approvals" in shown
    assert "<@U0ALICE>" in shown and "<@U0CAROL>" in shown


@pytest.mark.parametrize(
    "dbbot", [_prod_rules(["role:admin"], count=1, drop=["lead:owner"])], indirect=True
)
def test_an_unapprovable_drop_is_told_at_submit(dbbot: DbBot) -> None:
    request(dbbot, DAVE, "new-db postgres index --env prod", plan="large", reason="launch")
    click(dbbot, ALICE, ActionId.APPROVE, approval_message(dbbot), request_id_for(dbbot, "index"))
    wait_status(dbbot, "active")
    view = open_modal(dbbot, DAVE, "drop-db index")
    answer = dbbot.bot.signer.view_submission(
        DAVE,
        view.id,
        {
            BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: "index"},
            BlockId.REASON: {ActionId.REASON: "done"},
        },
    )
    assert "cannot be approved" in _refusal(answer)
    assert [r.status for r in resources(dbbot)] == ["active"]
