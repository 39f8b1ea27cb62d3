"""`/platform new-db rabbitmq` over signed HTTP, provisioning through RabbitMQ's management API.

The bot runs with the provisioner `build_services` builds from the example config (the
management API on 127.0.0.1:15672 as guest), so this covers the wiring: the credentials the
requester reveals open a real AMQP connection to their own vhost, and drop removes it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pika
import pytest

from tests.commands.new_db.driving import BOB, dm_texts, request
from tests.commands.new_db.test_real_servers import (  # noqa: F401 (made, realbot: fixtures)
    Cleanup,
    DbBot,
    drop_db,
    made,
    real_config,
    realbot,
    reveal,
    running,
    unique,
    wait_named,
)
from tests.integrations.provisioning.conftest import unused_port

pytestmark = pytest.mark.rabbitmq


def _admin_read(path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:15672/api/{path}", auth=("guest", "guest"), timeout=10)


def test_a_rabbitmq_user_gets_its_own_vhost_with_the_plans_limits_until_dropped(
    realbot: DbBot,  # noqa: F811 (the imported fixture)
    made: Cleanup,  # noqa: F811 (the imported fixture)
) -> None:
    name = unique("queue")
    made("rabbitmq", name)
    request(realbot, BOB, f"new-db rabbitmq {name} --env staging", plan="small")
    creds = reveal(realbot, BOB, wait_named(realbot, name, "active"))
    assert (creds["User"], creds["Database"]) == (name, name)
    connection = pika.BlockingConnection(pika.URLParameters(creds["URL"]))
    try:
        channel = connection.channel()
        channel.queue_declare(queue="orders.events")
        channel.basic_publish(exchange="", routing_key="orders.events", body=b"hello")
        assert channel.basic_get("orders.events", auto_ack=True)[2] == b"hello"
    finally:
        connection.close()
    # The example config's small plan: connection_limit 20, max_messages 100000.
    assert _admin_read(f"vhost-limits/{name}").json()[0]["value"] == {"max-connections": 20}
    policy = _admin_read(f"operator-policies/{name}/platform-limits").json()
    assert policy["definition"] == {"max-length": 100000}

    drop_db(realbot, BOB, name)
    assert _admin_read(f"vhosts/{name}").status_code == 404
    assert _admin_read(f"users/{name}").status_code == 404


def test_an_unreachable_management_api_gets_a_specific_message(
    tmp_path: Path,
    made: Cleanup,  # noqa: F811 (the imported fixture)
) -> None:
    down = f"http://127.0.0.1:{unused_port()}"
    config = real_config(tmp_path, rabbitmq={"management_url": down})
    name = unique("down")
    made("rabbitmq", name)
    with running(tmp_path, config) as db:
        request(db, BOB, f"new-db rabbitmq {name} --env staging", plan="small")
        wait_named(db, name, "failed")
        assert db.bot.emulator.wait_for(
            lambda: any(
                "RabbitMQ was unavailable while checking the server" in t for t in dm_texts(db, BOB)
            )
        )
    assert _admin_read(f"vhosts/{name}").status_code == 404
