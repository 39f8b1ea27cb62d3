#!/usr/bin/env bash
# Start each local server the tests use that is not already answering on its port.
# The machines this runs on have them installed; CI must not assume they are running.
set -uo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local name=$1 port=$2
  for _ in $(seq 1 60); do
    port_open "$port" && return 0
    sleep 0.5
  done
  echo "services: $name did not come up on port $port" >&2
  return 1
}

ensure() {
  local name=$1 port=$2; shift 2
  if port_open "$port"; then
    return 0
  fi
  echo "services: starting $name"
  "$@" >/dev/null 2>&1 || true
  wait_port "$name" "$port"
}

status=0
ensure PostgreSQL 5432 bash -c 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' || status=1
ensure MariaDB 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || status=1
ensure Redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || status=1
# RabbitMQ boots for longer than wait_port's 30 s on a busy 2-core machine: the start command
# itself waits (up to 2 min) until the node answers rabbitmqctl.
# The management plugin is enabled offline first, so a node started here serves the HTTP API
# from boot.
ensure RabbitMQ 5672 bash -c 'rabbitmq-plugins -q --offline enable rabbitmq_management; rabbitmq-server -detached; for _ in $(seq 1 120); do rabbitmqctl -q await_startup && exit 0; sleep 1; done; exit 1' || status=1
# The bot provisions over the management HTTP API (15672). On a node that was already running
# without the plugin, enabling it starts the plugin in place; when the port answers, nothing
# runs (each rabbitmq-plugins call starts an Erlang VM).
ensure "RabbitMQ management" 15672 rabbitmq-plugins -q enable rabbitmq_management || status=1
ensure NATS 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || status=1
exit $status
