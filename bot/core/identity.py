"""Who a Slack user is to the platform: their profile, teams, lead roles, roles and groups.

`IdentityService.principal` sits on the ack path of every command, so a cache hit is a
dict lookup under a lock. Misses read the `identity_user` row (so a restart does not
refetch everyone) and go to the directory only when the row is older than
`identity.cache_ttl_seconds`. When the directory is down, the stored row is used and the
principal is marked `stale`: a platform that stops answering because Slack's users API is
having a bad minute would be worse than one that briefly works from yesterday's profile.

Team and role membership comes from the platform config (members and leads listed by
Slack id or email; usergroups resolved through the directory).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Boolean, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.core.config import CoreConfig, TeamConfig
from bot.core.db import Base, SessionFactory, UtcDateTime, upsert, utcnow
from bot.core.errors import NotFound, Unavailable
from bot.core.mrkdwn import escape
from bot.core.ttl_cache import TtlCache
from integrations.errors import IntegrationError
from integrations.protocols import DirectoryUser, UserDirectory

logger = logging.getLogger(__name__)

# Rows get this fetched_at when invalidated, so every replica refetches on its next miss
# while the row stays available as the fallback when the directory is down.
_INVALIDATED_AT = datetime(1970, 1, 1, tzinfo=UTC)


class IdentityUser(Base):
    """The last directory answer for a user: the restart cache and the outage fallback."""

    __tablename__ = "identity_user"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    real_name: Mapped[str] = mapped_column(String(255))
    # Stored casefolded: emails are matched case-insensitively everywhere.
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean)
    is_restricted: Mapped[bool] = mapped_column(Boolean)
    deleted: Mapped[bool] = mapped_column(Boolean)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclass(frozen=True, slots=True)
class Principal:
    """A user as the policy sees them. `teams` counts a team's leads as its members."""

    user_id: str
    name: str
    email: str | None
    tz: str | None
    is_bot: bool
    is_guest: bool
    deleted: bool
    teams: frozenset[str]
    lead_of: frozenset[str]
    roles: frozenset[str]
    usergroups: frozenset[str]
    """Handles of the usergroups the config refers to that this user is in."""
    stale: bool = False
    """Built from stored data because the directory could not be reached."""


@dataclass(frozen=True, slots=True)
class _Listed:
    """Config entries of one list (members or leads), split into Slack ids and emails."""

    ids: frozenset[str]
    emails: frozenset[str]
    entries: tuple[str, ...]

    @classmethod
    def of(cls, entries: Iterable[str]) -> _Listed:
        listed = tuple(entry.strip() for entry in entries)
        return cls(
            ids=frozenset(entry for entry in listed if "@" not in entry),
            emails=frozenset(entry.casefold() for entry in listed if "@" in entry),
            entries=listed,
        )

    def includes(self, user_id: str, email: str | None) -> bool:
        return user_id in self.ids or (email is not None and email in self.emails)


@dataclass(frozen=True, slots=True)
class _Usergroup:
    ordered: tuple[str, ...]
    ids: frozenset[str]

    @classmethod
    def of(cls, user_ids: Iterable[str]) -> _Usergroup:
        ordered = tuple(dict.fromkeys(user_ids))
        return cls(ordered, frozenset(ordered))


