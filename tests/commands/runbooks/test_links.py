"""A runbook's `service:` names a catalog entity the way people write it, and a service card
lists the runbooks of its entity that its reader may run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import PolicyRule
from bot.core.runbook_links import RunbookLink
from commands.runbooks.service.links import names_entity
from tests.commands.runbooks.conftest import ALICE, BOB, runbook_config, start_bot

REF = "component:default/orders-api"


@pytest.mark.parametrize(
    ("service", "named"),
    [
        ("orders-api", True),
        ("Orders-API", True),
        ("default/orders-api", True),
        ("component:default/orders-api", True),
        ("component:orders-api", True),
        ("api:default/orders-api", False),
        ("other/orders-api", False),
        ("orders", False),
        ("orders-api-v2", False),
    ],
)
def test_a_service_field_names_an_entity_by_name_namespace_or_whole_ref(
    service: str, named: bool
) -> None:
    assert names_entity(service, REF) is named


def test_a_namespaced_entity_is_named_by_its_name_or_its_namespace() -> None:
    ref = "component:shop/cart"
    assert names_entity("cart", ref) and names_entity("shop/cart", ref)
    assert not names_entity("default/cart", ref) and not names_entity("component:cart", ref)


def test_a_card_lists_only_the_runbooks_its_reader_may_run(
    tmp_path: Path, migrated_schema: Path, runbook_dir: Path
) -> None:
    for name, policy in (("open", "runbook.run"), ("guarded", "runbook.admin-only")):
        (runbook_dir / f"{name}.yaml").write_text(
            f"name: {name}\ntitle: {name.title()}\nowner: payments\nservice: orders-api\n"
            f"policy: {policy}\nsteps:\n  - confirm: go?\n"
        )
    admin_only = PolicyRule(action="runbook.admin-only", allow=["role:admin"])
    with start_bot(tmp_path, migrated_schema, runbook_config(runbook_dir, admin_only)) as bot:
        relay = bot.services.parts["runbooks"].runbooks
        assert relay is not None
        identity = bot.services.identity
        assert relay.for_service(identity.principal(BOB), REF) == [RunbookLink("open", "Open")]
        assert [link.name for link in relay.for_service(identity.principal(ALICE), REF)] == [
            "guarded",
            "open",
        ]
        assert relay.for_service(identity.principal(ALICE), "component:default/payments-api") == []
