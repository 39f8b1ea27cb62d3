"""RabbitMQ vhosts: a vhost and a user with permissions on that vhost only, via `rabbitmqctl`.

`rabbitmqctl` talks to the node over Erlang distribution, so it works without the management
plugin; it must run as a user holding the node's Erlang cookie (the Debian wrapper switches
to `rabbitmq` when run as root). Every call is an argument list without a shell, and
passwords go on stdin, never on the command line where `ps` would show them.

Per resource `orders-db`: vhost `orders-db`, user `orders-db` without tags (no management
access), configure/write/read permissions `.*` on that vhost and no other. Plan limits:
`connection_limit` → the vhost's `max-connections`; `max_messages` → `max-length`,
`max_bytes` → `max-length-bytes` and `max_age_seconds` → `message-ttl`, applied to every
queue in the vhost by an operator policy (`platform-limits`), which users cannot override.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from urllib.parse import quote

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import Credentials, PlanLimits, ResourceSpec
from integrations.provisioning import names

ENGINE = "rabbitmq"
POLICY_NAME = "platform-limits"

# rabbitmqctl exit codes (sysexits): 65 no such vhost, 67 no such user, 69 the node cannot
# be reached *or* a parameter to clear does not exist (told apart by the text), 75 timeout.
_NO_VHOST, _NO_USER, _UNAVAILABLE, _TEMPFAIL = 65, 67, 69, 75
_NODE_DOWN_HINTS = ("unable to perform an operation on node", "unable to connect to node",
                    "failed to connect", "nodedown", "could not connect")  # fmt: skip


class RabbitMQProvisioner:
    """Provisions on one RabbitMQ node through `rabbitmqctl`.

    `ctl` is the command to run (e.g. `("sudo", "-u", "rabbitmq", "rabbitmqctl")`), `node`
    the node name when not the local default; `host`/`port` are the AMQP address users get.
    """

    engine = ENGINE

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 5672,
        ctl: Sequence[str] = ("rabbitmqctl",),
        node: str | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        self._host = host
        self._port = port
        self._ctl = [*ctl, *(["--node", node] if node else [])]
        self._timeout = timeout_seconds

    def check(self) -> None:
        self._run("check", ["ping"])

    def exists(self, spec: ResourceSpec) -> bool:
        name = self._name(spec)
        vhosts = json.loads(
            self._run("exists", ["list_vhosts", "name", "--formatter", "json"]) or "[]"
        )
        users = json.loads(self._run("exists", ["list_users", "--formatter", "json"]) or "[]")
        return any(v.get("name") == name for v in vhosts) or any(
            u.get("user") == name for u in users
        )

    def create_resource(self, spec: ResourceSpec) -> None:
        vhost = self._name(spec)
        # add_vhost succeeds when the vhost exists, so a re-run converges.
        self._run("create vhost", ["add_vhost", vhost, "--description", "managed by platform-bot"])
        if spec.limits.connection_limit is None:
            self._run("clear vhost limits", ["clear_vhost_limits", "-p", vhost], missing_ok=True)
        else:
            limits = json.dumps({"max-connections": spec.limits.connection_limit})
            self._run("set vhost limits", ["set_vhost_limits", "-p", vhost, limits])
        definition = _queue_policy(spec.limits)
        if definition:
            self._run(
                "set queue limits",
                ["set_operator_policy", "-p", vhost, POLICY_NAME, ".*", json.dumps(definition),
                 "--apply-to", "queues"],
            )  # fmt: skip
        else:
            self._run(
                "clear queue limits",
                ["clear_operator_policy", "-p", vhost, POLICY_NAME],
                missing_ok=True,
            )

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        user = self._name(spec)
        stdin = password + "\n"
        try:
            self._run("create user", ["add_user", user], stdin=stdin)
        except ProviderRejected as exc:
            if "already exists" not in exc.message:
                raise
            self._run("set password", ["change_password", user], stdin=stdin)
        # No tags: the user gets no management UI or HTTP API rights.
        self._run("clear user tags", ["set_user_tags", user])

    def grant(self, spec: ResourceSpec) -> None:
        name = self._name(spec)
        self._run("grant", ["set_permissions", "-p", name, name, ".*", ".*", ".*"])

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        name = self._name(spec)
        host = f"[{self._host}]" if ":" in self._host else self._host
        return Credentials(
            engine=ENGINE,
            host=self._host,
            port=self._port,
            database=name,
            username=name,
            password=password,
            url=(
                f"amqp://{quote(name)}:{quote(password, safe='')}"
                f"@{host}:{self._port}/{quote(name, safe='')}"
            ),
            notes=f"Virtual host {name}; you may declare, publish and consume there only.",
        )

    def drop(self, spec: ResourceSpec) -> None:
        name = self._name(spec)
        # Deleting the vhost removes its queues, exchanges, permissions, limits and policies.
        self._run("drop vhost", ["delete_vhost", name], missing_ok=True)
        self._run("drop user", ["delete_user", name], missing_ok=True)

    def _name(self, spec: ResourceSpec) -> str:
        return names.validate(ENGINE, spec.name)

    def _run(
        self, step: str, args: list[str], *, stdin: str | None = None, missing_ok: bool = False
    ) -> str:
        """Run `rabbitmqctl -q ARGS`; its stdout, or a provider error.

        Errors carry the first line of rabbitmqctl's message, which names users and vhosts
        but never a password (those only travel on stdin); the diagnostics block after it
        (node names, the Erlang cookie's hash) is left out.
        """
        try:
            done = subprocess.run(  # an argument list, never a shell
                [*self._ctl, "-q", *args],
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                timeout=self._timeout,
                check=False,
            )
        except FileNotFoundError:
            raise ProviderUnavailable(
                ENGINE, f"{step} failed: {self._ctl[0]} is not installed"
            ) from None
        except subprocess.TimeoutExpired:
            raise ProviderUnavailable(
                ENGINE, f"{step} failed: rabbitmqctl timed out after {self._timeout:g}s"
            ) from None
        if done.returncode == 0:
            return done.stdout
        detail = _first_error_line(done.stderr) or f"exit code {done.returncode}"
        lowered = done.stderr.lower()
        if missing_ok and (
            done.returncode in (_NO_VHOST, _NO_USER)
            or (done.returncode == _UNAVAILABLE and "does not exist" in lowered)
        ):
            return ""
        if done.returncode == _TEMPFAIL or any(hint in lowered for hint in _NODE_DOWN_HINTS):
            raise ProviderUnavailable(ENGINE, f"{step} failed: RabbitMQ node unreachable")
        raise ProviderRejected(ENGINE, f"{step} failed: {detail}")


def _queue_policy(limits: PlanLimits) -> dict[str, int]:
    definition: dict[str, int] = {}
    if limits.max_messages is not None:
        definition["max-length"] = limits.max_messages
    if limits.max_bytes is not None:
        definition["max-length-bytes"] = limits.max_bytes
    if limits.max_age_seconds is not None:
        definition["message-ttl"] = limits.max_age_seconds * 1000
    return definition


def _first_error_line(stderr: str) -> str:
    for line in stderr.splitlines():
        line = line.strip()
        if line and line.rstrip(":").lower() != "error":
            return line.removeprefix("Error: ")[:200]
    return ""
