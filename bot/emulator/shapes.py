"""JSON shapes of Slack objects as the Web API returns them.

Field sets follow Slack's own response samples (java-sdk json-logs), trimmed to the fields
that carry meaning here; a test compares them with the samples when those are available.
"""

from __future__ import annotations

from typing import Any

from bot.emulator.backend import Backend
from bot.emulator.state import JSON, Message, View
from bot.emulator.workspace import Channel, User, Usergroup

CREATED = 1_600_000_000


def user_json(backend: Backend, user: User) -> JSON:
    team = backend.workspace.team.id
    first, _, last = user.real_name.partition(" ")
    profile: JSON = {
        "real_name": user.real_name,
        "display_name": user.name,
        "real_name_normalized": user.real_name,
        "display_name_normalized": user.name,
        "first_name": first,
        "last_name": last,
        "title": "",
        "team": team,
    }
    if user.email and not user.is_bot:
        profile["email"] = user.email
    if user.bot_id:
        profile["bot_id"] = user.bot_id
    return {
        "id": user.id,
        "team_id": team,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": user.tz_offset,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": False,
        "is_primary_owner": False,
        "is_restricted": user.is_restricted,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": CREATED,
        "is_email_confirmed": bool(user.email),
        "who_can_share_contact_card": "EVERYONE",
    }


def channel_json(backend: Backend, channel: Channel) -> JSON:
    text: JSON = {"value": "", "creator": "", "last_set": 0}
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": channel.is_private,
        "created": CREATED,
        "is_archived": False,
        "is_general": channel.is_general,
        "unlinked": 0,
        "name_normalized": channel.name,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "pending_shared": [],
        "is_pending_ext_shared": False,
        "is_member": backend.bot.id in channel.members,
        "creator": channel.members[0] if channel.members else "",
        "last_read": "0000000000.000000",
        "topic": dict(text),
        "purpose": dict(text),
        "previous_names": [],
        "num_members": len(channel.members),
        "context_team_id": backend.workspace.team.id,
        "updated": CREATED,
    }


def im_json(backend: Backend, channel_id: str) -> JSON:
    user = backend.state.dm_user(channel_id) or ""
    return {
        "id": channel_id,
        "created": CREATED,
        "is_im": True,
        "is_org_shared": False,
        "context_team_id": backend.workspace.team.id,
        "updated": CREATED,
        "user": user,
        "last_read": "0000000000.000000",
        "latest": None,
        "unread_count": 0,
        "unread_count_display": 0,
        "is_open": True,
        "priority": 0,
    }


def conversation_json(backend: Backend, conversation: Channel | str) -> JSON:
    if isinstance(conversation, Channel):
        return channel_json(backend, conversation)
    return im_json(backend, conversation)


def usergroup_json(backend: Backend, group: Usergroup, *, include_users: bool) -> JSON:
    body: JSON = {
        "id": group.id,
        "team_id": backend.workspace.team.id,
        "is_usergroup": True,
        "is_subteam": True,
        "name": group.name,
        "description": "",
        "handle": group.handle,
        "is_external": False,
        "date_create": CREATED,
        "date_update": CREATED,
        "date_delete": 0,
        "auto_type": None,
        "auto_provision": False,
        "enterprise_subteam_id": "",
        "created_by": backend.bot.id,
        "updated_by": backend.bot.id,
        "deleted_by": None,
        "prefs": {"channels": [], "groups": []},
        "user_count": len(group.users),
        "channel_count": 0,
    }
    if include_users:
        body["users"] = list(group.users)
    return body


def message_json(backend: Backend, message: Message) -> JSON:
    app = backend.workspace.app
    body: JSON = {
        "type": "message",
        "text": message.text,
        "user": message.user,
        "ts": message.ts,
        "team": backend.workspace.team.id,
        "blocks": message.blocks,
    }
    if message.bot_id:
        body.update(
            bot_id=message.bot_id,
            app_id=app.id,
            bot_profile={
                "id": message.bot_id,
                "app_id": app.id,
                "name": app.name,
                "deleted": False,
                "team_id": backend.workspace.team.id,
            },
        )
    optional: dict[str, Any] = {
        "thread_ts": message.thread_ts,
        "edited": message.edited,
        "subtype": message.subtype,
        "files": message.files or None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body


def view_json(backend: Backend, view: View) -> JSON:
    spec = view.spec
    app = backend.workspace.app
    body: JSON = {
        "id": view.id,
        "team_id": backend.workspace.team.id,
        "type": view.type,
        "title": spec.get("title"),
        "submit": spec.get("submit"),
        "close": spec.get("close"),
        "blocks": spec.get("blocks", []),
        "private_metadata": spec.get("private_metadata", ""),
        "callback_id": spec.get("callback_id", ""),
        "external_id": spec.get("external_id", ""),
        "state": {"values": {}},
        "hash": view.hash,
        "clear_on_close": bool(spec.get("clear_on_close", False)),
        "notify_on_close": bool(spec.get("notify_on_close", False)),
        "submit_disabled": bool(spec.get("submit_disabled", False)),
        "root_view_id": view.root_view_id,
        "previous_view_id": view.previous_view_id,
        "app_id": app.id,
        "app_installed_team_id": backend.workspace.team.id,
        "bot_id": app.bot_id,
    }
    return body
