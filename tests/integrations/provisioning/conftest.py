"""Shared fixtures for the provisioners' real-service tests (servers on 127.0.0.1).

Names are unique per test (`t<hex>-db`), and every test drops what it made, also on failure.
"""

from __future__ import annotations

import socket
import uuid

import pytest

from integrations.provisioning_protocols import Provisioner, ResourceSpec

ADMIN_SECRET = "admin-Secret-9f8e7d"
"""A distinctive admin password, searched for in error messages that must not contain it."""


@pytest.fixture
def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:10]}-db"


def provision(provisioner: Provisioner, spec: ResourceSpec, password: str) -> None:
    """The steps a provisioning job runs after its checks: resource, user, grant."""
    provisioner.create_resource(spec)
    provisioner.create_user(spec, password)
    provisioner.grant(spec)


def unused_port() -> int:
    """A local TCP port nothing listens on (connections to it are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


HOSTILE_NAMES = [
    'x"; DROP TABLE users; --',
    "Orders-DB",
    "a" * 64,
    "orders_db",
    "orders-",
    "-orders",
    "9orders",
    "ab",
    "orders db",
    "orders\ndb",
    "orders`db",
    "postgres",
    "default",
    "",
]
