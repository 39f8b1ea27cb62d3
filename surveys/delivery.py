"""The survey outbox: each message posted at most once, as fast as Slack allows and no faster.

Delivery guarantee (README, "Delivery guarantee"), the same for NPS invitations and
reminders, office-hours follow-ups and CSAT prompts:
- A row is claimed by one sender, and the claim records the intent (`sending`) and commits
  *before* chat.postMessage. `claim_next` makes the claim one conditional update (on
  PostgreSQL the candidate row is locked `FOR UPDATE SKIP LOCKED`), so threads, replicas and
  a job resumed after a crash never claim the same row twice.
- After the post the row is `sent`, with the message's channel and ts.
- Slack has no idempotency key for chat.postMessage: after a timeout, a 5xx or a crash
  between the post and the record, nobody knows whether the message arrived. Such rows are
  `unconfirmed` and never posted again: at most one message.
- A 429 means the call was not carried out: the row may be claimed again, and every sender
  waits for `Retry-After`. Any other refusal is `failed`.

Each table keeps its own columns and states: `DmOutbox` decides *when* to claim, post and
record, and a `Ledger` (one small adapter per table) writes each outcome in its table.

    DmOutbox.drain(ledger)     claim → post → confirm until nothing is due, on `senders`
                               threads, paced; confirmations are written in batches
    DmOutbox.send_one(ledger)  the same for one message, confirmed at once

Pacing: Slack counts calls per method and workspace in one-minute windows (chat.postMessage:
several hundred a minute for the workspace, one a second per channel; every DM is its own
channel). `Pacer` (`surveys.pace`) keeps the same window on our side, so a fan-out runs at
the allowance instead of discovering it through 429s, and takes its slots from the
workspace's one shared pace, so replicas and survey features fanning out at once share the
allowance instead of each taking all of it. When a 429 comes anyway (Slack's own judgement)
every sender of every replica stops for the `Retry-After`, and the refused call's slot is
given back, because Slack did not count it either.

`time_scale` shrinks the window and every wait by the same factor. It is 1 in production;
benchmarks run against an emulator whose windows are scaled the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, Protocol, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Row, select, update
from sqlalchemy.orm import InstrumentedAttribute

from bot.core.db import SessionFactory
from integrations.errors import IntegrationError, ProviderRateLimited, ProviderUnavailable
from integrations.protocols import Messenger, PostedMessage
from surveys.config import DeliverySection
from surveys.pace import Pacer, SharedPace

logger = logging.getLogger(__name__)
T = TypeVar("T")
ERROR_LIMIT = 200  # the error columns' width
_CLAIM_ATTEMPTS = 20


class DeliveryState(StrEnum):
    """The states a ledger row moves through: pending → sending → sent (or the others)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNCONFIRMED = "unconfirmed"
    FAILED = "failed"
    SKIPPED = "skipped"


# Posted, or possibly posted (never posted again): the person counts as reached.
REACHED = (DeliveryState.SENT, DeliveryState.UNCONFIRMED)

Unsent: TypeAlias = Literal[
    DeliveryState.PENDING,  # a 429: not carried out, may be claimed again
    DeliveryState.UNCONFIRMED,
    DeliveryState.FAILED,
    DeliveryState.SKIPPED,
]
"""The outcomes a ledger settles one by one; `sent` comes only through `Ledger.confirm`."""


@dataclass(frozen=True)
class Content:
    """A message as services hand it to the outbox: fallback text and Block Kit."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class Skip:
    """The message is no longer wanted (answered, closed): settled without a post."""

    reason: str


class Outgoing(Protocol):
    """A claimed row, as the outbox needs it."""

    @property
    def to(self) -> str:
        """A user id (the post goes to the app's DM with them) or a channel id."""
        ...

    @property
    def thread_ts(self) -> str | None: ...


ItemT = TypeVar("ItemT", bound=Outgoing)


class Ledger(Protocol[ItemT]):
    """One table's side of the outbox. Every method commits its own transaction."""

    def claim(self) -> ItemT | None:
        """Mark the next due row `sending`; None when nothing is due."""
        ...

    def message(self, item: ItemT) -> Content | Skip: ...

    def confirm(self, sent: Sequence[tuple[ItemT, PostedMessage]]) -> None:
        """Record the rows as sent, with where each message landed."""
        ...

    def settle(self, item: ItemT, outcome: Unsent, error: str) -> None: ...


def claim_next(
    sessions: SessionFactory,
    *,
    key: InstrumentedAttribute[Any],
    waiting: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]] = (),
    claimed: dict[str, Any],
    returning: Sequence[InstrumentedAttribute[Any]],
) -> Row[Any] | None:
    """Move the first row matching `waiting` to `claimed` in one statement; its `returning`.

    `key` with `waiting` must single out one row. A row another sender claimed first is
    skipped (PostgreSQL) or lost by the conditional update (SQLite, where FOR UPDATE is not
    rendered): then the next one is tried.
    """
    candidate = (
        select(key)
        .where(*waiting)
        .order_by(*order_by)
        .limit(1)
        # Concurrent senders (threads, replicas) skip each other's rows instead of queueing.
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(key.class_)
        .where(key == candidate.scalar_subquery(), *waiting)
        .values(**claimed)
        .returning(*returning)
    )
    for _ in range(_CLAIM_ATTEMPTS):
        with sessions.begin() as session:
            found = session.execute(statement).first()
            if found is not None:
                return found
            remaining = session.scalar(candidate)
        if remaining is None:
            return None
    return None


