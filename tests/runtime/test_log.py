import io
import json
import logging
import time
from collections.abc import Iterator

import pytest
from slack_bolt import App, BoltRequest

from bot.core.redaction import MAX_SCRUB_CHARS
from bot.runtime.log import JsonFormatter, ScrubbingFormatter, configure_logging
from bot.runtime.settings import LogFormat

TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.log")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_token_in_a_message_never_reaches_the_log(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("calling Slack with %s", TOKEN)
    entry = json.loads(stream.getvalue())
    assert TOKEN not in stream.getvalue()
    assert entry["message"].startswith("calling Slack with ")
    assert entry["level"] == "INFO"


def test_a_password_inside_a_traceback_is_scrubbed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("could not connect to postgresql://app:hunter2-s3cret@db/app")
    except RuntimeError:
        logger.exception("provisioning failed")
    text = stream.getvalue()
    assert "hunter2-s3cret" not in text
    assert "RuntimeError" in json.loads(text)["exception"]


def test_extra_fields_are_kept_in_json(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("job finished", extra={"job_id": 42, "kind": "db.provision"})
    entry = json.loads(stream.getvalue())
    assert entry["job_id"] == 42
    assert entry["kind"] == "db.provision"


def test_log_format_names_are_the_documented_ones() -> None:
    assert {f.value for f in LogFormat} == {"text", "json"}


def test_text_lines_are_scrubbed_too() -> None:
    record = logging.makeLogRecord({"msg": "token %s", "args": (TOKEN,), "levelname": "INFO"})
    line = ScrubbingFormatter("%(levelname)s %(message)s").format(record)
    assert TOKEN not in line
    assert line.startswith("INFO token ")
    assert record.args == (TOKEN,)  # the record itself is not rewritten


@pytest.fixture
def configured_root() -> Iterator[None]:
    """configure_logging changes the root logger; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_bolt_never_logs_the_body_of_a_request_whose_signature_fails(
    configured_root: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", LogFormat.TEXT)
    app = App(signing_secret="s", token="xoxb-x", token_verification_enabled=False)
    headers = {"x-slack-request-timestamp": [str(int(time.time()))], "x-slack-signature": ["v0=0"]}
    response = app.dispatch(BoltRequest(body="text=UNVERIFIED-BODY-MARKER", headers=headers))
    assert response.status == 401
    logged = capsys.readouterr().err
    assert "UNVERIFIED-BODY-MARKER" not in logged
    assert "signature" in logged  # the refusal itself is still logged, in one short line
    assert len(logged.strip().splitlines()) == 1


def test_a_huge_message_is_cut_before_it_is_scrubbed(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("body: %s", "a" * 1_000_000)
    entry = json.loads(stream.getvalue())
    assert len(entry["message"]) < MAX_SCRUB_CHARS + 40
    assert entry["message"].endswith(" characters cut]")
