"""The request card and the approval card, built without a bot: every status in plain words,
the decision buttons only while pending, and every text from people or the config as text."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT, escape
from commands.new_db.ids import ActionId, BlockId, PolicyAction
from commands.new_db.models import RequestStatus
from commands.new_db.service.form import REASON_MAX
from commands.new_db.views import messages
from tests.commands.new_db.views.samples import (
    ESCAPED,
    JSON,
    WHEN,
    checked,
    request,
    resource,
    shown_as_text,
)
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def _status(**changes: Any) -> str:
    return str(messages.build_request_card(request(**changes))[1]["elements"][0]["text"])


# -- the request card and the approval card ---------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"approvals_needed": 2},
            f":hourglass: Waiting for approval: 0 of 2 (nobody yet); expires {WHEN}.",
        ),
        (
            {"approvals_needed": 2, "approved_by": ("U0CAROL",)},
            f":hourglass: Waiting for approval: 1 of 2 (<@U0CAROL>); expires {WHEN}.",
        ),
        (
            {"approvals_needed": 3, "approved_by": ("U0CAROL", "U0ALICE")},
            f":hourglass: Waiting for approval: 2 of 3 (<@U0CAROL>, <@U0ALICE>); expires {WHEN}.",
        ),
        (
            {"approvals_needed": 2, "expires_at": None},
            ":hourglass: Waiting for approval: 0 of 2 (nobody yet); expires never.",
        ),
    ],
)
def test_a_pending_request_says_how_many_approvals_it_has(changes: JSON, line: str) -> None:
    assert _status(status=RequestStatus.PENDING, **changes) == line


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {"denied_by": (("U0CAROL", "Use staging"),)},
            ":no_entry: Denied by <@U0CAROL>: Use staging.",
        ),
        ({"denied_by": (("U0CAROL", None),)}, ":no_entry: Denied by <@U0CAROL>: no reason."),
        ({"denied_by": (("U0CAROL", ""),)}, ":no_entry: Denied by <@U0CAROL>: no reason."),
        (
            {"denied_by": (("U0CAROL", "No."), ("U0ALICE", None))},
            ":no_entry: Denied by <@U0CAROL>: No., <@U0ALICE>: no reason.",
        ),
        (
            {"denied_by": (("U0CAROL", HOSTILE_TEXT),)},
            f":no_entry: Denied by <@U0CAROL>: {ESCAPED}.",
        ),
    ],
)
def test_a_denied_request_says_who_denied_it_and_why(changes: JSON, line: str) -> None:
    assert _status(status=RequestStatus.DENIED, **changes) == line


@pytest.mark.parametrize(
    ("status", "changes", "line"),
    [
        (
            RequestStatus.EXPIRED,
            {},
            ":alarm_clock: Expired without enough approvals (nobody yet); denied.",
        ),
        (
            RequestStatus.EXPIRED,
            {"approved_by": ("U0CAROL",)},
            ":alarm_clock: Expired without enough approvals (<@U0CAROL>); denied.",
        ),
        (RequestStatus.APPROVED, {}, ":white_check_mark: Approved; in progress."),
        (
            RequestStatus.APPROVED,
            {"approved_by": ("U0CAROL", "U0ALICE")},
            ":white_check_mark: Approved by <@U0CAROL>, <@U0ALICE>; in progress.",
        ),
        (RequestStatus.COMPLETED, {}, ":white_check_mark: Done: ready."),
        (RequestStatus.COMPLETED, {"action": PolicyAction.DROP}, ":wastebasket: Dropped."),
        (RequestStatus.FAILED, {}, ":x: Failed: see the thread"),
        (RequestStatus.FAILED, {"outcome_detail": "server refused"}, ":x: Failed: server refused"),
        (RequestStatus.FAILED, {"outcome_detail": HOSTILE_TEXT}, f":x: Failed: {ESCAPED}"),
    ],
)
def test_every_other_status_has_its_line(status: RequestStatus, changes: JSON, line: str) -> None:
    assert _status(status=status, **changes) == line


def test_the_card_describes_the_request_in_plain_words() -> None:
    info = request(RequestStatus.PENDING, ttl_hours=72.0, reason="load tests", approvals_needed=1)

    blocks = checked(messages.build_request_card(info))

    assert blocks[0]["text"]["text"] == (
        "*New PostgreSQL* `orders-db`\n"
        "Tier: *dev* · Team: *payments* · Plan: *small* · TTL: 72 h\n"
        "Requested by <@U0BOB>\n"
        "Reason: load tests"
    )
    assert messages.request_text(info) == "Your request: PostgreSQL orders-db"


def test_a_drop_without_ttl_or_reason_says_drop_and_nothing_more() -> None:
    info = request(RequestStatus.APPROVED, action=PolicyAction.DROP, ttl_hours=None, reason=None)

    assert messages.build_request_card(info)[0]["text"]["text"] == (
        "*Drop PostgreSQL* `orders-db`\n"
        "Tier: *dev* · Team: *payments* · Plan: *small*\n"
        "Requested by <@U0BOB>"
    )


@pytest.mark.parametrize("reason", ["r" * REASON_MAX, ("a & <b> " * REASON_MAX)[:REASON_MAX]])
def test_a_reason_of_the_longest_allowed_length_is_shown_whole(reason: str) -> None:
    info = request(RequestStatus.PENDING, reason=reason, approvals_needed=1)

    card = checked(messages.build_approval(info))[0]["text"]["text"]

    assert card.endswith(f"\nReason: {escape(reason)}")
    denied = _status(status=RequestStatus.DENIED, denied_by=(("U0CAROL", reason),))
    assert denied == f":no_entry: Denied by <@U0CAROL>: {escape(reason)}."
    failed = _status(status=RequestStatus.FAILED, outcome_detail=reason)
    assert failed == f":x: Failed: {escape(reason)}"


@pytest.mark.parametrize("status", list(RequestStatus))
def test_the_card_of_a_request_full_of_hostile_text_stays_text(status: RequestStatus) -> None:
    hostile = resource(engine_label=HOSTILE_TEXT, tier=HOSTILE_TEXT, team=HOSTILE_TEXT)
    info = request(
        status,
        resource=hostile,
        reason=HOSTILE_TEXT,
        denied_by=(("U0CAROL", HOSTILE_TEXT),),
        outcome_detail=HOSTILE_TEXT,
        approvals_needed=2,
    )

    for blocks in (messages.build_request_card(info), messages.build_approval(info)):
        assert ESCAPED in shown_as_text(blocks)
    for text in (messages.approval_text(info), messages.request_text(info)):
        assert not any(marker in text for marker in RAW_MARKERS)


def test_the_longest_card_fits_its_section_and_context() -> None:
    long = "&" * 3000
    hostile = resource(engine_label=long, tier=long, team=long, plan=long)
    info = request(
        RequestStatus.DENIED, resource=hostile, reason=long, denied_by=(("U0CAROL", long),) * 3
    )

    card = messages.build_approval(info)

    shown_as_text(card)
    described, status = card[0]["text"]["text"], card[1]["elements"][0]["text"]
    assert len(described) <= SECTION_TEXT_LIMIT and described.endswith("&amp;…")
    assert len(status) <= CONTEXT_TEXT_LIMIT and "&amp;…" in status


def test_only_a_pending_approval_has_the_decision_buttons() -> None:
    pending = request(RequestStatus.PENDING, approvals_needed=2)

    blocks = checked(messages.build_approval(pending))

    decision = blocks[-1]
    assert decision["block_id"] == BlockId.DECISION
    assert [(b["action_id"], b["value"], b["style"]) for b in decision["elements"]] == [
        (ActionId.APPROVE, "r1", "primary"),
        (ActionId.DENY, "r1", "danger"),
    ]
    assert (
        messages.approval_text(pending) == "Approval needed: PostgreSQL orders-db (dev, payments)"
    )
    for status in set(RequestStatus) - {RequestStatus.PENDING}:
        decided = checked(messages.build_approval(request(status)))
        assert [block["type"] for block in decided] == ["section", "context"]
