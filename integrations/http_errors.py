"""Turning httpx outcomes into the adapters' error tree, the same way for every provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable


def send(provider: str, what: str, call: Callable[[], httpx.Response]) -> httpx.Response:
    """Run `call`; raise the matching IntegrationError unless the answer is a 2xx.

    Messages name the provider, the operation and the status, never a URL or a header (a
    URL may carry a token; the request's headers do).
    """
    try:
        response = call()
    except httpx.TimeoutException:
        raise ProviderUnavailable(provider, f"{what} timed out") from None
    except httpx.TransportError as exc:
        raise ProviderUnavailable(provider, f"{what} failed: {type(exc).__name__}") from None
    status = response.status_code
    if status < 300:
        return response
    detail = _detail(response)
    message = f"{what} answered {status}{': ' + detail if detail else ''}"
    if status == 404:
        raise ProviderNotFound(provider, message)
    if status == 429 or status >= 500:
        raise ProviderUnavailable(provider, message)
    raise ProviderRejected(provider, message)


def json_body(provider: str, what: str, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable(
            provider, f"{what} answered with something other than JSON"
        ) from None


def _detail(response: httpx.Response) -> str:
    """The provider's own short error message, if the body has one (at most 200 chars)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or "")[:200]
        return str(body.get("message") or "")[:200]
    return ""
