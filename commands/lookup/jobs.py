"""Durable jobs of the lookup feature: paging the on-call, and refreshing on request.

Both report back by DM. Each step that talks to the outside is checkpointed, so a job
resumed after a crash does not page twice or send the same DM twice.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import AuditLog, Outcome
from bot.errors import PlatformError, Unavailable
from bot.identity import IdentityService
from bot.jobs import JobContext, PermanentJobError
from commands.lookup import page_views, views
from commands.lookup.service import PAGE_ACTION, LookupService

logger = logging.getLogger(__name__)


def _dm(slack: WebClient, user_id: str, text: str) -> None:
    channel = slack.conversations_open(users=user_id)["channel"]["id"]
    slack.chat_postMessage(channel=channel, text=text)


class PageJob:
    """Pages through the on-call provider, DMs whoever it must, tells the requester."""

    def __init__(
        self,
        *,
        service: LookupService,
        identity: IdentityService,
        slack: WebClient,
        audit: AuditLog,
    ) -> None:
        self._service = service
        self._identity = identity
        self._slack = slack
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
                result=page_views.build_page_result(outcome),
                name=outcome.entity.name,
                notify=list(outcome.notify_user_ids),
                sent=[],
            )
        sent: list[str] = list(ctx.state.get("sent", []))
        for user_id in ctx.state.get("notify", []):
            if user_id in sent:
                continue
            _dm(
                self._slack,
                user_id,
                page_views.build_page_dm(ctx.state["name"], requester.user_id, payload["reason"]),
            )
            sent.append(user_id)
            ctx.checkpoint(sent=sent)
        if not ctx.state.get("told"):
            _dm(self._slack, requester.user_id, ctx.state["result"])
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
            _dm(
                self._slack,
                payload["requester"],
                page_views.build_page_failed(payload["ref"], error_message),
            )
        except (SlackApiError, SlackClientError):
            logger.exception("could not tell %s that paging failed", payload["requester"])


class RefreshJob:
    """`/platform catalog refresh`: refresh the index now and DM the requester the outcome."""

    def __init__(self, *, service: LookupService, slack: WebClient) -> None:
        self._service = service
        self._slack = slack

    def run(self, ctx: JobContext) -> None:
        try:
            outcome = self._service.refresh()
        except PlatformError as exc:
            raise PermanentJobError(exc.message) from None
        text, blocks = views.build_refresh_result(outcome)
        channel = self._slack.conversations_open(users=ctx.payload["requester"])["channel"]["id"]
        self._slack.chat_postMessage(channel=channel, text=text, blocks=blocks)

    def on_failure(self, ctx: JobContext, error_message: str) -> None:
        try:
            _dm(
                self._slack,
                ctx.payload["requester"],
                views.build_refresh_failed(error_message),
            )
        except (SlackApiError, SlackClientError):
            logger.exception("could not report a failed catalog refresh")
