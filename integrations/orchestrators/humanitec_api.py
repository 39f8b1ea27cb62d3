"""A small client for the Humanitec Platform Orchestrator REST API (the calls the driver makes).

Every call goes through `HumanitecApi._call`, which owns the HTTP habits:

- `Authorization: Bearer <token>` on every request; the token is never put in a message or a
  log line, and is cut out of any text the API echoes back.
- 429, 5xx, timeouts and connection errors are retried `max_retries` times with exponential
  backoff; a `Retry-After` is waited out when it is no longer than `max_backoff_seconds`,
  otherwise the call gives up at once with `ProviderRateLimited` so the caller can come back.
- Other answers outside 2xx become the error tree of `integrations.errors`, with the
  `HumanitecErrorResponse` body (`error`, `message`, `details`) turned into plain words:

      ProviderUnavailable      unreachable, 5xx after the retries
      └── ProviderRateLimited  429 after the retries (`retry_after` seconds)
      ProviderRejected         401/403 (the token), 400/422 and other refusals
      └── HumanitecConflict    409: the ID exists, or a deployment is already running
      ProviderNotFound         404: callers turn it into what was missing, or into GONE

Messages name the operation by its path template (`GET /orgs/{orgId}/apps/{appId}`), never by
a URL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from integrations.errors import (
    ProviderNotFound,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from integrations.http_errors import json_body

PROVIDER = "humanitec"
MAX_DETAIL_CHARS = 200
logger = logging.getLogger(__name__)


class HumanitecConflict(ProviderRejected):
    """409: callers that expect it (an environment made by an earlier run) look it up."""


@dataclass(frozen=True)
class HumanitecConfig:
    """Where the driver works; read by the caller from its own settings, once."""

    org_id: str
    app_id: str
    base_env: str
    """The environment new ones are cloned from (its last deployment)."""
    env_types: Mapping[str, str]
    """The Humanitec environment type for each of the bot's tiers, e.g. {"dev": "development"}."""
    token: str = field(repr=False)
    """A service user's API token, passed in from an environment variable by the caller."""
    api_url: str = "https://api.humanitec.io"
    connect_timeout_seconds: float = 5.0
    timeout_seconds: float = 30.0
    max_retries: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    poll_interval_seconds: float = 15.0
    """How often the caller should poll `status`: Humanitec deployments take minutes."""


