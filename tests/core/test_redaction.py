"""Secrets never survive redaction: not under secret keys, not inside free text."""

from __future__ import annotations

import json
import string
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, SecretStr

from bot.core.redaction import (
    MAX_SCRUB_CHARS,
    REDACTED,
    VALUE_PATTERNS,
    is_secret_key,
    redact,
    scrub_text,
)

ALNUM = string.ascii_letters + string.digits
# Characters that may appear unescaped in a URL password (RFC 3986 unreserved + sub-delims).
URL_PASSWORD = ALNUM + "-._~!$&'()*+,;=%"
BARE_PASSWORD = ALNUM + "!#$%^*()_+-./~"


def tokens(prefix: str, alphabet: str = ALNUM + "-", min_size: int = 16) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=min_size, max_size=60).map(lambda body: prefix + body)


@st.composite
def secrets_in_context(draw: st.DrawFn) -> tuple[str, str]:
    """(a text line containing a secret, the part of it that must not survive)."""
    kind = draw(st.sampled_from(["slack", "vault", "github", "bearer", "url", "pem", "pair"]))
    if kind == "slack":
        prefix = draw(st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-1-"]))
        secret = draw(tokens(""))
        return prefix + secret, secret
    if kind == "vault":
        prefix = draw(st.sampled_from(["hvs.", "hvb.", "hvr."]))
        secret = draw(tokens("", ALNUM + "_-", min_size=24))
        return prefix + secret, secret
    if kind == "github":
        secret = draw(tokens("", ALNUM, min_size=36))
        return draw(st.sampled_from(["ghp_", "gho_", "ghs_"])) + secret, secret
    if kind == "bearer":
        secret = draw(tokens("", ALNUM + "._~+/=-", min_size=12))
        return f"Authorization: Bearer {secret}", secret
    if kind == "url":
        secret = draw(st.text(URL_PASSWORD, min_size=8, max_size=40))
        scheme = draw(st.sampled_from(["postgresql", "mysql+pymysql", "amqp", "redis", "https"]))
        return f"{scheme}://app:{secret}@db.internal:5432/app", secret
    if kind == "pem":
        secret = draw(st.text(ALNUM + "+/", min_size=40, max_size=120))
        return f"-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----", secret
    secret = draw(st.text(BARE_PASSWORD, min_size=8, max_size=40))
    key = draw(st.sampled_from(["password", "PGPASSWORD", "api_key", "client_secret", "token"]))
    separator = draw(st.sampled_from(["=", ": ", " = "]))
    return f"{key}{separator}{secret}", secret


@given(secrets_in_context(), st.text(max_size=40), st.text(max_size=40))
def test_a_secret_embedded_in_any_text_never_survives_scrubbing(
    case: tuple[str, str], before: str, after: str
) -> None:
    line, secret = case
    assume(secret not in before and secret not in after)
    # The separators keep the generated text from continuing the secret's own key or scheme;
    # what surrounds them is arbitrary.
    assert secret not in scrub_text(f"{before} {line} {after}")


SECRET_KEYS = st.sampled_from(
    ["password", "db_password", "dbPassword", "DB-PASSWORD", "secret", "client_secret",
     "token", "accessToken", "api_key", "apiKey", "credentials", "private_key", "dsn",
     "connection_string", "auth", "Authorization", "x-auth-token"]
)  # fmt: skip
PLAIN_KEYS = st.sampled_from(["name", "team", "env", "size", "region", "reason", "author"])


def documents(secret_value: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.text(ALNUM, max_size=10))
    return st.recursive(
        st.dictionaries(PLAIN_KEYS, leaves, max_size=3),
        lambda children: st.one_of(
            st.dictionaries(PLAIN_KEYS, children, max_size=3),
            st.dictionaries(SECRET_KEYS, secret_value, min_size=1, max_size=2),
            st.builds(lambda a, b: {**a, **b}, st.dictionaries(PLAIN_KEYS, children, max_size=2),
                      st.dictionaries(SECRET_KEYS, secret_value, max_size=2)),
            st.lists(children, max_size=3).map(lambda items: {"items": items}),
        ),
        max_leaves=12,
    )  # fmt: skip


def secret_leaves(document: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if is_secret_key(key) and value is not None:
                found.append(value)
            else:
                found.extend(secret_leaves(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(secret_leaves(item))
    return found


MARKED_SECRET = st.text(ALNUM, min_size=12, max_size=30).map(lambda text: f"S3CR3T{text}")


@given(documents(MARKED_SECRET | st.lists(MARKED_SECRET, min_size=1, max_size=2)))
def test_redact_never_returns_a_value_stored_under_a_secret_key(document: dict[str, Any]) -> None:
    redacted = json.dumps(redact(document))
    for value in secret_leaves(document):
        for text in value if isinstance(value, list) else [value]:
            assert text not in redacted
    assert all(value == REDACTED for value in secret_leaves(redact(document)))


def test_secret_keys_are_recognised_in_any_spelling() -> None:
    for key in ["password", "dbPassword", "DB_PASSWORD", "db.password", "slack-bot-token",
                "apiKey", "privateKey", "connectionString", "Authorization", "auth"]:  # fmt: skip
        assert is_secret_key(key), key
    for key in ["author", "authority", "name", "team", "passage", "tokenizer_name"]:
        assert not is_secret_key(key), key


def test_redact_keeps_ordinary_inputs_and_makes_them_json_safe() -> None:
    class Size(StrEnum):
        SMALL = "small"

    class Form(BaseModel):
        name: str
        password: str
        pin: SecretStr

    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    redacted = redact(
        {
            "name": "orders-db",
            "size": Size.SMALL,
            "replicas": 2,
            "at": when,
            "tags": ("a", "b"),
            "form": Form(name="x", password="hunter22", pin=SecretStr("1234")),
            "note": SecretStr("anything"),
            "url": "postgresql://app:hunter22@db/app",
        }
    )
    assert redacted == {
        "name": "orders-db",
        "size": "small",
        "replicas": 2,
        "at": "2026-01-02T03:04:00+00:00",
        "tags": ["a", "b"],
        "form": {"name": "x", "password": REDACTED, "pin": REDACTED},
        "note": REDACTED,
        "url": "postgresql://app:[redacted]@db/app",
    }
    json.dumps(redacted)


def test_scrub_text_keeps_the_useful_part_of_a_message() -> None:
    message = "connection to postgresql://app:pw-123456@db.internal:5432/app failed: timeout"
    assert scrub_text(message) == (
        "connection to postgresql://app:[redacted]@db.internal:5432/app failed: timeout"
    )
    assert (
        scrub_text("invalid_auth for xoxb-1234-5678-abcdef") == "invalid_auth for xoxb-[redacted]"
    )
    assert scrub_text("token validation failed for user U123") == (
        "token validation failed for user U123"
    )


def test_an_unterminated_pem_block_is_masked_to_the_end() -> None:
    text = "key: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7"
    assert "MIIE" not in scrub_text(text)


def test_legacy_vault_tokens_are_masked_but_short_dotted_words_are_not() -> None:
    assert scrub_text("token s.AbCdEfGhIjKlMnOpQrStUvWx used") == "token [redacted] used"
    assert scrub_text("see docs.example.com and s.io") == "see docs.example.com and s.io"


# Every character the patterns are written with, so a run of any of them is tried.
PATTERN_CHARACTERS = sorted(
    set("".join(pattern.pattern for pattern, _ in VALUE_PATTERNS)) | set(ALNUM + " \t\n")
)
# Pieces of what the patterns look for; runs of them make the engine start many matches.
PATTERN_PIECES = ["password", "=", ": ", '"', "'", "://", "a:", "@", "xoxb-", "xoxe.", "hvs.",
                  "s.", "ghp_", "Bearer ", "Basic ", "-----BEGIN ", "-----END ", "A-----", "a",
                  "\\", " ", "api_key", "_"]  # fmt: skip
HUNDRED_KB = 100_000


def _cpu_seconds_to_scrub(text: str) -> float:
    started = time.thread_time()
    scrub_text(text, limit=len(text))
    return time.thread_time() - started


@given(st.sampled_from(PATTERN_CHARACTERS) | st.characters())
@settings(max_examples=60, deadline=None)
def test_scrubbing_100_kb_of_one_character_takes_linear_time(character: str) -> None:
    assert _cpu_seconds_to_scrub(character * HUNDRED_KB) < 0.05


@given(st.lists(st.sampled_from(PATTERN_PIECES), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_scrubbing_100_kb_of_repeated_pattern_pieces_takes_linear_time(pieces: list[str]) -> None:
    unit = "".join(pieces)
    text = (unit * (HUNDRED_KB // len(unit) + 1))[:HUNDRED_KB]
    # Mixed pieces take ~10 ms on an idle machine; backtracking would take seconds. The bound
    # is loose so that a busy machine cannot fail it, and still tight enough to catch that.
    assert _cpu_seconds_to_scrub(text) < 0.25


def test_text_beyond_the_limit_is_cut_and_says_so() -> None:
    text = "x" * MAX_SCRUB_CHARS + " and then password=hunter2-beyond"
    scrubbed = scrub_text(text)
    assert "hunter2" not in scrubbed
    assert scrubbed.endswith(f"[{len(text) - MAX_SCRUB_CHARS} characters cut]")
    assert scrub_text("y" * MAX_SCRUB_CHARS) == "y" * MAX_SCRUB_CHARS  # exactly at the limit


def test_a_secret_cut_in_half_at_the_limit_is_dropped_not_half_shown() -> None:
    # Cut before its "@", the URL no longer looks like one with credentials: the word goes.
    url = "postgresql://app:hunter2-half-shown@db.internal/app"
    text = "x " * ((MAX_SCRUB_CHARS - 30) // 2) + url
    scrubbed = scrub_text(text)
    assert "hunter2" not in scrubbed
    assert "postgresql" not in scrubbed
    assert scrubbed.startswith("x x ")


def test_a_single_word_longer_than_the_limit_is_cut_whole() -> None:
    scrubbed = scrub_text("z" * (MAX_SCRUB_CHARS + 1))
    assert scrubbed == f"[{MAX_SCRUB_CHARS + 1} characters cut]"


def test_quoted_values_are_masked_to_their_closing_quote_or_to_the_end() -> None:
    # An escaped quote inside a JSON string does not end the value.
    assert scrub_text(r'{"password": "a\"b c", "name": "x"}') == (
        '{"password": [redacted], "name": "x"}'
    )
    assert "rest of it" not in scrub_text('password="unterminated rest of it')


def test_secrets_glued_to_a_long_run_of_text_are_still_masked() -> None:
    assert "hunter2" not in scrub_text("a" * 500 + "postgresql://app:hunter2@db/app")
    assert "hunter2" not in scrub_text("1" * 500 + "_password=hunter2")
    assert "hunter2" not in scrub_text("db_password=hunter2" + "a" * 500)
