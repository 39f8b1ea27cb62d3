"""The DMs the lookup jobs send: plain mrkdwn, escaped and bounded, built without slack_sdk."""

from __future__ import annotations

from bot.core.mrkdwn import SECTION_TEXT_LIMIT
from commands.lookup.service.types import PageOutcome
from commands.lookup.views import reports
from tests.commands.lookup.views.samples import make_entity
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def _outcome(**changes: object) -> PageOutcome:
    values: dict[str, object] = {
        "entity": make_entity(),
        "reference": "Q1ABCDEF",
        "url": "https://acme.pagerduty.com/incidents/Q1ABCDEF",
        "provider": "pagerduty",
    }
    values.update(changes)
    return PageOutcome(**values)  # type: ignore[arg-type]


def test_the_page_result_links_the_incident_and_names_who_was_messaged() -> None:
    text = reports.build_page_result(
        _outcome(notify_user_ids=("U0BOB", "U0CAROL"), unreachable=("Dana Data",))
    )
    assert text == (
        "Paged the on-call for *payments-api* through pagerduty "
        "(<https://acme.pagerduty.com/incidents/Q1ABCDEF|Q1ABCDEF>). "
        "Messaged <@U0BOB>, <@U0CAROL>. No Slack account found for: Dana Data."
    )
    assert reports.build_page_result(_outcome(url=None)) == (
        "Paged the on-call for *payments-api* through pagerduty (Q1ABCDEF)."
    )


def test_a_page_result_with_hostile_names_and_a_crowd_to_message_stays_bounded_text() -> None:
    outcome = _outcome(
        reference=HOSTILE_TEXT * 20,
        url="javascript:alert(1)",
        provider=HOSTILE_TEXT,
        notify_user_ids=tuple(f"U{n:08d}" for n in range(400)),
        unreachable=(HOSTILE_TEXT,) * 50,
    )
    text = reports.build_page_result(outcome)
    assert len(text) <= SECTION_TEXT_LIMIT and text.endswith("…")
    assert not any(marker in text for marker in RAW_MARKERS)
    assert "javascript:" not in text


def test_a_failed_page_names_the_entity_and_the_reason_as_text() -> None:
    assert reports.build_page_failed("component:default/payments-api", "PagerDuty said 403") == (
        "Paging the on-call for `component:default/payments-api` failed: PagerDuty said 403"
    )
    text = reports.build_page_failed(HOSTILE_TEXT, HOSTILE_TEXT * 100)
    assert len(text) <= SECTION_TEXT_LIMIT
    assert not any(marker in text for marker in RAW_MARKERS)


def test_the_on_calls_dm_says_who_pages_them_for_what_and_why() -> None:
    assert reports.build_page_dm("payments-api", "U0DAVE", "checkout is failing") == (
        ":rotating_light: <@U0DAVE> is paging you as the on-call for *payments-api*.\n"
        "*Reason:* checkout is failing"
    )
    text = reports.build_page_dm(HOSTILE_TEXT, "U0DAVE", HOSTILE_TEXT * 100)
    assert not any(marker in text for marker in RAW_MARKERS)
    assert len(text.partition("*Reason:* ")[2]) <= reports.REASON_SHOWN


def test_a_failed_refresh_says_why_as_text() -> None:
    assert reports.build_refresh_failed("the catalog answered 502") == (
        "The catalog refresh failed: the catalog answered 502"
    )
    assert "&lt;!channel&gt;" in reports.build_refresh_failed(HOSTILE_TEXT)
