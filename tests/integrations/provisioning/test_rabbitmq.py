"""RabbitMQProvisioner against the local RabbitMQ node, through its management HTTP API.

The node's guest/guest login works from loopback; the management plugin is enabled by
`.ci/services.sh`. What the provisioner set up is read back over the same API as an admin,
and proved with real AMQP connections made with the issued credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pika
import pika.exceptions
import pytest

from integrations.errors import IntegrationError, ProviderRejected, ProviderUnavailable
from integrations.provisioning.rabbitmq import MANAGEMENT_TIMEOUT, RabbitMQProvisioner
from integrations.provisioning_protocols import PlanLimits, ResourceSpec
from tests.integrations.provisioning.conftest import ADMIN_SECRET, provision, unused_port
from tests.servers import needs_server

MANAGEMENT_URL = "http://127.0.0.1:15672"
ADMIN = ("guest", "guest")
MakeSpec = Callable[..., ResourceSpec]


@pytest.fixture
@needs_server("rabbitmq")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(base_url=MANAGEMENT_URL, timeout=MANAGEMENT_TIMEOUT) as client:
        yield client


@pytest.fixture
def provisioner(client: httpx.Client) -> RabbitMQProvisioner:
    return RabbitMQProvisioner(client, admin_user=ADMIN[0], admin_password=ADMIN[1])


@pytest.fixture
def make_spec(provisioner: RabbitMQProvisioner, unique_name: str) -> Iterator[MakeSpec]:
    """Specs with fresh names (`unique_name`, then suffixes); all dropped after the test."""
    made: list[ResourceSpec] = []

    def make(limits: PlanLimits | None = None) -> ResourceSpec:
        name = unique_name if not made else f"{unique_name[:-3]}-{len(made)}-db"
        made.append(ResourceSpec(engine="rabbitmq", name=name, limits=limits or PlanLimits()))
        return made[-1]

    yield make
    for spec in made:
        provisioner.drop(spec)


def _read(client: httpx.Client, *path: str) -> Any:
    """The admin's view of `/api/PATH`: its JSON, or None when it does not exist."""
    response = client.get("/api/" + "/".join(path), auth=ADMIN)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()


def _connect(user: str, password: str, vhost: str) -> pika.BlockingConnection:
    parameters = pika.ConnectionParameters(
        host="127.0.0.1",
        port=5672,
        virtual_host=vhost,
        credentials=pika.PlainCredentials(user, password),
        connection_attempts=1,
        socket_timeout=5,
    )
    return pika.BlockingConnection(parameters)


def _publish_and_consume(connection: pika.BlockingConnection, queue: str, body: bytes) -> bytes:
    channel = connection.channel()
    channel.confirm_delivery()  # publishing returns once the broker has the message
    channel.queue_declare(queue=queue)
    channel.basic_publish(exchange="", routing_key=queue, body=body)
    for _method, _properties, received in channel.consume(
        queue, auto_ack=True, inactivity_timeout=5
    ):
        channel.cancel()
        return received or b""
    return b""


def test_provision_isolate_rotate_and_drop(
    provisioner: RabbitMQProvisioner, make_spec: MakeSpec, client: httpx.Client
) -> None:
    limits = PlanLimits(connection_limit=5, max_messages=1000, max_age_seconds=3600)
    mine, theirs = make_spec(limits), make_spec()
    provision(provisioner, theirs, "their-password")
    provisioner.check()
    assert not provisioner.exists(mine)
    for password in ("first-password", "second-password"):  # the second run must converge
        provision(provisioner, mine, password)
    assert provisioner.exists(mine)
    creds = provisioner.credentials(mine, "second-password")
    assert creds.url == f"amqp://{mine.name}:second-password@127.0.0.1:5672/{mine.name}"
    assert "second-password" not in repr(creds)

    connection = _connect(mine.name, "second-password", mine.name)
    try:
        assert _publish_and_consume(connection, "orders.events", b"hello") == b"hello"
    finally:
        connection.close()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        _connect(mine.name, "first-password", mine.name)
    for elsewhere in ("/", theirs.name):  # neither the default vhost nor another tenant's
        with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
            _connect(mine.name, "second-password", elsewhere)
    # No tags, so no management API: the user cannot even read who it is.
    refused = client.get("/api/whoami", auth=(mine.name, "second-password"))
    assert refused.status_code == 401

    assert _read(client, "users", mine.name)["tags"] == []
    assert _read(client, "users", mine.name, "permissions") == [
        {"user": mine.name, "vhost": mine.name, "configure": ".*", "write": ".*", "read": ".*"}
    ]
    assert _read(client, "vhost-limits", mine.name) == [
        {"vhost": mine.name, "value": {"max-connections": 5}}
    ]
    policy = _read(client, "operator-policies", mine.name, "platform-limits")
    assert policy["definition"] == {"max-length": 1000, "message-ttl": 3600000}
    assert (policy["pattern"], policy["apply-to"]) == (".*", "queues")

    provisioner.drop(mine)
    assert not provisioner.exists(mine)
    assert _read(client, "vhosts", mine.name) is None
    assert _read(client, "users", mine.name) is None
    assert provisioner.exists(theirs)
    # The fixture drops once more on the way out: that second drop must pass too.


