"""`SlackSigner`: sends the app what Slack sends, and shows people what Slack shows of the acks.

It builds the payloads exactly as Slack builds them (slash command fields, interactivity
payloads, event callbacks) and hands them over by a `Delivery`: signed HTTP POSTs to the app's
request URL (`SlackSigner(emulator, app_url, signing_secret)`), or Socket Mode envelopes to an
app connected to the emulator (`SlackSigner.over_socket(emulator)`). Either way it then plays
the Slack client's part: it shows acks to people and applies a view_submission's
`response_action`.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bot.emulator.backend import ResponseTarget
from bot.emulator.blockkit import assign_ids, check_view
from bot.emulator.delivery import Delivery, EnvelopeType, HttpDelivery, SignedResponse
from bot.emulator.emulator import Emulator
from bot.emulator.params import ApiError
from bot.emulator.payloads import (
    action_entry,
    find_element,
    missing_required,
    view_payload,
    view_state,
)
from bot.emulator.respond import command_failed, deliver, parse_ack, record_command_ack
from bot.emulator.shapes import message_json
from bot.emulator.state import JSON, View

__all__ = ["SignedResponse", "SlackSigner", "SubmissionBlocked"]


class SubmissionBlocked(Exception):
    """The Slack client would not send this submission (required inputs are empty)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class SlackSigner:
    def __init__(
        self,
        emulator: Emulator,
        app_url: str | None = None,
        signing_secret: str | None = None,
        *,
        command: str = "/platform",
        ack_timeout: float = 3.0,
        delivery: Delivery | None = None,
        team: str | None = None,
    ) -> None:
        """`team` picks the workspace the people are in (the emulator's first by default)."""
        backend = emulator.backend if team is None else emulator.backend_for(team)
        if delivery is None:
            if app_url is None or signing_secret is None:
                raise ValueError("give the app's URL and signing secret, or a delivery")
            delivery = HttpDelivery(backend.state, app_url, signing_secret, ack_timeout)
        self._emulator = emulator
        self._backend = backend
        self._delivery = delivery
        self.app_url = app_url
        self.command = command
        self.verification_token = "emulated-verification-token"

    @classmethod
    def over_socket(
        cls, emulator: Emulator, *, command: str = "/platform", ack_timeout: float = 3.0
    ) -> SlackSigner:
        """A signer whose envelopes go to the app connected over Socket Mode."""
        return cls(emulator, command=command, delivery=emulator.socket_mode.delivery(ack_timeout))

    def close(self) -> None:
        self._delivery.close()

    # -- sending --------------------------------------------------------------------------

    def sign(self, body: str, timestamp: str) -> str:
        if not isinstance(self._delivery, HttpDelivery):
            raise TypeError("Socket Mode envelopes are not signed")
        return self._delivery.sign(body, timestamp)

    def send(
        self,
        fields: dict[str, str],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedResponse:
        """Send a form as Slack would: a slash command's fields, or an interaction's `payload`."""
        if "command" not in fields and "payload" in fields:
            kind, payload = EnvelopeType.INTERACTIVE, json.loads(fields["payload"])
        else:
            kind, payload = EnvelopeType.SLASH_COMMANDS, dict(fields)
        return self._delivery.deliver(kind, payload, retry_num=retry_num, retry_reason=retry_reason)

    def event(
        self, event: JSON, *, retry_num: int | None = None, retry_reason: str | None = None
    ) -> SignedResponse:
        """Deliver an Events API `event_callback` as Slack does."""
        workspace = self._backend.workspace
        team = workspace.team
        enterprise_id = workspace.enterprise.id if workspace.enterprise else None
        org_wide = self._backend.org_wide
        envelope = {
            "token": self.verification_token,
            "team_id": team.id,
            "enterprise_id": enterprise_id,
            "api_app_id": workspace.app.id,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    # An org-wide install is authorized for the organisation, not one team.
                    "team_id": None if org_wide else team.id,
                    "user_id": workspace.app.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self._delivery.deliver(
            EnvelopeType.EVENTS_API, envelope, retry_num=retry_num, retry_reason=retry_reason
        )

    def _interaction(self, payload: JSON) -> SignedResponse:
        return self._delivery.deliver(EnvelopeType.INTERACTIVE, payload)

    def _common(self, user_id: str) -> JSON:
        user = self._backend.user(user_id)
        workspace = self._backend.workspace
        team = workspace.team
        enterprise = workspace.enterprise
        return {
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team.id},
            "api_app_id": workspace.app.id,
            "token": self.verification_token,
            "team": {
                "id": team.id,
                "domain": team.domain,
                **({"enterprise_id": enterprise.id} if enterprise else {}),
            },
            "enterprise": None
            if enterprise is None
            else {"id": enterprise.id, "name": enterprise.name},
            "is_enterprise_install": self._backend.org_wide,
        }

    def uninstall_app(self, event_type: str = "app_uninstalled") -> SignedResponse:
        """A person removes the app from this workspace: Slack revokes its bot token, then
        tells the app (`app_uninstalled`, or `tokens_revoked` naming the bot user)."""
        workspace = self._backend.workspace
        self._emulator.installs.uninstall(workspace.team.id)
        event: JSON = {"type": event_type}
        if event_type == "tokens_revoked":
            event["tokens"] = {"oauth": [], "bot": [workspace.app.bot_user_id]}
        return self.event(event)

    # -- slash commands -------------------------------------------------------------------

    def slash_command(
        self,
        user_id: str,
        text: str,
        channel_id: str = "C0GENERAL",
        retry_num: int | None = None,
        *,
        command: str | None = None,
    ) -> SignedResponse:
        """Run `/command text` as the user in the channel, and show the ack as Slack does."""
        command = command or self.command
        backend = self._backend
        user = backend.user(user_id)
        channel = backend.workspace.channel(channel_id)
        channel_id = channel.id if channel else channel_id
        target = ResponseTarget(channel_id, user.id)
        fields = {
            "token": self.verification_token,
            "team_id": backend.workspace.team.id,
            "team_domain": backend.workspace.team.domain,
            "channel_id": channel_id,
            "channel_name": channel.name if channel else "directmessage",
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": backend.workspace.app.id,
            **self._enterprise_fields(),
            "response_url": backend.mint_response_url(target),
            "trigger_id": backend.mint_trigger(user.id),
        }
        response = self.send(fields, retry_num=retry_num)
        if response.status == 0:
            command_failed(backend, target, command, "operation_timeout")
        elif response.status != 200:
            command_failed(backend, target, command, "dispatch_failed")
        else:
            body = parse_ack(response.headers.get("content-type", ""), response.body)
            if body is not None:
                record_command_ack(backend, target, command, text, body)
        return response

    def _enterprise_fields(self) -> dict[str, str]:
        enterprise = self._backend.workspace.enterprise
        fields = {"is_enterprise_install": "true" if self._backend.org_wide else "false"}
        if enterprise is not None:
            fields.update(enterprise_id=enterprise.id, enterprise_name=enterprise.name)
        return fields

    # -- block actions --------------------------------------------------------------------

    def block_action(
        self,
        user_id: str,
        *,
        action_id: str,
        value: Any = None,
        selected_option: Any = None,
        message: tuple[str, str] | None = None,
        view_id: str | None = None,
        block_id: str | None = None,
        shown_blocks: list[JSON] | None = None,
    ) -> SignedResponse:
        """Click or pick in `message` (channel, ts), or as stale `shown_blocks` still show it."""
        backend = self._backend
        payload = self._common(user_id)
        raw = selected_option if selected_option is not None else value
        action_ts = backend.state.next_ts()
        target: ResponseTarget | None = None
        if view_id is not None:
            view = self._view(user_id, view_id)
            block, element = find_element(view.spec.get("blocks", []), action_id, block_id)
            if element.get("type") != "button" and raw is not None:
                backend.state.set_view_value(view.id, str(block["block_id"]), action_id, raw)
                view = self._view(user_id, view_id)
            payload.update(
                container={"type": "view", "view_id": view.id},
                view=view_payload(backend, view),
                state=view_state(backend, view),
            )
        elif message is not None:
            channel_id, ts = message
            target, blocks = self._message_target(user_id, channel_id, ts)
            block, element = find_element(shown_blocks or blocks, action_id, block_id)
            channel = backend.workspace.channel(channel_id)
            payload.update(
                container={
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel_id,
                    "is_ephemeral": target.ephemeral,
                },
                channel={"id": channel_id, "name": channel.name if channel else "directmessage"},
                state={"values": {}},
                response_url=backend.mint_response_url(target),
            )
            if not target.ephemeral:
                found = backend.state.find(channel_id, ts)
                assert found is not None
                payload["message"] = message_json(backend, found)
        else:
            raise ValueError("give either message=(channel, ts) or view_id")
        payload.update(
            type="block_actions",
            trigger_id=backend.mint_trigger(user_id),
            actions=[action_entry(backend, block, element, raw, action_ts)],
        )
        response = self._interaction(payload)
        self._record_action_ack(response, target)
        return response

    def _message_target(
        self, user_id: str, channel_id: str, ts: str
    ) -> tuple[ResponseTarget, list[JSON]]:
        state = self._backend.state
        found = state.find(channel_id, ts)
        if found is not None:
            return ResponseTarget(channel_id, user_id, message_ts=ts), found.blocks
        ephemeral = state.find_ephemeral(user_id, ts)
        if ephemeral is None:
            raise LookupError(f"no message {ts} in {channel_id} visible to {user_id}")
        target = ResponseTarget(channel_id, user_id, message_ts=ts, ephemeral=True)
        return target, ephemeral.blocks

    def _record_action_ack(self, response: SignedResponse, target: ResponseTarget | None) -> None:
        state = self._backend.state
        if response.status != 200:
            state.record("app_error", detail=f"the app answered HTTP {response.status}")
            return
        body = parse_ack(response.headers.get("content-type", ""), response.body)
        if body is not None and target is not None and (body.get("text") or body.get("blocks")):
            try:
                deliver(self._backend, target, body)
            except ApiError as exc:
                state.record("app_error", detail=exc.code)

    # -- modals ---------------------------------------------------------------------------

    def _view(self, user_id: str, view_id: str) -> View:
        stack = self._backend.state.modal_stack(user_id)
        home = self._backend.state.home(user_id)
        for view in [*stack, *([home] if home else [])]:
            if view.id == view_id:
                return view
        raise LookupError(f"view {view_id} is not open for {user_id}")

    def view_submission(
        self, user_id: str, view_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> SignedResponse:
        """Submit the modal, after entering `values` ({block_id: {action_id: value}})."""
        backend = self._backend
        for block_id, entered in (values or {}).items():
            for action_id, raw in entered.items():
                backend.state.set_view_value(view_id, block_id, action_id, raw)
        view = self._view(user_id, view_id)
        blocked = missing_required(view)
        if blocked:
            backend.state.set_view_errors(view_id, blocked)
            raise SubmissionBlocked(blocked)
        payload = self._common(user_id)
        payload.update(
            type="view_submission",
            trigger_id=backend.mint_trigger(user_id),
            view=view_payload(backend, view),
            response_urls=[],
        )
        response = self._interaction(payload)
        self._apply_response_action(view, response)
        return response

    def _apply_response_action(self, view: View, response: SignedResponse) -> None:
        state = self._backend.state
        if response.status != 200:
            state.record(
                "app_error",
                user=view.user,
                view_id=view.id,
                detail="We had some trouble connecting. Try again?",
            )
            return
        if not response.body.strip():
            state.close_view(view.id)
            return
        body = response.json if isinstance(response.json, dict) else {}
        action = body.get("response_action")
        if action == "errors":
            state.set_view_errors(view.id, dict(body.get("errors") or {}))
        elif action == "clear":
            state.clear_views(view.user)
        elif action in ("update", "push"):
            spec = body.get("view")
            problems = check_view(spec)
            if problems or not isinstance(spec, dict):
                state.record(
                    "app_error", user=view.user, view_id=view.id, detail="; ".join(problems)
                )
                return
            spec = {**spec, "blocks": assign_ids(spec.get("blocks", []))}
            if action == "update":
                current = state.find_view(view_id=view.id)
                if current is not None:
                    state.replace_view(current, spec)
            else:
                try:
                    state.push_modal(view.user, spec)
                except OverflowError:
                    state.record("app_error", user=view.user, detail="push_limit_reached")
        else:
            state.record(
                "app_error",
                user=view.user,
                view_id=view.id,
                detail=f"unexpected view_submission response: {response.body[:200]}",
            )

    def view_closed(self, user_id: str, view_id: str) -> SignedResponse | None:
        """The person closes the modal; the app hears of it only with notify_on_close."""
        view = self._view(user_id, view_id)
        self._backend.state.close_view(view_id)
        if not view.spec.get("notify_on_close"):
            return None
        payload = self._common(user_id)
        payload.update(type="view_closed", view=view_payload(self._backend, view), is_cleared=False)
        return self._interaction(payload)
