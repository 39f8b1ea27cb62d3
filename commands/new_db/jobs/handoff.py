"""The `db.handoff` job: the DM that hands a new resource's credentials to its owner.

Provisioning stores the credentials (sealed in the app database for the one-time Reveal, or
in the secrets manager) and marks the resource active; in that same transaction it queues
this job, whose only work is the DM: the Reveal button, or a freshly wrapped Vault token.
It is a job of its own because its failure means something else: Slack being down must
neither roll back a resource that exists nor strand its credentials. So a DM that cannot be
posted raises `Unavailable`, and the job runner retries it with backoff for about an hour
(`HANDOFF_ATTEMPTS`); whatever happens, the owner can open the Reveal from `/platform dbs`.

At least once, never lost: the offer's message is recorded after it is posted, so a crash
in between posts it again (the reveal itself still happens once, see service/reveal.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.core.db import rowcount
from bot.core.errors import Unavailable
from bot.core.jobs import JobContext, JobQueue
from commands.new_db.ids import JobKind
from commands.new_db.jobs.base import JobBase
from commands.new_db.models import DbCredentialDrop, DbResource, ResourceStatus
from commands.new_db.service.rows import load_request, request_info
from commands.new_db.service.types import RequestInfo
from integrations.provisioning_protocols import WrappedSecret

logger = logging.getLogger(__name__)

# With the runner's backoff (doubling from 2 s, capped at 5 min) 20 attempts span 30-60 min.
HANDOFF_ATTEMPTS = 20
SLACK_DOWN = "Slack was unavailable while sending {what} to the owner; retrying."


def enqueue_handoff(jobs: JobQueue, session: Session, request_id: str) -> None:
    """Queue the hand-off DM, committed with the caller's transaction (once per request)."""
    jobs.enqueue(
        kind=JobKind.HANDOFF,
        payload={"request_id": request_id},
        idempotency_key=f"{JobKind.HANDOFF}:{request_id}",
        max_attempts=HANDOFF_ATTEMPTS,
        session=session,
    )


class HandoffJob(JobBase):
    """Job kind `db.handoff`: payload {"request_id": …}; DMs the owner their credentials."""

    def run(self, ctx: JobContext) -> None:
        request_id = str(ctx.payload["request_id"])
        with self._sessions() as session:
            request, resource = load_request(session, request_id)
            if resource.status != ResourceStatus.ACTIVE:
                return  # dropped (or being dropped) before it could be handed over
            info = request_info(session, request, self._config)
            waiting = session.get(DbCredentialDrop, resource.id)
            offered = waiting is not None and waiting.offer_ts is not None
        if info.resource.vault_path is not None:
            self._deliver_wrapped(info, info.resource.vault_path)
        elif waiting is not None and not offered:
            self._offer_reveal(info)

    def _offer_reveal(self, info: RequestInfo) -> None:
        offer = self._notifier.deliver_reveal(info)
        if offer is None:
            raise Unavailable(SLACK_DOWN.format(what="the Reveal button"))
        with self._sessions.begin() as session:
            recorded = rowcount(
                session.execute(
                    update(DbCredentialDrop)
                    .where(DbCredentialDrop.resource_id == info.resource.id)
                    .values(offer_channel=offer.channel, offer_ts=offer.ts)
                )
            )
            resource = session.get(DbResource, info.resource.id)
            still_active = resource is not None and resource.status == ResourceStatus.ACTIVE
        if not recorded and still_active:
            # The owner revealed the credentials (from `/platform dbs`, or this very button)
            # between the post and the record: the reveal found no offer to close, so this
            # one is closed here, dated now, within moments of the reveal.
            self._notifier.mark_revealed(offer, info.resource, self._clock())

    def _deliver_wrapped(self, info: RequestInfo, path: str) -> None:
        vault = self._config.vault
        store = self._secrets
        if vault is None or store is None:
            logger.warning("new-db: %s is in the secrets manager, which is not configured", path)
            return
        # A new token on every attempt: one wrapped before an outage may expire during it.
        wrapped: list[WrappedSecret] = []
        self._call(
            "The secrets manager",
            "wrapping the credentials",
            lambda: wrapped.append(store.wrap(path, ttl_seconds=vault.wrap_ttl_seconds)),
        )
        if self._notifier.deliver_wrapped(info, wrapped[0], path) is None:
            raise Unavailable(SLACK_DOWN.format(what="the one-time token"))

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        # The resource stays: only the DM failed. A Reveal waits in the owner's
        # `/platform dbs`; credentials in the secrets manager stay at their path.
        logger.warning(
            "new-db: gave up on the credentials DM of request %s: %s",
            ctx.payload.get("request_id"),
            error_message,
        )
