"""FakeProvisioner and FakeSecretStore keep the real adapters' contract."""

from __future__ import annotations

import pytest

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable
from integrations.fakes import FakeProvisioner, FakeSecretStore
from integrations.provisioning_protocols import (
    DataCloner,
    PlanLimits,
    Provisioner,
    ResourceSpec,
    SecretStore,
    SqlRunner,
)


def test_fake_provisioner_life_cycle_is_idempotent() -> None:
    provisioner = FakeProvisioner("redis")
    fake: Provisioner = provisioner  # type-checks the fake against the protocol
    spec = ResourceSpec("redis", "orders-db", PlanLimits(connection_limit=3))
    assert not fake.exists(spec)
    for password in ("one", "two"):
        fake.create_resource(spec)
        fake.create_user(spec, password)
        fake.grant(spec)
    assert fake.exists(spec)
    assert provisioner.passwords == {"orders-db": "two"}
    assert provisioner.granted == {"orders-db"}
    assert "two" not in repr(fake.credentials(spec, "two"))
    fake.drop(spec)
    fake.drop(spec)
    assert not fake.exists(spec)
    assert [call[0] for call in provisioner.calls[:4]] == [
        "exists",
        "create_resource",
        "create_user",
        "grant",
    ]


def test_fake_provisioner_refuses_bad_names_and_fails_on_demand() -> None:
    fake = FakeProvisioner("postgres")
    with pytest.raises(ProviderRejected):
        fake.create_resource(ResourceSpec("postgres", 'x"; DROP TABLE', PlanLimits()))
    spec = ResourceSpec("postgres", "orders-db", PlanLimits())
    fake.fail_next("grant")
    fake.create_resource(spec)
    fake.create_user(spec, "pw")
    with pytest.raises(ProviderRejected):
        fake.grant(spec)
    fake.grant(spec)  # only once
    fake.available = False
    with pytest.raises(ProviderUnavailable):
        fake.check()


def test_fake_secret_store_unwraps_once() -> None:
    fake = FakeSecretStore()
    store: SecretStore = fake
    assert store.write("team/orders-db", {"password": "p1"}) == 1
    assert store.write("team/orders-db", {"password": "p2"}) == 2
    wrapped = store.wrap("team/orders-db", ttl_seconds=900)
    assert wrapped.token not in repr(wrapped)
    assert "TOKEN" in wrapped.unwrap_command
    assert fake.unwrap(wrapped.token) == {"password": "p2"}
    with pytest.raises(ProviderRejected):
        fake.unwrap(wrapped.token)
    store.delete("team/orders-db")
    store.delete("team/orders-db")
    with pytest.raises(ProviderNotFound):
        store.wrap("team/orders-db", ttl_seconds=900)


def test_fake_provisioner_clones_an_existing_resource_and_runs_sql_on_it() -> None:
    provisioner = FakeProvisioner("postgres")
    cloner: DataCloner = provisioner
    runner: SqlRunner = provisioner
    source, target = ResourceSpec("postgres", "orders-db"), ResourceSpec("postgres", "orders-copy")
    with pytest.raises(ProviderRejected):
        cloner.clone_resource(source, target)
    with pytest.raises(ProviderRejected):
        runner.run_sql(target, "UPDATE customers SET email = NULL")
    provisioner.create_resource(source)
    cloner.clone_resource(source, target)
    cloner.clone_resource(source, target)
    runner.run_sql(target, "UPDATE customers SET email = NULL")
    assert provisioner.clones == {"orders-copy": "orders-db"}
    assert provisioner.sql_runs == [("orders-copy", "UPDATE customers SET email = NULL")]
    provisioner.drop(target)
    assert provisioner.clones == {}
