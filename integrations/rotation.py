"""`OnCallProvider` over a rotation file: on-call without an on-call tool (embedded default).

    rotations:
      payments:                          # the key: usually the owning group's name
        participants: [bob@example.com, carol@example.com]   # emails or Slack ids, in order
        rotation_length: 7d              # Nh, Nd or Nw
        handoff_time: "09:00"            # local time in time_zone when a shift changes
        time_zone: Europe/London
        start: 2026-11-02                # the first participant's first shift starts then
        overrides:                       # someone else covers a window (wins over the rotation)
          - {person: carol@example.com, start: 2026-12-24T09:00, end: 2026-12-26T09:00}

Day and week lengths follow the wall clock (a shift always changes at `handoff_time`, also
across daylight-saving changes); hour lengths are exact durations. Override times without an
offset are read in the rotation's time zone. The file is re-read when it changes; a broken
file makes lookups fail with the reason (and the bot answers from its last good data).
Paging asks the bot to DM whoever is on call (`PageResult.notify`). A person's shifts are
their segments of every rotation, walked across the window; back-to-back segments of one
person (a rotation of one, an override of their own shift) are one shift.
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable
from integrations.oncall_window import SHIFTS_MAX, within
from integrations.protocols import (
    OnCallPerson,
    OnCallShift,
    OnCallStatus,
    OnCallTarget,
    PageRequest,
    PageResult,
)

PROVIDER = "rotation file"
_SEGMENTS_MAX = 5_000
"""Segments walked per rotation and window: two weeks of hourly shifts with overrides."""
_LENGTH = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
Person = Annotated[str, Field(min_length=1, max_length=320)]


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    person: Person
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError("start and end must both have an offset or both have none")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    participants: list[Person] = Field(min_length=1)
    rotation_length: str = "7d"
    handoff_time: time = time(9, 0)
    time_zone: ZoneInfo = ZoneInfo("UTC")
    start: date
    overrides: list[Override] = Field(default_factory=list)

    @field_validator("rotation_length")
    @classmethod
    def _length(cls, value: str) -> str:
        match = _LENGTH.match(value)
        if match is None or int(match.group(1)) == 0:
            raise ValueError("must be a positive number of hours, days or weeks: 12h, 1d, 2w")
        return value

    def length(self) -> tuple[int, str]:
        match = _LENGTH.match(self.rotation_length)
        assert match is not None
        count, unit = int(match.group(1)), match.group(2)
        return (count * 7, "d") if unit == "w" else (count, unit)


class RotationFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rotations: dict[str, Rotation] = Field(default_factory=dict)


def load_rotations(text: str) -> RotationFile:
    """Parse a rotation file; ValueError with a readable reason if it is not valid."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    try:
        return RotationFile.model_validate(data or {})
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        raise ValueError(f"{where}: {error['msg']}") from None


class RotationSchedule:
    """Who is on call in one rotation at any moment (pure; no I/O)."""

    def __init__(self, key: str, rotation: Rotation) -> None:
        self.key = key
        self._rotation = rotation
        self._zone = rotation.time_zone
        self._count, self._unit = rotation.length()
        self._anchor = datetime.combine(rotation.start, rotation.handoff_time, self._zone)
        self._overrides = sorted(
            (
                (_aware(o.start, self._zone), _aware(o.end, self._zone), o.person)
                for o in rotation.overrides
            ),
            key=lambda item: item[0],
        )

    def _boundary(self, index: int) -> datetime:
        """The start of shift `index` (0 = the anchor), as an aware datetime."""
        if self._unit == "h":
            return self._anchor + timedelta(hours=self._count * index)
        day = self._rotation.start + timedelta(days=self._count * index)
        return datetime.combine(day, self._rotation.handoff_time, self._zone)

    def _index(self, at: datetime) -> int:
        if self._unit == "h":
            span = timedelta(hours=self._count)
            return (at - self._anchor) // span
        # Calendar arithmetic: estimate from elapsed days, then step to the right shift.
        index = (at.astimezone(self._zone).date() - self._rotation.start).days // self._count
        while self._boundary(index) > at:
            index -= 1
        while self._boundary(index + 1) <= at:
            index += 1
        return index

    def _scheduled(self, at: datetime) -> tuple[str, datetime, datetime]:
        index = self._index(at)
        people = self._rotation.participants
        return people[index % len(people)], self._boundary(index), self._boundary(index + 1)

    def segment(self, at: datetime) -> tuple[str, datetime, datetime]:
        """(person, start, end) of the on-call segment covering `at`, overrides included."""
        for start, end, person in self._overrides:
            if start <= at < end:
                return person, start, end
        person, start, end = self._scheduled(at)
        for o_start, o_end, _ in self._overrides:
            if at < o_start < end:
                end = o_start
            if start < o_end <= at:
                start = o_end
        return person, start, end

    def segments(self, since: datetime, until: datetime) -> list[tuple[str, datetime, datetime]]:
        """The segments that overlap [since, until), in order, neighbours of one person
        joined."""
        found: list[tuple[str, datetime, datetime]] = []
        current = self.segment(since)
        for _ in range(_SEGMENTS_MAX):
            if current[1] >= until:
                break
            if found and found[-1][0] == current[0] and found[-1][2] == current[1]:
                found[-1] = (current[0], found[-1][1], current[2])
            else:
                found.append(current)
            current = self.segment(current[2])
        return found

    def status(self, at: datetime) -> tuple[tuple[str, datetime, datetime], ...]:
        """The segment covering `at` and the next one with a different person.

        A rotation of one (or a stretch where nobody else comes up) has no different person:
        then the next segment is simply the following shift of the same person.
        """
        current = self.segment(at)
        immediate = following = self.segment(current[2])
        guard = 0
        while following[0] == current[0] and guard < 2 * len(self._rotation.participants) + 2:
            following = self.segment(following[2])
            guard += 1
        return current, following if following[0] != current[0] else immediate


