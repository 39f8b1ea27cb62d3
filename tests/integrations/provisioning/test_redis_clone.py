"""RedisProvisioner.clone_resource: a prefix's keys copied under another, on 127.0.0.1:6379."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import redis.exceptions

from integrations.errors import ProviderRejected
from integrations.provisioning.redis import RedisProvisioner
from integrations.provisioning_protocols import ResourceSpec
from tests.integrations.provisioning.conftest import provision
from tests.servers import needs_server


@pytest.fixture
@needs_server("redis")
def provisioner() -> RedisProvisioner:
    return RedisProvisioner(host="127.0.0.1", port=6379)


@pytest.fixture
def pair(provisioner: RedisProvisioner, unique_name: str) -> Iterator[tuple[ResourceSpec, ...]]:
    specs = (ResourceSpec("redis", unique_name), ResourceSpec("redis", f"{unique_name}-copy"))
    yield specs
    for spec in specs:
        provisioner.drop(spec)


@pytest.fixture
@needs_server("redis")
def admin() -> Iterator[redis.Redis]:
    with redis.Redis(host="127.0.0.1", port=6379) as client:
        yield client


def _user(spec: ResourceSpec) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=6379, username=spec.name, password=f"pw-{spec.name}")


def _keys(admin: redis.Redis, spec: ResourceSpec) -> set[bytes]:
    return set(admin.scan_iter(match=f"{spec.name}:*"))


def test_a_clone_copies_values_types_and_ttls_for_the_target_user_only(
    provisioner: RedisProvisioner, pair: tuple[ResourceSpec, ...], admin: redis.Redis
) -> None:
    source, target = pair
    provision(provisioner, source, f"pw-{source.name}")
    with _user(source) as user:
        user.set(f"{source.name}:plain", "v")
        user.set(f"{source.name}:session", "s", px=60_000)
        user.hset(f"{source.name}:profile", mapping={"email": "ada@example.com"})
        user.rpush(f"{source.name}:queue", "a", "b")
    for _ in range(2):  # a re-run converges on exactly the source's keys
        provisioner.clone_resource(source, target)
        provision(provisioner, target, f"pw-{target.name}")
    assert _keys(admin, target) == {
        key.replace(source.name.encode(), target.name.encode(), 1) for key in _keys(admin, source)
    }
    with _user(target) as user:
        assert user.get(f"{target.name}:plain") == b"v"
        assert 0 < user.pttl(f"{target.name}:session") <= 60_000
        assert user.pttl(f"{target.name}:plain") == -1
        assert user.hgetall(f"{target.name}:profile") == {b"email": b"ada@example.com"}
        assert user.lrange(f"{target.name}:queue", 0, -1) == [b"a", b"b"]
        user.set(f"{target.name}:plain", "changed")
    with _user(source) as user:
        assert user.get(f"{source.name}:plain") == b"v"
        with pytest.raises(redis.exceptions.NoPermissionError):
            user.get(f"{target.name}:plain")

    provisioner.drop(target)
    provisioner.drop(source)
    assert _keys(admin, source) == _keys(admin, target) == set()
    assert not provisioner.exists(source) and not provisioner.exists(target)


def test_an_empty_source_clones_and_a_clone_onto_itself_is_refused(
    provisioner: RedisProvisioner, pair: tuple[ResourceSpec, ...], admin: redis.Redis
) -> None:
    source, target = pair
    provision(provisioner, source, f"pw-{source.name}")
    provisioner.clone_resource(source, target)
    provision(provisioner, target, f"pw-{target.name}")
    assert _keys(admin, target) == set()
    with _user(target) as user:
        user.set(f"{target.name}:k", "v")
    with pytest.raises(ProviderRejected, match="onto itself"):
        provisioner.clone_resource(source, source)
