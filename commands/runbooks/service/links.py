"""The runbooks of a catalog entity, for its service card (`Core.runbooks`).

A runbook's `service:` names its entity as people write it: `orders-api` (any entity of that
name), `default/orders-api`, or the whole ref `component:default/orders-api`; case does not
matter, and a ref without a namespace is in `default`.
"""

from __future__ import annotations

from bot.core.identity import Principal
from bot.core.runbook_links import RunbookLink
from commands.runbooks.service.runs import RunbookRuns


def names_entity(service: str, entity_ref: str) -> bool:
    """Whether a runbook's `service:` value names the entity `entity_ref`."""
    kind, _, rest = entity_ref.lower().partition(":")
    namespace, _, name = rest.rpartition("/")
    namespace = namespace or "default"
    wanted = service.strip().lower()
    if ":" in wanted:
        wanted_kind, _, wanted_rest = wanted.partition(":")
        if wanted_kind != kind:
            return False
        wanted = wanted_rest if "/" in wanted_rest else f"default/{wanted_rest}"
    if "/" in wanted:
        return wanted == f"{namespace}/{name}"
    return wanted == name


class ServiceLinks:
    def __init__(self, runs: RunbookRuns) -> None:
        self._runs = runs

    def for_service(self, principal: Principal, entity_ref: str) -> list[RunbookLink]:
        """The runbooks of `entity_ref` that `principal` may run, by name."""
        return [
            RunbookLink(name=runbook.name, title=runbook.title)
            for runbook in self._runs.visible(principal)
            if runbook.service is not None and names_entity(runbook.service, entity_ref)
        ]
