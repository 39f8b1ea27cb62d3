"""The provisioning and secrets ports: what a provisioner and a secret store implement.

The other ports are in `integrations.protocols`; these are apart because only the resource
features and their engines use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """A plan's limits as each engine can enforce them; None means "the server's default".

    What each engine does with them is in its provisioner's docstring; a limit an engine has
    no equivalent for is ignored there, never approximated by something else.
    """

    connection_limit: int | None = None
    """PostgreSQL role and database CONNECTION LIMIT, MariaDB MAX_USER_CONNECTIONS,
    RabbitMQ vhost max-connections."""
    max_bytes: int | None = None
    """NATS stream max_bytes, RabbitMQ max-length-bytes per queue, SQLite max_page_count."""
    max_messages: int | None = None
    """NATS stream max_msgs, RabbitMQ max-length per queue."""
    max_age_seconds: int | None = None
    """NATS stream max_age, RabbitMQ message-ttl."""


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    """What to provision: the engine, a name already validated by the caller, the limits."""

    engine: str
    """"postgres" | "mariadb" | "redis" | "rabbitmq" | "nats" | "sqlite"."""
    name: str
    """^[a-z][a-z0-9-]{1,29}[a-z0-9]$; each provisioner validates it again before any I/O."""
    limits: PlanLimits = field(default_factory=PlanLimits)


@dataclass(frozen=True, slots=True)
class Credentials:
    """How the resource's owner connects; `password` and `url` never appear in a repr."""

    engine: str
    host: str
    port: int
    database: str
    """Database name, vhost, key prefix, stream subject prefix or file path."""
    username: str
    password: str = field(repr=False)
    url: str = field(repr=False)
    """Connection URL including the password."""
    notes: str = ""
    """How to use it (no secret), e.g. "keys must start with orders-db:"."""


class Provisioner(Protocol):
    """Creates and removes one engine's resources and their least-privilege users.

    Every method is idempotent and validates `spec.name` before any I/O. Failures to reach
    the server raise `ProviderUnavailable`, refusals `ProviderRejected`; messages never
    contain a password, a password hash or a DSN.
    """

    engine: str

    def check(self) -> None:
        """Raise `ProviderUnavailable` when the server cannot be reached."""
        ...

    def exists(self, spec: ResourceSpec) -> bool:
        """True when the resource or its user already exists (the name is taken)."""
        ...

    def create_resource(self, spec: ResourceSpec) -> None:
        """Create the database / vhost / stream / file, with the plan's limits."""
        ...

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        """Create the resource's user; re-running sets the password."""
        ...

    def grant(self, spec: ResourceSpec) -> None:
        """Give the user least privilege on that resource only."""
        ...

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials: ...

    def drop(self, spec: ResourceSpec) -> None:
        """Remove the resource and its user/ACL; anything already missing is fine."""
        ...


class DataCloner(Protocol):
    """A provisioner that can create a resource as a copy of another one's data."""

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Create `target` as `create_resource` would, holding a copy of `source`'s data.

        Used instead of `create_resource` when cloning; `create_user` and `grant` follow as
        usual, after which target's user may read and write everything copied and source's
        user has no access to it. `source` is only read. A re-run converges on one full copy.
        """
        ...


class SqlRunner(Protocol):
    """A provisioner that can run SQL of the platform's own (e.g. masking) in a resource."""

    def run_sql(self, spec: ResourceSpec, sql_text: str) -> None:
        """Run `sql_text` (several statements) as the admin in `spec`'s database, in one
        transaction where the engine allows it; a failure raises `ProviderRejected` with the
        server's first message line."""
        ...


@dataclass(frozen=True, slots=True)
class WrappedSecret:
    """A one-time, time-limited token that unwraps to a stored secret."""

    token: str = field(repr=False)
    ttl_seconds: int
    unwrap_command: str
    """How the user unwraps it, with the literal placeholder `TOKEN` where the token goes."""


class SecretStore(Protocol):
    """A Vault-compatible KV v2 store that hands secrets over by response wrapping."""

    def write(self, path: str, data: Mapping[str, str]) -> int:
        """Write a new version at `path`; returns the version number."""
        ...

    def wrap(self, path: str, *, ttl_seconds: int) -> WrappedSecret:
        """A response-wrapped read of `path`: a token that unwraps to the data once."""
        ...

    def delete(self, path: str) -> None:
        """Remove every version and the metadata; a missing path is fine."""
        ...

    def check(self) -> None: ...
