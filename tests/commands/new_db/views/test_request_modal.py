"""The request form of `/platform new-db`, built and parsed without a bot: what it offers for
each tier, what a submission reads as, and where field errors land (checked by the emulator's
Block Kit checker)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from commands.new_db.ids import ActionId, BlockId, CallbackId
from commands.new_db.service.form import REASON_MAX
from commands.new_db.service.options import Option
from commands.new_db.views import modals
from commands.resources.hours import MAX_TEXT
from tests.commands.new_db.test_numbers import BAD_TEXT
from tests.commands.new_db.views.samples import (
    DEV_MAX_TTL,
    JSON,
    TIERS_MAX_TTL,
    block_of,
    checked_view,
    choices,
    no_raw_markup,
    resource,
    submitted,
)
from tests.hostile import HOSTILE_TEXT

OPTION_TEXT_LIMIT = 75
ERROR_LIMIT = 150  # what a field error shows under an input


def _block_ids(view: JSON) -> list[str]:
    return [b.get("block_id", "") for b in view["blocks"]]


def _filled(view: JSON, **typed: str) -> JSON:
    """The request modal submitted with `typed` text in its inputs (the rest as prefilled)."""
    actions = {"name": ActionId.NAME, "ttl": ActionId.TTL, "reason": ActionId.REASON}
    return submitted(view, {block: {actions[block]: text} for block, text in typed.items()})


# -- the request form -------------------------------------------------------------------------


def test_the_dev_form_offers_a_prefilled_time_to_live_and_an_optional_reason() -> None:
    view = checked_view(modals.build_request_modal(choices("dev"), metadata={"channel": "C1"}))

    assert (view["callback_id"], view["submit"]["text"]) == (CallbackId.NEW_DB, "Request")
    assert _block_ids(view) == ["engine", "name", "tier", "team", "plan", "ttl", "reason"]
    ttl = block_of(view, BlockId.TTL)
    assert ttl["element"]["initial_value"] == "72"
    assert ttl["element"]["max_length"] == MAX_TEXT
    assert ttl["hint"]["text"] == f"Dropped automatically after this; at most {DEV_MAX_TTL:g} h."
    reason = block_of(view, BlockId.REASON)
    assert reason["optional"] is True
    assert reason["hint"]["text"] == "Approvers and the audit log see it."
    assert reason["element"]["max_length"] == REASON_MAX
    assert json.loads(view["private_metadata"]) == {"channel": "C1"}


def test_the_prod_form_has_no_time_to_live_requires_a_reason_and_lists_prod_plans() -> None:
    view = checked_view(modals.build_request_modal(choices("prod")))

    assert _block_ids(view) == ["engine", "name", "tier", "team", "plan", "reason"]
    reason = block_of(view, BlockId.REASON)
    assert reason["optional"] is False
    assert reason["hint"]["text"] == "Required for prod: approvers and the audit log see it."
    plan = block_of(view, BlockId.PLAN)["element"]
    assert [o["value"] for o in plan["options"]] == ["large"]
    assert plan["initial_option"]["value"] == "large"
    assert block_of(view, BlockId.TIER)["element"]["initial_option"]["value"] == "prod"


@pytest.mark.parametrize(
    ("asked", "preselected"),
    [("large", "large"), ("small", "small"), (None, "small"), ("xl", "small"), ("", "small")],
)
def test_one_offered_plan_is_preselected(asked: str | None, preselected: str) -> None:
    view = checked_view(modals.build_request_modal(choices("dev"), plan=asked))

    assert block_of(view, BlockId.PLAN)["element"]["initial_option"]["value"] == preselected


def test_a_plan_the_tier_does_not_offer_is_not_carried_over() -> None:
    view = modals.build_request_modal(choices("prod"), plan="small")

    assert block_of(view, BlockId.PLAN)["element"]["initial_option"]["value"] == "large"


def test_an_engine_without_a_plan_for_the_tier_says_so_instead_of_an_empty_menu() -> None:
    bare = replace(choices("prod", plans=[], engine_label=HOSTILE_TEXT), tier=HOSTILE_TEXT)
    view = checked_view(modals.build_request_modal(bare))

    assert BlockId.PLAN not in _block_ids(view)
    note = block_of(view, BlockId.PLAN_NOTE)["text"]["text"]
    assert note.startswith(":warning: There is no &lt;!channel&gt; &lt;https://evil.example")
    assert note.endswith("; pick another engine or tier.")
    no_raw_markup(note)


def test_what_was_entered_is_kept_when_the_form_is_rebuilt() -> None:
    view = modals.build_request_modal(
        choices("dev"), name="orders-db", plan="large", ttl="48", reason="load tests"
    )

    assert block_of(view, BlockId.NAME)["element"]["initial_value"] == "orders-db"
    assert block_of(view, BlockId.TTL)["element"]["initial_value"] == "48"
    assert block_of(view, BlockId.REASON)["element"]["initial_value"] == "load tests"


def test_an_empty_field_has_no_initial_value() -> None:
    view = checked_view(modals.build_request_modal(choices("dev", ttl_hours=None), ttl=""))

    for block in (BlockId.NAME, BlockId.TTL, BlockId.REASON):
        assert "initial_value" not in block_of(view, block)["element"]


@pytest.mark.parametrize(("hours", "shown"), [(0.5, "0.5"), (72.0, "72"), (336.0, "336")])
def test_the_default_time_to_live_is_shown_as_typed(hours: float, shown: str) -> None:
    view = modals.build_request_modal(choices("dev", ttl_hours=hours))

    assert block_of(view, BlockId.TTL)["element"]["initial_value"] == shown
    assert modals.parse_request(submitted(view), max_ttl_hours=TIERS_MAX_TTL)[0].ttl_hours == hours


@pytest.mark.parametrize("length", [OPTION_TEXT_LIMIT, OPTION_TEXT_LIMIT + 1, 300])
def test_long_labels_are_cut_to_the_option_limit(length: int) -> None:
    label = "x" * length
    team = Option("payments", label)
    view = checked_view(modals.build_request_modal(choices("dev", teams=[team], plans=[team])))

    for block in (BlockId.TEAM, BlockId.PLAN):
        shown = block_of(view, block)["element"]["options"][0]["text"]["text"]
        assert shown == label[:OPTION_TEXT_LIMIT]


def _teams(count: int) -> list[Option]:
    return [Option(f"team-{n:04d}", f"Team {n:04d}") for n in range(count)]


def test_the_form_offers_the_maximum_of_options_a_menu_holds() -> None:
    view = checked_view(
        modals.build_request_modal(choices("dev", teams=_teams(100), team="team-0099"))
    )

    menu = block_of(view, BlockId.TEAM)["element"]
    assert [o["value"] for o in menu["options"]] == [t.value for t in _teams(100)]
    assert "option_groups" not in menu
    assert menu["initial_option"]["value"] == "team-0099"


@pytest.mark.parametrize(("count", "sizes"), [(101, [100, 1]), (250, [100, 100, 50])])
def test_more_teams_than_a_menu_holds_are_offered_in_groups(count: int, sizes: list[int]) -> None:
    teams = _teams(count)
    view = checked_view(
        modals.build_request_modal(choices("dev", teams=teams, team=teams[-1].value))
    )

    menu = block_of(view, BlockId.TEAM)["element"]
    assert "options" not in menu
    groups = menu["option_groups"]
    assert [len(g["options"]) for g in groups] == sizes
    assert [o["value"] for g in groups for o in g["options"]] == [t.value for t in teams]
    assert groups[0]["label"]["text"] == "Team 0000 … Team 0099"
    assert menu["initial_option"]["value"] == teams[-1].value


def test_group_labels_of_long_team_names_stay_within_slacks_limit() -> None:
    teams = [Option(f"team-{n:03d}", f"{n:03d}" + "x" * 200) for n in range(101)]
    view = checked_view(modals.build_request_modal(choices("dev", teams=teams, team=None)))

    labels = [g["label"]["text"] for g in block_of(view, BlockId.TEAM)["element"]["option_groups"]]
    assert all(len(label) <= OPTION_TEXT_LIMIT for label in labels)
    assert labels[1].startswith("100x")


def test_a_person_in_no_team_gets_no_preselected_team() -> None:
    view = modals.build_request_modal(choices("dev", team=None))

    assert "initial_option" not in block_of(view, BlockId.TEAM)["element"]


# -- reading the submitted form ---------------------------------------------------------------


def test_a_submitted_form_reads_as_typed_without_surrounding_blanks() -> None:
    view = modals.build_request_modal(choices("dev"), plan="large")
    typed = _filled(view, name="  orders-db ", ttl=" 24 ", reason="  load tests\n")

    form, errors = modals.parse_request(typed, max_ttl_hours=TIERS_MAX_TTL)

    assert errors == {}
    assert form.model_dump() == {
        "engine": "postgres",
        "name": "orders-db",
        "tier": "dev",
        "team": "payments",
        "plan": "large",
        "ttl_hours": 24.0,
        "reason": "load tests",
    }


def test_a_blank_reason_reads_as_none() -> None:
    view = modals.build_request_modal(choices("dev"))
    form, _ = modals.parse_request(_filled(view, reason="   "), max_ttl_hours=TIERS_MAX_TTL)

    assert form.reason is None


@pytest.mark.parametrize(
    ("text", "hours"),
    [("336", DEV_MAX_TTL), ("335.99", 335.99), ("0.01", 0.01), ("0" * (MAX_TEXT - 1) + "1", 1.0)],
)
def test_a_time_to_live_within_the_tiers_bounds_is_read(text: str, hours: float) -> None:
    view = modals.build_request_modal(choices("dev"))
    form, errors = modals.parse_request(_filled(view, ttl=text), max_ttl_hours=TIERS_MAX_TTL)

    assert (form.ttl_hours, errors) == (hours, {})


@pytest.mark.parametrize("text", [*BAD_TEXT, "", "   ", "0" * MAX_TEXT + "1", "336.01"])
def test_a_time_to_live_that_is_no_usable_number_is_refused_with_the_bounds(text: str) -> None:
    view = modals.build_request_modal(choices("dev"))
    form, errors = modals.parse_request(_filled(view, ttl=text), max_ttl_hours=TIERS_MAX_TTL)

    assert form.ttl_hours is None
    assert errors == {"ttl": "Time to live: give a number of hours above 0 and at most 336."}


def test_a_time_to_live_is_ignored_for_a_tier_whose_resources_do_not_expire() -> None:
    view = modals.build_request_modal(choices("dev"))
    typed = submitted(
        view, {BlockId.TIER: {ActionId.TIER: "prod"}, BlockId.TTL: {ActionId.TTL: "nan"}}
    )

    form, errors = modals.parse_request(typed, max_ttl_hours=TIERS_MAX_TTL)

    assert (form.tier, form.ttl_hours, errors) == ("prod", None, {})


def test_an_empty_submission_reads_as_empty_fields() -> None:
    form, errors = modals.parse_request({}, max_ttl_hours=TIERS_MAX_TTL)

    assert (form.engine, form.name, form.tier, form.team, form.plan) == ("", "", "", "", "")
    assert (form.ttl_hours, form.reason, errors) == (None, None, {})


def test_the_partial_form_round_trips_through_a_rebuild() -> None:
    view = modals.build_request_modal(choices("dev"), plan="large")
    typed = _filled(view, name="orders-db", ttl="48", reason="load tests")

    entered = modals.parse_partial(typed)

    assert entered == {
        "engine": "postgres",
        "tier": "dev",
        "team": "payments",
        "name": "orders-db",
        "plan": "large",
        "ttl": "48",
        "reason": "load tests",
    }
    rebuilt = modals.build_request_modal(
        choices("dev"),
        name=entered["name"],
        plan=entered["plan"],
        ttl=entered["ttl"],
        reason=entered["reason"],
    )
    assert modals.parse_partial(submitted(rebuilt)) == entered


def test_a_form_with_a_plan_note_reads_an_empty_plan() -> None:
    view = modals.build_request_modal(choices("prod", plans=[]))

    assert modals.parse_partial(submitted(view))["plan"] == ""


# -- field errors -----------------------------------------------------------------------------


def test_field_errors_land_on_their_inputs() -> None:
    view = modals.build_request_modal(choices("dev"))

    errors = modals.field_errors({"name": "Taken.", "ttl": "Too long.", "team": "Not yours."}, view)

    assert errors == {"name": "Taken.", "ttl": "Too long.", "team": "Not yours."}


@pytest.mark.parametrize("length", [ERROR_LIMIT, ERROR_LIMIT + 1, 2000])
def test_a_field_error_is_cut_to_what_slack_shows(length: int) -> None:
    view = modals.build_drop_modal(resource())
    message = "e" * length

    errors = modals.field_errors({"confirm_name": message}, view)

    assert errors == {BlockId.CONFIRM_NAME: message[:ERROR_LIMIT]}


def test_an_error_for_a_field_the_form_lacks_goes_to_its_first_input() -> None:
    # The tier was changed to one that expires and the form submitted before it was rebuilt:
    # there is no time-to-live input, and the plan is a note (not an input) for this engine.
    view = modals.build_request_modal(choices("dev", plans=[], max_ttl_hours=None))

    errors = modals.field_errors({"ttl": "Give a time to live."}, view)

    assert errors == {BlockId.ENGINE: "Give a time to live."}


def test_errors_for_missing_fields_go_to_the_first_input_whatever_the_block_ids() -> None:
    # Slack only shows errors under input blocks; the choice must not depend on set order.
    for offset in range(10):
        ids = [f"input-{offset}-{n}" for n in range(20)]
        blocks = [{"type": "section", "block_id": f"note-{offset}"}]
        blocks += [{"type": "input", "block_id": block_id} for block_id in ids]

        errors = modals.field_errors({"ttl": "Give a time to live."}, {"blocks": blocks})

        assert errors == {ids[0]: "Give a time to live."}


def test_two_errors_for_one_input_show_the_first() -> None:
    view = modals.build_request_modal(choices("prod", plans=[]))

    errors = modals.field_errors({"name": "Taken.", "ttl": "Give one.", "plan": "Pick one."}, view)

    assert errors == {BlockId.NAME: "Taken.", BlockId.ENGINE: "Give one."}
    assert modals.field_errors({}, view) == {}
