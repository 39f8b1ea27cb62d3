import json

import jsonschema
import pytest
import yaml

from bot.core.slack_ids import BOT_SCOPES, BotEvent, InstallEvent, SlashCommand
from bot.runtime.manifest import build_manifest, render_manifest
from tests.conftest import REPO_ROOT, SPECS_DIR

SCHEMA = SPECS_DIR / "slack-manifest-schema" / "schemas" / "manifest.schema.1.0.0.json"


def _validator() -> jsonschema.Draft7Validator:
    if not SCHEMA.is_file():
        pytest.skip(f"Slack's manifest schema is not at {SCHEMA}")
    return jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))


def test_committed_manifest_is_what_the_code_registers() -> None:
    assert (REPO_ROOT / "manifest.yml").read_text() == render_manifest()


def test_committed_manifest_validates_against_slacks_schema() -> None:
    manifest = yaml.safe_load((REPO_ROOT / "manifest.yml").read_text())
    assert sorted(e.message for e in _validator().iter_errors(manifest)) == []


def test_http_mode_manifest_validates_and_points_every_url_at_slack_events() -> None:
    manifest = build_manifest("https://bot.acme.example/")
    assert list(_validator().iter_errors(manifest)) == []
    url = "https://bot.acme.example/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}


def test_http_mode_manifest_has_the_oauth_redirect_and_the_install_events() -> None:
    manifest = build_manifest("https://bot.acme.example/")
    assert manifest["oauth_config"]["redirect_urls"] == [
        "https://bot.acme.example/slack/oauth_redirect"
    ]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        str(e) for e in (*BotEvent, *InstallEvent)
    }
    socket_mode = build_manifest()
    assert "redirect_urls" not in socket_mode["oauth_config"]


def test_manifest_lists_exactly_the_commands_events_and_scopes_of_the_code() -> None:
    manifest = build_manifest()
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {str(c) for c in SlashCommand}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        str(e) for e in BotEvent
    }
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(BOT_SCOPES)


def test_a_manifest_with_a_typo_fails_the_schema() -> None:
    manifest = build_manifest()
    manifest["settings"]["socket_mode_enabeld"] = True
    assert list(_validator().iter_errors(manifest))
