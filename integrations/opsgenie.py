"""`OnCallProvider` over the Opsgenie REST API (who-is-on-call and alerts).

Current on-call: `GET /v2/schedules/{name}/on-calls?scheduleIdentifierType=name&flat=true`;
next: `GET /v2/schedules/{name}/next-on-calls` (same parameters). Opsgenie does not say
when a shift ends through these calls, so shifts carry no end. A person's shifts: the
schedules they are in (`GET /v2/users/{email}/schedules`, Opsgenie's username is the email),
then each enabled schedule's final timeline (`GET /v2/schedules/{id}/timeline`, overrides
and forwarding applied) over the window, keeping the periods whose recipient is them.
Paging creates an alert (`POST /v2/alerts`) routed to the schedule, with the dedup key as
its `alias` (Opsgenie's de-duplication key). Auth: `Authorization: GenieKey …`. EU
accounts use api.eu.opsgenie.com.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from integrations.errors import ProviderNotFound, ProviderRejected, ProviderUnavailable
from integrations.http_errors import json_body, send
from integrations.oncall_window import iso_utc, parse_time, within
from integrations.protocols import (
    OnCallPerson,
    OnCallShift,
    OnCallStatus,
    OnCallTarget,
    PageRequest,
    PageResult,
)

PROVIDER = "opsgenie"
SCHEDULES_MAX = 20
"""Schedules read per person: more than anyone is on; the rest are not asked about."""
TIMELINE_DAYS_MAX = 90


class Opsgenie:
    name = "opsgenie"

    def __init__(self, client: httpx.Client, *, api_key: str) -> None:
        self._client = client
        self._headers = {"Authorization": f"GenieKey {api_key}", "Accept": "application/json"}

    def on_call(self, target: OnCallTarget, *, at: datetime) -> OnCallStatus:
        if target.kind != "schedule":
            raise ProviderRejected(PROVIDER, f"cannot look up a {target.kind!r} target")
        now = self._get(f"/v2/schedules/{_segment(target.id)}/on-calls", "on-calls")
        upcoming = self._get(f"/v2/schedules/{_segment(target.id)}/next-on-calls", "next-on-calls")
        current = _people(now.get("onCallRecipients"), now.get("onCallParticipants"))
        following = _people(
            upcoming.get("exactNextOnCallRecipients") or upcoming.get("nextOnCallRecipients"),
            upcoming.get("exactNextOnCallParticipants") or upcoming.get("nextOnCallParticipants"),
        )
        parent = now.get("_parent")
        if not isinstance(parent, dict):
            parent = {}
        return OnCallStatus(
            target=target,
            current=tuple(OnCallShift(person=p) for p in current),
            next=tuple(OnCallShift(person=p) for p in following),
            as_of=at,
            schedule_name=str(parent.get("name") or target.id),
        )

    def shifts_for(
        self,
        *,
        email: str | None,
        slack_user_id: str | None,
        since: datetime,
        until: datetime,
    ) -> list[OnCallShift]:
        if not email or until <= since:
            return []
        wanted = email.strip().casefold()
        shifts: list[OnCallShift] = []
        for schedule_id, name in self._schedules_of(wanted)[:SCHEDULES_MAX]:
            shifts.extend(self._timeline_shifts(schedule_id, name, wanted, since, until))
        return within(shifts, since, until)

    def _schedules_of(self, email: str) -> list[tuple[str, str]]:
        """(id, name) of the enabled schedules the user is in; none for an unknown user."""
        what = "GET /v2/users/{identifier}/schedules"
        path = f"/v2/users/{_segment(email)}/schedules"
        try:
            response = send(PROVIDER, what, lambda: self._client.get(path, headers=self._headers))
        except ProviderNotFound:
            return []
        body = json_body(PROVIDER, what, response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without data")
        return [
            (str(entry["id"]), str(entry.get("name") or entry["id"]))
            for entry in data
            if isinstance(entry, dict) and entry.get("id") and entry.get("enabled", True)
        ]

    def _timeline_shifts(
        self, schedule_id: str, name: str, email: str, since: datetime, until: datetime
    ) -> list[OnCallShift]:
        what = "GET /v2/schedules/{identifier}/timeline"
        days = min(TIMELINE_DAYS_MAX, max(1, math.ceil((until - since).total_seconds() / 86400)))
        params = {
            "identifierType": "id",
            "interval": str(days),
            "intervalUnit": "days",
            "date": iso_utc(since),
        }
        path = f"/v2/schedules/{_segment(schedule_id)}/timeline"
        response = send(
            PROVIDER, what, lambda: self._client.get(path, params=params, headers=self._headers)
        )
        body = json_body(PROVIDER, what, response)
        data = body.get("data") if isinstance(body, dict) else None
        timeline = data.get("finalTimeline") if isinstance(data, dict) else None
        if not isinstance(timeline, dict):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without a final timeline")
        shifts: list[OnCallShift] = []
        for rotation in _list(timeline.get("rotations")):
            for period in _list(rotation.get("periods")):
                if _is_recipient(period, email):
                    shifts.append(
                        OnCallShift(
                            person=OnCallPerson(name=email, email=email),
                            start=parse_time(period.get("startDate")),
                            end=parse_time(period.get("endDate")),
                            schedule=name,
                        )
                    )
        return shifts

    def _get(self, path: str, what_name: str) -> dict[str, Any]:
        what = f"GET /v2/schedules/{{identifier}}/{what_name}"
        params = {"scheduleIdentifierType": "name", "flat": "true"}
        response = send(
            PROVIDER, what, lambda: self._client.get(path, params=params, headers=self._headers)
        )
        body = json_body(PROVIDER, what, response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without data")
        return data

    def page(self, request: PageRequest) -> PageResult:
        if request.target.kind != "schedule":
            raise ProviderRejected(PROVIDER, f"cannot page a {request.target.kind!r} target")
        body: dict[str, Any] = {
            "message": request.title[:130],
            "alias": request.dedup_key[:512],
            "description": request.details[:15000],
            "responders": [{"type": "schedule", "name": request.target.id}],
            "tags": ["platform-bot", f"service:{request.service_name}"],
            "source": "platform-bot",
        }
        if request.requester_email:
            body["user"] = request.requester_email
        what = "POST /v2/alerts"
        headers = {**self._headers, "Content-Type": "application/json"}
        response = send(
            PROVIDER, what, lambda: self._client.post("/v2/alerts", json=body, headers=headers)
        )
        answer = json_body(PROVIDER, what, response)
        request_id = answer.get("requestId") if isinstance(answer, dict) else None
        return PageResult(reference=str(request_id or request.dedup_key))


def _people(recipients: Any, participants: Any) -> list[OnCallPerson]:
    """People from a flat list of usernames, else from participant objects (users only)."""
    people: list[OnCallPerson] = []
    for entry in recipients if isinstance(recipients, list) else []:
        if isinstance(entry, str):
            people.append(OnCallPerson(name=entry, email=entry if "@" in entry else None))
        elif isinstance(entry, dict) and entry.get("type") == "user":
            people.append(_person(entry))
    if people:
        return people
    for entry in participants if isinstance(participants, list) else []:
        if isinstance(entry, dict) and entry.get("type") == "user":
            people.append(_person(entry))
        elif isinstance(entry, str):
            people.append(OnCallPerson(name=entry, email=entry if "@" in entry else None))
    return people


def _person(entry: dict[str, Any]) -> OnCallPerson:
    name = str(entry.get("name") or entry.get("id") or "someone")
    return OnCallPerson(name=name, email=name if "@" in name else None, provider_id=entry.get("id"))


def _segment(value: str) -> str:
    """A schedule name as one URL path segment (names may contain spaces)."""
    if not value or len(value) > 200:
        raise ProviderRejected(PROVIDER, "a schedule name must be 1-200 characters")
    return quote(value, safe="")


def _list(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _is_recipient(period: dict[str, Any], email: str) -> bool:
    """Whether `email` is on call in the period: its user recipient, or (a team's or an
    escalation's period) one of the users it flattens to."""
    recipient = period.get("recipient")
    people = [recipient] if isinstance(recipient, dict) else []
    people += _list(period.get("flattenedRecipients"))
    return any(
        p.get("type") == "user" and str(p.get("name") or "").casefold() == email for p in people
    )
