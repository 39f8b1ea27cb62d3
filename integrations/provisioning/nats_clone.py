"""NATS JetStream: a stream created as a copy of another one's messages, under its own subjects.

Stream `ORDERS_DB` on `orders-db.>` cloned to `ORDERS_COPY` copies every stored message of
the source, with its payload and headers, to the same subject under the target's prefix
(`orders-db.new` → `orders-copy.new`), in order. Two ways, by server version:

- NATS 2.10 and later: the target stream is created with a `sources` entry for the source
  whose `subject_transforms` map `orders-db.>` → `orders-copy.>`; the server copies. Sourcing
  would go on copying whatever the source receives later, which a clone must not do, so
  once the target holds as many messages as the source did when the copy began, the
  sourcing is removed: the target is a copy of the source as of the end of the copy.
- Older servers ignore `subject_transforms` (the messages would keep the source's subjects),
  so the bot reads each message (`STREAM.MSG.GET`) and publishes it to the target's subject.
  JetStream's own headers (`Nats-*`, such as `Nats-Msg-Id`) are left out: the target's
  de-duplication window would otherwise drop messages of a copy made again.

Either way the messages get new timestamps (the plan's `max_age` counts from the copy) and
new sequence numbers. While copying, the target's description is `COPYING`; a re-run that
finds it resumes (sourcing) or empties the target and copies again (client copy); a target
with any other description is a finished copy and only gets the plan's configuration.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import nats.js.errors
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StreamConfig, StreamInfo, StreamSource, SubjectTransform

from integrations.errors import ProviderRejected, ProviderUnavailable

ENGINE = "nats"
COPYING = "platform-bot: copy in progress"
TRANSFORMS_SINCE = (2, 10)
_POLL_SECONDS = 0.2


@dataclasses.dataclass(frozen=True, slots=True)
class StreamCopy:
    """What to copy: the source stream and its subject prefix, the target's final config."""

    source: str
    source_prefix: str
    target: StreamConfig
    target_prefix: str
    catch_up_seconds: float


async def clone_stream(client: Client, js: JetStreamContext, copy: StreamCopy) -> None:
    try:
        origin = await js.stream_info(copy.source)
    except nats.js.errors.NotFoundError:
        raise ProviderRejected(
            ENGINE, f"clone failed: stream {copy.source} does not exist"
        ) from None
    existing = await _stream_or_none(js, copy.target.name or "")
    if existing is None or existing.config.description == COPYING:
        version = client.connected_server_version
        if (version.major, version.minor) >= TRANSFORMS_SINCE:
            await _copy_by_sourcing(js, copy, existing, expected=origin.state.messages)
        else:
            await _copy_by_client(js, copy, existing, origin)
    # The final configuration: the plan's, without sources, no longer marked as copying.
    await js.update_stream(copy.target)


async def _stream_or_none(js: JetStreamContext, stream: str) -> StreamInfo | None:
    try:
        return await js.stream_info(stream)
    except nats.js.errors.NotFoundError:
        return None


async def _copy_by_sourcing(
    js: JetStreamContext, copy: StreamCopy, existing: StreamInfo | None, *, expected: int
) -> None:
    transform = SubjectTransform(src=f"{copy.source_prefix}>", dest=f"{copy.target_prefix}>")
    copying = dataclasses.replace(
        copy.target,
        description=COPYING,
        sources=[StreamSource(name=copy.source, subject_transforms=[transform])],
    )
    if existing is None:
        await js.add_stream(copying)
    # A re-run finds the sourcing in place; it resumes where it stopped.
    deadline = time.monotonic() + copy.catch_up_seconds
    while (await js.stream_info(copying.name or "")).state.messages < expected:
        if time.monotonic() > deadline:
            raise ProviderUnavailable(
                ENGINE,
                f"clone failed: the copy of {copy.source} did not catch up within "
                f"{copy.catch_up_seconds:g} s; a re-run resumes it",
            )
        await asyncio.sleep(_POLL_SECONDS)


async def _copy_by_client(
    js: JetStreamContext, copy: StreamCopy, existing: StreamInfo | None, origin: StreamInfo
) -> None:
    name = copy.target.name or ""
    if existing is None:
        await js.add_stream(dataclasses.replace(copy.target, description=COPYING))
    else:
        await js.purge_stream(name)  # what an interrupted run copied, copied again below
    if origin.state.messages == 0:
        return
    for seq in range(origin.state.first_seq, origin.state.last_seq + 1):
        try:
            message = await js.get_msg(copy.source, seq)
        except nats.js.errors.NotFoundError:
            continue  # deleted or expired
        subject = message.subject or ""
        if not subject.startswith(copy.source_prefix):
            continue  # not under the source's subjects: nothing the stream should hold
        headers = {
            key: value
            for key, value in (message.headers or {}).items()
            if not str(key).startswith("Nats-")
        }
        await js.publish(
            copy.target_prefix + subject[len(copy.source_prefix) :],
            message.data or b"",
            # No `stream=`: it would store a Nats-Expected-Stream header in every copy; the
            # subject alone lands in the target, the only stream on its prefix.
            headers=headers or None,
        )
