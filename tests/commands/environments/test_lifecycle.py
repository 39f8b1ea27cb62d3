"""After Confirm: failures roll back, destroy leaves nothing, clone copies, extend is capped,
the sweep warns once per threshold and destroys at expiry, credentials are re-issued."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.db import utcnow
from bot.core.errors import Conflict, NotAllowed
from commands.environments.ids import ActionId, BlockId
from commands.environments.models import Environment
from commands.resources.forms import FormInvalid
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    create,
    dm_texts,
    env_named,
    environments,
    resource_rows,
    told,
    top_view,
    wait_status,
)


def ready(envbot: EnvBot, name: str, template: str = "preview") -> Environment:
    create(envbot, BOB, f"env create {template} {name}", tier="dev")
    return wait_status(envbot, name, "ready")


def test_a_failing_resource_rolls_back_the_others_and_the_requester_is_told(
    envbot: EnvBot,
) -> None:
    envbot.provisioners["redis"].fail_at = "create_user"
    create(envbot, BOB, "env create preview broken", tier="dev")
    env = wait_status(envbot, "broken", "failed")
    assert env.live_name is None  # the name is free again
    for engine in ("postgres", "redis", "rabbitmq"):
        assert envbot.provisioners[engine].state()["resources"] == {}, engine
    assert told(envbot, BOB, "was not created")
    text = [t for t in dm_texts(envbot, BOB) if "was not created" in t][-1]
    assert "Redis `broken-cache`" in text and "creating its user" in text
    assert "Everything it had created was removed." in text


def test_a_same_named_resource_that_existed_before_is_never_touched(envbot: EnvBot) -> None:
    from integrations.provisioning_protocols import ResourceSpec

    envbot.provisioners["redis"].create_resource(ResourceSpec("redis", "theirs-cache"))
    create(envbot, BOB, "env create preview theirs", tier="dev")
    wait_status(envbot, "theirs", "failed")
    assert "theirs-cache" in envbot.provisioners["redis"].state()["resources"]
    assert envbot.provisioners["postgres"].state()["resources"] == {}


def _destroy(envbot: EnvBot, user: str, env: Environment, typed: str) -> object:
    principal = envbot.services.identity.principal(user)
    return envbot.api.lifecycle.destroy(principal, env.id, typed)


def test_destroy_asks_for_the_name_then_removes_everything_and_sends_a_receipt(
    envbot: EnvBot,
) -> None:
    env = ready(envbot, "gone")
    with pytest.raises(FormInvalid) as wrong:
        _destroy(envbot, BOB, env, "gone2")
    assert wrong.value.errors == {BlockId.CONFIRM_NAME: "Type gone to confirm."}
    _destroy(envbot, CAROL, env, " gone ")  # the owning team may; spaces around are fine
    destroyed = wait_status(envbot, "gone", "destroyed")
    assert destroyed.live_name is None and destroyed.destroyed_at is not None
    for engine in ("postgres", "redis", "rabbitmq"):
        assert envbot.provisioners[engine].state()["resources"] == {}
    assert {r.state for r in resource_rows(envbot, env.id)} == {"removed"}
    assert told(envbot, BOB, "is destroyed. It lived")
    receipt = [t for t in dm_texts(envbot, BOB) if "is destroyed" in t][-1]
    assert "PostgreSQL `gone-db`" in receipt and "cost about 0.00 USD" in receipt


def test_only_the_requester_and_the_owning_team_may_destroy(envbot: EnvBot) -> None:
    env = ready(envbot, "keep")
    with pytest.raises(NotAllowed):
        _destroy(envbot, DAVE, env, "keep")
    assert env_named(envbot, "keep").status == "ready"


def test_destroy_while_creating_runs_right_after_it(envbot: EnvBot, tmp_path: Path) -> None:
    gate = envbot.provisioners["postgres"]
    gate.block_at = "create_user"  # creating waits here until the file below appears
    gate.release_file = tmp_path / "go"
    create(envbot, BOB, "env create preview racing", tier="dev")
    env = wait_status(envbot, "racing", "creating")
    _destroy(envbot, BOB, env, "racing")
    assert env_named(envbot, "racing").destroy_requested_by == BOB
    gate.release_file.write_text("go")
    wait_status(envbot, "racing", "destroyed")
    assert envbot.provisioners["postgres"].state()["resources"] == {}


def test_clone_copies_each_resource_and_masks_the_copy(envbot: EnvBot) -> None:
    ready(envbot, "source")
    create(envbot, BOB, "env clone source copy", tier="dev")
    clone = wait_status(envbot, "copy", "ready")
    state = envbot.provisioners["postgres"].state()["resources"]
    assert state["copy-db"]["cloned_from"] == "source-db"
    assert "customers" in state["copy-db"]["masked"]  # the template's mask_sql ran on the copy
    assert "masked" not in state["source-db"]
    assert envbot.provisioners["redis"].state()["resources"]["copy-cache"]["cloned_from"]
    assert clone.clone_of == env_named(envbot, "source").id


def test_cloning_what_you_cannot_see_says_it_does_not_exist(envbot: EnvBot) -> None:
    ready(envbot, "private")
    response = envbot.bot.signer.slash_command(DAVE, "env clone private mine")
    assert response.status == 200
    assert told(envbot, DAVE, "You have no environment called `private`")


def test_extend_is_capped_by_the_tiers_maximum_from_now(envbot: EnvBot) -> None:
    env = ready(envbot, "longer")
    principal = envbot.services.identity.principal(BOB)
    with pytest.raises(FormInvalid):
        envbot.api.lifecycle.extend(principal, env.id, 24, "  ")
    with pytest.raises(FormInvalid):
        envbot.api.lifecycle.extend(principal, env.id, 336.5, "big demo")  # dev max 336 h
    extended = envbot.api.lifecycle.extend(principal, env.id, 336, "big demo")
    assert extended.expires_at is not None
    latest = utcnow() + timedelta(hours=336)
    assert abs((extended.expires_at - latest).total_seconds()) < 60
    snoozed = envbot.api.lifecycle.snooze(principal, env.id)
    assert snoozed.expires_at is not None and snoozed.expires_at <= latest + timedelta(minutes=1)


def _expire_in(envbot: EnvBot, env_id: str, hours: float) -> None:
    with envbot.services.sessions.begin() as session:
        row = session.get(Environment, env_id)
        assert row is not None
        row.expires_at = utcnow() + timedelta(hours=hours)


def test_the_sweep_warns_at_24_and_1_hours_once_each_then_destroys_at_expiry(
    envbot: EnvBot,
) -> None:
    env = ready(envbot, "timed")
    sweep = envbot.api.lifecycle.sweep
    _expire_in(envbot, env.id, 30)
    assert sweep().warned == 0
    _expire_in(envbot, env.id, 23)
    assert sweep().warned == 1
    assert sweep().warned == 0  # once per threshold
    _expire_in(envbot, env.id, 0.5)
    assert sweep().warned == 1
    warning = [
        m
        for m in envbot.bot.dm_messages(BOB)
        if "will be destroyed" in m.text + json.dumps(m.blocks)
    ]
    assert len(warning) == 2
    actions = {e["action_id"] for b in warning[-1].blocks for e in b.get("elements", [])}
    assert actions == {ActionId.EXTEND, ActionId.SNOOZE, ActionId.DESTROY_NOW}
    _expire_in(envbot, env.id, -0.01)
    assert sweep().expired == 1
    wait_status(envbot, "timed", "destroyed")


def test_snooze_from_the_warning_pushes_the_expiry_a_day(envbot: EnvBot) -> None:
    env = ready(envbot, "snoozy")
    _expire_in(envbot, env.id, 0.5)
    envbot.api.lifecycle.sweep()
    message = [
        m for m in envbot.bot.dm_messages(BOB) if "will be destroyed" in json.dumps(m.blocks)
    ][-1]
    envbot.bot.signer.block_action(
        BOB, action_id=ActionId.SNOOZE, value=env.id, message=(message.channel, message.ts)
    )
    assert told(envbot, BOB, "now expires")
    expires = env_named(envbot, "snoozy").expires_at
    assert expires is not None and expires > utcnow() + timedelta(hours=24)


def test_credentials_are_reissued_with_new_passwords_and_revealed_once(envbot: EnvBot) -> None:
    env = ready(envbot, "rotating")
    before = envbot.provisioners["postgres"].state()["users"]["rotating-db"]
    principal = envbot.services.identity.principal(BOB)
    envbot.api.lifecycle.reveal(principal, env.id)
    with pytest.raises(Conflict):
        envbot.api.lifecycle.reveal(principal, env.id)  # shown once
    envbot.bot.signer.slash_command(BOB, "env credentials rotating")
    assert envbot.bot.emulator.wait_for(
        lambda: envbot.provisioners["postgres"].state()["users"]["rotating-db"] != before
    )
    assert envbot.bot.emulator.wait_for(lambda: env_named(envbot, "rotating").sealed is not None)
    _, secrets = envbot.api.lifecycle.reveal(envbot.services.identity.principal(CAROL), env.id)
    assert set(secrets) >= {"db.url", "db.password", "cache.url", "queue.url"}


def test_prod_waits_for_two_approvals_and_nobody_approves_their_own(envbot: EnvBot) -> None:
    create(envbot, BOB, "env create release launch --tier prod", tier="prod", reason="launch day")
    env = wait_status(envbot, "launch", "pending_approval")
    approvals = envbot.api.approvals
    with pytest.raises(NotAllowed):
        approvals.approve(envbot.services.identity.principal(BOB), env.id)
    approvals.approve(envbot.services.identity.principal(CAROL), env.id)
    with pytest.raises(Conflict):
        approvals.approve(envbot.services.identity.principal(CAROL), env.id)
    assert env_named(envbot, "launch").status == "pending_approval"
    assert envbot.provisioners["postgres"].state()["resources"] == {}
    approvals.approve(envbot.services.identity.principal(ALICE), env.id)
    wait_status(envbot, "launch", "ready")
    assert told(envbot, BOB, "was approved")


def test_the_approval_card_is_posted_and_updated(envbot: EnvBot) -> None:
    create(envbot, BOB, "env create release card --tier prod", tier="prod", reason="launch")
    env = wait_status(envbot, "card", "pending_approval")
    state = envbot.bot.emulator.state
    assert envbot.bot.emulator.wait_for(lambda: bool(state.messages("C0APPROVALS")))
    card = state.messages("C0APPROVALS")[-1]
    assert "launch" in json.dumps(card.blocks) and "Needs 2 approval(s)" in json.dumps(card.blocks)
    envbot.bot.signer.block_action(
        CAROL, action_id=ActionId.DENY, value=env.id, message=(card.channel, card.ts)
    )
    wait_status(envbot, "card", "denied")
    assert envbot.bot.emulator.wait_for(
        lambda: "denied" in json.dumps(state.messages("C0APPROVALS")[-1].blocks)
    )
    assert told(envbot, BOB, "was denied")


def test_a_prod_destroy_is_done_by_an_approver(envbot: EnvBot) -> None:
    create(envbot, BOB, "env create release proddy --tier prod", tier="prod", reason="launch")
    env = wait_status(envbot, "proddy", "pending_approval")
    for approver in (CAROL, ALICE):
        envbot.api.approvals.approve(envbot.services.identity.principal(approver), env.id)
    wait_status(envbot, "proddy", "ready")
    with pytest.raises(NotAllowed) as refused:
        _destroy(envbot, BOB, env, "proddy")
    assert "needs approval" in refused.value.message
    _destroy(envbot, ALICE, env, "proddy")
    wait_status(envbot, "proddy", "destroyed")


def test_the_destroy_modal_shows_the_plan_and_asks_for_the_name(envbot: EnvBot) -> None:
    ready(envbot, "modal")
    envbot.bot.signer.slash_command(BOB, "env destroy modal")
    assert envbot.bot.emulator.wait_for(
        lambda: "Type modal to confirm" in json.dumps(top_view(envbot, BOB).spec)
    )
    view = top_view(envbot, BOB)
    assert "PostgreSQL `modal-db` and everything in it" in json.dumps(view.spec)
    envbot.bot.signer.view_submission(
        BOB, view.id, {BlockId.CONFIRM_NAME: {ActionId.FIELD: "modal"}}
    )
    wait_status(envbot, "modal", "destroyed")


def test_a_server_that_is_down_is_named_in_the_plan_before_confirm(envbot: EnvBot) -> None:
    from tests.commands.environments.driving import fill, open_form, plan_view, text_of

    envbot.provisioners["rabbitmq"].down = True
    view = open_form(envbot, BOB, "env create preview downhill")
    fill(envbot, BOB, view, tier="dev")
    shown = text_of(plan_view(envbot, BOB, view.id))
    assert "The plan failed" in shown and "RabbitMQ `downhill-queue`" in shown
    assert "connection refused" in shown
    assert "Confirm" not in shown


def test_a_confirm_sent_twice_makes_one_environment_and_says_so_both_times(envbot: EnvBot) -> None:
    from commands.environments.service.requests import FormValues

    principal = envbot.services.identity.principal(BOB)
    form = FormValues(template="sandbox", name="twice", tier="dev", team="payments")
    first = envbot.api.requests.confirm(principal, form, "env:V1")
    again = envbot.api.requests.confirm(principal, form, "env:V1")
    assert first.id == again.id
    assert [e.name for e in environments(envbot)] == ["twice"]


def test_a_destroy_that_failed_can_be_asked_for_again(envbot: EnvBot) -> None:
    env = ready(envbot, "stubborn")
    envbot.provisioners["redis"].fail_at = "drop"
    _destroy(envbot, BOB, env, "stubborn")
    failed = wait_status(envbot, "stubborn", "ready")
    assert told(envbot, BOB, "Destroying environment `stubborn` failed")
    assert failed.failure is not None and "stubborn-cache" in failed.failure
    # What could be removed is gone; what could not is still listed.
    assert envbot.provisioners["postgres"].state()["resources"] == {}
    assert "stubborn-cache" in envbot.provisioners["redis"].state()["resources"]
    envbot.provisioners["redis"].fail_at = None
    _destroy(envbot, BOB, env, "stubborn")
    wait_status(envbot, "stubborn", "destroyed")
    assert envbot.provisioners["redis"].state()["resources"] == {}
