"""RabbitMQ vhosts: a vhost and a user with permissions on that vhost only, over HTTP.

Everything goes through the management HTTP API (plugin `rabbitmq_management`, port 15672
by default) with an admin login holding the `administrator` tag, so the bot needs nothing
but network access to the node: no CLI, no Erlang cookie. `rabbitmq_api` maps its answers
onto the error tree and keeps passwords out of URLs and messages.

Per resource `orders-db`: vhost `orders-db`, user `orders-db` without tags (no management
access), configure/write/read permissions `.*` on that vhost and no other. Plan limits:
`connection_limit` → the vhost's `max-connections`; `max_messages` → `max-length`,
`max_bytes` → `max-length-bytes` and `max_age_seconds` → `message-ttl`, applied to every
queue in the vhost by an operator policy (`platform-limits`), which users cannot override.
A limit the plan no longer sets is cleared. Every step is a PUT or a DELETE, so a re-run
converges on the same state, and a re-run of `create_user` sets the new password.

`clone_resource` copies a vhost's topology (not its messages) into a new vhost through the
definitions export and import.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from integrations.errors import ProviderRejected
from integrations.provisioning import names
from integrations.provisioning.rabbitmq_api import PROVIDER, ManagementApi
from integrations.provisioning_protocols import Credentials, PlanLimits, ResourceSpec

ENGINE = PROVIDER
POLICY_NAME = "platform-limits"
MANAGEMENT_PORT = 15672
MANAGEMENT_TIMEOUT = httpx.Timeout(30.0, connect=3.0)
"""Deleting a vhost deletes its queues, which can take seconds on a busy node."""
CLONED_DEFINITIONS = ("queues", "exchanges", "bindings", "policies")
"""What a clone takes from the source's definitions: no users, permissions or parameters."""
ADMIN_TAG = "administrator"
"""Creating vhosts and users, and setting limits and operator policies, needs this tag."""


def url_host(host: str) -> str:
    """`host` as it goes into a URL: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def default_management_url(host: str) -> str:
    """The management API on the AMQP host, at the plugin's default port."""
    return f"http://{url_host(host)}:{MANAGEMENT_PORT}"


