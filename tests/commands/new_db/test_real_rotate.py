"""`/platform db-credentials` on this machine's real servers: after a re-issue the server
takes the new password and no longer the old one.

Redis checks passwords at login, so both are tried there. The local PostgreSQL trusts local
logins (any password connects), so there the proof is the role's SCRAM verifier in
`pg_authid`, the very thing a password-checking server compares a login against.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
import redis

from tests.commands.new_db.driving import BOB, dm_texts, open_modal, request
from tests.commands.new_db.test_real_servers import (
    Cleanup,
    DbBot,
    made,  # noqa: F401 (a fixture)
    pg_query,
    realbot,  # noqa: F401 (a fixture)
    reveal,
    unique,
    wait_named,
)


def _reissue(db: DbBot, name: str) -> dict[str, str]:
    """Run `db-credentials NAME`, confirm, and reveal the new credentials from the DM."""
    view = open_modal(db, BOB, f"db-credentials {name}")
    assert db.bot.signer.view_submission(BOB, view.id, {}).body == ""
    db.bot.emulator.state.clear_views(BOB)

    def offered() -> bool:
        return any("New credentials for" in t and name in t for t in dm_texts(db, BOB))

    assert db.bot.emulator.wait_for(offered, timeout=30), dm_texts(db, BOB)[-3:]
    return reveal(db, BOB, wait_named(db, name, "active"))


def _scram_accepts(verifier: str, password: str) -> bool:
    """Whether a login with `password` matches PostgreSQL's SCRAM-SHA-256 `verifier`."""
    method, rest = verifier.split("$", 1)
    assert method == "SCRAM-SHA-256"
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key


@pytest.mark.postgres
def test_after_a_re_issue_postgres_takes_the_new_password_and_not_the_old(
    realbot: DbBot,  # noqa: F811
    made: Cleanup,  # noqa: F811
) -> None:
    name = unique("rotated")
    made("postgres", name)
    request(realbot, BOB, f"new-db postgres {name} --env staging", plan="small")
    old = reveal(realbot, BOB, wait_named(realbot, name, "active"))

    def verifier() -> str:
        return str(pg_query("SELECT rolpassword FROM pg_authid WHERE rolname = %s", old["User"]))

    assert _scram_accepts(verifier(), old["Password"])

    new = _reissue(realbot, name)

    assert new["User"] == old["User"] and new["Password"] != old["Password"]
    assert _scram_accepts(verifier(), new["Password"])
    assert not _scram_accepts(verifier(), old["Password"])


@pytest.mark.redis
def test_after_a_re_issue_redis_refuses_the_old_password(
    realbot: DbBot,  # noqa: F811
    made: Cleanup,  # noqa: F811
) -> None:
    name = unique("rotcache")
    made("redis", name)
    request(realbot, BOB, f"new-db redis {name} --env dev", plan="small")
    old = reveal(realbot, BOB, wait_named(realbot, name, "active"))

    new = _reissue(realbot, name)

    assert new["Password"] != old["Password"]
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(
            host="127.0.0.1", port=6379, username=old["User"], password=old["Password"]
        ).ping()
    client = redis.Redis(
        host="127.0.0.1", port=6379, username=new["User"], password=new["Password"]
    )
    try:
        client.set(f"{name}:greeting", "hi")
        assert client.get(f"{name}:greeting") == b"hi"
        client.delete(f"{name}:greeting")
    finally:
        client.close()
