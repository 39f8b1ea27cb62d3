"""NATS JetStream streams: one stream per resource on its own subject prefix.

Per resource `orders-db`: stream `ORDERS_DB` capturing subjects `orders-db.>`, file
storage, limits retention discarding the oldest messages, with the plan's `max_bytes`,
`max_messages` and `max_age_seconds` (unset: unlimited). `create_resource` adds the stream,
or updates it to the plan's limits when it exists, so a re-run converges.

Users: NATS per-user credentials and subject permissions live in the server's configuration
(accounts, or operator/JWT mode with `nsc`); no client API creates them. So `create_user` and
`grant` change nothing on the server, and the credentials are the server URL (without any
password) plus the subject prefix: on a server without accounts every client may use every
subject, and isolation is by naming only. Real isolation needs a NATS account per team,
configured on the server.

`clone_resource` creates a stream holding a copy of another one's messages under its own
subjects (see `nats_clone`).

nats-py is asyncio-only; each call runs its own short event loop, so these methods must be
called from a thread without a running loop (the job runner's threads are).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import names, nats_clone
from integrations.provisioning_protocols import Credentials, ResourceSpec

ENGINE = "nats"
T = TypeVar("T")
_UNREACHABLE = (
    TimeoutError,
    OSError,
    nats.errors.NoServersError,
    nats.errors.TimeoutError,
    nats.errors.ConnectionClosedError,
)


class NatsProvisioner:
    """Provisions JetStream streams on one NATS server (or cluster, via `servers`)."""

    engine = ENGINE

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 4222,
        admin_user: str | None = None,
        admin_password: str | None = None,
        public_host: str | None = None,
        public_port: int | None = None,
        replicas: int = 1,
        timeout_seconds: float = 5.0,
        clone_timeout_seconds: float = 600.0,
    ) -> None:
        self._host = host
        self._port = port
        self._admin_user = admin_user
        self._admin_password = admin_password
        self._public_host = public_host or host
        self._public_port = public_port or port
        self._replicas = replicas
        self._timeout = timeout_seconds
        self._clone_timeout = clone_timeout_seconds

    def check(self) -> None:
        self._run("check", lambda js: js.account_info())

    def exists(self, spec: ResourceSpec) -> bool:
        stream = self._stream(spec)

        async def find(js: JetStreamContext) -> bool:
            try:
                await js.stream_info(stream)
            except nats.js.errors.NotFoundError:
                return False
            return True

        return self._run("exists", find)

    def create_resource(self, spec: ResourceSpec) -> None:
        config = self.stream_config(spec)

        async def create(js: JetStreamContext) -> None:
            try:
                await js.stream_info(config.name or "")
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)
                return
            await js.update_stream(config)

        self._run("create stream", create)

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Create `target`'s stream as `create_resource` does, holding a copy of every
        message stored in `source`'s under `target`'s subjects. Consumers are not copied;
        see `nats_clone` for how, and what a re-run does."""
        copy = nats_clone.StreamCopy(
            source=self._stream(source),
            source_prefix=names.subject_prefix(source.name),
            target=self.stream_config(target),
            target_prefix=names.subject_prefix(target.name),
            catch_up_seconds=self._clone_timeout,
        )
        if copy.source == copy.target.name:
            raise ProviderRejected(
                ENGINE, f"clone failed: {copy.source} cannot be copied onto itself"
            )
        self._run_client(
            "clone stream",
            lambda client: nats_clone.clone_stream(
                client, client.jetstream(timeout=self._timeout), copy
            ),
            timeout=self._clone_timeout + self._timeout * 3,
        )

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        # Nothing to create: see the module docstring. The name is still checked so that
        # every step refuses a bad name the same way.
        self._stream(spec)

    def grant(self, spec: ResourceSpec) -> None:
        self._stream(spec)

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        stream = self._stream(spec)
        prefix = names.subject_prefix(spec.name)
        return Credentials(
            engine=ENGINE,
            host=self._public_host,
            port=self._public_port,
            database=prefix,
            username="",
            password="",
            url=f"nats://{_url_host(self._public_host)}:{self._public_port}",
            notes=(
                f"JetStream stream {stream} stores subjects {prefix}>; publish and subscribe "
                f"under {prefix} only. This server has no per-user accounts, so no password "
                "is issued and subject isolation is by convention."
            ),
        )

    def drop(self, spec: ResourceSpec) -> None:
        stream = self._stream(spec)

        async def delete(js: JetStreamContext) -> None:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(stream)

        self._run("drop stream", delete)

    def stream_config(self, spec: ResourceSpec) -> StreamConfig:
        """The stream a resource gets; limits left unset are sent as unlimited (-1 / 0) so
        that an update also removes a limit the plan no longer has."""
        stream = self._stream(spec)
        limits = spec.limits
        return StreamConfig(
            name=stream,
            description="managed by platform-bot",
            subjects=[f"{names.subject_prefix(spec.name)}>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            num_replicas=self._replicas,
            max_bytes=-1 if limits.max_bytes is None else limits.max_bytes,
            max_msgs=-1 if limits.max_messages is None else limits.max_messages,
            max_age=0 if limits.max_age_seconds is None else float(limits.max_age_seconds),
            duplicate_window=120,
        )

    def _stream(self, spec: ResourceSpec) -> str:
        return names.stream_name(names.validate(ENGINE, spec.name))

    def _run(self, step: str, call: Callable[[JetStreamContext], Awaitable[T]]) -> T:
        return self._run_client(
            step,
            lambda client: call(client.jetstream(timeout=self._timeout)),
            timeout=self._timeout * 3,
        )

    def _run_client(
        self, step: str, call: Callable[[Client], Awaitable[T]], *, timeout: float
    ) -> T:
        try:
            return asyncio.run(asyncio.wait_for(self._session(call), timeout=timeout))
        except _UNREACHABLE:
            raise ProviderUnavailable(
                ENGINE, f"{step} failed: cannot reach {self._host}:{self._port}"
            ) from None
        except nats.js.errors.ServiceUnavailableError:
            raise ProviderUnavailable(
                ENGINE, f"{step} failed: JetStream is not available"
            ) from None
        except nats.errors.AuthorizationError:
            raise ProviderRejected(ENGINE, f"{step} failed: admin login refused") from None
        except nats.js.errors.APIError as exc:
            raise ProviderRejected(
                ENGINE,
                f"{step} failed: {exc.description or 'JetStream error'} (code {exc.err_code})",
            ) from None
        except nats.errors.Error as exc:
            raise ProviderRejected(ENGINE, f"{step} failed: {type(exc).__name__}") from None

    async def _session(self, call: Callable[[Client], Awaitable[T]]) -> T:
        client: Client = await nats.connect(
            servers=[f"nats://{_url_host(self._host)}:{self._port}"],
            user=self._admin_user,
            password=self._admin_password,
            connect_timeout=self._timeout,
            # One attempt per server: nats-py retries forever with 0 and would log each try
            # through its default error callback.
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            error_cb=_ignore_error,
        )
        try:
            return await call(client)
        finally:
            await client.close()


async def _ignore_error(exc: Exception) -> None:
    """The error surfaces from `connect` or the call itself; nothing to do in the callback."""


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