class IdentityService:
    """Principals for Slack users, and the members and leads of configured teams."""

    def __init__(
        self,
        directory: UserDirectory,
        config: CoreConfig,
        sessions: SessionFactory,
        *,
        clock: Callable[[], datetime] = utcnow,
        max_cached: int = 10_000,
        outage_retry_seconds: float = 60,
    ) -> None:
        self._directory = directory
        self._config = config
        self._sessions = sessions
        self._clock = clock
        self._ttl = timedelta(seconds=config.identity.cache_ttl_seconds)
        # While the directory is down, stale answers are kept only this long so recovery
        # is noticed quickly.
        self._outage_ttl = min(self._ttl, timedelta(seconds=outage_retry_seconds))
        self._principals: TtlCache[Principal] = TtlCache(max_cached)
        self._emails: TtlCache[str] = TtlCache(max_cached)
        self._groups: TtlCache[_Usergroup] = TtlCache(max_cached)
        self._team_members = {key: _Listed.of(_team_entries(t)) for key, t in config.teams.items()}
        self._team_leads = {key: _Listed.of(team.leads) for key, team in config.teams.items()}
        self._role_members = {key: _Listed.of(role.members) for key, role in config.roles.items()}
        self._referenced_groups = _referenced_usergroups(config)

    def principal(self, user_id: str) -> Principal:
        """The principal for a Slack user id; NotFound if the workspace has no such user."""
        now = self._clock()
        cached = self._principals.get(user_id, now)
        if cached is not None:
            return cached
        user, fetched_at, stale = self._load_user(user_id, now)
        principal = self._build(user, now, stale=stale)
        expires_at = now + self._outage_ttl if principal.stale else fetched_at + self._ttl
        self._principals.put(user_id, principal, expires_at)
        return principal

    def user_for_email(self, email: str) -> str | None:
        """The Slack user id with this email (case-insensitive), or None if there is none."""
        wanted = email.strip().casefold()
        now = self._clock()
        cached = self._emails.get(wanted, now)
        if cached is not None:
            return cached or None
        with self._sessions() as session:
            row = session.scalars(
                select(IdentityUser).where(IdentityUser.email == wanted).limit(1)
            ).first()
            stored = _from_row(row) if row is not None else None
            fetched_at = row.fetched_at if row is not None else None
        if stored is not None and fetched_at is not None and fetched_at + self._ttl > now:
            self._emails.put(wanted, stored.id, fetched_at + self._ttl)
            return stored.id
        try:
            user = self._directory.user_by_email(wanted)
        except IntegrationError as exc:
            if stored is None:
                raise _unavailable(exc) from None
            logger.warning("directory unavailable, using stored user for an email: %s", exc)
            self._emails.put(wanted, stored.id, now + self._outage_ttl)
            return stored.id
        if user is None:
            # Remembered as "" so a mistyped email in the config is not looked up every time.
            self._emails.put(wanted, "", now + self._ttl)
            return None
        self._store(user, now)
        self._emails.put(wanted, user.id, now + self._ttl)
        return user.id

    def team_members(self, team: str) -> list[str]:
        """User ids of a team's members, leads and usergroup members, in config order."""
        config = self._team(team)
        ids = self._resolve(self._team_members[team].entries)
        if config.usergroup is not None:
            ids.extend(self._usergroup(config.usergroup, self._clock())[0].ordered)
        return list(dict.fromkeys(ids))

    def team_leads(self, team: str) -> list[str]:
        """User ids of a team's leads, in config order."""
        self._team(team)
        return list(dict.fromkeys(self._resolve(self._team_leads[team].entries)))

    def role_members(self, role: str) -> list[str]:
        """User ids holding a role: its listed members and its usergroups' members."""
        config = self._config.roles.get(role)
        ids = self._resolve(self._role_members[role].entries) if config else []
        for handle in config.usergroups if config else ():
            ids.extend(self.usergroup_members(handle))
        return list(dict.fromkeys(ids))

    def usergroup_members(self, handle: str) -> list[str]:
        """User ids in a usergroup (the last known members while the directory is down)."""
        return list(self._usergroup(handle, self._clock())[0].ordered)

    def invalidate(self, user_id: str) -> None:
        """Forget what is known about a user: the next lookup asks the directory again.

        No listener calls it yet (a `user_change` event would); tests use it to make a
        changed directory answer visible at once, as that listener would.
        """
        self._principals.pop(user_id)
        self._emails.drop_values(user_id)
        with self._sessions.begin() as session:
            session.execute(
                update(IdentityUser)
                .where(IdentityUser.user_id == user_id)
                .values(fetched_at=_INVALIDATED_AT)
            )

    def _load_user(self, user_id: str, now: datetime) -> tuple[DirectoryUser, datetime, bool]:
        """The user, when that answer was fetched, and whether it is a stale fallback."""
        with self._sessions() as session:
            row = session.get(IdentityUser, user_id)
            stored = _from_row(row) if row is not None else None
            fetched_at = row.fetched_at if row is not None else None
        if stored is not None and fetched_at is not None and fetched_at + self._ttl > now:
            return stored, fetched_at, False
        try:
            user = self._directory.user(user_id)
        except IntegrationError as exc:
            if stored is None or fetched_at is None:
                raise _unavailable(exc) from None
            logger.warning("directory unavailable, using stored profile of %s: %s", user_id, exc)
            return stored, fetched_at, True
        if user is None:
            raise NotFound(f"<@{user_id}> is not a member of this workspace.")
        self._store(user, now)
        return user, now, False

    def _build(self, user: DirectoryUser, now: datetime, *, stale: bool) -> Principal:
        email = user.email.casefold() if user.email else None
        groups: set[str] = set()
        for handle in self._referenced_groups:
            members, fresh = self._usergroup(handle, now)
            stale = stale or not fresh
            if user.id in members.ids:
                groups.add(handle)
        teams = {
            key
            for key, team in self._config.teams.items()
            if self._team_members[key].includes(user.id, email)
            or (team.usergroup is not None and team.usergroup in groups)
        }
        roles = {
            key
            for key, role in self._config.roles.items()
            if self._role_members[key].includes(user.id, email)
            or any(handle in groups for handle in role.usergroups)
        }
        lead_of = {key for key, leads in self._team_leads.items() if leads.includes(user.id, email)}
        return Principal(
            user_id=user.id,
            name=user.real_name or user.name,
            email=email,
            tz=user.tz,
            is_bot=user.is_bot,
            is_guest=user.is_restricted,
            deleted=user.deleted,
            teams=frozenset(teams),
            lead_of=frozenset(lead_of),
            roles=frozenset(roles),
            usergroups=frozenset(groups),
            stale=stale,
        )

    def _usergroup(self, handle: str, now: datetime) -> tuple[_Usergroup, bool]:
        """Members of a usergroup and whether that answer is current.

        When the directory is down the last known members are used, or nobody: a missing
        usergroup can only take permissions away, never grant them.
        """
        cached = self._groups.get(handle, now)
        if cached is not None:
            return cached, True
        try:
            members = _Usergroup.of(self._directory.usergroup_members(handle))
        except IntegrationError as exc:
            logger.warning("directory unavailable, usergroup %s not refreshed: %s", handle, exc)
            known = self._groups.get_even_expired(handle) or _Usergroup.of([])
            self._groups.put(handle, known, now + self._outage_ttl)
            return known, False
        self._groups.put(handle, members, now + self._ttl)
        return members, True

    def _resolve(self, entries: Iterable[str]) -> list[str]:
        ids: list[str] = []
        for entry in entries:
            if "@" not in entry:
                ids.append(entry)
                continue
            user_id = self.user_for_email(entry)
            if user_id is None:
                logger.warning("no Slack user has the email %s listed in the config", entry)
            else:
                ids.append(user_id)
        return ids

    def _team(self, team: str) -> TeamConfig:
        config = self._config.teams.get(team)
        if config is None:
            close = difflib.get_close_matches(team, list(self._config.teams), n=3)
            raise NotFound(f"There is no team called `{escape(team[:80])}`.", suggestions=close)
        return config

    def _store(self, user: DirectoryUser, now: datetime) -> None:
        values = {
            "user_id": user.id,
            "name": user.name[:255],
            "real_name": user.real_name[:255],
            "email": user.email.casefold() if user.email else None,
            "tz": user.tz,
            "is_bot": user.is_bot,
            "is_restricted": user.is_restricted,
            "deleted": user.deleted,
            "fetched_at": now,
        }
        # Two replicas may fetch the same user at once; last writer wins, both are correct.
        with self._sessions.begin() as session:
            session.execute(upsert(session, IdentityUser, values, conflict=["user_id"]))


def _from_row(row: IdentityUser) -> DirectoryUser:
    return DirectoryUser(
        id=row.user_id,
        name=row.name,
        real_name=row.real_name,
        email=row.email,
        tz=row.tz,
        is_bot=row.is_bot,
        is_restricted=row.is_restricted,
        deleted=row.deleted,
    )


def _team_entries(team: TeamConfig) -> list[str]:
    return [*team.members, *team.leads]


def _referenced_usergroups(config: CoreConfig) -> tuple[str, ...]:
    """Usergroup handles the config mentions; only these are fetched and reported."""
    handles: list[str] = []
    for role in config.roles.values():
        handles.extend(role.usergroups)
    handles.extend(team.usergroup for team in config.teams.values() if team.usergroup)
    for rule in config.policies:
        subjects = [*rule.allow, *(rule.approval.approvers if rule.approval else [])]
        handles.extend(s.removeprefix("usergroup:") for s in subjects if s.startswith("usergroup:"))
    return tuple(dict.fromkeys(handles))


def _unavailable(exc: IntegrationError) -> Unavailable:
    logger.warning("directory unavailable: %s", exc)
    return Unavailable("I can't reach Slack's user directory right now; try again in a minute.")
