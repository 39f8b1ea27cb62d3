"""The mrkdwn pieces lookup answers are built from: people, teams, on-call, links, lists.

Everything that came from the catalog, an on-call tool or a person (names, titles, channel
names, schedule names, reasons) is escaped here before it meets the bot's own markup, and
every list is cut to the space it has with "and N more" for what was left out, so a card
stays inside Block Kit's limits however big the team or the catalog entry is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError

from bot.core.mrkdwn import escape, truncate
from commands.lookup.service.types import Links, OnCall, Person, Shift, Team
from commands.lookup.views.markdown import link

LINKS_PER_KIND = 4
LINK_TITLE_LENGTH = 60
_CHANNEL_ID_FIRST = frozenset("CG")
_CHANNEL_ID_REST = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
UTC = ZoneInfo("UTC")
_ZONE: TypeAdapter[ZoneInfo] = TypeAdapter(ZoneInfo)


def reader_zone(tz: str | None) -> ZoneInfo:
    """A person's time zone from their Slack profile; UTC when it is missing or not a zone.

    Checked as pydantic checks `ZoneInfo` config fields, which refuses every string that is
    not a zone, including a folder of the zone database or an overlong name (`ZoneInfo`
    itself raises OSError for those, which would fail the whole answer).
    """
    if not tz:
        return UTC
    try:
        return _ZONE.validate_python(tz)
    except ValidationError:
        return UTC


def when(moment: datetime, tz: str | None) -> str:
    """`Mon 30 Nov 09:00 EST`: a moment in the reader's time zone."""
    return moment.astimezone(reader_zone(tz)).strftime("%a %d %b %H:%M %Z")


def more(count: int) -> str:
    return f" and {count:,} more" if count else ""


def join_limited(items: Sequence[str], limit: int, *, hidden: int = 0, sep: str = ", ") -> str:
    """Finished mrkdwn `items` joined until `limit`, then "and N more" for the rest.

    An item is never cut (a mention or link stays whole); one that cannot fit even alone is
    cut with `truncate`, which keeps markup whole too.
    """
    room = limit - len(more(len(items) + hidden))
    shown: list[str] = []
    used = 0
    for item in items:
        cost = len(item) + (len(sep) if shown else 0)
        if used + cost > room:
            break
        shown.append(item)
        used += cost
    if not shown and items:
        shown, room = [truncate(items[0], max(1, room))], 0
    return sep.join(shown) + more(len(items) - len(shown) + hidden)


def channel(value: str | None) -> str | None:
    """A channel as mrkdwn: a link for a Slack channel ID, else the escaped name."""
    if not value:
        return None
    value = value.strip()
    if len(value) >= 7 and value[0] in _CHANNEL_ID_FIRST and _CHANNEL_ID_REST.issuperset(value[1:]):
        return f"<#{value}>"
    return escape(value if value.startswith("#") else f"#{value}")


def mention(person: Person) -> str:
    return f"<@{person.slack_user_id}>" if person.slack_user_id else escape(person.name)


def team_text(team: Team | None, person: Person | None) -> str:
    if person is not None:
        return mention(person)
    if team is None:
        return "nobody (no owner in the catalog)"
    text = f"*{escape(team.label)}*"
    shown_channel = channel(team.channel)
    if shown_channel:
        text += f" ({shown_channel})"
    if not team.in_catalog:
        text += " _(not in the catalog)_"
    return text


def members_text(team: Team | None, limit: int) -> str | None:
    if team is None or not team.members:
        return None
    people = [mention(p) for p in team.members]
    return join_limited(people, limit, hidden=team.more_members)


def _shift_text(shift: Shift, tz: str | None, *, upcoming: bool) -> str:
    text = mention(shift.person)
    if shift.level > 1:
        text += f" (level {shift.level})"
    if upcoming and shift.start is not None:
        text += f" from {when(shift.start, tz)}"
    if shift.end is not None:
        text += f" until {when(shift.end, tz)}"
    return text


def oncall_lines(oncall: OnCall | None, tz: str | None, limit: int) -> tuple[str, str]:
    """(on call now, next), each at most `limit` characters of mrkdwn."""
    if oncall is None:
        return "_asking the on-call tool…_", "_asking…_"
    if not oncall.configured:
        return f"no on-call schedule in {escape(oncall.provider)}", "—"
    now = [_shift_text(s, tz, upcoming=False) for s in oncall.current]
    following = [_shift_text(s, tz, upcoming=True) for s in oncall.next]
    return (
        join_limited(now, limit, sep="; ") or "nobody",
        join_limited(following, limit, sep="; ") or "unknown",
    )


def stale_note(oncall: OnCall | None, tz: str | None) -> str | None:
    if oncall is None or not oncall.stale:
        return None
    return (
        f":warning: {escape(oncall.provider)} is not answering ({escape(oncall.problem or '')});"
        f" this is the last known on-call from {when(oncall.as_of, tz)} and may be out of date."
    )


def links_text(links: Links, limit: int) -> str | None:
    """Each kind of link on its own line, at most four of each, within `limit` in all."""
    kinds = [
        (label, entries)
        for label, entries in (
            ("Repository", links.repository),
            ("Docs", links.docs),
            ("Runbooks", links.runbooks),
            ("Dashboards", links.dashboards),
            ("Links", links.other),
        )
        if entries
    ]
    parts = []
    for label, entries in kinds:
        heading = f"*{label}:* "
        budget = limit // len(kinds) - len(heading) - 1
        shown = [link(url, _short_title(title)) for title, url in entries[:LINKS_PER_KIND]]
        hidden = max(0, len(entries) - LINKS_PER_KIND)
        parts.append(heading + join_limited(shown, budget, hidden=hidden))
    return "\n".join(parts) or None


def _short_title(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= LINK_TITLE_LENGTH else title[: LINK_TITLE_LENGTH - 1] + "…"
