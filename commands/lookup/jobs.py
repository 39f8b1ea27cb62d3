"""Durable jobs of the lookup feature: paging the on-call, and refreshing on request.

Both report back by DM. Each step that talks to the outside is checkpointed, so a job
resumed after a crash does not page twice or send the same DM twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.core.audit import AuditLog, Outcome
from bot.core.errors import PlatformError, Unavailable
from bot.core.identity import IdentityService
from bot.core.jobs import JobContext, PermanentJobError
from commands.lookup.service.catalog_index import RefreshOutcome
from commands.lookup.service.lookups import PAGE_ACTION, LookupService
from commands.lookup.views import reports
from integrations.errors import IntegrationError
from integrations.protocols import Messenger

logger = logging.getLogger(__name__)


class PageJob:
    """Pages through the on-call provider, DMs whoever it must, tells the requester."""

    def __init__(
        self,
        *,
        service: LookupService,
        identity: IdentityService,
        messenger: Messenger,
        audit: AuditLog,
    ) -> None:
        self._service = service
        self._identity = identity
        self._messenger = messenger
        self._audit = audit

    def run(self, ctx: JobContext) -> None:
        payload = ctx.payload
        requester = self._identity.principal(payload["requester"])
        if "result" not in ctx.state:
            try:
                outcome = self._service.page(
                    ref=payload["ref"],
                    reason=payload["reason"],
                    requester=requester,
                    dedup_key=f"platform-bot-page-{payload['view_id']}",
                )
            except Unavailable:
                raise  # worth retrying: the runner backs off and tries again
            except PlatformError as exc:
                raise PermanentJobError(exc.message) from None
            ctx.checkpoint(
                result=reports.build_page_result(outcome),
                name=outcome.entity.name,
                notify=list(outcome.notify_user_ids),
                sent=[],
            )
        sent: list[str] = list(ctx.state.get("sent", []))
        for user_id in ctx.state.get("notify", []):
            if user_id in sent:
                continue
            self._messenger.post(
                user_id,
                text=reports.build_page_dm(ctx.state["name"], requester.user_id, payload["reason"]),
            )
            sent.append(user_id)
            ctx.checkpoint(sent=sent)
        if not ctx.state.get("told"):
            self._messenger.post(requester.user_id, text=ctx.state["result"])
            ctx.checkpoint(told=True)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        payload = ctx.payload
        self._audit.record(
            actor=payload["requester"],
            action=PAGE_ACTION,
            outcome=Outcome.FAILED,
            inputs={"service": payload["ref"], "reason": payload["reason"]},
            idempotency_key=f"platform-bot-page-{payload['view_id']}",
            target=payload["ref"],
            detail=error_message[:500],
        )
        try:
            self._messenger.post(
                payload["requester"],
                text=reports.build_page_failed(payload["ref"], error_message),
            )
        except IntegrationError:
            logger.exception("could not tell %s that paging failed", payload["requester"])


class RefreshJob:
    """`/platform catalog refresh`: refresh the index now and DM the requester the outcome."""

    def __init__(
        self,
        *,
        service: LookupService,
        messenger: Messenger,
        report: Callable[[RefreshOutcome], tuple[str, list[dict[str, Any]]]],
    ) -> None:
        self._service = service
        self._messenger = messenger
        # The Block Kit report is built by the feature's views, handed in by feature.py.
        self._report = report

    def run(self, ctx: JobContext) -> None:
        try:
            outcome = self._service.refresh()
        except PlatformError as exc:
            raise PermanentJobError(exc.message) from None
        text, blocks = self._report(outcome)
        self._messenger.post(ctx.payload["requester"], text=text, blocks=blocks)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        try:
            self._messenger.post(
                ctx.payload["requester"], text=reports.build_refresh_failed(error_message)
            )
        except IntegrationError:
            logger.exception("could not report a failed catalog refresh")
