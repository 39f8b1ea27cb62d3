"""Crashes and races: a create killed with kill -9 is resumed or rolled back, and two creates
of one name at the same moment make one environment."""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from bot.emulator.state import View
from tests.commands.environments.conftest import EnvBot, env_config
from tests.commands.environments.driving import (
    BOB,
    CAROL,
    create,
    environments,
    fill,
    open_form,
    plan_view,
    resource_rows,
    told,
)
from tests.commands.new_db.conftest import fake_provisioners
from tests.concurrency import together
from tests.harness import BotHarness, features_with, running_bot
from tests.workers import kill_once_reached

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("attempts", [3, 1])
def test_a_create_killed_mid_step_is_resumed_or_rolled_back_and_the_requester_is_told(
    tmp_path: Path, migrated_schema: Path, attempts: int
) -> None:
    """With attempts left another runner carries on from the checkpoints; without, the
    environment is rolled back."""
    provisioners = fake_provisioners(tmp_path)
    # No background runner here: the job must be claimed by the process we kill.
    with running_bot(
        tmp_path,
        config=env_config(tmp_path, create_attempts=attempts),
        schema=migrated_schema,
        features=features_with(provisioners=provisioners),
        background=False,
    ) as bot:
        env = EnvBot(bot, provisioners)
        create(env, BOB, "env create sandbox survivor", tier="dev")
        _kill_a_worker_inside_create_user(bot, tmp_path)
        (created,) = environments(env)
        assert created.status == "creating"
        assert [r.state for r in resource_rows(env, created.id)] == ["owned"]
        time.sleep(1.2)  # the killed worker's one-second lease runs out
        assert bot.services.runner.run_once()
        sqlite = provisioners["sqlite"].state()
        (ended,) = environments(env)
        if attempts > 1:
            assert ended.status == "ready"
            assert sqlite["calls"].count("create_user") == 2  # the interrupted step again
            assert "survivor-db" in sqlite["resources"]
            assert told(env, BOB, "Resuming where the last attempt stopped.")
            assert told(env, BOB, "Reveal credentials")
        else:
            assert ended.status == "failed" and ended.live_name is None
            assert sqlite["resources"] == {} and sqlite["users"] == {}
            assert told(env, BOB, "was not created: failed: gave up after 1 attempt(s)")
            assert told(env, BOB, "Everything it had created was removed.")


def _kill_a_worker_inside_create_user(bot: BotHarness, tmp_path: Path) -> None:
    """Run the job in another process and SIGKILL it once it is inside `create_user`."""
    args = [f"sqlite:///{tmp_path / 'bot.db'}", bot.emulator.api_url, bot.emulator.bot_token]
    kill_once_reached(
        "tests.commands.environments.create_worker",
        [*args, str(tmp_path)],
        tmp_path / "sqlite.reached",
    )


def test_two_creates_of_one_name_at_once_make_one_environment_and_the_other_is_told(
    envbot: EnvBot,
) -> None:
    plans: dict[str, View] = {}
    for user in (BOB, CAROL):  # both of Payments
        view = open_form(envbot, user, "env create sandbox contested")
        fill(envbot, user, view, tier="dev")
        plans[user] = plan_view(envbot, user, view.id)

    def confirm(user: str) -> str:
        return envbot.bot.signer.view_submission(user, plans[user].id).body

    bodies = together(*(functools.partial(confirm, user) for user in plans))
    answers = dict(zip(plans, bodies, strict=True))
    won = [user for user, body in answers.items() if "Environment requested" in body]
    lost = [user for user, body in answers.items() if "Not created" in body]
    assert len(won) == 1 and len(lost) == 1, answers
    assert "taken" in answers[lost[0]]
    assert [(e.name, e.requested_by) for e in environments(envbot)] == [("contested", won[0])]
