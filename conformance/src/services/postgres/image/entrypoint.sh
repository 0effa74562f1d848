#!/bin/sh
# A small subset of the official image's entrypoint: initdb with POSTGRES_USER /
# POSTGRES_PASSWORD / POSTGRES_DB (or POSTGRES_HOST_AUTH_METHOD=trust), then run postgres on every
# interface. The image build runs `postgres-init` once with the test services' defaults, so a
# container with those settings starts without initdb; other settings re-initialise that cluster.
set -e
bin=/usr/lib/postgresql/15/bin
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" != "postgres" ] && [ "$1" != "postgres-init" ]; then exec "$@"; fi
mode="$1"
shift

signature="$(printf '%s\n' "$user" "$db" "$method" "${POSTGRES_PASSWORD:-}" | sha256sum | cut -c1-32)"
marker="$PGDATA/.outrig-init"
if [ -s "$PGDATA/PG_VERSION" ] && [ -f "$marker" ] && [ "$(cat "$marker")" != "$signature" ]; then
  echo "outrig-postgres: settings differ from the prepared cluster; initialising again" >&2
  find "$PGDATA" -mindepth 1 -delete
fi

mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$method" != "trust" ]; then
    echo "outrig-postgres: set POSTGRES_PASSWORD or POSTGRES_HOST_AUTH_METHOD=trust" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" >"$pwfile"
  chown postgres "$pwfile"
  as_postgres "$bin/initdb" -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host="$method" >/dev/null
  rm -f "$pwfile"
  echo "host all all all $method" >>"$PGDATA/pg_hba.conf"
  if [ "$db" != "postgres" ]; then
    echo "CREATE DATABASE \"$db\";" | as_postgres "$bin/postgres" --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "$signature" >"$marker"
  echo "outrig-postgres: initialised $PGDATA (user $user, database $db)" >&2
fi
[ "$mode" = "postgres-init" ] && exit 0
exec setpriv --reuid=postgres --regid=postgres --init-groups "$bin/postgres" -D "$PGDATA" \
  -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
