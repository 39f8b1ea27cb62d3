"""The feature's services on the app database, SQLite and PostgreSQL (the `engine` fixture).

Jobs run in the test's thread (`JobRunner.run_once`); provisioners are in-memory fakes and
the notifier records what it would have said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from bot.core.audit import AuditRecord
from bot.core.errors import NotFound
from bot.core.identity import Principal
from commands.new_db.models import DbCredentialDrop, DbRequest, DbResource, Decision
from commands.new_db.service.reveal import Revealed
from commands.resources.forms import FormInvalid
from tests.commands.new_db.harness import (
    ALICE,
    BOB,
    CAROL,
    DIRECTORY_USERS,
    Harness,
    form,
    person,
)
from tests.concurrency import together as _together


def test_a_request_is_queued_provisioned_once_and_its_name_held(harness: Harness) -> None:
    service = harness.feature.service
    first = service.submit(BOB, form("orders-db"), idempotency_key="view-1")
    again = service.submit(BOB, form("orders-db"), idempotency_key="view-1")
    assert again.duplicate and again.request.id == first.request.id
    with pytest.raises(FormInvalid) as taken:
        service.submit(CAROL, form("orders-db"), idempotency_key="view-2")
    assert "named orders-db exists" in taken.value.errors["name"]
    assert harness.run_jobs() == 2  # provisioning, then the hand-off DM
    resource = service.resource(first.request.resource.id)
    assert resource.status == "active" and resource.expires_at is not None
    assert harness.provisioners["postgres"].calls.count(("create_resource", "orders-db")) == 1
    assert ("reveal offer", resource.id) in harness.notifier.said
    assert [r.name for r in service.visible_resources(CAROL)] == ["orders-db"]
    assert service.visible_resources(person("U0DAVE", teams={"search"})) == []
    # The request's record names what made it, for the time to provision per driver.
    with harness.sessions() as session:
        [requested] = session.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "db.create", AuditRecord.outcome == "requested"
            )
        ).all()
    assert (requested.inputs["engine"], requested.inputs["driver"]) == ("postgres", "local")


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"plan": "large", "tier": "dev"}, "plan", "not available for dev"),
        (
            {"ttl_hours": 10_000},
            "ttl",
            "Time to live: give a number of hours above 0 and at most 720",
        ),
        ({"team": "search"}, "team", "team you belong to"),
        ({"engine": "oracle"}, "engine", "engines offered"),
        ({"tier": "qa"}, "tier", "Pick one of the tiers offered."),
        (
            {"engine": "sqlite", "tier": "prod", "ttl_hours": None},
            "tier",
            "There is no SQLite plan for prod; pick another tier.",
        ),
        ({"plan": "huge"}, "plan", "Pick one of the PostgreSQL plans."),
        ({"reason": "x" * 501}, "reason", "At most 500 characters."),
        ({"tier": "prod", "plan": "large", "ttl_hours": None}, "reason", "reason is required"),
    ],
)
def test_each_guardrail_names_its_field_and_writes_nothing(
    harness: Harness, changes: dict[str, Any], field: str, text: str
) -> None:
    with pytest.raises(FormInvalid) as invalid:
        harness.feature.service.submit(BOB, form("guarded", **changes), idempotency_key="k")
    assert text in invalid.value.errors[field]
    assert harness.count(DbResource) == 0 and harness.count(AuditRecord) == 0


def test_every_field_problem_is_named_at_once_and_a_reason_of_the_maximum_passes(
    harness: Harness,
) -> None:
    service = harness.feature.service
    wrong = form("Orders_DB", team="search", ttl_hours=0, reason="x" * 501)
    with pytest.raises(FormInvalid) as invalid:
        service.submit(BOB, wrong, idempotency_key="k")
    assert list(invalid.value.errors) == ["name", "team", "ttl", "reason"]
    assert invalid.value.errors["name"].startswith("Only lowercase letters, digits and '-'")
    submitted = service.submit(BOB, form("longest-reason", reason="x" * 500), idempotency_key="j")
    assert submitted.request.reason == "x" * 500


def test_a_prod_drop_waits_for_approval_and_a_second_drop_is_refused(harness: Harness) -> None:
    service, drops = harness.feature.service, harness.feature.drops
    created = service.submit(
        BOB,
        form("ledger", tier="prod", plan="large", ttl_hours=None, reason="launch"),
        idempotency_key="c",
    )
    approvals = harness.feature.approvals
    approvals.decide(CAROL, created.request.id, Decision.APPROVE)
    approvals.decide(ALICE, created.request.id, Decision.APPROVE)
    harness.run_jobs()
    resource_id = created.request.resource.id
    dropping = drops.request_drop(
        BOB, resource_id, typed_name="ledger", reason="retired", idempotency_key="d1"
    )
    assert dropping.request.status == "pending_approval"
    assert drops.request_drop(
        BOB, resource_id, typed_name="ledger", reason="retired", idempotency_key="d1"
    ).duplicate
    with pytest.raises(FormInvalid, match="already requested"):
        drops.request_drop(
            CAROL, resource_id, typed_name="ledger", reason="x", idempotency_key="d2"
        )
    approvals.decide(CAROL, dropping.request.id, Decision.APPROVE)
    approvals.decide(ALICE, dropping.request.id, Decision.APPROVE)
    harness.run_jobs()
    assert service.resource(resource_id).status == "dropped"
    assert "ledger" not in harness.provisioners["postgres"].resources


def test_concurrent_drops_of_one_resource_record_one(harness: Harness) -> None:
    created = harness.feature.service.submit(BOB, form("racy"), idempotency_key="c")
    harness.run_jobs()
    resource_id = created.request.resource.id
    drops = harness.feature.drops

    def drop(user: Principal, key: str) -> Callable[[], Any]:
        return lambda: drops.request_drop(
            user, resource_id, typed_name="racy", reason=None, idempotency_key=key
        )

    results = _together(drop(BOB, "d1"), drop(CAROL, "d2"))
    refused = [r for r in results if isinstance(r, FormInvalid)]
    assert len(refused) == 1, results
    assert refused[0].errors["confirm_name"] in (
        "A drop of this resource is already requested.",
        "This resource is not active any more.",
    )
    assert harness.count(DbRequest, DbRequest.action == "db.drop") == 1
    assert harness.run_jobs() == 1
    assert harness.provisioners["postgres"].calls.count(("drop", "racy")) == 1


def test_concurrent_reveals_give_the_credentials_once(harness: Harness) -> None:
    created = harness.feature.service.submit(BOB, form("secret-db"), idempotency_key="c")
    harness.run_jobs()
    resource_id = created.request.resource.id
    reveals = harness.feature.reveals
    with pytest.raises(Exception, match="Only the person"):
        reveals.reveal(CAROL, resource_id)
    results = _together(*(lambda: reveals.reveal(BOB, resource_id) for _ in range(3)))
    shown = [r.credentials for r in results if isinstance(r, Revealed)]
    assert len(shown) == 1, results
    assert shown[0]["username"] and shown[0]["password"]
    assert all(
        isinstance(r, NotFound) and "already revealed" in r.message
        for r in results
        if not isinstance(r, Revealed)
    )
    assert harness.count(DbCredentialDrop) == 0


@pytest.mark.parametrize("revealed_meanwhile", [False, True])
def test_an_offer_used_while_it_was_being_posted_is_closed_by_the_hand_off(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, revealed_meanwhile: bool
) -> None:
    notifier = harness.notifier
    post = notifier.deliver_reveal

    def post_then_reveal(request: Any) -> Any:
        offer = post(request)
        if revealed_meanwhile:  # the owner clicks before the job records the offer
            harness.feature.reveals.reveal(BOB, request.resource.id)
        return offer

    monkeypatch.setattr(notifier, "deliver_reveal", post_then_reveal)
    harness.feature.service.submit(BOB, form("quick-db"), idempotency_key="q")
    harness.run_jobs()

    said = [what for what, _ in notifier.said]
    assert said.count("reveal offer") == 1
    assert said.count("revealed") == (1 if revealed_meanwhile else 0)
    assert harness.count(DbCredentialDrop) == (0 if revealed_meanwhile else 1)


def test_concurrent_submits_for_one_name_record_one_request(harness: Harness) -> None:
    service = harness.feature.service

    def submit(user: Principal, key: str) -> Callable[[], Any]:
        return lambda: service.submit(user, form("contested"), idempotency_key=key)

    results = _together(submit(BOB, "v1"), submit(CAROL, "v2"), submit(BOB, "v1"))
    refused = [r for r in results if isinstance(r, FormInvalid)]
    accepted = [r for r in results if not isinstance(r, Exception)]
    assert len(refused) + len(accepted) == 3, results
    # The two submits of one view are one request, whichever of the names' owners won.
    assert len({r.request.id for r in accepted}) == 1
    assert all("named contested exists" in r.errors["name"] for r in refused)
    assert harness.count(DbRequest) == 1
    assert harness.count(AuditRecord, AuditRecord.action == "db.create") == 1
    assert harness.run_jobs() == 2  # provisioning, then the hand-off DM


def test_a_submit_is_one_transaction_with_the_audit_append_last(
    harness: Harness, engine: Engine
) -> None:
    # The modal's ack waits for submit: one connection, one lookup for the retry, the name
    # and the quota, then the inserts (resource, request, job — with its NOTIFY on
    # PostgreSQL — and last the audit record, which takes the chain's append lock — an UPDATE
    # of no row on SQLite — and reads the chain's last link, so the lock is held only from
    # there to the commit).
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]).split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        harness.feature.service.submit(BOB, form("counted"), idempotency_key="v-count")
        first = list(statements)
        statements.clear()
        again = harness.feature.service.submit(BOB, form("counted"), idempotency_key="v-count")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    if engine.dialect.name == "sqlite":
        job, lock = ["INSERT"], "UPDATE"
    else:
        job, lock = ["INSERT", "NOTIFY"], "SELECT"
    assert first == ["SELECT", "INSERT", "INSERT", *job, lock, "SELECT", "INSERT"]
    assert again.duplicate and statements[0] == "SELECT" and "INSERT" not in statements


def test_a_retry_is_answered_even_when_its_request_used_the_last_quota_slot(
    harness: Harness,
) -> None:
    service = harness.feature.service
    limit = service.config.quotas.limit("payments", "dev")
    assert limit is not None
    submitted = [
        service.submit(BOB, form(f"quota-{n}", tier="dev"), idempotency_key=f"q{n}")
        for n in range(limit)
    ]
    with pytest.raises(FormInvalid) as over:
        service.submit(BOB, form("quota-over", tier="dev"), idempotency_key="q-over")
    assert "quota" in over.value.errors["team"]
    retry = service.submit(
        BOB, form(f"quota-{limit - 1}", tier="dev"), idempotency_key=f"q{limit - 1}"
    )
    assert retry.duplicate and retry.request.id == submitted[-1].request.id


def _prod_request(harness: Harness) -> str:
    created = harness.feature.service.submit(
        BOB,
        form("ledger", tier="prod", plan="large", ttl_hours=None, reason="launch"),
        idempotency_key="c",
    )
    return created.request.id


def _told_bob(harness: Harness) -> list[str]:
    return [text for what, text in harness.notifier.said if what == "tell U0BOB"]


def test_an_approval_with_nobody_left_to_give_the_next_tells_the_requester(
    harness: Harness,
) -> None:
    request_id = _prod_request(harness)  # two eligible: Carol (lead) and Alice (admin)
    deactivated = replace(DIRECTORY_USERS[2], deleted=True)
    harness.directory.add(deactivated)
    harness.identity.invalidate(deactivated.id)
    harness.feature.approvals.decide(CAROL, request_id, Decision.APPROVE)
    assert _told_bob(harness)[-1] == (
        "This request cannot be approved: it needs 1 more approval from the platform-team "
        "group, admins or the leads of Payments, and none of them can approve it now. "
        "Ask in #platform if you need it."
    )


def test_an_approval_with_someone_left_to_give_the_next_says_only_who_approved(
    harness: Harness,
) -> None:
    request_id = _prod_request(harness)
    harness.feature.approvals.decide(CAROL, request_id, Decision.APPROVE)
    assert len(_told_bob(harness)) == 1
    assert "1 of 2 approvals" in _told_bob(harness)[0]
