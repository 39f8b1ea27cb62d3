"""Installs: the workspaces the emulator serves, each bot token, and Slack's OAuth v2 grants.

An app distributed to several workspaces is installed in each through OAuth v2: the person
follows the app's install link to Slack's authorize page (`GET /oauth/v2/authorize`, here
approved at once for the workspace named by `team`, or org-wide with `org_wide=true`, the
choice Slack's consent page offers an Enterprise Grid admin), Slack redirects the browser to
the app's redirect URL with a one-time `code` and the app's `state`, and the app exchanges
the code for the workspace's bot token with `oauth.v2.access` (client id and secret by HTTP
Basic auth, as slack_sdk sends them, or as form fields).

Codes are single use, expire after ten minutes and are bound to the redirect URL they were
issued for, as Slack's are. Uninstalling revokes the workspace's bot token (calls with it
then fail with `token_revoked`) and mints the one the next install will hand out.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.emulator.backend import Backend
from bot.emulator.params import ApiError
from bot.emulator.state import JSON

CODE_TTL = 10 * 60.0


class AuthorizeRefused(Exception):
    """Slack's authorize page shows an error instead of redirecting (bad client, bad URL)."""


@dataclass
class _Grant:
    backend: Backend
    org_wide: bool
    redirect_uri: str
    expires_at: float
    used: bool = False


class Installs:
    """Workspaces by team id and by bot token; the app's OAuth credentials and codes."""

    def __init__(self, primary: Backend, *, scopes: str) -> None:
        self.client_id = f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}"
        self.client_secret = secrets.token_hex(16)
        self.redirect_url: str | None = None
        """The redirect URL of the app's settings (manifest `oauth_config.redirect_urls`)."""
        self._scopes = scopes
        self._lock = threading.Lock()
        self._by_team: dict[str, Backend] = {}
        self._revoked: set[str] = set()
        self._grants: dict[str, _Grant] = {}
        self.primary = primary
        self.add(primary)

    def add(self, backend: Backend) -> None:
        team = backend.workspace.team.id
        with self._lock:
            if team in self._by_team:
                raise ValueError(f"the emulator already serves a workspace {team}")
            self._by_team[team] = backend

    def backends(self) -> list[Backend]:
        with self._lock:
            return list(self._by_team.values())

    def backend(self, team_id: str) -> Backend | None:
        with self._lock:
            return self._by_team.get(team_id)

    def by_token(self, token: str) -> Backend:
        """The workspace a bot token belongs to; Slack's error for a revoked or unknown one."""
        with self._lock:
            for backend in self._by_team.values():
                if secrets.compare_digest(backend.bot_token, token):
                    return backend
            revoked = token in self._revoked
        raise ApiError("token_revoked" if revoked else "invalid_auth")

    def uninstall(self, team_id: str) -> Backend:
        """The app is removed from the workspace: its bot token stops working."""
        with self._lock:
            backend = self._by_team[team_id]
            self._revoked.add(backend.bot_token)
            backend.bot_token = Backend.mint_bot_token()
        return backend

    # -- the OAuth v2 flow ----------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> str:
        """`GET /oauth/v2/authorize`: the person approves; where the browser is sent next."""
        if query.get("client_id") != self.client_id:
            raise AuthorizeRefused("invalid_client_id")
        redirect = query.get("redirect_uri") or self.redirect_url
        if not redirect or (self.redirect_url is not None and redirect != self.redirect_url):
            raise AuthorizeRefused("bad_redirect_uri")
        team = query.get("team") or self.primary.workspace.team.id
        backend = self.backend(team)
        if backend is None:
            raise AuthorizeRefused("invalid_team")
        org_wide = query.get("org_wide") == "true"
        if org_wide and backend.workspace.enterprise is None:
            raise AuthorizeRefused("not_an_enterprise")
        code = f"{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self._lock:
            self._grants[code] = _Grant(
                backend, org_wide, redirect, backend.clock() + CODE_TTL, used=False
            )
        fields = {"code": code, **({"state": query["state"]} if query.get("state") else {})}
        separator = "&" if "?" in redirect else "?"
        return f"{redirect}{separator}{urlencode(fields)}"

    def access(self, args: JSON, authorization: str) -> JSON:
        """`oauth.v2.access`: exchange a code for the workspace's bot token."""
        client_id, client_secret = _client_credentials(args, authorization)
        if client_id != self.client_id:
            raise ApiError("invalid_client_id")
        if not secrets.compare_digest(client_secret, self.client_secret):
            raise ApiError("bad_client_secret")
        grant = self._redeem(str(args.get("code") or ""), str(args.get("redirect_uri") or ""))
        backend = grant.backend
        backend.org_wide = grant.org_wide
        workspace = backend.workspace
        enterprise = workspace.enterprise
        return {
            "app_id": workspace.app.id,
            "authed_user": {"id": workspace.humans[0].id if workspace.humans else ""},
            "scope": self._scopes,
            "token_type": "bot",
            "access_token": backend.bot_token,
            "bot_user_id": workspace.app.bot_user_id,
            "team": None
            if grant.org_wide
            else {"id": workspace.team.id, "name": workspace.team.name},
            "enterprise": None
            if enterprise is None
            else {"id": enterprise.id, "name": enterprise.name},
            "is_enterprise_install": grant.org_wide,
        }

    def _redeem(self, code: str, redirect_uri: str) -> _Grant:
        with self._lock:
            grant = self._grants.get(code)
            if grant is None:
                raise ApiError("invalid_code")
            if grant.used:
                raise ApiError("code_already_used")
            if grant.backend.clock() > grant.expires_at:
                raise ApiError("invalid_code")
            if redirect_uri and redirect_uri != grant.redirect_uri:
                raise ApiError("bad_redirect_uri")
            grant.used = True
            return grant


def _client_credentials(args: JSON, authorization: str) -> tuple[str, str]:
    """HTTP Basic auth (what slack_sdk sends) or `client_id`/`client_secret` form fields."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError("invalid_client_id") from None
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return str(args.get("client_id") or ""), str(args.get("client_secret") or "")
