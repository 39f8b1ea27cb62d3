"""`OnCallProvider` over the PagerDuty REST API v2.

Who is on call: a service (`pagerduty.com/service-id`) is first resolved to its escalation
policy (`GET /services/{id}`); then `GET /oncalls` with `escalation_policy_ids[]` or
`schedule_ids[]`, `earliest=true` and `include[]=users`, over a window from now to
`lookahead` ahead, gives the current shift (the one covering now) and the next one per
escalation level. A person's shifts: their user id from `GET /users?query=EMAIL` (the
answer is matched on the exact email), then `GET /oncalls` with `user_ids[]`, `since` and
`until` (every shift in the window, not only the earliest). Paging creates an incident
(`POST /incidents`) on the service with the request's dedup key as `incident_key`, so a
repeated request does not open a second one.
Auth: `Authorization: Token token=…`; writes also send `From:` (a PagerDuty user's email).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from integrations.errors import ProviderRejected, ProviderUnavailable
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

PROVIDER = "pagerduty"
ACCEPT = "application/vnd.pagerduty+json;version=2"
_PAGE_LIMIT = 100
Param = tuple[str, str | int | float | bool | None]
_MAX_PAGES = 10


class PagerDuty:
    name = "pagerduty"

    def __init__(
        self,
        client: httpx.Client,
        *,
        token: str,
        from_email: str | None = None,
        lookahead: timedelta = timedelta(days=14),
    ) -> None:
        self._client = client
        # The spec requires Content-Type on every call, reads included.
        self._headers = {
            "Authorization": f"Token token={token}",
            "Accept": ACCEPT,
            "Content-Type": "application/json",
        }
        self._from_email = from_email
        self._lookahead = lookahead

    def on_call(self, target: OnCallTarget, *, at: datetime) -> OnCallStatus:
        if target.kind == "service":
            policy = self.escalation_policy_of(target.id)
            key = "escalation_policy_ids[]"
        elif target.kind == "escalation_policy":
            policy, key = target.id, "escalation_policy_ids[]"
        elif target.kind == "schedule":
            policy, key = target.id, "schedule_ids[]"
        else:
            raise ProviderRejected(PROVIDER, f"cannot look up a {target.kind!r} target")
        entries = self._oncalls(
            [(key, policy), ("earliest", "true"), ("include[]", "users")],
            since=at,
            until=at + self._lookahead,
        )
        current, upcoming = _split(entries, at)
        return OnCallStatus(target=target, current=current, next=upcoming, as_of=at)

    def escalation_policy_of(self, service_id: str) -> str:
        what = "GET /services/{id}"
        response = send(
            PROVIDER,
            what,
            lambda: self._client.get(f"/services/{_path_id(service_id)}", headers=self._headers),
        )
        body = json_body(PROVIDER, what, response)
        try:
            return str(body["service"]["escalation_policy"]["id"])
        except (KeyError, TypeError):
            raise ProviderUnavailable(
                PROVIDER, f"{what} answered without an escalation policy"
            ) from None

    def shifts_for(
        self,
        *,
        email: str | None,
        slack_user_id: str | None,
        since: datetime,
        until: datetime,
    ) -> list[OnCallShift]:
        user_id = self.user_id_for(email) if email else None
        if user_id is None:
            return []
        entries = self._oncalls([("user_ids[]", user_id)], since=since, until=until)
        return within((s for e in entries if (s := _shift(e)) is not None), since, until)

    def user_id_for(self, email: str) -> str | None:
        """The id of the PagerDuty user with exactly this email (the search also matches
        names and parts of addresses), or None."""
        what = "GET /users"
        wanted = email.strip().casefold()
        response = send(
            PROVIDER,
            what,
            lambda: self._client.get(
                "/users", params={"query": wanted, "limit": _PAGE_LIMIT}, headers=self._headers
            ),
        )
        body = json_body(PROVIDER, what, response)
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without a users list")
        for user in users:
            if isinstance(user, dict) and str(user.get("email") or "").casefold() == wanted:
                return str(user.get("id") or "") or None
        return None

    def _oncalls(
        self, filters: list[Param], *, since: datetime, until: datetime
    ) -> list[dict[str, Any]]:
        what = "GET /oncalls"
        entries: list[dict[str, Any]] = []
        offset = 0
        for _ in range(_MAX_PAGES):
            params: list[Param] = [
                *filters,
                ("since", iso_utc(since)),
                ("until", iso_utc(until)),
                ("limit", _PAGE_LIMIT),
                ("offset", offset),
            ]
            response = send(
                PROVIDER,
                what,
                lambda p=params: self._client.get(  # type: ignore[misc]
                    "/oncalls", params=p, headers=self._headers
                ),
            )
            body = json_body(PROVIDER, what, response)
            if not isinstance(body, dict) or not isinstance(body.get("oncalls"), list):
                raise ProviderUnavailable(PROVIDER, f"{what} answered without an oncalls list")
            entries.extend(e for e in body["oncalls"] if isinstance(e, dict))
            if not body.get("more"):
                break
            offset += _PAGE_LIMIT
        return entries

    def page(self, request: PageRequest) -> PageResult:
        if request.target.kind != "service":
            raise ProviderRejected(
                PROVIDER,
                "paging needs a PagerDuty service: add the pagerduty.com/service-id "
                "annotation to the component",
            )
        sender = request.requester_email or self._from_email
        if not sender:
            raise ProviderRejected(PROVIDER, "paging needs a From email (oncall.pagerduty.from)")
        body = {
            "incident": {
                "type": "incident",
                "title": request.title[:1024],
                "service": {"id": request.target.id, "type": "service_reference"},
                "incident_key": request.dedup_key,
                "body": {
                    "type": "incident_body",
                    "details": {"reason": request.details, "service": request.service_name},
                },
            }
        }
        what = "POST /incidents"
        headers = {**self._headers, "From": sender}
        response = send(
            PROVIDER, what, lambda: self._client.post("/incidents", json=body, headers=headers)
        )
        incident = (json_body(PROVIDER, what, response) or {}).get("incident") or {}
        return PageResult(
            reference=str(incident.get("id") or incident.get("incident_number") or "incident"),
            url=incident.get("html_url"),
        )


def _split(
    entries: list[dict[str, Any]], at: datetime
) -> tuple[tuple[OnCallShift, ...], tuple[OnCallShift, ...]]:
    """Shifts covering `at` (by level), and for each level the first one starting later."""
    current: list[OnCallShift] = []
    upcoming: dict[int, OnCallShift] = {}
    for entry in entries:
        shift = _shift(entry)
        if shift is None:
            continue
        if shift.start is None or shift.start <= at:
            if shift.end is None or shift.end > at:
                current.append(shift)
        else:
            known = upcoming.get(shift.level)
            if known is None or (known.start is not None and shift.start < known.start):
                upcoming[shift.level] = shift
    current.sort(key=lambda s: (s.level, s.person.name))
    return tuple(current), tuple(upcoming[level] for level in sorted(upcoming))


def _shift(entry: dict[str, Any]) -> OnCallShift | None:
    user = entry.get("user")
    if not isinstance(user, dict):
        return None
    person = OnCallPerson(
        name=str(user.get("name") or user.get("summary") or user.get("id") or "someone"),
        email=user.get("email"),
        provider_id=user.get("id"),
    )
    level = entry.get("escalation_level")
    return OnCallShift(
        person=person,
        start=parse_time(entry.get("start")),
        end=parse_time(entry.get("end")),
        level=level if isinstance(level, int) else 1,
        schedule=_summary(entry.get("schedule")) or _summary(entry.get("escalation_policy")),
    )


def _summary(reference: Any) -> str | None:
    """The name a reference (schedule, escalation policy) carries, if any."""
    if not isinstance(reference, dict):
        return None
    name = reference.get("name") or reference.get("summary")
    return str(name) if name else None


def _path_id(value: str) -> str:
    # PagerDuty ids are short alphanumerics; anything else never reaches the URL.
    if not value.isalnum() or len(value) > 32:
        raise ProviderRejected(PROVIDER, f"{value!r} is not a PagerDuty id")
    return value
