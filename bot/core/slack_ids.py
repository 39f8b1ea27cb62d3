"""Slack identifiers the app registers: the manifest must list exactly these (tested)."""

from __future__ import annotations

from enum import StrEnum


class SlashCommand(StrEnum):
    PLATFORM = "/platform"


class BotEvent(StrEnum):
    APP_HOME_OPENED = "app_home_opened"


class InstallEvent(StrEnum):
    """The events that end an install, handled by a multi-workspace bot's front door (HTTP
    mode: the manifest lists them when rendered with a URL)."""

    APP_UNINSTALLED = "app_uninstalled"
    TOKENS_REVOKED = "tokens_revoked"


# Bot scopes and why each is needed; manifest.yml lists exactly these.
BOT_SCOPES: dict[str, str] = {
    "commands": "the /platform slash command",
    "chat:write": "replies, progress messages and DMs",
    "im:write": "opening a DM with a user (conversations.open)",
    "users:read": "names, time zones and guest/bot flags (users.info, users.list)",
    "users:read.email": "mapping Slack users to teams by email (users.lookupByEmail)",
    "usergroups:read": "teams and approvers declared as user groups",
    "channels:read": "channel names and members (conversations.info, conversations.members)",
    "files:write": "NPS trend charts and answer exports (files.uploadV2)",
}
