"""The GitHub Actions orchestrator against a fake GitHub held to the official OpenAPI subset."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from integrations.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import Handle, OrchestratorRequest, Phase, Status
from integrations.orchestrators.github import (
    GitHubActionsConfig,
    GitHubActionsOrchestrator,
    GitHubApp,
    RetryPolicy,
)
from tests.clock import Clock
from tests.integrations.openapi_contract import Contract
from tests.integrations.orchestrators.conftest import GITHUB_TOKEN as TOKEN
from tests.integrations.orchestrators.fake_github import APPLY, DESTROY, REPOSITORY, FakeGitHub

REQUEST = OrchestratorRequest(
    name="orders-dev",
    team="payments",
    tier="dev",
    template="web-service",
    parameters={"size": "small", "region": "eu-west-1"},
)


class Sleeps(list[float]):
    """Records each wait and moves the shared clock on by it, instead of sleeping."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self._clock = clock

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self._clock.advance(seconds=seconds)


@pytest.fixture
def sleeps(clock: Clock) -> Sleeps:
    return Sleeps(clock)


def _config(fake: FakeGitHub, **changes: Any) -> GitHubActionsConfig:
    config = GitHubActionsConfig(
        repository=REPOSITORY,
        apply_workflow=APPLY,
        destroy_workflow=DESTROY,
        api_url=fake.url,
        token=TOKEN,
        retry=RetryPolicy(attempts=3, backoff=0.5, max_wait=120),
        find_interval=1.0,
    )
    return replace(config, **changes)


_made: list[GitHubActionsOrchestrator] = []


def _orchestrator(
    fake: FakeGitHub, clock: Clock, sleeps: Sleeps, **changes: Any
) -> GitHubActionsOrchestrator:
    orchestrator = GitHubActionsOrchestrator(_config(fake, **changes), clock=clock, sleep=sleeps)
    _made.append(orchestrator)
    return orchestrator


@pytest.fixture(autouse=True)
def _close_orchestrators() -> Iterator[None]:
    yield
    while _made:
        _made.pop().close()


def _follow(orchestrator: GitHubActionsOrchestrator, handle: Handle) -> list[Status]:
    """Polls status until the run settles, as the caller does: every status seen."""
    seen = [orchestrator.status(handle)]
    while seen[-1].phase is Phase.PROGRESSING and len(seen) < 20:
        seen.append(orchestrator.status(handle))
    return seen


def _dispatched(fake: FakeGitHub) -> list[str]:
    return [path for method, path, _, _ in fake.requests if path.endswith("/dispatches")]


