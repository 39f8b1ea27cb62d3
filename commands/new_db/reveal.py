"""The one-time reveal: credentials shown once, to their requester, then deleted.

This is the hand-off mode when no secrets manager is configured. Exactly-once rests on a
conditional DELETE: the credentials are read and their row deleted in one transaction, and
only the transaction whose DELETE removed the row returns them. Two clicks at once (or two
replicas) cannot both succeed; the loser is told the credentials were already revealed.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.audit import AuditLog, Outcome
from bot.db import SessionFactory
from bot.errors import NotAllowed, NotFound
from bot.identity import Principal
from commands.new_db.credentials import CredentialBox
from commands.new_db.models import DbCredentialDrop

ACTION = "db.reveal"
ALREADY_REVEALED = "These credentials were already revealed (they are shown once)."


class CredentialReveal:
    def __init__(self, *, sessions: SessionFactory, audit: AuditLog, box: CredentialBox) -> None:
        self._sessions = sessions
        self._audit = audit
        self._box = box

    def reveal(self, principal: Principal, resource_id: str) -> dict[str, str]:
        """The stored credentials, to their owner, once; the row is deleted as it is read."""
        with self._sessions() as session:
            owner = session.scalar(
                select(DbCredentialDrop.owner_id).where(DbCredentialDrop.resource_id == resource_id)
            )
        if owner is None:
            raise NotFound(ALREADY_REVEALED)
        if owner != principal.user_id:
            self._audit.record(
                actor=principal.user_id, action=ACTION, outcome=Outcome.REJECTED, target=resource_id
            )
            raise NotAllowed("Only the person who requested this resource can reveal it.")
        with self._sessions.begin() as session:
            # The DELETE comes first, so it waits for a concurrent reveal's transaction instead
            # of reading a row that one is about to delete; then only one of them matched it.
            ciphertext = session.scalar(
                delete(DbCredentialDrop)
                .where(
                    DbCredentialDrop.resource_id == resource_id,
                    DbCredentialDrop.owner_id == principal.user_id,
                )
                .returning(DbCredentialDrop.ciphertext)
            )
            if ciphertext is None:
                raise NotFound(ALREADY_REVEALED)
            values = self._box.open_mapping(ciphertext)
            self._audit.record(
                actor=principal.user_id,
                action=ACTION,
                outcome=Outcome.SUCCEEDED,
                target=resource_id,
                session=session,
            )
        return values
