"""The new-db messages after a decision, built without a bot: progress, the hand-off (Reveal
offer or wrapped token), expiry warnings and the `dbs` listing, inside Slack's limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT, escape
from commands.new_db.ids import ActionId, PolicyAction
from commands.new_db.models import RequestStatus
from commands.new_db.service.types import ResourceInfo, Step
from commands.new_db.views import messages
from integrations.provisioning_protocols import WrappedSecret
from tests.commands.new_db.views.samples import (
    ESCAPED,
    EXPIRES,
    WHEN,
    buttons,
    checked,
    request,
    resource,
    shown_as_text,
)
from tests.hostile import HOSTILE_TEXT

LISTED_MAX = 40


# -- progress ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "line"),
    [
        (
            Step.QUEUED,
            ":hourglass_flowing_sand: *queued* → checking server → creating database → "
            "creating user → granting → storing credentials → ready",
        ),
        (
            Step.GRANTING,
            ":white_check_mark: queued → :white_check_mark: checking server → "
            ":white_check_mark: creating database → :white_check_mark: creating user → "
            ":hourglass_flowing_sand: *granting* → storing credentials → ready",
        ),
        (Step.READY, " → ".join(f":white_check_mark: {step}" for step in Step)),
    ],
)
def test_progress_marks_the_steps_done_the_current_one_and_those_to_come(
    step: Step, line: str
) -> None:
    info = request(RequestStatus.APPROVED)

    assert checked(messages.build_progress(info, step)) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": line}}
    ]
    assert messages.progress_text(info, step) == f"PostgreSQL orders-db: {step}"


def test_a_failed_step_is_crossed_out_and_says_why_as_text() -> None:
    info = request(RequestStatus.FAILED)

    blocks = messages.build_progress(info, Step.CREATING_USER, failure=HOSTILE_TEXT)

    assert blocks[0]["text"]["text"] == (
        ":white_check_mark: queued → :white_check_mark: checking server → "
        ":white_check_mark: creating database → :x: creating user → granting → "
        "storing credentials → ready"
    )
    assert blocks[1]["elements"][0]["text"] == ESCAPED
    shown_as_text(blocks)
    failed = messages.progress_text(info, Step.CREATING_USER, failure="x")
    assert failed == "PostgreSQL orders-db: failed while creating user"


@pytest.mark.parametrize("length", [CONTEXT_TEXT_LIMIT, CONTEXT_TEXT_LIMIT + 1])
def test_a_long_failure_is_cut_to_the_context_limit(length: int) -> None:
    failure = "f" * length

    blocks = checked(messages.build_progress(request(RequestStatus.FAILED), Step.GRANTING, failure))

    shown = blocks[1]["elements"][0]["text"]
    assert shown == failure if length <= CONTEXT_TEXT_LIMIT else shown == failure[:1999] + "…"


# -- the hand-off -----------------------------------------------------------------------------


def test_the_reveal_offer_has_one_button_until_it_is_used() -> None:
    info = request(RequestStatus.COMPLETED)

    offer = checked(messages.build_reveal_offer(info))
    used = checked(messages.build_revealed_offer(info.resource, EXPIRES))

    assert buttons(offer) == [(ActionId.REVEAL, "x1")]
    assert offer[0]["text"]["text"] == (
        "*PostgreSQL* `orders-db` is ready. Its credentials can be shown *once*, to you only; "
        "copy them into your secrets store."
    )
    assert buttons(used) == []
    assert used[0]["text"]["text"] == (
        f"*PostgreSQL* `orders-db` is ready. Its credentials were revealed {WHEN}; the bot "
        "keeps no copy. If that was not you, tell the platform team."
    )
    assert messages.ready_text(info) == "PostgreSQL orders-db is ready"


def test_hostile_labels_in_the_hand_off_stay_text() -> None:
    info = request(RequestStatus.COMPLETED, resource=resource(engine_label=HOSTILE_TEXT))

    for blocks in (
        messages.build_reveal_offer(info),
        messages.build_revealed_offer(info.resource, EXPIRES),
        messages.build_listing([info.resource], {info.resource.id}),
    ):
        assert ESCAPED in shown_as_text(blocks)
    assert messages.ready_text(info).startswith("&lt;!channel&gt; &lt;https:")


def test_the_reveal_offer_of_re_issued_credentials_says_they_are_new() -> None:
    info = request(RequestStatus.COMPLETED, action=PolicyAction.ROTATE)

    offer = checked(messages.build_reveal_offer(info))

    assert buttons(offer) == [(ActionId.REVEAL, "x1")]
    assert offer[0]["text"]["text"] == (
        "New credentials for *PostgreSQL* `orders-db` are ready. They can be shown *once*, "
        "to you only; copy them into your secrets store."
    )
    assert messages.ready_text(info) == "New credentials for PostgreSQL orders-db are ready"


def test_a_re_issue_offer_shows_hostile_names_as_text() -> None:
    hostile = resource(engine_label=HOSTILE_TEXT, name=HOSTILE_TEXT)
    info = request(RequestStatus.COMPLETED, action=PolicyAction.ROTATE, resource=hostile)

    assert ESCAPED in shown_as_text(messages.build_reveal_offer(info))
    assert messages.ready_text(info).startswith("New credentials for &lt;!channel&gt; &lt;")


TOKEN = "hvs.CAESI&<wrapped>"
PATH = "platform/payments/orders-db&<x>"


def _delivery(ttl_seconds: int = 600) -> str:
    command = "VAULT_ADDR='https://vault.example' vault unwrap TOKEN"
    wrapped = WrappedSecret(token=TOKEN, ttl_seconds=ttl_seconds, unwrap_command=command)
    blocks = messages.build_wrapped_delivery(request(RequestStatus.COMPLETED), wrapped, PATH)
    assert len(blocks) == 1
    return str(checked(blocks)[0]["text"]["text"])


def test_a_re_issued_token_says_the_credentials_are_new() -> None:
    command = "vault unwrap TOKEN"
    wrapped = WrappedSecret(token="hvs.x", ttl_seconds=600, unwrap_command=command)
    info = request(RequestStatus.COMPLETED, action=PolicyAction.ROTATE)

    text = checked(messages.build_wrapped_delivery(info, wrapped, "platform/orders-db"))[0]

    assert text["text"]["text"].startswith(
        "New credentials for *PostgreSQL* `orders-db` are ready. They are in the secrets "
        "manager at `platform/orders-db`.\n"
    )


def test_the_wrapped_token_appears_once_escaped_inside_the_command_to_run() -> None:
    text = _delivery()

    assert TOKEN not in text and text.count(escape(TOKEN)) == 1
    assert text == (
        "*PostgreSQL* `orders-db` is ready. Its credentials are in the secrets manager at "
        "`platform/payments/orders-db&amp;&lt;x&gt;`.\n"
        "A one-time token to read them, valid for 10 min and usable once:\n"
        "```VAULT_ADDR='https://vault.example' vault unwrap hvs.CAESI&amp;&lt;wrapped&gt;```\n"
        "If unwrapping says the token is invalid, someone else used it: tell the platform team."
    )


@pytest.mark.parametrize(
    ("seconds", "minutes"), [(0, 1), (59, 1), (60, 1), (119, 1), (120, 2), (3600, 60)]
)
def test_the_token_lifetime_is_said_in_whole_minutes_never_zero(seconds: int, minutes: int) -> None:
    assert f"valid for {minutes} min and usable once" in _delivery(seconds)


def test_no_other_message_of_a_request_carries_the_token() -> None:
    info = request(RequestStatus.COMPLETED, outcome_detail="done")
    shown = [
        messages.build_request_card(info),
        messages.build_approval(info),
        messages.build_progress(info, Step.READY),
        messages.build_reveal_offer(info),
        messages.build_revealed_offer(info.resource, EXPIRES),
        messages.build_expiry_warning(info.resource, 5),
        messages.build_listing([info.resource], {info.resource.id}),
    ]
    texts = [messages.ready_text(info), messages.request_text(info), messages.approval_text(info)]

    everything = json.dumps(shown) + "".join(texts)
    assert "hvs." not in everything and "unwrap" not in everything
    assert _delivery().count("hvs.") == 1


# -- expiry and extension ---------------------------------------------------------------------


@pytest.mark.parametrize(("hours_left", "said"), [(0.4, "0"), (5.4, "5"), (23.6, "24")])
def test_the_expiry_warning_says_when_and_offers_extend_and_drop(
    hours_left: float, said: str
) -> None:
    blocks = checked(messages.build_expiry_warning(resource(), hours_left))

    assert blocks[0]["text"]["text"] == (
        f"*PostgreSQL* `orders-db` (dev, payments) expires {WHEN} "
        f"(in about {said} h) and will then be dropped."
    )
    assert buttons(blocks) == [(ActionId.EXTEND, "x1"), (ActionId.DROP_NOW, "x1")]


def test_the_extension_is_confirmed_with_the_new_expiry_as_text() -> None:
    hostile = resource(engine_label=HOSTILE_TEXT, tier="dev", team=HOSTILE_TEXT)

    text = messages.extended_text(hostile)

    assert text == f"{ESCAPED} `orders-db` (dev, {ESCAPED}) now expires {WHEN}."
    assert "expires never." in messages.extended_text(resource(expires_at=None))
    assert ESCAPED in shown_as_text(messages.build_expiry_warning(hostile, 3))


# -- the `dbs` listing ------------------------------------------------------------------------


def _resources(count: int, **changes: Any) -> list[ResourceInfo]:
    return [resource(id=f"r{n:03d}", name=f"db-{n:03d}", **changes) for n in range(count)]


def _listing(resources: list[ResourceInfo]) -> tuple[list[str], str | None]:
    blocks = checked(messages.build_listing(resources))
    more = blocks[1]["elements"][0]["text"] if len(blocks) > 1 else None
    return blocks[0]["text"]["text"].split("\n"), more


def test_someone_without_databases_is_told_how_to_get_one() -> None:
    blocks = checked(messages.build_listing([], {"r000"}))

    assert len(blocks) == 1
    assert "You and your teams have no databases yet. Try `/platform new-db`." in shown_as_text(
        blocks
    )


def test_a_listed_database_shows_its_engine_tier_team_owner_status_and_expiry() -> None:
    lines, more = _listing([resource(status="awaiting_approval")])

    assert lines == [
        f"• *orders-db* — PostgreSQL, dev, payments, <@U0BOB>, awaiting approval, expires {WHEN}"
    ]
    assert more is None


@pytest.mark.parametrize(
    ("count", "more"), [(1, None), (40, None), (41, "…and 1 more"), (90, "…and 50 more")]
)
def test_the_listing_shows_up_to_40_and_counts_the_rest(count: int, more: str | None) -> None:
    lines, said = _listing(_resources(count, expires_at=None))

    assert len(lines) == min(count, LISTED_MAX)
    assert said == more


def test_rows_that_do_not_fit_the_section_are_counted_never_cut() -> None:
    listed = _resources(LISTED_MAX)

    lines, more = _listing(listed)

    assert len("\n".join(lines)) <= SECTION_TEXT_LIMIT
    assert all(line.endswith(f"expires {WHEN}") for line in lines)
    assert 0 < len(lines) < LISTED_MAX
    assert more == f"…and {LISTED_MAX - len(lines)} more"


@pytest.mark.parametrize(("padding", "shown"), [(0, 2), (1, 1)])
def test_a_row_is_listed_only_when_it_fits_whole(padding: int, shown: int) -> None:
    # Two rows whose text is exactly the section limit, then one character more.
    first = resource(id="r1", name="db-one", expires_at=None)
    row = len(_listing([first])[0][0])
    label = "L" * (SECTION_TEXT_LIMIT - 2 * row - 1 + len("PostgreSQL") + padding)
    second = resource(id="r2", name="db-two", expires_at=None, engine_label=label)

    lines, more = _listing([first, second])

    assert len(lines) == shown
    assert more == (None if shown == 2 else "…and 1 more")


def test_hostile_names_and_labels_in_the_listing_stay_text() -> None:
    hostile = resource(name=HOSTILE_TEXT, engine_label=HOSTILE_TEXT, team=HOSTILE_TEXT)

    shown = shown_as_text(messages.build_listing([hostile] * 3, {hostile.id}))

    assert f"• *{ESCAPED}* — {ESCAPED}, dev, {ESCAPED}, <@U0BOB>, active" in shown


def test_a_single_row_longer_than_the_section_is_cut_inside_it() -> None:
    (line,), more = _listing([resource(engine_label="L" * SECTION_TEXT_LIMIT)])

    assert len(line) <= SECTION_TEXT_LIMIT and line.endswith("L…")
    assert more is None
