"""Keep secrets out of the audit log, log lines and error messages.

`redact` cleans structured inputs before they are stored (audit records, remembered
results): values under keys that name a secret are replaced whole, and every string is
passed through `scrub_text`, which masks values that look like secrets wherever they
appear. Over-masking is the accepted failure mode: a redacted `token_count` costs a
little debugging, a leaked token costs a rotation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

from pydantic import BaseModel, SecretBytes, SecretStr

REDACTED = "[redacted]"

# Matched against a key after camelCase is split and it is lowercased, with every run of
# other characters turned into "_" (so `dbPassword`, `DB-PASSWORD`, `db.password` agree).
_SECRET_KEY = re.compile(
    r"(?:^|_)(?:password|passwd|pwd|passphrase|secrets?|tokens?|credentials?|dsn|auth|"
    r"authorization|cookies?|apikey|api_key|private_key|privatekey|connection_string|"
    r"connstr|conn_str|connection_uri|database_url|access_key|signing_key|session_key|"
    r"client_secret|jwt)(?:_|$)"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")

# Written as a tree (every name under its first letters) so a failed match ends early.
_KEY_NAMES = (
    r"p(?:ass(?:word|wd|phrase)|wd|rivate[_-]?key)|secret|token|"
    r"a(?:pi[_-]?key|pikey|ccess[_-]?key)|c(?:lient[_-]?secret|redentials?)"
)

# (pattern, replacement), applied in order. Patterns do not require a word boundary before
# the secret, because a token glued to other text ("id=xoxb-…", "_hvs.…") is still a token.
# Credentials in URLs go before the header patterns, which would otherwise eat the scheme.
#
# Every pattern runs in linear time on any input (log lines may carry anyone's text): each
# starts at a literal or at one of a few letters, and every repeat is possessive (`*+`, `++`)
# or lazy up to a literal, so an attempt scans forward once and never gives characters back
# to try again. tests/core/test_redaction.py times 100 KB runs of every character they use.
VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM blocks (keys, certificates); an unterminated block is masked to the end, since a
    # truncated log line still carries most of the key.
    (
        re.compile(r"-----BEGIN [A-Z0-9 ]++-----.*?(?:-----END [A-Z0-9 ]++-----|\Z)", re.DOTALL),
        "[redacted PEM block]",
    ),
    # Credentials in URLs: keep scheme, user and host so the message stays useful. The match
    # starts at "://" (found by a fast literal search); the password runs to the last "@"
    # before the host.
    (re.compile(r"(://[^\s:/?#@]*+):(?:[^\s/?#@]*+@)++"), r"\1:" + REDACTED + "@"),
    # Slack tokens: bot/user/app-level/config/refresh (xoxb-, xoxp-, xapp-, xoxe.xoxp-, …).
    (re.compile(r"xoxe\.xox[a-z]-[A-Za-z0-9-]++"), "xoxe." + REDACTED),
    (re.compile(r"(xox[a-z]|xapp)-[A-Za-z0-9-]++"), r"\1-" + REDACTED),
    # Vault / OpenBao service, batch and recovery tokens; the legacy `s.` form is too short
    # a prefix to match inside words.
    (re.compile(r"hv[sbr]\.[A-Za-z0-9_-]++"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9_.])[sbr]\.[A-Za-z0-9]{24,}+"), REDACTED),
    # GitHub personal access, OAuth, app and refresh tokens.
    (re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{20,}+|github_pat_[A-Za-z0-9_]{20,}+)"), REDACTED),
    # Authorization header values.
    (re.compile(r"(?i)(bearer)\s++[A-Za-z0-9._~+/=-]++"), r"\1 " + REDACTED),
    (re.compile(r"(Basic)\s++[A-Za-z0-9+/]{8,}+={0,2}+"), r"\1 " + REDACTED),
    # key=value and key: value pairs (libpq DSNs, config dumps, query strings, JSON). A
    # prefix glued to the key (db_password) is left in place, so it is not matched at all;
    # the lookahead lets the engine skip every position that cannot start a key name.
    # A quoted value ends at its closing quote (escaped quotes included) or, unterminated,
    # at the end of the text.
    (
        re.compile(
            rf"""(?x)
            (?=[pstacPSTAC])(?i:({_KEY_NAMES}))           # the key
            (["']?\s*+[:=]\s*+)                           # separator, maybe after a JSON quote
            (?:"(?:[^"\\]|\\.)*+"?|'(?:[^'\\]|\\.)*+'?|[^\s,;&"'}}\]]++)  # the value
            """,
            re.DOTALL,
        ),
        r"\1\2" + REDACTED,
    ),
)

# Longer text is cut before scrubbing: a log line or an audit field has no use for more,
# and scrubbing holds the GIL. What is cut is dropped, never passed through unscrubbed.
MAX_SCRUB_CHARS = 32_000


def scrub_text(text: str, *, limit: int = MAX_SCRUB_CHARS) -> str:
    """Mask every secret-looking value in free text (log lines, error messages, details).

    Text over `limit` characters is cut there and ends with "[N characters cut]"; a word
    the cut falls in goes too, since a secret cut in half may no longer look like one.
    """
    marker = ""
    if len(text) > limit:
        text, marker = _cut(text, limit)
    for pattern, replacement in VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return f"{text} {marker}" if text and marker else text or marker


def _cut(text: str, limit: int) -> tuple[str, str]:
    head = text[:limit]
    if not (head[-1:].isspace() or text[limit].isspace()):
        words = head.rsplit(maxsplit=1)
        head = words[0] if len(words) == 2 else ""
    return head, f"[{len(text) - len(head)} characters cut]"


def is_secret_key(key: str) -> bool:
    normalized = _NON_WORD.sub("_", _CAMEL_BOUNDARY.sub("_", key).lower())
    return _SECRET_KEY.search(normalized) is not None


def redact(inputs: Mapping[Any, Any]) -> dict[str, Any]:
    """A JSON-safe copy of `inputs` with secrets masked, at any depth.

    Values under secret-named keys become "[redacted]" whatever their type; strings
    elsewhere are scrubbed; pydantic secrets are never revealed; values JSON cannot hold
    (datetimes, enums, UUIDs, models, dataclasses) are converted to their plain forms.
    """
    return {str(key): _redact_item(str(key), value) for key, value in inputs.items()}


def _redact_item(key: str, value: Any) -> Any:
    if is_secret_key(key) and value is not None:
        return REDACTED
    return _redact_value(value)


def _redact_value(value: Any) -> Any:
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if isinstance(value, Enum):
        value = value.value
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return redact(value)
    if isinstance(value, BaseModel):
        # model_dump keeps SecretStr objects as they are, so the check above still applies.
        return redact(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID | Decimal | PurePath):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return f"[{len(value)} bytes]"
    # An unknown object's repr may embed anything, so it is scrubbed like free text.
    return scrub_text(repr(value))