class RabbitMQProvisioner:
    """Provisions on one RabbitMQ node (or cluster) through its management HTTP API.

    `client` has the API's address as `base_url` and explicit timeouts; `admin_user` and
    `admin_password` are the basic-auth login; `host`/`port` are the AMQP address users get.
    """

    engine = ENGINE

    def __init__(
        self,
        client: httpx.Client,
        *,
        admin_user: str = "guest",
        admin_password: str = "",
        host: str = "127.0.0.1",
        port: int = 5672,
    ) -> None:
        self._api = ManagementApi(client, admin_user=admin_user, admin_password=admin_password)
        self._admin_user = admin_user
        self._host = host
        self._port = port

    def check(self) -> None:
        me = self._api.get("check", "whoami")
        if me is None:
            raise ProviderRejected(
                ENGINE,
                f"check failed: {self._api.address} has no management API under /api "
                "(HTTP 404); check management_url",
            )
        if ADMIN_TAG not in _tags(me):
            raise ProviderRejected(
                ENGINE,
                f"check failed: the admin user {self._admin_user!r} lacks the "
                f"{ADMIN_TAG!r} tag, which creating vhosts and users needs",
            )

    def exists(self, spec: ResourceSpec) -> bool:
        name = self._name(spec)
        return (
            self._api.get("exists", "vhosts", name) is not None
            or self._api.get("exists", "users", name) is not None
        )

    def create_resource(self, spec: ResourceSpec) -> None:
        vhost = self._name(spec)
        self._api.put(
            "create vhost", "vhosts", vhost, body={"description": "managed by platform-bot"}
        )
        limit = spec.limits.connection_limit
        if limit is None:
            self._api.delete("clear vhost limits", "vhost-limits", vhost, "max-connections")
        else:
            self._api.put(
                "set vhost limits", "vhost-limits", vhost, "max-connections", body={"value": limit}
            )
        definition = _queue_policy(spec.limits)
        if definition:
            policy = {
                "pattern": ".*",
                "definition": definition,
                "apply-to": "queues",
                "priority": 0,
            }
            self._api.put("set queue limits", "operator-policies", vhost, POLICY_NAME, body=policy)
        else:
            self._api.delete("clear queue limits", "operator-policies", vhost, POLICY_NAME)

    def clone_resource(self, source: ResourceSpec, target: ResourceSpec) -> None:
        """Create `target`'s vhost as `create_resource` does, with `source`'s queues,
        exchanges, bindings and policies (`CLONED_DEFINITIONS`).

        Messages are not copied: the management API cannot read them without consuming
        them, so the target's queues start empty. Nor are users, permissions, vhost limits
        or runtime parameters (shovels, federation upstreams): the target gets its own from
        the plan. The import declares what is missing and leaves what exists, so a re-run
        converges.
        """
        source_vhost, target_vhost = self._name(source), self._name(target)
        if source_vhost == target_vhost:
            raise ProviderRejected(
                ENGINE, f"clone failed: {source_vhost} cannot be copied onto itself"
            )
        # The definitions endpoint answers 400, not 404, for a vhost that does not exist.
        if self._api.get("read source", "vhosts", source_vhost) is None:
            raise ProviderRejected(ENGINE, f"clone failed: vhost {source_vhost} does not exist")
        definitions = self._api.get("read definitions", "definitions", source_vhost)
        if not isinstance(definitions, dict):
            raise ProviderRejected(ENGINE, "clone failed: the definitions export is not an object")
        self.create_resource(target)
        body = {key: _without_vhost(definitions.get(key)) for key in CLONED_DEFINITIONS}
        self._api.post("import definitions", "definitions", target_vhost, body=body)

    def create_user(self, spec: ResourceSpec, password: str) -> None:
        user = self._name(spec)
        # Empty tags: the user gets no management UI or HTTP API access. A PUT on an existing
        # user replaces its password and tags, so a re-run rotates the password.
        body = {"password": password, "tags": ""}
        self._api.put("create user", "users", user, body=body, secret=password)

    def grant(self, spec: ResourceSpec) -> None:
        name = self._name(spec)
        everything = {"configure": ".*", "write": ".*", "read": ".*"}
        self._api.put("grant", "permissions", name, name, body=everything)

    def credentials(self, spec: ResourceSpec, password: str) -> Credentials:
        name = self._name(spec)
        return Credentials(
            engine=ENGINE,
            host=self._host,
            port=self._port,
            database=name,
            username=name,
            password=password,
            url=(
                f"amqp://{quote(name)}:{quote(password, safe='')}"
                f"@{url_host(self._host)}:{self._port}/{quote(name, safe='')}"
            ),
            notes=f"Virtual host {name}; you may declare, publish and consume there only.",
        )

    def drop(self, spec: ResourceSpec) -> None:
        name = self._name(spec)
        # Deleting the vhost removes its queues, exchanges, permissions, limits and policies.
        self._api.delete("drop vhost", "vhosts", name)
        self._api.delete("drop user", "users", name)

    def _name(self, spec: ResourceSpec) -> str:
        return names.validate(ENGINE, spec.name)


def _queue_policy(limits: PlanLimits) -> dict[str, int]:
    definition: dict[str, int] = {}
    if limits.max_messages is not None:
        definition["max-length"] = limits.max_messages
    if limits.max_bytes is not None:
        definition["max-length-bytes"] = limits.max_bytes
    if limits.max_age_seconds is not None:
        definition["message-ttl"] = limits.max_age_seconds * 1000
    return definition


def _without_vhost(items: Any) -> list[Any]:
    """Exported objects without the `vhost` some carry (policies): the import must place
    them in the target's vhost, never back into the source's."""
    if not isinstance(items, list):
        return []
    return [
        {key: value for key, value in item.items() if key != "vhost"}
        for item in items
        if isinstance(item, dict)
    ]


def _tags(whoami: Any) -> frozenset[str]:
    """The tags in a `/api/whoami` answer: a list, or a comma-separated string on old nodes."""
    tags = whoami.get("tags") if isinstance(whoami, dict) else None
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list):
        return frozenset()
    return frozenset(tag.strip() for tag in tags if isinstance(tag, str))
