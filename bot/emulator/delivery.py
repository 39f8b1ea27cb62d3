"""How the emulator hands the app what Slack sends: signed HTTP POSTs, or Socket Mode envelopes.

Slack has two transports for the same three things (slash commands, interactivity payloads,
Events API callbacks). Over HTTP it POSTs them, form-encoded or JSON, signed with v0
HMAC-SHA256, and the HTTP response is the ack. Over Socket Mode it sends them as envelopes on
a WebSocket, and the ack is a message carrying the `envelope_id` and an optional payload. A
`Delivery` hides which: the signer builds the payloads and reads the ack as a
`SignedResponse` either way, so every flow the signer knows runs over both transports.
"""

from __future__ import annotations

import functools
import json
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.emulator.state import JSON, State

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class EnvelopeType(StrEnum):
    """What Slack sends an app; the Socket Mode envelope's `type`."""

    SLASH_COMMANDS = "slash_commands"
    INTERACTIVE = "interactive"
    EVENTS_API = "events_api"


@dataclass(frozen=True)
class SignedResponse:
    """The app's answer (an HTTP response, or a Socket Mode ack read as one); status 0 means
    it did not answer within the ack deadline."""

    status: int
    headers: dict[str, str]
    body: str
    json: Any


NO_ANSWER = SignedResponse(0, {}, "", None)


class Delivery(Protocol):
    def deliver(
        self,
        kind: EnvelopeType,
        payload: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedResponse:
        """Hand `payload` to the app and wait for its ack (at most the ack deadline)."""
        ...

    def close(self) -> None: ...


def ack_response(payload: JSON | None) -> SignedResponse:
    """A Socket Mode ack as the HTTP response that would carry it: JSON, or an empty 200."""
    if not payload:
        return SignedResponse(200, {"content-type": "application/json"}, "", None)
    return SignedResponse(200, {"content-type": "application/json"}, json.dumps(payload), payload)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # httpx's default, built once: each build reads the CA bundle again (~50 ms), and the
    # tests start a signer for every bot they run.
    return httpx.create_ssl_context()


class HttpDelivery:
    """Signed POSTs to the app's request URL, encoded exactly as Slack encodes them: slash
    commands as form fields, interactivity as one `payload` field holding JSON, events as a
    JSON body; so the app's own request verification runs unmodified."""

    def __init__(self, state: State, app_url: str, signing_secret: str, ack_timeout: float) -> None:
        self._state = state
        self.app_url = app_url
        self._verifier = SignatureVerifier(signing_secret)
        self._http = httpx.Client(timeout=ack_timeout, verify=_tls_context())

    def close(self) -> None:
        self._http.close()

    def sign(self, body: str, timestamp: str) -> str:
        signature = self._verifier.generate_signature(timestamp=timestamp, body=body)
        assert signature is not None  # only None for an empty secret, which the sdk rejects
        return signature

    def deliver(
        self,
        kind: EnvelopeType,
        payload: JSON,
        *,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedResponse:
        if kind is EnvelopeType.EVENTS_API:
            body, content_type = json.dumps(payload), "application/json"
        else:
            fields = (
                {"payload": json.dumps(payload)} if kind is EnvelopeType.INTERACTIVE else payload
            )
            body, content_type = urlencode(fields), "application/x-www-form-urlencoded"
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
        with self._state.busy():
            try:
                response = self._http.post(self.app_url, content=body.encode(), headers=headers)
            except httpx.TimeoutException:
                return NO_ANSWER
        try:
            parsed = response.json() if response.content else None
        except ValueError:
            parsed = None
        return SignedResponse(response.status_code, dict(response.headers), response.text, parsed)