def test_plan_checks_the_repository_and_both_workflows_and_changes_nothing(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    plan = _orchestrator(github, clock, sleeps).plan(REQUEST)

    assert [path for _, path, _, _ in github.requests] == [
        f"/repos/{REPOSITORY}",
        f"/repos/{REPOSITORY}/actions/workflows/{APPLY}",
        f"/repos/{REPOSITORY}/actions/workflows/{DESTROY}",
    ]
    (change,) = plan.changes
    assert change.action == "create"
    assert f"workflow {APPLY} run on main in {REPOSITORY}" in change.what
    assert "name=orders-dev" in change.what and "region=eu-west-1" in change.what
    assert "request_id=pb-orders-dev-" in change.what
    assert github.dispatches == []


def test_plan_names_a_missing_workflow_and_a_disabled_one(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    orchestrator = _orchestrator(github, clock, sleeps)
    github.workflows[APPLY][1] = "disabled_manually"
    with pytest.raises(ProviderRejected, match=f"workflow {APPLY} .* is disabled_manually"):
        orchestrator.plan(REQUEST)

    del github.workflows[DESTROY]
    github.workflows[APPLY][1] = "active"
    with pytest.raises(ProviderRejected, match=f"workflow {DESTROY} in {REPOSITORY}: not found"):
        orchestrator.plan(REQUEST)


def test_apply_reports_steps_then_ready_outputs_then_destroy_reaches_gone(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.outputs = {
        "values": {"url": "https://orders-dev.example.com", "replicas": 2},
        "secrets": {"database_password": "s3cret-Pw"},
    }
    orchestrator = _orchestrator(github, clock, sleeps)

    handle = orchestrator.apply(REQUEST)
    statuses = _follow(orchestrator, handle)

    (dispatch,) = github.dispatches
    assert dispatch["ref"] == "main" and dispatch["return_run_details"] is True
    assert dispatch["inputs"]["request_id"] == handle.details["request_id"]
    assert all(isinstance(value, str) for value in dispatch["inputs"].values())
    assert handle.id == str(next(iter(github.runs)))
    # The dispatch read the run once, so the first poll finds it a step on.
    assert [s.message for s in statuses[:-1]] == [
        "job apply: step 2 of 5 (Check out)",
        "job apply: step 3 of 5 (terraform init)",
        "job apply: step 4 of 5 (terraform apply)",
        "job apply: step 5 of 5 (Upload outputs)",
    ]
    assert statuses[-1] == Status(Phase.READY, "run #1 succeeded")

    outputs = orchestrator.outputs(handle)
    assert outputs.values == {"url": "https://orders-dev.example.com", "replicas": "2"}
    assert outputs.secrets == {"database_password": "s3cret-Pw"}

    orchestrator.destroy(handle)
    orchestrator.destroy(handle)  # a repeat follows the same destroy run
    destroy_dispatch = github.dispatches[-1]
    assert len(github.dispatches) == 2
    assert destroy_dispatch["inputs"]["request_id"] == handle.details["request_id"]
    # Another process, with only the stored handle, follows the destroy run to the end.
    restarted = _orchestrator(github, clock, sleeps)
    after = _follow(restarted, handle)
    assert after[0].message == "destroying: job destroy: step 2 of 3 (Check out)"
    assert after[-1] == Status(Phase.GONE, "destroy run #2 succeeded")

    # The same request after the destroy makes the environment again.
    assert restarted.apply(REQUEST).id != handle.id
    assert len(github.dispatches) == 3


def test_a_repeated_apply_finds_the_run_instead_of_dispatching_again(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    first = _orchestrator(github, clock, sleeps).apply(REQUEST)
    clock.advance(minutes=20)
    again = _orchestrator(github, clock, sleeps).apply(REQUEST)  # after a crash

    assert again == first
    assert len(_dispatched(github)) == 1


def test_without_run_details_the_run_is_found_by_its_request_id(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    orchestrator = _orchestrator(github, clock, sleeps, return_run_details=False)
    other = orchestrator.apply(replace(REQUEST, name="search-dev"))

    handle = orchestrator.apply(REQUEST)

    assert handle.id != other.id
    run = github.runs[int(handle.id)]
    assert run.title == handle.details["request_id"] == run.inputs["request_id"]
    listing = [q for _, path, q, _ in github.requests if path.endswith(f"{APPLY}/runs")]
    assert listing[-1]["event"] == "workflow_dispatch" and listing[-1]["branch"] == "main"
    # Dispatched at 09:00 by the test clock, looked for from two minutes before (clock skew).
    assert listing[-1]["created"] == ">=2026-03-01T08:58:00Z"


def test_a_run_cancelled_outside_the_bot_fails_with_that_reason(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    orchestrator = _orchestrator(github, clock, sleeps)
    handle = orchestrator.apply(REQUEST)
    orchestrator.status(handle)
    github.cancel(int(handle.id))

    status = orchestrator.status(handle)

    assert status.phase is Phase.FAILED
    assert status.message.startswith("the run #1 was cancelled outside the bot")


def test_a_failed_run_names_the_failing_job_and_step(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.outcomes[APPLY] = "failure"
    orchestrator = _orchestrator(github, clock, sleeps)
    handle = orchestrator.apply(REQUEST)

    final = _follow(orchestrator, handle)[-1]

    assert final.phase is Phase.FAILED
    assert final.message == (
        "run #1 failed: job apply failed at step 4 of 5 (terraform apply) "
        f"(https://github.com/{REPOSITORY}/actions/runs/{handle.id})"
    )
    # A repeat after a failure is a retry: it dispatches a new run.
    assert orchestrator.apply(REQUEST).id != handle.id


def test_a_refused_token_is_named_without_showing_it(
    github_contract: Contract, clock: Clock, sleeps: Sleeps
) -> None:
    with (
        FakeGitHub(github_contract, clock, token="ghp_another") as fake,
        pytest.raises(ProviderRejected, match="GitHub refused the token") as refused,
    ):
        _orchestrator(fake, clock, sleeps).apply(REQUEST)
    assert TOKEN not in str(refused.value)
    assert len(fake.requests) == 1


@pytest.fixture(scope="module")
def app_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def app_github(
    github_contract: Contract, clock: Clock, app_key: tuple[str, str]
) -> Iterator[FakeGitHub]:
    with FakeGitHub(
        github_contract, clock, token="ghp_unused", app=("12345", app_key[1], 777)
    ) as fake:
        yield fake
    assert fake.violations == []


def test_an_app_installation_token_is_renewed_when_it_expires_mid_run(
    app_github: FakeGitHub, clock: Clock, sleeps: Sleeps, app_key: tuple[str, str]
) -> None:
    app = GitHubApp(app_id="12345", installation_id=777, private_key=app_key[0])
    orchestrator = _orchestrator(app_github, clock, sleeps, token=None, app=app)

    handle = orchestrator.apply(REQUEST)
    orchestrator.status(handle)
    assert app_github.issued == ["ghs_fake0001"]

    clock.advance(minutes=56)  # within the renewal margin of the hour-long token
    orchestrator.status(handle)
    assert app_github.issued == ["ghs_fake0001", "ghs_fake0002"]

    app_github.revoke_installation_tokens()  # GitHub drops it early: one 401, one renewal
    assert orchestrator.status(handle).phase is Phase.PROGRESSING
    assert len(app_github.issued) == 3
    assert app_key[0] not in repr(app)


def test_a_5xx_is_retried_with_backoff_then_succeeds(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    orchestrator = _orchestrator(github, clock, sleeps)
    handle = orchestrator.apply(REQUEST)
    github.fail("GET", r"/actions/runs/\d+$", 502, times=2)

    assert orchestrator.status(handle).phase is Phase.PROGRESSING
    assert sleeps == [0.5, 1.0]

    github.fail("GET", r"/actions/runs/\d+$", 503, times=3)
    with pytest.raises(ProviderUnavailable, match=f"workflow run {handle.id} answered 503"):
        orchestrator.status(handle)


def test_a_dispatch_that_answers_5xx_is_not_sent_twice(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.fail("POST", "/dispatches$", 502)

    with pytest.raises(ProviderUnavailable, match=f"dispatch of workflow {APPLY} answered 502"):
        _orchestrator(github, clock, sleeps).apply(REQUEST)
    assert len(_dispatched(github)) == 1


def test_rate_limits_are_waited_out_or_reported(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    orchestrator = _orchestrator(github, clock, sleeps)
    handle = orchestrator.apply(REQUEST)
    github.fail("GET", r"/runs/\d+$", 429, headers={"Retry-After": "7"}, message="slow down")
    reset = int(clock().timestamp()) + 37
    github.fail(
        "GET",
        r"/runs/\d+/jobs",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        message="API rate limit exceeded",
    )

    assert orchestrator.status(handle).message == "job apply: step 2 of 5 (Check out)"
    assert sleeps == [7.0, 30.0]

    reset = int(clock().timestamp()) + 3600
    github.fail(
        "GET",
        r"/runs/\d+$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
    )
    with pytest.raises(
        ProviderRateLimited, match=r"rate limit .* resets in about 3600s"
    ) as limited:
        orchestrator.status(handle)
    assert limited.value.retry_after == 3600


def test_more_inputs_than_github_accepts_are_refused_before_sending(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    many = {f"p{i}": "x" for i in range(6)}  # 6 + the bot's 5 = 11
    with pytest.raises(ProviderRejected, match=r"11 inputs .* at most 10"):
        _orchestrator(github, clock, sleeps).apply(replace(REQUEST, parameters=many))
    assert github.requests == []

    github.inputs[APPLY] += tuple(many)
    handle = _orchestrator(github, clock, sleeps, max_inputs=25).apply(
        replace(REQUEST, parameters=many)
    )
    assert len(github.runs[int(handle.id)].inputs) == 11


def test_github_s_own_refusal_is_shown(github: FakeGitHub, clock: Clock, sleeps: Sleeps) -> None:
    github.inputs[APPLY] = tuple(i for i in github.inputs[APPLY] if i != "region")
    with pytest.raises(
        ProviderRejected, match=r'\(422\): Unexpected inputs provided: \["region"\]'
    ):
        _orchestrator(github, clock, sleeps).apply(REQUEST)


def test_the_fake_refuses_what_the_spec_or_the_workflow_does_not_allow(
    github: FakeGitHub,
) -> None:
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }
    path = f"{github.url}/repos/{REPOSITORY}/actions/workflows/{APPLY}/dispatches"
    too_many = {"ref": "main", "inputs": {f"i{n}": "x" for n in range(26)}}
    not_strings = {
        "ref": "main",
        "inputs": {"name": "a", "team": "b", "tier": 1, "template": "c", "request_id": "d"},
    }
    with httpx.Client(headers=headers) as client:
        assert client.post(path, json=too_many).status_code == 422
        assert client.post(path, json={"inputs": {}}).status_code == 422
        refused = client.post(path, json=not_strings)
        assert refused.status_code == 422 and "must be strings" in refused.json()["message"]
        listing = f"{github.url}/repos/{REPOSITORY}/actions/workflows/{APPLY}/runs?actor_id=1"
        assert client.get(listing).status_code == 400  # not a parameter the spec declares
    assert github.dispatches == []
    assert len(github.violations) == 3
    github.violations.clear()


def test_no_token_or_secret_reaches_a_message_or_the_log(
    github: FakeGitHub, clock: Clock, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    github.outputs = {"values": {}, "secrets": {"password": "s3cret-Pw"}}
    orchestrator = _orchestrator(github, clock, sleeps)
    messages: list[str] = [repr(_config(github))]
    github.fail("GET", r"/runs/\d+$", 500)
    github.fail("GET", r"/runs/\d+$", 429, headers={"Retry-After": "1"})
    handle = orchestrator.apply(REQUEST)
    messages += [s.message for s in _follow(orchestrator, handle)]
    orchestrator.outputs(handle)
    github.fail("GET", r"/runs/\d+$", 401, message="Bad credentials")
    with pytest.raises(ProviderRejected) as refused:
        orchestrator.status(handle)
    messages.append(str(refused.value))

    text = "\n".join(messages) + caplog.text
    assert "github: workflow run" in caplog.text  # the retries were logged
    assert TOKEN not in text and "s3cret-Pw" not in text
