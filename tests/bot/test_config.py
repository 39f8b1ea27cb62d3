from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config
from tests.conftest import REPO_ROOT


def test_example_config_is_valid_on_a_fresh_machine() -> None:
    config = load_config(REPO_ROOT / "platform.example.yaml", environ={})
    assert config.platform.name == "Acme Platform"
    assert "payments" in config.teams
    assert config.roles["admin"].members == ["alice@example.com"]


def test_variables_are_interpolated_from_the_environment() -> None:
    text = "platform:\n  name: ${PLATFORM_NAME}\n  docs_url: ${DOCS:-https://docs.example}\n"
    config = parse_config(text, "p.yaml", {"PLATFORM_NAME": "Orbit"})
    assert config.platform.name == "Orbit"
    assert config.platform.docs_url == "https://docs.example"


def test_a_missing_variable_is_reported_with_key_and_line() -> None:
    text = "platform:\n  name: Orbit\n  docs_url: ${DOCS_URL}\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml", {})
    assert "p.yaml:3: platform.docs_url: environment variable DOCS_URL is not set" in str(
        caught.value
    )


def test_escaped_dollar_is_kept_literally() -> None:
    config = parse_config("platform:\n  name: $${NOT_A_VAR}\n", "p.yaml", {})
    assert config.platform.name == "${NOT_A_VAR}"


def test_every_error_is_reported_with_its_key_and_line() -> None:
    text = (
        "platform:\n"
        "  name: Orbit\n"
        "  colour: blue\n"  # unknown key
        "jobs:\n"
        "  workers: -1\n"  # out of range
        "policies:\n"
        "  - action: whoami\n"
        "    allow: [anyone]\n"  # not a subject
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml", {})
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "p.yaml:3: platform.colour: unknown key" in message
    assert "p.yaml:5: jobs.workers: Input should be greater than or equal to 0" in message
    assert "p.yaml:8: policies.0.allow.0: 'anyone' is not a subject" in message


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("platform:\n  name: [unclosed\n", "p.yaml", {})
    assert "p.yaml:" in str(caught.value)
    assert "not valid YAML" in str(caught.value)


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"p.yaml:3: platform.name: duplicate key"):
        parse_config("platform:\n  name: A\n  name: B\n", "p.yaml", {})


def test_team_keys_must_be_slugs() -> None:
    with pytest.raises(ConfigError, match="must be lowercase"):
        parse_config("teams:\n  Payments Team: {}\n", "p.yaml", {})


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"platform\.timezone: .*Mars/Olympus"):
        parse_config("platform:\n  timezone: Mars/Olympus\n", "p.yaml", {})


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path, environ={}).policies == []
