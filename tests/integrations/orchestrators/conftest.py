"""Fixtures for the orchestrators' contract tests: the spec, a clock, the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clock import Clock
from tests.integrations.openapi_contract import Contract, spec_path
from tests.integrations.orchestrators.fake_github import FakeGitHub

TOKEN = "ghp_Fake7oken9Zq2WxY"
"""A distinctive token, searched for in messages and logs that must not contain it."""


@pytest.fixture(scope="session")
def github_contract() -> Contract:
    return Contract(spec_path("github", "api.github.com.subset.json"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def github(github_contract: Contract, clock: Clock) -> Iterator[FakeGitHub]:
    with FakeGitHub(github_contract, clock, token=TOKEN) as fake:
        yield fake
    assert fake.violations == []
