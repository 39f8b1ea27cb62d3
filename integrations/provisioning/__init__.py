"""Real provisioners, one module per engine, each implementing `provisioning_protocols.Provisioner`.

    postgres.PostgresProvisioner   role + database owned by it, CONNECT revoked from PUBLIC
    mariadb.MariaDBProvisioner     database + user with grants on that database only
    redis.RedisProvisioner         ACL user confined to `<name>:*` keys and channels
    rabbitmq.RabbitMQProvisioner   vhost + user with permissions on that vhost only (HTTP API)
    nats.NatsProvisioner           JetStream stream on `<name>.>` with the plan's limits
    sqlite.SqliteProvisioner       a file in a data directory, readable by its owner only

Each also implements `provisioning_protocols.DataCloner` (`clone_resource`: a new resource
holding a copy of another's data; `postgres_clone` and `nats_clone` hold the longer copies),
and the SQL engines `provisioning_protocols.SqlRunner` (`run_sql`: a masking script run on a
copy).

Modules are imported one by one (not from here) so that a deployment without, say, NATS
never imports its client library.
"""

from __future__ import annotations

import secrets


def new_password() -> str:
    """A generated password: 32 URL-safe characters (192 bits), safe in any connection URL."""
    return secrets.token_urlsafe(24)


def scrub(text: str, *secrets_: str) -> str:
    """`text` with every non-empty secret in `secrets_` replaced by `***`.

    Driver messages are kept in errors because they say what went wrong; this is the last
    guard that a password or hash we sent cannot come back out through one of them.
    """
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return text
