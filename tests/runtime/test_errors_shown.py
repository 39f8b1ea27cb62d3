"""Errors where the person is looking: in the modal, to the clicker, in the command's answer.

Listeners of a probe feature fail on request, behind the real app and the Slack emulator;
each test checks what the person sees (the modal as rendered, their ephemerals).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.emulator.render import Numbering, render_modal
from bot.emulator.state import View
from tests.harness import BotHarness
from tests.runtime.probe import CLICK, NAME_ACTION, NAME_BLOCK, PICK, SUBMIT, Probe, probe_bot

APOLOGY = "Sorry, something went wrong on our side"
# Slack's own words when an app answers a submission with an error status.
SLACK_TROUBLE = "We had some trouble connecting"


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory, migrated_schema: Path
) -> Iterator[tuple[BotHarness, Probe]]:
    with probe_bot(tmp_path_factory.mktemp("probe"), schema=migrated_schema) as running:
        yield running


@pytest.fixture
def bot(running: tuple[BotHarness, Probe]) -> BotHarness:
    running[1].failures.clear()
    return running[0]


@pytest.fixture
def probe(running: tuple[BotHarness, Probe]) -> Probe:
    return running[1]


def _client(bot: BotHarness) -> WebClient:
    return WebClient(token=bot.emulator.bot_token, base_url=bot.emulator.api_url)


def _open_form(bot: BotHarness, user: str = "U0BOB", extra_blocks: int = 0) -> str:
    blocks: list[dict[str, Any]] = [
        {
            "type": "input",
            "block_id": NAME_BLOCK,
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": NAME_ACTION},
        },
        {
            "type": "actions",
            "block_id": "probe-actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": PICK,
                    "text": {"type": "plain_text", "text": "Check"},
                }
            ],
        },
    ]
    blocks += [{"type": "divider"} for _ in range(extra_blocks)]
    view = _client(bot).views_open(
        trigger_id=bot.emulator.mint_trigger_id(user),
        view={
            "type": "modal",
            "callback_id": SUBMIT,
            "title": {"type": "plain_text", "text": "Probe"},
            "submit": {"type": "plain_text", "text": "Save"},
            "blocks": blocks,
        },
    )["view"]
    return str(view["id"])


def _modal(bot: BotHarness, user: str = "U0BOB") -> tuple[View, str]:
    """The top modal of the person and how it looks to them."""
    stack = bot.emulator.state.modal_stack(user)
    assert stack, "no modal is open"
    view = stack[-1]
    return view, "\n".join(render_modal(view, bot.emulator.workspace, Numbering()))


def _submit(bot: BotHarness, view_id: str, name: str = "orders") -> None:
    bot.signer.view_submission("U0BOB", view_id, {NAME_BLOCK: {NAME_ACTION: name}})


def _post_button(bot: BotHarness, thread_ts: str | None = None) -> str:
    posted = _client(bot).chat_postMessage(
        channel="C0GENERAL",
        text="A button",
        thread_ts=thread_ts,
        blocks=[
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": CLICK,
                        "text": {"type": "plain_text", "text": "Go"},
                    }
                ],
            }
        ],
    )
    return str(posted["ts"])


def _ephemerals(bot: BotHarness, user: str) -> list[str]:
    return [e.text for e in bot.emulator.state.ephemerals(user)]


def _reference(text: str) -> str:
    found = re.search(r"reference `([0-9a-f]{8})`", text)
    assert found is not None, text
    return found.group(1)


# -- modal submissions --------------------------------------------------------------------------


def test_invalid_input_naming_a_field_is_shown_on_that_field(bot: BotHarness, probe: Probe) -> None:
    view_id = _open_form(bot)
    probe.failures[SUBMIT] = InvalidInput("That name is taken.", field=NAME_BLOCK)

    _submit(bot, view_id)

    view, shown = _modal(bot)
    assert view.id == view_id
    assert view.errors == {NAME_BLOCK: "That name is taken."}
    assert "! That name is taken." in shown
    assert SLACK_TROUBLE not in str(bot.emulator.activity_since(0))


def test_an_error_without_a_field_is_shown_on_top_of_the_modal_with_the_typed_values_kept(
    bot: BotHarness, probe: Probe
) -> None:
    view_id = _open_form(bot)
    probe.failures[SUBMIT] = NotAllowed("Only <@U0ALICE> may change this.")

    _submit(bot, view_id, name="orders-db")

    view, shown = _modal(bot)
    assert view.id == view_id
    assert shown.splitlines()[1].strip() == ":warning: Only @alice may change this."
    assert '"orders-db"' in shown  # the person's typing is still there
    assert view.spec["submit"]["text"] == "Save"


def test_a_second_failure_replaces_the_message_instead_of_stacking_it(
    bot: BotHarness, probe: Probe
) -> None:
    view_id = _open_form(bot)
    probe.failures[SUBMIT] = Conflict("First problem.")
    _submit(bot, view_id)
    probe.failures[SUBMIT] = Conflict("Second problem.")

    _submit(bot, view_id)

    _, shown = _modal(bot)
    assert "Second problem." in shown
    assert "First problem." not in shown


def test_a_field_the_modal_does_not_have_falls_back_to_the_message_on_top(
    bot: BotHarness, probe: Probe
) -> None:
    view_id = _open_form(bot)
    probe.failures[SUBMIT] = InvalidInput("Pick a plan.", field="no-such-block")

    _submit(bot, view_id)

    view, shown = _modal(bot)
    assert view.errors == {}
    assert ":warning: Pick a plan." in shown


def test_a_bug_in_a_submission_shows_the_apology_with_a_reference_that_the_log_has(
    bot: BotHarness, probe: Probe, caplog: pytest.LogCaptureFixture
) -> None:
    view_id = _open_form(bot)
    probe.failures[SUBMIT] = RuntimeError("database exploded: password=hunter2")

    with caplog.at_level(logging.ERROR):
        _submit(bot, view_id)

    _, shown = _modal(bot)
    assert APOLOGY in shown
    assert "exploded" not in shown and "hunter2" not in shown
    reference = _reference(shown)
    logged = next(r for r in caplog.records if reference in r.getMessage())
    assert logged.exc_info is not None


def test_a_full_modal_gets_a_notice_pushed_over_it(bot: BotHarness, probe: Probe) -> None:
    # Two blocks of the form and 98 dividers: Slack's 100, with no room for the message.
    view_id = _open_form(bot, extra_blocks=98)
    probe.failures[SUBMIT] = Conflict("Already requested.")

    _submit(bot, view_id)

    stack = bot.emulator.state.modal_stack("U0BOB")
    assert stack[0].id == view_id
    assert len(stack[0].spec["blocks"]) == 100
    _, shown = _modal(bot)
    assert "Couldn't do that" in shown
    assert "Already requested." in shown


def test_a_modal_one_block_short_of_full_is_updated(bot: BotHarness, probe: Probe) -> None:
    view_id = _open_form(bot, extra_blocks=97)
    probe.failures[SUBMIT] = Conflict("Already requested.")

    _submit(bot, view_id)

    view, shown = _modal(bot)
    assert view.id == view_id
    assert len(view.spec["blocks"]) == 100
    assert ":warning: Already requested." in shown


def test_a_successful_submission_closes_the_modal(bot: BotHarness, probe: Probe) -> None:
    view_id = _open_form(bot)

    _submit(bot, view_id)

    assert view_id not in [v.id for v in bot.emulator.state.modal_stack("U0BOB")]


# -- buttons ---------------------------------------------------------------------------------------


def test_a_failing_button_inside_a_modal_shows_the_message_in_the_modal(
    bot: BotHarness, probe: Probe
) -> None:
    view_id = _open_form(bot)
    probe.failures[PICK] = Conflict("Someone else is editing this.")

    bot.signer.block_action("U0BOB", action_id=PICK, view_id=view_id)

    assert bot.emulator.wait_for(lambda: "Someone else" in _modal(bot)[1])
    view, shown = _modal(bot)
    assert view.id == view_id
    assert ":warning: Someone else is editing this." in shown


def test_a_failing_button_in_a_message_tells_only_the_clicker(
    bot: BotHarness, probe: Probe
) -> None:
    ts = _post_button(bot)
    probe.failures[CLICK] = NotAllowed("Only the requester may cancel this.")

    response = bot.signer.block_action("U0BOB", action_id=CLICK, message=("C0GENERAL", ts))

    assert response.status == 200
    assert bot.emulator.wait_for(
        lambda: "Only the requester" in " ".join(_ephemerals(bot, "U0BOB"))
    )
    assert _ephemerals(bot, "U0ALICE") == []
    assert [m.text for m in bot.emulator.messages("C0GENERAL")] == ["A button"]


def test_a_failing_button_in_a_thread_answers_in_that_thread(bot: BotHarness, probe: Probe) -> None:
    parent = _client(bot).chat_postMessage(channel="C0GENERAL", text="Request")["ts"]
    ts = _post_button(bot, thread_ts=parent)
    probe.failures[CLICK] = Conflict("Already approved.")

    bot.signer.block_action("U0DAVE", action_id=CLICK, message=("C0GENERAL", ts))

    state = bot.emulator.state
    assert bot.emulator.wait_for(lambda: "Already approved." in _ephemerals(bot, "U0DAVE"))
    [shown] = [e for e in state.ephemerals("U0DAVE") if e.text == "Already approved."]
    assert (shown.text, shown.thread_ts) == ("Already approved.", parent)


def test_a_bug_behind_a_button_shows_the_clicker_the_apology(bot: BotHarness, probe: Probe) -> None:
    ts = _post_button(bot)
    probe.failures[CLICK] = RuntimeError("KeyError deep inside")

    bot.signer.block_action("U0CAROL", action_id=CLICK, message=("C0GENERAL", ts))

    assert bot.emulator.wait_for(lambda: bool(_ephemerals(bot, "U0CAROL")))
    [shown] = _ephemerals(bot, "U0CAROL")
    assert APOLOGY in shown and "KeyError" not in shown
    _reference(shown)


# -- commands --------------------------------------------------------------------------------------


def test_a_failing_command_answers_in_its_ack(bot: BotHarness, probe: Probe) -> None:
    probe.failures["change"] = Conflict("Nothing to change.")

    response = bot.signer.slash_command("U0DAVE", "change")

    assert response.status == 200
    assert "Nothing to change." in response.body
    assert "Nothing to change." in _ephemerals(bot, "U0DAVE")[-1]
