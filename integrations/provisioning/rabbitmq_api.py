"""The calls of RabbitMQ's management HTTP API (plugin `rabbitmq_management`) a provisioner makes.

Every request carries the admin's basic auth (never in the URL); each name in a path is
percent-encoded on its own, so the default vhost `/` travels as `%2F` and no name can add a
path segment or a query. Outcomes map onto the adapters' error tree:

    2xx                                   the call was carried out
    404 where "missing" is an answer      None (`get`) or nothing to do (`delete`)
    connect error, timeout, 429, 5xx      ProviderUnavailable (worth retrying later)
    401, 403                              ProviderRejected: the admin login (config to fix)
    any other 3xx or 4xx                  ProviderRejected with the API's `reason`

Messages name the step, the address (scheme, host and port only) and the status, plus the
API's `reason` text with every password this client sends replaced by `***`; never a header
or a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.provisioning import scrub

PROVIDER = "rabbitmq"
REASON_LIMIT = 200
"""At most this many characters of the API's `reason` go into an error message."""


class ManagementApi:
    """An `httpx.Client` whose `base_url` is the management API's root (e.g. :15672)."""

    def __init__(self, client: httpx.Client, *, admin_user: str, admin_password: str) -> None:
        self._client = client
        self._auth = httpx.BasicAuth(admin_user, admin_password)
        self._admin_user = admin_user
        self._admin_password = admin_password

    @property
    def address(self) -> str:
        """Where the API is, for messages: scheme, host and port (no user info, no path)."""
        url = self._client.base_url
        host = f"[{url.host}]" if ":" in url.host else url.host
        return f"{url.scheme}://{host}{f':{url.port}' if url.port else ''}"

    def get(self, step: str, *path: str) -> Any:
        """The JSON body at `/api/PATH`, or None when there is nothing there (404)."""
        response = self._send(step, "GET", path, missing_ok=True)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise ProviderRejected(
                PROVIDER, f"{step} failed: {self.address} answered with something other than JSON"
            ) from None

    def put(self, step: str, *path: str, body: Mapping[str, Any], secret: str = "") -> None:
        """Create or replace the object at `/api/PATH`; `secret` is a password in `body`."""
        self._send(step, "PUT", path, body=body, secret=secret)

    def post(self, step: str, *path: str, body: Mapping[str, Any]) -> None:
        """Send `body` to `/api/PATH` (the definitions import, which merges into a vhost)."""
        self._send(step, "POST", path, body=body)

    def delete(self, step: str, *path: str) -> None:
        """Remove the object at `/api/PATH`; one that is already missing is fine."""
        self._send(step, "DELETE", path, missing_ok=True)

    def _send(
        self,
        step: str,
        method: str,
        path: tuple[str, ...],
        *,
        body: Mapping[str, Any] | None = None,
        secret: str = "",
        missing_ok: bool = False,
    ) -> httpx.Response | None:
        url = "/api/" + "/".join(quote(segment, safe="") for segment in path)
        try:
            response = self._client.request(method, url, json=body, auth=self._auth)
        except httpx.TimeoutException:
            raise ProviderUnavailable(
                PROVIDER, f"{step} failed: the management API at {self.address} timed out"
            ) from None
        except httpx.HTTPError as exc:
            # httpx's own texts may quote the URL; the exception type says enough.
            raise ProviderUnavailable(
                PROVIDER,
                f"{step} failed: cannot reach the management API at {self.address} "
                f"({type(exc).__name__}); is the rabbitmq_management plugin enabled?",
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return response
        if status == 404 and missing_ok:
            return None
        answered = f"HTTP {status}{self._reason(response, secret)}"
        if status == 429 or status >= 500:
            raise ProviderUnavailable(PROVIDER, f"{step} failed: {answered}")
        if status in (401, 403):
            raise ProviderRejected(
                PROVIDER,
                f"{step} failed: the management API refused the admin user "
                f"{self._admin_user!r} ({answered}); check admin_user and admin_password",
            )
        raise ProviderRejected(PROVIDER, f"{step} failed: {answered}")

    def _reason(self, response: httpx.Response, secret: str) -> str:
        """`: REASON` from the API's error body, scrubbed, on one line and cut; or ""."""
        try:
            body = response.json()
        except ValueError:
            return ""
        reason = body.get("reason") if isinstance(body, dict) else None
        if not isinstance(reason, str) or not reason.strip():
            return ""
        # Scrub before anything else: a cut or a changed space could hide part of a secret.
        text = " ".join(scrub(reason, secret, self._admin_password).split())
        return f": {text[:REASON_LIMIT]}"
