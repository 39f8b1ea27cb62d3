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
exit $status
