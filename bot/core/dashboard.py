"""What a person's platform dashboard (the App Home tab, `/platform requests`) shows.

The home feature draws the dashboard and may not import the features whose things it
shows, so each of them offers a `DashboardSource` in its parts (`Parts.dashboard`); the
runtime attaches every one to the `DashboardRelay` all features get as `Core.dashboard`.

    core.dashboard.items(principal)             # every source's items, merged
    core.dashboard.cancel(principal, "1a2b3c4d")  # the source that knows the request answers
    core.dashboard.changed({requester, *approvers})  # their dashboards are out of date

Items carry plain text (the view escapes it) and user ids (the view mentions them); the one
exception is `Mrkdwn`, text the bot itself wrote as mrkdwn (e.g. the policy's "admins or the
leads of Payments"). Buttons are the owning feature's own (its action ids and values), so a
click on the dashboard runs the same listener, with the same server-side checks of who
clicked, as the click on the feature's own message.

A source that fails is logged and left out: one broken feature must not blank the dashboard.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType, Protocol

from bot.core.identity import Principal

logger = logging.getLogger(__name__)

Mrkdwn = NewType("Mrkdwn", str)
"""Text the bot wrote as mrkdwn (never text a person typed): shown as it is."""

SHORT_REF_LENGTH = 8
"""How many characters of a request's id people see and type to `/platform cancel`."""


def short_ref(request_id: str) -> str:
    """The part of a random request id that people see: unique enough among one person's."""
    return request_id[:SHORT_REF_LENGTH]


@dataclass(frozen=True)
class Button:
    """A button of the owning feature: clicking it runs that feature's own listener."""

    label: str
    action_id: str
    value: str
    style: str | None = None
    """"primary", "danger" or None."""


@dataclass(frozen=True)
class ResourceItem:
    kind: str
    """What it is, e.g. "PostgreSQL" or "Environment (preview)"."""
    name: str
    status: str
    """In words: "active", "provisioning", "ready"."""
    tier: str
    team: str
    expires_at: datetime | None
    monthly_cost: float | None
    currency: str
    buttons: tuple[Button, ...] = ()


class RequestState(StrEnum):
    PENDING = "pending approval"
    QUEUED = "queued"
    RUNNING = "running"
    FAILED = "failed"


@dataclass(frozen=True)
class RequestItem:
    """A request the person made that is still open, or failed recently."""

    ref: str
    """The short id people see and give `/platform cancel`."""
    request_id: str
    """The whole id, for the Cancel button."""
    what: str
    state: RequestState
    created_at: datetime
    detail: str = ""
    """The running step, or why it failed."""
    approvals: str = ""
    """While pending: "1 of 2 approvals"."""
    approvers: Mrkdwn = Mrkdwn("")
    """While pending: who may approve it, as the policy names them."""
    cancel_allowed: bool = True
    """False for a request its feature cannot call off while it waits (a runbook run
    waiting for a step's approval has already started)."""

    @property
    def cancellable(self) -> bool:
        return self.cancel_allowed and self.state in (RequestState.PENDING, RequestState.QUEUED)


@dataclass(frozen=True)
class ApprovalItem:
    """A request waiting on the person's approval (they may approve and have not voted)."""

    what: str
    requester_id: str
    created_at: datetime
    reason: str = ""
    approvals: str = ""
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class EventItem:
    """Something coming up for the person: an on-call shift, an office-hours session."""

    what: str
    starts_at: datetime
    ends_at: datetime | None = None
    link: str | None = None


@dataclass(frozen=True)
class SurveyItem:
    """A survey the person was sent and has not answered."""

    what: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class DashboardItems:
    """One source's part of a dashboard; `DashboardRelay.items` merges them."""

    resources: Sequence[ResourceItem] = ()
    requests: Sequence[RequestItem] = ()
    approvals: Sequence[ApprovalItem] = ()
    shifts: Sequence[EventItem] = ()
    shifts_note: str = ""
    """Plain words shown with the shifts when they could not be read (the provider failed)."""
    sessions: Sequence[EventItem] = ()
    surveys: Sequence[SurveyItem] = ()
    quick_actions: Sequence[Button] = ()
    pending_approvals: int = 0
    """Requests anyone is waiting to approve, platform-wide (the admins' overview)."""

    def merged(self, other: DashboardItems) -> DashboardItems:
        return DashboardItems(
            resources=[*self.resources, *other.resources],
            requests=[*self.requests, *other.requests],
            approvals=[*self.approvals, *other.approvals],
            shifts=[*self.shifts, *other.shifts],
            shifts_note=" ".join(n for n in (self.shifts_note, other.shifts_note) if n),
            sessions=[*self.sessions, *other.sessions],
            surveys=[*self.surveys, *other.surveys],
            quick_actions=[*self.quick_actions, *other.quick_actions],
            pending_approvals=self.pending_approvals + other.pending_approvals,
        )


@dataclass(frozen=True)
class CancelOutcome:
    cancelled: bool
    message: str
    """What the person reads (mrkdwn the feature wrote, user text escaped)."""
    notify: frozenset[str] = field(default_factory=frozenset)
    """Whose dashboards the cancel changed."""


class DashboardSource(Protocol):
    def items_for(self, principal: Principal) -> DashboardItems:
        """What `principal` sees of this feature; bounded by the feature (lists of hundreds
        are fine, the home view shows the first few of each)."""
        ...

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        """Cancel `principal`'s request `ref` (its short or whole id); None when this source
        has no request of theirs by that id (another source may have it)."""
        ...


ChangeListener = Callable[[frozenset[str]], None]


class DashboardRelay:
    """The sources every feature offered, and who listens for "these people's things changed"."""

    def __init__(self) -> None:
        self._sources: list[DashboardSource] = []
        self._listeners: list[ChangeListener] = []
        self._lock = threading.Lock()

    def attach(self, source: DashboardSource) -> None:
        with self._lock:
            self._sources = [*self._sources, source]

    def subscribe(self, listener: ChangeListener) -> None:
        with self._lock:
            self._listeners = [*self._listeners, listener]

    def items(self, principal: Principal) -> DashboardItems:
        found = DashboardItems()
        for source in self._sources:
            try:
                found = found.merged(source.items_for(principal))
            except Exception:
                logger.exception("a dashboard source failed: %s", type(source).__name__)
        return found

    def cancel(self, principal: Principal, ref: str) -> CancelOutcome | None:
        """The outcome from the source that has `principal`'s request `ref`; None if none has."""
        for source in self._sources:
            outcome = source.cancel(principal, ref)
            if outcome is not None:
                if outcome.notify:
                    self.changed(outcome.notify)
                return outcome
        return None

    def changed(self, user_ids: Collection[str]) -> None:
        """These people's dashboards are out of date; never raises (called after the work)."""
        people = frozenset(u for u in user_ids if u)
        if not people:
            return
        for listener in self._listeners:
            try:
                listener(people)
            except Exception:
                logger.exception("a dashboard change listener failed")
