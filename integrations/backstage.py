"""`CatalogProvider` over the Backstage catalog REST API (`<backend>/api/catalog`).

Reads every entity matching the configured filters with `GET /entities/by-query`, following
`pageInfo.nextCursor` until it is absent (on later pages only the cursor and limit are sent,
as the API ignores filters there). Auth is a static external-access token sent as
`Authorization: Bearer …`. Entities that fail validation come back as problems.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from integrations.catalog_model import EntityInvalid, parse_entity
from integrations.catalog_units import DUPLICATE, CatalogUnit, KnownUnit, digest
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
        for item in self._items():
            source = _source(item)
            try:
                entities.append(parse_entity(item, source=source))
            except EntityInvalid as exc:
                problems.append(CatalogProblem(source, str(exc)))
        return CatalogSnapshot(entities=tuple(entities), problems=tuple(problems))

    def fetch_units(self, known: Mapping[str, KnownUnit]) -> list[CatalogUnit]:
        """Each entity as a unit keyed by its reference. The whole list is still fetched
        (the API cannot list only what changed); an entity whose `metadata.etag` (or, without
        one, its content) is unchanged is not parsed."""
        units: dict[str, CatalogUnit] = {}
        for item in self._items():
            key, etag = _identity(item)
            previous = known.get(key)
            if key in units:
                copy = f"{key}#{len(units)}"
                units[copy] = _second_copy(copy, key, etag)
                continue
            if previous is not None and previous.digest == etag:
                units[key] = CatalogUnit(key, etag, changed=False)
                continue
            source = _source(item)
            try:
                found = parse_entity(item, source=source)
            except EntityInvalid as exc:
                units[key] = CatalogUnit(
                    key, etag, True, problems=(CatalogProblem(source, str(exc)),)
                )
                continue
            units[key] = CatalogUnit(key, etag, changed=True, entities=(found,))
        return list(units.values())

    def _items(self) -> Iterator[Any]:
        params: list[tuple[str, str | int | float | bool | None]] = [
            ("limit", self._page_size),
            ("totalItems", "exclude"),
            *(("filter", value) for value in self._filters),
        ]
        for page in range(1, MAX_PAGES + 1):
            body = self._page(params)
            yield from body.get("items") or []
            cursor = (body.get("pageInfo") or {}).get("nextCursor")
            if not cursor:
                return
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


def _second_copy(unit: str, ref: str, etag: str) -> CatalogUnit:
    """A unit for an entity the catalog listed twice: the index keeps the first copy."""
    problem = CatalogProblem(ref, f"{ref} came twice from the catalog; the first one is kept")
    return CatalogUnit(unit, etag, True, problems=(problem,), notes={DUPLICATE: True})


def _identity(item: Any) -> tuple[str, str]:
    """The unit key (the entity's reference as written) and digest of a catalog item."""
    meta = item.get("metadata") if isinstance(item, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    key = f"{item.get('kind') if isinstance(item, dict) else None}:" + (
        f"{meta.get('namespace', 'default')}/{meta.get('name')}"
    )
    etag = meta.get("etag")
    if isinstance(etag, str) and etag:
        # Backstage changes the etag whenever the entity changes; the index keeps 64 characters.
        return key.lower(), etag if len(etag) <= 64 else digest(etag.encode())
    return key.lower(), digest(json.dumps(item, sort_keys=True, default=str).encode())


def _source(item: Any) -> str:
    if isinstance(item, dict):
        meta = item.get("metadata") or {}
        if isinstance(meta, dict):
            location = (meta.get("annotations") or {}).get("backstage.io/managed-by-location")
            ref = f"{item.get('kind')}:{meta.get('namespace', 'default')}/{meta.get('name')}"
            return f"{ref} ({location})" if location else ref
    return "an item of the catalog's answer"
