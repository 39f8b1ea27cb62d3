from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.runtime.config import ConfigError, load_config, parse_config
from bot.runtime.services import Role, serving_role
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


def test_a_control_character_is_a_config_error_on_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("platform:\n  name: ACME\n  docs_url: x\x00y\n", "p.yaml", {})
    assert "p.yaml:3: (top level): not valid YAML: special characters" in str(caught.value)


def test_duplicate_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"p.yaml:3: platform.name: duplicate key"):
        parse_config("platform:\n  name: A\n  name: B\n", "p.yaml", {})


def test_team_keys_must_be_slugs() -> None:
    with pytest.raises(ConfigError, match="must be lowercase"):
        parse_config("teams:\n  Payments Team: {}\n", "p.yaml", {})


@pytest.mark.parametrize("zone", ["Mars/Olympus", "''", "../../etc/passwd", "europe/berlin", "5"])
def test_unknown_time_zone_is_rejected(zone: str) -> None:
    with pytest.raises(ConfigError, match=r"p\.yaml:2: platform\.timezone: invalid timezone"):
        parse_config(f"platform:\n  timezone: {zone}\n", "p.yaml", {})


def test_the_platform_time_zone_is_read_as_a_zone() -> None:
    berlin = parse_config("platform:\n  timezone: Europe/Berlin\n", "p.yaml", {})
    default = parse_config("platform: {}\n", "p.yaml", {})
    assert berlin.platform.timezone == ZoneInfo("Europe/Berlin")
    assert default.platform.timezone == ZoneInfo("UTC")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path, environ={}).policies == []


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_no_number_in_the_config_is_nan_or_infinite(value: str) -> None:
    text = f"""
policies:
  - action: "db.*"
    allow: [everyone]
    approval: {{approvers: [everyone], expires_after_hours: {value}}}
databases:
  tiers:
    dev: {{default_ttl_hours: 1, max_ttl_hours: {value}}}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "p.yaml", {})
    message = str(caught.value)
    assert "p.yaml:5: policies.0.approval.expires_after_hours:" in message
    assert "p.yaml:8: databases.tiers.dev.max_ttl_hours:" in message


@pytest.mark.parametrize(
    ("hours", "accepted"), [(87_600, True), (87_600.5, False), (0, False), (0.5, True)]
)
def test_a_time_to_live_is_at_most_ten_years(hours: float, accepted: bool) -> None:
    text = (
        f"databases:\n  tiers:\n    dev: {{default_ttl_hours: {hours}, max_ttl_hours: {hours}}}\n"
    )
    if accepted:
        assert parse_config(text, "p.yaml", {}).databases.tiers["dev"].max_ttl_hours == hours
    else:
        with pytest.raises(ConfigError, match=r"databases\.tiers\.dev\.max_ttl_hours"):
            parse_config(text, "p.yaml", {})


@pytest.mark.parametrize(("hours", "accepted"), [(8760, True), (8760.5, False)])
def test_an_approval_expires_within_a_year(hours: float, accepted: bool) -> None:
    text = (
        'policies:\n  - action: "db.*"\n    allow: [everyone]\n'
        f"    approval: {{approvers: [everyone], expires_after_hours: {hours}}}\n"
    )
    if accepted:
        assert parse_config(text, "p.yaml", {}).policies[0].approval is not None
    else:
        with pytest.raises(ConfigError, match="expires_after_hours"):
            parse_config(text, "p.yaml", {})


@pytest.mark.parametrize(("environ", "has_key"), [({}, False), ({"KEY": "  "}, False)])
def test_an_empty_secret_key_means_the_key_file(environ: dict[str, str], has_key: bool) -> None:
    text = "databases:\n  secret_key: ${KEY:-}\n"
    assert (parse_config(text, "p.yaml", environ).databases.secret_key is not None) is has_key


def test_a_secret_key_from_the_environment_is_kept() -> None:
    text = "databases:\n  secret_key: ${KEY:-}\n"
    key = parse_config(text, "p.yaml", {"KEY": "k" * 44}).databases.secret_key
    assert key is not None and key.get_secret_value() == "k" * 44


def test_where_jobs_run_is_process_by_default_and_must_be_one_of_two_words() -> None:
    default = parse_config("", "p.yaml", {})
    workers = parse_config("jobs:\n  run_in: workers\n", "p.yaml", {})
    assert (default.jobs.run_in, workers.jobs.run_in) == ("process", "workers")
    # serve and socket run jobs themselves by default, and leave them to workers if told to.
    assert (serving_role(default), serving_role(workers)) == (Role.ALL_IN_ONE, Role.REQUESTS)
    with pytest.raises(ConfigError) as caught:
        parse_config("jobs:\n  run_in: threads\n  stop_grace_seconds: .nan\n", "p.yaml", {})
    message = str(caught.value)
    assert "p.yaml:2: jobs.run_in: Input should be 'process' or 'workers'" in message
    assert "p.yaml:3: jobs.stop_grace_seconds:" in message
