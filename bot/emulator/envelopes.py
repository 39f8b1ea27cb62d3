"""Socket Mode envelopes on Slack's side: sent, acknowledged, sent again, never lost.

Slack wraps what it would POST to an app in an envelope with an `envelope_id`, and expects
the app to send that id back within 3 seconds. The `Outbox` keeps the promises Slack keeps:

    waiting     no connection is open: the envelope waits for one (nothing lost)
    sent        on one connection; acked → done, and the ack is handed to whoever waits
    unacked     past the ack timeout → sent again with `retry_attempt` + 1, on another
                connection when there is one, up to `max_retries` times, then dropped
    orphaned    its connection closed before the ack → sent again on the next connection,
                with `retry_attempt` + 1 since the app may have seen it

An envelope is never sent twice with the same `retry_attempt`, so an app that handles a retry
twice is seen doing so; `sent` lists every send for tests to count.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.emulator.delivery import EnvelopeType
from bot.emulator.state import JSON

RETRY_REASON = "timeout"


@dataclass
class Envelope:
    id: str
    type: EnvelopeType
    payload: JSON
    retry_attempt: int = 0
    retry_reason: str = ""
    link: int | None = None  # the connection it was last sent on; None while waiting
    last_link: int | None = None
    sent_at: float = 0.0
    acked: threading.Event = field(default_factory=threading.Event)
    ack: JSON | None = None

    def message(self) -> JSON:
        """The envelope as it goes over the WebSocket."""
        body: JSON = {
            "envelope_id": self.id,
            "type": str(self.type),
            "payload": self.payload,
            "accepts_response_payload": self.type is not EnvelopeType.EVENTS_API,
        }
        # Events always carry the retry fields; commands and interactions only when retried.
        if self.type is EnvelopeType.EVENTS_API or self.retry_attempt:
            body.update(retry_attempt=self.retry_attempt, retry_reason=self.retry_reason)
        return body


@dataclass(frozen=True)
class Sent:
    """One send of one envelope on one connection."""

    envelope_id: str
    type: EnvelopeType
    retry_attempt: int
    retry_reason: str
    link: int
    payload: JSON


class Outbox:
    def __init__(self, clock: Callable[[], float], *, ack_timeout: float, max_retries: int) -> None:
        self._clock = clock
        self.ack_timeout = ack_timeout
        self.max_retries = max_retries
        self._changed = threading.Condition()
        self._pending: dict[str, Envelope] = {}
        self._acks_to_lose = 0
        self._turn = 0
        self._generation = 0  # counts changes, so the pump never sleeps through one
        self.sent: list[Sent] = []
        self.expired: list[str] = []
        self.lost_acks: list[str] = []

    def add(
        self, kind: EnvelopeType, payload: JSON, *, retry_attempt: int = 0, retry_reason: str = ""
    ) -> Envelope:
        envelope = Envelope(str(uuid.uuid4()), kind, payload, retry_attempt, retry_reason)
        with self._changed:
            self._pending[envelope.id] = envelope
            self._notify()
        return envelope

    def lose_acks(self, count: int) -> None:
        """Drop the next `count` acks as if they never arrived: the envelopes are retried."""
        with self._changed:
            self._acks_to_lose += count

    def acknowledge(self, envelope_id: str, payload: JSON | None) -> bool:
        """Settle an envelope; False for an unknown or already settled id, or a lost ack."""
        with self._changed:
            envelope = self._pending.get(envelope_id)
            if envelope is None:
                return False
            if self._acks_to_lose > 0:
                self._acks_to_lose -= 1
                self.lost_acks.append(envelope_id)
                return False
            del self._pending[envelope_id]
            envelope.ack = payload if envelope.type is not EnvelopeType.EVENTS_API else None
            envelope.acked.set()
            self._notify()
            return True

    def link_closed(self, link: int) -> None:
        with self._changed:
            for envelope in self._pending.values():
                if envelope.link == link:
                    self._resend_later(envelope)
            self._notify()

    def wake(self) -> None:
        with self._changed:
            self._notify()

    def _notify(self) -> None:
        self._generation += 1
        self._changed.notify_all()

    def wait(self, timeout: float | None, generation: int) -> None:
        """Sleep until something changes after `generation` (as `due` returned it)."""
        with self._changed:
            self._changed.wait_for(lambda: self._generation != generation, timeout)

    def due(
        self, links: Sequence[int]
    ) -> tuple[list[tuple[Envelope, JSON, int]], float | None, int]:
        """What to send now (envelope, message, connection) given the open connections, the
        seconds until the next ack deadline (None: nothing awaits an ack), and the generation."""
        now = self._clock()
        sends: list[tuple[Envelope, JSON, int]] = []
        next_deadline: float | None = None
        with self._changed:
            for envelope in list(self._pending.values()):
                if envelope.link is not None and now - envelope.sent_at >= self.ack_timeout:
                    if envelope.retry_attempt >= self.max_retries:
                        del self._pending[envelope.id]
                        self.expired.append(envelope.id)
                        continue
                    self._resend_later(envelope)
                if envelope.link is None and links:
                    envelope.link = self._pick(links, avoid=envelope.last_link)
                    envelope.last_link, envelope.sent_at = envelope.link, now
                    sends.append((envelope, envelope.message(), envelope.link))
                    self.sent.append(self._record(envelope))
                if envelope.link is not None:
                    left = envelope.sent_at + self.ack_timeout - now
                    next_deadline = left if next_deadline is None else min(next_deadline, left)
            return sends, next_deadline, self._generation

    @staticmethod
    def _resend_later(envelope: Envelope) -> None:
        envelope.link = None
        envelope.retry_attempt += 1
        envelope.retry_reason = RETRY_REASON

    def _pick(self, links: Sequence[int], *, avoid: int | None) -> int:
        """Round robin over the open connections; a retry goes elsewhere when it can."""
        choices = [link for link in links if link != avoid] or list(links)
        self._turn += 1
        return choices[self._turn % len(choices)]

    @staticmethod
    def _record(envelope: Envelope) -> Sent:
        assert envelope.link is not None
        return Sent(
            envelope.id,
            envelope.type,
            envelope.retry_attempt,
            envelope.retry_reason,
            envelope.link,
            envelope.payload,
        )

    def sends_of(self, envelope_id: str | None = None) -> list[Sent]:
        with self._changed:
            return [s for s in self.sent if envelope_id in (None, s.envelope_id)]
