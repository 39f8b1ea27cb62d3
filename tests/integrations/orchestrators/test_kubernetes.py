"""Contract tests of the Kubernetes orchestrator against the fake API server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from integrations.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from integrations.orchestrators.base import OrchestratorRequest, Phase
from integrations.orchestrators.kubernetes import (
    ClusterAccess,
    Flavour,
    KubernetesOrchestrator,
    ManifestInvalid,
)
from tests.conftest import free_port
from tests.integrations.orchestrators.conftest import CREDENTIALS, NAMESPACE
from tests.integrations.orchestrators.fake_kubernetes import APPLY, FakeKubernetes

Make = Callable[..., KubernetesOrchestrator]
PARAMETERS = {
    "owner": "orders_owner",
    "connection_limit": "20",
    "storage_gb": "20",
    "version": "16",
    "database": "orders",
}
REQUEST = OrchestratorRequest("orders-db", "orders", "dev", "postgres", PARAMETERS)
DATABASE = (
    "apiVersion: postgresql.sql.m.crossplane.io/v1alpha1\nkind: Database\nmetadata: {name: x}\n"
)
PLURALS = {
    Flavour.CROSSPLANE_CLAIM: "postgresqlinstances",
    Flavour.CROSSPLANE_XR: "postgresqldatabases",
    Flavour.KRATIX: "postgresqls",
    Flavour.MANAGED: "databases",
}


def _patches(fake: FakeKubernetes) -> list[dict[str, list[str]]]:
    return [query for method, _, query, _ in fake.requests if method == "PATCH"]


def test_plan_is_a_server_side_dry_run_that_stores_nothing(
    fake: FakeKubernetes, make: Make
) -> None:
    plan = make().plan(REQUEST)

    assert [(c.action, c.what) for c in plan.changes] == [("create", "Database/orders-db")]
    assert "dry run" in plan.notes[0]
    assert fake.objects == {}
    (query,) = _patches(fake)
    assert query["dryRun"] == ["All"] and query["fieldManager"] == ["platform-bot"]
    assert query["force"] == ["true"] and query["fieldValidation"] == ["Strict"]
    assert all(ct == APPLY for m, _, _, ct in fake.requests if m == "PATCH")


def test_plan_after_apply_says_update(fake: FakeKubernetes, make: Make) -> None:
    orchestrator = make()
    orchestrator.apply(REQUEST)

    assert [c.action for c in orchestrator.plan(REQUEST).changes] == ["update"]


@pytest.mark.parametrize("flavour", list(Flavour))
def test_apply_reports_progress_then_ready_outputs_and_destroy_to_gone(
    fake: FakeKubernetes, make: Make, flavour: Flavour
) -> None:
    fake.behaviour.ready_after = 3
    fake.behaviour.status_fields = (
        {"message": "Resource provisioned"} if flavour is Flavour.KRATIX else {}
    )
    if flavour in (Flavour.CROSSPLANE_XR, Flavour.KRATIX):
        fake.behaviour.secret_name = (
            "orders-db-conn"
            if flavour is Flavour.CROSSPLANE_XR
            else "orders-db-postgres-credentials"
        )
    orchestrator = make(flavour)

    handle = orchestrator.apply(REQUEST)
    progress = [orchestrator.status(handle), orchestrator.status(handle)]
    ready = orchestrator.status(handle)
    outputs = orchestrator.outputs(handle)

    assert fake.stored(PLURALS[flavour], "orders-db") is not None
    assert [s.phase for s in progress] == [Phase.PROGRESSING] * 2
    expected = "Pending" if flavour is Flavour.KRATIX else "Synced, waiting for Ready (Creating)"
    assert progress[0].message == expected
    assert ready.phase is Phase.READY
    assert outputs.secrets["password"] == CREDENTIALS["password"]
    assert outputs.secrets["username"] == CREDENTIALS["username"]
    assert outputs.values["endpoint"] == "pg.internal"
    assert CREDENTIALS["password"] not in outputs.values.values()
    if flavour is Flavour.KRATIX:
        assert outputs.values["summary"] == "Resource provisioned" and "port" not in outputs.values
    orchestrator.destroy(handle)
    deleting = orchestrator.status(handle)
    assert deleting.phase is Phase.PROGRESSING and "foregroundDeletion" in deleting.message
    assert orchestrator.status(handle).phase is Phase.GONE
    assert ("DELETE", {"propagationPolicy": ["Foreground"]}) in [
        (m, q) for m, _, q, _ in fake.requests
    ]


def test_the_handle_names_the_object_and_applying_twice_makes_one(
    fake: FakeKubernetes, make: Make
) -> None:
    orchestrator = make(Flavour.CROSSPLANE_CLAIM)

    first, second = orchestrator.apply(REQUEST), orchestrator.apply(REQUEST)

    assert first == second
    assert first.id == f"database.example.org/v1alpha1/PostgreSQLInstance/{NAMESPACE}/orders-db"
    assert first.details["plural"] == "postgresqlinstances"  # found by discovery
    assert len(fake.objects) == 1
    claim = fake.stored("postgresqlinstances", "orders-db")
    assert claim is not None and claim["spec"]["parameters"]["storageGB"] == 20
    assert claim["metadata"]["namespace"] == NAMESPACE


def test_an_invalid_manifest_names_the_field_and_sends_nothing(
    fake: FakeKubernetes, make: Make
) -> None:
    request = OrchestratorRequest(
        "orders-db", "orders", "dev", "postgres", {**PARAMETERS, "version": "9.6"}
    )

    with pytest.raises(ManifestInvalid) as raised:
        make(Flavour.CROSSPLANE_CLAIM).plan(request)

    assert "spec.parameters.version: must be one of 15, 16, 17" in raised.value.message
    assert fake.requests == []


def test_a_non_integer_for_an_integer_field_is_refused_before_sending(
    fake: FakeKubernetes, make: Make
) -> None:
    request = OrchestratorRequest(
        "orders-db", "orders", "dev", "postgres", {**PARAMETERS, "connection_limit": "lots"}
    )

    with pytest.raises(
        ManifestInvalid, match=r"spec\.forProvider\.connectionLimit: must be an integer"
    ):
        make().apply(request)
    assert fake.requests == []


def test_an_unknown_placeholder_is_named(fake: FakeKubernetes, make: Make) -> None:
    template = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: '${parameters.colour}'}"
    )

    with pytest.raises(ManifestInvalid, match=r"\$\{parameters\.colour\}"):
        make(manifest_template=template, schema=None).plan(REQUEST)
    assert fake.requests == []


@pytest.mark.parametrize(
    "hostile",
    [
        'x"\nadmin: true',
        "owner: root\nspec: {}",
        "'; DROP ROLE x; --",
        "a\n---\nkind: Secret",
        "${name}",
    ],
)
def test_hostile_parameter_values_stay_one_scalar(
    fake: FakeKubernetes, make: Make, hostile: str
) -> None:
    make().apply(
        OrchestratorRequest(
            "orders-db", "orders", "dev", "postgres", {**PARAMETERS, "owner": hostile}
        )
    )

    stored = fake.stored("databases", "orders-db")
    assert stored is not None
    assert stored["spec"]["forProvider"] == {"owner": hostile, "connectionLimit": 20}
    assert set(stored) == {"apiVersion", "kind", "metadata", "spec"}


def test_refused_credentials_are_a_rejection(fake: FakeKubernetes, make: Make) -> None:
    fake.token = "another-token"

    with pytest.raises(ProviderRejected, match=r"refused the bot's credentials \(401\)"):
        make().apply(REQUEST)


def test_a_field_owned_by_another_manager_is_a_conflict_naming_it(
    fake: FakeKubernetes, make: Make
) -> None:
    orchestrator = make(force_conflicts=False)
    handle = orchestrator.apply(REQUEST)
    edited = fake.stored("databases", "orders-db")
    assert edited is not None and handle.id
    fake.apply_as(
        "kubectl-edit",
        {**_config_of(edited), "spec": {"forProvider": {"owner": "someone_else"}}},
        "databases",
    )

    with pytest.raises(ProviderRejected) as raised:
        orchestrator.apply(REQUEST)

    assert "kubectl-edit" in raised.value.message
    assert ".spec.forProvider.owner" in raised.value.message


def _config_of(obj: dict[str, object]) -> dict[str, object]:
    metadata = obj["metadata"]
    assert isinstance(metadata, dict)
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]},
    }


def test_the_servers_invalid_answer_lists_its_causes(fake: FakeKubernetes, make: Make) -> None:
    template = DATABASE + "spec: {forProvider: {strategy: FAST}}\n"

    with pytest.raises(ProviderRejected) as raised:
        make(manifest_template=template, schema=None).apply(REQUEST)

    assert "spec.forProvider.strategy" in raised.value.message
    assert 'Unsupported value: "FAST"' in raised.value.message
    assert fake.objects == {}


def test_an_undeclared_field_is_refused_by_strict_validation(
    fake: FakeKubernetes, make: Make
) -> None:
    template = DATABASE + "spec: {forProvider: {colour: blue}}\n"

    with pytest.raises(ProviderRejected, match=r"\.spec\.forProvider\.colour: field not declared"):
        make(manifest_template=template, schema=None).plan(REQUEST)


def test_server_errors_are_retried_with_backoff(
    fake: FakeKubernetes, make: Make, sleeps: list[float]
) -> None:
    fake.fail_next(503, times=2)

    make().apply(REQUEST)

    assert sleeps == [0.5, 1.0]
    assert fake.stored("databases", "orders-db") is not None


def test_too_many_requests_waits_as_long_as_retry_after_says(
    fake: FakeKubernetes, make: Make, sleeps: list[float]
) -> None:
    fake.fail_next(429, retry_after="7")

    make().apply(REQUEST)

    assert sleeps == [7.0]


def test_retries_give_up_as_unavailable(
    fake: FakeKubernetes, make: Make, sleeps: list[float]
) -> None:
    fake.fail_next(503, times=4)
    with pytest.raises(ProviderUnavailable, match="503"):
        make().apply(REQUEST)
    fake.fail_next(429, times=4, retry_after="30")
    with pytest.raises(ProviderRateLimited) as raised:
        make().apply(REQUEST)
    assert raised.value.retry_after == 30 and max(sleeps) == 20.0  # capped by max_backoff


def test_an_unreachable_cluster_is_unavailable(make: Make, kubeconfig: Path) -> None:
    nobody = ClusterAccess(kubeconfig=kubeconfig, server=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(ProviderUnavailable, match="ConnectError"):
        make(access=nobody).plan(REQUEST)


def test_never_ready_keeps_reporting_progress(fake: FakeKubernetes, make: Make) -> None:
    fake.behaviour.never_ready = True
    orchestrator = make()
    handle = orchestrator.apply(REQUEST)

    phases = {orchestrator.status(handle).phase for _ in range(10)}

    assert phases == {Phase.PROGRESSING}


def test_a_reconcile_error_is_a_failure_with_its_message(fake: FakeKubernetes, make: Make) -> None:
    fake.behaviour.fail_with = 'cannot create database: pq: role "orders_owner" does not exist'
    orchestrator = make()

    status = orchestrator.status(orchestrator.apply(REQUEST))

    assert status.phase is Phase.FAILED
    assert status.message == 'cannot create database: pq: role "orders_owner" does not exist'


def test_a_failed_kratix_pipeline_is_a_failure(fake: FakeKubernetes, make: Make) -> None:
    fake.behaviour.fail_with = "create-db"
    orchestrator = make(Flavour.KRATIX)

    status = orchestrator.status(orchestrator.apply(REQUEST))

    assert (status.phase, status.message) == (
        Phase.FAILED,
        "A Configure Pipeline has failed: create-db",
    )


def test_deleted_outside_the_bot_is_gone(fake: FakeKubernetes, make: Make) -> None:
    orchestrator = make()
    handle = orchestrator.apply(REQUEST)
    fake.remove("databases", "orders-db")

    assert orchestrator.status(handle).phase is Phase.GONE
    orchestrator.destroy(handle)  # a repeat finds nothing and is fine


def test_a_kubeconfig_that_runs_a_command_is_refused(make: Make, tmp_path: Path) -> None:
    path = tmp_path / "exec-kubeconfig"
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}}
    path.write_text(
        yaml.safe_dump(
            {
                "current-context": "c",
                "clusters": [{"name": "c", "cluster": {"server": "https://k8s.example"}}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )

    with pytest.raises(ProviderRejected, match="running a command"):
        make(access=ClusterAccess(kubeconfig=path))
