"""The emulator as Slack for an app in several workspaces: OAuth v2 and per-workspace tokens."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.emulator import Emulator, Workspace
from bot.emulator.oauth import CODE_TTL
from bot.emulator.workspace import Channel, Enterprise, Team, User

REDIRECT = "https://bot.example/slack/oauth_redirect"
BETA = Workspace(
    team=Team(id="T0BETA", name="Beta", domain="beta"),
    enterprise=Enterprise(id="E0GRID", name="Grid"),
    users=(
        User(id="U0BETTY", name="betty"),
        User(id="U0PLATBOT", name="platform-bot", is_bot=True, bot_id="B0PLATBOT"),
    ),
    channels=(Channel(id="C0BETA", name="general", members=("U0BETTY", "U0PLATBOT")),),
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def slack(clock: Clock) -> Iterator[Emulator]:
    emulator = Emulator(rate_limits=None, clock=clock)
    emulator.add_workspace(BETA)
    emulator.installs.redirect_url = REDIRECT
    with emulator:
        yield emulator


def _code(slack: Emulator, **query: str) -> str:
    params = {"client_id": slack.installs.client_id, "state": "s1", **query}
    answer = httpx.get(slack.oauth_authorize_url, params=params)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    fields = parse_qs(location.query)
    assert fields["state"] == ["s1"]
    return fields["code"][0]


def _exchange(slack: Emulator, code: str, secret: str | None = None) -> dict[str, object]:
    client = WebClient(base_url=slack.api_url)
    response = client.oauth_v2_access(
        client_id=slack.installs.client_id,
        client_secret=secret or slack.installs.client_secret,
        code=code,
    )
    return dict(response.data)  # type: ignore[arg-type]


def _error(call: object, *args: object) -> str:
    with pytest.raises(SlackApiError) as info:
        call(*args)  # type: ignore[operator]
    return str(info.value.response["error"])


def test_each_workspace_installs_with_its_own_token(slack: Emulator) -> None:
    acme = _exchange(slack, _code(slack))
    beta = _exchange(slack, _code(slack, team="T0BETA"))
    assert acme["team"] == {"id": "T0PLATFORM", "name": "Acme"}
    assert beta["team"] == {"id": "T0BETA", "name": "Beta"}
    assert beta["enterprise"] == {"id": "E0GRID", "name": "Grid"}
    assert acme["access_token"] != beta["access_token"]
    assert acme["access_token"] == slack.bot_token

    beta_client = WebClient(token=str(beta["access_token"]), base_url=slack.api_url)
    assert beta_client.auth_test()["team_id"] == "T0BETA"
    beta_client.chat_postMessage(channel="C0BETA", text="hello Beta")
    assert [m.text for m in slack.backend_for("T0BETA").state.messages("C0BETA")] == ["hello Beta"]
    assert slack.messages("general") == []
    assert [(c.method, c.team) for c in slack.calls("chat.postMessage")] == [
        ("chat.postMessage", "T0BETA")
    ]


def test_an_org_wide_install_is_for_the_enterprise(slack: Emulator) -> None:
    granted = _exchange(slack, _code(slack, team="T0BETA", org_wide="true"))
    assert granted["is_enterprise_install"] is True
    assert granted["team"] is None
    assert granted["enterprise"] == {"id": "E0GRID", "name": "Grid"}
    assert (
        httpx.get(
            slack.oauth_authorize_url,
            params={"client_id": slack.installs.client_id, "org_wide": "true"},
        ).status_code
        == 400
    )  # Acme is in no grid


def test_a_code_works_once(slack: Emulator) -> None:
    code = _code(slack)
    _exchange(slack, code)
    assert _error(_exchange, slack, code) == "code_already_used"


def test_a_code_expires_after_ten_minutes(slack: Emulator, clock: Clock) -> None:
    code = _code(slack)
    clock.now += CODE_TTL + 0.001
    assert _error(_exchange, slack, code) == "invalid_code"


def test_the_exchange_needs_the_apps_secret_and_a_code_slack_issued(slack: Emulator) -> None:
    code = _code(slack)
    assert _error(_exchange, slack, code, "not-the-secret") == "bad_client_secret"
    assert _error(_exchange, slack, "forged.code") == "invalid_code"
    assert _exchange(slack, code)["ok"] is True  # the failed attempts did not use it up


@pytest.mark.parametrize(
    "query",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": "https://evil.example/steal"},
        {"team": "T0NOWHERE"},
    ],
)
def test_the_authorize_page_refuses_what_slack_refuses(
    slack: Emulator, query: dict[str, str]
) -> None:
    params = {"client_id": slack.installs.client_id, **query}
    assert httpx.get(slack.oauth_authorize_url, params=params).status_code == 400


def test_uninstall_revokes_the_token_and_a_reinstall_gets_a_new_one(slack: Emulator) -> None:
    first = str(_exchange(slack, _code(slack, team="T0BETA"))["access_token"])
    slack.installs.uninstall("T0BETA")
    revoked = WebClient(token=first, base_url=slack.api_url)
    assert _error(revoked.auth_test) == "token_revoked"
    second = str(_exchange(slack, _code(slack, team="T0BETA"))["access_token"])
    assert second != first
    assert WebClient(token=second, base_url=slack.api_url).auth_test()["team_id"] == "T0BETA"
    # The other workspace is untouched.
    assert WebClient(token=slack.bot_token, base_url=slack.api_url).auth_test()["ok"]


def test_the_client_secret_is_not_kept_in_the_call_log(slack: Emulator) -> None:
    _exchange(slack, _code(slack))
    (call,) = slack.calls("oauth.v2.access")
    assert slack.installs.client_secret not in str(call.params)
