"""The `surveys:` section: time zones are checked at load and a bad one is named by its key."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.runtime.config import ConfigError, parse_config

CAMPAIGN = """
surveys:
  campaigns:
    - name: pulse
      schedule: "0 9 * * mon"
      audience: {{kind: everyone}}
{zone}"""
OFFICE_HOURS = """
surveys:
  office_hours:
    - name: platform
      schedule: "0 15 * * thu"
      channel: C0GENERAL
      hosts: [U0ALICE]
{zone}"""


@pytest.mark.parametrize(
    ("template", "key"),
    [(CAMPAIGN, "surveys.campaigns.0.timezone"), (OFFICE_HOURS, "surveys.office_hours.0.timezone")],
)
@pytest.mark.parametrize("bad", ["Mars/Olympus", "../../etc/passwd", "", "Europe/Berlin "])
def test_an_unknown_time_zone_is_refused_with_its_key_and_line(
    template: str, key: str, bad: str
) -> None:
    text = template.format(zone=f'      timezone: "{bad}"\n')
    with pytest.raises(ConfigError) as refused:
        parse_config(text, "p.yaml", {})
    line = text.splitlines().index(f'      timezone: "{bad}"') + 1
    assert f"p.yaml:{line}: {key}: invalid timezone: {bad}" in str(refused.value)


@pytest.mark.parametrize("template", [CAMPAIGN, OFFICE_HOURS])
def test_a_time_zone_is_an_iana_zone_and_utc_by_default(template: str) -> None:
    berlin = parse_config(template.format(zone="      timezone: Europe/Berlin\n"), "p.yaml", {})
    default = parse_config(template.format(zone=""), "p.yaml", {})
    entries = [
        (config.surveys.campaigns or config.surveys.office_hours)[0] for config in (berlin, default)
    ]
    assert [entry.timezone for entry in entries] == [ZoneInfo("Europe/Berlin"), ZoneInfo("UTC")]
