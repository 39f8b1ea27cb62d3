"""Slack listeners for the lookups: parse, call the service once, render; ack first.

Lookups answer in the ack when everything they need is in memory (the catalog read model,
a cached or local on-call answer). When a remote on-call tool must be asked, they ack at
once with nothing and post the answer through `response_url` when it arrives.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.core.errors import InvalidInput, NotAllowed, PlatformError
from bot.core.identity import IdentityService
from bot.core.jobs import JobQueue
from bot.core.policy import Policy
from bot.core.router import CommandContext
from bot.core.router_views import error_text
from bot.core.runbook_links import ServiceRunbooks
from commands.lookup.ids import BlockId, JobKind
from commands.lookup.service.lookups import PAGE_ACTION, REFRESH_ACTION, LookupService, check_reason
from commands.lookup.service.types import Ambiguous
from commands.lookup.views import cards, paging, refresh, search

logger = logging.getLogger(__name__)

REFRESH_WORD = "refresh"


class LookupHandlers:
    def __init__(
        self,
        *,
        service: LookupService,
        policy: Policy,
        identity: IdentityService,
        jobs: JobQueue,
        runbooks: ServiceRunbooks,
    ) -> None:
        self._service = service
        self._policy = policy
        self._identity = identity
        self._jobs = jobs
        self._runbooks = runbooks

    # --- slash commands ---------------------------------------------------------------------

    def handle_owner(self, ctx: CommandContext) -> None:
        try:
            answer = self._service.owner(ctx.arg_text)
        except Ambiguous as error:
            self._ask_which(ctx, error, "owner")
            return
        text, blocks = cards.build_owner(answer)
        ctx.ack(text, blocks=blocks)

    def handle_oncall(self, ctx: CommandContext) -> None:
        self._oncall(ctx, ctx.arg_text)

    def handle_service(self, ctx: CommandContext) -> None:
        self._service_card(ctx, ctx.arg_text)

    def handle_catalog(self, ctx: CommandContext) -> None:
        if [arg.lower() for arg in ctx.args] == [REFRESH_WORD]:
            self._refresh(ctx)
            return
        if not ctx.arg_text.strip():
            raise InvalidInput(
                "Search for what? e.g. `/platform catalog payments`, or "
                "`/platform catalog refresh` (admins)."
            )
        text, blocks = search.build_search(self._service.search(ctx.arg_text))
        ctx.ack(text, blocks=blocks)

    def _oncall(self, ctx: CommandContext, query: str) -> None:
        try:
            result = self._service.oncall(query, fetch=False)
        except Ambiguous as error:
            self._ask_which(ctx, error, "oncall")
            return
        if result.pending:
            ctx.ack()
            result = self._service.oncall(result.entity.ref, fetch=True)
        text, blocks = cards.build_oncall(result, ctx.principal.tz)
        ctx.reply(text, blocks=blocks)

    def _service_card(self, ctx: CommandContext, query: str) -> None:
        try:
            card = self._service.service_card(query, fetch=False)
        except Ambiguous as error:
            self._ask_which(ctx, error, "service")
            return
        if card.pending:
            ctx.ack()
            card = self._service.service_card(card.entity.ref, fetch=True)
        text, blocks = cards.build_service_card(
            card,
            ctx.principal.tz,
            can_page=self._may_page(ctx.principal.user_id),
            runbooks=self._runbooks.for_service(ctx.principal, card.entity.ref),
        )
        ctx.reply(text, blocks=blocks)

    def _refresh(self, ctx: CommandContext) -> None:
        decision = self._policy.can(ctx.principal, REFRESH_ACTION)
        if not decision.allowed:
            raise NotAllowed(decision.reason)
        # One job per command request: a Slack retry of the same request finds it queued.
        ref = self._jobs.enqueue(
            kind=JobKind.REFRESH,
            payload={"requester": ctx.user_id},
            idempotency_key=f"lookup.refresh:{ctx.idempotency_key}",
        )
        ctx.ack(refresh.build_refresh_started() if ref.created else "A refresh is already running.")

    def _ask_which(self, ctx: CommandContext, error: Ambiguous, command: str) -> None:
        text, blocks = search.build_ambiguous(error, command)
        ctx.ack(text, blocks=blocks)

    def _may_page(self, user_id: str) -> bool:
        return self._policy.can(self._identity.principal(user_id), PAGE_ACTION).allowed

    # --- interactivity ----------------------------------------------------------------------

    def handle_pick(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """A choice in the "which one?" menu: answer the original command for that entity."""
        ack()
        action = body["actions"][0]
        command, ref = search.parse_pick(action["selected_option"]["value"])
        principal = self._identity.principal(body["user"]["id"])
        try:
            if command == "owner":
                text, blocks = cards.build_owner(self._service.owner(ref))
            elif command == "oncall":
                result = self._service.oncall(ref)
                text, blocks = cards.build_oncall(result, principal.tz)
            else:
                card = self._service.service_card(ref)
                text, blocks = cards.build_service_card(
                    card,
                    principal.tz,
                    can_page=self._may_page(principal.user_id),
                    runbooks=self._runbooks.for_service(principal, card.entity.ref),
                )
        except PlatformError as error:
            text, blocks = error_text(error), None
        respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")

    def handle_open_in_catalog(self, ack: Ack) -> None:
        ack()  # a link button: Slack opens the URL, the app only has to acknowledge

    def handle_page_button(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        decision = self._policy.can(principal, PAGE_ACTION)
        if not decision.allowed:
            respond(text=decision.reason, response_type="ephemeral", replace_original=False)
            return
        ref = body["actions"][0]["value"]
        entity = self._service.resolve(ref)
        client.views_open(
            trigger_id=body["trigger_id"],
            view=paging.build_page_reason_modal(entity.ref, entity.label),
        )

    def handle_page_reason(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        principal = self._identity.principal(body["user"]["id"])
        ref, _ = paging.parse_page_metadata(view.get("private_metadata", ""))
        try:
            reason = check_reason(paging.parse_reason(view["state"]["values"]))
            preview = self._service.page_preview(ref)
        except PlatformError as error:
            ack(response_action="errors", errors={BlockId.REASON: error_text(error)[:150]})
            return
        ack(
            response_action="update",
            view=paging.build_page_confirm_modal(preview, reason, principal.tz),
        )

    def handle_page_confirm(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        decision = self._policy.can(self._identity.principal(user_id), PAGE_ACTION)
        ref, reason = paging.parse_page_metadata(view.get("private_metadata", ""))
        if not decision.allowed:
            ack(
                response_action="update",
                view=paging.build_notice_modal("Not paged", decision.reason),
            )
            return
        # Keyed by the modal: a double click on "Page now" submits the same view twice.
        self._jobs.enqueue(
            kind=JobKind.PAGE,
            payload={"ref": ref, "reason": reason, "requester": user_id, "view_id": view["id"]},
            idempotency_key=f"lookup.page:{view['id']}",
        )
        ack(response_action="update", view=paging.build_paging_modal(ref.rpartition("/")[2]))
