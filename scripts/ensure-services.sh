#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests use are reachable; start local ones that are
# installed but stopped. Only checks the default local servers: a DATABASE_URL / REDIS_URL given
# by the caller is the caller's to keep running.
set -euo pipefail

if [ -z "${DATABASE_URL_GIVEN:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      echo "Starting the local PostgreSQL cluster..."
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
      for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    else
      echo "PostgreSQL is not installed. Install it (Debian: apt-get install postgresql) or set" \
           "DATABASE_URL=postgres://USER:PASS@HOST:PORT/DB" >&2
      exit 1
    fi
  fi
fi

if [ -z "${REDIS_URL_GIVEN:-}" ]; then
  if ! (command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1); then
    if command -v redis-server >/dev/null; then
      echo "Starting a local Redis..."
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
      for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
    else
      echo "Redis is not installed. Install it (Debian: apt-get install redis-server) or set" \
           "REDIS_URL=redis://HOST:6379/0" >&2
      exit 1
    fi
  fi
fi
