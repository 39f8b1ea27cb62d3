"""The new-db modals other than the request form, built without a bot: the answer to arguments
not understood, notices, the reveal, deny, drop, extend and re-issue modals, inside Slack's
limits."""

from __future__ import annotations

import pytest

from bot.core.mrkdwn import CONTEXT_TEXT_LIMIT, SECTION_TEXT_LIMIT
from commands.new_db.ids import ActionId, BlockId, CallbackId
from commands.new_db.service.form import REASON_MAX
from commands.new_db.service.lifecycle import EXTEND_FIELD
from commands.new_db.views import modals
from commands.resources.hours import parse_hours
from tests.commands.new_db.test_numbers import BAD_TEXT
from tests.commands.new_db.views.samples import (
    block_of,
    checked_view,
    no_raw_markup,
    resource,
    submitted,
)
from tests.hostile import HOSTILE_TEXT

TITLE_LIMIT = 24  # a modal title, in characters


# -- arguments that were not understood, and notices ------------------------------------------


def _args_text(problem: str) -> str:
    return str(modals.build_args_problems([problem], "/platform new-db")[1][0]["text"]["text"])


def test_arguments_not_understood_are_listed_with_the_usage() -> None:
    text, blocks = modals.build_args_problems(["`--size` is not an option.", "`x` is odd."], "/u")

    assert text == "Some arguments were not understood."
    assert blocks[0]["text"]["text"] == (
        "I did not open the form; this was not understood:\n"
        "• `--size` is not an option.\n• `x` is odd.\nUsage: `/u`"
    )


def test_many_problems_are_cut_to_one_section() -> None:
    frame = len(_args_text(""))
    assert _args_text("p" * (SECTION_TEXT_LIMIT - frame)).endswith("Usage: `/platform new-db`")
    cut = _args_text("p" * (SECTION_TEXT_LIMIT - frame + 1))
    assert len(cut) == SECTION_TEXT_LIMIT and cut.endswith("…")
    _, blocks = modals.build_args_problems(["&amp; " * 400] * 10, "/platform new-db")
    assert blocks[0]["text"]["text"].endswith("&amp; …")


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Cannot request this", "Cannot request this"),
        ("t" * TITLE_LIMIT, "t" * TITLE_LIMIT),
        ("t" * (TITLE_LIMIT + 1), "t" * TITLE_LIMIT),
    ],
)
def test_a_notice_keeps_its_title_inside_the_modal_limit(title: str, shown: str) -> None:
    view = checked_view(modals.build_notice_modal(title, "Only payments may request prod."))

    assert view["title"]["text"] == shown
    assert "submit" not in view and view["close"]["text"] == "Back"


@pytest.mark.parametrize("length", [SECTION_TEXT_LIMIT, SECTION_TEXT_LIMIT + 1])
def test_a_long_notice_fits_its_section(length: int) -> None:
    text = "n" * length
    view = checked_view(modals.build_notice_modal("Cannot drop this", text))

    shown = view["blocks"][0]["text"]["text"]
    assert shown == text if length <= SECTION_TEXT_LIMIT else shown == text[:2999] + "…"


# -- the reveal modal -------------------------------------------------------------------------


CREDENTIALS = {
    "host": "db.internal",
    "port": "5432",
    "database": "orders_db",
    "username": "orders_db_owner",
    "password": "p&ss<word>",
    "url": "postgresql://orders_db_owner:p&ss<word>@db.internal:5432/orders_db",
}


def test_the_reveal_modal_shows_every_credential_whole_and_escaped() -> None:
    view = checked_view(modals.build_reveal_modal(resource(), CREDENTIALS))

    assert view["title"]["text"] == "orders-db"
    assert view["blocks"][0]["text"]["text"] == (
        "*Host:* `db.internal`\n*Port:* `5432`\n*Database:* `orders_db`\n"
        "*User:* `orders_db_owner`\n*Password:* `p&amp;ss&lt;word&gt;`\n"
        "*URL:* `postgresql://orders_db_owner:p&amp;ss&lt;word&gt;@db.internal:5432/orders_db`"
    )
    assert "Shown once" in view["blocks"][-1]["elements"][0]["text"]
    assert "submit" not in view and "callback_id" not in view


def test_fields_an_engine_leaves_empty_are_not_shown() -> None:
    sqlite = {"host": "", "port": "0", "database": "/data/orders.db", "url": "sqlite:///x.db"}
    view = checked_view(modals.build_reveal_modal(resource(), sqlite))

    assert view["blocks"][0]["text"]["text"] == (
        "*Database:* `/data/orders.db`\n*URL:* `sqlite:///x.db`"
    )
    assert len(view["blocks"]) == 2  # no notes


@pytest.mark.parametrize("length", [CONTEXT_TEXT_LIMIT, CONTEXT_TEXT_LIMIT + 1])
def test_notes_are_cut_to_the_context_limit(length: int) -> None:
    notes = "n" * length
    view = checked_view(modals.build_reveal_modal(resource(), {**CREDENTIALS, "notes": notes}))

    shown = view["blocks"][1]["elements"][0]["text"]
    assert shown == notes if length <= CONTEXT_TEXT_LIMIT else shown == notes[:1999] + "…"


