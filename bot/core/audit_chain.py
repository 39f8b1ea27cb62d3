"""The audit log's hash chain: what makes a rewritten, removed or reordered record visible.

Each record carries `hash = SHA-256(prev_hash || canonical content)`, where the canonical
content is every column but the two hashes as JSON with sorted keys, and `prev_hash` is the
hash of the record before it (by id; the first record follows `GENESIS`). Appends are
serialised (`serialise_appends`), so the chain is one line even with several processes
writing: on PostgreSQL a transaction-scoped advisory lock, held until the appending
transaction ends; on SQLite the database's one write lock, taken before the last record is
read. The chain shows tampering, it does not prevent it: someone who can rewrite every
record after the one they changed can rebuild the chain, so operators keep the head hash
that `platform-bot audit verify` prints somewhere the bot cannot write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
"""The `prev_hash` of the first record."""

# An arbitrary constant key for pg_advisory_xact_lock: "audit" in ASCII.
_ADVISORY_KEY = 0x6175646974


def canonical_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """`inputs` as the JSON column gives it back, so the hash written equals the hash read."""
    loaded: dict[str, Any] = json.loads(json.dumps(inputs, default=str))
    return loaded


def canonical_content(
    *,
    id: int,
    created_at: datetime,
    actor: str,
    action: str,
    outcome: str,
    inputs: Mapping[str, Any],
    idempotency_key: str | None,
    target: str | None,
    detail: str | None,
) -> str:
    document = {
        "id": id,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "inputs": inputs,
        "idempotency_key": idempotency_key,
        "target": target,
        "detail": detail,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def serialise_appends(session: Session) -> None:
    """Hold the audit log's append lock until `session`'s transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_KEY})
        return
    # SQLite: a write that matches no row still takes the write lock (and opens the
    # transaction), so the last record read next cannot change before this one is added.
    # It matches no row, so the append-only trigger (FOR EACH ROW) does not fire.
    session.execute(text("UPDATE audit_record SET id = id WHERE 0 = 1"))


def next_link(session: Session) -> tuple[int, str]:
    """The id and `prev_hash` of the record being appended (call under the append lock).

    One statement: the ack of a command that records an action waits for it.
    """
    if session.get_bind().dialect.name == "postgresql":
        # The column's own sequence, so inserts that leave the id to the database still agree.
        row = session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('audit_record', 'id')), "
                "(SELECT hash FROM audit_record ORDER BY id DESC LIMIT 1)"
            )
        ).one()
        return int(row[0]), row[1] or GENESIS
    last = session.execute(
        text("SELECT id, hash FROM audit_record ORDER BY id DESC LIMIT 1")
    ).first()
    return (int(last[0]) + 1, last[1]) if last is not None else (1, GENESIS)
