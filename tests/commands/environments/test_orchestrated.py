"""Environments made by the platform's orchestrator, through the emulator, against fakes of
the products held to their official specs: plan → Confirm → progress → ready → destroy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.config import PlatformConfig
from commands.environments.config import TemplateConfig
from tests.commands.environments.conftest import EnvBot, env_config
from tests.commands.environments.driving import (
    BOB,
    create,
    destroy,
    dm_texts,
    env_named,
    reveal,
    text_of,
    told,
    wait_status,
)
from tests.commands.new_db.conftest import fake_provisioners
from tests.conftest import REPO_ROOT
from tests.harness import features_with, running_bot
from tests.integrations.openapi_contract import Contract, spec_path
from tests.integrations.orchestrators.fake_humanitec import FakeHumanitec

HUMANITEC_TOKEN = "hum-e2e-token-51c0"


def with_template(config: PlatformConfig, key: str, template: dict[str, Any]) -> PlatformConfig:
    section = config.environments
    templates = {**section.templates, key: TemplateConfig.model_validate(template)}
    return config.model_copy(
        update={"environments": section.model_copy(update={"templates": templates})}
    )


def running(tmp_path: Path, schema: Path, config: PlatformConfig) -> Any:
    return running_bot(
        tmp_path,
        config=config,
        config_path=REPO_ROOT / "platform.example.yaml",
        schema=schema,
        features=features_with(provisioners=fake_provisioners(tmp_path)),
    )


@pytest.fixture
def humanitec() -> Iterator[FakeHumanitec]:
    fake = FakeHumanitec(
        Contract(spec_path("humanitec", "platform-orchestrator-openapi.json")),
        token=HUMANITEC_TOKEN,
    )
    fake.server.start()
    yield fake
    fake.server.stop()
    assert fake.server.violations == []


def test_a_humanitec_environment_is_planned_deployed_handed_over_and_deleted(
    tmp_path: Path, migrated_schema: Path, humanitec: FakeHumanitec
) -> None:
    config = with_template(
        env_config(tmp_path),
        "hum-preview",
        {
            "description": "The orders API deployed by Humanitec",
            "driver": "humanitec",
            "tiers": ["dev"],
            "score": str(REPO_ROOT / "examples/score/orders-api.score.yaml"),
            "humanitec": {
                "api_url": humanitec.server.url,
                "org": "acme",
                "app": "orders",
                "base_env": "development",
                "env_types": {"dev": "development"},
                "token": HUMANITEC_TOKEN,
                "waiting": {"poll_seconds": 0.05, "timeout_minutes": 1},
            },
        },
    )
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        humanitec.resource_secrets = True  # secrets the API hands out come only to the Reveal
        plan = text_of(create(bot, BOB, "env create hum-preview orders-pr-7", tier="dev"))
        assert "Environment orders-pr-7 of type development, cloned from development" in plan
        env = wait_status(bot, "orders-pr-7", "ready")
        assert "orders-pr-7" in humanitec.envs
        assert told(bot, BOB, "succeeded")  # the deployment's progress in the thread
        assert told(bot, BOB, "Reveal credentials")
        card = [t for t in dm_texts(bot, BOB) if "Reveal credentials" in t][-1]
        assert "`db.type` = `postgres`" in card  # the active resources, on the card
        assert reveal(bot, BOB, env.id) == {
            "cache.password": "s3cr3t-pw",
            "db.password": "s3cr3t-pw",
        }
        assert HUMANITEC_TOKEN not in "".join(dm_texts(bot, BOB))
        destroy(bot, BOB, "orders-pr-7")
        wait_status(bot, "orders-pr-7", "destroyed")
        assert "orders-pr-7" not in humanitec.envs
        assert env_named(bot, "orders-pr-7").live_name is None