class HumanitecApi:
    def __init__(
        self,
        config: HumanitecConfig,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._client = client or httpx.Client(
            base_url=config.api_url,
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
        )
        self._owns_client = client is None
        self._sleep = sleep
        self._headers = {
            "Authorization": f"Bearer {config.token}",
            "Accept": "application/json",
        }
        self._app = f"/orgs/{_seg(config.org_id)}/apps/{_seg(config.app_id)}"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def get_app(self) -> dict[str, Any]:
        return self._object("GET /orgs/{orgId}/apps/{appId}", self._app)

    def get_environment(self, env_id: str) -> dict[str, Any]:
        what = "GET /orgs/{orgId}/apps/{appId}/envs/{envId}"
        return self._object(what, self._env(env_id))

    def create_environment(self, body: Mapping[str, Any]) -> dict[str, Any]:
        what = "POST /orgs/{orgId}/apps/{appId}/envs"
        return self._object(what, f"{self._app}/envs", body)

    def delete_environment(self, env_id: str) -> None:
        what = "DELETE /orgs/{orgId}/apps/{appId}/envs/{envId}"
        self._call(what, self._env(env_id))

    def convert_score(self, score: Mapping[str, Any]) -> dict[str, Any]:
        what = "POST /orgs/{orgId}/artefact-versions/convert-score"
        path = f"/orgs/{_seg(self._config.org_id)}/artefact-versions/convert-score"
        return self._object(what, path, {"spec": dict(score)})

    def create_delta(self, body: Mapping[str, Any]) -> str:
        what = "POST /orgs/{orgId}/apps/{appId}/deltas"
        answer = json_body(PROVIDER, what, self._call(what, f"{self._app}/deltas", body))
        # The spec allows either the new Delta's ID as a JSON string or the whole Delta.
        delta_id = answer.get("id") if isinstance(answer, dict) else answer
        if not isinstance(delta_id, str) or not delta_id:
            raise ProviderUnavailable(PROVIDER, f"{what} answered without a Delta ID")
        return delta_id

    def create_deployment(self, env_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        what = "POST /orgs/{orgId}/apps/{appId}/envs/{envId}/deploys"
        return self._object(what, f"{self._env(env_id)}/deploys", body)

    def list_deployments(self, env_id: str) -> list[dict[str, Any]]:
        what = "GET /orgs/{orgId}/apps/{appId}/envs/{envId}/deploys"
        return self._list(what, f"{self._env(env_id)}/deploys")

    def get_deployment(self, env_id: str, deploy_id: str) -> dict[str, Any]:
        what = "GET /orgs/{orgId}/apps/{appId}/envs/{envId}/deploys/{deployId}"
        return self._object(what, f"{self._env(env_id)}/deploys/{_seg(deploy_id)}")

    def deployment_errors(self, env_id: str, deploy_id: str) -> list[dict[str, Any]]:
        what = "GET /orgs/{orgId}/apps/{appId}/envs/{envId}/deploys/{deployId}/errors"
        return self._list(what, f"{self._env(env_id)}/deploys/{_seg(deploy_id)}/errors")

    def active_resources(self, env_id: str) -> list[dict[str, Any]]:
        what = "GET /orgs/{orgId}/apps/{appId}/envs/{envId}/resources"
        # Resources scheduled for deletion are no longer part of what the environment offers.
        params = {"scheduled_deletion": "false"}
        return self._list(what, f"{self._env(env_id)}/resources", params)

    def _env(self, env_id: str) -> str:
        return f"{self._app}/envs/{_seg(env_id)}"

    def _object(
        self, what: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        answer = json_body(PROVIDER, what, self._call(what, path, body))
        if not isinstance(answer, dict):
            raise ProviderUnavailable(PROVIDER, f"{what} answered something other than an object")
        return answer

    def _list(
        self, what: str, path: str, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        answer = json_body(PROVIDER, what, self._call(what, path, params=params))
        if not isinstance(answer, list):
            raise ProviderUnavailable(PROVIDER, f"{what} answered something other than a list")
        return [item for item in answer if isinstance(item, dict)]

    def _call(
        self,
        what: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request with the retries; a 2xx answer or the matching IntegrationError.

        `what` is the operation as the spec names it, `GET /orgs/{orgId}/apps/{appId}`: its
        method is the request's, and it is all a message says of the request.
        """
        method = what.split(" ", 1)[0]
        attempt = 0
        while True:
            outcome, asked = self._attempt(method, what, path, body, params)
            if isinstance(outcome, httpx.Response):
                return outcome
            backoff = self._config.backoff_seconds * 2**attempt
            wait = min(backoff, self._config.max_backoff_seconds) if asked is None else asked
            # A longer Retry-After than we are willing to block for goes back to the caller.
            if attempt >= self._config.max_retries or wait > self._config.max_backoff_seconds:
                raise outcome
            attempt += 1
            logger.warning("%s; retry %d in %.1fs", outcome.message, attempt, wait)
            self._sleep(wait)

    def _attempt(
        self,
        method: str,
        what: str,
        path: str,
        body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
    ) -> tuple[httpx.Response | ProviderUnavailable, float | None]:
        """The answer, or a retryable failure and the wait its `Retry-After` asks for."""
        try:
            response = self._client.request(
                method, path, json=body, params=params, headers=self._headers
            )
        except httpx.TimeoutException:
            return ProviderUnavailable(PROVIDER, f"{what} timed out"), None
        except httpx.TransportError as exc:
            failure = ProviderUnavailable(PROVIDER, f"{what} failed: {type(exc).__name__}")
            return failure, None
        status = response.status_code
        if status < 300:
            return response, None
        message = f"{what} answered {status}{self._detail(response)}"
        asked = _retry_after(response)
        if status == 429:
            limited = ProviderRateLimited(
                PROVIDER,
                message,
                retry_after=self._config.backoff_seconds if asked is None else asked,
            )
            return limited, asked
        if status >= 500:
            return ProviderUnavailable(PROVIDER, message), asked
        if status in (401, 403):
            raise ProviderRejected(
                PROVIDER,
                f"Humanitec refused the token ({status}){self._detail(response)}: check the "
                "service user's token and its role in the organization",
            )
        if status == 404:
            raise ProviderNotFound(PROVIDER, message)
        if status == 409:
            raise HumanitecConflict(PROVIDER, message)
        raise ProviderRejected(PROVIDER, message)

    def _detail(self, response: httpx.Response) -> str:
        """`: <message> (<error code>)` from a HumanitecErrorResponse body, if it is one."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return ""
        text = body["message"][:MAX_DETAIL_CHARS]
        code = body.get("error")
        return f": {self._scrub(text)}" + (
            f" ({self._scrub(code)})" if isinstance(code, str) else ""
        )

    def _scrub(self, text: str) -> str:
        # An API (or a proxy in front of it) may echo the request's header back in its message.
        token = self._config.token
        return text.replace(token, "[token]") if token else text


def _retry_after(response: httpx.Response) -> float | None:
    """The wait the answer asks for: `Retry-After` in seconds or as an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _seg(value: str) -> str:
    """One path segment; ids come from config and requests, so nothing may add a `/`."""
    return quote(value, safe="")
