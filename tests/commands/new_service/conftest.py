"""The new-service feature on the real app, driven through the emulator, with its
repositories and the catalog it adds to in the test's own directory."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.emulator.state import View
from bot.runtime.config import PlatformConfig
from commands.new_service.ids import ActionId, BlockId, CallbackId
from tests.commands.environments.conftest import env_config
from tests.commands.new_db.conftest import fake_provisioners
from tests.conftest import REPO_ROOT
from tests.harness import BotHarness, features_with, running_bot

BOB = "U0BOB"  # payments
DAVE = "U0DAVE"  # search
ConfigChange = Callable[[PlatformConfig, Path], PlatformConfig]


@dataclass
class SvcBot:
    bot: BotHarness
    repositories: Path
    catalog: Path

    def open_form(self, user: str = BOB, text: str = "new-service python-service") -> View:
        state = self.bot.emulator.state
        state.clear_views(user)
        response = self.bot.signer.slash_command(user, text)
        assert response.status == 200, response.body
        assert self.bot.emulator.wait_for(lambda: bool(state.modal_stack(user))), response.body
        view = state.modal_stack(user)[-1]
        assert view.spec.get("callback_id") == CallbackId.FORM, view.spec
        return view

    def top(self, user: str = BOB) -> View:
        return self.bot.emulator.state.modal_stack(user)[-1]

    def submit(self, view: View, user: str = BOB, **fields: str) -> Any:
        """Submit with `fields`: name, owner (picked), or a question's key (typed or picked)."""
        values: dict[str, dict[str, Any]] = {}
        for key, value in fields.items():
            block = (
                key if key in (BlockId.NAME, BlockId.OWNER) else f"{BlockId.QUESTION_PREFIX}{key}"
            )
            action = next(
                b["element"]["action_id"] for b in view.spec["blocks"] if b.get("block_id") == block
            )
            values[block] = {action: value}
        return self.bot.signer.view_submission(user, view.id, values)

    def pick(self, view: View, key: str, value: str, user: str = BOB) -> View:
        """Pick option `value` of question `key`; the form as rebuilt."""
        before = json.dumps(view.spec)
        self.bot.signer.block_action(
            user,
            action_id=ActionId.CHOICE,
            value=value,
            view_id=view.id,
            block_id=f"{BlockId.QUESTION_PREFIX}{key}",
        )
        assert self.bot.emulator.wait_for(lambda: json.dumps(self.top(user).spec) != before)
        return self.top(user)

    def dm_text(self, user: str = BOB) -> str:
        return "\n".join(m.text + json.dumps(m.blocks) for m in self.bot.dm_messages(user))

    def told(self, text: str, user: str = BOB, timeout: float = 60) -> bool:
        return self.bot.emulator.wait_for(lambda: text in self.dm_text(user), timeout=timeout)


def service_config(tmp_path: Path, **services: Any) -> PlatformConfig:
    """The example config; the catalog a copy in `tmp_path`, repositories under it too."""
    config = env_config(tmp_path)
    catalog = tmp_path / "catalog"
    shutil.copytree(REPO_ROOT / "examples" / "catalog", catalog, dirs_exist_ok=True)
    shutil.rmtree(catalog / "scaffolded", ignore_errors=True)
    files = config.catalog.files.model_copy(update={"path": catalog})
    section = config.services
    update = {
        "repositories": section.repositories.model_copy(update={"root": tmp_path / "repos"}),
        "catalog_dir": catalog / "scaffolded",
        **services,
    }
    return config.model_copy(
        update={
            "catalog": config.catalog.model_copy(update={"files": files}),
            "services": section.model_copy(update=update),
        }
    )


@pytest.fixture
def svcbot(
    tmp_path: Path, migrated_schema: Path, request: pytest.FixtureRequest
) -> Iterator[SvcBot]:
    change: ConfigChange | None = getattr(request, "param", None)
    config = service_config(tmp_path)
    if change is not None:
        config = change(config, tmp_path)
    with running_bot(
        tmp_path,
        config=config,
        schema=migrated_schema,
        features=features_with(provisioners=fake_provisioners(tmp_path)),
    ) as running:
        assert running.services.feature("lookup").ready.wait(20), "the catalog did not load"
        yield SvcBot(running, tmp_path / "repos", tmp_path / "catalog")
