"""Environments made by the platform's orchestrator, through the emulator, against fakes of
the products held to their official specs: plan → Confirm → progress → ready → destroy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runtime.config import PlatformConfig
from commands.environments.config import TemplateConfig
from tests.commands.environments.conftest import EnvBot, env_config
from tests.commands.environments.driving import (
    BOB,
    create,
    destroy,
    dm_texts,
    env_named,
    fill,
    open_form,
    plan_view,
    reveal,
    text_of,
    told,
    wait_status,
)
from tests.commands.new_db.conftest import fake_provisioners
from tests.conftest import REPO_ROOT
from tests.harness import features_with, running_bot
from tests.integrations.openapi_contract import Contract, spec_path
from tests.integrations.orchestrators.conftest import (  # noqa: F401 (fixtures)
    CLAIM_CRD,
    GITHUB_TOKEN,
    KRATIX_CRD,
    NAMESPACE,
    XR_CRD,
    XR_TEMPLATE,
    database_crd,
    fake,
    kubeconfig,
)
from tests.integrations.orchestrators.fake_github import APPLY, DESTROY, REPOSITORY, FakeGitHub
from tests.integrations.orchestrators.fake_humanitec import FakeHumanitec
from tests.integrations.orchestrators.fake_kubernetes import FakeKubernetes

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
    server = FakeHumanitec(
        Contract(spec_path("humanitec", "platform-orchestrator-openapi.json")),
        token=HUMANITEC_TOKEN,
    )
    server.server.start()
    yield server
    server.server.stop()
    assert server.server.violations == []


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


def _named(cluster: FakeKubernetes, name: str) -> list[object]:
    """The objects called `name` in the fake cluster (Secrets aside)."""
    return [o for key, o in cluster.objects.items() if key[4] == name and key[3] != "secrets"]


FLAVOURS = {
    # flavour: (manifest, its CRD, connection secret, parameters)
    "crossplane-claim": (
        REPO_ROOT / "examples/orchestrators/crossplane-postgres-claim.yaml",
        CLAIM_CRD,
        None,
        {"storage_gb": "20", "version": "16"},
    ),
    "crossplane-xr": (None, XR_CRD, "${name}-conn", {"storage_gb": "20", "version": "16"}),
    "kratix": (
        REPO_ROOT / "examples/orchestrators/kratix-postgres-request.yaml",
        KRATIX_CRD,
        "${name}-postgres-credentials",
        {"database": "orders"},
    ),
}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_a_kubernetes_environment_goes_plan_confirm_ready_destroy(
    tmp_path: Path,
    migrated_schema: Path,
    fake: FakeKubernetes,  # noqa: F811 (the imported fixture)
    kubeconfig: Path,  # noqa: F811 (the imported fixture)
    flavour: str,
) -> None:
    manifest, crd, secret, parameters = FLAVOURS[flavour]
    if manifest is None:
        manifest = tmp_path / "xr.yaml"
        manifest.write_text(XR_TEMPLATE)
    crd_file = tmp_path / "crd.yaml"
    crd_file.write_text(yaml.safe_dump(crd))
    if secret is not None:  # where this cluster's composition or promise writes it
        fake.behaviour.secret_name = secret.replace("${name}", "orders-k8s")
    config = with_template(
        env_config(tmp_path),
        "k8s-db",
        {
            "description": f"A database from the cluster ({flavour})",
            "driver": "kubernetes",
            "tiers": ["dev"],
            "variables": parameters,
            "kubernetes": {
                "kubeconfig": str(kubeconfig),
                "namespace": NAMESPACE,
                "flavour": flavour,
                "manifest": str(manifest),
                "crd": str(crd_file),
                **({"connection_secret": secret} if secret else {}),
                "waiting": {"poll_seconds": 0.05, "timeout_minutes": 1},
            },
        },
    )
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        plan = text_of(create(bot, BOB, "env create k8s-db orders-k8s", tier="dev"))
        assert "orders-k8s" in plan and ":heavy_plus_sign: create" in plan
        env = wait_status(bot, "orders-k8s", "ready")
        assert _named(fake, "orders-k8s")  # the object is in the cluster
        assert told(bot, BOB, "Reveal credentials")
        assert reveal(bot, BOB, env.id)["password"] == "s3cr3t-pw"
        destroy(bot, BOB, "orders-k8s")
        wait_status(bot, "orders-k8s", "destroyed")
        assert not _named(fake, "orders-k8s")


def _claim_template(access: Path, tmp_path: Path, **waiting: object) -> dict[str, Any]:
    crd_file = tmp_path / "crd.yaml"
    crd_file.write_text(yaml.safe_dump(CLAIM_CRD))
    return {
        "description": "A database from the cluster",
        "driver": "kubernetes",
        "tiers": ["dev"],
        "variables": {"storage_gb": "20", "version": "16"},
        "kubernetes": {
            "kubeconfig": str(access),
            "namespace": NAMESPACE,
            "flavour": "crossplane-claim",
            "manifest": str(REPO_ROOT / "examples/orchestrators/crossplane-postgres-claim.yaml"),
            "crd": str(crd_file),
            "waiting": {"poll_seconds": 0.05, **waiting},
        },
    }


def test_a_kubernetes_manifest_the_crd_refuses_is_named_in_the_plan(
    tmp_path: Path,
    migrated_schema: Path,
    fake: FakeKubernetes,  # noqa: F811 (the imported fixture)
    kubeconfig: Path,  # noqa: F811 (the imported fixture)
) -> None:
    template = _claim_template(kubeconfig, tmp_path)
    template["variables"] = {"storage_gb": "twenty", "version": "16"}  # the CRD wants a number
    config = with_template(env_config(tmp_path), "k8s-db", template)
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        view = open_form(bot, BOB, "env create k8s-db orders-bad")
        fill(bot, BOB, view, tier="dev")
        shown = text_of(plan_view(bot, BOB, view.id))
        assert "The plan failed" in shown and "storageGB" in shown
    assert not _named(fake, "orders-bad")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    contract = Contract(spec_path("github", "api.github.com.subset.json"))
    with FakeGitHub(
        contract, lambda: datetime.now(UTC), token=GITHUB_TOKEN, parameters=("size",)
    ) as fake_github:
        yield fake_github
    assert fake_github.violations == []


def _workflow_template(github: FakeGitHub) -> dict[str, Any]:
    return {
        "description": "An environment made by a workflow",
        "driver": "github",
        "tiers": ["dev"],
        "variables": {"size": "small"},
        "github": {
            "api_url": github.url,
            "repository": REPOSITORY,
            "workflow": APPLY,
            "destroy_workflow": DESTROY,
            "token": GITHUB_TOKEN,
            "waiting": {"poll_seconds": 0.05, "timeout_minutes": 1},
        },
    }


def test_a_github_actions_environment_goes_plan_confirm_ready_destroy(
    tmp_path: Path, migrated_schema: Path, github: FakeGitHub
) -> None:
    github.outputs = {
        "values": {"url": "https://orders-gh.example.com"},
        "secrets": {"db_password": "gh-s3cret"},
    }
    config = with_template(env_config(tmp_path), "gh-env", _workflow_template(github))
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        plan = text_of(create(bot, BOB, "env create gh-env orders-gh", tier="dev"))
        assert APPLY in plan
        env = wait_status(bot, "orders-gh", "ready")
        assert told(bot, BOB, "Reveal credentials")
        card = [t for t in dm_texts(bot, BOB) if "Reveal credentials" in t][-1]
        assert "https://orders-gh.example.com" in card
        assert reveal(bot, BOB, env.id) == {"db_password": "gh-s3cret"}
        destroy(bot, BOB, "orders-gh")
        wait_status(bot, "orders-gh", "destroyed")
        assert GITHUB_TOKEN not in "".join(dm_texts(bot, BOB))


@pytest.mark.parametrize("on_timeout", ["delete", "keep"])
def test_a_claim_never_ready_in_time_is_removed_or_kept_and_the_requester_told(
    tmp_path: Path,
    migrated_schema: Path,
    fake: FakeKubernetes,  # noqa: F811 (the imported fixture)
    kubeconfig: Path,  # noqa: F811 (the imported fixture)
    on_timeout: str,
) -> None:
    fake.behaviour.never_ready = True
    template = _claim_template(kubeconfig, tmp_path, timeout_minutes=0.01, on_timeout=on_timeout)
    config = with_template(env_config(tmp_path), "k8s-db", template)
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        create(bot, BOB, "env create k8s-db slow-db", tier="dev")
        env = wait_status(bot, "slow-db", "failed")
        assert told(bot, BOB, "not ready after 0.01 minutes")
        if on_timeout == "delete":
            assert bot.bot.emulator.wait_for(lambda: not _named(fake, "slow-db"))
            assert not env.leftovers
        else:
            assert _named(fake, "slow-db")  # left for an operator, and said so
            assert env.leftovers and env.failure is not None and "kept in kubernetes" in env.failure


def test_a_claim_whose_composition_fails_is_reported_and_removed(
    tmp_path: Path,
    migrated_schema: Path,
    fake: FakeKubernetes,  # noqa: F811 (the imported fixture)
    kubeconfig: Path,  # noqa: F811 (the imported fixture)
) -> None:
    fake.behaviour.fail_with = "cannot compose resources: quota exceeded"
    config = with_template(env_config(tmp_path), "k8s-db", _claim_template(kubeconfig, tmp_path))
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        create(bot, BOB, "env create k8s-db broken-db", tier="dev")
        wait_status(bot, "broken-db", "failed")
        assert told(bot, BOB, "quota exceeded")
        assert bot.bot.emulator.wait_for(lambda: not _named(fake, "broken-db"))


def test_a_github_run_cancelled_outside_the_bot_fails_the_environment(
    tmp_path: Path, migrated_schema: Path, github: FakeGitHub
) -> None:
    github.outcomes[APPLY] = "cancelled"
    config = with_template(env_config(tmp_path), "gh-env", _workflow_template(github))
    with running(tmp_path, migrated_schema, config) as bot_:
        bot = EnvBot(bot_, {})
        create(bot, BOB, "env create gh-env stopped", tier="dev")
        wait_status(bot, "stopped", "failed")
        assert told(bot, BOB, "cancelled outside the bot")
