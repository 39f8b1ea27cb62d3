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

_KEY_NAMES = (
    r"password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|client[_-]?secret|"
    r"access[_-]?key|private[_-]?key|credentials?"
)

# (pattern, replacement), applied in order. Patterns do not require a word boundary before
# the secret, because a token glued to other text ("id=xoxb-…", "_hvs.…") is still a token.
# Credentials in URLs go before the header patterns, which would otherwise eat the scheme.
_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM blocks (keys, certificates); an unterminated block is masked to the end, since a
    # truncated log line still carries most of the key.
    (
        re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL),
        "[redacted PEM block]",
    ),
    # Credentials in URLs: keep scheme, user and host so the message stays useful.
    (
        re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^\s:/?#@]*):[^\s/?#]*@"),
        r"\1:" + REDACTED + "@",
    ),
    # Slack tokens: bot/user/app-level/config/refresh (xoxb-, xoxp-, xapp-, xoxe.xoxp-, …).
    (re.compile(r"xoxe\.xox[a-z]-[A-Za-z0-9-]+"), "xoxe." + REDACTED),
    (re.compile(r"(xox[a-z]|xapp)-[A-Za-z0-9-]+"), r"\1-" + REDACTED),
    # Vault / OpenBao service, batch and recovery tokens; the legacy `s.` form is too short
    # a prefix to match inside words.
    (re.compile(r"hv[sbr]\.[A-Za-z0-9_-]+"), REDACTED),
    (re.compile(r"(?<![A-Za-z0-9_.])[sbr]\.[A-Za-z0-9]{24,}"), REDACTED),
    # GitHub personal access, OAuth, app and refresh tokens.
    (re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),
    # Authorization header values.
    (re.compile(r"(?i)(bearer)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"(Basic)\s+[A-Za-z0-9+/]{8,}={0,2}"), r"\1 " + REDACTED),
    # key=value and key: value pairs (libpq DSNs, config dumps, query strings, JSON).
    (
        re.compile(
            rf"""(?ix)
            ([a-z0-9_.-]*(?:{_KEY_NAMES}))            # the key, maybe prefixed (db_password)
            (["']?\s*[:=]\s*)                         # separator, maybe after a JSON quote
            (?:"[^"]*"|'[^']*'|[^\s,;&"'}}\]]+)       # the value, quoted or bare
            """
        ),
        r"\1\2" + REDACTED,
    ),
)


def scrub_text(text: str) -> str:
    """Mask every secret-looking value in free text (log lines, error messages, details)."""
    for pattern, replacement in _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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
