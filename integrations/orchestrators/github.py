"""`Orchestrator` over GitHub Actions: an environment is a run of an apply workflow.

The contract with the repository's workflows (examples/orchestrators/github/ has a pair):

- both are triggered by `workflow_dispatch` and declare string inputs `name`, `team`, `tier`,
  `template` and `request_id`; the apply workflow also declares one input per template
  parameter. GitHub takes at most 10 inputs (25 on api.github.com since 2025: raise
  `max_inputs` there), and every value is a string;
- both set `run-name: ${{ inputs.request_id }}` (more words around it are fine): GitHub's
  dispatch answers 204 without the run on older servers, so the run is found by listing the
  workflow's runs (`event=workflow_dispatch`, the branch, `created>=`) and matching the id
  in `display_title`. It also makes `apply` and `destroy` idempotent: a repeat finds the run
  its first call started instead of dispatching another;
- the apply workflow uploads an artifact named `platform-bot-outputs` holding `outputs.json`,
  `{"values": {...}, "secrets": {...}}` (see `github_outputs`).

The request id is the name plus a digest of the request, so the same request finds the same
run. An apply run is reused while it runs or after it succeeded, unless a destroy run with the
same id came after it; after a failure a repeat dispatches a new run (that is the retry).

Handle: `id` is the apply run's id; `details` hold the repository, the request's fields, the
request id and the run's `created_at`. `destroy` returns nothing, so the destroy run is not in
the handle: it is remembered in memory and otherwise found again by listing the destroy
workflow's runs for the request id, so a handle stored before destroy still reaches GONE
after a restart.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import (
    Handle,
    OrchestratorPlan,
    OrchestratorRequest,
    Outputs,
    Phase,
    PlannedChange,
    Status,
)
from integrations.orchestrators.github_client import (
    PROVIDER,
    GitHubApp,
    GitHubClient,
    RetryPolicy,
    json_object,
)
from integrations.orchestrators.github_outputs import read_outputs
from integrations.orchestrators.github_runs import describe_run, job_progress, run_list

__all__ = ["GitHubActionsConfig", "GitHubActionsOrchestrator", "GitHubApp", "RetryPolicy"]

_FIXED_INPUTS = ("name", "team", "tier", "template", "request_id")
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,99}$")
_OWNER_REPO = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_WORKFLOW = re.compile(r"^([0-9]+|[A-Za-z0-9._-]+\.ya?ml)$")
# GitHub's documented ceiling for all input values of one dispatch together.
_MAX_INPUT_CHARS = 65_535
_SPEC_MAX_INPUTS = 25
# GitHub's clock and ours differ; a run listed a little before "now" is still ours.
_CLOCK_SKEW = timedelta(minutes=2)
_NOT_REUSABLE = frozenset({"failure", "cancelled", "timed_out", "startup_failure", "stale"})


@dataclass(frozen=True)
class GitHubActionsConfig:
    repository: str
    """`owner/name` of the repository holding the workflows."""
    apply_workflow: str
    """The workflow's file name (`environment-apply.yml`) or numeric id."""
    destroy_workflow: str
    ref: str = "main"
    """The branch or tag the workflows run on."""
    api_url: str = "https://api.github.com"
    """GitHub Enterprise Server: `https://HOST/api/v3`."""
    token: str | None = field(default=None, repr=False)
    app: GitHubApp | None = None
    """Either `token` or `app`."""
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    return_run_details: bool = True
    """Ask the dispatch for the run id (api.github.com); turn off on servers that refuse it."""
    find_attempts: int = 10
    """Listings to wait for a dispatched run to appear, `find_interval` seconds apart."""
    find_interval: float = 3.0
    lookback: timedelta = timedelta(hours=6)
    """How far back a repeated `apply` looks for the run its first call started."""
    max_inputs: int = 10
    max_artifact_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if not _OWNER_REPO.match(self.repository):
            raise ValueError(f"{self.repository!r} is not an owner/name repository")
        for workflow in (self.apply_workflow, self.destroy_workflow):
            if not _WORKFLOW.match(workflow):
                raise ValueError(f"{workflow!r} is not a workflow file name or id")
        if not 1 <= self.max_inputs <= _SPEC_MAX_INPUTS:
            raise ValueError(f"max_inputs must be 1-{_SPEC_MAX_INPUTS}")


