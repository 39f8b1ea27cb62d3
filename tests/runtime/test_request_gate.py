"""/slack/events refuses what is too large, unsigned or malformed before Bolt sees it."""

from __future__ import annotations

import io
import json
import logging
import random
import time
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from slack_bolt import Ack, App
from slack_bolt.authorization import AuthorizeResult

from bot.core.db import make_engine
from bot.runtime.request_gate import MAX_BODY_BYTES
from bot.runtime.web import WebApp
from tests.harness import BotHarness
from tests.runtime.slack_traffic import (
    EXPECTED_STATUS,
    FORM,
    MALFORMED,
    MARKER,
    Traffic,
    signature,
)

SECRET = "gate-test-signing-secret"


# -- the gate in front of a bare Bolt app, called as WSGI ----------------------------------


class UnreadableStream(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


class EndlessStream(io.RawIOBase):
    def __init__(self) -> None:
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        self.bytes_read += size
        return b"a" * size


@pytest.fixture
def web() -> WebApp:
    app = App(
        signing_secret=SECRET,
        authorize=lambda **_: AuthorizeResult(enterprise_id=None, team_id="T0PLATFORM"),
    )

    def answer(ack: Ack) -> None:
        ack("answered")

    app.command("/platform")(answer)
    return WebApp(app, make_engine("sqlite://"), signing_secret=SECRET)


def call(web: WebApp, **environ: Any) -> tuple[int, bytes]:
    full: dict[str, Any] = {}
    setup_testing_defaults(full)
    full.update(REQUEST_METHOD="POST", PATH_INFO="/slack/events", **environ)
    statuses: list[str] = []
    body = b"".join(web(full, lambda status, headers: statuses.append(status)))  # type: ignore[arg-type]
    return int(statuses[0].split()[0]), body


def signed_environ(body: bytes, *, content_length: bool = True) -> dict[str, Any]:
    now = str(int(time.time()))
    environ = {
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": FORM,
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": now,
        "HTTP_X_SLACK_SIGNATURE": signature(SECRET, now, body),
    }
    if content_length:
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


COMMAND = b"command=%2Fplatform&text=help&user_id=U0BOB&team_id=T0PLATFORM&trigger_id=1.2.3"


@pytest.mark.parametrize("declared", [MAX_BODY_BYTES + 1, 8 * 1024 * 1024, int("9" * 40)])
def test_a_body_declared_over_the_limit_is_refused_without_reading_it(
    web: WebApp, declared: int
) -> None:
    status, body = call(web, CONTENT_LENGTH=str(declared), **{"wsgi.input": UnreadableStream()})
    assert status == 413
    assert json.loads(body) == {"error": "too_large"}


def test_a_body_at_the_limit_is_read_and_then_checked(web: WebApp) -> None:
    padded = COMMAND + b"&x=" + b"a" * (MAX_BODY_BYTES - len(COMMAND) - 3)
    assert len(padded) == MAX_BODY_BYTES
    assert call(web, **signed_environ(padded)) == (200, b"answered")
    unsigned = {**signed_environ(padded), "HTTP_X_SLACK_SIGNATURE": "v0=0"}
    assert call(web, **unsigned)[0] == 401


def test_a_chunked_body_is_read_only_to_one_byte_past_the_limit(web: WebApp) -> None:
    stream = EndlessStream()
    status, _ = call(web, **{"wsgi.input": stream, "wsgi.input_terminated": True})
    assert status == 413
    assert stream.bytes_read == MAX_BODY_BYTES + 1


def test_a_chunked_body_within_the_limit_is_answered(web: WebApp) -> None:
    environ = signed_environ(COMMAND, content_length=False)
    assert call(web, **environ, **{"wsgi.input_terminated": True})[0] == 200


def test_without_a_length_or_an_ending_stream_there_is_no_body(web: WebApp) -> None:
    environ = {**signed_environ(COMMAND, content_length=False), "wsgi.input": UnreadableStream()}
    assert call(web, **environ)[0] == 401  # an empty body, whose signature does not match


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "12 ", "\u0661\u0662"])
def test_a_content_length_that_is_not_a_number_is_refused(web: WebApp, declared: str) -> None:
    status, body = call(web, CONTENT_LENGTH=declared, **{"wsgi.input": UnreadableStream()})
    assert (status, json.loads(body)) == (400, {"error": "bad_length"})


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_X_SLACK_SIGNATURE": "v0=\u00e9"},  # non-ASCII: compare_digest would raise
        {"HTTP_X_SLACK_REQUEST_TIMESTAMP": "\u0661\u0662\u0663"},  # digits, but not ASCII
        {"HTTP_X_SLACK_REQUEST_TIMESTAMP": ""},
        {"HTTP_X_SLACK_SIGNATURE": ""},
    ],
)
def test_odd_signature_headers_are_unsigned_requests(web: WebApp, headers: dict[str, str]) -> None:
    assert call(web, **{**signed_environ(COMMAND), **headers})[0] == 401


# -- over real HTTP ----------------------------------------------------------------------------


@pytest.fixture
def traffic(quiet_bot: BotHarness) -> Traffic:
    return Traffic.to(quiet_bot)


def assert_one_short_line_without_the_body(caplog: pytest.LogCaptureFixture, status: int) -> None:
    refusals = [r for r in caplog.records if r.name == "bot.runtime.web"]
    assert len(refusals) == 1
    assert len(refusals[0].getMessage()) < 200
    assert f"HTTP {status}" in refusals[0].getMessage()
    assert MARKER not in caplog.text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_body_gets_4xx_and_one_short_log_line(
    traffic: Traffic, caplog: pytest.LogCaptureFixture, case: str, signed: bool
) -> None:
    body, content_type = MALFORMED[case]
    with caplog.at_level(logging.INFO):
        response = traffic.post(body, traffic.headers(body, content_type, signed=signed))
    expected = EXPECTED_STATUS[case][0 if signed else 1]
    assert response.status_code == expected
    assert MARKER not in response.text
    assert_one_short_line_without_the_body(caplog, expected)


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("timestamp", ["soon", "1e9", "-1700000000", "9" * 30])
def test_a_timestamp_that_is_not_a_plain_number_gets_401(
    traffic: Traffic, caplog: pytest.LogCaptureFixture, timestamp: str, signed: bool
) -> None:
    body = COMMAND + b"&m=" + MARKER.encode()
    headers = traffic.headers(body, FORM, signed=signed, timestamp=timestamp)
    with caplog.at_level(logging.INFO):
        assert traffic.post(body, headers).status_code == 401
    assert_one_short_line_without_the_body(caplog, 401)


def test_an_8_mb_body_gets_413_before_it_is_sent(traffic: Traffic) -> None:
    assert traffic.status_line_for_headers_only(8 * 1024 * 1024).split()[1] == b"413"


@pytest.mark.slow
def test_junk_requests_add_no_series_to_metrics_and_no_typed_text(traffic: Traffic) -> None:
    rng = random.Random(4)
    traffic.send_junk(rng)  # every fixed series that junk reaches now exists
    before = traffic.series()
    typed = [word for _ in range(67) for word in traffic.send_junk(rng)]
    after = traffic.series()
    assert after == before
    text = "\n".join(after)
    assert "hunter2" not in text
    assert not [word for word in typed if word in text]
    assert 'platform_bot_commands_total{outcome="unknown",subcommand="unknown"}' in text
    assert 'platform_bot_http_refused_total{reason="bad_signature"}' in text
