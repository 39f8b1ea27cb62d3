"""Create through the emulator: form → plan → Confirm → ready, the card and the reveal."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.core.audit import AuditRecord
from commands.environments.ids import ActionId
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import (
    BOB,
    CAROL,
    DAVE,
    create,
    dm_texts,
    env_named,
    environments,
    ephemeral,
    fill,
    open_form,
    plan_view,
    resource_rows,
    text_of,
    told,
    wait_status,
)


def test_the_plan_names_what_will_be_made_and_nothing_exists_before_confirm(envbot: EnvBot) -> None:
    view = open_form(envbot, BOB, "env create preview pr-42")
    fill(envbot, BOB, view, tier="dev")
    plan = text_of(plan_view(envbot, BOB, view.id))
    for line in ("PostgreSQL `pr-42-db` (small)", "Redis `pr-42-cache`", "RabbitMQ `pr-42-queue`"):
        assert line in plan
    assert "Allowed: no approval needed." in plan
    assert "9 left after this one" in plan  # the example quota: 10 dev environments a team
    # PostgreSQL small 15 + Redis small 8; the example's RabbitMQ plans have no price.
    assert "23.00 USD a month, without RabbitMQ small (no price in the config)" in plan
    assert "Expires" in plan
    assert all(p.state()["resources"] == {} for p in envbot.provisioners.values())
    assert environments(envbot) == []


def test_confirm_creates_every_resource_and_the_requester_gets_the_card_and_a_reveal(
    envbot: EnvBot,
) -> None:
    create(envbot, BOB, "env create preview pr-7", tier="dev", reason="try the new checkout")
    env = wait_status(envbot, "pr-7", "ready")
    assert {r.state for r in resource_rows(envbot, env.id)} == {"ready"}
    # The request's record names what made it, for the time to provision per driver.
    with envbot.services.sessions() as session:
        requested = session.scalars(
            select(AuditRecord.inputs).where(
                AuditRecord.action == "env.create",
                AuditRecord.outcome == "requested",
                AuditRecord.target == "env:pr-7",
            )
        ).one()
    assert (requested["template"], requested["driver"]) == ("preview", "local")
    for engine, name in (
        ("postgres", "pr-7-db"),
        ("redis", "pr-7-cache"),
        ("rabbitmq", "pr-7-queue"),
    ):
        assert name in envbot.provisioners[engine].state()["resources"]
    assert told(envbot, BOB, "Reveal credentials")
    card = [t for t in dm_texts(envbot, BOB) if "Reveal credentials" in t][-1]
    assert "try the new checkout" in card and "Payments" in card
    assert "fake://" not in "".join(dm_texts(envbot, BOB))  # no secret in any DM
    message = [
        m for m in envbot.bot.dm_messages(BOB) if "Reveal credentials" in json.dumps(m.blocks)
    ][-1]
    envbot.bot.signer.block_action(
        BOB, action_id=ActionId.REVEAL, value=env.id, message=(message.channel, message.ts)
    )
    state = envbot.bot.emulator.state
    assert envbot.bot.emulator.wait_for(
        lambda: "fake://" in json.dumps(state.modal_stack(BOB)[-1].spec)
    )
    shown = json.dumps(state.modal_stack(BOB)[-1].spec)
    assert "db.url" in shown and "cache.password" in shown
    assert env_named(envbot, "pr-7").sealed is None


def test_list_and_show_are_for_the_requester_and_the_owning_team_only(envbot: EnvBot) -> None:
    create(envbot, BOB, "env create sandbox mine", tier="dev")
    wait_status(envbot, "mine", "ready")
    assert "`mine`" in ephemeral(envbot, BOB, "env list")
    assert "`mine`" in ephemeral(envbot, CAROL, "env list")  # same team
    assert "no environments" in ephemeral(envbot, DAVE, "env list")
    assert "SQLite `mine-db` (small): ready" in ephemeral(envbot, CAROL, "env show mine")
    assert "You have no environment called `mine`" in ephemeral(envbot, DAVE, "env show mine")
    assert "You have no environment called `nope`" in ephemeral(envbot, DAVE, "env show nope")


def test_hostile_text_typed_anywhere_is_shown_as_text(envbot: EnvBot) -> None:
    from tests.hostile import HOSTILE_TEXT, raw_markup_shown

    envbot.bot.signer.slash_command(BOB, f"env {HOSTILE_TEXT}")
    envbot.bot.signer.slash_command(BOB, f"env show {HOSTILE_TEXT}")
    envbot.bot.signer.slash_command(BOB, f"env clone {HOSTILE_TEXT} x")
    create(envbot, BOB, "env create sandbox loud", tier="dev", reason=HOSTILE_TEXT)
    wait_status(envbot, "loud", "ready")
    assert told(envbot, BOB, "Reveal credentials")
    assert "no environment called" in ephemeral(envbot, BOB, f"env show {HOSTILE_TEXT}")
    assert raw_markup_shown(envbot.bot.emulator) == []
