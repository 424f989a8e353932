#!/usr/bin/env bash
# Create (or re-create) the PostgreSQL test database named in the URL given as $1.
set -euo pipefail
url="$1"
name="${url##*/}"
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  # This machine kind starts PostgreSQL before CI; start it again if it has stopped.
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.5; done
  fi
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL không chạy trên 127.0.0.1:5432 (PostgreSQL is not running on 127.0.0.1:5432)." >&2
  exit 1
fi
psql -h 127.0.0.1 -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\"" 2>&1 \
  | grep -v "does not exist, skipping" || true
