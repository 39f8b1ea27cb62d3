"""The page-on-call modals: Block Kit checked, what they carry parsed back on submit."""

from __future__ import annotations

import json

import pytest

from bot.core.errors import InvalidInput
from bot.emulator.blockkit import check_view
from commands.lookup.ids import ActionId, BlockId, CallbackId
from commands.lookup.service.lookups import MAX_REASON_LENGTH
from commands.lookup.service.types import PagePreview
from commands.lookup.views import paging
from commands.lookup.views.reports import REASON_SHOWN
from tests.commands.lookup.views.samples import make_entity, make_oncall
from tests.hostile import HOSTILE_TEXT, RAW_MARKERS


def test_page_modals_carry_the_entity_and_reason() -> None:
    modal = paging.build_page_reason_modal("component:default/payments-api", "Payments API")
    assert paging.parse_page_metadata(modal["private_metadata"]) == (
        "component:default/payments-api",
        "",
    )
    with pytest.raises(InvalidInput):
        paging.parse_page_metadata("{not json")


def test_the_reason_modal_asks_for_a_bounded_reason_for_the_entity() -> None:
    modal = paging.build_page_reason_modal("component:default/payments-api", HOSTILE_TEXT)
    assert check_view(modal) == []
    assert modal["callback_id"] == CallbackId.PAGE_REASON
    assert "&lt;!channel&gt;" in modal["blocks"][0]["text"]["text"]
    assert not any(marker in json.dumps(modal) for marker in RAW_MARKERS)
    element = modal["blocks"][1]["element"]
    assert (modal["blocks"][1]["block_id"], element["action_id"]) == (
        BlockId.REASON,
        ActionId.REASON,
    )
    assert element["max_length"] == MAX_REASON_LENGTH


def test_the_typed_reason_is_read_from_the_submitted_state() -> None:
    state = {BlockId.REASON: {ActionId.REASON: {"type": "plain_text_input", "value": "db down"}}}
    assert paging.parse_reason(state) == "db down"
    assert paging.parse_reason({}) == ""
    assert paging.parse_reason({BlockId.REASON: {ActionId.REASON: {"value": None}}}) == ""


@pytest.mark.parametrize("metadata", ["", "{}", "[]", '{"reason": "x"}', '{"ref": 5}'])
def test_metadata_without_a_reference_is_an_out_of_date_form(metadata: str) -> None:
    with pytest.raises(InvalidInput, match="out of date"):
        paging.parse_page_metadata(metadata)


def test_the_confirm_modal_names_who_is_paged_and_carries_the_reason() -> None:
    preview = PagePreview(entity=make_entity(), oncall=make_oncall(), provider="pagerduty")
    modal = paging.build_page_confirm_modal(preview, "the database is down", "UTC")
    assert check_view(modal) == []
    assert modal["callback_id"] == CallbackId.PAGE_CONFIRM
    assert modal["blocks"][0]["text"]["text"] == (
        "Page *<@U0BOB> until Thu 26 Nov 21:00 UTC* (on call for *payments-api*, via "
        "pagerduty)?\n*Reason:* the database is down"
    )
    assert paging.parse_page_metadata(modal["private_metadata"]) == (
        "component:default/payments-api",
        "the database is down",
    )


def test_the_confirm_modal_without_a_cached_answer_pages_whoever_the_tool_has_on_call() -> None:
    preview = PagePreview(entity=make_entity(), oncall=None, provider="opsgenie")
    modal = paging.build_page_confirm_modal(preview, "x" * MAX_REASON_LENGTH, None)
    assert check_view(modal) == []
    text = modal["blocks"][0]["text"]["text"]
    assert text.startswith("Page *whoever opsgenie has on call* (on call for *payments-api*")


def _shown_reason(reason: str) -> str:
    preview = PagePreview(entity=make_entity(), oncall=make_oncall(), provider="pagerduty")
    modal = paging.build_page_confirm_modal(preview, reason, "UTC")
    assert check_view(modal) == []
    assert paging.parse_page_metadata(modal["private_metadata"])[1] == reason
    return str(modal["blocks"][0]["text"]["text"]).partition("*Reason:* ")[2]


def test_the_longest_reason_is_shown_whole_even_when_every_character_is_escaped() -> None:
    # Five characters per `&` once escaped: the longest reason takes exactly REASON_SHOWN.
    assert _shown_reason("&" * MAX_REASON_LENGTH) == "&amp;" * MAX_REASON_LENGTH
    assert MAX_REASON_LENGTH * len("&amp;") == REASON_SHOWN
    longer = _shown_reason("&" * (MAX_REASON_LENGTH + 1))
    assert len(longer) <= REASON_SHOWN and longer.endswith("&amp;…")


def test_a_hostile_reason_is_shown_as_text() -> None:
    shown = _shown_reason(HOSTILE_TEXT)
    assert not any(marker in shown for marker in RAW_MARKERS)
    assert shown.startswith("&lt;!channel&gt;")


def test_the_notice_and_paging_modals_fit_their_titles() -> None:
    notice = paging.build_notice_modal("A title far longer than a modal allows", "Not allowed.")
    assert check_view(notice) == []
    assert notice["title"]["text"] == "A title far longer than "
    assert notice["blocks"][0]["text"]["text"] == "Not allowed."
    assert "callback_id" not in notice and "submit" not in notice
    paging_modal = paging.build_paging_modal(HOSTILE_TEXT)
    assert check_view(paging_modal) == []
    assert paging_modal["title"]["text"] == "Paging"
    text = paging_modal["blocks"][0]["text"]["text"]
    assert text.startswith("Paging the on-call for *&lt;!channel&gt;") and text.endswith("DM you.")
