"""The checks every request to /slack/events passes before Bolt sees it, cheapest first.

    size       a Content-Length over `MAX_BODY_BYTES` → 413 before a byte is read; without
               one, at most `MAX_BODY_BYTES + 1` bytes are read, and one byte over → 413
    length     a Content-Length that is not a plain number → 400
    encoding   a body that is not UTF-8 → 400 (Slack sends UTF-8 and signs that text)
    signature  v0 HMAC-SHA256 of the raw body with a timestamp within 5 minutes → else 401
    shape      a form or JSON object Bolt can read (valid JSON, an object, not nested past
               Python's recursion limit, a `payload` field holding an object) → else 400

Nothing of an unverified body is parsed, logged or counted: a refused request raises
`Refused`, whose `reason` is one of a fixed set, and the caller logs that reason alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import IO, TYPE_CHECKING, Any

from slack_bolt import BoltRequest
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    from wsgiref.types import WSGIEnvironment

# Slack's largest payloads (a view_submission carrying a full modal) are tens of KB.
MAX_BODY_BYTES = 1024 * 1024
_READ_CHUNK = 64 * 1024
# Seconds since 1970 have 10 digits until the year 2286.
_MAX_TIMESTAMP_DIGITS = 12


class Refusal(StrEnum):
    """Why a request was refused; also the label of the refusals metric."""

    TOO_LARGE = "too_large"
    BAD_LENGTH = "bad_length"
    NOT_UTF8 = "not_utf8"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"


STATUS = {
    Refusal.TOO_LARGE: 413,
    Refusal.BAD_LENGTH: 400,
    Refusal.NOT_UTF8: 400,
    Refusal.BAD_SIGNATURE: 401,
    Refusal.MALFORMED: 400,
}
EXPLANATION = {
    Refusal.TOO_LARGE: f"the body is larger than {MAX_BODY_BYTES} bytes",
    Refusal.BAD_LENGTH: "the Content-Length header is not a number",
    Refusal.NOT_UTF8: "the body is not UTF-8",
    Refusal.BAD_SIGNATURE: "the Slack signature or its timestamp does not verify",
    Refusal.MALFORMED: "the body is not a form or JSON object Slack would send",
}


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(EXPLANATION[reason])
        self.reason = reason
        self.status = STATUS[reason]


class RequestKind(StrEnum):
    """What a verified request is; the label of the ack-time metric (a fixed set)."""

    COMMAND = "command"
    BLOCK_ACTIONS = "block_actions"
    BLOCK_SUGGESTION = "block_suggestion"
    VIEW_SUBMISSION = "view_submission"
    VIEW_CLOSED = "view_closed"
    SHORTCUT = "shortcut"
    MESSAGE_ACTION = "message_action"
    EVENT_CALLBACK = "event_callback"
    URL_VERIFICATION = "url_verification"
    APP_RATE_LIMITED = "app_rate_limited"
    UNKNOWN = "unknown"


_KINDS = frozenset(RequestKind)


def request_kind(body: Mapping[str, Any]) -> RequestKind:
    if "command" in body:
        return RequestKind.COMMAND
    kind = body.get("type")
    return RequestKind(kind) if isinstance(kind, str) and kind in _KINDS else RequestKind.UNKNOWN


class RequestGate:
    """Turns a WSGI request into a verified, parsed BoltRequest, or raises `Refused`."""

    def __init__(self, signing_secret: str, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._max_body_bytes = max_body_bytes

    def admit(self, environ: WSGIEnvironment) -> BoltRequest:
        raw = read_body(environ, self._max_body_bytes)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(Refusal.NOT_UTF8) from None
        request = WsgiHttpRequest(environ)
        headers = request.get_headers()
        if not self._signed(text, headers):
            raise Refused(Refusal.BAD_SIGNATURE)
        return _parse(text, request.query_string, headers)

    def _signed(self, body: str, headers: Mapping[str, Any]) -> bool:
        timestamp = str(headers.get("x-slack-request-timestamp", ""))
        signature = str(headers.get("x-slack-signature", ""))
        # The SDK would raise on a non-numeric timestamp (int()) or a non-ASCII signature
        # (compare_digest); both are simply unsigned requests.
        plain_timestamp = (
            timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS
        )
        return (
            plain_timestamp
            and signature.isascii()
            and self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        )


def read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """The request body, refused as too large before reading more than `limit` + 1 bytes."""
    declared = str(environ.get("CONTENT_LENGTH") or "")
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(Refusal.BAD_LENGTH)
        if len(declared.lstrip("0")) > len(str(limit)) or int(declared) > limit:
            raise Refused(Refusal.TOO_LARGE)
        wanted = int(declared)
    elif environ.get("wsgi.input_terminated"):
        # A chunked body: the server ends the stream, and reading one byte past the limit
        # is enough to know it is too large.
        wanted = limit + 1
    else:
        # PEP 3333: without a Content-Length the stream may never end; there is no body.
        return b""
    body = _read_at_most(environ["wsgi.input"], wanted)
    if len(body) > limit:
        raise Refused(Refusal.TOO_LARGE)
    return body


def _read_at_most(stream: IO[bytes], wanted: int) -> bytes:
    chunks: list[bytes] = []
    remaining = wanted
    while remaining > 0:
        chunk = stream.read(min(remaining, _READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _parse(text: str, query: str, headers: Mapping[str, Any]) -> BoltRequest:
    try:
        # Bolt parses the body as it builds the request: form fields, a JSON body, or the
        # JSON in a `payload` field; then it reads ids out of what it parsed.
        request = BoltRequest(body=text, query=query, headers=dict(headers))
    except (ValueError, TypeError, AttributeError, LookupError, RecursionError):
        raise Refused(Refusal.MALFORMED) from None
    if not isinstance(request.body, dict):
        raise Refused(Refusal.MALFORMED)
    return request
