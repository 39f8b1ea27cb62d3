"""The durable job behind a new-service request: render, publish, catalog, tell the requester.

Resumable: once the repository is pushed (checkpointed), a rerun goes straight to the
catalog. Any failure undoes what this request made (its repository, its catalog file),
marks the request failed (freeing the name) and tells the requester what failed.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.core.audit import AuditLog, Outcome
from bot.core.catalog import CatalogRelay
from bot.core.db import SessionFactory
from bot.core.errors import PlatformError
from bot.core.jobs import JobContext, PermanentJobError
from commands.new_service.ids import PolicyAction
from commands.new_service.models import RequestStatus, ServiceRequest
from commands.new_service.service.scaffold import (
    CatalogDirectory,
    GitRepositories,
    read_catalog_info,
    render,
)
from commands.new_service.service.templates import TemplateShelf
from commands.new_service.views import messages
from integrations.errors import IntegrationError
from integrations.protocols import Messenger

logger = logging.getLogger(__name__)


class CreateServiceJob:
    def __init__(
        self,
        *,
        shelf: TemplateShelf,
        repositories: GitRepositories,
        catalog_dir: CatalogDirectory | None,
        catalog: CatalogRelay,
        sessions: SessionFactory,
        audit: AuditLog,
        messenger: Messenger,
        clock: Callable[[], datetime],
    ) -> None:
        self._shelf = shelf
        self._repositories = repositories
        self._catalog_dir = catalog_dir
        self._catalog = catalog
        self._sessions = sessions
        self._audit = audit
        self._messenger = messenger
        self._clock = clock

    def run(self, ctx: JobContext) -> None:
        request = self._request(ctx.payload["request_id"])
        if request.status != RequestStatus.CREATING:
            return  # finished before a crash; its message was sent then
        try:
            if "repository" not in ctx.state:
                catalog_text, repository = self._publish(request, ctx.payload["answers"])
                ctx.checkpoint(repository=repository, catalog=catalog_text)
            in_catalog = self._add_to_catalog(request.name, ctx.state["catalog"])
        except PlatformError as exc:
            self._undo(request, ctx.state)
            raise PermanentJobError(exc.message) from None
        self._finish(request, ctx.state["repository"], in_catalog)

    def _publish(self, request: ServiceRequest, answers: dict[str, Any]) -> tuple[str, str]:
        template = self._shelf.get(request.template)
        with tempfile.TemporaryDirectory(prefix="platform-bot-service-") as scratch:
            work = Path(scratch) / request.name
            render(str(template.directory), work, answers, None)
            catalog_text = read_catalog_info(work, request.name)
            repository = self._repositories.publish(
                request.name, work, f"{request.name}: from the {template.key} template"
            )
        return catalog_text, repository

    def _add_to_catalog(self, name: str, text: str) -> bool:
        """True when lookups know the service now; False when the next refresh brings it."""
        if self._catalog_dir is None:
            return False
        self._catalog_dir.write(name, text)
        try:
            return self._catalog.refresh()
        except PlatformError as exc:
            # The file is in place: the scheduled refresh picks it up. Not a reason to undo.
            logger.warning("catalog refresh after creating %s failed: %s", name, exc.message)
            return False

    def _undo(self, request: ServiceRequest, state: dict[str, Any]) -> None:
        """Remove what this request made: its repository exists only once it was pushed."""
        if "repository" not in state:
            return
        self._repositories.delete(request.name)
        if self._catalog_dir is not None:
            self._catalog_dir.delete(request.name)

    def _finish(self, request: ServiceRequest, repository: str, in_catalog: bool) -> None:
        self._settle(request.id, RequestStatus.CREATED, repository)
        template = self._shelf.get(request.template)
        text, blocks = messages.build_created(
            request.name,
            request.owner,
            repository,
            in_catalog=in_catalog,
            dev_template=template.dev_environment_template,
        )
        self._messenger.post(request.requested_by, text=text, blocks=blocks)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        request = self._request(ctx.payload["request_id"])
        if request.status != RequestStatus.CREATING:
            return
        self._undo(request, ctx.state)
        self._settle(request.id, RequestStatus.FAILED, error_message)
        try:
            self._messenger.post(
                request.requested_by, text=messages.build_failed(request.name, error_message)
            )
        except IntegrationError:
            logger.exception("could not tell %s that %s failed", request.requested_by, request.name)

    def _settle(self, request_id: int, status: RequestStatus, detail: str) -> None:
        """The request's final state and its audit record, in one transaction."""
        failed = status is RequestStatus.FAILED
        with self._sessions.begin() as session:
            row = session.get(ServiceRequest, request_id)
            assert row is not None
            row.status = status
            row.finished_at = self._clock()
            if failed:
                row.live_name = None  # the name is free to try again
                row.failure = detail[:1000]
            else:
                row.repository = detail
            self._audit.record(
                actor=row.requested_by,
                action=PolicyAction.CREATE,
                outcome=Outcome.FAILED if failed else Outcome.SUCCEEDED,
                inputs={"template": row.template, "owner": row.owner},
                idempotency_key=row.request_key,
                target=row.name,
                detail=detail[:500],
                session=session,
            )

    def _request(self, request_id: int) -> ServiceRequest:
        with self._sessions() as session:
            row = session.get(ServiceRequest, request_id)
            if row is None:
                raise PermanentJobError(f"request {request_id} is gone")
            session.expunge(row)
            return row
