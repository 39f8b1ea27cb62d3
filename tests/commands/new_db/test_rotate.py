"""Re-issuing credentials on the app database, SQLite and PostgreSQL (the `engine` fixture):
who may, which resources, once per confirmation, and what the job does and says.

Jobs run in the test's thread; provisioners are in-memory fakes that keep the password set.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.core.audit import AuditLog, AuditRecord
from bot.core.config import PolicyRule
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.core.identity import Principal
from bot.core.jobs.model import Job
from bot.core.policy import Policy
from commands.new_db.models import DbCredentialDrop, DbRequest, Decision
from commands.new_db.service.rotations import NEEDS_APPROVAL, RotationService
from commands.new_db.service.types import ResourceInfo
from integrations.errors import ProviderUnavailable
from tests.commands.new_db.conftest import example_config
from tests.commands.new_db.harness import ALICE, BOB, CAROL, Harness, form, person

GUEST = replace(BOB, is_guest=True)


def _active(harness: Harness, name: str = "orders-db", **changes: object) -> ResourceInfo:
    created = harness.feature.service.submit(BOB, form(name, **changes), idempotency_key=name)
    harness.run_jobs()
    resource = harness.feature.service.resource(created.request.resource.id)
    assert resource.status == "active"
    return resource


def _rotations(harness: Harness) -> int:
    return harness.count(DbRequest, DbRequest.action == "db.rotate")


def test_the_owner_finds_their_resource_and_nothing_changes_before_confirming(
    harness: Harness,
) -> None:
    resource = _active(harness)
    password = harness.provisioners["postgres"].passwords["orders-db"]

    found = harness.feature.rotations.find_rotatable(BOB, "orders-db")

    assert found.id == resource.id
    assert harness.provisioners["postgres"].passwords["orders-db"] == password
    assert _rotations(harness) == 0


@pytest.mark.parametrize("who", [CAROL, ALICE], ids=["teammate-lead", "admin"])
def test_someone_else_is_told_only_the_owner_can(harness: Harness, who: Principal) -> None:
    resource = _active(harness)
    rotations = harness.feature.rotations
    refusal = "Only the person who requested orders-db can re-issue its credentials."

    with pytest.raises(NotAllowed) as found:
        rotations.find_rotatable(who, "orders-db")
    with pytest.raises(NotAllowed) as confirmed:
        rotations.request_rotation(who, resource.id, idempotency_key="v1")

    assert found.value.message == confirmed.value.message == refusal
    assert _rotations(harness) == 0
    assert harness.count(AuditRecord, AuditRecord.action == "db.rotate") == 1  # the rejection


def test_a_guest_is_refused_by_the_policy(harness: Harness) -> None:
    resource = _active(harness)

    with pytest.raises(NotAllowed):
        harness.feature.rotations.find_rotatable(GUEST, "orders-db")
    with pytest.raises(NotAllowed):
        harness.feature.rotations.request_rotation(GUEST, resource.id, idempotency_key="v1")
    assert _rotations(harness) == 0


@pytest.mark.parametrize(
    "rule",
    [
        {"require_reason": True},
        {"approval": {"approvers": ["role:admin"], "count": 1}},
    ],
    ids=["reason", "approval"],
)
def test_a_rule_asking_for_what_re_issuing_does_not_take_refuses_it(
    harness: Harness, tmp_path: Path, rule: dict[str, Any]
) -> None:
    resource = _active(harness)
    config = example_config(tmp_path)
    asking = PolicyRule.model_validate({"action": "db.rotate", "allow": ["everyone"], **rule})
    policy = Policy(config.model_copy(update={"policies": [asking, *config.policies]}))
    rotations = RotationService(
        service=harness.feature.service,
        sessions=harness.sessions,
        policy=policy,
        audit=AuditLog(harness.sessions),
        notifier=harness.notifier,
    )

    with pytest.raises(NotAllowed) as found:
        rotations.find_rotatable(BOB, "orders-db")
    with pytest.raises(NotAllowed) as confirmed:
        rotations.request_rotation(BOB, resource.id, idempotency_key="v1")

    assert found.value.message == confirmed.value.message == NEEDS_APPROVAL
    assert _rotations(harness) == 0


def test_an_unknown_name_is_not_found_and_the_names_one_has_are_suggested(
    harness: Harness,
) -> None:
    _active(harness)

    with pytest.raises(NotFound) as unknown:
        harness.feature.rotations.find_rotatable(BOB, "orders")
    with pytest.raises(NotFound):
        harness.feature.rotations.find_rotatable(person("U0DAVE", teams={"search"}), "orders-db")

    assert unknown.value.message == "You have no active resource named orders."
    assert unknown.value.suggestions == ["orders-db"]


def test_a_resource_not_active_is_refused_while_provisioning_and_after_a_drop(
    harness: Harness,
) -> None:
    service, rotations = harness.feature.service, harness.feature.rotations
    created = service.submit(BOB, form("fresh-db"), idempotency_key="c")
    with pytest.raises(Conflict) as provisioning:
        rotations.find_rotatable(BOB, "fresh-db")
    assert provisioning.value.message == (
        "fresh-db is provisioning; its credentials can be re-issued only while it is active."
    )
    harness.run_jobs()
    harness.feature.drops.request_drop(
        BOB, created.request.resource.id, typed_name="fresh-db", reason=None, idempotency_key="d"
    )
    with pytest.raises(Conflict, match="fresh-db is dropping"):
        rotations.find_rotatable(BOB, "fresh-db")
    with pytest.raises(Conflict, match="only while it is active"):
        rotations.request_rotation(BOB, created.request.resource.id, idempotency_key="v1")
    harness.run_jobs()
    with pytest.raises(NotFound):
        rotations.find_rotatable(BOB, "fresh-db")
    assert _rotations(harness) == 0


def test_sqlite_has_no_password_to_re_issue(harness: Harness) -> None:
    resource = _active(harness, "local-db", engine="sqlite")
    said = "SQLite databases have no password; there is nothing to re-issue."

    with pytest.raises(Conflict) as found:
        harness.feature.rotations.find_rotatable(BOB, "local-db")
    with pytest.raises(Conflict) as confirmed:
        harness.feature.rotations.request_rotation(BOB, resource.id, idempotency_key="v1")

    assert found.value.message == confirmed.value.message == said
    assert _rotations(harness) == 0


def test_confirming_twice_records_one_request_and_one_job(harness: Harness) -> None:
    resource = _active(harness)
    rotations = harness.feature.rotations

    first = rotations.request_rotation(BOB, resource.id, idempotency_key="db.rotate:V1")
    again = rotations.request_rotation(BOB, resource.id, idempotency_key="db.rotate:V1")

    assert again.duplicate and again.request.id == first.request.id
    assert first.request.status == "approved" and first.request.action == "db.rotate"
    assert _rotations(harness) == 1
    assert harness.count(Job, Job.kind == "db.rotate") == 1
    requested = (AuditRecord.action == "db.rotate", AuditRecord.outcome == "requested")
    assert harness.count(AuditRecord, *requested) == 1
    with pytest.raises(Conflict, match="already being issued"):
        rotations.request_rotation(BOB, resource.id, idempotency_key="db.rotate:V2")
    rotations.announce(first)
    rotations.announce(again)
    told = [s for s in harness.notifier.said if s[0] == "tell U0BOB"]
    assert told == [("tell U0BOB", "Re-issuing credentials for orders-db…")]


def test_a_prod_database_is_re_issued_at_once_without_approvals(harness: Harness) -> None:
    created = harness.feature.service.submit(
        BOB,
        form("ledger", tier="prod", plan="large", ttl_hours=None, reason="launch"),
        idempotency_key="c",
    )
    for approver in (CAROL, ALICE):
        harness.feature.approvals.decide(approver, created.request.id, Decision.APPROVE)
    harness.run_jobs()
    resource_id = created.request.resource.id

    rotating = harness.feature.rotations.request_rotation(BOB, resource_id, idempotency_key="v1")

    assert (rotating.request.status, rotating.request.approvals_needed) == ("approved", 0)
    assert harness.run_jobs() == 2  # the re-issue, then the hand-off DM
    assert harness.count(DbRequest, DbRequest.status == "completed") == 2


def test_the_job_sets_a_new_password_and_offers_a_new_reveal(harness: Harness) -> None:
    resource = _active(harness)
    fake = harness.provisioners["postgres"]
    first = harness.feature.reveals.reveal(BOB, resource.id).credentials["password"]
    assert fake.passwords["orders-db"] == first

    harness.feature.rotations.request_rotation(BOB, resource.id, idempotency_key="v1")
    assert harness.run_jobs() == 2  # the re-issue, then the hand-off DM

    assert fake.passwords["orders-db"] != first
    assert fake.calls.count(("create_user", "orders-db")) == 2
    assert ("reveal offer", resource.id) in harness.notifier.said
    shown = harness.feature.reveals.reveal(BOB, resource.id).credentials
    assert shown["password"] == fake.passwords["orders-db"]
    assert harness.count(DbRequest, DbRequest.status == "completed") == 2
    succeeded = (AuditRecord.action == "db.rotate", AuditRecord.outcome == "succeeded")
    assert harness.count(AuditRecord, *succeeded) == 1
    assert harness.run_jobs() == 0


def test_a_waiting_reveal_is_replaced_by_the_new_credentials(harness: Harness) -> None:
    resource = _active(harness)
    fake = harness.provisioners["postgres"]

    harness.feature.rotations.request_rotation(BOB, resource.id, idempotency_key="v1")
    harness.run_jobs()

    assert harness.count(DbCredentialDrop) == 1
    offers = [s for s in harness.notifier.said if s == ("reveal offer", resource.id)]
    assert len(offers) == 2  # the first DM, and the re-issue's
    shown = harness.feature.reveals.reveal(BOB, resource.id).credentials
    assert shown["password"] == fake.passwords["orders-db"]


def test_a_server_down_fails_the_job_and_says_the_old_password_still_works(
    harness: Harness,
) -> None:
    resource = _active(harness)
    fake = harness.provisioners["postgres"]
    password = fake.passwords["orders-db"]
    harness.feature.rotations.request_rotation(BOB, resource.id, idempotency_key="v1")
    fake.available = False

    harness.run_jobs()  # one attempt in the tests' config

    assert fake.passwords["orders-db"] == password
    told = [text for what, text in harness.notifier.said if what == "tell U0BOB"]
    assert told[-1].startswith("Re-issuing the credentials of PostgreSQL `orders-db` failed:")
    assert told[-1].endswith("The password was not changed: the old credentials still work.")
    assert harness.count(DbRequest, DbRequest.status == "failed") == 1
    failed = (AuditRecord.action == "db.rotate", AuditRecord.outcome == "failed")
    assert harness.count(AuditRecord, *failed) == 1
    assert harness.feature.service.resource(resource.id).status == "active"


def test_a_password_set_but_not_stored_says_the_old_one_stopped_working(
    harness: Harness,
) -> None:
    resource = _active(harness)
    fake = harness.provisioners["postgres"]
    harness.feature.rotations.request_rotation(BOB, resource.id, idempotency_key="v1")
    fake.fail_next("credentials", ProviderUnavailable("postgres", "connection lost"))

    harness.run_jobs()

    told = [text for what, text in harness.notifier.said if what == "tell U0BOB"]
    assert told[-1].endswith(
        "The password was changed, but the new credentials could not be handed over, so the "
        "old ones no longer work: run `/platform db-credentials orders-db` again."
    )
