"""Environments on the App Home: approving and cancelling a prod environment from the tab."""

from __future__ import annotations

import copy
import json

from commands.environments.ids import ActionId as EnvAction
from commands.home.ids import ActionId as HomeAction
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import (
    ALICE,
    BOB,
    CAROL,
    create,
    env_named,
    told,
    wait_status,
)
from tests.commands.home.driving import click_home, home_drops, home_shows, open_home

APPROVALS = "C0APPROVALS"


def test_approve_then_cancel_a_prod_environment_from_the_app_home(envhome: EnvBot) -> None:
    create(envhome, BOB, "env create release ledger", tier="prod", reason="ledger launch")
    env = wait_status(envhome, "ledger", "pending_approval")
    emulator = envhome.bot.emulator
    assert emulator.wait_for(lambda: bool(emulator.state.messages(APPROVALS)))
    card = copy.deepcopy(emulator.state.messages(APPROVALS)[-1])

    bob = open_home(envhome, BOB)
    assert "create environment ledger (release, prod)" in json.dumps(bob.spec)
    assert f"`{env.id[:8]}`" in json.dumps(bob.spec)
    carol = open_home(envhome, CAROL)
    assert "<@U0BOB> asks to create environment ledger" in json.dumps(carol.spec)
    click_home(envhome, CAROL, EnvAction.APPROVE, env.id)
    assert home_shows(envhome, BOB, "1 of 2 approvals")
    assert home_shows(envhome, CAROL, "Nothing is waiting for you.")

    click_home(envhome, BOB, HomeAction.CANCEL, env.id)
    assert emulator.wait_for(
        lambda: "nothing was created" in json.dumps(emulator.state.messages(APPROVALS)[-1].blocks)
    )
    assert EnvAction.APPROVE not in json.dumps(emulator.state.messages(APPROVALS)[-1].blocks)
    cancelled = env_named(envhome, "ledger")
    assert (cancelled.status, cancelled.live_name) == ("cancelled", None)
    assert home_drops(envhome, BOB, env.id[:8])
    # Alice, with the card as it was: nothing is created.
    envhome.bot.signer.block_action(
        ALICE,
        action_id=EnvAction.APPROVE,
        value=env.id,
        message=(card.channel, card.ts),
        shown_blocks=card.blocks,
    )
    assert told(envhome, ALICE, "already cancelled")
    assert envhome.provisioners["postgres"].state()["resources"] == {}