def test_a_rerun_with_another_plan_converges_and_clears_limits_it_no_longer_sets(
    provisioner: RabbitMQProvisioner, make_spec: MakeSpec, client: httpx.Client
) -> None:
    full = make_spec(PlanLimits(connection_limit=3, max_bytes=4096, max_messages=10))
    provision(provisioner, full, "pw-one")
    bytes_only = ResourceSpec("rabbitmq", full.name, PlanLimits(max_bytes=2048))
    provision(provisioner, bytes_only, "pw-two")
    assert _read(client, "vhost-limits", full.name) == []
    policy = _read(client, "operator-policies", full.name, "platform-limits")
    assert policy["definition"] == {"max-length-bytes": 2048}

    provision(provisioner, ResourceSpec("rabbitmq", full.name, PlanLimits()), "pw-three")
    assert _read(client, "operator-policies", full.name, "platform-limits") is None
    assert _read(client, "vhost-limits", full.name) == []


def test_the_plan_limits_hold_for_the_users_own_queues(
    provisioner: RabbitMQProvisioner, make_spec: MakeSpec
) -> None:
    spec = make_spec(PlanLimits(connection_limit=1, max_messages=2))
    provision(provisioner, spec, "limited-password")
    connection = _connect(spec.name, "limited-password", spec.name)
    try:
        with pytest.raises(pika.exceptions.AMQPConnectionError):  # one past the limit
            _connect(spec.name, "limited-password", spec.name)
        channel = connection.channel()
        channel.confirm_delivery()
        channel.queue_declare(queue="jobs")
        for number in range(3):
            channel.basic_publish(exchange="", routing_key="jobs", body=str(number).encode())
        # max-length 2 drops from the head: the newest two are kept.
        assert channel.queue_declare(queue="jobs", passive=True).method.message_count == 2
    finally:
        connection.close()


def _failures(
    provisioner: RabbitMQProvisioner, error: type[IntegrationError], name: str
) -> list[str]:
    """The messages `check` and `create_user` fail with; none may carry a password."""
    spec = ResourceSpec("rabbitmq", name, PlanLimits())
    messages = []
    for step in (provisioner.check, lambda: provisioner.create_user(spec, "user-password-1")):
        with pytest.raises(error) as caught:
            step()
        messages.append(str(caught.value))
        assert ADMIN_SECRET not in messages[-1]
        assert "user-password-1" not in messages[-1]
    return messages


def test_an_unreachable_management_api_is_unavailable_without_secrets(unique_name: str) -> None:
    port = unused_port()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=MANAGEMENT_TIMEOUT) as down:
        provisioner = RabbitMQProvisioner(down, admin_password=ADMIN_SECRET)
        for message in _failures(provisioner, ProviderUnavailable, unique_name):
            assert f"cannot reach the management API at http://127.0.0.1:{port}" in message
            assert "is the rabbitmq_management plugin enabled?" in message


