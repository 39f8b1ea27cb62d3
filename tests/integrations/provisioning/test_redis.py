"""RedisProvisioner against the Redis server on 127.0.0.1:6379; the `default` user is untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning.redis import RedisProvisioner, version_problem
from integrations.provisioning_protocols import PlanLimits, ResourceSpec
from tests.integrations.provisioning.conftest import ADMIN_SECRET, unused_port
from tests.servers import needs_server


@pytest.fixture
@needs_server("redis")
def provisioner() -> RedisProvisioner:
    return RedisProvisioner(host="127.0.0.1", port=6379)


@pytest.fixture
def spec(provisioner: RedisProvisioner, unique_name: str) -> Iterator[ResourceSpec]:
    spec = ResourceSpec(engine="redis", name=unique_name, limits=PlanLimits())
    yield spec
    provisioner.drop(spec)


@pytest.fixture
@needs_server("redis")
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


@pytest.mark.redis
def test_a_refused_admin_login_is_rejected_without_the_password() -> None:
    with pytest.raises(ProviderRejected, match="admin login refused") as caught:
        RedisProvisioner(admin_user="no-such-admin", admin_password=ADMIN_SECRET).check()
    assert ADMIN_SECRET not in str(caught.value)


# -- tenant isolation ---------------------------------------------------------------------------

_OTHER_DB = 1


@pytest.fixture
def tenants(
    provisioner: RedisProvisioner, unique_name: str, admin: redis.Redis
) -> Iterator[tuple[ResourceSpec, ResourceSpec]]:
    """Two provisioned tenants, A and B, with a key and a live subscriber each."""
    specs = (
        ResourceSpec("redis", f"{unique_name[:-3]}-a", PlanLimits()),
        ResourceSpec("redis", f"{unique_name[:-3]}-b", PlanLimits()),
    )
    for spec in specs:
        _provision(provisioner, spec, f"pw-{spec.name}")
        with _as_user(spec.name, f"pw-{spec.name}") as user:
            user.set(f"{spec.name}:secret", "only mine")
    yield specs
    for spec in specs:
        provisioner.drop(spec)
    admin.execute_command("SELECT", 0)


# What tenant A tries against tenant B and the server; each must be refused. Run as A for
# real, so these use arguments that would do no harm to the shared server if one got through.
_REACH_OUT = {
    "SCAN lists every key": ("SCAN", "0"),
    "KEYS lists every key": ("KEYS", "*"),
    "RANDOMKEY names any key": ("RANDOMKEY",),
    "DBSIZE counts every key": ("DBSIZE",),
    "SELECT leaves the tenant's database": ("SELECT", str(_OTHER_DB)),
    "MOVE writes into another database": ("MOVE", "{a}:k", str(_OTHER_DB)),
    "COPY … DB writes into another database": ("COPY", "{a}:k", "{a}:k2", "DB", "1"),
    "SWAPDB swaps whole databases": ("SWAPDB", "14", "15"),
    "PUBSUB CHANNELS lists every channel": ("PUBSUB", "CHANNELS"),
    "PUBSUB NUMSUB counts others' subscribers": ("PUBSUB", "NUMSUB", "{b}:events"),
    "OBJECT inspects keys": ("OBJECT", "ENCODING", "{a}:k"),
    "MIGRATE": ("MIGRATE", "127.0.0.1", "1", "{a}:k", "0", "10"),
    "CLIENT TRACKING BCAST reports every key written": ("CLIENT", "TRACKING", "ON", "BCAST"),
    "CLIENT LIST shows other connections": ("CLIENT", "LIST"),
    "FUNCTION LIST shows others' code": ("FUNCTION", "LIST"),
    "WAIT": ("WAIT", "0", "1"),
    "ACL WHOAMI": ("ACL", "WHOAMI"),
    "CONFIG GET": ("CONFIG", "GET", "databases"),
    "GET of B's key": ("GET", "{b}:secret"),
    "SET of B's key": ("SET", "{b}:secret", "overwritten"),
    "SUBSCRIBE to B's channel": ("PUBLISH", "{b}:events", "spoofed"),
}

# Refused without being run: were one allowed, running it would harm everyone on the server.
_DESTRUCTIVE = [
    ("FLUSHALL",),
    ("FLUSHDB",),
    ("SHUTDOWN", "NOSAVE"),
    ("CONFIG", "SET", "maxmemory", "1"),
    ("CLIENT", "KILL", "USER", "{b}"),
    ("SCRIPT", "FLUSH"),
    ("SCRIPT", "KILL"),
    ("FUNCTION", "FLUSH"),
    ("MONITOR",),
    # DEBUG is also off unless the server enables it; the dry run checks the ACL alone.
    ("DEBUG", "SLEEP", "0"),
    ("DEBUG", "SEGFAULT"),
    ("ACL", "SETUSER", "{a}", "+@all", "~*"),
]


def _fill(args: tuple[str, ...], a: str, b: str) -> list[str]:
    return [arg.replace("{a}", a).replace("{b}", b) for arg in args]


@pytest.mark.parametrize("attempt", list(_REACH_OUT), ids=list(_REACH_OUT))
def test_a_tenant_cannot_see_or_touch_another_tenant_or_database(
    tenants: tuple[ResourceSpec, ResourceSpec], admin: redis.Redis, attempt: str
) -> None:
    a, b = tenants
    with _as_user(a.name, f"pw-{a.name}") as user:
        user.set(f"{a.name}:k", "v")
        with pytest.raises(redis.exceptions.NoPermissionError):
            user.execute_command(*_fill(_REACH_OUT[attempt], a.name, b.name))
        assert user.get(f"{a.name}:k") == b"v"  # still in its own database
    assert admin.get(f"{b.name}:secret") == b"only mine"
    admin.execute_command("SELECT", _OTHER_DB)
    assert list(admin.scan_iter(match=f"{a.name}:*")) == []


@pytest.mark.parametrize("command", _DESTRUCTIVE, ids=[" ".join(c) for c in _DESTRUCTIVE])
def test_server_wide_commands_are_refused(
    tenants: tuple[ResourceSpec, ResourceSpec], admin: redis.Redis, command: tuple[str, ...]
) -> None:
    a, b = tenants
    verdict = admin.execute_command("ACL", "DRYRUN", a.name, *_fill(command, a.name, b.name))
    assert verdict != b"OK" and b"no permissions" in verdict


def test_a_tenant_keeps_what_a_cache_needs(
    tenants: tuple[ResourceSpec, ResourceSpec],
) -> None:
    a, _ = tenants
    with _as_user(a.name, f"pw-{a.name}") as user:
        pipe = user.pipeline(transaction=True)
        pipe.incr(f"{a.name}:n").expire(f"{a.name}:n", 60).hset(f"{a.name}:h", "f", "1")
        assert pipe.execute() == [1, True, 1]
        assert user.eval("return redis.call('GET', KEYS[1])", 1, f"{a.name}:secret") == (
            b"only mine"
        )
        assert user.lpush(f"{a.name}:q", "job") == 1
        assert user.blpop([f"{a.name}:q"], timeout=1) == (f"{a.name}:q".encode(), b"job")
        assert user.client_setname("worker-1") and user.ping()
        # A script runs with the caller's permissions: it cannot SELECT either.
        with pytest.raises(redis.exceptions.ResponseError, match="can't run this command"):
            user.eval("return redis.call('SELECT', '1')", 0)


def test_a_dropped_name_recreated_starts_empty_in_every_database(
    provisioner: RedisProvisioner, spec: ResourceSpec, admin: redis.Redis
) -> None:
    _provision(provisioner, spec, "old-owner")
    old = _as_user(spec.name, "old-owner")
    old.set(f"{spec.name}:data", "old")
    listener = old.pubsub()
    listener.subscribe(f"{spec.name}:events")
    assert listener.get_message(timeout=1) is not None  # the subscribe confirmation
    # Keys an earlier grant let the tenant write elsewhere (it could SELECT, MOVE and COPY).
    for db in (1, 3):
        elsewhere = redis.Redis(host="127.0.0.1", port=6379, db=db)
        with elsewhere:
            elsewhere.set(f"{spec.name}:left-behind", "old")
            elsewhere.set(f"{spec.name}x:not-its", "keep")
    try:
        provisioner.drop(spec)
        _provision(provisioner, spec, "new-owner")
        with _as_user(spec.name, "new-owner") as new:
            assert new.get(f"{spec.name}:data") is None
            new.publish(f"{spec.name}:events", "for the new owner only")
        for db in range(16):
            with redis.Redis(host="127.0.0.1", port=6379, db=db) as each:
                assert list(each.scan_iter(match=f"{spec.name}:*")) == [], db
        # The old owner's connections were closed: it hears nothing on the channel.
        with pytest.raises(redis.exceptions.ConnectionError):
            while listener.get_message(timeout=1) is not None:
                pass
            listener.ping()
        for db in (1, 3):
            with redis.Redis(host="127.0.0.1", port=6379, db=db) as elsewhere:
                assert elsewhere.get(f"{spec.name}x:not-its") == b"keep"
    finally:
        listener.close()
        old.close()
        for db in (1, 3):
            with redis.Redis(host="127.0.0.1", port=6379, db=db) as elsewhere:
                elsewhere.delete(f"{spec.name}x:not-its", f"{spec.name}:left-behind")


@pytest.mark.parametrize(
    ("version", "refused"),
    [("7.0.0", False), ("7.0.15", False), ("10.2", False), ("6.2.14", True), ("", True)],
)
def test_servers_older_than_redis_7_are_refused(version: str, refused: bool) -> None:
    problem = version_problem(version)
    assert (problem is not None) == refused
    if problem is not None:
        assert "need Redis 7 or later" in problem


def test_the_check_accepts_the_local_server(provisioner: RedisProvisioner) -> None:
    provisioner.check()
