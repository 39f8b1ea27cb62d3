"""The NPS fan-out: who a round asks, when each DM is due, and posting what is due.

A round's audience is resolved once, into one pending `nps_delivery` row per person, due at
the start of their working hours. Reminders (to people who have not answered) and "Remind me
later" add rows of their own kinds. `send_due` hands the round's ledger to the outbox
(`surveys.delivery`), which posts each row at most once at the configured pace.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.core.db import SessionFactory, rowcount
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.core.jobs import JobQueue
from integrations.protocols import DirectoryUser, Messenger, WorkspaceRoster
from surveys.config import Campaign, SurveysSection
from surveys.delivery import REACHED, DeliveryState, DmOutbox, post_admin_notice
from surveys.nps.ids import JobKind
from surveys.nps.models import NpsDelivery, NpsRespondent, NpsRound
from surveys.nps.service.ledger import (
    NOT_SENT,
    RoundDeliveries,
    insert_deliveries,
    recover_stale,
    was_invited,
)
from surveys.nps.service.types import CampaignCatalog, NpsMessages, RoundRef, describe_audience
from surveys.schedule import next_working_moment, zone

logger = logging.getLogger(__name__)

SNOOZE = timedelta(hours=4)


class FanOutService:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        config: SurveysSection,
        catalog: CampaignCatalog,
        roster: WorkspaceRoster,
        outbox: DmOutbox,
        messenger: Messenger,
        jobs: JobQueue,
        messages: NpsMessages,
        clock: Callable[[], datetime],
        worker_id: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._hours = config.delivery.working_hours
        self._admin_channel = config.admin_channel
        self._catalog = catalog
        self._roster = roster
        self._outbox = outbox
        self._messenger = messenger
        self._jobs = jobs
        self._messages = messages
        self._clock = clock
        self._worker = worker_id or uuid.uuid4().hex[:12]

    # -- who, and when ----------------------------------------------------------------------

    def prepare_round(self, round_id: int) -> int:
        """Resolve the audience and create one pending invitation per person; returns how many."""
        with self._sessions() as session:
            round_ = session.get(NpsRound, round_id)
            if round_ is None:
                raise NotFound(f"NPS round {round_id} does not exist.")
            campaign = self._catalog.find(round_.campaign)
            opened_at, number = round_.opened_at, round_.number
        if campaign is None:
            logger.warning("NPS round %d: campaign no longer configured; no fan-out", round_id)
            return 0
        rows = [
            _pending(
                round_id,
                person.id,
                "invite",
                person.tz,
                next_working_moment(opened_at, zone(person.tz, campaign.timezone), self._hours),
            )
            for person in audience_of(self._roster, campaign)
        ]
        with self._sessions.begin() as session:
            insert_deliveries(session, rows)
            session.execute(
                update(NpsRound).where(NpsRound.id == round_id).values(audience_size=len(rows))
            )
        if not rows:
            self.notify_admins(
                f"The NPS campaign `{campaign.name}` has an empty audience "
                f"({describe_audience(campaign)}): round {number} reached nobody. "
                "Check the audience in the platform config."
            )
        logger.info("NPS round %d: %d recipient(s)", round_id, len(rows))
        return len(rows)

    def plan_reminders(self) -> None:
        """Queue each open round's next reminder once it is due (part of the leader's tick)."""
        now = self._clock()
        with self._sessions() as session:
            candidates = session.scalars(
                select(NpsRound).where(
                    NpsRound.closes_at > now,
                    NpsRound.reminders_sent < NpsRound.reminders_planned,
                    NpsRound.audience_size.is_not(None),
                )
            ).all()
        for round_ in candidates:
            number = round_.reminders_sent + 1
            due = round_.opened_at + timedelta(hours=round_.reminder_every_hours * number)
            if due > now or due >= round_.closes_at:
                continue
            try:
                self._plan_reminder(round_.id, number, now)
            except Exception:
                logger.exception("NPS round %d: could not plan reminder %d", round_.id, number)

    def _plan_reminder(self, round_id: int, number: int, now: datetime) -> None:
        kind = f"reminder-{number}"
        with self._sessions.begin() as session:
            claimed = session.execute(
                update(NpsRound)
                .where(NpsRound.id == round_id, NpsRound.reminders_sent == number - 1)
                .values(reminders_sent=number)
            )
            if rowcount(claimed) != 1:
                return  # another tick planned it
            answered = select(NpsRespondent.user_id).where(NpsRespondent.round_id == round_id)
            invited = session.execute(
                select(NpsDelivery.user_id, NpsDelivery.tz).where(
                    NpsDelivery.round_id == round_id,
                    NpsDelivery.kind == "invite",
                    NpsDelivery.state.in_(list(REACHED)),
                    NpsDelivery.user_id.not_in(answered),
                )
            ).all()
            fallback = self._round_zone(session, round_id)
            rows = [
                _pending(
                    round_id,
                    user_id,
                    kind,
                    tz,
                    next_working_moment(now, zone(tz, fallback), self._hours),
                )
                for user_id, tz in invited
            ]
            insert_deliveries(session, rows)
            self._enqueue_send(session, round_id, now, label=kind)
        logger.info("NPS round %d: reminder %d planned for %d people", round_id, number, len(rows))

    def snooze(self, round_id: int, user_id: str) -> datetime:
        """ "Remind me later": one more invitation after a few working hours."""
        now = self._clock()
        with self._sessions.begin() as session:
            round_ = _open_round_row(session, round_id, now)
            if not was_invited(session, round_id, user_id):
                raise NotAllowed(NOT_SENT)
            tz = session.scalar(
                select(NpsDelivery.tz).where(
                    NpsDelivery.round_id == round_id, NpsDelivery.user_id == user_id
                )
            )
            fallback = self._round_zone(session, round_id)
            send_after = next_working_moment(now + SNOOZE, zone(tz, fallback), self._hours)
            if send_after >= round_.closes_at:
                send_after = max(now, round_.closes_at - timedelta(hours=1))
            row = _pending(round_id, user_id, "snooze", tz, send_after)
            if not insert_deliveries(session, [row]):
                existing = session.scalar(
                    select(NpsDelivery.send_after).where(
                        NpsDelivery.round_id == round_id,
                        NpsDelivery.user_id == user_id,
                        NpsDelivery.kind == "snooze",
                    )
                )
                return existing or send_after
            self._enqueue_send(session, round_id, send_after, label="snooze")
        return send_after

    def _round_zone(self, session: Session, round_id: int) -> ZoneInfo:
        name = session.scalar(select(NpsRound.campaign).where(NpsRound.id == round_id))
        return self._catalog.zone_of(name or "")

    # -- posting ----------------------------------------------------------------------------

    def recover_stale(self, round_id: int, *, taken_over: bool = False) -> int:
        """Rows left `sending` by a sender that died: outcome unknown, never posted again.
        `taken_over`: this run resumes a fan-out whose last runner stopped, so every row
        another sender holds is one it left."""
        mine = self._worker if taken_over else None
        with self._sessions.begin() as session:
            count = recover_stale(session, round_id, self._clock(), taken_over_from_others=mine)
        if count:
            logger.warning(
                "NPS round %d: %d DM(s) may or may not have been posted before a restart; "
                "they are not posted again (reminders still reach them)",
                round_id,
                count,
            )
        return count

    def send_due(self, round_id: int, *, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Post every due pending DM of the round, paced to the configured rate."""
        with self._sessions() as session:
            row = session.get(NpsRound, round_id)
            if row is None:
                return
            round_ = RoundRef.of(row)
        ledger = RoundDeliveries(
            sessions=self._sessions,
            round_=round_,
            messages=self._messages,
            clock=self._clock,
            worker=self._worker,
        )
        self._outbox.drain(ledger, should_stop=should_stop)

    def next_pending(self, round_id: int) -> datetime | None:
        with self._sessions() as session:
            return session.scalar(
                select(func.min(NpsDelivery.send_after)).where(
                    NpsDelivery.round_id == round_id,
                    NpsDelivery.state == DeliveryState.PENDING,
                )
            )

    def schedule_rest(self, round_id: int) -> datetime | None:
        """Queue a fan-out for when the next pending DM is due (someone's working day)."""
        at = self.next_pending(round_id)
        if at is not None:
            with self._sessions.begin() as session:
                self._enqueue_send(session, round_id, at, label="due")
        return at

    def _enqueue_send(self, session: Session, round_id: int, at: datetime, *, label: str) -> None:
        self._jobs.enqueue(
            kind=JobKind.FANOUT,
            payload={"round_id": round_id},
            idempotency_key=f"nps-send:{round_id}:{label}:{at:%Y%m%dT%H%M%S}",
            run_after=at,
            session=session,
        )

    # -- admins -----------------------------------------------------------------------------

    def describe_round(self, round_id: int) -> str:
        """A round as admins know it: "round 3 of `pulse`"."""
        with self._sessions() as session:
            found = session.get(NpsRound, round_id)
        return "an NPS round" if found is None else f"round {found.number} of `{found.campaign}`"

    def notify_admins(self, text: str) -> None:
        notice = self._messages.notice(text)
        post_admin_notice(self._messenger, self._admin_channel, notice, survey="NPS")


