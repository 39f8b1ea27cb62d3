"""kill -9 in the middle of provisioning: another runner finishes the job and tells the user."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from commands.new_db.models import DbResource
from tests.commands.new_db.conftest import example_config, fake_provisioners
from tests.harness import BotHarness, features_with, running_bot
from tests.workers import kill_once_reached


@pytest.mark.slow
@pytest.mark.parametrize("attempts", [3, 1])
def test_a_killed_provisioning_finishes_or_rolls_back_and_the_requester_is_told(
    tmp_path: Path, attempts: int
) -> None:
    """With attempts left the job resumes after its checkpoint; without, it rolls back."""
    database_url = f"sqlite:///{tmp_path / 'bot.db'}"
    provisioners = fake_provisioners(tmp_path)
    # No background runner here: the job must be claimed by the process we kill.
    with running_bot(
        tmp_path,
        config=example_config(tmp_path, provision_attempts=attempts),
        features=features_with(provisioners=provisioners),
        background=False,
    ) as bot:
        bot.signer.slash_command("U0BOB", "new-db sqlite survivor --env dev")
        assert bot.emulator.wait_for(lambda: bool(bot.emulator.state.modal_stack("U0BOB")))
        view = bot.emulator.state.modal_stack("U0BOB")[-1]
        assert bot.signer.view_submission("U0BOB", view.id).body == ""
        _kill_a_worker_inside_create_user(bot, database_url, tmp_path)
        with bot.services.sessions() as session:
            assert session.scalars(select(DbResource.status)).one() == "provisioning"
        time.sleep(1.2)  # the killed worker's one-second lease runs out
        assert bot.services.runner.run_once()
        bot.services.runner.run_once()  # the hand-off DM, queued when provisioning finished
        channel = bot.emulator.state.dm_channel("U0BOB")
        assert channel is not None
        texts = [m.text + json.dumps(m.blocks) for m in bot.emulator.state.messages(channel)]
        calls = provisioners["sqlite"].state()["calls"]
        assert calls.count("create_resource") == 1  # resumed after the checkpoint, not redone
        with bot.services.sessions() as session:
            status = session.scalars(select(DbResource.status)).one()
        if attempts > 1:
            assert status == "active"
            assert calls.count("create_user") == 2  # the interrupted step runs again
            assert any("Reveal credentials" in t for t in texts)
            assert any(": ready" in t for t in texts)
        else:
            assert status == "failed"
            assert provisioners["sqlite"].state()["resources"] == {}
            assert any("failed while creating user" in t and "removed" in t for t in texts)


def _kill_a_worker_inside_create_user(bot: BotHarness, database_url: str, tmp_path: Path) -> None:
    """Run the job in another process and SIGKILL it once it is inside `create_user`."""
    args = [
        database_url,
        bot.emulator.api_url,
        bot.emulator.bot_token,
        str(tmp_path / "sqlite.json"),
        str(tmp_path / "data"),
    ]
    kill_once_reached("tests.commands.new_db.provision_worker", args, tmp_path / "sqlite.reached")
