"""The server markers reach every test that needs a server, and `make test-fast` skips them all."""

from __future__ import annotations

import re
import typing

import pytest

from tests.conftest import REPO_ROOT
from tests.servers import Server, needs_server

SERVERS = set(typing.get_args(Server))


@pytest.fixture
@needs_server("nats")
def pretend_nats() -> str:
    return "a fixture that would connect to NATS"


@pytest.fixture
def built_on_nats(pretend_nats: str) -> str:
    return pretend_nats


def _server_markers(node: pytest.Item) -> set[str]:
    return {mark.name for mark in node.iter_markers() if mark.name in SERVERS}


def test_a_test_gets_the_marker_of_a_fixture_it_uses_through_another(
    request: pytest.FixtureRequest, built_on_nats: str
) -> None:
    assert _server_markers(request.node) == {"nats"}


def test_a_test_without_server_fixtures_gets_no_server_marker(
    request: pytest.FixtureRequest, tmp_path: object
) -> None:
    assert _server_markers(request.node) == set()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_sqlite_database_needs_no_server(
    request: pytest.FixtureRequest, engine: object
) -> None:
    assert _server_markers(request.node) == set()


def test_every_server_is_a_registered_marker(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert registered >= SERVERS


def test_make_test_fast_leaves_out_every_server_and_only_those() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    line = re.search(r"^SERVERS := (.+)$", makefile, re.MULTILINE)
    assert line is not None
    assert set(line.group(1).split(" or ")) == SERVERS
