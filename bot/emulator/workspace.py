"""The emulated Slack workspace: team, users, channels and user groups.

The directory is static for the lifetime of an emulator (Slack's own directory changes rarely
during a conversation), so it is a validated, immutable model; everything that changes while
the bot runs (messages, views, DMs) lives in `state.py`. The default fixture is packaged as
`workspace.yaml` beside this module so a person at a terminal and the tests see the same people.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

_TIMEZONES = (
    ("Europe/Berlin", 3600),
    ("America/New_York", -18000),
    ("Europe/London", 0),
    ("Asia/Kolkata", 19800),
    ("America/Los_Angeles", -28800),
    ("Asia/Tokyo", 32400),
    ("Australia/Sydney", 36000),
    ("America/Sao_Paulo", -10800),
)
TZ_OFFSETS: dict[str, int] = dict(_TIMEZONES)
# The channel of the synthetic people `Workspace.generate(..., beside=...)` adds.
LOAD_CHANNEL = "C0LOAD"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Team(_Frozen):
    id: str
    name: str
    domain: str


class Enterprise(_Frozen):
    """The Enterprise Grid organisation a workspace belongs to (None outside a grid)."""

    id: str
    name: str


class AppIdentity(_Frozen):
    """The app under test: its bot user is who `auth.test` says the token belongs to."""

    id: str = "A0PLATBOT"
    name: str = "platform-bot"
    bot_user_id: str = "U0PLATBOT"
    bot_id: str = "B0PLATBOT"


class User(_Frozen):
    id: str
    name: str
    real_name: str = ""
    email: str | None = None
    tz: str = "Europe/London"
    is_admin: bool = False
    is_restricted: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False

    @property
    def tz_offset(self) -> int:
        return TZ_OFFSETS.get(self.tz, 0)


class Channel(_Frozen):
    id: str
    name: str
    is_private: bool = False
    is_general: bool = False
    members: tuple[str, ...] = ()


class Usergroup(_Frozen):
    id: str
    handle: str
    name: str
    users: tuple[str, ...] = ()


class Workspace(_Frozen):
    """A Slack workspace as the emulator serves it; build it in Python or load it from YAML."""

    team: Team = Team(id="T0PLATFORM", name="Acme", domain="acme")
    enterprise: Enterprise | None = None
    app: AppIdentity = AppIdentity()
    users: tuple[User, ...] = ()
    channels: tuple[Channel, ...] = ()
    usergroups: tuple[Usergroup, ...] = Field(default=())

    @model_validator(mode="after")
    def _check_references(self) -> Workspace:
        ids = [u.id for u in self.users]
        if len(set(ids)) != len(ids):
            raise ValueError("user ids must be unique")
        known = set(ids)
        if self.app.bot_user_id not in known:
            raise ValueError(f"the app's bot user {self.app.bot_user_id} is not a workspace user")
        for channel in self.channels:
            missing = set(channel.members) - known
            if missing:
                raise ValueError(f"channel {channel.name} has unknown members {sorted(missing)}")
        for group in self.usergroups:
            missing = set(group.users) - known
            if missing:
                raise ValueError(f"usergroup {group.handle} has unknown users {sorted(missing)}")
        return self

    @classmethod
    def default(cls) -> Workspace:
        """The packaged fixture (team T0PLATFORM, domain acme)."""
        text = resources.files(__package__).joinpath("workspace.yaml").read_text("utf-8")
        return cls.from_mapping(yaml.safe_load(text))

    @classmethod
    def load(cls, path: Path) -> Workspace:
        return cls.from_mapping(yaml.safe_load(path.read_text("utf-8")))

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Workspace:
        return cls.model_validate(data)

    @classmethod
    def generate(cls, users: int, *, beside: Workspace | None = None) -> Workspace:
        """A workspace with `users` synthetic people, for load tests of directory-heavy flows.

        Time zones are spread round-robin so schedulers that group by zone see every bucket.
        With `beside`, that workspace's people, channels and groups stay as they are and the
        synthetic people are added in a channel of their own (`LOAD_CHANNEL`): the example
        config's teams and admins still work, and a survey can ask exactly the synthetic crowd.
        """
        bot = User(
            id="U0PLATBOT",
            name="platform-bot",
            real_name="Platform Bot",
            is_bot=True,
            bot_id="B0PLATBOT",
        )
        people = tuple(
            User(
                id=f"U{i:08d}",
                name=f"user{i}",
                real_name=f"User {i}",
                email=f"user{i}@example.com",
                tz=_TIMEZONES[i % len(_TIMEZONES)][0],
            )
            for i in range(users)
        )
        members = (*(u.id for u in people), bot.id)
        if beside is not None:
            crowd = Channel(id=LOAD_CHANNEL, name="load", members=members)
            return cls(
                team=beside.team,
                app=beside.app,
                users=(*beside.users, *people),
                channels=(*beside.channels, crowd),
                usergroups=beside.usergroups,
            )
        general = Channel(id="C0GENERAL", name="general", is_general=True, members=members)
        return cls(users=(*people, bot), channels=(general,))

    # Lookups: every method returns None for unknown names so callers map it to a Slack error.

    @cached_property
    def user_index(self) -> dict[str, User]:
        """Users by id, handle and lower-cased email: every Web API call looks users up."""
        index: dict[str, User] = {}
        for user in self.users:
            index.setdefault(user.id, user)
            index.setdefault(user.name, user)
            if user.email:
                index.setdefault(user.email.lower(), user)
        return index

    def user(self, key: str) -> User | None:
        """By id, handle (with or without @) or email."""
        key = key.removeprefix("@")
        return self.user_index.get(key) or self.user_index.get(key.lower())

    def channel(self, key: str) -> Channel | None:
        """By id or name (with or without #)."""
        key = key.removeprefix("#")
        for channel in self.channels:
            if key in (channel.id, channel.name):
                return channel
        return None

    def usergroup(self, key: str) -> Usergroup | None:
        key = key.removeprefix("@")
        for group in self.usergroups:
            if key in (group.id, group.handle):
                return group
        return None

    @property
    def bot_user(self) -> User:
        user = self.user(self.app.bot_user_id)
        assert user is not None  # guaranteed by _check_references
        return user

    @property
    def humans(self) -> tuple[User, ...]:
        return tuple(u for u in self.users if not u.is_bot)
