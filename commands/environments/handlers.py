"""Slack listeners of `/platform env …` and its modals and buttons.

Each acks first (or acks with field errors), then calls the services and renders. Create and
clone: form → "Planning…" (acked at once) → the plan (views.update) → Confirm. A button
whose action is refused raises the domain error after acking; the global error handler
shows it to the clicker only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.errors import NotAllowed, PlatformError, Unavailable
from bot.core.identity import IdentityService, Principal
from bot.core.mrkdwn import escape
from bot.core.router import CommandContext
from commands.environments.ids import BlockId
from commands.environments.service.approvals import EnvApprovals
from commands.environments.service.lifecycle import EnvLifecycle
from commands.environments.service.requests import EnvRequests, FormValues
from commands.environments.service.templates import Template
from commands.environments.views import messages, modals
from commands.environments.views.text import when
from commands.resources.forms import FormInvalid
from commands.resources.hours import parse_hours

logger = logging.getLogger(__name__)
# slack_sdk logs request bodies at DEBUG; the reveal modal's body holds the credentials.
_reveal_logger = logging.getLogger(f"{__name__}.reveal")
_reveal_logger.setLevel(logging.WARNING)

JSON = dict[str, Any]
ENV_USAGE = (
    "/platform env list | show NAME | create [TEMPLATE] [NAME] [--tier T] | "
    "clone SOURCE NEW [--tier T] | extend NAME | destroy NAME | credentials NAME"
)
PLANNING_SHOWN_WITHIN = 5.0
"""Seconds Slack may take to show the "Planning…" view it was answered with."""
_NEEDS_NAME = {"show", "extend", "destroy", "credentials"}


def parse_env_args(args: list[str]) -> tuple[list[str], str | None]:
    """Positional arguments and `--tier T` (or `--tier=T`)."""
    positional: list[str] = []
    tier: str | None = None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--tier" and index + 1 < len(args):
            tier = args[index + 1]
            index += 2
            continue
        if arg.startswith("--tier="):
            tier = arg.split("=", 1)[1]
        else:
            positional.append(arg)
        index += 1
    return positional, tier


def _button_value(body: JSON) -> str:
    return str(body["actions"][0].get("value") or "")[:64]


class EnvHandlers:
    def __init__(
        self,
        *,
        requests: EnvRequests,
        lifecycle: EnvLifecycle,
        approvals: EnvApprovals,
        identity: IdentityService,
    ) -> None:
        self._requests = requests
        self._lifecycle = lifecycle
        self._approvals = approvals
        self._identity = identity

    # -- /platform env … ---------------------------------------------------------------------

    def handle_env(self, ctx: CommandContext) -> None:
        args, tier = parse_env_args(ctx.args)
        verb = args[0].lower() if args else "list"
        rest = args[1:]
        if verb in _NEEDS_NAME and not rest:
            ctx.ack(f"Which environment? `/platform env {verb} NAME` (see `/platform env list`).")
            return
        if verb == "list":
            text, blocks = messages.build_listing(self._lifecycle.visible(ctx.principal))
            ctx.ack(text, blocks=blocks)
        elif verb == "show":
            env = self._lifecycle.find(ctx.principal, rest[0])
            ctx.ack(messages.card_text(env), blocks=messages.build_card(env))
        elif verb in ("create", "plan"):
            self._open_form(
                ctx,
                FormValues(
                    template=rest[0] if rest else "",
                    name=rest[1] if len(rest) > 1 else "",
                    tier=tier or "",
                    team="",
                ),
            )
        elif verb == "clone":
            if len(rest) < 2:
                ctx.ack("`/platform env clone SOURCE NEW [--tier T]`: which one, and the new name?")
                return
            form = self._requests.clone_form(ctx.principal, rest[0], rest[1], tier)
            self._open_form(ctx, form)
        elif verb == "extend":
            env = self._lifecycle.find(ctx.principal, rest[0])
            ctx.ack()
            ctx.client.views_open(trigger_id=ctx.trigger_id, view=modals.build_extend_modal(env))
        elif verb == "destroy":
            ctx.ack()
            self._open_destroy(ctx.client, ctx.trigger_id, ctx.principal, rest[0])
        elif verb == "credentials":
            env = self._lifecycle.reissue(ctx.principal, rest[0], ctx.idempotency_key)
            ctx.ack(
                f"New passwords are being set for every resource of `{env.name}`; the old ones "
                "stop working. A Reveal button comes to your DMs when they are ready."
            )
        else:
            ctx.ack(
                f"`/platform env {escape(verb[:20])}` is not something I know. Usage: `{ENV_USAGE}`"
            )

    def _open_form(self, ctx: CommandContext, form: FormValues) -> None:
        templates = self._requests.templates_for(ctx.principal)
        if not templates:
            ctx.ack("There is no environment template you may use. Ask the platform team.")
            return
        teams = [(t, t) for t in self._requests.teams_for(ctx.principal)]
        if not teams:
            ctx.ack("Environments belong to a team, and you are in none. Ask the platform team.")
            return
        modal = self._form_modal(templates, teams, form, {"channel": ctx.channel_id})
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=modal)

    def _form_modal(
        self,
        templates: Sequence[Template],
        teams: Sequence[tuple[str, str]],
        form: FormValues,
        metadata: Mapping[str, str | None],
    ) -> JSON:
        chosen = next((t for t in templates if t.key == form.template), templates[0])
        tier = form.tier if form.tier in chosen.config.tiers else chosen.config.tiers[0]
        bounds = self._requests.ttl_bounds(chosen, tier)
        return modals.build_form_modal(templates, teams, form, bounds, metadata)

    def handle_create_prefilled(self, ack: Ack, body: JSON, client: WebClient) -> None:
        """Another feature's "Create its dev environment": the create form, prefilled."""
        ack()
        principal = self._identity.principal(body["user"]["id"])
        templates = self._requests.templates_for(principal)
        teams = [(t, t) for t in self._requests.teams_for(principal)]
        if not templates or not teams:
            raise NotAllowed("You may not create environments: ask the platform team.")
        form = _prefill(str(body["actions"][0].get("value") or ""), {t for t, _ in teams})
        channel = (body.get("channel") or {}).get("id")
        modal = self._form_modal(templates, teams, form, {"channel": channel})
        client.views_open(trigger_id=body["trigger_id"], view=modal)

    def handle_template_change(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        view = body["view"]
        principal = self._identity.principal(body["user"]["id"])
        form = modals.parse_form(view)
        templates = self._requests.templates_for(principal)
        teams = [(t, t) for t in self._requests.teams_for(principal)]
        if not templates:
            return
        modal = self._form_modal(templates, teams, form, modals.metadata_of(view))
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)

    # -- form → plan → confirm ----------------------------------------------------------------

    def handle_form_submission(self, ack: Ack, body: JSON, view: JSON, client: WebClient) -> None:
        principal = self._identity.principal(body["user"]["id"])
        try:
            request = self._requests.check(principal, modals.parse_form(view))
        except FormInvalid as invalid:
            ack(response_action="errors", errors=_known_blocks(invalid.errors, view))
            return
        except PlatformError as error:
            ack(
                response_action="push",
                view=modals.build_notice_modal("Cannot do this", error.message),
            )
            return
        # Slack shows "Planning…" when it reads this answer, which may be after the plan below
        # is ready: the plan finds that view by its external id once Slack shows it.
        shown_as = f"env-plan-{view['id']}"[:255]
        ack(response_action="update", view=modals.build_planning_modal("Plan", shown_as))
        try:
            plan = self._requests.plan(principal, request)
            modal = modals.build_plan_modal(plan, modals.metadata_of(view))
        except PlatformError as error:
            modal = modals.build_notice_modal("Cannot do this", error.message)
        _replace_when_shown(client, shown_as, modal)

    def handle_plan_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        try:
            env = self._requests.confirm(principal, modals.parse_plan(view), f"env:{view['id']}")
        except PlatformError as error:
            text = (
                "; ".join(error.errors.values())
                if isinstance(error, FormInvalid)
                else error.message
            )
            ack(response_action="update", view=modals.build_notice_modal("Not created", text))
            return
        if env.status == "pending_approval":
            text = (
                f"`{env.name}` waits for {env.approvals_needed} approval(s); "
                "you'll hear when it is decided."
            )
        else:
            text = (
                f"Creating `{env.name}`: progress comes to your DMs, then a Reveal button "
                "for its credentials."
            )
        ack(response_action="update", view=modals.build_notice_modal("Environment requested", text))

    # -- destroy, extend, snooze -------------------------------------------------------------

    def _open_destroy(
        self, client: WebClient, trigger_id: str, principal: Principal, name: str
    ) -> None:
        opened = client.views_open(
            trigger_id=trigger_id, view=modals.build_planning_modal("Destroy")
        )
        view_id = str((opened.get("view") or {}).get("id") or "")
        try:
            env, plan = self._lifecycle.destroy_plan(principal, name)
            modal = modals.build_destroy_modal(env, plan)
        except PlatformError as error:
            modal = modals.build_notice_modal("Cannot destroy", error.message)
        client.views_update(view_id=view_id, view=modal)

    def handle_destroy_now(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        env = self._lifecycle.get(principal, _button_value(body))
        self._open_destroy(client, body["trigger_id"], principal, env.name)

    def handle_destroy_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        env_id = str(modals.metadata_of(view).get("environment_id") or "")
        typed = modals.field_value(view, BlockId.CONFIRM_NAME)
        try:
            env = self._lifecycle.destroy(principal, env_id, typed)
        except FormInvalid as invalid:
            ack(response_action="errors", errors=_known_blocks(invalid.errors, view))
            return
        except PlatformError as error:
            ack(
                response_action="update",
                view=modals.build_notice_modal("Not destroyed", error.message),
            )
            return
        if env.status == "creating":
            text = f"`{env.name}` is still being created: it will be destroyed right after."
        elif env.status == "denied":
            text = f"The request for `{env.name}` is cancelled; nothing was created."
        else:
            text = f"Destroying `{env.name}`: a receipt comes to your DMs when it is gone."
        ack(response_action="update", view=modals.build_notice_modal("Destroying", text))

    def handle_extend(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        env = self._lifecycle.get(principal, _button_value(body))
        client.views_open(trigger_id=body["trigger_id"], view=modals.build_extend_modal(env))

    def handle_extend_submission(self, ack: Ack, body: JSON, view: JSON) -> None:
        principal = self._identity.principal(body["user"]["id"])
        env_id = str(modals.metadata_of(view).get("environment_id") or "")
        env = self._lifecycle.get(principal, env_id)
        hours, problem = parse_hours(
            modals.field_value(view, BlockId.EXTEND_HOURS),
            field="Extend by",
            maximum=env.max_ttl_hours,
        )
        if hours is None:
            ack(response_action="errors", errors={BlockId.EXTEND_HOURS: problem or ""})
            return
        try:
            extended = self._lifecycle.extend(
                principal, env_id, hours, modals.field_value(view, BlockId.REASON)
            )
        except FormInvalid as invalid:
            ack(response_action="errors", errors=_known_blocks(invalid.errors, view))
            return
        except PlatformError as error:
            ack(response_action="errors", errors={BlockId.EXTEND_HOURS: error.message[:150]})
            return
        ack(
            response_action="update",
            view=modals.build_notice_modal(
                "Extended", f"`{extended.name}` now expires {when(extended.expires_at)}."
            ),
        )

    def handle_snooze(self, ack: Ack, body: JSON, respond: Any) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        env = self._lifecycle.snooze(principal, _button_value(body))
        respond(
            text=f"`{env.name}` now expires {when(env.expires_at)}.",
            response_type="ephemeral",
            replace_original=False,
        )

    # -- approvals and the reveal --------------------------------------------------------------

    def handle_approve(self, ack: Ack, body: JSON) -> None:
        ack()
        self._approvals.approve(self._identity.principal(body["user"]["id"]), _button_value(body))

    def handle_deny(self, ack: Ack, body: JSON) -> None:
        ack()
        self._approvals.deny(self._identity.principal(body["user"]["id"]), _button_value(body))

    def handle_reveal(self, ack: Ack, body: JSON, client: WebClient) -> None:
        ack()
        principal = self._identity.principal(body["user"]["id"])
        env, secrets = self._lifecycle.reveal(principal, _button_value(body))
        quiet = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            logger=_reveal_logger,
        )
        try:
            quiet.views_open(
                trigger_id=body["trigger_id"], view=modals.build_reveal_modal(env, secrets)
            )
        except (SlackApiError, SlackClientError):
            self._lifecycle.put_back(env.id, secrets)
            raise Unavailable(
                "Slack did not open the window with your credentials. Nothing was shown, and "
                "they are kept: click Reveal again."
            ) from None


def _replace_when_shown(client: WebClient, external_id: str, view: JSON) -> None:
    """`views.update` by external id, waiting (briefly) for Slack to show that view."""
    deadline = time.monotonic() + PLANNING_SHOWN_WITHIN
    while True:
        try:
            client.views_update(external_id=external_id, view=view)
            return
        except SlackApiError as error:
            if error.response.get("error") != "view_not_found" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _prefill(value: str, teams: set[str]) -> FormValues:
    """The form's values from a button's JSON value; anything odd is left blank (the form
    checks what is submitted, so a forged value can only prefill a field)."""
    try:
        raw = json.loads(value[:2000])
    except ValueError:
        raw = {}
    found = raw if isinstance(raw, dict) else {}

    def text(key: str) -> str:
        item = found.get(key)
        return item[:64] if isinstance(item, str) else ""

    team = text("team")
    return FormValues(
        template=text("template"), name=text("name"), tier="", team=team if team in teams else ""
    )


def _known_blocks(errors: dict[str, str], view: JSON) -> dict[str, str]:
    """Field errors on blocks the modal has; the rest on its first input block."""
    blocks = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    found: dict[str, str] = {}
    for block, message in errors.items():
        target = block if block in blocks else (blocks[0] if blocks else block)
        found[target] = (found.get(target, "") + " " + message).strip()[:150]
    return found


__all__ = ["ENV_USAGE", "EnvHandlers"]
