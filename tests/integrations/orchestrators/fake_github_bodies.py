"""Answer bodies of the fake GitHub API, and schemas for the endpoints the subset lacks.

Runs, workflows, repositories and dispatch answers start from the official spec's own
examples and are validated against its response schemas by the fake. Jobs, artifacts and
installation tokens are not in the trimmed subset: their schemas below are written from
GitHub's REST documentation ("Workflow jobs", "Workflow artifacts", "Apps"), required fields
and types only. They are ours, not GitHub's, and say so where they are used.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import datetime
from typing import Any

from tests.integrations.openapi_contract import Contract


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_NULLABLE_STRING = {"type": ["string", "null"]}
_STEP = {
    "type": "object",
    "required": ["name", "status", "conclusion", "number"],
    "properties": {
        "name": {"type": "string"},
        "status": {"enum": ["queued", "in_progress", "completed"]},
        "conclusion": _NULLABLE_STRING,
        "number": {"type": "integer"},
        "started_at": _NULLABLE_STRING,
        "completed_at": _NULLABLE_STRING,
    },
}
JOBS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["total_count", "jobs"],
    "properties": {
        "total_count": {"type": "integer"},
        "jobs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    *("id", "run_id", "run_url", "node_id", "head_sha", "url", "html_url"),
                    *("status", "conclusion", "started_at", "completed_at", "name", "steps"),
                    *("check_run_url", "labels", "runner_id", "runner_name", "workflow_name"),
                    *("head_branch", "created_at"),
                ],
                "properties": {
                    "id": {"type": "integer"},
                    "status": {
                        "enum": [
                            *("queued", "in_progress", "completed", "waiting"),
                            *("requested", "pending"),
                        ]
                    },
                    "conclusion": _NULLABLE_STRING,
                    "name": {"type": "string"},
                    "steps": {"type": "array", "items": _STEP},
                },
            },
        },
    },
}
ARTIFACTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["total_count", "artifacts"],
    "properties": {
        "total_count": {"type": "integer"},
        "artifacts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    *("id", "node_id", "name", "size_in_bytes", "url"),
                    *("archive_download_url", "expired", "created_at", "expires_at"),
                    "updated_at",
                ],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "size_in_bytes": {"type": "integer"},
                    "expired": {"type": "boolean"},
                },
            },
        },
    },
}
INSTALLATION_TOKEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["token", "expires_at"],
    "properties": {
        "token": {"type": "string"},
        "expires_at": {"type": "string"},
        "permissions": {"type": "object"},
        "repository_selection": {"enum": ["all", "selected"]},
    },
}
# The query parameters GitHub's documentation lists for the endpoints outside the subset.
EXTRA_QUERY = {"jobs": {"filter", "per_page", "page"}, "artifacts": {"name", "per_page", "page"}}


class Bodies:
    def __init__(self, contract: Contract, *, base_url: str, repository: str) -> None:
        self._examples = contract.document["components"]["examples"]
        self.base_url = base_url
        self.repository = repository

    def example(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self._examples[name]["value"])  # type: ignore[no-any-return]

    def repository_body(self) -> dict[str, Any]:
        body = self.example("full-repository")
        # The spec's own example predates the schema's required `has_discussions`.
        body.setdefault("has_discussions", False)
        owner, name = self.repository.split("/")
        body.update(name=name, full_name=self.repository, archived=False, disabled=False)
        body["owner"]["login"] = owner
        return body

    def workflow(self, workflow_id: int, file: str, state: str) -> dict[str, Any]:
        body = self.example("workflow")
        body.update(
            id=workflow_id,
            name=file.rsplit(".", 1)[0],
            path=f".github/workflows/{file}",
            state=state,
            url=f"{self.base_url}/repos/{self.repository}/actions/workflows/{workflow_id}",
        )
        return body

    def run(self, run: Any, workflow_id: int) -> dict[str, Any]:
        body = self.example("workflow-run")
        url = f"{self.base_url}/repos/{self.repository}/actions/runs/{run.id}"
        body.update(
            id=run.id,
            name=run.workflow.rsplit(".", 1)[0],
            display_title=run.title,
            run_number=run.number,
            event="workflow_dispatch",
            head_branch=run.ref,
            path=f".github/workflows/{run.workflow}",
            workflow_id=workflow_id,
            status=run.status,
            conclusion=run.conclusion,
            created_at=iso(run.created_at),
            updated_at=iso(run.created_at),
            url=url,
            html_url=f"https://github.com/{self.repository}/actions/runs/{run.id}",
            jobs_url=f"{url}/jobs",
            artifacts_url=f"{url}/artifacts",
        )
        return body

    def jobs(self, run: Any) -> dict[str, Any]:
        url = f"{self.base_url}/repos/{self.repository}/actions/runs/{run.id}"
        job = {
            "id": run.id * 10,
            "run_id": run.id,
            "run_url": url,
            "node_id": f"J_{run.id}",
            "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "url": f"{url}/jobs/{run.id * 10}",
            "html_url": f"https://github.com/{self.repository}/actions/runs/{run.id}/job/1",
            "status": run.job_status,
            "conclusion": run.conclusion if run.status == "completed" else None,
            "started_at": iso(run.created_at),
            "completed_at": None,
            "name": run.job_name,
            "steps": [
                {"name": name, "status": status, "conclusion": conclusion, "number": number}
                for number, (name, status, conclusion) in enumerate(run.steps(), start=1)
            ],
            "check_run_url": f"{url}/check-runs/1",
            "labels": ["ubuntu-latest"],
            "runner_id": 1,
            "runner_name": "GitHub Actions 1",
            "workflow_name": run.workflow,
            "head_branch": run.ref,
            "created_at": iso(run.created_at),
        }
        return {"total_count": 1, "jobs": [job] if run.status != "queued" else []}

    def artifacts(self, run: Any, expires: datetime) -> dict[str, Any]:
        items = []
        if run.artifact is not None:
            items.append(
                {
                    "id": run.id + 1000,
                    "node_id": f"A_{run.id}",
                    "name": "platform-bot-outputs",
                    "size_in_bytes": len(run.artifact),
                    "url": f"{self.base_url}/repos/{self.repository}/actions/artifacts/{run.id}",
                    "archive_download_url": f"{self.base_url}/repos/{self.repository}"
                    f"/actions/artifacts/{run.id + 1000}/zip",
                    "expired": False,
                    "created_at": iso(run.created_at),
                    "expires_at": iso(expires),
                    "updated_at": iso(run.created_at),
                }
            )
        return {"total_count": len(items), "artifacts": items}


def outputs_zip(document: dict[str, Any]) -> bytes:
    """A zip as actions/upload-artifact makes it: the file at the archive's root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("outputs.json", json.dumps(document))
    return buffer.getvalue()
