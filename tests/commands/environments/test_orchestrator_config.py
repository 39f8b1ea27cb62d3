"""Orchestrator settings in the platform config: each wrong key named with its file and line,
before anything starts (what `platform-bot check-config` prints)."""

from __future__ import annotations

import pytest

from bot.runtime.config import ConfigError, parse_config

TEMPLATE = """\
environments:
  templates:
    cluster-db:
      description: A database from the cluster
      tiers: [dev]
      driver: {driver}
{settings}
"""


def problems(driver: str, settings: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(TEMPLATE.format(driver=driver, settings=settings), "p.yaml", {})
    return str(caught.value)


def test_a_kubernetes_flavour_that_does_not_exist_is_named_with_its_line() -> None:
    found = problems(
        "kubernetes",
        "      kubernetes:\n"
        "        kubeconfig: kube.yaml\n"
        "        flavour: helm\n"
        "        manifest: m.yaml",
    )
    assert "p.yaml:9: environments.templates.cluster-db.kubernetes.flavour" in found
    assert "crossplane-claim" in found


def test_kubernetes_needs_exactly_one_way_into_the_cluster() -> None:
    found = problems(
        "kubernetes",
        "      kubernetes:\n        flavour: kratix\n        manifest: m.yaml",
    )
    assert "give kubeconfig, or in_cluster: true (not both)" in found


def test_github_needs_a_token_or_the_whole_app_and_a_workflow_file() -> None:
    found = problems(
        "github",
        "      github:\n"
        "        repository: acme/platform\n"
        "        workflow: deploy\n"
        "        destroy_workflow: destroy.yml\n"
        "        app_id: '123'",
    )
    assert "p.yaml:9: environments.templates.cluster-db.github.workflow" in found
    found = problems(
        "github",
        "      github:\n"
        "        repository: acme/platform\n"
        "        workflow: deploy.yml\n"
        "        destroy_workflow: destroy.yml\n"
        "        app_id: '123'",
    )
    assert "give token, or app_id, app_private_key and installation_id" in found


def test_humanitec_needs_its_token_and_a_score_file() -> None:
    found = problems(
        "humanitec",
        "      humanitec:\n        org: acme\n        app: orders\n        base_env: development",
    )
    assert "environments.templates.cluster-db.humanitec.token" in found


def test_settings_of_another_driver_are_refused() -> None:
    found = problems(
        "local",
        "      resources: {db: sqlite/small}\n"
        "      github:\n        repository: acme/platform\n        workflow: a.yml\n"
        "        destroy_workflow: b.yml\n        token: t",
    )
    assert "`github:` settings go with driver github" in found


def test_an_engine_names_its_orchestrator_and_its_settings_together() -> None:
    text = (
        "databases:\n"
        "  engines:\n"
        "    postgres:\n"
        "      driver: kubernetes\n"
        "      plans: {small: {tiers: [dev]}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml", {})
    assert "driver kubernetes needs its `kubernetes:` settings" in str(caught.value)
