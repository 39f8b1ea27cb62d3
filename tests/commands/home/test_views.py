"""The App Home's Block Kit: limits with hundreds of items, hostile text, empty and one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.dashboard import (
    ApprovalItem,
    Button,
    DashboardItems,
    EventItem,
    Mrkdwn,
    RequestItem,
    RequestState,
    ResourceItem,
    SurveyItem,
)
from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from commands.home import views
from commands.home.service import Dashboard, Overview
from tests.core.test_policy import principal as principal_of

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> & <https://evil.example|Approve> " + "x" * 3000


def _resource(name: str, **changes: object) -> ResourceItem:
    item = ResourceItem(
        kind="PostgreSQL",
        name=name,
        status="active",
        tier="staging",
        team="payments",
        expires_at=NOW + timedelta(days=3, hours=4),
        monthly_cost=12.5,
        currency="EUR",
        buttons=(Button("Extend", "x_extend", "r1"), Button("Drop", "x_drop", "r1", "danger")),
    )
    return ResourceItem(**{**item.__dict__, **changes})  # type: ignore[arg-type]


def _request(ref: str, state: RequestState = RequestState.PENDING, what: str = "x") -> RequestItem:
    return RequestItem(
        ref=ref,
        request_id=ref * 4,
        what=what,
        state=state,
        created_at=NOW,
        approvals="0 of 2 approvals",
        approvers=Mrkdwn("admins or the leads of Payments"),
    )


def _approval(what: str, reason: str = "") -> ApprovalItem:
    return ApprovalItem(
        what=what,
        requester_id="U0BOB",
        created_at=NOW,
        reason=reason,
        approvals="1 of 2 approvals",
        buttons=(Button("Approve", "x_approve", "q", "primary"), Button("Deny", "x_deny", "q")),
    )


def _home(items: DashboardItems, *, overview: Overview | None = None, shown: int = 5) -> dict:
    principal = principal_of("U0BOB")
    dashboard = Dashboard(principal=principal, items=items, now=NOW, overview=overview)
    return views.build_home(dashboard, [], shown=shown).to_dict()


def _texts(view: dict) -> list[str]:
    found = []
    for block in view["blocks"]:
        if "text" in block and isinstance(block["text"], dict):
            found.append(block["text"]["text"])
        for element in block.get("elements") or []:
            if isinstance(element.get("text"), str):
                found.append(element["text"])
    return found


def test_nothing_at_all_is_a_friendly_home() -> None:
    view = _home(DashboardItems())
    text = json.dumps(view)
    assert "Nothing is waiting for you." in text
    assert "No open requests." in text
    assert "You have none yet" in text
    assert "No shifts." in text
    assert "more" not in text


@pytest.mark.parametrize("shown", [1, 5, 10])
def test_hundreds_of_items_stay_within_slacks_limits(shown: int) -> None:
    items = DashboardItems(
        resources=[_resource(f"db-{i}") for i in range(300)],
        requests=[_request(f"{i:08x}") for i in range(300)],
        approvals=[_approval(f"create {i}", reason=HOSTILE) for i in range(300)],
        quick_actions=[Button(f"Action {i}", f"a{i}", "v") for i in range(40)],
    )
    view = _home(items, overview=Overview(3, 1, 40, 7), shown=shown)
    assert len(view["blocks"]) <= views.HOME_BLOCKS_MAX
    assert all(len(text) <= SECTION_TEXT_LIMIT for text in _texts(view))
    text = json.dumps(view, ensure_ascii=False)
    assert f"…and {300 - shown} more" in text
    assert "/platform approvals" in text and "/platform requests" in text
    assert text.count('"action_id": "x_approve"') == shown


def test_one_of_each_shows_its_facts_and_buttons() -> None:
    items = DashboardItems(
        resources=[_resource("orders-db")],
        requests=[_request("1a2b3c4d", what="create PostgreSQL ledger (prod)")],
        approvals=[_approval("create Redis cache (prod)", reason="launch")],
    )
    text = json.dumps(_home(items))
    assert "*orders-db*" in text and "expires in 3 d 4 h" in text
    assert "12.50 EUR/month" in text
    assert "`1a2b3c4d` create PostgreSQL ledger (prod)" in text
    assert "who can approve: admins or the leads of Payments" in text
    assert "home_cancel" in text
    assert "<@U0BOB> asks to create Redis cache (prod)" in text and "Reason: launch" in text
    assert "more" not in text


def test_only_requests_that_have_not_started_have_cancel() -> None:
    states = list(RequestState)
    items = DashboardItems(requests=[_request(f"{i:08x}", s) for i, s in enumerate(states)])
    view = _home(items, shown=10)
    with_cancel = [
        b for b in view["blocks"] if (b.get("accessory") or {}).get("action_id") == "home_cancel"
    ]
    assert len(with_cancel) == 2  # pending and queued; running and failed cannot be


def test_text_from_people_is_escaped() -> None:
    items = DashboardItems(
        resources=[_resource("<!here>", team="<@U0EVIL>")],
        requests=[_request("00000000", RequestState.FAILED, what="<!channel>")],
        approvals=[_approval("x", reason="<https://evil.example|click>")],
    )
    text = json.dumps(_home(items))
    assert "<!here>" not in text and "&lt;!here&gt;" in text
    assert "<!channel>" not in text
    assert "<@U0EVIL>" not in text
    assert "<https://evil.example" not in text


@pytest.mark.parametrize(
    ("until", "shown"),
    [
        (timedelta(0), "now"),
        (timedelta(seconds=-5), "now"),
        (timedelta(seconds=59), "now"),
        (timedelta(minutes=1), "in 1 min"),
        (timedelta(hours=5, minutes=10), "in 5 h 10 min"),
        (timedelta(days=14), "in 14 d 0 h"),
    ],
)
def test_countdown(until: timedelta, shown: str) -> None:
    assert views.countdown(NOW + until, NOW) == shown


def test_the_admins_overview() -> None:
    text = json.dumps(_home(DashboardItems(), overview=Overview(4, 2, 130, 12)))
    assert "Approvals pending: *4*" in text and "Failed jobs: *2*" in text
    assert "*130* by *12* people" in text
    assert "Platform today" not in json.dumps(_home(DashboardItems()))


def test_chat_lists_fit_one_message() -> None:
    _, blocks = views.build_requests([_request(f"{i:08x}", what=HOSTILE) for i in range(200)])
    assert len(blocks) <= views.MESSAGE_BLOCKS_MAX
    assert all(len(b["text"]["text"]) <= SECTION_TEXT_LIMIT for b in blocks if "text" in b)
    _, blocks = views.build_approvals([_approval("x") for _ in range(200)])
    assert len(blocks) <= views.MESSAGE_BLOCKS_MAX
    assert "…and 180 more." in json.dumps(blocks, ensure_ascii=False)


def _rating(index: int) -> SurveyItem:
    buttons = tuple(Button(str(score), f"rate_{score}", str(index)) for score in range(1, 6))
    return SurveyItem(what=f"How did that go? {index} <!here>", buttons=buttons)


def test_a_survey_with_one_button_has_it_beside_and_a_rating_has_a_row() -> None:
    items = DashboardItems(
        surveys=[
            SurveyItem("Would you recommend us?", (Button("Take the survey", "take", "7"),)),
            _rating(1),
        ]
    )
    view = _home(items)
    take = next(b for b in view["blocks"] if (b.get("accessory") or {}).get("action_id") == "take")
    assert take["text"]["text"] == "Would you recommend us?"
    [row] = [b for b in view["blocks"] if b.get("block_id") == "home_survey_1"]
    assert [e["action_id"] for e in row["elements"]] == [f"rate_{s}" for s in range(1, 6)]
    assert "&lt;!here&gt;" in json.dumps(view)  # the question is escaped


@pytest.mark.parametrize("shown", [1, 10])
def test_every_list_full_with_rating_surveys_stays_within_the_block_limit(shown: int) -> None:
    items = DashboardItems(
        resources=[_resource(f"db-{i}") for i in range(300)],
        requests=[_request(f"{i:08x}") for i in range(300)],
        approvals=[_approval(f"create {i}") for i in range(300)],
        shifts=[EventItem(f"On call: s{i}", NOW + timedelta(hours=i)) for i in range(300)],
        sessions=[EventItem("Office hours", NOW)],
        surveys=[_rating(i) for i in range(300)],
        quick_actions=[Button(f"Action {i}", f"a{i}", "v") for i in range(40)],
    )
    view = _home(items, overview=Overview(3, 1, 40, 7), shown=shown)
    assert len(view["blocks"]) < views.HOME_BLOCKS_MAX  # not even cut
    text = json.dumps(view, ensure_ascii=False)
    assert f"…and {300 - shown} more in your DMs with me." in text
    assert text.count('"action_id": "rate_3"') == shown


def test_shifts_that_could_not_be_read_say_so_in_place_of_none() -> None:
    note = "Your shifts could not be read from pagerduty <now>."
    text = json.dumps(_home(DashboardItems(shifts_note=note)))
    assert "Your shifts could not be read from pagerduty &lt;now&gt;." in text
    assert "No shifts." not in text
    shown = DashboardItems(shifts=[EventItem("On call: payments", NOW)], shifts_note=note)
    text = json.dumps(_home(shown))
    assert "On call: payments" in text and "could not be read" in text
