"""The error presenter: from an error and where its request came from to what to send."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.core.error_presenter import (
    ERROR_BLOCK_ID,
    MODAL_BLOCK_LIMIT,
    OpenView,
    Origin,
    Presentation,
    PushView,
    Surface,
    UpdateView,
    build_view_with_error,
    present,
    reference_for,
)
from bot.core.errors import Conflict, InvalidInput, NotFound
from bot.core.mrkdwn import SECTION_TEXT_LIMIT

INPUT = {
    "type": "input",
    "block_id": "name",
    "label": {"type": "plain_text", "text": "Name"},
    "element": {"type": "plain_text_input", "action_id": "name"},
}
DIVIDER = {"type": "divider", "block_id": "d"}


def _view(*blocks: dict[str, Any]) -> dict[str, Any]:
    """A modal as Slack sends it in a payload, bookkeeping included."""
    return {
        "id": "V0FORM",
        "team_id": "T0PLATFORM",
        "type": "modal",
        "callback_id": "form",
        "private_metadata": '{"channel": "C0GENERAL"}',
        "external_id": "",
        "title": {"type": "plain_text", "text": "Request"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": list(blocks or (INPUT,)),
        "state": {"values": {}},
        "hash": "123.abc",
        "clear_on_close": False,
        "notify_on_close": False,
        "root_view_id": "V0FORM",
        "app_id": "A0PLATBOT",
        "bot_id": "B0PLATBOT",
    }


def _shown(error: Exception, origin: Origin) -> Presentation:
    return present(error, origin, reference="0badc0de")


def _top_text(view: dict[str, Any]) -> str:
    block = view["blocks"][0]
    assert block["block_id"] == ERROR_BLOCK_ID
    return str(block["text"]["text"])


# -- where the request came from -------------------------------------------------------------


def test_origins_of_each_kind_of_request() -> None:
    view = _view()
    command = {"command": "/platform", "response_url": "https://hooks/1", "trigger_id": "1"}
    submission = {"type": "view_submission", "view": view, "response_urls": []}
    in_modal = {"type": "block_actions", "view": view, "trigger_id": "9.9"}
    in_thread = {
        "type": "block_actions",
        "response_url": "https://hooks/2",
        "message": {"ts": "2.0", "thread_ts": "1.0"},
    }
    home = {"type": "block_actions", "view": {**view, "type": "home"}, "trigger_id": "7.7"}
    event = {"type": "event_callback", "event": {"type": "app_home_opened"}}

    assert Origin.of(command, acked=False) == Origin(Surface.COMMAND, has_response_url=True)
    assert Origin.of(submission, acked=False) == Origin(Surface.SUBMISSION, view=view)
    assert Origin.of(in_modal, acked=True) == Origin(
        Surface.MODAL, acked=True, view=view, trigger_id="9.9"
    )
    assert Origin.of(in_thread, acked=True) == Origin(
        Surface.MESSAGE, acked=True, thread_ts="1.0", has_response_url=True
    )
    assert Origin.of(home, acked=True) == Origin(Surface.HOME, acked=True, trigger_id="7.7")
    assert Origin.of(event, acked=True).surface is Surface.ELSEWHERE


# -- slash commands and messages ---------------------------------------------------------------


def test_a_command_not_yet_answered_shows_the_error_in_its_ack() -> None:
    shown = _shown(Conflict("orders-db already exists."), Origin(Surface.COMMAND))

    assert shown.ack == {"text": "orders-db already exists.", "response_type": "ephemeral"}
    assert (shown.reply, shown.view) == (None, None)


def test_a_command_already_answered_shows_the_error_through_its_response_url() -> None:
    origin = Origin(Surface.COMMAND, acked=True, has_response_url=True)

    shown = _shown(Conflict("Too late."), origin)

    assert shown.ack is None
    assert shown.reply == {
        "text": "Too late.",
        "response_type": "ephemeral",
        "replace_original": False,
    }


@pytest.mark.parametrize("thread_ts", [None, "1700000000.000100"])
def test_a_button_in_a_message_answers_the_clicker_alone_in_its_thread(
    thread_ts: str | None,
) -> None:
    origin = Origin(Surface.MESSAGE, thread_ts=thread_ts, has_response_url=True)

    shown = _shown(Conflict("Already approved."), origin)

    assert shown.ack is None
    assert shown.reply is not None
    assert shown.reply["response_type"] == "ephemeral"
    assert shown.reply["replace_original"] is False
    assert shown.reply.get("thread_ts") == thread_ts


def test_a_refused_click_on_the_app_home_opens_a_notice_over_it() -> None:
    shown = _shown(
        Conflict("This request was cancelled by its requester."),
        Origin(Surface.HOME, acked=True, trigger_id="7.7"),
    )

    assert (shown.ack, shown.reply) == (None, None)
    assert isinstance(shown.view, OpenView)
    assert shown.view.trigger_id == "7.7"
    assert "cancelled by its requester" in _top_text(shown.view.view.to_dict())


def test_a_request_from_nowhere_a_person_looks_sends_nothing() -> None:
    shown = _shown(RuntimeError("boom"), Origin(Surface.ELSEWHERE, acked=True))

    assert (shown.ack, shown.reply, shown.view) == (None, None, None)
    assert "0badc0de" in shown.text


# -- modal submissions -------------------------------------------------------------------------


def test_invalid_input_naming_an_input_block_becomes_a_field_error() -> None:
    origin = Origin(Surface.SUBMISSION, view=_view(INPUT))

    shown = _shown(InvalidInput("Too long.", field="name"), origin)

    assert shown.ack == {"response_action": "errors", "errors": {"name": "Too long."}}


@pytest.mark.parametrize(
    "error",
    [
        InvalidInput("Too long.", field="d"),  # a block, but not an input
        InvalidInput("Too long.", field="gone"),
        InvalidInput("Too long."),
        Conflict("Too long."),
    ],
)
def test_other_errors_in_a_submission_update_the_modal_with_the_message_on_top(
    error: Exception,
) -> None:
    shown = _shown(error, Origin(Surface.SUBMISSION, view=_view(INPUT, DIVIDER)))

    assert shown.ack is not None
    assert shown.ack["response_action"] == "update"
    view = shown.ack["view"]
    assert _top_text(view) == ":warning: Too long."
    assert [b["block_id"] for b in view["blocks"][1:]] == ["name", "d"]
    assert (view["callback_id"], view["private_metadata"]) == (
        "form",
        '{"channel": "C0GENERAL"}',
    )
    assert {"id", "state", "hash", "team_id", "app_id", "external_id"}.isdisjoint(view)


def test_an_unexpected_error_shows_the_apology_and_never_the_exception() -> None:
    origin = Origin(Surface.SUBMISSION, view=_view())

    shown = _shown(ValueError("password=hunter2"), origin)

    assert shown.ack is not None
    text = _top_text(shown.ack["view"])
    assert "reference `0badc0de`" in text
    assert "hunter2" not in str(shown)


def test_not_found_suggestions_are_part_of_the_message() -> None:
    error = NotFound("There is no team called `paymnts`.", suggestions=["payments"])

    shown = _shown(error, Origin(Surface.COMMAND))

    assert shown.text == "There is no team called `paymnts`. Did you mean `payments`?"


def test_a_submission_already_answered_is_told_through_its_response_url_if_any() -> None:
    with_url = Origin(Surface.SUBMISSION, acked=True, view=_view(), has_response_url=True)
    without = Origin(Surface.SUBMISSION, acked=True, view=_view())

    assert _shown(Conflict("Late."), with_url).reply is not None
    assert _shown(Conflict("Late."), without) == Presentation("Late.")


# -- the modal's capacity ------------------------------------------------------------------------


def _blocks(count: int) -> list[dict[str, Any]]:
    return [INPUT, *({"type": "divider", "block_id": f"d{n}"} for n in range(count - 1))]


def test_a_modal_one_block_short_of_the_limit_is_updated() -> None:
    view = _view(*_blocks(MODAL_BLOCK_LIMIT - 1))

    shown = _shown(Conflict("Taken."), Origin(Surface.SUBMISSION, view=view))

    assert shown.ack is not None
    assert shown.ack["response_action"] == "update"
    assert len(shown.ack["view"]["blocks"]) == MODAL_BLOCK_LIMIT


def test_a_full_modal_gets_a_notice_pushed_over_it() -> None:
    view = _view(*_blocks(MODAL_BLOCK_LIMIT))

    shown = _shown(Conflict("Taken."), Origin(Surface.SUBMISSION, view=view))

    assert shown.ack is not None
    assert shown.ack["response_action"] == "push"
    assert shown.ack["view"]["title"]["text"] == "Couldn't do that"
    assert _top_text(shown.ack["view"]) == ":warning: Taken."


def test_a_full_modal_that_already_shows_an_error_has_room_for_the_new_one() -> None:
    first = build_view_with_error(_view(*_blocks(MODAL_BLOCK_LIMIT - 1)), "First.")
    assert first is not None

    again = build_view_with_error(first.to_dict(), "Second.")

    assert again is not None
    blocks = again.to_dict()["blocks"]
    assert len(blocks) == MODAL_BLOCK_LIMIT
    assert [b["block_id"] for b in blocks].count(ERROR_BLOCK_ID) == 1
    assert _top_text(again.to_dict()) == ":warning: Second."


def test_a_block_slack_sdk_cannot_read_is_never_dropped_from_a_rebuilt_modal() -> None:
    unknown = {"type": "some_future_block", "block_id": "f"}

    assert build_view_with_error(_view(INPUT, unknown), "Taken.") is None
    shown = _shown(Conflict("Taken."), Origin(Surface.SUBMISSION, view=_view(INPUT, unknown)))
    assert shown.ack is not None and shown.ack["response_action"] == "push"


@pytest.mark.parametrize(
    ("length", "cut"), [(SECTION_TEXT_LIMIT - len(":warning: "), False), (3000, True)]
)
def test_the_message_on_top_stays_inside_a_sections_limit(length: int, cut: bool) -> None:
    view = build_view_with_error(_view(), "x" * length)
    assert view is not None

    text = _top_text(view.to_dict())

    assert len(text) == SECTION_TEXT_LIMIT
    assert text.endswith("…") is cut


# -- buttons inside a modal --------------------------------------------------------------------


def test_a_button_inside_a_modal_updates_that_modal_guarded_by_its_hash() -> None:
    origin = Origin(Surface.MODAL, acked=True, view=_view(INPUT), trigger_id="9.9")

    shown = _shown(Conflict("Someone else is editing this."), origin)

    assert shown.ack is None and shown.reply is None
    assert isinstance(shown.view, UpdateView)
    assert (shown.view.view_id, shown.view.hash) == ("V0FORM", "123.abc")
    assert _top_text(shown.view.view.to_dict()) == ":warning: Someone else is editing this."


def test_a_button_inside_a_full_modal_pushes_a_notice_with_its_trigger() -> None:
    full = _view(*_blocks(MODAL_BLOCK_LIMIT))

    shown = _shown(Conflict("Taken."), Origin(Surface.MODAL, view=full, trigger_id="9.9"))
    nowhere = _shown(Conflict("Taken."), Origin(Surface.MODAL, view=full))

    assert isinstance(shown.view, PushView)
    assert shown.view.trigger_id == "9.9"
    assert nowhere.view is None


# -- logging ---------------------------------------------------------------------------------------


def test_only_unexpected_errors_are_logged_with_their_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        bug = exc
    with caplog.at_level(logging.INFO, logger="bot.core.error_presenter"):
        known = reference_for(Conflict("Taken."), where="test")
        unknown = reference_for(bug, where="test")

    [record] = caplog.records
    assert unknown in record.getMessage() and known not in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is bug
