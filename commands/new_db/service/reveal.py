"""The one-time reveal: credentials shown once, to their requester, then deleted.

This is the hand-off mode when no secrets manager is configured. Exactly-once rests on a
conditional DELETE: the credentials are read and their row deleted in one transaction, and
only the transaction whose DELETE removed the row returns them. Two clicks at once (or two
replicas) cannot both succeed; the loser is told the credentials were already revealed.

The Reveal button is in the owner's DM (posted by the hand-off job) and, while the
credentials wait, in the owner's `/platform dbs` answer, so a DM lost to a Slack outage
strands nothing. Either button is checked here, never trusted: the row's owner must be the
clicker and the resource must be active. Once revealed, the DM's button is taken away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, delete, select

from bot.core.audit import AuditLog, Outcome
from bot.core.db import SessionFactory, utcnow
from bot.core.errors import NotAllowed, NotFound
from bot.core.identity import Principal
from commands.new_db.models import DbCredentialDrop, DbResource, ResourceStatus
from commands.new_db.service.types import MessageRef, Notifier, ResourceInfo
from commands.resources.credentials import CredentialBox

ACTION = "db.reveal"
ALREADY_REVEALED = "These credentials were already revealed (they are shown once)."
NOT_ACTIVE = "This resource is not active any more; its credentials cannot be revealed."


@dataclass(frozen=True)
class Revealed:
    credentials: dict[str, str] = field(repr=False)
    revealed_at: datetime
    # The DM that offered the Reveal, when the hand-off job recorded it.
    offer: MessageRef | None


def _active_resources() -> Select[str]:
    return select(DbResource.id).where(DbResource.status == ResourceStatus.ACTIVE)


class CredentialReveal:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        audit: AuditLog,
        box: CredentialBox,
        notifier: Notifier,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._box = box
        self._notifier = notifier
        self._clock = clock

    def waiting_for(self, principal: Principal) -> set[str]:
        """Ids of `principal`'s active resources whose credentials were never revealed."""
        with self._sessions() as session:
            return set(
                session.scalars(
                    select(DbCredentialDrop.resource_id).where(
                        DbCredentialDrop.owner_id == principal.user_id,
                        DbCredentialDrop.resource_id.in_(_active_resources()),
                    )
                )
            )

    def reveal(self, principal: Principal, resource_id: str) -> Revealed:
        """The stored credentials, to their owner, once; the row is deleted as it is read."""
        with self._sessions() as session:
            found = session.execute(
                select(DbResource.owner_id, DbResource.status, DbCredentialDrop.resource_id)
                .outerjoin(DbCredentialDrop, DbCredentialDrop.resource_id == DbResource.id)
                .where(DbResource.id == resource_id)
            ).one_or_none()
        if found is None:
            raise NotFound("That resource does not exist.")
        # In this order: someone else learns nothing about the resource's credentials.
        if found.owner_id != principal.user_id:
            self._audit.record(
                actor=principal.user_id, action=ACTION, outcome=Outcome.REJECTED, target=resource_id
            )
            raise NotAllowed("Only the person who requested this resource can reveal it.")
        if found.status != ResourceStatus.ACTIVE:
            raise NotAllowed(NOT_ACTIVE)
        if found.resource_id is None:
            raise NotFound(ALREADY_REVEALED)
        with self._sessions.begin() as session:
            # The DELETE comes first, so it waits for a concurrent reveal's transaction instead
            # of reading a row that one is about to delete; then only one of them matched it.
            # The owner and the status are conditions of the DELETE itself, so a drop that
            # began since the check above wins.
            taken = session.execute(
                delete(DbCredentialDrop)
                .where(
                    DbCredentialDrop.resource_id == resource_id,
                    DbCredentialDrop.owner_id == principal.user_id,
                    DbCredentialDrop.resource_id.in_(_active_resources()),
                )
                .returning(
                    DbCredentialDrop.ciphertext,
                    DbCredentialDrop.offer_channel,
                    DbCredentialDrop.offer_ts,
                )
            ).one_or_none()
            if taken is None:
                raise NotFound(ALREADY_REVEALED)
            values = self._box.open_mapping(taken.ciphertext)
            self._audit.record(
                actor=principal.user_id,
                action=ACTION,
                outcome=Outcome.SUCCEEDED,
                target=resource_id,
                session=session,
            )
        offer = (
            MessageRef(taken.offer_channel, taken.offer_ts)
            if taken.offer_channel and taken.offer_ts
            else None
        )
        return Revealed(credentials=values, revealed_at=self._clock(), offer=offer)

    def put_back(self, principal: Principal, resource_id: str, revealed: Revealed) -> None:
        """Keep credentials whose modal could not be opened: their owner never saw them."""
        with self._sessions.begin() as session:
            session.merge(
                DbCredentialDrop(
                    resource_id=resource_id,
                    owner_id=principal.user_id,
                    ciphertext=self._box.seal_mapping(revealed.credentials),
                    created_at=self._clock(),
                    offer_channel=revealed.offer.channel if revealed.offer else None,
                    offer_ts=revealed.offer.ts if revealed.offer else None,
                )
            )
            self._audit.record(
                actor=principal.user_id,
                action=ACTION,
                outcome=Outcome.FAILED,
                target=resource_id,
                detail="Slack did not open the window; the credentials were kept",
                session=session,
            )

    def close_offer(self, resource: ResourceInfo, revealed: Revealed) -> None:
        """Take the used Reveal button out of the owner's DM and say when it was used."""
        if revealed.offer is not None:
            self._notifier.mark_revealed(revealed.offer, resource, revealed.revealed_at)
