"""The `catalog:` and `oncall:` sections: catalog files, and the web addresses of the tools."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.runtime.config import ConfigError, feature_sections, parse_config
from commands.lookup.config import CatalogSection, OnCallSection


def test_by_default_every_yaml_file_is_a_catalog_file() -> None:
    assert CatalogSection().files.globs == ["**/*.yaml", "**/*.yml"]


@pytest.mark.parametrize("globs", [["**/catalog-info.yaml"], ["teams/*.yaml", "catalog-info.yml"]])
def test_globs_inside_the_catalog_directory_are_accepted(globs: list[str]) -> None:
    assert CatalogSection.model_validate({"files": {"globs": globs}}).files.globs == globs


@pytest.mark.parametrize("globs", [[], [""], ["/etc/*.yaml"], ["../other/*.yaml"], ["a/../../b"]])
def test_globs_that_leave_the_catalog_directory_are_refused(globs: list[str]) -> None:
    with pytest.raises(ValidationError):
        CatalogSection.model_validate({"files": {"globs": globs}})


def _config_error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml", {})
    return str(caught.value)


BACKSTAGE = "catalog:\n  provider: backstage\n  backstage:\n    base_url: {url}\n"
UI_URL = "catalog:\n  ui_url: '{url}'\n"
PAGERDUTY = "oncall:\n  provider: pagerduty\n  pagerduty:\n    token: t\n    base_url: {url}\n"
OPSGENIE = "oncall:\n  provider: opsgenie\n  opsgenie:\n    api_key: k\n    base_url: {url}\n"


@pytest.mark.parametrize(
    ("template", "line", "key"),
    [
        (BACKSTAGE, 4, "catalog.backstage.base_url"),
        (UI_URL, 2, "catalog.ui_url"),
        (PAGERDUTY, 5, "oncall.pagerduty.base_url"),
        (OPSGENIE, 5, "oncall.opsgenie.base_url"),
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "ftp://backstage.acme.io",
        "backstage.acme.io/api",
        "https://",
        # Text the old pattern let through: no host, a port out of range, a broken address.
        "https://user@",
        "https://backstage.acme.io:99999",
        "https://[::1/api",
        "https://x" + "y" * 2_100,
    ],
)
def test_a_url_that_is_not_a_web_address_is_reported_with_its_key_and_line(
    template: str, line: int, key: str, url: str
) -> None:
    message = _config_error(template.format(url=url))
    assert f"p.yaml:{line}: {key}: Value error, {url!r} is not an http(s) URL" in message


def test_web_addresses_are_kept_without_a_trailing_slash() -> None:
    config = parse_config(BACKSTAGE.format(url="https://backstage.acme.io/api/catalog/"), "p", {})
    section = feature_sections(config)["catalog"]
    assert isinstance(section, CatalogSection) and section.backstage is not None
    assert section.backstage.base_url == "https://backstage.acme.io/api/catalog"
    oncall = OnCallSection.model_validate(
        {
            "provider": "opsgenie",
            "opsgenie": {"api_key": "k", "base_url": "https://api.eu.opsgenie.com"},
        }
    )
    assert oncall.opsgenie is not None and oncall.opsgenie.base_url == "https://api.eu.opsgenie.com"
    defaults = OnCallSection.model_validate({"provider": "pagerduty", "pagerduty": {"token": "t"}})
    assert defaults.pagerduty is not None
    assert defaults.pagerduty.base_url == "https://api.pagerduty.com"


@pytest.mark.parametrize(
    "template",
    [
        "https://backstage.acme.io/catalog/{namespace}/{kind}/{name}",
        "https://backstage.acme.io/catalog/{name}?kind={kind}",
        "https://{namespace}.backstage.acme.io/{name}",
    ],
)
def test_the_catalog_link_keeps_its_placeholders(template: str) -> None:
    assert CatalogSection.model_validate({"ui_url": template}).ui_url == template


@pytest.mark.parametrize("template", ["https://backstage.acme.io/{team}", "https://x/{0}"])
def test_the_catalog_link_may_only_use_the_three_placeholders(template: str) -> None:
    message = _config_error(UI_URL.format(url=template))
    assert "p.yaml:2: catalog.ui_url: Value error, may only use the placeholders" in message