class RotationProvider:
    """Rotations read from a YAML file, re-read whenever the file changes."""

    name = "rotation"

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded: tuple[float, dict[str, RotationSchedule]] | None = None

    def schedules(self) -> dict[str, RotationSchedule]:
        try:
            mtime = self._path.stat().st_mtime
        except OSError as exc:
            raise ProviderUnavailable(
                PROVIDER, f"cannot read {self._path.name}: {exc.strerror}"
            ) from None
        with self._lock:
            if self._loaded is not None and self._loaded[0] == mtime:
                return self._loaded[1]
            try:
                parsed = load_rotations(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ProviderUnavailable(PROVIDER, f"{self._path.name}: {exc}") from None
            schedules = {
                key.lower(): RotationSchedule(key, rotation)
                for key, rotation in parsed.rotations.items()
            }
            self._loaded = (mtime, schedules)
            return schedules

    def on_call(self, target: OnCallTarget, *, at: datetime) -> OnCallStatus:
        schedule = self._schedule(target)
        current, following = schedule.status(at)
        return OnCallStatus(
            target=target,
            current=(_shift(current),),
            next=(_shift(following),),
            as_of=at,
            schedule_name=schedule.key,
        )

    def shifts_for(
        self,
        *,
        email: str | None,
        slack_user_id: str | None,
        since: datetime,
        until: datetime,
    ) -> list[OnCallShift]:
        names = {n.casefold() for n in (email, slack_user_id) if n}
        if not names or until <= since:
            return []
        shifts: list[OnCallShift] = []
        for schedule in self.schedules().values():
            for person, start, end in schedule.segments(since, until):
                if person.casefold() in names:
                    shifts.append(_shift((person, start, end), schedule.key))
                if len(shifts) >= SHIFTS_MAX:
                    break
        return within(shifts, since, until)

    def page(self, request: PageRequest) -> PageResult:
        schedule = self._schedule(request.target)
        person, _, _ = schedule.segment(datetime.now(ZoneInfo("UTC")))
        return PageResult(reference=request.dedup_key, notify=(_person(person),))

    def _schedule(self, target: OnCallTarget) -> RotationSchedule:
        if target.kind != "rotation":
            raise ProviderRejected(PROVIDER, f"cannot look up a {target.kind!r} target")
        schedule = self.schedules().get(target.id.lower())
        if schedule is None:
            raise ProviderNotFound(PROVIDER, f"no rotation called {target.id!r}")
        return schedule


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _person(entry: str) -> OnCallPerson:
    if "@" in entry:
        return OnCallPerson(name=entry, email=entry.casefold())
    return OnCallPerson(name=entry, slack_user_id=entry)


def _shift(segment: tuple[str, datetime, datetime], schedule: str | None = None) -> OnCallShift:
    person, start, end = segment
    return OnCallShift(person=_person(person), start=start, end=end, schedule=schedule)
