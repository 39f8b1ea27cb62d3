"""`SecretStore` over the HTTP API of HashiCorp Vault or OpenBao: KV v2 and response wrapping.

Credentials are written to KV v2 (`POST /v1/<mount>/data/<path>`), then handed over as a
response-wrapped read (`GET` with `X-Vault-Wrap-TTL`): Vault returns a single-use token in
place of the data, and only the user who unwraps it (`vault unwrap TOKEN`, or `POST
/v1/sys/wrapping/unwrap`) sees the secret, once. A second unwrap fails, which tells the user
that someone else got there first. `delete` removes the metadata, hence every version.

The `httpx.Client` is injected with its `base_url` (the Vault address as the bot reaches it)
and timeouts; `address_for_users` is the address users' CLIs reach, which may differ.
Errors name the operation and Vault's status, never the token or the secret.
"""

from __future__ import annotations

import contextlib
import re
import shlex
from collections.abc import Mapping
from typing import Any

import httpx

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable
from integrations.provisioning_protocols import WrappedSecret

PROVIDER = "vault"
TOKEN_PLACEHOLDER = "TOKEN"

_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
# 200 active, 429 unsealed standby, 472 DR secondary, 473 performance standby: all serve reads
# (standbys forward); 501 not initialised and 503 sealed cannot.
_HEALTHY = frozenset({200, 429, 472, 473})


class VaultSecretStore:
    """KV v2 at `mount` with a token allowed create/update/read/delete there."""

    def __init__(
        self, client: httpx.Client, *, mount: str = "secret", token: str, address_for_users: str
    ) -> None:
        self._client = client
        self._mount = _checked("mount", mount)
        self._token = token
        self._quoted_address = shlex.quote(address_for_users.rstrip("/"))

    def write(self, path: str, data: Mapping[str, str]) -> int:
        body = self._request(
            "write", "POST", f"/v1/{self._mount}/data/{_checked('path', path)}",
            json={"data": dict(data)},
        )  # fmt: skip
        version = (body.get("data") or {}).get("version")
        if not isinstance(version, int):
            raise ProviderRejected(PROVIDER, "write failed: the answer has no version")
        return version

    def wrap(self, path: str, *, ttl_seconds: int) -> WrappedSecret:
        if ttl_seconds < 1:
            raise ValueError("ttl_seconds must be positive")
        body = self._request(
            "wrap", "GET", f"/v1/{self._mount}/data/{_checked('path', path)}",
            headers={"X-Vault-Wrap-TTL": f"{ttl_seconds}s"},
        )  # fmt: skip
        info = body.get("wrap_info") or {}
        token = info.get("token")
        if not isinstance(token, str) or not token:
            # A policy or proxy that drops the header gives the secret itself: never pass
            # that on, and say nothing of what came back.
            raise ProviderRejected(PROVIDER, "wrap failed: Vault answered without a wrapping token")
        ttl = info.get("ttl")
        return WrappedSecret(
            token=token,
            ttl_seconds=ttl if isinstance(ttl, int) else ttl_seconds,
            unwrap_command=f"VAULT_ADDR={self._quoted_address} vault unwrap {TOKEN_PLACEHOLDER}",
        )

    def delete(self, path: str) -> None:
        with contextlib.suppress(ProviderNotFound):
            self._request(
                "delete", "DELETE", f"/v1/{self._mount}/metadata/{_checked('path', path)}"
            )

    def check(self) -> None:
        try:
            response = self._client.get("/v1/sys/health")
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                PROVIDER, f"health check failed: cannot reach Vault ({type(exc).__name__})"
            ) from None
        if response.status_code not in _HEALTHY:
            state = {501: "not initialised", 503: "sealed"}.get(response.status_code, "unhealthy")
            raise ProviderUnavailable(
                PROVIDER, f"health check failed: Vault is {state} (HTTP {response.status_code})"
            )
        self._request("token check", "GET", "/v1/auth/token/lookup-self")

    def _request(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        json: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self._client.request(
                method, url, json=json, headers={"X-Vault-Token": self._token, **(headers or {})}
            )
        except httpx.HTTPError as exc:
            # httpx's texts include the URL; the type says enough.
            raise ProviderUnavailable(
                PROVIDER, f"{operation} failed: cannot reach Vault ({type(exc).__name__})"
            ) from None
        status = response.status_code
        if status == 204:
            return {}
        if 200 <= status < 300:
            try:
                body = response.json()
            except ValueError:
                raise ProviderRejected(
                    PROVIDER, f"{operation} failed: the answer is not JSON"
                ) from None
            return body if isinstance(body, dict) else {}
        detail = _errors(response)
        if status == 404:
            raise ProviderNotFound(PROVIDER, f"{operation} failed: no secret at that path")
        if status in (429, 412) or status >= 500:
            raise ProviderUnavailable(PROVIDER, f"{operation} failed: HTTP {status}{detail}")
        if status == 403:
            raise ProviderRejected(PROVIDER, f"{operation} failed: permission denied (HTTP 403)")
        raise ProviderRejected(PROVIDER, f"{operation} failed: HTTP {status}{detail}")


def _checked(what: str, value: str) -> str:
    """A mount or path made of plain segments: nothing that could escape it or add a query."""
    if _PATH.fullmatch(value) is None:
        raise ProviderRejected(PROVIDER, f"invalid {what} {value[:60]!r}")
    return value


def _errors(response: httpx.Response) -> str:
    """Vault's `errors` list, shortened; it describes the request, never the secret."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(errors, list) or not errors:
        return ""
    return ": " + "; ".join(str(error) for error in errors)[:200]
