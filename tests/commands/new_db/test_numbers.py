"""Hours typed by people (time to live, extend by) are finite and inside their bounds.

`nan` compares false with everything, so `ttl <= 0 or ttl > max` lets it through; it is
refused by name here, on both app database backends where a value reaches the database, and
as text through the modals.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest

from bot.core.db import utcnow
from bot.core.errors import InvalidInput
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.models import DbResource
from commands.resources.forms import FormInvalid
from commands.resources.hours import parse_hours
from tests.commands.new_db.conftest import DbBot
from tests.commands.new_db.driving import BOB, dm_texts, open_modal, request, resources, submit
from tests.commands.new_db.driving import wait_status as wait_for_status
from tests.commands.new_db.harness import BOB as BOB_PRINCIPAL
from tests.commands.new_db.harness import Harness, form

STAGING_MAX = 720.0  # staging's max_ttl_hours in the example config
OUT_OF_BOUNDS = [0.0, -1.0, math.nan, math.inf, -math.inf, STAGING_MAX + 0.001, float("1e309")]


@pytest.mark.parametrize("hours", OUT_OF_BOUNDS, ids=repr)
def test_a_time_to_live_out_of_bounds_is_refused_by_name(harness: Harness, hours: float) -> None:
    with pytest.raises(FormInvalid) as invalid:
        harness.feature.service.submit(
            BOB_PRINCIPAL, form("bounded", ttl_hours=hours), idempotency_key="k"
        )
    assert "Time to live" in invalid.value.errors["ttl"]
    assert f"{STAGING_MAX:g}" in invalid.value.errors["ttl"]
    assert harness.count(DbResource) == 0


def test_the_maximum_time_to_live_is_stored_and_applied(harness: Harness) -> None:
    service = harness.feature.service
    submitted = service.submit(
        BOB_PRINCIPAL, form("longest", ttl_hours=STAGING_MAX), idempotency_key="k"
    )
    assert harness.run_jobs() == 2  # provisioning, then the hand-off DM
    resource = service.resource(submitted.request.resource.id)
    assert resource.status == "active" and resource.expires_at is not None
    left = resource.expires_at - utcnow()
    assert timedelta(hours=STAGING_MAX - 1) < left <= timedelta(hours=STAGING_MAX)


def _active(harness: Harness) -> str:
    submitted = harness.feature.service.submit(
        BOB_PRINCIPAL, form("extended", ttl_hours=48), idempotency_key="k"
    )
    harness.run_jobs()
    return submitted.request.resource.id


@pytest.mark.parametrize("hours", OUT_OF_BOUNDS, ids=repr)
def test_extending_out_of_bounds_is_refused_and_changes_nothing(
    harness: Harness, hours: float
) -> None:
    resource_id = _active(harness)
    before = harness.feature.service.resource(resource_id).expires_at
    with pytest.raises(InvalidInput) as refused:
        harness.feature.lifecycle.extend(BOB_PRINCIPAL, resource_id, hours=hours)
    assert "Extend by" in refused.value.message and "720" in refused.value.message
    assert harness.feature.service.resource(resource_id).expires_at == before


def test_extending_by_the_maximum_is_capped_at_the_maximum_from_now(harness: Harness) -> None:
    resource_id = _active(harness)
    extended = harness.feature.lifecycle.extend(BOB_PRINCIPAL, resource_id, hours=STAGING_MAX)
    assert extended.expires_at is not None
    left = extended.expires_at - utcnow()
    assert timedelta(hours=STAGING_MAX - 1) < left <= timedelta(hours=STAGING_MAX)


# Slack itself refuses to submit an empty required field; empty text is tested below.
BAD_TEXT = ["nan", "NaN", "inf", "-inf", "Infinity", "1e309", "9" * 400, "0", "-5", "337"]
BAD_TEXT += ["336.001", "soon", "1_0", "0x10", "12" * 20]


@pytest.mark.parametrize("text", [*BAD_TEXT, "", "   "])
def test_hours_text_outside_the_bounds_names_the_field(text: str) -> None:
    assert parse_hours(text, field="Time to live", maximum=336) == (
        None,
        "Time to live: give a number of hours above 0 and at most 336.",
    )


@pytest.mark.parametrize(("text", "hours"), [("336", 336.0), (" 0.5 ", 0.5), ("1", 1.0)])
def test_hours_text_inside_the_bounds_is_read(text: str, hours: float) -> None:
    assert parse_hours(text, field="Time to live", maximum=336) == (hours, None)


def test_a_missing_time_to_live_is_refused_by_name(harness: Harness) -> None:
    with pytest.raises(FormInvalid) as invalid:
        harness.feature.service.submit(
            BOB_PRINCIPAL, form("unbounded", ttl_hours=None), idempotency_key="k"
        )
    assert "Time to live" in invalid.value.errors["ttl"]


def test_the_time_to_live_field_refuses_every_bad_number(dbbot: DbBot) -> None:
    view = open_modal(dbbot, BOB, "new-db sqlite typed-ttl --env dev")
    for text in BAD_TEXT:
        answer = submit(dbbot, BOB, view, ttl=text)
        assert answer.json["response_action"] == "errors", text
        error = answer.json["errors"]["ttl"]
        assert "Time to live" in error and "336" in error, (text, error)
    assert resources(dbbot) == []
    assert submit(dbbot, BOB, view, ttl="336").body == ""  # the maximum itself
    resource = wait_for_status(dbbot, "active")
    assert resource.expires_at is not None
    assert timedelta(hours=335) < resource.expires_at - utcnow() <= timedelta(hours=336)


def test_the_extend_field_refuses_every_bad_number_and_shows_the_new_expiry(
    dbbot: DbBot,
) -> None:
    request(dbbot, BOB, "new-db sqlite typed-extend --env dev", ttl="1")
    resource = wait_for_status(dbbot, "active")
    state = dbbot.bot.emulator.state
    next(t for t in dbbot.services.tasks if t.id == "new-db-sweep").func()  # warns: 1 h left
    channel = state.dm_channel(BOB)
    assert channel is not None
    warning = next(m for m in state.messages(channel) if "Drop now" in json.dumps(m.blocks))
    dbbot.bot.signer.block_action(
        BOB, action_id=ActionId.EXTEND, value=resource.id, message=(channel, warning.ts)
    )
    assert dbbot.bot.emulator.wait_for(lambda: bool(state.modal_stack(BOB)))
    extend = state.modal_stack(BOB)[-1]
    for text in BAD_TEXT:
        hours = {BlockId.EXTEND_HOURS: {ActionId.EXTEND_HOURS: text}}
        answer = dbbot.bot.signer.view_submission(BOB, extend.id, hours)
        error = answer.json["errors"]["extend_hours"]
        assert "Extend by" in error and "336" in error, (text, error)
    assert resources(dbbot)[0].expires_at == resource.expires_at
    hours = {BlockId.EXTEND_HOURS: {ActionId.EXTEND_HOURS: "336"}}
    assert dbbot.bot.signer.view_submission(BOB, extend.id, hours).body == ""
    extended = resources(dbbot)[0].expires_at
    assert extended is not None and extended > resource.expires_at
    # The owner sees the new expiry; the extend does not close silently.
    stamp = f"<!date^{int(extended.timestamp())}^"
    assert dbbot.bot.emulator.wait_for(
        lambda: any(stamp in t and "typed-extend" in t for t in dm_texts(dbbot, BOB))
    )
