"""`/platform new-db postgres …` with the engine routed to the cluster's Crossplane (driver
kubernetes), through the emulator against the fake API server: form → approval-free dev
request → the managed resource applied, followed until Ready → credentials from its
connection Secret → drop deletes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from commands.new_db.models import DbResource
from commands.resources.config import EngineConfig, EngineKind
from tests.commands.new_db.conftest import DbBot, example_config
from tests.commands.new_db.driving import BOB, dm_texts, request, wait_status
from tests.commands.new_db.test_real_servers import drop_db
from tests.harness import running_bot
from tests.integrations.openapi_contract import spec_path
from tests.integrations.orchestrators.conftest import (  # noqa: F401 (fixtures)
    DATABASE_CRD,
    MANAGED_TEMPLATE,
    NAMESPACE,
    database_crd,
    fake,
    kubeconfig,
)
from tests.integrations.orchestrators.fake_kubernetes import FakeKubernetes


def test_a_postgres_request_is_made_by_crossplane_and_dropped_there(
    tmp_path: Path,
    migrated_schema: Path,
    fake: FakeKubernetes,  # noqa: F811 (the imported fixture)
    kubeconfig: Path,  # noqa: F811 (the imported fixture)
) -> None:
    manifest = tmp_path / "database.yaml"
    manifest.write_text(MANAGED_TEMPLATE)
    config = example_config(tmp_path)
    postgres = config.databases.engines[EngineKind.POSTGRES]
    routed: dict[str, Any] = {
        "driver": "kubernetes",
        "kubernetes": {
            "kubeconfig": str(kubeconfig),
            "namespace": NAMESPACE,
            "flavour": "managed",
            "manifest": str(manifest),
            "crd": str(spec_path(*DATABASE_CRD)),
            "parameters": {"owner": "platform", "connection_limit": "10"},
            "waiting": {"poll_seconds": 0.05, "timeout_minutes": 1},
        },
    }
    engine = EngineConfig.model_validate({**postgres.model_dump(), **routed})
    engines = {**config.databases.engines, EngineKind.POSTGRES: engine}
    config = config.model_copy(
        update={"databases": config.databases.model_copy(update={"engines": engines})}
    )
    with running_bot(tmp_path, config=config, schema=migrated_schema) as running:
        db = DbBot(running, {})
        request(db, BOB, "new-db postgres orders-cp --env dev", plan="small")
        wait_status(db, "active", timeout=30)
        assert [k for k in fake.objects if k[4] == "orders-cp" and k[3] == "databases"]
        assert db.bot.emulator.wait_for(
            lambda: any("Reveal credentials" in t for t in dm_texts(db, BOB))
        )
        with db.services.sessions() as session:
            resource = session.scalars(select(DbResource)).one()
        assert resource.name == "orders-cp"
        drop_db(db, BOB, "orders-cp")
        wait_status(db, "dropped", timeout=30)
        assert not [k for k in fake.objects if k[4] == "orders-cp" and k[3] == "databases"]
