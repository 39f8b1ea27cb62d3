"""The /platform router, driven through Bolt's dispatch with requests signed like Slack's."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from prometheus_client import REGISTRY, generate_latest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func, select

from bot.core import router_views
from bot.core.db import make_session_factory
from bot.core.errors import Conflict, NotFound
from bot.core.idempotency import IdempotencyStore
from bot.core.identity import IdentityService
from bot.core.policy import Policy
from bot.core.router import CommandContext, CommandRouter, Subcommand, parse_text
from bot.core.usage import CommandUsage, UsageLog
from bot.runtime.app import reparse_misread_form
from bot.runtime.config import parse_config
from integrations.fakes import FakeUserDirectory
from integrations.protocols import DirectoryUser
from tests.core.polling import wait_until
from tests.hostile import HOSTILE_TEXT

SECRET = "router-test-signing-secret"
CONFIG = """
platform: {name: Orbit}
roles:
  admin: {members: [alice@example.com]}
teams:
  payments: {members: [bob@example.com]}
policies:
  - action: db.create
    allow: [everyone]
  - action: echo
    allow: [everyone]
  - action: admin.*
    allow: [role:admin]
"""


class Recorder:
    def __init__(self) -> None:
        self.runs: list[CommandContext] = []

    def echo(self, ctx: CommandContext) -> None:
        self.runs.append(ctx)
        ctx.ack(f"echo: {' '.join(ctx.args)}")

    def create(self, ctx: CommandContext) -> None:
        self.runs.append(ctx)
        ctx.ack("creating")

    def conflict(self, ctx: CommandContext) -> None:
        raise Conflict("orders-db already exists.")

    def crash(self, ctx: CommandContext) -> None:
        raise RuntimeError("database exploded")


def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T0PLATFORM", bot_user_id="U0PLATBOT")


class Harness:
    def __init__(self, engine: Engine) -> None:
        config = parse_config(CONFIG, "test.yaml", {})
        sessions = make_session_factory(engine)
        directory = FakeUserDirectory(
            [
                DirectoryUser("U0ALICE", "alice", "Alice", "alice@example.com"),
                DirectoryUser("U0BOB", "bob", "Bob", "bob@example.com"),
                DirectoryUser("U0ERIN", "erin", "Erin", "erin@example.com", is_restricted=True),
            ]
        )
        self.recorder = Recorder()
        self.sessions = sessions
        self.usage_log = UsageLog(sessions)
        self.idempotency = IdempotencyStore(sessions)
        self.router = CommandRouter(
            identity=IdentityService(directory, config, sessions),
            policy=Policy(config),
            idempotency=self.idempotency,
            usage=self.usage_log,
            platform_name="Orbit",
        )
        for name, action, handler, mutating in (
            ("echo", "echo", self.recorder.echo, False),
            ("new-db", "db.create", self.recorder.create, True),
            ("taken", "echo", self.recorder.conflict, False),
            ("crash", "echo", self.recorder.crash, False),
            ("reindex", "admin.reindex", self.recorder.echo, True),
        ):
            self.router.add(
                Subcommand(
                    name=name,
                    summary=f"{name} things",
                    usage=f"/platform {name} ARG",
                    example=f"/platform {name} demo",
                    action=action,
                    handler=handler,
                    mutating=mutating,
                )
            )
        self.app = App(
            signing_secret=SECRET,
            client=WebClient(base_url="http://127.0.0.1:9/api/"),
            authorize=_authorize,
            before_authorize=reparse_misread_form,
        )
        self.app.command("/platform")(self.router.handle_platform_command)

    def send(
        self, text: str, *, user: str = "U0BOB", trigger: str = "1.2.abc", retry: int | None = None
    ) -> BoltResponse:
        body = urlencode(
            {
                "team_id": "T0PLATFORM",
                "channel_id": "C0GENERAL",
                "user_id": user,
                "command": "/platform",
                "text": text,
                "response_url": "http://127.0.0.1:9/response",
                "trigger_id": trigger,
            }
        )
        ts = str(int(time.time()))
        headers = {
            "content-type": ["application/x-www-form-urlencoded"],
            "x-slack-request-timestamp": [ts],
            "x-slack-signature": [
                SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
            ],
        }
        if retry is not None:
            headers["x-slack-retry-num"] = [str(retry)]
            headers["x-slack-retry-reason"] = ["http_timeout"]
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def usage(self) -> list[tuple[str, str, str]]:
        self.usage_log.flush()
        with self.sessions() as session:
            rows = session.execute(
                select(CommandUsage.user_id, CommandUsage.subcommand, CommandUsage.outcome)
            ).all()
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _text(response: BoltResponse) -> str:
    if response.body.startswith("{"):
        payload = json.loads(response.body)
        blocks = json.dumps(payload.get("blocks", []))
        return str(payload.get("text", "")) + blocks
    return response.body


@pytest.fixture
def harness(engine: Engine) -> Iterator[Harness]:
    harness = Harness(engine)
    yield harness
    harness.usage_log.close()  # its writer must not outlive this test's tables


def test_help_lists_only_what_the_caller_may_run(harness: Harness) -> None:
    for_bob = _text(harness.send("help"))
    for_alice = _text(harness.send("help", user="U0ALICE"))
    assert "/platform echo ARG" in for_bob
    assert "/platform echo demo" in for_bob
    assert "reindex" not in for_bob
    assert "/platform reindex ARG" in for_alice


def test_empty_text_shows_help(harness: Harness) -> None:
    response = harness.send("   ")
    assert response.status == 200
    assert "/platform new-db ARG" in _text(response)


def test_help_for_one_subcommand(harness: Harness) -> None:
    text = _text(harness.send("help new-db"))
    assert "new-db things" in text
    assert "echo things" not in text


def test_a_guest_sees_read_only_commands_but_not_mutating_ones(harness: Harness) -> None:
    text = _text(harness.send("help", user="U0ERIN"))
    assert "/platform echo ARG" in text
    assert "new-db" not in text


def test_unknown_subcommand_suggests_the_closest(harness: Harness) -> None:
    response = harness.send("new-bd orders")
    assert "I don't know `/platform new-bd`" in _text(response)
    assert "Did you mean `/platform new-db`?" in _text(response)


def test_unknown_subcommand_never_suggests_what_the_caller_may_not_run(harness: Harness) -> None:
    assert "reindex" not in _text(harness.send("reindx"))


def test_arguments_reach_the_handler(harness: Harness) -> None:
    response = harness.send('echo "two words" third')
    assert _text(response) == "echo: two words third[]"
    assert harness.recorder.runs[0].args == ["two words", "third"]


def test_unbalanced_quotes_get_a_clear_message(harness: Harness) -> None:
    response = harness.send('echo "unfinished')
    assert "Could not read the arguments" in _text(response)
    assert harness.recorder.runs == []


def test_text_containing_the_word_payload_is_routed(harness: Harness) -> None:
    # Bolt alone reads any form body containing "payload" as interactivity and 404s it.
    response = harness.send("echo payload-svc")
    assert response.status == 200
    assert _text(response) == "echo: payload-svc[]"


def test_not_allowed_explains_why(harness: Harness) -> None:
    response = harness.send("reindex all")
    assert response.status == 200
    assert "Only admins may" in _text(response)
    assert harness.recorder.runs == []


def test_a_slack_retry_never_runs_a_mutating_action_twice(harness: Harness) -> None:
    first = harness.send("new-db orders", trigger="7.7.same")
    assert wait_until(lambda: harness.idempotency.result("command:7.7.same"))
    retry = harness.send("new-db orders", trigger="7.7.same", retry=1)
    assert _text(first) == "creating[]"
    assert _text(retry) == "creating[]"
    assert len(harness.recorder.runs) == 1


def test_a_read_only_subcommand_claims_nothing_and_runs_again(harness: Harness) -> None:
    harness.send("echo once", trigger="8.8.same")
    harness.send("echo once", trigger="8.8.same", retry=1)
    assert len(harness.recorder.runs) == 2
    assert harness.idempotency.result("command:8.8.same") is None


def test_two_separate_requests_each_run(harness: Harness) -> None:
    harness.send("new-db orders", trigger="1.1.a")
    harness.send("new-db orders", trigger="1.1.b")
    assert len(harness.recorder.runs) == 2


def test_domain_errors_become_the_users_message(harness: Harness) -> None:
    assert "orders-db already exists." in _text(harness.send("taken"))


def test_unexpected_errors_are_logged_and_answered_with_a_reference(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = harness.send("crash")
    text = _text(response)
    assert "something went wrong on our side" in text
    assert "database exploded" not in text
    reference = text.split("reference `")[1].split("`")[0]
    record = next(r for r in caplog.records if reference in r.getMessage())
    assert record.exc_info is not None


def test_every_use_is_recorded_for_adoption_figures(harness: Harness) -> None:
    harness.send("echo hi")
    harness.send("nope")
    harness.send("reindex", user="U0BOB")
    assert wait_until(lambda: len(harness.usage()) == 3)
    assert sorted(harness.usage()) == [
        ("U0BOB", "echo", "ok"),
        ("U0BOB", "reindex", "rejected"),
        ("U0BOB", "unknown", "unknown"),  # the typed word is not kept
    ]


def test_parse_text_lowercases_the_subcommand_only() -> None:
    assert parse_text("  NEW-DB Orders-DB --env prod ") == (
        "new-db",
        ["Orders-DB", "--env", "prod"],
        "Orders-DB --env prod",
    )
    assert parse_text("") == ("", [], "")


def test_a_name_cannot_be_registered_twice(harness: Harness) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        harness.router.add(
            Subcommand("echo", "", "", "", action="echo", handler=harness.recorder.echo)
        )


def test_usage_counts_distinct_users(harness: Harness) -> None:
    harness.send("echo a")
    harness.send("echo b")
    harness.send("echo c", user="U0ALICE")
    assert wait_until(lambda: len(harness.usage()) == 3)
    with harness.sessions() as session:
        uses, users = session.execute(
            select(func.count(), func.count(func.distinct(CommandUsage.user_id))).where(
                CommandUsage.subcommand == "echo"
            )
        ).one()
    assert (uses, users) == (3, 2)


def test_usage_queued_at_shutdown_is_stored(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    log = UsageLog(sessions)
    for n in range(3):
        log.record(user_id=f"U{n}", team=None, subcommand="help", outcome="ok", duration_ms=1)
    log.close()
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CommandUsage)) == 3


def test_usage_survives_a_failed_write(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    log = UsageLog(sessions)
    log.record(user_id="U1", team=None, subcommand="help", outcome="ok", duration_ms=1)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE command_usage")
    with pytest.raises(Exception):  # noqa: B017  (the driver's own error type differs per backend)
        log.flush()
    CommandUsage.__table__.create(engine)
    assert log.flush() == 1
    log.close()


def test_help_for_help_says_what_help_does(harness: Harness) -> None:
    text = _text(harness.send("help help"))
    assert "I don't know" not in text
    assert "/platform help [COMMAND]" in text
    assert "shows what you can run" in text
    assert "/platform help echo" in text  # an example with a command this person may run


@pytest.mark.parametrize(
    ("typed", "args"),
    [
        ("new-db\u00a0postgres \u201cmy db\u201d", ["postgres", "my db"]),
        ("new-db a\u2003\u201cmy db\u201d\u3000-e\u202fprod", ["a", "my db", "-e", "prod"]),
        ("new-db \u2018my db\u2019 x", ["my db", "x"]),
        ("new-db \u201ca\u201d \u201cb c\u201d", ["a", "b c"]),
        ("new-db \u201cit's\u201d", ["it's"]),
        ("new-db don\u2019t", ["don\u2019t"]),  # iOS turns every apostrophe into \u2019
        ("new-db\ta\nb", ["a", "b"]),
        ("new-db\u200bx", ["x"]),
    ],
)  # fmt: skip
def test_unicode_spaces_and_smart_quotes_separate_and_quote_like_ascii(
    typed: str, args: list[str]
) -> None:
    name, parsed, _ = parse_text(typed)
    assert (name, parsed) == ("new-db", args)


def test_the_text_after_the_subcommand_keeps_its_quotes_as_typed() -> None:
    assert parse_text("\u00a0owner\u00a0\u201cpayments api\u201d\u00a0") == (
        "owner",
        ["payments api"],
        "\u201cpayments api\u201d",
    )


@pytest.mark.parametrize(
    ("smart", "ascii"),
    [("echo \u201cunfinished", 'echo "unfinished'), ("echo \u2018unfinished", "echo 'unfinished")],
)
def test_an_unbalanced_smart_quote_gets_the_same_message_as_an_ascii_one(
    harness: Harness, smart: str, ascii: str
) -> None:
    answer = _text(harness.send(smart))
    assert answer == _text(harness.send(ascii))
    assert "Could not read the arguments: No closing quotation." in answer
    assert harness.recorder.runs == []


def test_smart_quotes_reach_the_handler_as_one_argument(harness: Harness) -> None:
    assert _text(harness.send("echo\u00a0\u201ctwo words\u201d third")) == "echo: two words third[]"


@pytest.mark.parametrize("typed", [HOSTILE_TEXT, f"help {HOSTILE_TEXT}", "<@U0ALICE>x"])
def test_typed_text_echoed_in_answers_is_escaped(harness: Harness, typed: str) -> None:
    answer = _text(harness.send(typed))
    assert "I don't know `/platform &lt;" in answer
    assert "<!channel>" not in answer
    assert "<@U0ALICE>" not in answer


def test_not_found_suggestions_are_escaped() -> None:
    error = NotFound("No such service.", suggestions=["<!here>", "a&b"])
    assert router_views.error_text(error) == (
        "No such service. Did you mean `&lt;!here&gt;`, `a&amp;b`?"
    )


def test_metrics_count_typos_as_unknown_never_as_what_was_typed(harness: Harness) -> None:
    labels = {"subcommand": "unknown", "outcome": "unknown"}
    before = REGISTRY.get_sample_value("platform_bot_commands_total", labels) or 0
    harness.send("hunter2-secret orders")
    harness.send("x" * 80)
    assert REGISTRY.get_sample_value("platform_bot_commands_total", labels) == before + 2
    exposition = generate_latest(REGISTRY).decode()
    assert "hunter2" not in exposition
    assert "x" * 80 not in exposition


def test_a_subcommand_word_longer_than_the_column_is_recorded_as_unknown(
    harness: Harness,
) -> None:
    harness.send("x" * 65 + " orders")
    assert harness.usage() == [("U0BOB", "unknown", "unknown")]


def test_unknown_and_help_cannot_be_registered(harness: Harness) -> None:
    for name in ("help", "unknown"):
        with pytest.raises(ValueError, match="reserved"):
            harness.router.add(Subcommand(name, "", "", "", action="echo", handler=print))


def _record(log: UsageLog, user_id: str = "U1", **values: Any) -> None:
    fields: dict[str, Any] = {
        "team": None,
        "subcommand": "help",
        "outcome": "ok",
        "duration_ms": 1,
    } | values
    log.record(user_id=user_id, **fields)


def _stored(sessions: Any) -> list[tuple[Any, ...]]:
    with sessions() as session:
        rows = session.execute(
            select(
                CommandUsage.user_id,
                CommandUsage.team,
                CommandUsage.subcommand,
                CommandUsage.outcome,
                CommandUsage.duration_ms,
            ).order_by(CommandUsage.id)
        ).all()
    return [tuple(row) for row in rows]


def test_usage_values_are_cut_to_fit_their_columns(engine: Engine) -> None:
    sessions = make_session_factory(engine)
    log = UsageLog(sessions)
    _record(log, "U" * 40, team="t" * 70, subcommand="s" * 70, outcome="o" * 40, duration_ms=2**40)
    _record(log, "U2", duration_ms=-5)
    log.close()
    assert _stored(sessions) == [
        ("U" * 32, "t" * 64, "s" * 64, "o" * 32, 2**31 - 1),
        ("U2", None, "help", "ok", 0),
    ]


def test_a_row_the_database_refuses_is_dropped_alone(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = make_session_factory(engine)
    log = UsageLog(sessions)
    for user in ("U1", "U\x00BAD", "U3"):  # PostgreSQL refuses NUL in text
        _record(log, user)
    with caplog.at_level(logging.WARNING):
        log.close()
    stored = [row[0] for row in _stored(sessions)]
    if engine.dialect.name == "postgresql":
        assert stored == ["U1", "U3"]
        assert "dropped 1 usage record the database refused (DataError)" in caplog.text
        assert "BAD" not in caplog.text
    else:
        assert stored == ["U1", "U\x00BAD", "U3"]
    assert log.flush() == 0  # nothing is left to retry


def test_a_full_queue_drops_new_uses_and_says_how_many(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = make_session_factory(engine)
    log = UsageLog(sessions, max_queued=3)
    log.close()  # no writer thread: the queue only fills
    for n in range(5):
        _record(log, f"U{n}")
    with caplog.at_level(logging.WARNING):
        assert log.flush() == 3
    assert [row[0] for row in _stored(sessions)] == ["U0", "U1", "U2"]
    assert "dropped 2 usage records: the queue of 3 was full" in caplog.text
