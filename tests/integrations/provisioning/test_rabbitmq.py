"""RabbitMQProvisioner against the local RabbitMQ node, through `rabbitmqctl`.

Each rabbitmqctl call starts an Erlang VM (about half a second), so these are `slow`.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pika
import pika.exceptions
import pytest

from integrations.errors import ProviderUnavailable
from integrations.protocols import PlanLimits, ResourceSpec
from integrations.provisioning.rabbitmq import RabbitMQProvisioner

pytestmark = pytest.mark.slow


@pytest.fixture
def provisioner() -> RabbitMQProvisioner:
    return RabbitMQProvisioner(host="127.0.0.1", port=5672)


@pytest.fixture
def spec(provisioner: RabbitMQProvisioner, unique_name: str) -> Iterator[ResourceSpec]:
    spec = ResourceSpec(
        engine="rabbitmq",
        name=unique_name,
        limits=PlanLimits(connection_limit=5, max_messages=1000, max_age_seconds=3600),
    )
    yield spec
    provisioner.drop(spec)


def _ctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


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


def test_provision_isolate_rotate_and_drop(
    provisioner: RabbitMQProvisioner, spec: ResourceSpec
) -> None:
    # One test for the whole life cycle: every step costs rabbitmqctl start-ups.
    assert not provisioner.exists(spec)
    for password in ("first-password", "second-password"):  # the second run must converge
        provisioner.create_resource(spec)
        provisioner.create_user(spec, password)
        provisioner.grant(spec)
    assert provisioner.exists(spec)
    creds = provisioner.credentials(spec, "second-password")
    assert creds.url == f"amqp://{spec.name}:second-password@127.0.0.1:5672/{spec.name}"
    assert "second-password" not in repr(creds)

    connection = _connect(spec.name, "second-password", spec.name)
    try:
        channel = connection.channel()
        channel.queue_declare(queue="orders.events")
        channel.basic_publish(exchange="", routing_key="orders.events", body=b"hello")
    finally:
        connection.close()
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        _connect(spec.name, "first-password", spec.name)
    with pytest.raises(pika.exceptions.AMQPConnectionError):  # the default vhost is not its own
        _connect(spec.name, "second-password", "/")

    users = json.loads(_ctl("list_users", "--formatter", "json"))
    assert {"user": spec.name, "tags": []} in users
    permissions = json.loads(_ctl("list_user_permissions", spec.name, "--formatter", "json"))
    assert permissions == [{"vhost": spec.name, "configure": ".*", "write": ".*", "read": ".*"}]
    assert '"max-connections":5' in _ctl("list_vhost_limits", "-p", spec.name).replace(" ", "")
    policies = json.loads(_ctl("list_operator_policies", "-p", spec.name, "--formatter", "json"))
    assert json.loads(policies[0]["definition"]) == {"max-length": 1000, "message-ttl": 3600000}

    provisioner.drop(spec)
    assert not provisioner.exists(spec)
    # The fixture drops once more on the way out: that second drop must pass too.


def test_a_node_that_is_down_or_a_missing_cli_is_unavailable(tmp_path: Path) -> None:
    for down in (
        RabbitMQProvisioner(node="nobody@localhost"),
        RabbitMQProvisioner(ctl=[str(tmp_path / "rabbitmqctl")]),
    ):
        with pytest.raises(ProviderUnavailable) as caught:
            down.check()
        assert "cookie" not in str(caught.value).lower()
