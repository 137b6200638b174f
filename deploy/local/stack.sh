# Shared by deploy/local/up, deploy/local/down and tests/e2e/run: start and stop the whole
# Bastion stack (PostgreSQL, the PagerDuty simulator, tenant, vault, governance, edge) from
# the Bazel-built binaries, with generated secrets under one state directory. Source it.

bastion_root=${bastion_root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
bastion_bin() { echo "$bastion_root/bazel-bin/$1"; }

stack_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# stack_secrets DIR: creates (once) the operator token, each service's identity token, the
# callee identity lists, the KEK and the session key. Nothing secret is printed.
stack_secrets() {
  local dir=$1/secrets
  [ -f "$dir/operator.token" ] && return 0
  mkdir -p "$dir"
  chmod 700 "$dir"
  local rand='import secrets,sys; sys.stdout.write(secrets.token_urlsafe(32))'
  python3 -c "$rand" >"$dir/operator.token"
  for s in vault governance edge; do python3 -c "$rand" >"$dir/$s.token"; done
  printf 'vault %s\ngovernance %s\nedge %s\n' "$(cat "$dir/vault.token")" "$(cat "$dir/governance.token")" \
    "$(cat "$dir/edge.token")" >"$dir/tenant.identities"
  printf 'edge %s\ngovernance %s\n' "$(cat "$dir/edge.token")" "$(cat "$dir/governance.token")" >"$dir/vault.identities"
  printf 'edge %s\n' "$(cat "$dir/edge.token")" >"$dir/governance.identities"
  printf '1 %s\n' "$(python3 -c 'import secrets,base64,sys; sys.stdout.write(base64.b64encode(secrets.token_bytes(32)).decode())')" >"$dir/kek"
  python3 -c "$rand" >"$dir/session.key"
  python3 -c "$rand" >"$dir/idp.client_secret"
  python3 -c 'import secrets,sys; sys.stdout.write(secrets.token_urlsafe(12))' >"$dir/idp.demo_password"
  chmod 600 "$dir"/*
}

# stack_postgres DIR: starts (or reuses) the cluster under DIR/pg; prints its URL.
stack_postgres() {
  local dir=$1/pg
  if [ -f "$dir/url" ] && psql -q "$(cat "$dir/url")" -c 'select 1' >/dev/null 2>&1; then
    cat "$dir/url"
    return 0
  fi
  local url
  url=$("$bastion_root/tests/pg/start" "$dir") || return 1
  local db_url="${url%/*}/bastion"
  psql -q "$url" -c "CREATE DATABASE bastion" >/dev/null 2>&1 || true
  echo "$db_url" >"$dir/url"
  echo "$db_url"
}

# stack_run DIR NAME BINARY ARGS...: starts a process in the background, logging to DIR/logs.
stack_run() {
  local dir=$1 name=$2 bin=$3
  shift 3
  mkdir -p "$dir/logs" "$dir/pids"
  nohup "$bin" "$@" >"$dir/logs/$name.log" 2>&1 &
  echo $! >"$dir/pids/$name.pid"
}

# stack_wait_ready NAME URL: waits up to 60 s for URL to answer 200.
stack_wait_ready() {
  local name=$1 url=$2
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ] && return 0
    sleep 0.2
  done
  echo "$name did not become ready at $url" >&2
  return 1
}

# stack_start DIR: starts everything. Ports come from the environment (BASTION_PORT_*), or
# are picked free; BASTION_SIM_EXTRA_API_KEYS (key:full,...) adds keys the simulator accepts.
# Writes DIR/stack.env with addresses for the caller to source.
stack_start() {
  local dir=$1
  mkdir -p "$dir"
  stack_secrets "$dir"
  local s=$dir/secrets
  local db_url
  db_url=$(stack_postgres "$dir") || return 1

  local sim_port=${BASTION_PORT_SIM:-$(stack_free_port)}
  local tenant_port=${BASTION_PORT_TENANT:-$(stack_free_port)}
  local vault_port=${BASTION_PORT_VAULT:-$(stack_free_port)}
  local gov_port=${BASTION_PORT_GOVERNANCE:-$(stack_free_port)}
  local edge_grpc_port=${BASTION_PORT_EDGE_GRPC:-$(stack_free_port)}
  local edge_port=${BASTION_PORT_EDGE:-$(stack_free_port)}
  local a_tenant=${BASTION_PORT_TENANT_ADMIN:-$(stack_free_port)}
  local a_vault=${BASTION_PORT_VAULT_ADMIN:-$(stack_free_port)}
  local a_gov=${BASTION_PORT_GOVERNANCE_ADMIN:-$(stack_free_port)}
  local a_edge=${BASTION_PORT_EDGE_ADMIN:-$(stack_free_port)}
  local sim_url="http://127.0.0.1:$sim_port"
  local sim_key=${BASTION_SIM_API_KEY:-sim-full-key}
  local idp_port=${BASTION_PORT_IDP:-$(stack_free_port)}
  local idp_url="http://127.0.0.1:$idp_port"
  local edge_base="http://localhost:$edge_port"

  # The company identity provider people sign in with (a real OpenID provider): one client for
  # Bastion, whose callbacks are per tenant; demo users share one generated password.
  local callbacks="" t
  for t in demo signin-a signin-b signin-c; do callbacks+="$edge_base/oauth/$t/callback,"; done
  IDP_PORT=$idp_port IDP_CLIENT_ID=bastion IDP_CLIENT_SECRET=$(cat "$s/idp.client_secret") \
    IDP_REDIRECT_URIS=$callbacks \
    IDP_USERS=$(python3 -c 'import json,sys; p=sys.argv[1]; print(json.dumps([
      {"email": e, "password": p, "name": e.split("@")[0].title(), "groups": ["responders"]}
      for e in ["demo@example.com","ana@example.com","bo@example.com","cy@example.com","dee@example.com",
                "eve@example.com","fay@example.com"]]))' "$(cat "$s/idp.demo_password")") \
    stack_run "$dir" idp node "$bastion_root/tests/e2e/idp/server.mjs"
  stack_wait_ready idp "$idp_url/.well-known/openid-configuration" || return 1

  stack_run "$dir" pagerduty_sim "$(bastion_bin tests/pagerduty_sim/pagerduty_sim)" \
    --port="$sim_port" --api_keys="$sim_key:full,sim-readonly-key:read_only${BASTION_SIM_EXTRA_API_KEYS:+,$BASTION_SIM_EXTRA_API_KEYS}" \
    --oauth_clients="bastion-local:local-client-secret"
  stack_wait_ready pagerduty_sim "$sim_url/_sim/healthz" || return 1

  export BASTION_DATABASE_URL=$db_url
  stack_run "$dir" tenant "$(bastion_bin services/tenant/tenant)" \
    --grpc_address="127.0.0.1:$tenant_port" --admin_address="127.0.0.1:$a_tenant" \
    --operator_token_file="$s/operator.token" --service_identities_file="$s/tenant.identities"
  stack_wait_ready tenant "http://127.0.0.1:$a_tenant/readyz" || return 1

  stack_run "$dir" vault "$(bastion_bin services/vault/vault)" \
    --grpc_address="127.0.0.1:$vault_port" --admin_address="127.0.0.1:$a_vault" \
    --operator_token_file="$s/operator.token" --service_identities_file="$s/vault.identities" \
    --service_token_file="$s/vault.token" --tenant_address="127.0.0.1:$tenant_port" --kek_file="$s/kek" \
    --oauth_authorize_url="$sim_url/oauth/authorize" --oauth_token_url="$sim_url/oauth/token" \
    --oauth_redirect_url="http://localhost:$edge_port/oauth/callback" \
    --pagerduty_api_url="$sim_url" --pagerduty_eu_api_url="$sim_url" --idp_allow_http
  stack_wait_ready vault "http://127.0.0.1:$a_vault/readyz" || return 1

  stack_run "$dir" governance "$(bastion_bin services/governance/governance)" \
    --grpc_address="127.0.0.1:$gov_port" --admin_address="127.0.0.1:$a_gov" \
    --operator_token_file="$s/operator.token" --service_identities_file="$s/governance.identities" \
    --service_token_file="$s/governance.token" --tenant_address="127.0.0.1:$tenant_port" \
    --vault_address="127.0.0.1:$vault_port"
  stack_wait_ready governance "http://127.0.0.1:$a_gov/readyz" || return 1

  stack_run "$dir" edge "$(bastion_bin services/edge/edge)" \
    --grpc_address="127.0.0.1:$edge_grpc_port" --admin_address="127.0.0.1:$a_edge" \
    --http_address="127.0.0.1:$edge_port" --service_token_file="$s/edge.token" \
    --session_key_file="$s/session.key" --tenant_address="127.0.0.1:$tenant_port" \
    --vault_address="127.0.0.1:$vault_port" --governance_address="127.0.0.1:$gov_port" \
    --pagerduty_api_url="$sim_url" --pagerduty_eu_api_url="$sim_url" \
    --user_requests_per_second_by_tenant="${BASTION_EDGE_USER_RATES:-}" \
    --signin --public_url="$edge_base" --signin_allow_insecure_local
  stack_wait_ready edge "http://127.0.0.1:$a_edge/readyz" || return 1

  # A second edge replica on the same key, when asked: sessions need no stickiness.
  local edge2_base=""
  if [ "${BASTION_EDGE_REPLICAS:-1}" -ge 2 ]; then
    local edge2_port a_edge2
    edge2_port=$(stack_free_port)
    a_edge2=$(stack_free_port)
    stack_run "$dir" edge2 "$(bastion_bin services/edge/edge)" \
      --grpc_address="127.0.0.1:$(stack_free_port)" --admin_address="127.0.0.1:$a_edge2" \
      --http_address="127.0.0.1:$edge2_port" --service_token_file="$s/edge.token" \
      --session_key_file="$s/session.key" --tenant_address="127.0.0.1:$tenant_port" \
      --vault_address="127.0.0.1:$vault_port" --governance_address="127.0.0.1:$gov_port" \
      --pagerduty_api_url="$sim_url" --pagerduty_eu_api_url="$sim_url" \
      --user_requests_per_second_by_tenant="${BASTION_EDGE_USER_RATES:-}" \
      --signin --public_url="http://localhost:$edge2_port" --signin_allow_insecure_local
    stack_wait_ready edge2 "http://127.0.0.1:$a_edge2/readyz" || return 1
    edge2_base="http://localhost:$edge2_port"
  fi
  unset BASTION_DATABASE_URL

  cat >"$dir/stack.env" <<ENV
BASTION_DATABASE_URL=$db_url
BASTION_TENANT_ADDR=127.0.0.1:$tenant_port
BASTION_VAULT_ADDR=127.0.0.1:$vault_port
BASTION_GOVERNANCE_ADDR=127.0.0.1:$gov_port
BASTION_EDGE_BASE_URL=http://localhost:$edge_port
BASTION_EDGE2_BASE_URL=$edge2_base
BASTION_PAGERDUTY_SIM_URL=$sim_url
BASTION_SIM_API_KEY=$sim_key
BASTION_METRICS_URLS="http://127.0.0.1:$a_tenant/metrics http://127.0.0.1:$a_vault/metrics http://127.0.0.1:$a_gov/metrics http://127.0.0.1:$a_edge/metrics"
BASTION_ADMIN_TOKEN=$(cat "$s/operator.token")
BASTION_IDP_URL=$idp_url
BASTION_IDP_CLIENT_ID=bastion
BASTION_IDP_CLIENT_SECRET=$(cat "$s/idp.client_secret")
BASTION_IDP_DEMO_PASSWORD=$(cat "$s/idp.demo_password")
ENV
  chmod 600 "$dir/stack.env"
}

# stack_stop DIR [keep-db]: stops every process the stack started and the database; with
# keep-db the database's files stay for the next start, otherwise they are removed.
stack_stop() {
  local dir=$1 keep_db=${2:-}
  for name in edge2 edge governance vault tenant pagerduty_sim idp; do
    local pidfile=$dir/pids/$name.pid
    [ -f "$pidfile" ] || continue
    local pid
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
  done
  if [ -f "$dir/pg/data/PG_VERSION" ]; then
    if [ "$keep_db" = keep-db ]; then
      local run_as=()
      [ "$(id -u)" -eq 0 ] && run_as=(runuser -u postgres --)
      "${run_as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/pg/data" -m fast -w stop >/dev/null 2>&1 || true
    else
      "$bastion_root/tests/pg/stop" "$dir/pg" >/dev/null 2>&1 || true
    fi
  fi
}
