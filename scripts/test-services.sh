#!/usr/bin/env bash
# What `pnpm test` needs besides Node and the packages, installed (Debian packages, as root) and
# started when missing: Redis on 127.0.0.1:6379, PostgreSQL on 127.0.0.1:5432 with trust auth on
# loopback and a `test` database, and Chromium at /usr/bin/chromium (the dashboard's browser test).
#
# `pnpm test` runs it first; `.ci/run` runs it through `pnpm test` too. Idempotent, and silent when
# everything is already there. When TEST_REDIS_URL or TEST_DATABASE_URL is set, the tests use that
# service and no local one is checked or started. Not being root is fine as long as nothing is
# missing; what is missing and needs root to install is named, and the script exits 1.
set -euo pipefail

REDIS_HOST=127.0.0.1 REDIS_PORT=6379
PG_URL="postgres://postgres@127.0.0.1:5432/test"
CHROMIUM=/usr/bin/chromium

say() { printf 'test-services: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

APT_UPDATED=0
apt_install() {
  is_root || fail "Debian package(s) $* missing, and installing them needs root: run 'sudo apt-get install $*' and try again"
  command -v apt-get >/dev/null 2>&1 || fail "Debian package(s) $* missing and there is no apt-get here: install them by hand"
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# True when a Redis answers PING on host $1 port $2 (bash's /dev/tcp, so no redis-cli is needed).
redis_up() {
  local reply=""
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  printf 'PING\r\n' >&3
  read -r -t 2 reply <&3 || true
  exec 3<&- 3>&-
  [[ "$reply" == +PONG* ]]
}

# True when something accepts TCP connections on host $1 port $2.
port_open() {
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  exec 3<&- 3>&-
}

wait_for() { # what, seconds, command...
  local what=$1 seconds=$2
  shift 2
  for _ in $(seq 1 "$((seconds * 5))"); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  fail "$what did not come up within $seconds s"
}

redis() {
  if [ -n "${TEST_REDIS_URL:-}" ]; then return; fi
  if redis_up "$REDIS_HOST" "$REDIS_PORT"; then return; fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  is_root || fail "no Redis at $REDIS_HOST:$REDIS_PORT; start one (or set TEST_REDIS_URL)"
  say "starting Redis on $REDIS_HOST:$REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/test-services.log >/dev/null
  wait_for "Redis" 30 redis_up "$REDIS_HOST" "$REDIS_PORT"
}

pg_test_db_ok() { psql "$PG_URL" -Atc "select 1" >/dev/null 2>&1; }

postgres() {
  if [ -n "${TEST_DATABASE_URL:-}" ]; then return; fi
  if port_open 127.0.0.1 5432; then
    # Up. Without a psql client there is nothing more to check from here: the tests will tell.
    if ! command -v psql >/dev/null 2>&1 || pg_test_db_ok; then return; fi
  fi
  if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
    if port_open 127.0.0.1 5432; then fail "a PostgreSQL answers on 127.0.0.1:5432 but $PG_URL does not work (trust auth and a 'test' database are needed), and it is not a local cluster this script can set up; fix it or set TEST_DATABASE_URL"; fi
    apt_install postgresql
  fi
  is_root || fail "PostgreSQL at 127.0.0.1:5432 is not up or has no 'test' database with trust auth; fix it (or set TEST_DATABASE_URL)"
  local version conf
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$version/main
  # Trust on loopback only: a throwaway test server, never one that holds data of value.
  if grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1/32|::1/128)[[:space:]]+(scram-sha-256|md5|peer|ident)' "$conf/pg_hba.conf"; then
    say "PostgreSQL $version: trust auth on loopback"
    sed -Ei 's/^(host[[:space:]]+all[[:space:]]+all[[:space:]]+(127\.0\.0\.1\/32|::1\/128)[[:space:]]+)(scram-sha-256|md5|peer|ident)/\1trust/' "$conf/pg_hba.conf"
    if port_open 127.0.0.1 5432; then pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null; fi
  fi
  if ! port_open 127.0.0.1 5432; then
    say "starting PostgreSQL $version on 127.0.0.1:5432"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    wait_for "PostgreSQL" 30 port_open 127.0.0.1 5432
  fi
  if ! pg_test_db_ok; then
    say "creating the 'test' database"
    su postgres -c "createdb test" >/dev/null 2>&1 || true
  fi
  wait_for "the 'test' database" 10 pg_test_db_ok
}

chromium() {
  if [ -x "$CHROMIUM" ]; then return; fi
  apt_install chromium
  [ -x "$CHROMIUM" ] || fail "the chromium package did not install $CHROMIUM"
}

redis
postgres
chromium
