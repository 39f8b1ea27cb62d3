"""Redis "databases": an ACL user confined to its own key and channel prefix.

Per resource `orders-db`: ACL user `orders-db` allowed keys `orders-db:*` and pub/sub
channels `orders-db:*`, every command except the `@admin` and `@dangerous` categories (so
no FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG, ACL, SHUTDOWN, MIGRATE, …). The resource is the
key prefix: there is nothing to create, and `drop` deletes the keys under it (SCAN + UNLINK)
along with the user. The password reaches the server only as its SHA-256 (`#<hex>`), so
neither `MONITOR` nor the slow log can show it.

ACL users live in server memory: with `save_acl=True` every change is followed by `ACL SAVE`
(the server needs an `aclfile`); without it they vanish when Redis restarts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import quote

import redis
import redis.exceptions
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import Credentials, ResourceSpec
from integrations.provisioning import names, scrub

ENGINE = "redis"
_COMMANDS = ("+@all", "-@admin", "-@dangerous")
_SCAN_BATCH = 500

T = TypeVar("T")


class RedisProvisioner:
    """Provisions ACL users on one Redis 6+ server as a user allowed to run `ACL`."""

    engine = ENGINE

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 6379,
        admin_user: str | None = None,
        admin_password: str | None = None,
        db: int = 0,
        save_acl: bool = False,
        public_host: str | None = None,
        public_port: int | None = None,
        timeout_seconds: float = 5.0,
    ) -> None:
        self._host = host
        self._port = port
        self._admin_user = admin_user
        self._admin_password = admin_password
        self._db = db
        self._save_acl = save_acl
        self._public_host = public_host or host
        self._public_port = public_port or port
        self._timeout = timeout_seconds

    def check(self) -> None:
        self._run("check", lambda client: client.ping())

    def exists(self, spec: ResourceSpec) -> bool:
        user = self._user(spec)
        return bool(self._run("exists", lambda client: client.acl_getuser(user)))

    def create_resource(self, spec: ResourceSpec) -> None:
        # The resource is a key prefix and needs no server object; checking the server here
        # makes a down Redis fail at the same step as the other engines.
        self._user(spec)
        self.check()

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
        self._run(
            "grant",
            lambda client: client.acl_setuser(
                user,
                enabled=True,
                reset_keys=True,
                reset_channels=True,
                categories=list(_COMMANDS),
                keys=[f"~{prefix}*"],
                channels=[f"{prefix}*"],
            ),
        )
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
            url=f"redis://{quote(user)}:{quote(password, safe='')}@{url_host}:{port}/{self._db}",
            notes=(
                f"Keys and pub/sub channels must start with {prefix}; admin and dangerous "
                "commands (FLUSHALL, KEYS, CONFIG, …) are denied."
            ),
        )

    def drop(self, spec: ResourceSpec) -> None:
        user = self._user(spec)
        # The name is [a-z0-9-] only, so the MATCH pattern has no glob characters but `*`.
        pattern = f"{names.key_prefix(user)}*"

        def unlink_keys(client: redis.Redis) -> None:
            batch: list[bytes] = []
            for key in client.scan_iter(match=pattern, count=_SCAN_BATCH):
                batch.append(key)
                if len(batch) >= _SCAN_BATCH:
                    client.unlink(*batch)
                    batch.clear()
            if batch:
                client.unlink(*batch)

        self._run("drop keys", unlink_keys)
        self._run("drop user", lambda client: client.acl_deluser(user))
        self._persist()

    def _user(self, spec: ResourceSpec) -> str:
        return names.validate(ENGINE, spec.name)

    def _persist(self) -> None:
        if self._save_acl:
            self._run("acl save", lambda client: client.acl_save())

    def _run(
        self, step: str, call: Callable[[redis.Redis], T], *, secrets: tuple[str, ...] = ()
    ) -> T:
        client = redis.Redis(
            host=self._host,
            port=self._port,
            db=self._db,
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
