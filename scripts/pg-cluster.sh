# Source this file: pg_cluster_start / pg_cluster_stop manage a throw-away PostgreSQL
# cluster on a loopback port, run as the `postgres` user (initdb refuses root).
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# Below 32768: ports above are handed out by the kernel and may be taken for a moment.
PG_PORT=${PG_PORT:-25432}
PG_DATA=""

# PostgreSQL's commands as `postgres` when we are root, run from / : our working directory
# (the checkout) may be a folder `postgres` cannot enter (a 0700 mktemp -d, /root/...), and
# they refuse to start there ("could not change directory ... Permission denied").
_as_postgres() {
  if [[ $(id -u) == 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_cluster_start() {
  PG_DATA=$(mktemp -d /tmp/tropa-pg.XXXXXX)
  chown postgres:postgres "$PG_DATA"
  _as_postgres "$PG_BIN/initdb" -D "$PG_DATA/data" -U tropa --auth=trust -E UTF8 >/dev/null
  _as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/log" -w -o \
    "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_DATA/log" >&2; echo "PostgreSQL did not start on port $PG_PORT" >&2; return 1; }
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" \
    || { cat "$PG_DATA/log" >&2; echo "PostgreSQL is not answering on port $PG_PORT" >&2; return 1; }
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U tropa tropa_test
  export PG_TEST_URL="postgresql+psycopg://tropa@127.0.0.1:$PG_PORT/tropa_test"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DATA)"
}

pg_cluster_stop() {
  [[ -n $PG_DATA ]] || return 0
  _as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m fast stop >/dev/null || true
  rm -rf "$PG_DATA"
}
