"""The TechDocs of catalog entities (`backstage.io/techdocs-ref: dir:…`) are searched too."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine

from bot.core.audit import AuditLog
from bot.core.db import make_session_factory
from commands.docs.config import DocsCatalog, DocsSection
from commands.docs.feature import Docs, build_graph
from integrations.catalog_files import CatalogFiles
from integrations.errors import ProviderUnavailable
from integrations.protocols import CatalogSnapshot
from tests.clock import Clock
from tests.conftest import REPO_ROOT

SITE = "https://backstage.acme.example/docs/{namespace}/{kind}/{name}/"


def _docs(engine: Engine, catalog: Path, provider: object) -> Docs:
    sessions = make_session_factory(engine)
    return build_graph(
        section=DocsSection(catalog=DocsCatalog(path=catalog, site_url=SITE)),
        base=catalog.parent,
        sessions=sessions,
        postgres=engine.dialect.name == "postgresql",
        audit=AuditLog(sessions),
        clock=Clock(),
        catalog=provider,  # type: ignore[arg-type]
    )


class _Down:
    name = "down"

    def fetch_all(self) -> CatalogSnapshot:
        raise ProviderUnavailable("catalog files", "the disk is gone")


def test_an_entitys_techdocs_are_found_with_its_title_and_docs_link(
    docs_engine: Engine, tmp_path: Path
) -> None:
    catalog = Path(shutil.copytree(REPO_ROOT / "examples" / "catalog", tmp_path / "catalog"))
    docs = _docs(docs_engine, catalog, CatalogFiles(catalog))
    outcome = docs.index.refresh()
    assert outcome.added >= 1
    [hit] = docs.index.search("partial refunds idempotency").hits[:1]
    assert hit.title == "Payments API"
    assert hit.breadcrumb == "Payments API"
    assert hit.url == "https://backstage.acme.example/docs/default/component/payments-api/"

    # The catalog unreachable: its docs stay searchable, and the problem is recorded.
    down = _docs(docs_engine, catalog, _Down())
    outcome = down.index.refresh()
    assert any("catalog unavailable" in p.problem for _, p in outcome.problems)
    assert down.index.search("refunds").hits

    # The annotation removed: the entity's pages go at the next refresh.
    info = catalog / "payments-api" / "catalog-info.yaml"
    info.write_text(info.read_text().replace("backstage.io/techdocs-ref: dir:.", ""))
    docs.index.refresh()
    assert docs.index.search("refunds").hits == []