def test_a_refused_admin_login_is_rejected_not_unavailable(
    client: httpx.Client, unique_name: str
) -> None:
    # Configuration to fix, not an outage to wait out: the job must not retry it.
    wrong = RabbitMQProvisioner(client, admin_user="guest", admin_password=ADMIN_SECRET)
    for message in _failures(wrong, ProviderRejected, unique_name):
        assert "refused the admin user 'guest' (HTTP 401: Login failed)" in message


def test_an_admin_login_without_the_administrator_tag_fails_the_check(
    client: httpx.Client, unique_name: str
) -> None:
    # A `management` user can log in to the API but cannot create vhosts or users.
    url = f"/api/users/{unique_name}"
    created = client.put(url, json={"password": "monitor-pw", "tags": "management"}, auth=ADMIN)
    assert created.status_code == 201
    try:
        weak = RabbitMQProvisioner(client, admin_user=unique_name, admin_password="monitor-pw")
        with pytest.raises(ProviderRejected, match="lacks the 'administrator' tag"):
            weak.check()
    finally:
        client.delete(url, auth=ADMIN)


# --- Cloning ----------------------------------------------------------------------------------


def _topology(client: httpx.Client, vhost: str) -> dict[str, Any]:
    """The vhost's definitions without the parts that name the vhost itself."""
    definitions = _read(client, "definitions", vhost)
    return {
        key: [{name: value for name, value in item.items() if name != "vhost"} for item in items]
        for key, items in definitions.items()
        if key in ("queues", "exchanges", "bindings", "policies")
    }


def test_a_clone_has_the_topology_but_not_the_messages_for_the_target_user_only(
    provisioner: RabbitMQProvisioner, make_spec: MakeSpec, client: httpx.Client
) -> None:
    source, target = make_spec(), make_spec(PlanLimits(connection_limit=3))
    provision(provisioner, source, "source-password")
    policy = {"pattern": "^orders", "definition": {"max-length": 10}, "apply-to": "queues"}
    client.put(f"/api/policies/{source.name}/small", json=policy, auth=ADMIN).raise_for_status()
    connection = _connect(source.name, "source-password", source.name)
    try:
        channel = connection.channel()
        channel.exchange_declare("orders", exchange_type="topic", durable=True)
        channel.queue_declare("orders.new", durable=True)
        channel.queue_bind("orders.new", "orders", routing_key="new.*")
        channel.confirm_delivery()
        channel.basic_publish("orders", "new.order", b"stays in the source")
    finally:
        connection.close()

    for _ in range(2):  # a re-run converges
        provisioner.clone_resource(source, target)
        provision(provisioner, target, "target-password")
    assert _topology(client, target.name) == _topology(client, source.name)
    assert _read(client, "vhost-limits", target.name)[0]["value"] == {"max-connections": 3}

    connection = _connect(target.name, "target-password", target.name)
    try:
        channel = connection.channel()
        assert channel.queue_declare("orders.new", passive=True).method.message_count == 0
        channel.confirm_delivery()
        channel.basic_publish("orders", "new.copy", b"routed in the copy")
        method, _properties, body = channel.basic_get("orders.new", auto_ack=True)
        assert method is not None and body == b"routed in the copy"
    finally:
        connection.close()
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
        _connect(source.name, "source-password", target.name)
    connection = _connect(source.name, "source-password", source.name)
    try:
        queue = connection.channel().queue_declare("orders.new", passive=True)
        assert queue.method.message_count == 1
    finally:
        connection.close()

    provisioner.drop(target)
    provisioner.drop(source)
    for spec in (source, target):
        assert not provisioner.exists(spec)


def test_an_empty_source_clones_and_a_missing_one_is_rejected(
    provisioner: RabbitMQProvisioner, make_spec: MakeSpec, client: httpx.Client
) -> None:
    source, target = make_spec(), make_spec()
    with pytest.raises(ProviderRejected, match="does not exist"):
        provisioner.clone_resource(source, target)
    assert not provisioner.exists(target)
    provision(provisioner, source, "source-password")
    provisioner.clone_resource(source, target)
    provision(provisioner, target, "target-password")
    connection = _connect(target.name, "target-password", target.name)
    try:
        assert _publish_and_consume(connection, "jobs", b"hello") == b"hello"
    finally:
        connection.close()
