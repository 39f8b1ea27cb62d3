"""The filters of `/platform audit`, parsed from the command text into a checked `AuditFilter`.

`user:@bob` (a mention `<@U…>`, a user id, a name the bot has seen, or `system`), `team:KEY`
(its members' records), `action:db.*` and `target:…` (globs: `*` any run, `?` one
character; a target without `*` matches targets containing it), `outcome:failed`,
`since:7d` (m, h, d or w, up to a year back) or `since:2026-11-01` (UTC). Globs become SQL
LIKE patterns with `%`, `_` and `\\` escaped, so matching is linear and never a regex; every
value is bounded. `AuditFilter.text()` is the canonical form carried in the paging buttons
and re-parsed (and so re-checked) on every click.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.audit import SYSTEM_ACTOR, Outcome
from bot.core.errors import InvalidInput
from bot.core.mrkdwn import escape

KEYS = ("user", "team", "action", "target", "outcome", "since")
MAX_VALUE = 100
MAX_STARS = 3
MAX_FILTER_TEXT = 600
MAX_SINCE = timedelta(days=366)

_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,20})(?:\|[^>]{0,80})?>")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
_NAME = re.compile(r"@?([a-z0-9][a-z0-9._-]{0,79})", re.IGNORECASE)
_ACTION = re.compile(r"[a-z0-9._*?-]{1,128}", re.IGNORECASE)
_TEAM = re.compile(r"[a-z0-9_-]{1,64}", re.IGNORECASE)
_RELATIVE = re.compile(r"(\d{1,6})([mhdw])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actors: tuple[str, ...] | None = None
    """Only these actors' records (one for user:, a team's members for team:)."""
    user: str | None = None
    team: str | None = None
    action: str | None = None
    target: str | None = None
    outcome: str | None = None
    since: str | None = None
    since_at: datetime | None = None

    def text(self) -> str:
        """The canonical filter text (users as ids), for buttons and messages."""
        parts = [
            f"{key}:{value}"
            for key, value in (
                ("user", self.user),
                ("team", self.team),
                ("action", self.action),
                ("target", self.target),
                ("outcome", self.outcome),
                ("since", self.since),
            )
            if value is not None
        ]
        return " ".join(parts)


@dataclass(frozen=True)
class Directory:
    """What parsing needs to know of people and teams (from the identity service)."""

    user_named: Callable[[str], str | None]
    teams: Sequence[str]
    team_members: Callable[[str], list[str]]


def parse_filters(words: Sequence[str], directory: Directory, now: datetime) -> AuditFilter:
    values: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition(":")
        key = key.lower()
        if not sep or key not in KEYS:
            raise InvalidInput(
                f"`{_shown(word)}` is not a filter; use {', '.join(k + ':' for k in KEYS)}",
                field="filters",
            )
        if key in values:
            raise InvalidInput(f"`{key}:` is given twice; give each filter once", field=key)
        if not value or len(value) > MAX_VALUE:
            raise InvalidInput(f"`{key}:` needs a value of 1 to {MAX_VALUE} characters", field=key)
        values[key] = value
    user = _user(values["user"], directory) if "user" in values else None
    team = _team(values["team"], directory) if "team" in values else None
    actors: tuple[str, ...] | None = None
    if user is not None:
        actors = (user,)
    if team is not None:
        members = tuple(directory.team_members(team))
        actors = members if actors is None else tuple(a for a in actors if a in members)
    since, since_at = _since(values["since"], now) if "since" in values else (None, None)
    return AuditFilter(
        actors=actors,
        user=user,
        team=team,
        action=_glob(values["action"], "action", _ACTION) if "action" in values else None,
        target=_glob(values["target"], "target", None) if "target" in values else None,
        outcome=_outcome(values["outcome"]) if "outcome" in values else None,
        since=since,
        since_at=since_at,
    )


def like_pattern(glob: str, *, contains: bool = False) -> str:
    """A SQL LIKE pattern (escape `\\`) matching what `glob` matches."""
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = escaped.replace("*", "%").replace("?", "_")
    return f"%{pattern}%" if contains and "*" not in glob else pattern


def _shown(text: str) -> str:
    """Typed text quoted back in an error: escaped, on one line, short."""
    flat = " ".join(text.split())
    return escape(flat if len(flat) <= 40 else flat[:39] + "…")


def _user(value: str, directory: Directory) -> str:
    mention = _MENTION.fullmatch(value)
    if mention:
        return mention.group(1)
    if value == SYSTEM_ACTOR or _USER_ID.fullmatch(value):
        return value
    name = _NAME.fullmatch(value)
    found = directory.user_named(name.group(1)) if name else None
    if found is None:
        raise InvalidInput(
            f"I know no one named `{_shown(value)}`; mention them (`user:@name` from the "
            "autocomplete) or give their user id",
            field="user",
        )
    return found


def _team(value: str, directory: Directory) -> str:
    key = value.lower()
    if not _TEAM.fullmatch(value) or key not in directory.teams:
        known = ", ".join(sorted(directory.teams)[:20]) or "none configured"
        raise InvalidInput(f"`{_shown(value)}` is not a team; teams: {known}", field="team")
    return key


def _glob(value: str, key: str, allowed: re.Pattern[str] | None) -> str:
    if allowed is not None and not allowed.fullmatch(value):
        raise InvalidInput(
            f"`{key}:` takes letters, digits, `.`, `-`, `_` and the wildcards `*` and `?`",
            field=key,
        )
    if value.count("*") > MAX_STARS or any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidInput(
            f"`{key}:` takes at most {MAX_STARS} `*` and no spaces or control characters",
            field=key,
        )
    return value


def _outcome(value: str) -> str:
    known = [str(o) for o in Outcome]
    if value.lower() not in known:
        raise InvalidInput(f"`outcome:` is one of {', '.join(known)}", field="outcome")
    return value.lower()


def _since(value: str, now: datetime) -> tuple[str, datetime]:
    relative = _RELATIVE.fullmatch(value.lower())
    if relative:
        span = timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
        if span > MAX_SINCE:
            raise InvalidInput("`since:` reaches back at most a year (366d)", field="since")
        return value.lower(), now - span
    if _DATE.fullmatch(value):
        try:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise InvalidInput(f"`since:{value}` is not a date", field="since") from None
        if day > now or now - day > timedelta(days=3660):
            raise InvalidInput("`since:` is a date in the last ten years", field="since")
        return value, day
    raise InvalidInput("`since:` is like `7d`, `12h`, `2w` or `2026-11-01`", field="since")
