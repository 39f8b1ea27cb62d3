"""Which tests need a server: one marker per kind, so `make test-fast` can leave them out.

The markers (registered in pyproject.toml) are the `Server` names below.

A fixture that connects to a server says so with `@needs_server(...)` (under
`@pytest.fixture`); `tests/conftest.py` then marks every test that uses it, directly or
through other fixtures. A test that connects by itself carries the marker explicitly
(`@pytest.mark.redis`, or `pytestmark` for a whole module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

import pytest

Server = Literal["postgres", "mariadb", "redis", "rabbitmq", "nats", "openbao"]

_NEEDS = "__needs_servers__"
Fixture = TypeVar("Fixture", bound=Callable[..., object])


def needs_server(*servers: Server) -> Callable[[Fixture], Fixture]:
    """Declares that a fixture connects to `servers`; apply it below `@pytest.fixture`."""

    def declare(fixture: Fixture) -> Fixture:
        setattr(fixture, _NEEDS, (*getattr(fixture, _NEEDS, ()), *servers))
        return fixture

    return declare


def servers_needed(item: pytest.Item) -> set[str]:
    """The servers that the fixtures `item` uses (its whole fixture closure) declare."""
    if not isinstance(item, pytest.Function):
        return set()
    found: set[str] = set()
    for definitions in item._fixtureinfo.name2fixturedefs.values():
        # The last definition is the one this test gets (a closer one overrides).
        found.update(_declared(definitions[-1].func))
    return found


def _declared(function: object) -> Iterable[str]:
    return getattr(function, _NEEDS, ())
