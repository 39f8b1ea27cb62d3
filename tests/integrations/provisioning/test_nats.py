"""NatsProvisioner against the NATS server with JetStream on 127.0.0.1:4222 (no auth)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import nats
import nats.js.errors
import pytest
from nats.js.api import StreamInfo

from integrations.errors import ProviderUnavailable
from integrations.protocols import PlanLimits, ResourceSpec
from integrations.provisioning.nats import NatsProvisioner
from tests.integrations.provisioning.conftest import ADMIN_SECRET, unused_port
from tests.servers import needs_server


@pytest.fixture
@needs_server("nats")
def provisioner() -> NatsProvisioner:
    return NatsProvisioner(host="127.0.0.1", port=4222)


@pytest.fixture
def spec(provisioner: NatsProvisioner, unique_name: str) -> Iterator[ResourceSpec]:
    spec = ResourceSpec(
        engine="nats",
        name=unique_name,
        limits=PlanLimits(max_bytes=1024 * 1024, max_messages=100, max_age_seconds=3600),
    )
    yield spec
    provisioner.drop(spec)


def _stream_info(stream: str) -> StreamInfo | None:
    async def read() -> StreamInfo | None:
        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            return await client.jetstream().stream_info(stream)
        except nats.js.errors.NotFoundError:
            return None
        finally:
            await client.close()

    return asyncio.run(read())


def _publish(subject: str) -> int:
    async def publish() -> int:
        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            ack = await client.jetstream().publish(subject, b"hello")
            return ack.seq
        finally:
            await client.close()

    return asyncio.run(publish())


def test_the_stream_exists_with_the_plan_limits_and_stores_its_subjects(
    provisioner: NatsProvisioner, spec: ResourceSpec
) -> None:
    assert not provisioner.exists(spec)
    provisioner.create_resource(spec)
    provisioner.create_user(spec, "unused")
    provisioner.grant(spec)
    assert provisioner.exists(spec)
    stream = spec.name.upper().replace("-", "_")
    info = _stream_info(stream)
    assert info is not None
    config = info.config
    assert config.subjects == [f"{spec.name}.>"]
    assert (config.max_bytes, config.max_msgs, config.max_age) == (1024 * 1024, 100, 3600)
    assert _publish(f"{spec.name}.orders.created") == 1

    creds = provisioner.credentials(spec, "unused")
    assert creds.url == "nats://127.0.0.1:4222"
    assert (creds.password, creds.username, creds.database) == ("", "", f"{spec.name}.")
    assert "no per-user accounts" in creds.notes


def test_creating_again_converges_to_the_new_limits(
    provisioner: NatsProvisioner, spec: ResourceSpec
) -> None:
    provisioner.create_resource(spec)
    provisioner.create_resource(spec)
    bigger = ResourceSpec("nats", spec.name, PlanLimits(max_messages=500))
    provisioner.create_resource(bigger)
    info = _stream_info(spec.name.upper().replace("-", "_"))
    assert info is not None
    # Limits the new plan does not set are lifted, not kept from the old one.
    assert (info.config.max_msgs, info.config.max_bytes, info.config.max_age) == (500, -1, 0)


def test_drop_removes_the_stream_and_can_run_again(
    provisioner: NatsProvisioner, spec: ResourceSpec
) -> None:
    provisioner.create_resource(spec)
    provisioner.drop(spec)
    assert _stream_info(spec.name.upper().replace("-", "_")) is None
    assert not provisioner.exists(spec)
    provisioner.drop(spec)


def test_a_server_that_is_down_is_unavailable_without_secrets_in_the_message(
    unique_name: str,
) -> None:
    down = NatsProvisioner(port=unused_port(), admin_user="admin", admin_password=ADMIN_SECRET)
    spec = ResourceSpec("nats", unique_name, PlanLimits())
    for step in (down.check, lambda: down.create_resource(spec)):
        with pytest.raises(ProviderUnavailable) as caught:
            step()
        assert "cannot reach 127.0.0.1" in str(caught.value)
        assert ADMIN_SECRET not in str(caught.value)
