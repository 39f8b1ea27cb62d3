"""NatsProvisioner against the NATS server with JetStream on 127.0.0.1:4222 (no auth)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import nats
import nats.js.errors
import pytest
from nats.js.api import StreamInfo

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning.nats import NatsProvisioner
from integrations.provisioning.nats_clone import COPYING
from integrations.provisioning_protocols import PlanLimits, ResourceSpec
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


# --- Cloning ----------------------------------------------------------------------------------

Message = tuple[str, bytes, dict[str, str]]


def _stream(spec: ResourceSpec) -> str:
    return spec.name.upper().replace("-", "_")


def _messages(stream: str) -> list[Message]:
    """Every message the stream holds: subject, payload, headers."""

    async def read() -> list[Message]:
        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            js = client.jetstream()
            state = (await js.stream_info(stream)).state
            found: list[Message] = []
            for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                message = await js.get_msg(stream, seq)
                found.append((message.subject or "", message.data or b"", message.headers or {}))
            return found
        finally:
            await client.close()

    return asyncio.run(read())


def _publish_all(messages: list[Message]) -> None:
    async def publish() -> None:
        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            for subject, data, headers in messages:
                await client.jetstream().publish(subject, data, headers=headers or None)
        finally:
            await client.close()

    asyncio.run(publish())


@pytest.fixture
def target(provisioner: NatsProvisioner, spec: ResourceSpec) -> Iterator[ResourceSpec]:
    target = ResourceSpec("nats", f"{spec.name}-copy", PlanLimits(max_messages=50))
    yield target
    provisioner.drop(target)


def test_a_clone_holds_the_messages_under_its_own_subjects_and_is_not_live(
    provisioner: NatsProvisioner, spec: ResourceSpec, target: ResourceSpec
) -> None:
    provisioner.create_resource(spec)
    _publish_all(
        [
            (f"{spec.name}.orders.created", b"one", {"X-Trace": "t1", "Nats-Msg-Id": "m1"}),
            (f"{spec.name}.orders.paid", b"two", {}),
        ]
    )
    for _ in range(2):  # a re-run converges on one copy
        provisioner.clone_resource(spec, target)
        provisioner.create_user(target, "unused")
        provisioner.grant(target)
    assert _messages(_stream(target)) == [
        (f"{target.name}.orders.created", b"one", {"X-Trace": "t1"}),
        (f"{target.name}.orders.paid", b"two", {}),
    ]
    info = _stream_info(_stream(target))
    assert info is not None
    assert info.config.subjects == [f"{target.name}.>"]
    assert not info.config.sources
    assert (info.config.max_msgs, info.config.description) == (50, "managed by platform-bot")

    _publish_all([(f"{spec.name}.orders.created", b"later", {})])
    assert len(_messages(_stream(target))) == 2  # the copy does not follow the source
    assert [m[1] for m in _messages(_stream(spec))] == [b"one", b"two", b"later"]
    provisioner.drop(target)
    provisioner.drop(spec)
    assert not provisioner.exists(target) and not provisioner.exists(spec)


def test_a_copy_that_did_not_finish_is_made_again(
    provisioner: NatsProvisioner, spec: ResourceSpec, target: ResourceSpec
) -> None:
    provisioner.create_resource(spec)
    _publish_all([(f"{spec.name}.a", b"1", {}), (f"{spec.name}.b", b"2", {})])
    half = dataclasses.replace(provisioner.stream_config(target), description=COPYING)

    async def make_half_copy() -> None:
        client = await nats.connect("nats://127.0.0.1:4222")
        try:
            await client.jetstream().add_stream(half)
            await client.jetstream().publish(f"{target.name}.a", b"1")
        finally:
            await client.close()

    asyncio.run(make_half_copy())
    provisioner.clone_resource(spec, target)
    assert _messages(_stream(target)) == [
        (f"{target.name}.a", b"1", {}),
        (f"{target.name}.b", b"2", {}),
    ]


def test_an_empty_source_clones_and_a_missing_one_is_rejected(
    provisioner: NatsProvisioner, spec: ResourceSpec, target: ResourceSpec
) -> None:
    with pytest.raises(ProviderRejected, match="does not exist"):
        provisioner.clone_resource(spec, target)
    provisioner.create_resource(spec)
    provisioner.clone_resource(spec, target)
    assert _messages(_stream(target)) == []
    _publish_all([(f"{target.name}.k", b"v", {})])
    assert len(_messages(_stream(target))) == 1
