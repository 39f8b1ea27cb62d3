"""auth.*, users.*, usergroups.* and conversations.*: what the bot reads about people and places.

Collections paginate with Slack's opaque cursors (base64 of "user:<next id>") so code that
forgets to follow `response_metadata.next_cursor` fails here the way it fails in a big
workspace; `Workspace.generate` makes such workspaces cheaply.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.emulator.backend import Backend
from bot.emulator.params import ApiError, Args
from bot.emulator.shapes import conversation_json, im_json, user_json, usergroup_json
from bot.emulator.state import JSON

T = TypeVar("T")
MAX_LIMIT = 1000


def _cursor(key: str) -> str:
    return base64.b64encode(f"user:{key}".encode()).decode()


def paginate(
    items: Sequence[T], key: Callable[[T], str], args: Args, default_limit: int
) -> tuple[list[T], str]:
    """One page of `items` and the cursor of the next page ("" on the last page)."""
    limit = args.number("limit", default_limit) or MAX_LIMIT
    limit = min(limit, MAX_LIMIT)
    start = 0
    cursor = args.opt("cursor")
    if cursor:
        try:
            wanted = base64.b64decode(cursor.encode(), validate=True).decode().removeprefix("user:")
        except ValueError as exc:
            raise ApiError("invalid_cursor") from exc
        keys = [key(item) for item in items]
        if wanted not in keys:
            raise ApiError("invalid_cursor")
        start = keys.index(wanted)
    page = list(items[start : start + limit])
    following = start + limit
    return page, _cursor(key(items[following])) if following < len(items) else ""


def auth_test(backend: Backend, args: Args) -> JSON:
    team, bot = backend.workspace.team, backend.bot
    enterprise = backend.workspace.enterprise
    return {
        "url": f"https://{team.domain}.slack.com/",
        "team": team.name,
        "user": bot.name,
        "team_id": team.id,
        "user_id": bot.id,
        "bot_id": bot.bot_id,
        "app_id": backend.workspace.app.id,
        "app_name": backend.workspace.app.name,
        **({"enterprise_id": enterprise.id} if enterprise else {}),
        "is_enterprise_install": backend.org_wide,
    }


def users_info(backend: Backend, args: Args) -> JSON:
    return {"user": user_json(backend, backend.user(args.get("user")))}


def users_list(backend: Backend, args: Args) -> JSON:
    page, next_cursor = paginate(backend.workspace.users, lambda u: u.id, args, default_limit=0)
    return {
        "members": [user_json(backend, u) for u in page],
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": next_cursor},
    }


def users_lookup_by_email(backend: Backend, args: Args) -> JSON:
    email = args.get("email").lower()
    for user in backend.workspace.users:
        if user.email and user.email.lower() == email and not user.deleted:
            return {"user": user_json(backend, user)}
    raise ApiError("users_not_found")


def usergroups_list(backend: Backend, args: Args) -> JSON:
    include_users = args.flag("include_users")
    groups = [
        usergroup_json(backend, g, include_users=include_users)
        for g in backend.workspace.usergroups
    ]
    return {"usergroups": groups}


def usergroups_users_list(backend: Backend, args: Args) -> JSON:
    group = backend.workspace.usergroup(args.get("usergroup"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group.users)}


def conversations_open(backend: Backend, args: Args) -> JSON:
    channel = args.opt("channel")
    if channel:
        if backend.state.dm_user(channel) is None:
            raise ApiError("channel_not_found")
        channel_id, already = channel, True
    else:
        users = [u for u in args.get("users").split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("not_supported", messages=["[ERROR] group DMs are not emulated"])
        user = backend.user(users[0])
        if user.deleted:
            raise ApiError("user_disabled")
        if user.is_bot:
            raise ApiError("cannot_dm_bot")
        channel_id, already = backend.state.open_dm(user.id)
    body: JSON = {
        "channel": im_json(backend, channel_id) if args.flag("return_im") else {"id": channel_id}
    }
    if already:
        body.update(no_op=True, already_open=True)
    return body


def conversations_info(backend: Backend, args: Args) -> JSON:
    return {"channel": conversation_json(backend, backend.conversation(args.get("channel")))}


def conversations_members(backend: Backend, args: Args) -> JSON:
    members = backend.members(backend.conversation(args.get("channel")))
    page, next_cursor = paginate(members, lambda m: m, args, default_limit=100)
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


METHODS: dict[str, Callable[[Backend, Args], JSON]] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
}