def audience_of(roster: WorkspaceRoster, campaign: Campaign) -> list[DirectoryUser]:
    """The people a campaign asks, as the workspace lists them now."""
    users = roster.all_users()
    by_id = {user.id: user for user in users}
    audience = campaign.audience
    if audience.kind == "everyone":
        ids = [user.id for user in users]
    elif audience.kind == "channel":
        ids = roster.channel_members(audience.channel or "")
    elif audience.kind == "usergroup":
        ids = roster.usergroup_members(audience.usergroup or "")
    else:
        by_email = {u.email.casefold(): u.id for u in users if u.email}
        ids = [
            by_email.get(entry.casefold(), "") if "@" in entry else entry
            for entry in audience.users
        ]
    chosen = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
    # Surveys are for people: no bots, no deactivated accounts, no guests.
    return [u for u in chosen if not (u.is_bot or u.deleted or u.is_restricted)]


def _pending(
    round_id: int, user_id: str, kind: str, tz: str | None, send_after: datetime
) -> dict[str, Any]:
    return {
        "round_id": round_id,
        "user_id": user_id,
        "kind": kind,
        "state": DeliveryState.PENDING,
        "tz": tz,
        "send_after": send_after,
    }


def _open_round_row(session: Session, round_id: int, now: datetime) -> NpsRound:
    row = session.get(NpsRound, round_id)
    if row is None:
        raise NotFound("This survey no longer exists.")
    if now >= row.closes_at:
        raise Conflict(f"This survey closed on {row.closes_at:%Y-%m-%d %H:%M} UTC.")
    return row
