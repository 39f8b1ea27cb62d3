"""A `preview` environment (PostgreSQL, Redis, a RabbitMQ vhost) on this machine's servers,
through the emulator: planned, created, shown, cloned with its data, extended, destroyed
without leftovers; and a server down during a create rolls back the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pika
import psycopg
import pytest
import redis

from commands.environments.ids import CallbackId
from tests.commands.environments.conftest import EnvBot
from tests.commands.environments.driving import (
    BOB,
    create,
    destroy,
    dm_texts,
    env_named,
    ephemeral,
    extend,
    fill,
    open_form,
    plan_view,
    resource_rows,
    reveal,
    text_of,
    told,
    wait_status,
)
from tests.commands.environments.real import (  # noqa: F401 (drop_after: a fixture)
    RABBITMQ_API,
    DropAfter,
    drop_after,
    left_on_servers,
    rabbitmq_get,
    real_env_config,
    real_envbot,
)
from tests.commands.new_db.test_real_servers import unique
from tests.integrations.provisioning.conftest import unused_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]
READY_WITHIN = 60.0


@pytest.fixture
def realbot(tmp_path: Path, migrated_schema: Path) -> Iterator[EnvBot]:
    with real_envbot(tmp_path, real_env_config(tmp_path), migrated_schema) as bot:
        yield bot


def _confirm(bot: EnvBot, user: str, command: str, **fields: str) -> str:
    """Form → plan; the plan's text, after nothing was made yet; then Confirm."""
    view = open_form(bot, user, command)
    fill(bot, user, view, **fields)
    plan = plan_view(bot, user, view.id)
    assert plan.spec.get("callback_id") == CallbackId.PLAN, text_of(plan)
    response = bot.bot.signer.view_submission(user, plan.id)
    assert response.status == 200 and "Environment requested" in response.body, response.body
    return text_of(plan)


def _write_data(creds: dict[str, str], name: str) -> None:
    """A row and a customer in the database, a key under the prefix, a queue in the vhost."""
    with psycopg.connect(creds["db.url"], autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int)")
        conn.execute("INSERT INTO orders VALUES (42)")
        conn.execute("CREATE TABLE customers (id int, email text)")
        conn.execute("INSERT INTO customers VALUES (1, 'bob@real.example')")
    cache = redis.Redis.from_url(creds["cache.url"])
    try:
        cache.set(f"{name}-cache:greeting", "hi")
    finally:
        cache.close()
    connection = pika.BlockingConnection(pika.URLParameters(creds["queue.url"]))
    try:
        connection.channel().queue_declare(queue="orders.events", durable=True)
    finally:
        connection.close()


def _customers(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT id, email FROM customers").fetchall()


def test_a_preview_environment_is_cloned_with_its_data_and_destroyed_without_leftovers(
    realbot: EnvBot,
    drop_after: DropAfter,  # noqa: F811 (the imported fixture)
) -> None:
    name, copy = unique("pv"), unique("cl")
    drop_after(name)
    drop_after(copy)
    plan = _confirm(realbot, BOB, f"env create preview {name}", tier="dev")
    for line in (f"PostgreSQL `{name}-db`", f"Redis `{name}-cache`", f"RabbitMQ `{name}-queue`"):
        assert line in plan
    env = wait_status(realbot, name, "ready", timeout=READY_WITHIN)
    creds = reveal(realbot, BOB, env.id)
    assert {"db.url", "cache.url", "queue.url", "db.password"} <= set(creds)
    _write_data(creds, name)  # each resource answers its own credentials
    shown = ephemeral(realbot, BOB, f"env show {name}")
    assert f"PostgreSQL `{name}-db` (small): ready" in shown
    assert f"RabbitMQ `{name}-queue` (small): ready" in shown

    plan = _confirm(realbot, BOB, f"env clone {name} {copy}")
    assert f"PostgreSQL `{copy}-db` (small) with the data of `{name}`" in plan
    cloned = wait_status(realbot, copy, "ready", timeout=READY_WITHIN)
    copied = reveal(realbot, BOB, cloned.id)
    with psycopg.connect(copied["db.url"]) as conn:
        assert conn.execute("SELECT id FROM orders").fetchall() == [(42,)]
    # The template's mask_sql ran on the copy only.
    assert _customers(copied["db.url"]) == [(1, "user1@example.invalid")]
    assert _customers(creds["db.url"]) == [(1, "bob@real.example")]
    cache = redis.Redis.from_url(copied["cache.url"])
    try:
        assert cache.get(f"{copy}-cache:greeting") == b"hi"
    finally:
        cache.close()
    assert rabbitmq_get(f"queues/{copy}-queue/orders.events").status_code == 200

    before = env_named(realbot, name).expires_at
    assert before is not None
    assert "now expires" in extend(realbot, BOB, name, "24", "the demo is on Friday")
    assert env_named(realbot, name).expires_at == before + timedelta(hours=24)

    for gone in (name, copy):
        modal = text_of(destroy(realbot, BOB, gone))
        assert f"`{gone}-db`" in modal and f"Type {gone} to confirm" in modal
        wait_status(realbot, gone, "destroyed", timeout=READY_WITHIN)
        assert left_on_servers(gone) == []
        assert told(realbot, BOB, f"Environment `{gone}` is gone.")


def test_a_server_down_is_named_in_the_plan_and_nothing_is_made(
    tmp_path: Path,
    migrated_schema: Path,
    drop_after: DropAfter,  # noqa: F811 (the imported fixture)
) -> None:
    down = f"http://127.0.0.1:{unused_port()}"
    config = real_env_config(tmp_path, rabbitmq={"management_url": down})
    name = unique("dn")
    drop_after(name)
    with real_envbot(tmp_path, config, migrated_schema) as bot:
        view = open_form(bot, BOB, f"env create preview {name}")
        fill(bot, BOB, view, tier="dev")
        shown = text_of(plan_view(bot, BOB, view.id))
        assert f"RabbitMQ `{name}-queue`: checking the server failed" in shown
        assert "cannot reach the management API" in shown
        assert CallbackId.PLAN not in shown  # no Confirm: nothing can be made from here
    assert left_on_servers(name) == []


def test_a_resource_that_fails_rolls_back_the_others_and_names_it(
    tmp_path: Path,
    migrated_schema: Path,
    drop_after: DropAfter,  # noqa: F811 (the imported fixture)
) -> None:
    name = unique("rb")
    drop_after(name)
    vhost = f"{name}-queue"
    # Someone else's vhost under the queue's name: the environment must not take it over.
    assert httpx.put(f"{RABBITMQ_API}/vhosts/{vhost}", auth=("guest", "guest")).status_code < 300
    try:
        with real_envbot(tmp_path, real_env_config(tmp_path), migrated_schema) as bot:
            create(bot, BOB, f"env create preview {name}", tier="dev")
            env = wait_status(bot, name, "failed", timeout=READY_WITHIN)
            assert told(bot, BOB, "did not create; it was left alone"), dm_texts(bot, BOB)
            failure = [t for t in dm_texts(bot, BOB) if "was not created" in t][-1]
            assert f"`{vhost}`" in failure
            assert told(bot, BOB, "Everything it had created was removed.")
            states = {r.key: r.state for r in resource_rows(bot, env.id)}
            assert states["queue"] == "planned"  # never ours
            assert rabbitmq_get(f"vhosts/{vhost}").status_code == 200  # left alone
        assert [item for item in left_on_servers(name) if vhost not in item] == []
    finally:
        httpx.delete(f"{RABBITMQ_API}/vhosts/{vhost}", auth=("guest", "guest"))
