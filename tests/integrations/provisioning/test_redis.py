"""RedisProvisioner against the Redis server on 127.0.0.1:6379; the `default` user is untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import PlanLimits, ResourceSpec
from integrations.provisioning.redis import RedisProvisioner
from tests.integrations.provisioning.conftest import ADMIN_SECRET, unused_port


@pytest.fixture
def provisioner() -> RedisProvisioner:
    return RedisProvisioner(host="127.0.0.1", port=6379)


@pytest.fixture
def spec(provisioner: RedisProvisioner, unique_name: str) -> Iterator[ResourceSpec]:
    spec = ResourceSpec(engine="redis", name=unique_name, limits=PlanLimits())
    yield spec
    provisioner.drop(spec)


@pytest.fixture
def admin() -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379)
    yield client
    client.close()


def _as_user(username: str, password: str) -> redis.Redis:
    # No retries: redis-py would retry a refused login with backoff for seconds.
    return redis.Redis(
        host="127.0.0.1",
        port=6379,
        username=username,
        password=password,
        retry=Retry(NoBackoff(), 0),
    )


def _provision(provisioner: RedisProvisioner, spec: ResourceSpec, password: str) -> None:
    provisioner.create_resource(spec)
    provisioner.create_user(spec, password)
    provisioner.grant(spec)


def test_the_user_touches_only_its_prefix_and_no_dangerous_command(
    provisioner: RedisProvisioner, spec: ResourceSpec, admin: redis.Redis
) -> None:
    assert not provisioner.exists(spec)
    _provision(provisioner, spec, "redis-password-1")
    assert provisioner.exists(spec)
    creds = provisioner.credentials(spec, "redis-password-1")
    assert creds.database == f"{spec.name}:"
    assert creds.url == f"redis://{spec.name}:redis-password-1@127.0.0.1:6379/0"
    assert "redis-password-1" not in repr(creds)

    admin.set("shared:outside", "x")
    try:
        user = _as_user(spec.name, "redis-password-1")
        with user:
            user.set(f"{spec.name}:k", "v")
            assert user.get(f"{spec.name}:k") == b"v"
            user.publish(f"{spec.name}:events", "hello")
            for forbidden in (
                lambda: user.set("other:k", "v"),
                lambda: user.get("shared:outside"),
                lambda: user.publish("other:events", "hello"),
                user.flushall,
                user.flushdb,
                lambda: user.keys("*"),
                lambda: user.config_get("*"),
                lambda: user.acl_list(),
                user.shutdown,
            ):
                with pytest.raises(redis.exceptions.NoPermissionError):
                    forbidden()
    finally:
        admin.delete("shared:outside")

    # The server keeps a SHA-256 of the password, never the password: it was sent hashed.
    rules = admin.acl_getuser(spec.name)
    assert rules is not None
    assert "redis-password-1" not in str(rules)
    with pytest.raises(redis.exceptions.AuthenticationError):
        _as_user(spec.name, "wrong").ping()


def test_running_every_step_twice_converges_and_sets_the_new_password(
    provisioner: RedisProvisioner, spec: ResourceSpec, admin: redis.Redis
) -> None:
    _provision(provisioner, spec, "first-password")
    before = admin.acl_getuser(spec.name)
    # A password rotation alone (create_user) keeps the grants.
    provisioner.create_user(spec, "second-password")
    with pytest.raises(redis.exceptions.AuthenticationError):
        _as_user(spec.name, "first-password").ping()
    with _as_user(spec.name, "second-password") as user:
        user.set(f"{spec.name}:k", "v")
    _provision(provisioner, spec, "second-password")
    after = admin.acl_getuser(spec.name)
    assert before is not None and after is not None
    assert (after["keys"], after["channels"], after["commands"]) == (
        before["keys"],
        before["channels"],
        before["commands"],
    )


def test_drop_removes_the_acl_user_and_the_keys_and_can_run_again(
    provisioner: RedisProvisioner, spec: ResourceSpec, admin: redis.Redis
) -> None:
    _provision(provisioner, spec, "pw")
    with _as_user(spec.name, "pw") as user:
        for index in range(1200):  # more than one SCAN/UNLINK batch
            user.set(f"{spec.name}:k{index}", "v")
    admin.set(f"{spec.name}x:keep", "v")  # shares the letters, not the prefix
    try:
        provisioner.drop(spec)
        assert admin.acl_getuser(spec.name) is None
        assert list(admin.scan_iter(match=f"{spec.name}:*")) == []
        assert admin.get(f"{spec.name}x:keep") == b"v"
        assert not provisioner.exists(spec)
        provisioner.drop(spec)
    finally:
        admin.delete(f"{spec.name}x:keep")


def test_a_server_that_is_down_is_unavailable_without_secrets_in_the_message(
    unique_name: str,
) -> None:
    down = RedisProvisioner(port=unused_port(), admin_user="admin", admin_password=ADMIN_SECRET)
    spec = ResourceSpec("redis", unique_name, PlanLimits())
    for step in (down.check, lambda: down.create_user(spec, "user-password-123")):
        with pytest.raises(ProviderUnavailable) as caught:
            step()
        message = str(caught.value)
        assert "cannot reach 127.0.0.1" in message
        assert ADMIN_SECRET not in message
        assert "user-password-123" not in message


def test_a_refused_admin_login_is_rejected_without_the_password() -> None:
    with pytest.raises(ProviderRejected, match="admin login refused") as caught:
        RedisProvisioner(admin_user="no-such-admin", admin_password=ADMIN_SECRET).check()
    assert ADMIN_SECRET not in str(caught.value)
