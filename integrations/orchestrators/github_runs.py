"""Reading GitHub Actions runs and jobs: listings, phases, and progress in plain words.

A run's `status` goes queued → in_progress → completed (`waiting` while a deployment
environment asks for approval); its `conclusion` says how it ended. The jobs of a run
(`GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`) give the step under way, which is
the progress message: "job apply: step 4 of 7 (terraform apply)".
"""

from __future__ import annotations

from typing import Any

from integrations.errors import ProviderUnavailable
from integrations.orchestrators.base import Phase, Status
from integrations.orchestrators.github_client import PROVIDER, GitHubClient, json_object

_PAGE_SIZE = 100
_MAX_PAGES = 5
_FAILED = ("failure", "timed_out")


def run_list(
    github: GitHubClient, path: str, *, what: str, params: dict[str, str], created: str
) -> list[dict[str, Any]]:
    """Every run the listing returns (newest first), up to 500: the `created` filter keeps it
    to the runs of the last hours."""
    runs: list[dict[str, Any]] = []
    for page in range(1, _MAX_PAGES + 1):
        query: dict[str, str | int] = {
            **params,
            # GitHub's search syntax, though the spec types the parameter as a date-time.
            "created": f">={created}",
            "per_page": _PAGE_SIZE,
            "page": page,
        }
        body = json_object(github.call("GET", path, what=what, params=query), what)
        batch = body.get("workflow_runs")
        if not isinstance(batch, list):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without workflow_runs")
        runs.extend(run for run in batch if isinstance(run, dict) and "id" in run)
        if len(batch) < _PAGE_SIZE:
            break
    return runs


def describe_run(run: dict[str, Any], *, destroying: bool) -> Status:
    """The phase a run's status and conclusion mean, before looking at its jobs."""
    label = f"{'destroy ' if destroying else ''}run #{run.get('run_number', run.get('id'))}"
    status = run.get("status")
    if status != "completed":
        if status == "waiting":
            return Status(Phase.PROGRESSING, f"{label} is waiting for a deployment approval")
        if status == "in_progress":
            return Status(Phase.PROGRESSING, f"{label} is running")
        return Status(Phase.PROGRESSING, f"{label} is queued")
    conclusion = run.get("conclusion")
    if conclusion == "success":
        return Status(Phase.GONE if destroying else Phase.READY, f"{label} succeeded")
    if conclusion == "cancelled":
        return Status(Phase.FAILED, f"the {label} was cancelled outside the bot")
    if conclusion == "timed_out":
        return Status(Phase.FAILED, f"{label} timed out")
    if conclusion == "failure":
        return Status(Phase.FAILED, f"{label} failed")
    return Status(Phase.FAILED, f"{label} ended as {conclusion}")


def job_progress(
    github: GitHubClient, repo_path: str, run_id: int, *, failed: bool = False
) -> str | None:
    """The job and step under way ("job apply: step 4 of 7 (terraform apply)"), or with
    `failed` the one that failed; None when the run has no such job yet."""
    what = f"jobs of workflow run {run_id}"
    body = json_object(
        github.call(
            "GET",
            f"{repo_path}/actions/runs/{run_id}/jobs",
            what=what,
            params={"filter": "latest", "per_page": _PAGE_SIZE},
        ),
        what,
    )
    jobs = [job for job in body.get("jobs") or [] if isinstance(job, dict)]
    if failed:
        return _failed_step(jobs)
    job = next((j for j in jobs if j.get("status") == "in_progress"), None) or next(
        (j for j in jobs if j.get("status") != "completed"), None
    )
    if job is None:
        return None
    steps = _steps(job)
    if not steps:
        return f"job {job.get('name')}: starting"
    current = next((s for s in steps if s.get("status") == "in_progress"), None) or next(
        (s for s in steps if s.get("status") != "completed"), steps[-1]
    )
    position = steps.index(current) + 1
    return f"job {job.get('name')}: step {position} of {len(steps)} ({current.get('name')})"


def _failed_step(jobs: list[dict[str, Any]]) -> str | None:
    job = next((j for j in jobs if j.get("conclusion") in _FAILED), None)
    if job is None:
        return None
    steps = _steps(job)
    step = next((s for s in steps if s.get("conclusion") in _FAILED), None)
    if step is None:
        return f"job {job.get('name')} failed"
    position = steps.index(step) + 1
    return f"job {job.get('name')} failed at step {position} of {len(steps)} ({step.get('name')})"


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps = [s for s in job.get("steps") or [] if isinstance(s, dict)]
    return sorted(steps, key=_step_number)


def _step_number(step: dict[str, Any]) -> int:
    number = step.get("number")
    return number if isinstance(number, int) else 0