class GitHubActionsOrchestrator:
    name = "github"

    def __init__(
        self,
        config: GitHubActionsConfig,
        *,
        http: httpx.Client | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._repo = f"/repos/{config.repository}"
        self._clock = clock
        self._sleep = sleep
        self._own_http = http is None
        self._http = http or httpx.Client(base_url=config.api_url, timeout=config.timeout)
        self._github = GitHubClient(
            self._http,
            token=config.token,
            app=config.app,
            retry=config.retry,
            clock=clock,
            sleep=sleep,
        )
        self._destroy_runs: dict[str, int] = {}

    def close(self) -> None:
        """Close the HTTP client, if the orchestrator made it."""
        if self._own_http:
            self._http.close()

    def plan(self, request: OrchestratorRequest) -> OrchestratorPlan:
        inputs = self._inputs(request)
        what = f"repository {self._config.repository}"
        repository = json_object(self._github.call("GET", self._repo, what=what), what)
        if repository.get("archived"):
            raise ProviderRejected(PROVIDER, f"{what} is archived: its workflows cannot run")
        for workflow in (self._config.apply_workflow, self._config.destroy_workflow):
            self._check_workflow(workflow)
        shown = ", ".join(f"{k}={v}" for k, v in inputs.items())
        return OrchestratorPlan(
            changes=(
                PlannedChange(
                    "create",
                    f"workflow {self._config.apply_workflow} run on {self._config.ref} "
                    f"in {self._config.repository} with {shown}",
                ),
            ),
            notes=(
                "GitHub Actions has no dry run: the workflow itself decides what it changes.",
                f"Destroying runs {self._config.destroy_workflow} with the same request id.",
            ),
        )

    def apply(self, request: OrchestratorRequest) -> Handle:
        inputs = self._inputs(request)
        request_id = inputs["request_id"]
        since = self._clock() - self._config.lookback
        run = self._reusable_apply_run(request_id, since)
        if run is None:
            run = self._dispatch(self._config.apply_workflow, inputs)
        details = {k: inputs[k] for k in _FIXED_INPUTS}
        details.update(repository=self._config.repository, created_at=str(run["created_at"]))
        return Handle(orchestrator=self.name, id=str(run["id"]), details=details)

    def status(self, handle: Handle) -> Status:
        run_id = self._destroy_runs.get(handle.id)
        apply_run: dict[str, Any] | None = None
        if run_id is None:
            apply_run = self._run(_run_id(handle))
            if apply_run.get("status") != "completed":
                return self._status_of(apply_run, destroying=False)
            found = self._find_runs(
                self._config.destroy_workflow, _request_id(handle), _created_at(handle)
            )
            if not found:
                return self._status_of(apply_run, destroying=False)
            run_id = int(found[0]["id"])
            self._destroy_runs[handle.id] = run_id
        return self._status_of(self._run(run_id), destroying=True)

    def outputs(self, handle: Handle) -> Outputs:
        return read_outputs(
            self._github,
            repo_path=self._repo,
            run_id=_run_id(handle),
            limit=self._config.max_artifact_bytes,
        )

    def destroy(self, handle: Handle) -> None:
        request_id = _request_id(handle)
        found = [
            run
            for run in self._find_runs(
                self._config.destroy_workflow, request_id, _created_at(handle)
            )
            if run.get("conclusion") not in _NOT_REUSABLE
        ]
        if found:
            run = found[0]
        else:
            inputs = {k: str(handle.details.get(k, "")) for k in _FIXED_INPUTS}
            run = self._dispatch(self._config.destroy_workflow, inputs)
        self._destroy_runs[handle.id] = int(run["id"])

    def _inputs(self, request: OrchestratorRequest) -> dict[str, str]:
        """The dispatch's inputs, refused here when GitHub would refuse them."""
        fixed = {
            "name": request.name,
            "team": request.team,
            "tier": request.tier,
            "template": request.template,
        }
        for key, value in request.parameters.items():
            if key in _FIXED_INPUTS:
                raise ProviderRejected(
                    PROVIDER, f"parameter {key!r} would hide the bot's own input"
                )
            if not _INPUT_NAME.match(key):
                raise ProviderRejected(PROVIDER, f"{key!r} cannot be a workflow input name")
            if not isinstance(value, str):
                raise ProviderRejected(PROVIDER, f"workflow input {key!r} must be a string")
        inputs = {**fixed, "request_id": _request_id_for(fixed, request), **request.parameters}
        if len(inputs) > self._config.max_inputs:
            raise ProviderRejected(
                PROVIDER,
                f"the workflow would need {len(inputs)} inputs ({len(request.parameters)} "
                f"parameters plus {len(_FIXED_INPUTS)} of the bot's); GitHub accepts at most "
                f"{self._config.max_inputs}: drop parameters from the template",
            )
        if sum(len(v) for v in inputs.values()) > _MAX_INPUT_CHARS:
            raise ProviderRejected(PROVIDER, "the workflow inputs are over 65,535 characters")
        return inputs

    def _check_workflow(self, workflow: str) -> None:
        what = f"workflow {workflow} in {self._config.repository}"
        path = f"{self._repo}/actions/workflows/{workflow}"
        body = json_object(self._github.call("GET", path, what=what), what)
        if body.get("state") != "active":
            raise ProviderRejected(
                PROVIDER, f"{what} is {body.get('state')}: enable it in the Actions tab"
            )

    def _reusable_apply_run(self, request_id: str, since: datetime) -> dict[str, Any] | None:
        runs = self._find_runs(self._config.apply_workflow, request_id, since)
        run = next((r for r in runs if r.get("conclusion") not in _NOT_REUSABLE), None)
        if run is None or run.get("conclusion") != "success":
            return run
        # A finished environment that was destroyed since is made again, not reported ready.
        created = _parse_time(run.get("created_at")) or since
        destroyed = self._find_runs(self._config.destroy_workflow, request_id, created)
        return None if destroyed else run

    def _dispatch(self, workflow: str, inputs: dict[str, str]) -> dict[str, Any]:
        what = f"dispatch of workflow {workflow}"
        body: dict[str, Any] = {"ref": self._config.ref, "inputs": inputs}
        if self._config.return_run_details:
            body["return_run_details"] = True
        started = self._clock()
        # Not repeated on a 5xx: the run may have started; a repeated apply finds it.
        response = self._github.call(
            "POST",
            f"{self._repo}/actions/workflows/{workflow}/dispatches",
            what=what,
            json=body,
            safe_to_repeat=False,
        )
        if response.status_code == 200:
            run_id = json_object(response, what).get("workflow_run_id")
            if isinstance(run_id, int):
                return self._run(run_id)
        for attempt in range(self._config.find_attempts):
            if attempt:
                self._sleep(self._config.find_interval)
            found = self._find_runs(workflow, inputs["request_id"], started)
            if found:
                return found[0]
        raise ProviderUnavailable(
            PROVIDER,
            f"{what} was accepted but its run did not appear; trying again will pick it up",
        )

    def _find_runs(self, workflow: str, request_id: str, since: datetime) -> list[dict[str, Any]]:
        """The workflow's dispatched runs since `since` whose title carries the id, newest first."""
        created = (since - _CLOCK_SKEW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        runs = run_list(
            self._github,
            f"{self._repo}/actions/workflows/{workflow}/runs",
            what=f"runs of workflow {workflow}",
            params={"event": "workflow_dispatch", "branch": self._config.ref},
            created=created,
        )
        carries = re.compile(rf"(?<![\w-]){re.escape(request_id)}(?![\w-])")
        return [
            run
            for run in runs
            if carries.search(str(run.get("display_title") or ""))
            or carries.search(str(run.get("name") or ""))
        ]

    def _run(self, run_id: int) -> dict[str, Any]:
        what = f"workflow run {run_id}"
        path = f"{self._repo}/actions/runs/{run_id}"
        run = json_object(self._github.call("GET", path, what=what), what)
        if not isinstance(run.get("id"), int):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without an id")
        return run

    def _status_of(self, run: dict[str, Any], *, destroying: bool) -> Status:
        state = describe_run(run, destroying=destroying)
        if state.phase is Phase.PROGRESSING and run.get("status") == "in_progress":
            progress = job_progress(self._github, self._repo, int(run["id"]))
            if progress:
                prefix = "destroying: " if destroying else ""
                return Status(Phase.PROGRESSING, prefix + progress)
        if state.phase is Phase.FAILED and run.get("conclusion") in ("failure", "timed_out"):
            failed = job_progress(self._github, self._repo, int(run["id"]), failed=True)
            if failed:
                state = Status(Phase.FAILED, f"{state.message}: {failed}")
        if state.phase is Phase.FAILED and run.get("html_url"):
            return Status(Phase.FAILED, f"{state.message} ({run['html_url']})")
        return state


def _request_id_for(fixed: dict[str, str], request: OrchestratorRequest) -> str:
    content = json.dumps([fixed, dict(sorted(request.parameters.items()))], sort_keys=True)
    return f"pb-{request.name}-{hashlib.sha256(content.encode()).hexdigest()[:10]}"


def _run_id(handle: Handle) -> int:
    if not handle.id.isdigit():
        raise ProviderRejected(PROVIDER, f"{handle.id!r} is not a workflow run id")
    return int(handle.id)


def _request_id(handle: Handle) -> str:
    request_id = handle.details.get("request_id")
    if not request_id:
        raise ProviderRejected(PROVIDER, "the handle has no request id")
    return request_id


def _created_at(handle: Handle) -> datetime:
    return _parse_time(handle.details.get("created_at")) or datetime.fromtimestamp(0, UTC)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
