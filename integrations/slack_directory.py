"""`UserDirectory` over the Slack Web API: users.info, users.lookupByEmail, usergroups.list.

Scopes: `users:read`, `users:read.email`, `usergroups:read`. The `WebClient` is injected so
the composition root decides its base URL (GovSlack, a proxy, the emulator), timeouts and
retry handlers; this adapter only translates Slack's answers into the directory's terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import DirectoryUser

PROVIDER = "slack"

# Errors Slack reports with HTTP 200 that mean "try again later", not "you asked wrongly".
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "fatal_error", "internal_error", "service_unavailable",
     "request_timeout"}
)  # fmt: skip
_NOT_FOUND_ERRORS = frozenset({"user_not_found", "users_not_found"})


class SlackDirectory:
    """The workspace directory as Slack's Web API reports it."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def user(self, user_id: str) -> DirectoryUser | None:
        response = self._call("users.info", lambda: self._client.users_info(user=user_id))
        return None if response is None else _to_user(response["user"])

    def user_by_email(self, email: str) -> DirectoryUser | None:
        response = self._call(
            "users.lookupByEmail", lambda: self._client.users_lookupByEmail(email=email)
        )
        return None if response is None else _to_user(response["user"])

    def usergroup_members(self, handle: str) -> list[str]:
        # One usergroups.list with include_users answers for any handle; usergroups.users.list
        # needs the S… id, which would cost a second Tier 2 call for every lookup.
        response = self._call(
            "usergroups.list", lambda: self._client.usergroups_list(include_users=True)
        )
        groups: list[Mapping[str, Any]] = [] if response is None else response["usergroups"]
        for group in groups:
            if group.get("handle") == handle and not group.get("date_delete"):
                return [str(user) for user in group.get("users") or [] if user]
        return []

    def _call(self, method: str, call: Callable[[], SlackResponse]) -> SlackResponse | None:
        """Run one Web API call; None when Slack says the user does not exist.

        Messages carry the method and Slack's error code only: the SDK's own messages
        include the request URL and response, which are not ours to put in a log line.
        """
        try:
            return call()
        except SlackApiError as exc:
            status = exc.response.status_code
            error = str(exc.response.get("error") or "")
            if error in _NOT_FOUND_ERRORS:
                return None
            if status == 429 or status >= 500 or error in _TRANSIENT_ERRORS:
                retry_after = exc.response.headers.get("Retry-After")
                hint = f", retry after {retry_after}s" if retry_after else ""
                raise ProviderUnavailable(
                    PROVIDER, f"{method} failed: HTTP {status} {error or 'no error code'}{hint}"
                ) from None
            raise ProviderRejected(
                PROVIDER, f"{method} failed: {error or f'HTTP {status}'}"
            ) from None
        except (OSError, SlackClientError) as exc:
            # URLError, timeouts and refused connections are OSErrors; their text can
            # contain the URL, so only the type is reported.
            raise ProviderUnavailable(
                PROVIDER, f"{method} failed: cannot reach Slack ({type(exc).__name__})"
            ) from None


def _to_user(data: Mapping[str, Any]) -> DirectoryUser:
    profile: Mapping[str, Any] = data.get("profile") or {}
    return DirectoryUser(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        real_name=str(data.get("real_name") or profile.get("real_name") or ""),
        email=_text(profile.get("email")),
        tz=_text(data.get("tz")),
        # Slackbot is not flagged is_bot but is no more a person than any other bot.
        is_bot=bool(data.get("is_bot")) or data["id"] == "USLACKBOT",
        is_restricted=bool(data.get("is_restricted") or data.get("is_ultra_restricted")),
        deleted=bool(data.get("deleted")),
    )


def _text(value: object) -> str | None:
    return str(value) if value else None
