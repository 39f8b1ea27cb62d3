"""SlackDirectory against a local HTTP server that answers like Slack's Web API."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_sdk import WebClient

from integrations.errors import ProviderRejected, ProviderUnavailable
from integrations.protocols import DirectoryUser
from integrations.slack_directory import SlackDirectory

TOKEN = "xoxb-1111-2222-directorytesttoken"

ADA: dict[str, Any] = {
    "id": "U012ADA",
    "team_id": "T0001",
    "name": "ada",
    "deleted": False,
    "real_name": "Ada Lovelace",
    "tz": "Europe/London",
    "tz_offset": 0,
    "profile": {"real_name": "Ada Lovelace", "display_name": "ada", "email": "ada@example.com"},
    "is_admin": False,
    "is_restricted": False,
    "is_ultra_restricted": False,
    "is_bot": False,
    "is_app_user": False,
    "updated": 1700000000,
}
GUEST: dict[str, Any] = {
    **ADA,
    "id": "U012GST",
    "name": "gus",
    "real_name": "",
    "tz": "",
    "profile": {"real_name": "Gus", "email": ""},
    "is_ultra_restricted": True,
}
USERGROUPS = [
    {"id": "S01", "handle": "sre-oncall", "name": "SRE", "date_delete": 0, "users": ["U012ADA"]},
    {"id": "S02", "handle": "old-team", "name": "Old", "date_delete": 1700000000, "users": ["U1"]},
]


class SlackLike(BaseHTTPRequestHandler):
    """Answers users.info, users.lookupByEmail and usergroups.list; `answers` overrides."""

    answers: dict[str, tuple[int, dict[str, str], dict[str, Any]]] = {}
    requests: list[tuple[str, dict[str, list[str]], str | None]] = []

    def do_POST(self) -> None:
        method = self.path.rsplit("/", 1)[-1]
        length = int(self.headers.get("Content-Length") or 0)
        params = parse_qs(self.rfile.read(length).decode())
        self.requests.append((method, params, self.headers.get("Authorization")))
        status, headers, body = self.answers.get(method) or self._answer(method, params)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _answer(
        self, method: str, params: dict[str, list[str]]
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        users = {user["id"]: user for user in (ADA, GUEST)}
        if method == "users.info":
            user = users.get(params["user"][0])
            if user is None:
                return 200, {}, {"ok": False, "error": "user_not_found"}
            return 200, {}, {"ok": True, "user": user}
        if method == "users.lookupByEmail":
            email = params["email"][0]
            found = [u for u in users.values() if u["profile"].get("email") == email]
            if not found:
                return 200, {}, {"ok": False, "error": "users_not_found"}
            return 200, {}, {"ok": True, "user": found[0]}
        if method == "usergroups.list":
            return 200, {}, {"ok": True, "usergroups": USERGROUPS}
        return 200, {}, {"ok": False, "error": "unknown_method"}

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    SlackLike.answers = {}
    SlackLike.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), SlackLike)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/api/"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def directory(server: str) -> SlackDirectory:
    # No retry handlers: these tests want the first answer, not the SDK's retries.
    return SlackDirectory(WebClient(token=TOKEN, base_url=server, timeout=5, retry_handlers=[]))


def test_user_maps_slack_profile_fields(directory: SlackDirectory) -> None:
    assert directory.user("U012ADA") == DirectoryUser(
        id="U012ADA",
        name="ada",
        real_name="Ada Lovelace",
        email="ada@example.com",
        tz="Europe/London",
    )
    method, params, authorization = SlackLike.requests[0]
    assert (method, params["user"], authorization) == ("users.info", ["U012ADA"], f"Bearer {TOKEN}")


def test_guests_are_restricted_and_blank_fields_are_none(directory: SlackDirectory) -> None:
    guest = directory.user("U012GST")
    assert guest is not None
    assert guest.is_restricted and guest.email is None and guest.tz is None
    assert guest.real_name == "Gus"


def test_unknown_users_are_none(directory: SlackDirectory) -> None:
    assert directory.user("UNOBODY") is None
    assert directory.user_by_email("nobody@example.com") is None


def test_user_by_email(directory: SlackDirectory) -> None:
    user = directory.user_by_email("ada@example.com")
    assert user is not None and user.id == "U012ADA"
    assert SlackLike.requests[0][1]["email"] == ["ada@example.com"]


def test_usergroup_members_by_handle(directory: SlackDirectory) -> None:
    assert directory.usergroup_members("sre-oncall") == ["U012ADA"]
    assert directory.usergroup_members("no-such-group") == []
    # A deleted usergroup has no members, whatever Slack still lists.
    assert directory.usergroup_members("old-team") == []
    assert SlackLike.requests[0][1]["include_users"] == ["1"]


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (429, {"Retry-After": "30"}, {"ok": False, "error": "ratelimited"}),
        (500, {}, {"ok": False, "error": "internal_error"}),
        (503, {}, {"ok": False, "error": "service_unavailable"}),
        (200, {}, {"ok": False, "error": "fatal_error"}),
    ],
)
def test_rate_limits_and_server_errors_are_unavailable(
    directory: SlackDirectory, status: int, headers: dict[str, str], body: dict[str, Any]
) -> None:
    SlackLike.answers["users.info"] = (status, headers, body)
    with pytest.raises(ProviderUnavailable) as raised:
        directory.user("U012ADA")
    assert raised.value.provider == "slack"
    assert "users.info" in str(raised.value) and TOKEN not in str(raised.value)
    if status == 429:
        assert "retry after 30s" in str(raised.value)


def test_other_api_errors_are_rejections_without_the_token(directory: SlackDirectory) -> None:
    SlackLike.answers["usergroups.list"] = (200, {}, {"ok": False, "error": "missing_scope"})
    with pytest.raises(ProviderRejected, match=r"usergroups.list failed: missing_scope") as raised:
        directory.usergroup_members("sre-oncall")
    assert TOKEN not in str(raised.value)


def test_an_unreachable_slack_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = WebClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[])
    with pytest.raises(ProviderUnavailable, match="cannot reach Slack") as raised:
        SlackDirectory(client).user_by_email("ada@example.com")
    assert TOKEN not in str(raised.value) and str(port) not in str(raised.value)
