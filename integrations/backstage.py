"""`CatalogProvider` over the Backstage catalog REST API (`<backend>/api/catalog`).

Reads every entity matching the configured filters with `GET /entities/by-query`, following
`pageInfo.nextCursor` until it is absent (on later pages only the cursor and limit are sent,
as the API ignores filters there). Auth is a static external-access token sent as
`Authorization: Bearer …`. Entities that fail validation come back as problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from integrations.catalog_model import EntityInvalid, parse_entity
from integrations.errors import ProviderUnavailable
from integrations.http_errors import json_body, send
from integrations.protocols import CatalogEntity, CatalogProblem, CatalogSnapshot

PROVIDER = "backstage"
DEFAULT_FILTERS = (
    "kind=component",
    "kind=api",
    "kind=resource",
    "kind=system",
    "kind=domain",
    "kind=group",
    "kind=user",
)
# A catalog that keeps handing out cursors is broken; stop rather than loop forever.
MAX_PAGES = 10_000


class BackstageCatalog:
    """Entities from a Backstage catalog. `client` carries the base URL and timeouts."""

    name = "backstage"

    def __init__(
        self,
        client: httpx.Client,
        *,
        token: str | None,
        filters: Sequence[str] = DEFAULT_FILTERS,
        page_size: int = 500,
    ) -> None:
        self._client = client
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._filters = list(filters)
        self._page_size = page_size

    def fetch_all(self) -> CatalogSnapshot:
        entities: list[CatalogEntity] = []
        problems: list[CatalogProblem] = []
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("limit", self._page_size),
            ("totalItems", "exclude"),
            *(("filter", value) for value in self._filters),
        ]
        for page in range(1, MAX_PAGES + 1):
            body = self._page(params)
            for item in body.get("items") or []:
                source = _source(item)
                try:
                    entities.append(parse_entity(item, source=source))
                except EntityInvalid as exc:
                    problems.append(CatalogProblem(source, str(exc)))
            cursor = (body.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                return CatalogSnapshot(entities=tuple(entities), problems=tuple(problems))
            params = [("limit", self._page_size), ("cursor", str(cursor))]
            if page == MAX_PAGES:
                break
        raise ProviderUnavailable(PROVIDER, f"the catalog kept paging past {MAX_PAGES} pages")

    def _page(self, params: list[tuple[str, str | int | float | bool | None]]) -> dict[str, Any]:
        what = "GET /entities/by-query"
        response = send(
            PROVIDER,
            what,
            lambda: self._client.get("/entities/by-query", params=params, headers=self._headers),
        )
        body = json_body(PROVIDER, what, response)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ProviderUnavailable(PROVIDER, f"{what} answered without an items list")
        return body


def _source(item: Any) -> str:
    if isinstance(item, dict):
        meta = item.get("metadata") or {}
        if isinstance(meta, dict):
            location = (meta.get("annotations") or {}).get("backstage.io/managed-by-location")
            ref = f"{item.get('kind')}:{meta.get('namespace', 'default')}/{meta.get('name')}"
            return f"{ref} ({location})" if location else ref
    return "an item of the catalog's answer"
