"""Slack listeners of `/platform new-db`, `dbs`, `drop-db`, `db-credentials` and their buttons
and modals.

Each acks first (or acks with field errors), then makes one service call and renders.
A button whose action is refused raises the domain error after acking; the global error
handler shows it to the clicker only (and `StickyAck` keeps the ack Bolt would otherwise drop).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.errors import NotAllowed, PlatformError, Unavailable
from bot.core.identity import IdentityService
from bot.core.router import CommandContext
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.models import Decision
from commands.new_db.service.approvals import ApprovalService
from commands.new_db.service.database import DatabaseService
from commands.new_db.service.drops import DropService
from commands.new_db.service.lifecycle import EXTEND_FIELD, Lifecycle
from commands.new_db.service.options import FormOptions, parse_args
from commands.new_db.service.reveal import CredentialReveal
from commands.new_db.service.rotations import RotationService
from commands.new_db.views import messages, modals
from commands.resources.forms import FormInvalid
from commands.resources.hours import parse_hours

logger = logging.getLogger(__name__)
# slack_sdk logs request and response bodies at DEBUG; the reveal modal's body holds the
# credentials, so its client logs through a logger that never goes below WARNING.
_reveal_logger = logging.getLogger(f"{__name__}.reveal")
_reveal_logger.setLevel(logging.WARNING)

JSON = dict[str, Any]
REVEAL_NOT_OPENED = (
    "Slack did not open the window with your credentials. Nothing was shown, and they are "
    "kept: click Reveal again."
)


NEW_DB_USAGE = "/platform new-db [ENGINE] [NAME] [--env TIER] [--ttl HOURS]"


def _button_value(body: JSON) -> str:
    return str(body["actions"][0].get("value") or "")


def _push_refusal(ack: Ack, title: str, refused: NotAllowed) -> None:
    """Refusals name people (mentions), which field errors (plain text) cannot show: they
    come as a notice over the form, which stays as it was beneath."""
    ack(response_action="push", view=modals.build_notice_modal(title, refused.message))


class NewDbHandlers:
    def __init__(
        self,
        *,
        service: DatabaseService,
        form: FormOptions,
        approvals: ApprovalService,
        drops: DropService,
        reveals: CredentialReveal,
        lifecycle: Lifecycle,
        rotations: RotationService,
        identity: IdentityService,
    ) -> None:
        self._service = service
        self._form = form
        self._approvals = approvals
        self._drops = drops
        self._reveals = reveals
        self._lifecycle = lifecycle
        self._rotations = rotations
        self._identity = identity

    # -- slash subcommands -----------------------------------------------------------------

    def handle_new_db(self, ctx: CommandContext) -> None:
        args = parse_args(ctx.args)
        problems = self._form.args_problems(args)
        if problems:
            text, blocks = modals.build_args_problems(problems, NEW_DB_USAGE)
            ctx.ack(text, blocks=blocks)
            return
        engine = self._form.engine_key(args.engine) if args.engine else None
        choices = self._form.choices(ctx.principal, engine=engine, tier=args.tier)
        modal = modals.build_request_modal(
            choices, name=args.name or "", ttl=args.ttl, metadata={"channel": ctx.channel_id}
        )
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=modal)

    def handle_open_form(self, ack: Ack, body: JSON, client: WebClient) -> None:
        """The dashboard's "New database": the same modal as `/platform new-db`."""
        ack()
        principal = self._identity.principal(body["user"]["id"])
        modal = modals.build_request_modal(self._form.choices(principal), name="", metadata={})
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    def handle_dbs(self, ctx: CommandContext) -> None:
        resources = self._service.visible_resources(ctx.principal)
        waiting = self._reveals.waiting_for(ctx.principal)
        ctx.ack(f"{len(resources)} database(s)", blocks=messages.build_listing(resources, waiting))

    def handle_drop_db(self, ctx: CommandContext) -> None:
        if not ctx.args:
            ctx.ack("Which one? `/platform drop-db NAME` (see `/platform dbs`).")
            return
        resource = self._drops.find_droppable(ctx.principal, ctx.args[0])
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=modals.build_drop_modal(resource))

    def handle_db_credentials(self, ctx: CommandContext) -> None:
        if not ctx.args:
            ctx.ack("Which one? `/platform db-credentials NAME` (see `/platform dbs`).")
            return
        resource = self._rotations.find_rotatable(ctx.principal, ctx.args[0])
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=modals.build_rotate_modal(resource))

    # -- the request modal -----------------------------------------------------------------

    def handle_form_change(self, ack: Ack, body: JSON, client: WebClient) -> None:
        """Engine, tier or team picked: rebuild the plans, the time to live and the reason."""
        ack()
        view = body["view"]
        entered = modals.parse_partial(view)
        principal = self._identity.principal(body["user"]["id"])
        choices = self._form.choices(
            principal, engine=entered["engine"], tier=entered["tier"], team=entered["team"]
        )
        plan = entered["plan"] or None
        modal = modals.build_request_modal(
            choices,
            name=entered["name"],
            plan=plan,
            ttl=entered["ttl"] or None,
            reason=entered["reason"],
            metadata=json.loads(view.get("private_metadata") or "{}"),
        )
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)

    def handle_request_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        form, errors = modals.parse_request(view, max_ttl_hours=self._form.max_ttl_hours)
        if errors:
            ack(response_action="errors", errors=modals.field_errors(errors, view))
            return
        principal = self._identity.principal(body["user"]["id"])
        try:
            submitted = self._service.submit(
                principal, form, idempotency_key=f"db.create:{view['id']}"
            )
        except FormInvalid as invalid:
            ack(response_action="errors", errors=modals.field_errors(invalid.errors, view))
            return
        except NotAllowed as refused:
            _push_refusal(ack, "Cannot request this", refused)
            return
        except PlatformError as error:
            ack(response_action="errors", errors={BlockId.NAME: error.message[:150]})
            return
        ack()
        self._service.announce(submitted)

    # -- approvals ---------------------------------------------------------------------------

    def handle_approve(self, ack: Ack, body: JSON) -> None:
        ack()
        approver = self._identity.principal(body["user"]["id"])
        self._approvals.decide(approver, _button_value(body), Decision.APPROVE)

    def handle_deny(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        approver = self._identity.principal(body["user"]["id"])
        request = self._approvals.check_approver(approver, _button_value(body))
        client.views_open(trigger_id=body["trigger_id"], view=modals.build_deny_modal(request.id))

    def handle_deny_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        reason = modals.parse_text_field(view, BlockId.DENY_REASON, ActionId.DENY_REASON)
        approver = self._identity.principal(body["user"]["id"])
        try:
            self._approvals.decide(
                approver, str(view["private_metadata"]), Decision.DENY, reason=reason
            )
        except NotAllowed as refused:
            _push_refusal(ack, "Cannot deny this", refused)
            return
        except PlatformError as error:
            ack(response_action="errors", errors={BlockId.DENY_REASON: error.message[:150]})
            return
        ack()

    # -- credentials and lifecycle -------------------------------------------------------------

    def handle_reveal(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        resource_id = _button_value(body)
        revealed = self._reveals.reveal(principal, resource_id)
        resource = self._service.resource(resource_id)
        quiet = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            logger=_reveal_logger,
        )
        try:
            quiet.views_open(
                trigger_id=body["trigger_id"],
                view=modals.build_reveal_modal(resource, revealed.credentials),
            )
        except (SlackApiError, SlackClientError):
            # Nobody saw them: the row deleted by the reveal comes back, the button stays.
            self._reveals.put_back(principal, resource_id, revealed)
            raise Unavailable(REVEAL_NOT_OPENED) from None
        self._reveals.close_offer(resource, revealed)

    def handle_extend(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        resource = self._service.resource(_button_value(body))
        max_hours = self._lifecycle.max_extension(resource.id) or 24.0
        client.views_open(
            trigger_id=body["trigger_id"], view=modals.build_extend_modal(resource, max_hours)
        )

    def handle_extend_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        resource_id = str(view["private_metadata"])
        principal = self._identity.principal(body["user"]["id"])
        try:
            hours, problem = parse_hours(
                modals.parse_text_field(view, BlockId.EXTEND_HOURS, ActionId.EXTEND_HOURS),
                field=EXTEND_FIELD,
                maximum=self._lifecycle.max_extension(resource_id),
            )
            if hours is None:
                ack(response_action="errors", errors={BlockId.EXTEND_HOURS: problem or ""})
                return
            self._lifecycle.extend(principal, resource_id, hours=hours)
        except PlatformError as error:
            ack(response_action="errors", errors={BlockId.EXTEND_HOURS: error.message[:150]})
            return
        ack()

    def handle_drop_now(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        resource = self._service.resource(_button_value(body))
        client.views_open(trigger_id=body["trigger_id"], view=modals.build_drop_modal(resource))

    def handle_drop_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        try:
            submitted = self._drops.request_drop(
                principal,
                str(view["private_metadata"]),
                typed_name=modals.parse_text_field(
                    view, BlockId.CONFIRM_NAME, ActionId.CONFIRM_NAME
                ),
                reason=modals.parse_text_field(view, BlockId.REASON, ActionId.REASON) or None,
                idempotency_key=f"db.drop:{view['id']}",
            )
        except FormInvalid as invalid:
            ack(response_action="errors", errors=modals.field_errors(invalid.errors, view))
            return
        except NotAllowed as refused:
            _push_refusal(ack, "Cannot drop this", refused)
            return
        except PlatformError as error:
            ack(response_action="errors", errors={BlockId.CONFIRM_NAME: error.message[:150]})
            return
        ack()
        self._service.announce(submitted)

    def handle_rotate_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        try:
            submitted = self._rotations.request_rotation(
                principal, str(view["private_metadata"]), idempotency_key=f"db.rotate:{view['id']}"
            )
        except PlatformError as error:
            # The modal has no field to point at: the reason comes over it.
            ack(
                response_action="push",
                view=modals.build_notice_modal("Cannot re-issue", error.message),
            )
            return
        ack()
        self._rotations.announce(submitted)
