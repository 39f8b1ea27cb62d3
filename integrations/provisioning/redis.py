"""Redis "databases": an ACL user confined to its own key and channel prefix in database 0.

Per resource `orders-db`: ACL user `orders-db` allowed keys `orders-db:*` and pub/sub
channels `orders-db:*`. The password reaches the server only as its SHA-256 (`#<hex>`), so
neither `MONITOR` nor the slow log can show it. The resource is the key prefix: there is
nothing to create.

Isolation between tenants rests on three rules, checked against a real server in the tests:

- Commands are an allow-list of categories (data types, keyspace, pub/sub, transactions,
  scripting, connection) minus `@admin`, `@dangerous` and `_DENIED_COMMANDS`: the commands
  that name keys or channels a tenant does not own (SCAN, KEYS, RANDOMKEY, PUBSUB, CLIENT
  TRACKING's broadcast mode, …), count them (DBSIZE), reach another database (SELECT, MOVE,
  COPY … DB, SWAPDB) or change state every tenant shares (FLUSHDB, FUNCTION, SCRIPT FLUSH, …).
  Lua scripts run with the caller's permissions, so EVAL opens nothing more.
- Tenants live in database 0. ACL rules cannot limit database numbers, so SELECT is denied
  and a tenant stays in the database every connection starts in; HELLO cannot change it,
  and RESET returns to database 0 as the `default` user, no more than a new connection gets.
  That is also why the server's `default` user must be disabled or have a password in
  production: whoever logs in as `default` is not confined by any of this.
- `drop` first locks the user out (no commands, keys or channels, its connections closed,
  which also ends its subscriptions), then deletes keys under the prefix in every database
  that holds keys (an older grant allowed SELECT), then deletes the user. A name dropped and
  provisioned again starts empty, and nobody still listens on its channels.

`clone_resource` copies every key under the source's prefix to the same key under the
target's (DUMP / RESTORE with the remaining TTL), after emptying the target's prefix.

ACL users live in server memory: with `save_acl=True` every change is followed by `ACL SAVE`
(the server needs an `aclfile`); without it they vanish when Redis restarts. Subcommand
rules (`-client|tracking`) need Redis 7 or later, which `check` verifies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import names, scrub
from integrations.provisioning_protocols import Credentials, ResourceSpec

if TYPE_CHECKING:
    import redis

ENGINE = "redis"
# The database every connection starts in; tenants cannot leave it (SELECT is denied).
TENANT_DB = 0
MIN_MAJOR_VERSION = 7
_ALLOWED_CATEGORIES = (
    "@keyspace", "@read", "@write", "@string", "@hash", "@list", "@set", "@sortedset",
    "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@blocking", "@transaction",
    "@scripting", "@connection",
)  # fmt: skip
_DENIED_CATEGORIES = ("@admin", "@dangerous")
_DENIED_COMMANDS = (
    # Another database: ACL rules cannot limit database numbers.
    "select", "move", "copy", "swapdb", "migrate",
    # Names of keys and channels the tenant does not own, or how many there are.
    "scan", "keys", "randomkey", "dbsize", "object", "pubsub",
    "client|tracking", "client|caching", "client|getredir", "client|trackinginfo",
    # State every tenant shares: functions, the script cache, the server itself.
    "function", "fcall", "fcall_ro", "script|flush", "script|kill", "script|debug",
    "flushall", "flushdb", "config", "debug", "shutdown", "monitor", "acl",
    "client|kill", "client|list", "wait", "waitaof",
)  # fmt: skip
_SCAN_BATCH = 500

T = TypeVar("T")


class RedisProvisioner:
    """Provisions ACL users on one Redis 7+ server as a user allowed to run `ACL`."""

    engine = ENGINE

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 6379,
        admin_user: str | None = None,
        admin_password: str | None = None,
        save_acl: bool = False,
        public_host: str | None = None,
        public_port: int | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._host = host
        self._port = port
        self._admin_user = admin_user
        self._admin_password = admin_password
        self._save_acl = save_acl
        self._public_host = public_host or host
        self._public_port = public_port or port
        self._timeout = timeout_seconds

    def check(self) -> None:
        version = self._run("check", lambda client: client.info("server")["redis_version"])
        problem = version_problem(str(version))
        if problem is not None:
            raise ProviderRejected(ENGINE, problem)

    def exists(self, spec: ResourceSpec) -> bool:
        user = self._user(spec)
        return bool(self._run("exists", lambda client: client.acl_getuser(user)))

    def create_resource(self, spec: ResourceSpec) -> None:
        # The resource is a key prefix and needs no server object; checking the server here
        # makes a down Redis fail at the same step as the other engines.
        self._user(spec)
        self.check()

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Copy every key `source:*` of the tenant database to `target:*`, with its value,
        type and remaining TTL, in pipelined batches of `_SCAN_BATCH` keys.

        The target's prefix is emptied first, so a re-run after a partial copy ends with
        exactly the source's keys. Keys are read one batch at a time, not at one instant:
        a key written to the source during the copy may or may not be in it. Pub/sub
        messages are not stored by Redis and so are not copied.
        """
        source_prefix = names.key_prefix(self._user(source)).encode()
        target_prefix = names.key_prefix(self._user(target)).encode()
        if source_prefix == target_prefix:
            raise ProviderRejected(ENGINE, "clone failed: a prefix cannot be copied onto itself")
        self.check()
        target_pattern = _glob_escape(target_prefix.decode()) + "*"
        self._run("empty target", lambda client: _unlink_matching(client, target_pattern))
        self._run("copy keys", lambda client: _copy_keys(client, source_prefix, target_prefix))

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        user = self._user(spec)
        hashed = hashlib.sha256(password.encode()).hexdigest()
        # Only the password changes: a new user starts with no keys and no commands until
        # `grant`, and a re-run (password rotation) keeps its grants.
        self._run(
            "create user",
            lambda client: client.acl_setuser(
                user, enabled=True, reset_passwords=True, hashed_passwords=[f"+{hashed}"]
            ),
            secrets=(password, hashed),
        )
        self._persist()

    def grant(self, spec: ResourceSpec) -> None:
        user = self._user(spec)
        prefix = names.key_prefix(user)

        def set_rules(client: redis.Redis) -> None:
            # Rules apply in order: reset, add the categories, then take away. A command the
            # server does not have (WAITAOF before 7.2) cannot be named in a rule.
            known = {_text(name) for name in client.command_list()}
            denied = [c for c in _DENIED_COMMANDS if c.split("|", 1)[0] in known]
            client.acl_setuser(
                user,
                enabled=True,
                reset_keys=True,
                reset_channels=True,
                categories=[
                    "-@all",
                    *(f"+{category}" for category in _ALLOWED_CATEGORIES),
                    *(f"-{category}" for category in _DENIED_CATEGORIES),
                ],
                commands=[f"-{command}" for command in denied],
                keys=[f"~{prefix}*"],
                channels=[f"{prefix}*"],
            )

        self._run("grant", set_rules)
        self._persist()

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        user = self._user(spec)
        prefix = names.key_prefix(user)
        host, port = self._public_host, self._public_port
        url_host = f"[{host}]" if ":" in host else host
        return Credentials(
            engine=ENGINE,
            host=host,
            port=port,
            database=prefix,
            username=user,
            password=password,
            url=f"redis://{quote(user)}:{quote(password, safe='')}@{url_host}:{port}/{TENANT_DB}",
            notes=(
                f"Keys and pub/sub channels must start with {prefix}, in database "
                f"{TENANT_DB}. Commands that reach past your own keys are denied: SELECT, "
                "SCAN, KEYS, FLUSHDB, CONFIG, FUNCTION, … (keep your own index of keys if "
                "you need to list them)."
            ),
        )

    def drop(self, spec: ResourceSpec) -> None:
        user = self._user(spec)
        # The name is [a-z0-9-] only, so the MATCH pattern has no glob characters but `*`.
        pattern = f"{names.key_prefix(user)}*"
        self._run("drop access", lambda client: _lock_out(client, user))
        databases = self._run("list databases", _databases_with_keys)
        for db in sorted(databases | {TENANT_DB}):
            self._run("drop keys", lambda client: _unlink_matching(client, pattern), db=db)
        self._run("drop user", lambda client: client.acl_deluser(user))
        self._persist()

    def _user(self, spec: ResourceSpec) -> str:
        return names.validate(ENGINE, spec.name)

    def _persist(self) -> None:
        if self._save_acl:
            self._run("acl save", lambda client: client.acl_save())

    def _run(
        self,
        step: str,
        call: Callable[[redis.Redis], T],
        *,
        secrets: tuple[str, ...] = (),
        db: int = TENANT_DB,
    ) -> T:
        # Imported here: the client library costs every serving process ~10 MB, and only a
        # provisioning job talks to Redis.
        import redis
        import redis.exceptions
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis(
            host=self._host,
            port=self._port,
            db=db,
            username=self._admin_user,
            password=self._admin_password,
            socket_timeout=self._timeout,
            socket_connect_timeout=self._timeout,
            # One attempt: the job runner owns retrying, and a down server should fail fast.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return call(client)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            if isinstance(exc, redis.exceptions.AuthenticationError):
                raise ProviderRejected(ENGINE, f"{step} failed: admin login refused") from None
            # Their text names the address and the OS error only; the type is enough.
            raise ProviderUnavailable(
                ENGINE,
                f"{step} failed: cannot reach {self._host}:{self._port} ({type(exc).__name__})",
            ) from None
        except redis.exceptions.RedisError as exc:
            raise ProviderRejected(
                ENGINE, scrub(f"{step} failed: {exc}", self._admin_password or "", *secrets)
            ) from None
        finally:
            client.close()


def version_problem(version: str) -> str | None:
    """Why a server reporting `version` cannot isolate tenants; None when it can."""
    major = version.split(".", 1)[0]
    if major.isdigit() and int(major) >= MIN_MAJOR_VERSION:
        return None
    return (
        f"the server runs Redis {version[:20] or '(no version)'}; tenants are isolated with "
        f"subcommand ACL rules, which need Redis {MIN_MAJOR_VERSION} or later"
    )


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _lock_out(client: redis.Redis, user: str) -> None:
    """No commands, keys or channels for `user`, and its open connections closed."""
    if client.acl_getuser(user) is None:
        return  # already dropped; SETUSER would create it
    # Permissions apply to open connections at once, so nothing can write under the prefix
    # while it is being emptied; losing its channels also ends the user's subscriptions.
    client.acl_setuser(
        user, enabled=False, reset_keys=True, reset_channels=True, categories=["-@all"]
    )
    client.client_kill_filter(user=user)


def _databases_with_keys(client: redis.Redis) -> set[int]:
    """The numbers of the databases holding any key (`INFO keyspace` lists only those)."""
    keyspace = client.info("keyspace")
    return {int(name[2:]) for name in keyspace if name.startswith("db") and name[2:].isdigit()}


def _unlink_matching(client: redis.Redis, pattern: str) -> None:
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=_SCAN_BATCH):
        batch.append(key)
        if len(batch) >= _SCAN_BATCH:
            client.unlink(*batch)
            batch.clear()
    if batch:
        client.unlink(*batch)


def _glob_escape(text: str) -> str:
    """`text` matched literally by SCAN's MATCH pattern."""
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def _copy_keys(client: redis.Redis, source: bytes, target: bytes) -> None:
    batch: list[bytes] = []
    for key in client.scan_iter(match=_glob_escape(source.decode()) + "*", count=_SCAN_BATCH):
        batch.append(key)
        if len(batch) >= _SCAN_BATCH:
            _copy_batch(client, batch, source, target)
            batch.clear()
    if batch:
        _copy_batch(client, batch, source, target)


def _copy_batch(client: redis.Redis, keys: list[bytes], source: bytes, target: bytes) -> None:
    reads = client.pipeline(transaction=False)
    for key in keys:
        reads.dump(key)
        reads.pttl(key)
    answers = reads.execute()
    writes = client.pipeline(transaction=False)
    for key, payload, ttl in zip(keys, answers[::2], answers[1::2], strict=True):
        if payload is None:
            continue  # deleted or expired since SCAN returned it
        # PTTL is -1 for a key without expiry, which RESTORE wants as 0.
        writes.restore(target + key[len(source) :], max(int(ttl), 0), payload, replace=True)
    writes.execute()
