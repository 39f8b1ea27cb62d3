"""views.*: single-use triggers, the three-view stack, hashes and Home tabs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import Emulator
from tests.clock import Clock


@pytest.fixture
def timed(clock: Clock) -> Iterator[Emulator]:
    with Emulator(rate_limits=None, clock=clock.timestamp) as emu:
        yield emu


def modal(title: str = "Request", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [], **extra}


def error(fn: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        fn(**kwargs)
    return str(info.value.response["error"])


def test_trigger_works_once_and_expires_after_three_seconds(timed: Emulator, clock: Clock) -> None:
    client = WebClient(token=timed.bot_token, base_url=timed.api_url)
    trigger = timed.mint_trigger_id("U0ALICE")
    late = timed.mint_trigger_id("U0ALICE")

    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert error(client.views_open, trigger_id=trigger, view=modal()) == "exchanged_trigger_id"
    clock.advance(seconds=3.5)
    assert error(client.views_open, trigger_id=late, view=modal()) == "expired_trigger_id"
    assert error(client.views_open, trigger_id="1.2.3", view=modal()) == "invalid_trigger_id"
    assert [v.id for v in timed.state.modal_stack("U0ALICE")] == [view["id"]]


def test_an_invalid_view_does_not_spend_the_trigger(client: WebClient, emulator: Emulator) -> None:
    trigger = emulator.mint_trigger_id("U0BOB")

    assert error(client.views_open, trigger_id=trigger, view=modal("t" * 25)) == "invalid_arguments"
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]


def test_push_needs_an_open_modal_and_stops_at_three(client: WebClient, emulator: Emulator) -> None:
    assert (
        error(client.views_push, trigger_id=emulator.mint_trigger_id("U0BOB"), view=modal())
        == "view_not_found"
    )
    root = client.views_open(trigger_id=emulator.mint_trigger_id("U0BOB"), view=modal())["view"]
    second = client.views_push(trigger_id=emulator.mint_trigger_id("U0BOB"), view=modal("Two"))[
        "view"
    ]
    client.views_push(trigger_id=emulator.mint_trigger_id("U0BOB"), view=modal("Three"))

    assert (second["root_view_id"], second["previous_view_id"]) == (root["id"], root["id"])
    over = error(
        client.views_push, trigger_id=emulator.mint_trigger_id("U0BOB"), view=modal("Four")
    )
    assert over == "push_limit_reached"
    assert len(emulator.state.modal_stack("U0BOB")) == 3


def test_update_by_id_or_external_id_honours_the_hash(
    client: WebClient, emulator: Emulator
) -> None:
    opened = client.views_open(
        trigger_id=emulator.mint_trigger_id("U0DAVE"), view=modal(external_id="req-1")
    )["view"]

    updated = client.views_update(
        external_id="req-1", view=modal("Updated", external_id="req-1"), hash=opened["hash"]
    )["view"]
    stale = error(
        client.views_update, view_id=opened["id"], view=modal("Stale"), hash=opened["hash"]
    )

    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Updated"
    assert stale == "hash_conflict"
    assert error(client.views_update, view_id="V0NOPE", view=modal()) == "view_not_found"
    assert (
        error(client.api_call, api_method="views.update", json={"view": modal()})
        == "invalid_arguments"
    )


def test_home_tab_is_published_per_user(client: WebClient, emulator: Emulator) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    first = client.views_publish(user_id="U0ALICE", view=home)["view"]
    second = client.views_publish(user_id="U0ALICE", view=home, hash=first["hash"])["view"]

    assert second["id"] == first["id"] and second["hash"] != first["hash"]
    assert (
        error(client.views_publish, user_id="U0ALICE", view=home, hash=first["hash"])
        == "hash_conflict"
    )
    assert error(client.views_publish, user_id="U0ALICE", view=modal()) == "invalid_arguments"
