"""With a secrets manager, an environment's credentials go to its KV path and the requester
gets a one-time wrapped token; destroying the environment deletes them there."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from commands.resources.config import VaultConfig
from tests.commands.environments.conftest import EnvBot, env_config
from tests.commands.environments.driving import (
    BOB,
    create,
    destroy,
    dm_texts,
    env_named,
    told,
    wait_status,
)
from tests.harness import running_bot
from tests.integrations.test_vault import TOKEN as VAULT_TOKEN
from tests.integrations.test_vault import openbao  # noqa: F401 (a fixture)


@pytest.mark.slow
def test_credentials_go_to_the_secrets_manager_and_leave_it_with_the_environment(
    tmp_path: Path,
    migrated_schema: Path,
    openbao: str,  # noqa: F811 (the imported fixture)
) -> None:
    config = env_config(tmp_path)
    vault = VaultConfig(address=openbao, token=SecretStr(VAULT_TOKEN))
    sqlite = config.databases.engines["sqlite"].model_copy(update={"data_dir": tmp_path / "sq"})
    databases = config.databases.model_copy(
        update={"vault": vault, "engines": {**config.databases.engines, "sqlite": sqlite}}
    )
    config = config.model_copy(update={"databases": databases})
    with running_bot(tmp_path, config=config, schema=migrated_schema) as running:
        bot = EnvBot(running, {})
        create(bot, BOB, "env create sandbox vaulted", tier="dev")
        wait_status(bot, "vaulted", "ready")
        assert env_named(bot, "vaulted").sealed is None  # nothing kept in the app database
        assert bot.bot.emulator.wait_for(lambda: any("unwrap" in t for t in dm_texts(bot, BOB)))
        delivery = next(t for t in dm_texts(bot, BOB) if "unwrap" in t)
        assert "platform/payments/environment/vaulted" in delivery
        assert "Reveal credentials" not in "".join(dm_texts(bot, BOB))
        token = re.findall(r"unwrap (\S+?)(?:`|\\n|\s)", delivery)[0]
        with httpx.Client(base_url=openbao, timeout=5) as http:
            unwrapped = http.post("/v1/sys/wrapping/unwrap", headers={"X-Vault-Token": token})
            assert unwrapped.status_code == 200, unwrapped.text
            assert "db.url" in unwrapped.json()["data"]["data"]
            destroy(bot, BOB, "vaulted")
            wait_status(bot, "vaulted", "destroyed")
            path = "/v1/secret/metadata/platform/payments/environment/vaulted"
            assert http.get(path, headers={"X-Vault-Token": VAULT_TOKEN}).status_code == 404
        assert told(bot, BOB, "its credentials in the secrets manager")  # in the receipt
