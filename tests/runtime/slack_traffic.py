"""Requests as Slack sends them and as nobody should: signed, unsigned, malformed, junk.

`Traffic` sends them over real HTTP to a running app (the in-process `local_bot` or a
`platform-bot serve` process), so the front door is tested where it stands.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import socket
import string
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from bot.emulator import SlackSigner
from tests.harness import BotHarness

MARKER = "UNVERIFIED-BODY-MARKER"
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

_DEEP = ('{"a":' * 50_000 + "1" + "}" * 50_000).encode()
# (body, content type); each carries MARKER, which must never reach a log line or an answer.
MALFORMED: dict[str, tuple[bytes, str]] = {
    "not UTF-8": (b"command=%2Fplatform&text=" + MARKER.encode() + b"\xff\xfe", FORM),
    "invalid JSON": (b'{"type": "event_callback", "m": "' + MARKER.encode(), JSON_TYPE),
    "a JSON array": (b'["' + MARKER.encode() + b'"]', JSON_TYPE),
    "deep nesting": (_DEEP.replace(b'"a"', f'"{MARKER}"'.encode(), 1), JSON_TYPE),
    "payload not JSON": (b"payload=%7B" + MARKER.encode(), FORM),
    "payload not an object": (b"payload=%5B%22" + MARKER.encode() + b"%22%5D", FORM),
    "payload null": (b"payload=null&m=" + MARKER.encode(), FORM),
}
# (signed, unsigned): the signature is checked before the body is parsed; a body that is not
# UTF-8 is refused before both, since Slack signs text.
EXPECTED_STATUS = dict.fromkeys(MALFORMED, (400, 401)) | {"not UTF-8": (400, 400)}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 signature, computed here independently of the SDK the app uses."""
    basestring = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Traffic:
    app_url: str
    signing_secret: str
    signer: SlackSigner

    @classmethod
    def to(cls, bot: BotHarness) -> Traffic:
        return cls(bot.app_url, bot.emulator.signing_secret, bot.signer)

    def post(self, body: bytes, headers: dict[str, str], timeout: float = 10) -> httpx.Response:
        return httpx.post(self.app_url, content=body, headers=headers, timeout=timeout)

    def headers(
        self, body: bytes, content_type: str, *, signed: bool, timestamp: str = ""
    ) -> dict[str, str]:
        """Headers as Slack sends them, signed with the app's secret or with someone else's."""
        timestamp = timestamp or str(int(time.time()))
        secret = self.signing_secret if signed else "someone-else's-secret"
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(secret, timestamp, body),
        }

    def status_line_for_headers_only(self, declared: int) -> bytes:
        """Send only a request's headers, announcing `declared` bytes; the status line."""
        parts = urlsplit(self.app_url)
        assert parts.hostname is not None and parts.port is not None
        request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Type: {FORM}\r\n"
            f"Content-Length: {declared}\r\n\r\n"
        )
        with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
            sock.sendall(request.encode())
            return sock.makefile("rb").readline()

    def series(self) -> set[str]:
        """Every series /metrics exposes (name and labels, without the value)."""
        text = httpx.get(self.app_url.removesuffix("/slack/events") + "/metrics").text
        return {line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#")}

    def send_junk(self, rng: random.Random) -> list[str]:
        """Unsigned bodies of any kind, a signed kind Slack never sends, a typo; the words."""
        typed = ["hunter2-" + "".join(rng.choices(string.ascii_lowercase, k=10)) for _ in "1234"]
        unsigned = json.dumps({"type": typed[0], "command": typed[1]}).encode()
        assert self.post(unsigned, self.headers(unsigned, JSON_TYPE, signed=False)).is_error
        signed = json.dumps({"type": typed[2]}).encode()
        self.post(signed, self.headers(signed, JSON_TYPE, signed=True))
        assert self.signer.slash_command("U0BOB", f"{typed[3]} x").status == 200
        return typed
