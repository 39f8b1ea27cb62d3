"""What an apply run made, from the artifact the workflow uploads.

The documented format: the apply workflow uploads an artifact named `platform-bot-outputs`
holding one file, `outputs.json`:

    {"values": {"url": "https://orders-dev.example.com"},
     "secrets": {"database_password": "…"}}

`values` are shown on the card; `secrets` go only to the hand-off (a secrets manager). The
artifact is listed with `GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts`, and
`GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/zip` answers 302 with a short-lived
pre-signed URL, fetched without our token (it is meant for anyone holding the link, and the
token has no business on the storage host). Sizes are bounded before and while reading.
Neither endpoint is in the trimmed OpenAPI subset we test against; their shapes follow
GitHub's REST documentation ("Workflow artifacts").
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import Outputs
from integrations.orchestrators.github_client import PROVIDER, GitHubClient, json_object

OUTPUTS_ARTIFACT = "platform-bot-outputs"
OUTPUTS_FILE = "outputs.json"


def read_outputs(github: GitHubClient, *, repo_path: str, run_id: int, limit: int) -> Outputs:
    """The run's outputs; empty when the workflow uploaded none (it made nothing to show)."""
    what = f"artifacts of workflow run {run_id}"
    body = json_object(
        github.call(
            "GET",
            f"{repo_path}/actions/runs/{run_id}/artifacts",
            what=what,
            params={"name": OUTPUTS_ARTIFACT, "per_page": 100},
        ),
        what,
    )
    artifacts = [
        a
        for a in body.get("artifacts") or []
        if isinstance(a, dict)
        and a.get("name") == OUTPUTS_ARTIFACT
        and isinstance(a.get("id"), int)
    ]
    if not artifacts:
        return Outputs()
    # A re-run attempt uploads again: the newest artifact is the current one.
    artifact = max(artifacts, key=lambda a: int(a["id"]))
    if artifact.get("expired"):
        raise ProviderRejected(
            PROVIDER, f"the {OUTPUTS_ARTIFACT} artifact of run {run_id} has expired"
        )
    size = artifact.get("size_in_bytes")
    if isinstance(size, int) and size > limit:
        raise ProviderRejected(PROVIDER, f"the {OUTPUTS_ARTIFACT} artifact is over {limit} bytes")
    archive = _download(github, repo_path, int(artifact["id"]), limit)
    return _parse(archive, limit)


def _download(github: GitHubClient, repo_path: str, artifact_id: int, limit: int) -> bytes:
    what = f"download of artifact {artifact_id}"
    response = github.call("GET", f"{repo_path}/actions/artifacts/{artifact_id}/zip", what=what)
    if response.status_code == 200:
        if len(response.content) > limit:
            raise ProviderRejected(PROVIDER, f"{what} is larger than {limit} bytes")
        return response.content
    location = response.headers.get("location")
    if response.status_code not in (301, 302, 303, 307, 308) or not location:
        raise ProviderUnavailable(PROVIDER, f"{what} answered {response.status_code}")
    return github.download(location, what=what, limit=limit)


def _parse(archive: bytes, limit: int) -> Outputs:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            try:
                info = zipped.getinfo(OUTPUTS_FILE)
            except KeyError:
                raise ProviderRejected(
                    PROVIDER, f"the {OUTPUTS_ARTIFACT} artifact has no {OUTPUTS_FILE}"
                ) from None
            # The declared size bounds what is inflated: a small zip can hold a huge file.
            if info.file_size > limit:
                raise ProviderRejected(PROVIDER, f"{OUTPUTS_FILE} is over {limit} bytes")
            raw = zipped.read(info)
    except zipfile.BadZipFile:
        raise ProviderRejected(PROVIDER, f"the {OUTPUTS_ARTIFACT} artifact is not a zip") from None
    try:
        document = json.loads(raw)
    except ValueError:
        raise ProviderRejected(PROVIDER, f"{OUTPUTS_FILE} is not JSON") from None
    if not isinstance(document, dict):
        raise ProviderRejected(PROVIDER, f"{OUTPUTS_FILE} is not a JSON object")
    return Outputs(
        values=_strings(document.get("values"), "values"),
        secrets=_strings(document.get("secrets"), "secrets"),
    )


def _strings(section: Any, label: str) -> dict[str, str]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ProviderRejected(PROVIDER, f"{OUTPUTS_FILE}: {label} is not an object")
    result: dict[str, str] = {}
    for key, value in section.items():
        # Only the key is named: the value may be a secret.
        if isinstance(value, bool):
            result[str(key)] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            result[str(key)] = str(value)
        else:
            raise ProviderRejected(PROVIDER, f"{OUTPUTS_FILE}: {label}.{key} is not a string")
    return result
