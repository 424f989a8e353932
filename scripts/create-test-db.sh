#!/usr/bin/env bash
# Create (or re-create) the PostgreSQL test database named in the URL given as $1.
set -euo pipefail
url="$1"
name="${url##*/}"
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL không chạy trên 127.0.0.1:5432 (PostgreSQL is not running). Start it with:" >&2
  echo "  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
  exit 1
fi
psql -h 127.0.0.1 -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
