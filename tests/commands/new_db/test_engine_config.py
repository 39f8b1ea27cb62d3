"""An engine's config and the provisioner `build_provisioners` makes of it (RabbitMQ)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.runtime.adapters import build_provisioners
from bot.runtime.config import ConfigError, parse_config
from commands.resources.config import DatabasesSection
from integrations.errors import ProviderRejected
from integrations.provisioning_protocols import PlanLimits, ResourceSpec

PLANS = "      plans: {small: {tiers: [dev]}}\n"


def _config(engine: str, *lines: str) -> str:
    settings = "".join(f"      {line}\n" for line in lines)
    return f"databases:\n  engines:\n    {engine}:\n{settings}{PLANS}"


def _section(engine: str, *lines: str) -> DatabasesSection:
    return parse_config(_config(engine, *lines), "p.yaml", {}).databases


@pytest.fixture
def http_clients() -> Iterator[list[httpx.Client]]:
    clients: list[httpx.Client] = []
    yield clients
    for client in clients:
        client.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://rabbit:15672",
        "https://rabbit.internal/rabbitmq/",
        "http://[fd00::1]:15672",
        "http://r" + "x" * 486 + ":15672",  # 500 characters
    ],
)
def test_a_management_url_is_a_plain_http_address(url: str) -> None:
    assert (
        _section("rabbitmq", f"management_url: '{url}'").engines["rabbitmq"].management_url == url
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("rabbit:15672", "must be an http:// or https:// URL"),
        ("ftp://rabbit:15672", "must be an http:// or https:// URL"),
        ("http://", "must be an http:// or https:// URL"),
        ("http://rab bit:15672", "must be an http:// or https:// URL"),
        ("http://rabbit:15672/api?x=1", "must be an http:// or https:// URL"),
        ("http://r" + "x" * 487 + ":15672", "at most 500 characters"),
        ("http://admin:url-Secret@rabbit:15672", "must not contain a login"),
    ],
)
def test_a_bad_management_url_is_refused_at_startup_without_echoing_it(url: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _section("rabbitmq", f"management_url: '{url}'")
    message = str(caught.value)
    assert "p.yaml:4: databases.engines.rabbitmq.management_url:" in message
    assert says in message
    assert "url-Secret" not in message


def test_only_rabbitmq_takes_a_management_url() -> None:
    with pytest.raises(ConfigError, match="management_url: only rabbitmq has one"):
        _section("postgres", "management_url: http://db:15672")


def test_rabbitmq_defaults_to_the_management_api_on_the_amqp_host(
    http_clients: list[httpx.Client],
) -> None:
    for host, management in [
        ("127.0.0.1", "http://127.0.0.1:15672"),
        ("'::1'", "http://[::1]:15672"),
        ("rabbit.internal", "http://rabbit.internal:15672"),
    ]:
        build_provisioners(_section("rabbitmq", f"host: {host}"), http_clients)
        assert str(http_clients[-1].base_url).rstrip("/") == management
        assert http_clients[-1].timeout.connect == 3.0
    assert len(http_clients) == 3  # every client is handed over to be closed


@pytest.mark.rabbitmq
def test_the_configured_rabbitmq_login_reaches_the_management_api(
    http_clients: list[httpx.Client],
) -> None:
    # The local node's guest/guest; a wrong password proves the configured one is sent.
    good = _section("rabbitmq", "management_url: http://127.0.0.1:15672", "admin_password: guest")
    build_provisioners(good, http_clients)["rabbitmq"].check()
    wrong = _section("rabbitmq", "admin_user: guest", "admin_password: not-guest")
    with pytest.raises(ProviderRejected, match="refused the admin user 'guest'"):
        build_provisioners(wrong, http_clients)["rabbitmq"].check()
    credentials = build_provisioners(good, http_clients)["rabbitmq"].credentials(
        ResourceSpec("rabbitmq", "orders-db", PlanLimits()), "pw"
    )
    assert (credentials.host, credentials.port) == ("127.0.0.1", 5672)
