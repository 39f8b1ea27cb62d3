"""The lookup service: ownership, on-call and search over the catalog, without Slack or HTTP.

- `lookups`: `LookupService`, what the handlers and jobs call (and its lifecycle);
- `types`: the data it answers with; `links`: an entity's links and catalog page;
- `resolve`: which entity typed text names;
- `catalog_index`: the index in the database, refreshed from the catalog provider;
  `index_rows`: what a refresh writes; `read_model`: the index in memory;
- `catalog_search`, `search_query`, `search_index`: `/platform catalog` searches;
- `oncall`: who is on call, through the provider and a short cache.

Nothing here imports slack_sdk, slack_bolt or httpx, even indirectly (an import contract in
pyproject.toml checks it).
"""
