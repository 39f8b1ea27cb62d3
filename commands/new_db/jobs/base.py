"""What the feature's jobs share: their collaborators, error translation, storing credentials.

A provisioner's `ProviderRejected` is permanent (the job fails and rolls back at once); any
other `IntegrationError` is `Unavailable`, retried with backoff until the job's attempts are
used up. Either way the message users see has secrets masked.

Provisioning and re-issuing store credentials the same way (`_store_credentials`): in the
secrets manager when one is configured, else sealed in `db_credential_drop` for the one-time
Reveal, replacing any offer still waiting there (its button then reveals the new ones).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot.core.audit import SYSTEM_ACTOR, AuditLog
from bot.core.db import SessionFactory, utcnow
from bot.core.errors import Unavailable
from bot.core.feedback import ActionFeedback
from bot.core.jobs import PermanentJobError
from bot.core.redaction import scrub_text
from commands.new_db.models import DbCredentialDrop
from commands.new_db.service.rows import load_request, request_info
from commands.new_db.service.types import Notifier, RequestInfo
from commands.resources.config import DatabasesSection
from commands.resources.credentials import CredentialBox
from integrations.errors import IntegrationError, ProviderRejected
from integrations.provisioning_protocols import Provisioner, ResourceSpec, SecretStore


def safe_error(error: IntegrationError, *secrets: str) -> str:
    """The adapter's message with anything secret-looking masked, for users and records."""
    text = scrub_text(error.message)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text[:300]


class JobBase:
    def __init__(
        self,
        *,
        config: DatabasesSection,
        sessions: SessionFactory,
        audit: AuditLog,
        notifier: Notifier,
        provisioners: Mapping[str, Provisioner],
        secrets: SecretStore | None,
        box: CredentialBox,
        feedback: ActionFeedback | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._config = config
        self._sessions = sessions
        self._audit = audit
        self._notifier = notifier
        self._provisioners = dict(provisioners)
        self._secrets = secrets
        self._box = box
        self._feedback = feedback
        self._clock = clock

    def _provisioner(self, engine: str) -> Provisioner:
        provisioner = self._provisioners.get(engine)
        if provisioner is None:
            raise PermanentJobError(f"No provisioner is configured for {engine}.")
        return provisioner

    def _info(self, request_id: str) -> RequestInfo:
        with self._sessions() as session:
            request, _ = load_request(session, request_id)
            return request_info(session, request, self._config)

    def _call(self, label: str, doing: str, action: Callable[[], object], *secrets: str) -> None:
        """Run one provisioner call; turn its errors into messages users may see."""
        try:
            action()
        except ProviderRejected as exc:
            raise PermanentJobError(
                f"{label} refused {doing}: {safe_error(exc, *secrets)}"
            ) from None
        except IntegrationError as exc:
            # Retried with backoff until the job's attempts are used up.
            raise Unavailable(
                f"{label} was unavailable while {doing}: {safe_error(exc, *secrets)}"
            ) from None

    def _ensure_card(self, info: RequestInfo) -> RequestInfo:
        """Post the requester's card if the request has none yet; the request as now stored.

        A request queued at once gets its card here (and only here), so its progress can
        be threaded under it; one that waited for approval got it when it was submitted.
        """
        if info.progress_message is not None or info.requester_id == SYSTEM_ACTOR:
            return info
        card = self._notifier.post_request_card(info)
        if card is not None:
            with self._sessions.begin() as session:
                request, _ = load_request(session, info.id)
                if request.progress_ts is None:
                    request.progress_channel, request.progress_ts = card.channel, card.ts
        return self._info(info.id)

    def _show_outcome(self, info: RequestInfo) -> None:
        """Bring the requester's card and the approvers' card to the request's outcome."""
        self._notifier.update_request_card(info)
        self._notifier.update_approval(info)

    def _tell_all(self, info: RequestInfo, text: str) -> None:
        people = {info.resource.owner_id, info.requester_id} - {SYSTEM_ACTOR}
        for user in sorted(people):
            thread = info.progress_message if user == info.requester_id else None
            self._notifier.tell(user, text, thread=thread)

    def _store_credentials(
        self, info: RequestInfo, provisioner: Provisioner, spec: ResourceSpec, password: str
    ) -> None:
        """Keep the credentials for the hand-off job: in the secrets manager, or sealed here."""
        label = info.resource.engine_label
        holder: list[dict[str, str]] = []

        def read() -> None:
            c = provisioner.credentials(spec, password)
            holder.append(
                {
                    "engine": c.engine,
                    "host": c.host,
                    "port": str(c.port),
                    "database": c.database,
                    "username": c.username,
                    "password": c.password,
                    "url": c.url,
                    "notes": c.notes,
                }
            )

        self._call(label, "reading the credentials", read, password)
        data = holder[0]
        vault = self._config.vault
        if self._secrets is not None and vault is not None:
            r = info.resource
            path = vault.path_template.format(
                team=r.team, engine=r.engine, name=r.name, tier=r.tier
            )
            store = self._secrets
            self._call(
                "The secrets manager",
                "storing the credentials",
                lambda: store.write(path, data),
                password,
            )
            with self._sessions.begin() as session:
                _, resource = load_request(session, info.id)
                resource.vault_path = path
            return
        with self._sessions.begin() as session:
            _, resource = load_request(session, info.id)
            row = session.get(DbCredentialDrop, resource.id)
            sealed = self._box.seal_mapping(data)
            if row is None:
                session.add(
                    DbCredentialDrop(
                        resource_id=resource.id,
                        owner_id=resource.owner_id,
                        ciphertext=sealed,
                        created_at=self._clock(),
                    )
                )
            else:
                # A new hand-off offers these: the offer of older ones is no longer theirs.
                row.ciphertext = sealed
                row.created_at = self._clock()
                row.offer_channel = row.offer_ts = None
