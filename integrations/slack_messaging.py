"""`Messenger` and `WorkspaceRoster` over the Slack Web API.

Scopes: `chat:write` (post, update), `im:write` (conversations.open), `files:write` (uploads),
`users:read` (users.list), `channels:read` (conversations.members), `usergroups:read`; none for
views.publish (the App Home).

The runtime builds two: one on its retrying `WebClient` for a feature's occasional posts,
and one on a client that retries nothing for fan-outs, which pace themselves and must see
every `Retry-After` (this adapter turns a 429 into `ProviderRateLimited`) and must not repeat
a chat.postMessage that timed out or failed with a 5xx, because Slack may have posted
already; those surface as `ProviderUnavailable` and the caller decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse

from integrations.errors import ProviderRateLimited, ProviderRejected, ProviderUnavailable
from integrations.protocols import DirectoryUser, PostedMessage

PROVIDER = "slack"
PAGE_SIZE = 200  # Slack's recommended page size for users.list and conversations.members
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)


def _call(method: str, call: Callable[[], SlackResponse]) -> SlackResponse:
    """One Web API call; messages carry the method and Slack's error code, never the URL."""
    try:
        return call()
    except SlackApiError as exc:
        status = exc.response.status_code
        error = str(exc.response.get("error") or "")
        if status == 429:
            retry_after = float(exc.response.headers.get("Retry-After") or 1)
            raise ProviderRateLimited(
                PROVIDER, f"{method} rate limited, retry after {retry_after:g}s",
                retry_after=retry_after,
            ) from None  # fmt: skip
        if status >= 500 or error in _TRANSIENT_ERRORS:
            raise ProviderUnavailable(
                PROVIDER, f"{method} failed: HTTP {status} {error or 'no error code'}"
            ) from None
        raise ProviderRejected(PROVIDER, f"{method} failed: {error or f'HTTP {status}'}") from None
    except (OSError, SlackClientError) as exc:
        raise ProviderUnavailable(
            PROVIDER, f"{method} failed: cannot reach Slack ({type(exc).__name__})"
        ) from None


class SlackMessenger:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(
        self,
        channel: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        response = _call(
            "chat.postMessage",
            lambda: self._client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts
            ),
        )
        return PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(
        self, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        _call(
            "chat.update",
            lambda: self._client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    def open_dm(self, user_id: str) -> str:
        response = _call(
            "conversations.open", lambda: self._client.conversations_open(users=user_id)
        )
        return str(response["channel"]["id"])

    def upload(
        self, channel: str, *, filename: str, content: bytes, title: str, comment: str
    ) -> None:
        _call(
            "files.uploadV2",
            lambda: self._client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=content,
                title=title,
                initial_comment=comment,
            ),
        )

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        _call("views.publish", lambda: self._client.views_publish(user_id=user_id, view=view))


class SlackRoster:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def all_users(self) -> list[DirectoryUser]:
        users: list[DirectoryUser] = []
        cursor: str | None = None
        while True:
            page = _call(
                "users.list", partial(self._client.users_list, limit=PAGE_SIZE, cursor=cursor)
            )
            users.extend(_to_user(member) for member in page["members"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return users

    def channel_members(self, channel_id: str) -> list[str]:
        members: list[str] = []
        cursor: str | None = None
        while True:
            page = _call(
                "conversations.members",
                partial(
                    self._client.conversations_members,
                    channel=channel_id,
                    limit=PAGE_SIZE,
                    cursor=cursor,
                ),
            )
            members.extend(str(member) for member in page["members"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members

    def usergroup_members(self, handle: str) -> list[str]:
        response = _call(
            "usergroups.list", lambda: self._client.usergroups_list(include_users=True)
        )
        for group in response["usergroups"]:
            if group.get("handle") == handle and not group.get("date_delete"):
                return [str(user) for user in group.get("users") or [] if user]
        return []


def _to_user(data: Mapping[str, Any]) -> DirectoryUser:
    profile: Mapping[str, Any] = data.get("profile") or {}
    return DirectoryUser(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        real_name=str(data.get("real_name") or profile.get("real_name") or ""),
        email=str(profile["email"]) if profile.get("email") else None,
        tz=str(data["tz"]) if data.get("tz") else None,
        is_bot=bool(data.get("is_bot")) or data["id"] == "USLACKBOT",
        is_restricted=bool(data.get("is_restricted") or data.get("is_ultra_restricted")),
        deleted=bool(data.get("deleted")),
    )
