"""`SlackSigner`: sends the app what Slack sends, signed, over real HTTP.

Requests are form-encoded exactly as Slack encodes them (slash commands as fields,
interactivity as one `payload` field holding JSON) and signed with v0 HMAC-SHA256, so the
app's own request verification runs unmodified. The signer also plays the Slack client's part
afterwards: it shows acks to people and applies a view_submission's `response_action`.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.emulator.backend import ResponseTarget
from bot.emulator.blockkit import assign_ids, check_view
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

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class SignedResponse:
    """The app's answer; status 0 means it did not answer within the ack deadline."""

    status: int
    headers: dict[str, str]
    body: str
    json: Any


class SubmissionBlocked(Exception):
    """The Slack client would not send this submission (required inputs are empty)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx's default, built once: each build reads the CA bundle again (~50 ms), and the
    # tests start a signer for every bot they run.
    return httpx.create_ssl_context()


class SlackSigner:
    def __init__(
        self,
        emulator: Emulator,
        app_url: str,
        signing_secret: str,
        *,
        command: str = "/platform",
        ack_timeout: float = 3.0,
    ) -> None:
        self._emulator = emulator
        self._backend = emulator.backend
        self.app_url = app_url
        self.command = command
        self._verifier = SignatureVerifier(signing_secret)
        self._http = httpx.Client(timeout=ack_timeout, verify=_tls_context())
        self.verification_token = "emulated-verification-token"

    def close(self) -> None:
        self._http.close()

    # -- sending --------------------------------------------------------------------------

    def sign(self, body: str, timestamp: str) -> str:
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        assert signature is not None  # only None for an empty secret, which the sdk rejects
        return signature

    def send(
        self,
        fields: dict[str, str],
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedResponse:
        return self._post(
            urlencode(fields),
            "application/x-www-form-urlencoded",
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def event(
        self, event: JSON, *, retry_num: int | None = None, retry_reason: str | None = None
    ) -> SignedResponse:
        """Deliver an Events API `event_callback` as Slack does: a signed JSON body."""
        workspace = self._backend.workspace
        team = workspace.team
        envelope = {
            "token": self.verification_token,
            "team_id": team.id,
            "api_app_id": workspace.app.id,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team.id,
                    "user_id": workspace.app.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self._post(
            json.dumps(envelope),
            "application/json",
            retry_num=retry_num,
            retry_reason=retry_reason,
        )

    def _post(
        self,
        body: str,
        content_type: str,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedResponse:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.sign(body, timestamp),
            "User-Agent": USER_AGENT,
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        with self._emulator.state.busy():
            try:
                response = self._http.post(self.app_url, content=body.encode(), headers=headers)
            except httpx.TimeoutException:
                return SignedResponse(0, {}, "", None)
        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = None
        return SignedResponse(response.status_code, dict(response.headers), response.text, parsed)

    def _interaction(self, payload: JSON) -> SignedResponse:
        return self.send({"payload": json.dumps(payload)})

    def _common(self, user_id: str) -> JSON:
        user = self._backend.user(user_id)
        team = self._backend.workspace.team
        return {
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": team.id},
            "api_app_id": self._backend.workspace.app.id,
            "token": self.verification_token,
            "team": {"id": team.id, "domain": team.domain},
            "enterprise": None,
            "is_enterprise_install": False,
        }

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
            "is_enterprise_install": "false",
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
