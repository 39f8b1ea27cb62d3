"""The GitHub REST client under the GitHub Actions orchestrator: auth, retries, rate limits.

Every call sends `Authorization: Bearer …`, `Accept: application/vnd.github+json` and the
pinned `X-GitHub-Api-Version`. The credential is a fixed token (a fine-grained PAT or an
installation token minted elsewhere) or a GitHub App: a JWT signed RS256 with the app's
private key buys an installation access token (`POST /app/installations/{id}/access_tokens`),
which lives an hour; it is renewed a few minutes before `expires_at`, and once more when
GitHub answers 401 anyway (revoked, clock skew), so a run outlives its credentials.

How answers become errors (the tree is `integrations.errors`):

    2xx, 3xx                     returned
    401                          ProviderRejected   "GitHub refused the token…"
    403/429 + rate-limit headers wait (Retry-After, or x-ratelimit-reset when remaining is 0)
                                 and retry; ProviderRateLimited when the wait is too long
    404                          ProviderRejected   naming what was not found
    422, other 4xx               ProviderRejected   with GitHub's own message
    5xx, timeouts, resets        retried with backoff (only for calls that are safe to repeat),
                                 then ProviderUnavailable

Messages and logs name the operation and the status, never a header, a token or a URL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import jwt

from integrations.errors import (
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

PROVIDER = "github"
API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
_REFRESH_MARGIN = timedelta(minutes=5)
# GitHub refuses app JWTs that live over 10 minutes; backdating covers clock drift.
_JWT_BACKDATE = timedelta(seconds=60)
_JWT_LIFETIME = timedelta(minutes=9)
_SECONDARY_LIMIT_WAIT = 60.0

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class GitHubApp:
    """A GitHub App installed on the repository's owner."""

    app_id: str
    """The app's id or client id: the JWT's `iss`."""
    installation_id: int
    private_key: str = field(repr=False)
    """The app's private key, PEM."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    """Tries per call, the first included."""
    backoff: float = 1.0
    """Seconds before the first retry after a 5xx or a network error; doubles each time."""
    max_wait: float = 60.0
    """The longest rate-limit wait worth sitting out; a longer one fails at once."""


class GitHubClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        token: str | None = None,
        app: GitHubApp | None = None,
        retry: RetryPolicy = RetryPolicy(),
        clock: Clock = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if (token is None) == (app is None):
            raise ValueError("give GitHub either a token or a GitHub App, not both or neither")
        self._http = http
        self._token = token
        self._app = app
        self._retry = retry
        self._clock = clock
        self._sleep = sleep
        self._installation_token: tuple[str, datetime] | None = None

    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        safe_to_repeat: bool = True,
    ) -> httpx.Response:
        """Send one API call with the current credential; see the module docstring."""
        renewed = False
        while True:
            try:
                return self._send(
                    method, path, what, self._bearer, params, json, safe_to_repeat=safe_to_repeat
                )
            except _Unauthorized:
                # An app token can die early (revoked, clock skew): one fresh token, then give up.
                if self._app is None or renewed:
                    raise ProviderRejected(
                        PROVIDER,
                        f"GitHub refused the token (401) for {what}: check that it is valid, "
                        "not expired, and allowed on this repository",
                    ) from None
                self._installation_token = None
                renewed = True

    def download(self, url: str, *, what: str, limit: int) -> bytes:
        """GET a pre-signed URL GitHub redirected to, without our credential, at most `limit`."""
        try:
            with self._http.stream("GET", url, headers={"Accept": "*/*"}) as response:
                if response.status_code >= 300:
                    raise ProviderUnavailable(PROVIDER, f"{what} answered {response.status_code}")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > limit:
                        raise ProviderRejected(PROVIDER, f"{what} is larger than {limit} bytes")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(PROVIDER, f"{what} failed: {type(exc).__name__}") from None

    def _bearer(self) -> str:
        if self._token is not None:
            return self._token
        cached = self._installation_token
        if cached is not None and cached[1] - _REFRESH_MARGIN > self._clock():
            return cached[0]
        self._installation_token = self._mint_installation_token()
        return self._installation_token[0]

    def _mint_installation_token(self) -> tuple[str, datetime]:
        assert self._app is not None
        now = self._clock()
        assertion = jwt.encode(
            {
                "iat": int((now - _JWT_BACKDATE).timestamp()),
                "exp": int((now + _JWT_LIFETIME).timestamp()),
                "iss": self._app.app_id,
            },
            self._app.private_key,
            algorithm="RS256",
        )
        what = "POST /app/installations/{id}/access_tokens"
        try:
            response = self._send(
                "POST",
                f"/app/installations/{self._app.installation_id}/access_tokens",
                what,
                lambda: assertion,
                None,
                None,
                safe_to_repeat=True,
            )
        except _Unauthorized:
            raise ProviderRejected(
                PROVIDER,
                "GitHub refused the app's JWT (401): check the app id and its private key",
            ) from None
        body = _json(response, what)
        try:
            expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
            return str(body["token"]), expires
        except (KeyError, TypeError, ValueError):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without a token") from None

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        bearer: Callable[[], str],
        params: Mapping[str, str | int] | None,
        body: Any,
        *,
        safe_to_repeat: bool,
    ) -> httpx.Response:
        for attempt in range(1, self._retry.attempts + 1):
            last = attempt == self._retry.attempts
            headers = {
                "Authorization": f"Bearer {bearer()}",
                "Accept": ACCEPT,
                "X-GitHub-Api-Version": API_VERSION,
            }
            try:
                response = self._http.request(
                    method, path, params=params, json=body, headers=headers
                )
            except httpx.TransportError as exc:
                # A write that never answered may have happened: the caller looks before redoing.
                if last or not safe_to_repeat:
                    raise ProviderUnavailable(
                        PROVIDER, f"{what} failed: {type(exc).__name__}"
                    ) from None
                self._back_off(attempt, what, type(exc).__name__)
                continue
            wait = _rate_limit_wait(response, self._clock())
            if wait is not None:
                if wait > self._retry.max_wait or last:
                    raise ProviderRateLimited(
                        PROVIDER,
                        f"GitHub's rate limit stopped {what}; it resets in about {wait:.0f}s",
                        retry_after=wait,
                    )
                logger.warning("github: %s rate limited, waiting %.0fs", what, wait)
                self._sleep(wait)
                continue
            if response.status_code >= 500 and safe_to_repeat and not last:
                self._back_off(attempt, what, str(response.status_code))
                continue
            return _checked(response, what)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _back_off(self, attempt: int, what: str, reason: str) -> None:
        delay = self._retry.backoff * 2 ** (attempt - 1)
        logger.warning("github: %s failed (%s), retrying in %.1fs", what, reason, delay)
        self._sleep(delay)


class _Unauthorized(Exception):
    """A 401, for `call` to decide between a fresh app token and a refusal."""


def _checked(response: httpx.Response, what: str) -> httpx.Response:
    status = response.status_code
    if status < 400:
        return response
    if status == 401:
        raise _Unauthorized
    detail = _message(response)
    if status == 404:
        raise ProviderRejected(
            PROVIDER,
            f"{what}: not found (404); GitHub also answers 404 when the credential cannot see it",
        )
    if status >= 500:
        raise ProviderUnavailable(PROVIDER, f"{what} answered {status}{detail}")
    raise ProviderRejected(PROVIDER, f"{what} was refused ({status}){detail}")


def _rate_limit_wait(response: httpx.Response, now: datetime) -> float | None:
    """Seconds to wait when the answer is GitHub's primary or secondary rate limit, else None."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        return _seconds(retry_after, now)
    if response.headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(response.headers.get("x-ratelimit-reset", ""))
        except ValueError:
            return _SECONDARY_LIMIT_WAIT
        return max(0.0, reset - now.timestamp())
    # GitHub's advice for a secondary limit without headers: wait at least a minute.
    if response.status_code == 429 or "rate limit" in _message(response).lower():
        return _SECONDARY_LIMIT_WAIT
    return None


def _seconds(retry_after: str, now: datetime) -> float:
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(retry_after) - now).total_seconds())
    except (TypeError, ValueError):
        return _SECONDARY_LIMIT_WAIT


def _message(response: httpx.Response) -> str:
    """GitHub's own `message` (and the first validation error's), at most 300 characters."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body.get("message") or "")]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        parts.append(str(errors[0].get("message") or errors[0].get("code") or ""))
    text = ": ".join(p for p in parts if p)[:300]
    return f": {text}" if text else ""


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable(
            PROVIDER, f"{what} answered with something other than JSON"
        ) from None


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    body = _json(response, what)
    if not isinstance(body, dict):
        raise ProviderUnavailable(PROVIDER, f"{what} answered with something other than an object")
    return body
