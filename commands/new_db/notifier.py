"""`Notifier` over the Messenger port: DMs, the approval message and the threaded progress.

The outbound half of the feature's Slack edge, beside handlers.py (the inbound half): the
services and jobs call the `Notifier` protocol (service/types.py) and never see Slack; this
presenter renders with views/messages.py and posts through the port. It is not in views/,
which holds pure builders and parsers that neither post nor log.

Every call swallows (and logs) Slack errors: a message that cannot be posted must not undo
or repeat the provisioning it reports on. No method receives a password; the wrapped token
goes only to the requester's DM, by design of the hand-off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.audit import SYSTEM_ACTOR
from bot.core.mrkdwn import escape
from commands.new_db.service.types import MessageRef, RequestInfo, ResourceInfo, Step
from commands.new_db.views import messages
from integrations.errors import IntegrationError
from integrations.protocols import Messenger
from integrations.provisioning_protocols import WrappedSecret

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """Whose dashboards a message about a request or resource makes out of date."""

    changed: Callable[[Collection[str]], None]
    """`Core.dashboard.changed`."""
    approvers: Callable[[str, Mapping[str, str]], Collection[str]]
    """The people the policy names to approve (action, context): the ones it waits on."""

    def request(self, request: RequestInfo, *, approvers: bool = False) -> None:
        r = request.resource
        people = {request.requester_id, r.owner_id, *request.approved_by}
        people.update(who for who, _ in request.denied_by)
        if approvers:
            context = {"tier": r.tier, "team": r.team, "engine": r.engine}
            people.update(self.approvers(request.action, context))
        self.changed(people - {SYSTEM_ACTOR})

    def person(self, user_id: str) -> None:
        self.changed({user_id} - {SYSTEM_ACTOR})


def _nobody(_people: Collection[str]) -> None:
    return None


NOBODY = Audience(changed=_nobody, approvers=lambda _action, _context: ())


class SlackNotifier:
    def __init__(self, messenger: Messenger, audience: Audience = NOBODY) -> None:
        self._messenger = messenger
        self._audience = audience

    def _post(
        self, channel: str, text: str, blocks: list[Any] | None, thread: MessageRef | None = None
    ) -> MessageRef | None:
        try:
            posted = self._messenger.post(
                channel, text=text, blocks=blocks, thread_ts=thread.ts if thread else None
            )
        except IntegrationError as exc:
            logger.warning("new-db: could not post to %s: %s", channel, exc)
            return None
        return MessageRef(posted.channel, posted.ts)

    def _edit(self, ref: MessageRef, text: str, blocks: list[Any]) -> None:
        try:
            self._messenger.update(ref.channel, ref.ts, text=text, blocks=blocks)
        except IntegrationError as exc:
            logger.warning("new-db: could not update message %s: %s", ref.ts, exc)

    def post_request_card(self, request: RequestInfo) -> MessageRef | None:
        self._audience.request(request)
        # A user id as the channel posts to the app's DM with that user.
        return self._post(
            request.requester_id,
            messages.request_text(request),
            messages.build_request_card(request),
        )

    def update_request_card(self, request: RequestInfo) -> None:
        self._audience.request(request)
        if request.progress_message is not None:
            self._edit(
                request.progress_message,
                messages.request_text(request),
                messages.build_request_card(request),
            )

    def post_approval(self, request: RequestInfo, channel: str) -> MessageRef | None:
        self._audience.request(request, approvers=True)
        return self._post(
            channel, messages.approval_text(request), messages.build_approval(request)
        )

    def update_approval(self, request: RequestInfo) -> None:
        self._audience.request(request, approvers=request.approvals_needed > 0)
        if request.approval_message is not None:
            self._edit(
                request.approval_message,
                messages.approval_text(request),
                messages.build_approval(request),
            )

    def post_progress(self, request: RequestInfo, step: Step) -> MessageRef | None:
        thread = request.progress_message
        channel = thread.channel if thread is not None else request.requester_id
        return self._post(
            channel,
            messages.progress_text(request, step),
            messages.build_progress(request, step),
            thread=thread,
        )

    def edit_progress(
        self, ref: MessageRef, request: RequestInfo, step: Step, *, failure: str | None = None
    ) -> None:
        self._audience.request(request)
        self._edit(
            ref,
            messages.progress_text(request, step, failure),
            messages.build_progress(request, step, failure),
        )

    def tell(self, user_id: str, text: str, *, thread: MessageRef | None = None) -> None:
        # Told of a drop, an expiry or a failure: what their dashboard lists has changed.
        self._audience.person(user_id)
        self._post(thread.channel if thread else user_id, text, None, thread=thread)

    def deliver_wrapped(
        self, request: RequestInfo, wrapped: WrappedSecret, path: str
    ) -> MessageRef | None:
        return self._post(
            request.requester_id,
            messages.ready_text(request),
            messages.build_wrapped_delivery(request, wrapped, path),
        )

    def deliver_reveal(self, request: RequestInfo) -> MessageRef | None:
        return self._post(
            request.requester_id,
            messages.ready_text(request),
            messages.build_reveal_offer(request),
        )

    def mark_revealed(self, offer: MessageRef, resource: ResourceInfo, when: datetime) -> None:
        self._audience.person(resource.owner_id)
        self._edit(
            offer,
            f"{resource.engine_label} {resource.name}: credentials revealed",
            messages.build_revealed_offer(resource, when),
        )

    def warn_expiry(self, resource: ResourceInfo, *, hours_left: float) -> None:
        self._audience.person(resource.owner_id)
        self._post(
            resource.owner_id,
            escape(f"{resource.engine_label} {resource.name} expires soon"),
            messages.build_expiry_warning(resource, hours_left),
        )

    def tell_extended(self, resource: ResourceInfo, *, user_id: str) -> None:
        self._audience.person(resource.owner_id)
        self._post(user_id, messages.extended_text(resource), None)
