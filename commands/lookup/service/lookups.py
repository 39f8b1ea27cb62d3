"""Ownership, on-call and service lookups, answered from the in-memory catalog read model.

Lookups read `self._model`, a `ReadModel` that is replaced whole (one reference swap) after
a refresh, so they never wait on the catalog or the database. A background thread loads the
model at startup, refreshes the index when it is missing or old, and reloads whenever
another process has refreshed it (the newest `catalog_refresh` id moved).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.core.audit import AuditLog, Outcome
from bot.core.db import utcnow
from bot.core.errors import InvalidInput, PlatformError, Unavailable
from bot.core.identity import IdentityService, Principal
from commands.lookup.service.catalog_index import CatalogIndex, RefreshOutcome
from commands.lookup.service.catalog_search import search_catalog
from commands.lookup.service.links import catalog_url, classify_links
from commands.lookup.service.oncall import OnCallDirectory, target_for
from commands.lookup.service.read_model import IndexedEntity, ReadModel
from commands.lookup.service.resolve import check_query, find_entity
from commands.lookup.service.types import (
    ONCALL_KINDS,
    SERVICE_KINDS,
    OnCall,
    OnCallResult,
    Ownership,
    PageOutcome,
    PagePreview,
    Person,
    SearchResult,
    ServiceCard,
    Shift,
    Team,
)
from integrations.errors import IntegrationError, ProviderRejected
from integrations.protocols import OnCallPerson, OnCallShift, OnCallTarget, PageRequest

logger = logging.getLogger(__name__)

PAGE_ACTION = "oncall.page"
REFRESH_ACTION = "catalog.refresh"
MAX_MEMBERS_SHOWN = 8
MAX_REASON_LENGTH = 500


class LookupService:
    def __init__(
        self,
        *,
        index: CatalogIndex,
        oncall: OnCallDirectory,
        identity: IdentityService,
        audit: AuditLog,
        team_channels: Mapping[str, str],
        ui_url: str | None,
        refresh_interval: timedelta,
        reload_check_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._index = index
        self._oncall = oncall
        self._identity = identity
        self._audit = audit
        self._team_channels = dict(team_channels)
        self._ui_url = ui_url
        self._refresh_interval = refresh_interval
        self._reload_check = reload_check_seconds
        self._clock = clock
        self._model: ReadModel | None = None
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        """Set once the first load (and, if needed, the first refresh) has finished."""

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Load the index (refreshing it first if missing or old) in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="catalog-loader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            self.reload()
            model = self._model
            refreshed = model.refreshed_at if model is not None else None
            if refreshed is None or refreshed + self._refresh_interval < self._clock():
                self.refresh_quietly()
        except Exception:
            logger.exception("could not load the catalog index at startup")
        finally:
            self.ready.set()
        while not self._stop.wait(self._reload_check):
            try:
                if self._index.generation() != self.generation:
                    self._model = self._index.load_newer(self._model)
            except Exception:
                logger.exception("could not check the catalog index for changes")

    @property
    def generation(self) -> int | None:
        return None if self._model is None else self._model.generation

    def reload(self) -> None:
        self._model = self._index.load()

    def refresh(self, *, full: bool = False) -> RefreshOutcome:
        """Refresh the index from the catalog now (only what changed unless `full`) and swap
        in the new read model."""
        with self._refresh_lock:
            try:
                outcome = self._index.refresh(full=full)
            except IntegrationError as exc:
                model = self._model
                since = model.refreshed_at if model is not None else None
                kept = (
                    f" Lookups keep using the index from {since:%Y-%m-%d %H:%M} UTC."
                    if since
                    else ""
                )
                raise Unavailable(f"The catalog could not be read: {exc.message}.{kept}") from None
            model = self._model
            self._model = (
                self._index.load() if model is None else self._index.load_changes(model, outcome)
            )
            return outcome

    def refresh_quietly(self) -> None:
        """The scheduled refresh: failures are logged, the last good index stays."""
        try:
            outcome = self.refresh()
        except PlatformError as exc:
            logger.warning("scheduled catalog refresh failed: %s", exc.message)
            return
        logger.info(
            "catalog refreshed: %d entities, %d problems in %.1f s",
            outcome.entity_count,
            len(outcome.problems),
            outcome.seconds,
        )

    # --- lookups ----------------------------------------------------------------------------

    def model(self) -> ReadModel:
        model = self._model
        if model is None:
            raise Unavailable("The catalog index is still loading; try again in a few seconds.")
        return model

    def resolve(self, query: str, *, kinds: tuple[str, ...] = SERVICE_KINDS) -> IndexedEntity:
        """The one entity `query` names (a name, a title or a reference).

        NotFound (with suggestions) when nothing matches; Ambiguous when several do.
        """
        text = check_query(query, what="name")
        return find_entity(self.model(), text, kinds)

    def owner(self, query: str) -> Ownership:
        """Who owns `query`; for a team, the team itself (teams own, they are not owned)."""
        entity = self.resolve(query)
        if entity.kind == "group":
            return Ownership(entity=entity, owner=self._team(entity))
        owner, person = self._owner_of(entity)
        return Ownership(entity=entity, owner=owner, owner_person=person)

    def oncall(self, query: str, *, fetch: bool = True) -> OnCallResult:
        entity = self.resolve(query, kinds=ONCALL_KINDS)
        team = self._team(entity) if entity.kind == "group" else self._owner_of(entity)[0]
        oncall, pending = self._oncall_for(entity, fetch=fetch)
        return OnCallResult(entity=entity, team=team, oncall=oncall, pending=pending)

    def service_card(self, query: str, *, fetch: bool = True) -> ServiceCard:
        entity = self.resolve(query)
        model = self.model()
        owner, person = self._owner_of(entity)
        system = model.entities.get(entity.system) if entity.system else None
        oncall, pending = self._oncall_for(entity, fetch=fetch)
        return ServiceCard(
            entity=entity,
            owner=owner,
            owner_person=person,
            system=system.label if system else _short(entity.system),
            oncall=oncall,
            links=classify_links(entity),
            catalog_url=catalog_url(self._ui_url, entity),
            pending=pending,
        )

    def search(self, query: str, *, limit: int = 10) -> SearchResult:
        """Ranked matches for the words of `query`, narrowed by its `kind:`-style filters."""
        return search_catalog(self.model(), query, limit=limit)

    # --- paging -----------------------------------------------------------------------------

    def page_preview(self, ref: str) -> PagePreview:
        entity = self.resolve(ref, kinds=ONCALL_KINDS)
        if self._target(entity) is None:
            raise InvalidInput(
                f"`{entity.name}` has no on-call schedule in {self._oncall.provider_name}, "
                "so there is no one to page."
            )
        # Only what is cached: the preview is built while Slack waits for the modal's ack.
        oncall, _ = self._oncall_for(entity, fetch=False)
        return PagePreview(entity=entity, oncall=oncall, provider=self._oncall.provider_name)

    def page(self, *, ref: str, reason: str, requester: Principal, dedup_key: str) -> PageOutcome:
        """Page the on-call of `ref` once per `dedup_key` (the provider de-duplicates too)."""
        entity = self.resolve(ref, kinds=ONCALL_KINDS)
        target = self._target(entity)
        if target is None:
            raise InvalidInput(f"`{entity.name}` has no on-call schedule; no one was paged.")
        request = PageRequest(
            target=target,
            title=f"{entity.name}: paged from Slack by {requester.name}",
            details=check_reason(reason),
            dedup_key=dedup_key,
            requester_email=requester.email,
            service_name=entity.name,
        )
        provider = self._oncall.provider
        try:
            result = provider.page(request)
        except ProviderRejected as exc:
            raise InvalidInput(f"{provider.name} refused the page: {exc.message}") from None
        except IntegrationError as exc:
            raise Unavailable(f"{provider.name} could not be reached: {exc.message}") from None
        people = [self._person(p) for p in result.notify]
        self._audit.record(
            actor=requester.user_id,
            action=PAGE_ACTION,
            outcome=Outcome.SUCCEEDED,
            inputs={"service": entity.ref, "reason": request.details},
            idempotency_key=dedup_key,
            target=entity.ref,
            detail=f"{provider.name} {result.reference}",
        )
        return PageOutcome(
            entity=entity,
            reference=result.reference,
            url=result.url,
            provider=provider.name,
            notify_user_ids=tuple(p.slack_user_id for p in people if p.slack_user_id),
            unreachable=tuple(p.name for p in people if not p.slack_user_id),
        )

    # --- helpers ----------------------------------------------------------------------------

    def _owner_of(self, entity: IndexedEntity) -> tuple[Team | None, Person | None]:
        if entity.owner is None:
            return None, None
        owner = self.model().entities.get(entity.owner)
        if owner is None:
            kind, _, name = entity.owner.partition(":")[2].partition("/")
            channel = self._team_channels.get(name) if kind else None
            return Team(entity.owner, name, channel=channel, in_catalog=False), None
        if owner.kind == "user":
            return None, self._user(owner)
        return self._team(owner), None

    def _team(self, group: IndexedEntity) -> Team:
        model = self.model()
        member_refs = model.members.get(group.ref, ())
        members = []
        for ref in member_refs[:MAX_MEMBERS_SHOWN]:
            user = model.entities.get(ref)
            members.append(self._user(user) if user else Person(name=_short(ref) or ref))
        return Team(
            ref=group.ref,
            label=group.label,
            channel=group.annotations.get("slack.com/bot-notify", "").strip()
            or self._team_channels.get(group.name.lower()),
            members=tuple(members),
            more_members=max(0, len(member_refs) - MAX_MEMBERS_SHOWN),
        )

    def _user(self, user: IndexedEntity) -> Person:
        slack_id = user.annotations.get("slack.com/user-id")
        if not slack_id and user.email:
            slack_id = self._slack_id(user.email)
        return Person(name=user.label, slack_user_id=slack_id, email=user.email)

    def _person(self, person: OnCallPerson) -> Person:
        slack_id = person.slack_user_id
        if not slack_id and person.email:
            slack_id = self._slack_id(person.email)
        return Person(name=person.name, slack_user_id=slack_id, email=person.email)

    def _slack_id(self, email: str) -> str | None:
        try:
            return self._identity.user_for_email(email)
        except PlatformError:
            return None  # Slack's directory is down: show the name without a mention

    def _target(self, entity: IndexedEntity) -> OnCallTarget | None:
        provider = self._oncall.provider_name
        target = target_for(provider, entity)
        if target is not None or entity.owner is None:
            return target
        owner = self.model().entities.get(entity.owner)
        if owner is not None:
            return target_for(provider, owner)
        kind, _, name = entity.owner.partition(":")[2].partition("/")
        if provider == "rotation" and entity.owner.startswith("group:"):
            return OnCallTarget("rotation", name or kind)
        return None

    def _oncall_for(self, entity: IndexedEntity, *, fetch: bool) -> tuple[OnCall | None, bool]:
        provider = self._oncall.provider_name
        target = self._target(entity)
        if target is None:
            return _unconfigured(provider, self._clock()), False
        answer = self._oncall.cached(target)
        if answer is None and not fetch and not self._oncall.local:
            return None, True
        if answer is None:
            answer = self._oncall.answer(target)
        if answer is None:
            return _unconfigured(provider, self._clock()), False
        status = answer.status
        return (
            OnCall(
                provider=provider,
                schedule=status.schedule_name or target.id,
                current=tuple(self._shift(s) for s in status.current),
                next=tuple(self._shift(s) for s in status.next),
                as_of=status.as_of,
                stale=answer.stale,
                problem=answer.problem,
            ),
            False,
        )

    def _shift(self, shift: OnCallShift) -> Shift:
        return Shift(self._person(shift.person), shift.start, shift.end, shift.level)


def check_reason(reason: str) -> str:
    text = reason.strip()
    if len(text) < 3:
        raise InvalidInput("Say in a few words why you are paging.", field="reason")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(f"Keep the reason under {MAX_REASON_LENGTH} characters.", field="reason")
    return text


def _short(ref: str | None) -> str | None:
    return ref.rpartition("/")[2] if ref else None


def _unconfigured(provider: str, now: datetime) -> OnCall:
    return OnCall(provider, None, (), (), now, configured=False)