def test_hostile_credentials_and_notes_are_shown_as_text() -> None:
    hostile = {**CREDENTIALS, "password": HOSTILE_TEXT, "notes": HOSTILE_TEXT}
    view = modals.build_reveal_modal(resource(), hostile)

    rows, notes = view["blocks"][0]["text"]["text"], view["blocks"][1]["elements"][0]["text"]
    assert "*Password:* `&lt;!channel&gt; &lt;https:" in rows
    assert notes.startswith("&lt;!channel&gt; &lt;https:")
    no_raw_markup(rows + notes)


@pytest.mark.parametrize(
    ("name", "title"),
    [("a" * TITLE_LIMIT, "a" * TITLE_LIMIT), ("a" * (TITLE_LIMIT + 1), "a" * TITLE_LIMIT)],
)
def test_a_long_name_is_cut_to_the_title_limit(name: str, title: str) -> None:
    view = checked_view(modals.build_reveal_modal(resource(name=name), CREDENTIALS))

    assert view["title"]["text"] == title


# -- deny, drop and extend --------------------------------------------------------------------


def test_the_deny_modal_asks_why_and_carries_the_request() -> None:
    view = checked_view(modals.build_deny_modal("req-1"))

    assert (view["callback_id"], view["private_metadata"]) == (CallbackId.DENY, "req-1")
    element = block_of(view, BlockId.DENY_REASON)["element"]
    assert (element["multiline"], element["max_length"]) == (True, 500)
    typed = submitted(view, {BlockId.DENY_REASON: {ActionId.DENY_REASON: f" {HOSTILE_TEXT} "}})
    assert modals.parse_text_field(typed, BlockId.DENY_REASON, ActionId.DENY_REASON) == HOSTILE_TEXT


def test_the_drop_modal_names_the_resource_as_text_and_asks_to_type_its_name() -> None:
    hostile = resource(engine_label=HOSTILE_TEXT, tier=HOSTILE_TEXT, team=HOSTILE_TEXT)
    view = checked_view(modals.build_drop_modal(hostile))

    assert (view["callback_id"], view["private_metadata"]) == (CallbackId.DROP, "x1")
    warning = view["blocks"][0]["text"]["text"]
    assert warning.startswith("This drops *&lt;!channel&gt; &lt;https://evil.example/sso|")
    assert warning.endswith("with its data and its user. It cannot be undone.")
    assert block_of(view, BlockId.CONFIRM_NAME)["label"]["text"] == "Type orders-db to confirm"
    reason = block_of(view, BlockId.REASON)
    assert (reason["optional"], reason["element"]["max_length"]) == (True, REASON_MAX)
    no_raw_markup(warning)


def test_the_rotate_modal_says_what_will_happen_before_anything_changes() -> None:
    view = checked_view(modals.build_rotate_modal(resource(tier="staging")))

    assert (view["callback_id"], view["private_metadata"]) == (CallbackId.ROTATE, "x1")
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Re-issue credentials",
        "Re-issue",
        "Cancel",
    )
    assert view["blocks"][0]["text"]["text"] == (
        "New credentials for PostgreSQL `orders-db` (staging). Apps using the current "
        "password stop connecting until they get the new one."
    )
    # Nothing to fill in: confirming is the only thing the modal asks.
    assert [b["type"] for b in view["blocks"]] == ["section", "context"]


def test_the_rotate_modal_shows_hostile_names_as_text() -> None:
    hostile = resource(engine_label=HOSTILE_TEXT, name=HOSTILE_TEXT, tier=HOSTILE_TEXT)
    view = checked_view(modals.build_rotate_modal(hostile))

    text = view["blocks"][0]["text"]["text"]
    assert text.startswith("New credentials for &lt;!channel&gt; &lt;https://evil.example/sso|")
    no_raw_markup(text)


def test_a_field_the_submission_lacks_reads_as_empty() -> None:
    view = submitted(modals.build_drop_modal(resource()))

    assert modals.parse_text_field(view, BlockId.CONFIRM_NAME, ActionId.CONFIRM_NAME) == ""
    assert modals.parse_text_field({}, BlockId.REASON, ActionId.REASON) == ""


def test_the_extend_modal_offers_a_day_within_the_maximum() -> None:
    view = checked_view(modals.build_extend_modal(resource(), 336.0))

    assert (view["callback_id"], view["private_metadata"]) == (CallbackId.EXTEND, "x1")
    block = block_of(view, BlockId.EXTEND_HOURS)
    assert block["label"]["text"] == "Extend orders-db by (hours)"
    assert block["hint"]["text"] == "At most 336 hours from now."
    assert block["element"]["initial_value"] == "24"
    untouched = modals.parse_text_field(
        submitted(view), BlockId.EXTEND_HOURS, ActionId.EXTEND_HOURS
    )
    assert parse_hours(untouched, field=EXTEND_FIELD, maximum=336.0) == (24.0, None)


@pytest.mark.parametrize("text", [*BAD_TEXT, "", "  "])
def test_extend_hours_that_are_no_usable_number_are_refused(text: str) -> None:
    view = submitted(
        modals.build_extend_modal(resource(), 336.0),
        {BlockId.EXTEND_HOURS: {ActionId.EXTEND_HOURS: text}},
    )

    typed = modals.parse_text_field(view, BlockId.EXTEND_HOURS, ActionId.EXTEND_HOURS)

    assert parse_hours(typed, field=EXTEND_FIELD, maximum=336.0) == (
        None,
        "Extend by: give a number of hours above 0 and at most 336.",
    )
