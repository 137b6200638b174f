#!/usr/bin/env bash
# Starts each service binary for real (own database, ephemeral ports), checks /healthz and
# /readyz, validates a live /metrics scrape with `promtool check metrics`, then stops it with
# SIGTERM and expects a clean exit.
set -uo pipefail
: "${BASTION_TEST_DATABASE_URL:?BASTION_TEST_DATABASE_URL must point at a PostgreSQL server}"

db="smoke_$$_$RANDOM"
admin_url=$BASTION_TEST_DATABASE_URL
db_url="${admin_url%/*}/$db"
psql -q "$admin_url" -c "CREATE DATABASE $db" || exit 1
trap 'psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1' EXIT

# The vault needs a key-encryption key; a throwaway one will do.
export BASTION_KEK="1 $(head -c 32 /dev/urandom | base64)"

# The edge signs sessions with a shared key and serves MCP on its own port.
head -c 32 /dev/urandom | base64 >"$TEST_TMPDIR/session.key"
export BASTION_SESSION_KEY_FILE="$TEST_TMPDIR/session.key"
export BASTION_HTTP_ADDRESS=127.0.0.1:0

failures=0
check_service() {
  local name=$1 bin=$2; shift 2
  local log="$TEST_TMPDIR/$name.log"
  BASTION_DATABASE_URL="$db_url" "$bin" --grpc_address=127.0.0.1:0 --admin_address=127.0.0.1:0 "$@" 2>"$log" &
  local pid=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*"admin_port":\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "FAIL $name: did not start"; cat "$log"; failures=$((failures + 1)); kill "$pid" 2>/dev/null; return
  fi
  local ok=1
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] || { echo "FAIL $name: /healthz"; ok=0; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] || { echo "FAIL $name: /readyz"; ok=0; }
  if ! curl -sf "http://127.0.0.1:$port/metrics" | promtool check metrics; then
    echo "FAIL $name: promtool rejected /metrics"; ok=0
  fi
  local scrape
  scrape=$(curl -sf "http://127.0.0.1:$port/metrics")
  grep -q '^process_start_time_seconds' <<<"$scrape" || { echo "FAIL $name: no process metrics"; ok=0; }
  # Readiness is a metric too, and it says ready.
  grep -q "^bastion_${name}_ready{check=\"[a-z_]*\"} 1\$" <<<"$scrape" ||
    { echo "FAIL $name: no bastion_${name}_ready gauge reading 1"; ok=0; }
  kill -TERM "$pid"
  wait "$pid"
  local rc=$?
  [ "$rc" -eq 0 ] || { echo "FAIL $name: exit code $rc after SIGTERM"; ok=0; }
  if [ "$ok" -eq 1 ]; then echo "PASS $name"; else failures=$((failures + 1)); cat "$log"; fi
}

for spec in "$@"; do
  name=${spec%%=*}
  check_service "$name" "${spec#*=}"
done
[ "$failures" -eq 0 ]
