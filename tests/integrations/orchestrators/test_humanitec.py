"""The Humanitec orchestrator against a fake API held to Humanitec's official OpenAPI."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import yaml

from integrations.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import Handle, OrchestratorRequest, Phase
from integrations.orchestrators.humanitec import HumanitecConfig, HumanitecOrchestrator
from integrations.orchestrators.humanitec_api import HumanitecApi
from tests.conftest import REPO_ROOT, free_port
from tests.integrations.openapi_contract import Contract, spec_path
from tests.integrations.orchestrators.fake_humanitec import FakeHumanitec

TOKEN = "hum-test-token-7f3a9c"
ENV = "orders-pr-42"


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(spec_path("humanitec", "platform-orchestrator-openapi.json"))


@pytest.fixture
def fake(contract: Contract) -> Iterator[FakeHumanitec]:
    fake = FakeHumanitec(contract, token=TOKEN)
    fake.server.start()
    yield fake
    fake.server.stop()
    assert fake.server.violations == []


@pytest.fixture
def config(fake: FakeHumanitec) -> HumanitecConfig:
    return HumanitecConfig(
        org_id="acme",
        app_id="orders",
        base_env="development",
        env_types={"dev": "development", "prod": "production"},
        token=TOKEN,
        api_url=fake.server.url,
        timeout_seconds=5.0,
        backoff_seconds=0.5,
        max_backoff_seconds=10.0,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _orchestrator(config: HumanitecConfig, sleeps: list[float]) -> Iterator[HumanitecOrchestrator]:
    orchestrator = HumanitecOrchestrator(config, api=HumanitecApi(config, sleep=sleeps.append))
    yield orchestrator
    orchestrator.close()


@pytest.fixture
def humanitec(config: HumanitecConfig, sleeps: list[float]) -> Iterator[HumanitecOrchestrator]:
    yield from _orchestrator(config, sleeps)


@pytest.fixture
def request_() -> OrchestratorRequest:
    text = (REPO_ROOT / "examples" / "score" / "orders-api.score.yaml").read_text()
    return OrchestratorRequest(
        name=ENV, team="payments", tier="dev", template="orders", workload=yaml.safe_load(text)
    )


def _poll(humanitec: HumanitecOrchestrator, handle: Handle) -> list[tuple[Phase, str]]:
    seen = [(s.phase, s.message) for s in [humanitec.status(handle)]]
    while seen[-1][0] is Phase.PROGRESSING and len(seen) < 10:
        status = humanitec.status(handle)
        seen.append((status.phase, status.message))
    return seen


def test_plan_checks_app_and_base_environment_and_changes_nothing(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    plan = humanitec.plan(request_)

    base_deploy = fake.envs["development"]["last_deploy_id"]
    assert [(c.action, c.what) for c in plan.changes] == [
        (
            "create",
            f"Environment {ENV} of type development, cloned from development "
            f"at deployment {base_deploy}",
        ),
        (
            "create",
            "Deployment of workload orders-api from its Score file: api "
            "(ghcr.io/acme/orders-api:latest)",
        ),
        ("create", "Resource db: postgres"),
        ("create", "Resource cache: redis"),
    ]
    assert "base environment development exist" in plan.notes[0]
    assert set(fake.envs) == {"development"} and fake.deltas == {}
    assert {method for method, _ in fake.server.requests} == {"GET", "POST"}
    assert ("POST", "/orgs/acme/artefact-versions/convert-score") in fake.server.requests


@pytest.mark.parametrize("delta_answer", ["object", "id"])
def test_apply_deploys_the_score_workload_then_ready_outputs_destroy_gone(
    fake: FakeHumanitec,
    humanitec: HumanitecOrchestrator,
    request_: OrchestratorRequest,
    delta_answer: str,
) -> None:
    fake.delta_answer = delta_answer

    handle = humanitec.apply(request_)

    env = fake.envs[ENV]
    assert (env["type"], env["name"]) == ("development", f"{ENV} (payments)")
    assert env["from_deploy_id"] == fake.envs["development"]["last_deploy_id"]
    assert handle.details == {"env_id": ENV, "deploy_id": env["last_deploy_id"]}
    (delta,) = fake.deltas.values()
    module = delta["modules"]["add"]["orders-api"]
    assert module["externals"] == {"db": {"type": "postgres"}, "cache": {"type": "redis"}}
    assert module["spec"]["containers"]["api"]["variables"]["DATABASE_URL"] == (
        "${externals.db.uri}"
    )
    assert delta["metadata"]["env_id"] == ENV

    phases = _poll(humanitec, handle)
    assert [p for p, _ in phases] == [Phase.PROGRESSING, Phase.READY]
    assert "in progress" in phases[0][1] and "succeeded" in phases[1][1]

    outputs = humanitec.outputs(handle)
    assert outputs.values["db.type"] == "postgres"
    assert outputs.values["db.res_id"] == "modules.orders-api.externals.db"
    assert (outputs.values["db.host"], outputs.values["db.port"]) == ("pg.internal", "5432")
    assert outputs.values["cache.host"] == "redis.internal"
    assert outputs.values["environment"] == ENV
    assert not any("secrets/" in value for value in outputs.values.values())
    assert outputs.secrets == {}

    humanitec.destroy(handle)
    assert [p for p, _ in _poll(humanitec, handle)] == [Phase.PROGRESSING, Phase.GONE]
    humanitec.destroy(handle)  # a repeat finds nothing to delete


def test_secrets_come_only_from_a_secrets_field(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    fake.resource_secrets, fake.polls_to_finish = True, 1
    handle = humanitec.apply(request_)
    assert humanitec.status(handle).phase is Phase.READY

    outputs = humanitec.outputs(handle)

    assert outputs.secrets == {"db.password": "s3cr3t-pw", "cache.password": "s3cr3t-pw"}
    assert "s3cr3t-pw" not in outputs.values.values()


def test_apply_twice_makes_one_environment_and_one_deployment(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    first = humanitec.apply(request_)
    second = humanitec.apply(request_)

    assert second == first
    assert len(fake.deployments[ENV]) == 1 and len(fake.deltas) == 1
    assert fake.server.requests.count(("POST", "/orgs/acme/apps/orders/envs")) == 2
    assert humanitec.plan(request_).changes[0].what == f"Environment {ENV} exists: reused as it is"


def test_a_deployment_started_by_someone_else_is_refused(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    fake.add_environment(ENV, deployed=False)
    fake.start_deployment(ENV, comment="deployed by hand")

    with pytest.raises(ProviderRejected, match="already an active deployment"):
        humanitec.apply(request_)


def test_a_missing_base_environment_is_named_before_anything_is_made(
    fake: FakeHumanitec, config: HumanitecConfig, sleeps: list[float], request_: OrchestratorRequest
) -> None:
    for humanitec in _orchestrator(replace(config, base_env="staging"), sleeps):
        for step in (humanitec.plan, humanitec.apply):
            with pytest.raises(ProviderRejected, match="base environment 'staging' does not"):
                step(request_)

    assert set(fake.envs) == {"development"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"app_id": "billing"}, "app 'billing' does not exist in org 'acme'"),
        ({"base_env": "bare"}, "base environment 'bare' has never been deployed"),
    ],
)
def test_plan_fails_early_on_what_humanitec_does_not_have(
    fake: FakeHumanitec,
    config: HumanitecConfig,
    sleeps: list[float],
    request_: OrchestratorRequest,
    change: dict[str, Any],
    reason: str,
) -> None:
    fake.add_environment("bare", deployed=False)
    for humanitec in _orchestrator(replace(config, **change), sleeps):
        with pytest.raises(ProviderRejected, match=reason):
            humanitec.plan(request_)


def test_an_unreachable_api_is_unavailable_after_the_retries(
    config: HumanitecConfig, sleeps: list[float], request_: OrchestratorRequest
) -> None:
    closed = replace(config, api_url=f"http://127.0.0.1:{free_port()}")
    for humanitec in _orchestrator(closed, sleeps):
        with pytest.raises(
            ProviderUnavailable, match=re.escape("GET /orgs/{orgId}/apps/{appId} failed")
        ):
            humanitec.plan(request_)

    assert sleeps == [0.5, 1.0, 2.0]


def test_a_failed_deployment_is_failed_with_its_reason(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    fake.deploy_errors = [
        {
            "scope": "external",
            "object_id": "db",
            "code": "CLD-001",
            "summary": "Provider error",
            "message": "Incorrect cloud provider credentials.",
            "error_type": "provisioning",
        }
    ]
    handle = humanitec.apply(request_)

    phase, message = _poll(humanitec, handle)[-1]

    assert phase is Phase.FAILED
    assert message == (
        f"Deployment {handle.details['deploy_id']} to {ENV} failed: external db: "
        "Provider error Incorrect cloud provider credentials."
    )


def test_a_refused_token_is_rejected_without_showing_it(
    config: HumanitecConfig,
    sleeps: list[float],
    request_: OrchestratorRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "hum-wrong-token-000"
    caplog.set_level(logging.DEBUG)
    for humanitec in _orchestrator(replace(config, token=wrong), sleeps):
        with pytest.raises(ProviderRejected) as refused:
            humanitec.plan(request_)

    assert str(refused.value).startswith("humanitec: Humanitec refused the token (401)")
    assert wrong not in str(refused.value) + caplog.text and sleeps == []
    assert wrong not in repr(replace(config, token=wrong))


def test_server_errors_are_retried_with_backoff_then_succeed(
    fake: FakeHumanitec,
    humanitec: HumanitecOrchestrator,
    request_: OrchestratorRequest,
    sleeps: list[float],
) -> None:
    fake.server.fail_next("GET", "/envs/development", 503, times=2)

    humanitec.plan(request_)

    assert sleeps == [0.5, 1.0]


def test_server_errors_that_persist_are_unavailable(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    fake.server.fail_next("POST", "/envs", 500, times=10)

    with pytest.raises(ProviderUnavailable, match=r"envs answered 500: Injected by the test"):
        humanitec.apply(request_)

    assert fake.server.requests.count(("POST", "/orgs/acme/apps/orders/envs")) == 4


def test_rate_limits_wait_out_retry_after_or_hand_it_back(
    fake: FakeHumanitec,
    humanitec: HumanitecOrchestrator,
    request_: OrchestratorRequest,
    sleeps: list[float],
) -> None:
    fake.server.fail_next("GET", "/apps/orders", 429, retry_after="3")
    humanitec.plan(request_)
    assert sleeps == [3.0]

    fake.server.fail_next("GET", "/apps/orders", 429, retry_after="120")
    with pytest.raises(ProviderRateLimited) as limited:
        humanitec.plan(request_)
    assert limited.value.retry_after == 120.0 and sleeps == [3.0]


def test_an_environment_deleted_outside_the_bot_is_gone(
    fake: FakeHumanitec, humanitec: HumanitecOrchestrator, request_: OrchestratorRequest
) -> None:
    handle = humanitec.apply(request_)
    fake.remove_environment(ENV)

    status = humanitec.status(handle)

    assert (status.phase, status.message) == (
        Phase.GONE,
        f"Environment {ENV} no longer exists in Humanitec",
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"tier": "staging"}, "no Humanitec environment type is configured for tier 'staging'"),
        ({"name": "orders--pr"}, "cannot be a Humanitec environment id"),
        ({"workload": {"apiVersion": "score.dev/v1b1"}}, "not a valid Score file"),
        ({"workload": None}, "none was given"),
    ],
)
def test_requests_humanitec_cannot_take_are_rejected_before_any_call(
    fake: FakeHumanitec,
    humanitec: HumanitecOrchestrator,
    request_: OrchestratorRequest,
    change: dict[str, Any],
    reason: str,
) -> None:
    with pytest.raises(ProviderRejected, match=reason):
        humanitec.apply(replace(request_, **change))

    assert fake.server.requests == []


def test_no_token_in_any_message_or_log_line(
    fake: FakeHumanitec,
    humanitec: HumanitecOrchestrator,
    request_: OrchestratorRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.server.fail_next("POST", "/deltas", 502)
    fake.server.fail_next("GET", "/deploys/[^/]+", 429, retry_after="1")
    handle = humanitec.apply(request_)
    messages = [s.message for s in [humanitec.status(handle), humanitec.status(handle)]]
    messages += [str(humanitec.outputs(handle).values), str(handle)]
    fake.server.fail_next("DELETE", f"/envs/{ENV}", 503, times=10)
    with pytest.raises(ProviderUnavailable) as down:
        humanitec.destroy(handle)

    assert "retry 1" in caplog.text  # the retries were logged
    assert TOKEN not in " ".join([*messages, str(down.value), caplog.text])
