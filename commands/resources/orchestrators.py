"""How a template (or a new-db engine) reaches the platform's own orchestrator: a Kubernetes
cluster running Crossplane or Kratix, the Humanitec Platform Orchestrator, or a GitHub
Actions workflow. Validated with the rest of the platform config, so `check-config` names
the file and line of every wrong key; tokens come from `${VAR}`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.core.config import Section

_HTTPS_OR_HTTP = re.compile(r"https?://[^\s@/?#]+(/[^\s?#]*)?")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
_WORKFLOW = re.compile(r"[A-Za-z0-9_.-]{1,100}\.ya?ml")
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class OnTimeout(StrEnum):
    DELETE = "delete"
    KEEP = "keep"


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    if not _HTTPS_OR_HTTP.fullmatch(value):
        raise ValueError("must be an https:// (or http://) URL without a login")
    return value.rstrip("/")


class Waiting(Section):
    poll_seconds: float = Field(default=5, gt=0, le=600)
    timeout_minutes: float = Field(default=30, gt=0, le=24 * 60)
    on_timeout: OnTimeout = Field(
        default=OnTimeout.DELETE, description="what a run not ready in time leaves behind"
    )


class Flavour(StrEnum):
    CROSSPLANE_CLAIM = "crossplane-claim"
    CROSSPLANE_XR = "crossplane-xr"
    KRATIX = "kratix"
    MANAGED = "managed"
    """provider-sql's Database/Role/Grant (or any managed resource) applied directly."""


class KubernetesDriver(Section):
    """Crossplane or Kratix through the Kubernetes API (server-side apply)."""

    kubeconfig: Path | None = Field(default=None, description="a kubeconfig file")
    context: str | None = Field(default=None, description="else the kubeconfig's current one")
    in_cluster: bool = Field(default=False, description="the pod's service account")
    api_url: str | None = Field(default=None, description="overrides the server address")
    namespace: str = Field(default="default")
    flavour: Flavour
    manifest: Path = Field(description="a YAML document with ${name}, ${parameters.X}, …")
    crd: Path | None = Field(default=None, description="the CRD, to validate before sending")
    connection_secret: str | None = Field(
        default=None, description="the Secret to hand over, e.g. ${name}-conn"
    )
    parameters: dict[str, str] = Field(
        default_factory=dict, description="new-db: `${parameters.X}` for every resource"
    )
    waiting: Waiting = Field(default_factory=Waiting)

    _check_url = field_validator("api_url")(lambda cls, v: _url(v))

    @model_validator(mode="after")
    def _one_access(self) -> KubernetesDriver:
        if (self.kubeconfig is None) == (not self.in_cluster):
            raise ValueError("give kubeconfig, or in_cluster: true (not both)")
        return self

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not _K8S_NAME.fullmatch(value):
            raise ValueError("must be a Kubernetes namespace name (lowercase, digits, -)")
        return value


class HumanitecDriver(Section):
    """The Humanitec Platform Orchestrator: an environment per request, the Score workload."""

    api_url: str = Field(default="https://api.humanitec.io")
    org: str = Field(min_length=1, max_length=100)
    app: str = Field(min_length=1, max_length=100)
    base_env: str = Field(min_length=1, max_length=100, description="cloned for each one")
    env_types: dict[str, str] = Field(default_factory=dict, description="tier → environment type")
    token: SecretStr = Field(description="use ${HUMANITEC_TOKEN}")
    waiting: Waiting = Field(default_factory=Waiting)

    _check_url = field_validator("api_url")(lambda cls, v: _url(v))


class GitHubDriver(Section):
    """A GitHub Actions workflow (`workflow_dispatch`) for apply and another for destroy."""

    api_url: str = Field(default="https://api.github.com")
    repository: str = Field(description="owner/name")
    workflow: str = Field(description="the apply workflow's file, e.g. environment-apply.yml")
    destroy_workflow: str
    ref: str = Field(default="main", min_length=1, max_length=200)
    token: SecretStr | None = Field(default=None, description="use ${GITHUB_TOKEN}")
    app_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="id or client id"
    )
    app_private_key: SecretStr | None = Field(default=None, description="PEM; use ${VAR}")
    installation_id: int | None = Field(default=None, ge=1)
    parameters: dict[str, str] = Field(
        default_factory=dict, description="new-db: `${parameters.X}` for every resource"
    )
    waiting: Waiting = Field(default_factory=Waiting)

    _check_url = field_validator("api_url")(lambda cls, v: _url(v))

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not _REPOSITORY.fullmatch(value):
            raise ValueError("must be owner/name")
        return value

    @field_validator("workflow", "destroy_workflow")
    @classmethod
    def _workflow(cls, value: str) -> str:
        if not _WORKFLOW.fullmatch(value):
            raise ValueError("must be a workflow file name such as environment-apply.yml")
        return value

    @model_validator(mode="after")
    def _one_login(self) -> GitHubDriver:
        app = (self.app_id, self.app_private_key, self.installation_id)
        if self.token is None and None in app:
            raise ValueError("give token, or app_id, app_private_key and installation_id")
        if self.token is not None and any(v is not None for v in app):
            raise ValueError("give token or the GitHub App's keys, not both")
        return self