class DmOutbox:
    """Claims, posts and records survey messages through a `Ledger`, paced by one `Pacer`."""

    def __init__(self, *, messenger: Messenger, pacer: Pacer, senders: int) -> None:
        self._messenger = messenger
        self.pacer = pacer
        self._senders = senders

    @classmethod
    def paced(
        cls, messenger: Messenger, delivery: DeliverySection, sessions: SessionFactory
    ) -> DmOutbox:
        """An outbox at the pace of `surveys.delivery`, shared through the workspace's
        database with every replica and survey; `messenger` must retry nothing."""
        pacer = Pacer(
            delivery.messages_per_minute,
            60.0,
            time_scale=delivery.time_scale,
            shared=SharedPace(sessions),
        )
        return cls(messenger=messenger, pacer=pacer, senders=delivery.senders)

    def drain(
        self, ledger: Ledger[ItemT], *, should_stop: Callable[[], bool] = lambda: False
    ) -> Counter[str]:
        """Post every message the ledger has due; how many ended in each state."""
        confirmations = _Confirmations(ledger)
        tally: Counter[str] = Counter()
        lock = threading.Lock()

        def send(item: ItemT) -> None:
            outcome = self._deliver(ledger, item, confirmations)
            with lock:
                tally[outcome] += 1

        try:
            run_paced(
                ledger.claim,
                send,
                pacer=self.pacer,
                senders=self._senders,
                should_stop=should_stop,
            )
        finally:
            self.pacer.close()
            confirmations.flush()
        return tally

    def send_one(self, ledger: Ledger[ItemT]) -> bool:
        """Claim and post one message now; False when nothing was claimed or it is not sent."""
        self.pacer.acquire()
        item = ledger.claim()
        if item is None:
            self.pacer.refund()
            return False
        confirmations = _Confirmations(ledger, batch=1)
        try:
            return self._deliver(ledger, item, confirmations) == DeliveryState.SENT
        finally:
            self.pacer.complete()
            confirmations.flush()

    def _deliver(
        self, ledger: Ledger[ItemT], item: ItemT, confirmations: _Confirmations[ItemT]
    ) -> DeliveryState:
        content = ledger.message(item)
        if isinstance(content, Skip):
            ledger.settle(item, DeliveryState.SKIPPED, content.reason)
            return DeliveryState.SKIPPED
        outcome: Unsent
        try:
            posted = self._messenger.post(
                item.to, text=content.text, blocks=content.blocks, thread_ts=item.thread_ts
            )
        except ProviderRateLimited as exc:
            self.pacer.rate_limited_for(exc.retry_after)
            outcome, error = DeliveryState.PENDING, exc.message
        except ProviderUnavailable as exc:
            outcome, error = DeliveryState.UNCONFIRMED, exc.message
        except IntegrationError as exc:  # refused: not posted, and posting again won't help
            outcome, error = DeliveryState.FAILED, exc.message
        else:
            confirmations.add(item, posted)
            return DeliveryState.SENT
        ledger.settle(item, outcome, error[:ERROR_LIMIT])
        return outcome


class _Confirmations(Generic[ItemT]):
    """Records posted messages as `sent` in batches.

    Safe to delay: until its batch is written a posted row stays `sending`, and if the
    process dies first it is never posted again either (`unconfirmed`). Only the message's
    ts (for a later edit) is lost then.
    """

    MAX_DELAY = 0.2

    def __init__(self, ledger: Ledger[ItemT], *, batch: int = 25) -> None:
        self._ledger = ledger
        self._batch = batch
        self._lock = threading.Lock()
        self._sent: list[tuple[ItemT, PostedMessage]] = []
        self._since = time.monotonic()

    def add(self, item: ItemT, posted: PostedMessage) -> None:
        with self._lock:
            self._sent.append((item, posted))
            due = len(self._sent) >= self._batch or time.monotonic() - self._since > self.MAX_DELAY
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            sent, self._sent = self._sent, []
            self._since = time.monotonic()
        if sent:
            self._ledger.confirm(sent)


def run_paced(
    claim: Callable[[], T | None],
    send: Callable[[T], None],
    *,
    pacer: Pacer,
    senders: int,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Claim and send items on `senders` threads until `claim` returns None.

    A slot is taken before an item is claimed, so an item is never held (and recorded as
    being sent) while its sender waits for the pacer.
    """
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while not should_stop() and not errors:
                pacer.acquire()
                item = claim()
                if item is None:
                    pacer.refund()
                    return
                try:
                    send(item)
                finally:
                    pacer.complete()
        except BaseException as exc:  # re-raised in the calling thread below
            errors.append(exc)

    threads = [
        threading.Thread(target=work, name=f"survey-sender-{n}", daemon=True)
        for n in range(max(1, senders))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def post_admin_notice(
    messenger: Messenger, channel: str | None, content: Content, *, survey: str
) -> None:
    """A notice about a `survey` for the platform's admins in `surveys.admin_channel`; logged
    instead when no channel is set or Slack refuses it (a notice never stops a survey)."""
    if channel is None:
        logger.warning("%s notice for admins (set surveys.admin_channel): %s", survey, content.text)
        return
    try:
        messenger.post(channel, text=content.text, blocks=content.blocks)
    except IntegrationError as exc:
        logger.warning("could not post a %s notice to %s: %s", survey, channel, exc)
