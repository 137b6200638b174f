#!/usr/bin/env bash
# Renders deploy/helm/bastion the way `helm template` would (Helm is not installable here: the
# renderer in helmrender/ follows Helm 3's engine on Debian's Go, sprig and yaml packages) with
# the trial values, an external database, and production-like values, and checks what comes out:
# every object parses and is named, selectors select the pods, probe and Service ports exist,
# referenced Secrets and keys exist, every file a flag names is mounted, containers are locked
# down, and no Secret value is a default. TLS values (values-tls.yaml) wire each service's
# certificate Secret into its flags; incomplete TLS settings are refused.
set -uo pipefail

tmp=${TEST_TMPDIR:-$(mktemp -d)}
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$tmp/gocache" GOFLAGS= HOME="$tmp" TMPDIR="$tmp"
render_bin="$tmp/helmrender"
if ! go build -o "$render_bin" tests/helm/helmrender/*.go; then
  echo "FAIL: cannot build the renderer (bazel/setup installs golang-go and the sprig/yaml packages)"
  exit 1
fi

chart=deploy/helm/bastion
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "PASS: $*"; }

render() {  # render OUT ARGS...: renders into OUT, failing the test on an error
  local out=$1; shift
  if "$render_bin" render --chart "$chart" "$@" >"$out" 2>"$out.err"; then return 0; fi
  fail "render $* failed: $(cat "$out.err")"
  return 1
}
check() {  # check NAME ARGS...: runs the object checks
  local name=$1; shift
  if "$render_bin" check --defaults "$chart/values.yaml" "$@"; then pass "$name"; else fail "$name"; fi
}
count_kind() { grep -c "^kind: $2\$" "$1"; }

# ---- The chart ships the same alerts and dashboard as deploy/prometheus and deploy/grafana.
cmp -s deploy/prometheus/rules.yaml "$chart/files/prometheus-rules.yaml" &&
  pass "chart's prometheus-rules.yaml is deploy/prometheus/rules.yaml" ||
  fail "$chart/files/prometheus-rules.yaml differs from deploy/prometheus/rules.yaml: copy it over"
cmp -s deploy/grafana/bastion.json "$chart/files/grafana-dashboard.json" &&
  pass "chart's grafana-dashboard.json is deploy/grafana/bastion.json" ||
  fail "$chart/files/grafana-dashboard.json differs from deploy/grafana/bastion.json: copy it over"

# ---- Every key of values.yaml is documented with `## @param` (and the checker notices one that is not).
"$render_bin" params "$chart/values.yaml" && pass "every values.yaml key has a ## @param" || fail "undocumented values"
out=$("$render_bin" params tests/helm/testdata/undocumented-values.yaml)
grep -q 'a.c has no' <<<"$out" && grep -q 'zz (documented, but not in the values)' <<<"$out" &&
  pass "the @param check reports undocumented and stale keys" || fail "the @param check missed: $out"

# ---- Bare defaults name no database: the install must stop with a message saying what to set.
if "$render_bin" render --chart "$chart" >"$tmp/bare.yaml" 2>"$tmp/bare.err"; then
  fail "defaults without a database rendered instead of asking for one"
elif grep -q "Bastion needs a PostgreSQL database: set database.existingSecret" "$tmp/bare.err"; then
  pass "defaults without a database are refused with a clear message"
else
  fail "defaults without a database failed for another reason: $(cat "$tmp/bare.err")"
fi

# ---- Trial install: defaults plus the bundled PostgreSQL; every secret generated.
if render "$tmp/trial1.yaml" --set postgres.enabled=true && render "$tmp/trial2.yaml" --set postgres.enabled=true; then
  # Two renders must differ in every Secret value: they are generated, not fixed by the chart.
  check "trial values (bundled PostgreSQL, generated secrets)" --compare "$tmp/trial2.yaml" "$tmp/trial1.yaml"
  [ "$(count_kind "$tmp/trial1.yaml" Secret)" = 5 ] && pass "trial creates its 5 Secrets" ||
    fail "trial should create 5 Secrets, made $(count_kind "$tmp/trial1.yaml" Secret)"
  [ "$(count_kind "$tmp/trial1.yaml" StatefulSet)" = 1 ] && pass "trial runs the bundled PostgreSQL" ||
    fail "trial has no PostgreSQL StatefulSet"
  ids=$("$render_bin" get "$tmp/trial1.yaml" Secret bastion-service-identities data)
  edge_token=$(echo "$ids" | sed -n 's/^edge.token: //p' | base64 -d)
  tenant_ids=$(echo "$ids" | sed -n 's/^tenant.identities: //p' | base64 -d)
  vault_ids=$(echo "$ids" | sed -n 's/^vault.identities: //p' | base64 -d)
  gov_ids=$(echo "$ids" | sed -n 's/^governance.identities: //p' | base64 -d)
  # The callee lists hold the callers' own tokens (docs/security.md): edge -> all three.
  if [ -n "$edge_token" ] && grep -qx "edge $edge_token" <<<"$tenant_ids" && grep -qx "edge $edge_token" <<<"$vault_ids" &&
     grep -qx "edge $edge_token" <<<"$gov_ids"; then
    pass "each callee accepts the edge's own token"
  else
    fail "service identities do not hold the edge's token"
  fi
  grep -q '^governance ' <<<"$vault_ids" && ! grep -q '^vault ' <<<"$gov_ids" &&
    pass "the vault accepts governance; governance accepts only the edge" ||
    fail "callee lists admit the wrong services"
  kek=$("$render_bin" get "$tmp/trial1.yaml" Secret bastion-kek data kek | base64 -d)
  [[ $kek =~ ^1\ [A-Za-z0-9+/]{43}=$ ]] && [ "$(echo "${kek#1 }" | base64 -d | wc -c)" = 32 ] &&
    pass "generated KEK is version 1 with a 32-byte key" || fail "generated KEK is not '1 <base64 32 bytes>'"
  url=$("$render_bin" get "$tmp/trial1.yaml" Secret bastion-database data database-url | base64 -d)
  password=$("$render_bin" get "$tmp/trial1.yaml" Secret bastion-database data postgres-password | base64 -d)
  [ "$url" = "postgresql://bastion:$password@bastion-postgres.default.svc:5432/bastion?sslmode=disable" ] &&
    pass "database URL points at the bundled PostgreSQL with its password" || fail "database URL is $url"
  grep -q 'bastion-toolbox' "$tmp/trial1.yaml" && fail "the admin toolbox runs although it is off by default" ||
    pass "the admin toolbox is off by default"
  # Helm reads numbers as float64: without `int` a large one would print as 1.048576e+06.
  grep -q -- '--max_body_bytes=1048576$' "$tmp/trial1.yaml" && pass "large numbers render as integers" ||
    fail "--max_body_bytes did not render as 1048576"
fi

# ---- The longest release name Helm allows (53 characters): every name still fits Kubernetes'
# limits (the checker: Services 63, StatefulSets 52 so their pods' controller-revision-hash label
# fits 63, label values 63), and the database URL reaches the bundled PostgreSQL's Service.
long=trial-of-a-release-whose-name-takes-all-53-characters
if render "$tmp/long.yaml" --set postgres.enabled=true --name "$long"; then
  check "a 53-character release name" "$tmp/long.yaml"
  full=${long:0:50}  # "<release>-bastion" cut to 50 by bastion.fullname
  sts=$(awk '/^kind: StatefulSet$/{k=1} k&&/^  name: /{print $2; exit}' "$tmp/long.yaml")
  [ -n "$sts" ] && [ "${#sts}" -le 52 ] && pass "the PostgreSQL StatefulSet's name is ${#sts} characters (<= 52)" ||
    fail "the PostgreSQL StatefulSet is named '$sts' (${#sts} characters; at most 52)"
  "$render_bin" get "$tmp/long.yaml" Service "$sts" spec ports >/dev/null 2>&1 &&
    [ "$("$render_bin" get "$tmp/long.yaml" StatefulSet "$sts" spec serviceName)" = "$sts" ] &&
    pass "the PostgreSQL Service and the StatefulSet's serviceName are both $sts" ||
    fail "no Service named $sts governs the PostgreSQL StatefulSet"
  url=$("$render_bin" get "$tmp/long.yaml" Secret "$full-database" data database-url | base64 -d)
  host=$(sed -E 's|^postgresql://[^@]*@([^:/]*).*|\1|' <<<"$url")
  [ "$host" = "$sts.default.svc" ] && pass "the database URL's host is the PostgreSQL Service ($host)" ||
    fail "the database URL's host is '$host', the PostgreSQL Service is $sts"
fi
# A long fullnameOverride is cut the same way.
if render "$tmp/long-override.yaml" --set postgres.enabled=true \
     --set fullnameOverride=an-override-that-is-much-longer-than-any-kubernetes-name-may-be; then
  check "a 63-character fullnameOverride" "$tmp/long-override.yaml"
fi

# ---- Upgrading with generated secrets that cannot be found must stop rather than make a new KEK.
if "$render_bin" render --chart "$chart" --set postgres.enabled=true --is-upgrade >/dev/null 2>"$tmp/upgrade.err"; then
  fail "an upgrade generated a new KEK/database password instead of refusing"
elif grep -q "would make existing data unreadable" "$tmp/upgrade.err"; then
  pass "an upgrade that cannot find the KEK refuses to generate a new one"
else
  fail "upgrade failed for another reason: $(cat "$tmp/upgrade.err")"
fi

# ---- External database given as a value: the Secret carries exactly that URL.
db_url='postgresql://bastion:s3cret-from-values@db.internal:5432/bastion?sslmode=require'
if render "$tmp/external.yaml" --set "database.url=$db_url"; then
  check "external database URL from the values" "$tmp/external.yaml"
  got=$("$render_bin" get "$tmp/external.yaml" Secret bastion-database data database-url | base64 -d)
  [ "$got" = "$db_url" ] && pass "database Secret holds the given URL" || fail "database Secret holds $got"
  [ "$(count_kind "$tmp/external.yaml" StatefulSet)" = 0 ] && pass "no bundled PostgreSQL with an external database" ||
    fail "bundled PostgreSQL rendered although an external database was given"
fi
"$render_bin" render --chart "$chart" --set "database.url=$db_url" --set postgres.enabled=true >/dev/null 2>&1 &&
  fail "both an external URL and the bundled PostgreSQL were accepted" ||
  pass "an external URL and the bundled PostgreSQL together are refused"

# ---- Production-like values: every secret from existing Secrets, HPA, Ingress, monitoring.
prod=tests/helm/values-production.yaml
if render "$tmp/prod.yaml" -f "$prod" --name prod --namespace bastion; then
  check "production-like values" \
    --external-secret bastion-database --external-secret bastion-operator \
    --external-secret bastion-service-identities --external-secret bastion-kek \
    --external-secret bastion-session-keys "$tmp/prod.yaml"
  [ "$(count_kind "$tmp/prod.yaml" Secret)" = 0 ] && pass "with existing Secrets the chart renders no Secret" ||
    fail "production values still render $(count_kind "$tmp/prod.yaml" Secret) Secret(s)"
  for kind in HorizontalPodAutoscaler Ingress ServiceMonitor PrometheusRule; do
    [ "$(count_kind "$tmp/prod.yaml" $kind)" = 1 ] && pass "production renders a $kind" || fail "production has no $kind"
  done
  # The internal services are headless so callers' round-robin channels reach every replica;
  # the edge keeps a cluster IP for its Ingress.
  for svc in tenant vault governance; do
    [ "$("$render_bin" get "$tmp/prod.yaml" Service "prod-bastion-$svc" spec clusterIP 2>/dev/null)" = None ] &&
      pass "the $svc Service is headless" || fail "the $svc Service has a cluster IP"
  done
  [ "$("$render_bin" get "$tmp/prod.yaml" Service prod-bastion-edge spec clusterIP 2>/dev/null)" != None ] &&
    pass "the edge Service keeps a cluster IP" || fail "the edge Service is headless"
  if "$render_bin" get "$tmp/prod.yaml" Deployment prod-bastion-edge spec replicas >/dev/null 2>&1; then
    fail "the edge Deployment fixes replicas although the HPA scales it"
  else
    pass "the edge Deployment leaves replicas to the HPA"
  fi
  paths=$("$render_bin" get "$tmp/prod.yaml" Ingress prod-bastion-edge spec rules)
  grep -q 'path: /mcp$' <<<"$paths" && grep -q 'path: /oauth/callback' <<<"$paths" &&
    pass "the Ingress publishes /mcp and /oauth/callback" || fail "Ingress paths: $paths"
  grep -q -- '--oauth_redirect_url=https://mcp.example.com/oauth/callback' "$tmp/prod.yaml" &&
    pass "the OAuth redirect follows edge.publicUrl" || fail "vault's --oauth_redirect_url does not follow edge.publicUrl"
  grep -q -- '--allowed_hosts=.*mcp.example.com' "$tmp/prod.yaml" &&
    pass "the edge answers to its public host" || fail "mcp.example.com is not in --allowed_hosts"
  # The PrometheusRule the chart renders behaves exactly as deploy/prometheus/rules.yaml: the
  # same unit tests pass against it.
  mkdir -p "$tmp/promrule/deploy/prometheus" "$tmp/promrule/tests/prometheus"
  "$render_bin" get "$tmp/prod.yaml" PrometheusRule prod-bastion spec >"$tmp/promrule/deploy/prometheus/rules.yaml"
  cp tests/prometheus/rules_test.yaml "$tmp/promrule/tests/prometheus/"
  if promtool test rules "$tmp/promrule/tests/prometheus/rules_test.yaml" >"$tmp/promrule.log" 2>&1; then
    pass "the rendered PrometheusRule passes the alert unit tests"
  else
    fail "the rendered PrometheusRule fails the alert unit tests:"; cat "$tmp/promrule.log"
  fi
  "$render_bin" get "$tmp/prod.yaml" ConfigMap prod-bastion-dashboard data bastion.json | cmp -s - deploy/grafana/bastion.json &&
    pass "the dashboard ConfigMap carries deploy/grafana/bastion.json unchanged" || fail "the dashboard ConfigMap differs"
  grep -q '^# NOTES' "$tmp/prod.yaml" && fail "NOTES.txt leaked into the manifests" || true
fi
"$render_bin" render --chart "$chart" -f "$prod" --notes >"$tmp/notes.yaml" 2>&1 &&
  grep -q '# NOTES: MCP endpoint: https://mcp.example.com/mcp/<tenant>/<server>' "$tmp/notes.yaml" &&
  pass "NOTES.txt renders and names the MCP URL" || fail "NOTES.txt: $(grep NOTES "$tmp/notes.yaml")"

# ---- TLS is off by default: no service or bastionctl is given a TLS flag or certificate.
for f in "$tmp/trial1.yaml" "$tmp/external.yaml" "$tmp/prod.yaml"; do
  [ -f "$f" ] || continue
  if grep -qE -- '--tls_|BASTION_TLS_|/etc/bastion/tls' "$f"; then
    fail "$(basename "$f" .yaml) values render TLS settings although tls.enabled is off"
  else
    pass "$(basename "$f" .yaml) values render no TLS flag"
  fi
done

# ---- TLS + mutual TLS (tests/helm/values-tls.yaml): every service reads its certificate, key
# and CA from its own Secret, mounted read-only, and bastionctl in the toolbox gets them by env.
tls_values=tests/helm/values-tls.yaml
tls_external=(--external-secret bastion-database)
for c in tenant vault governance edge toolbox; do tls_external+=(--external-secret "bastion-$c-tls"); done
if render "$tmp/tls.yaml" -f "$tls_values"; then
  check "TLS + mutual TLS values" "${tls_external[@]}" "$tmp/tls.yaml"
  for c in tenant vault governance edge; do
    # `files` resolves each --*_file flag through the container's volumeMounts to a Secret key.
    files=$("$render_bin" files "$tmp/tls.yaml" Deployment "bastion-$c")
    missing=""
    for want in "--tls_cert_file /etc/bastion/tls/tls.crt Secret/bastion-$c-tls:tls.crt" \
                "--tls_key_file /etc/bastion/tls/tls.key Secret/bastion-$c-tls:tls.key" \
                "--tls_ca_file /etc/bastion/tls/ca.crt Secret/bastion-$c-tls:ca.crt" \
                "--tls_client_ca_file /etc/bastion/tls/ca.crt Secret/bastion-$c-tls:ca.crt"; do
      grep -qxF -- "$c $want" <<<"$files" || missing+=" [$want]"
    done
    [ -z "$missing" ] && pass "$c gets the four TLS flags, read from Secret bastion-$c-tls" ||
      fail "$c lacks$missing; its files: $files"
    spec=$("$render_bin" get "$tmp/tls.yaml" Deployment "bastion-$c" spec template spec)
    # (no `| grep -q` under pipefail: an early exit would fail the pipeline with SIGPIPE)
    tls_mount=$(grep -A2 -- '- mountPath: /etc/bastion/tls$' <<<"$spec")
    grep -q 'readOnly: true' <<<"$tls_mount" &&
      pass "$c mounts its certificate Secret read-only" || fail "$c's certificate mount is not read-only"
    [ "$(grep -c 'port: metrics$' <<<"$spec")" = 3 ] && ! grep -q 'scheme: HTTPS' <<<"$spec" &&
      pass "$c's probes stay plain HTTP on the admin port" || fail "$c's probes changed under TLS"
  done
  files=$("$render_bin" files "$tmp/tls.yaml" Deployment bastion-toolbox)
  missing=""
  for want in "env BASTION_TLS_CA_FILE /etc/bastion/tls/ca.crt Secret/bastion-toolbox-tls:ca.crt" \
              "env BASTION_TLS_CERT_FILE /etc/bastion/tls/tls.crt Secret/bastion-toolbox-tls:tls.crt" \
              "env BASTION_TLS_KEY_FILE /etc/bastion/tls/tls.key Secret/bastion-toolbox-tls:tls.key"; do
    grep -qxF -- "toolbox $want" <<<"$files" || missing+=" [$want]"
  done
  [ -z "$missing" ] && pass "bastionctl in the toolbox gets its CA, certificate and key from bastion-toolbox-tls" ||
    fail "toolbox lacks$missing; its files: $files"
  # Without tls.certificateIdentities the services keep proving who they are with their tokens.
  edge_files=$("$render_bin" files "$tmp/tls.yaml" Deployment bastion-edge)
  grep -q -- '--service_token_file .* Secret/bastion-service-identities:edge.token' <<<"$edge_files" &&
    pass "under mutual TLS the services keep their tokens by default" || fail "mutual TLS dropped the service tokens"
fi

# ---- tls.certificateIdentities: identities files list the callers by name only; no token is
# generated, mounted or passed.
if render "$tmp/tls-certids.yaml" -f "$tls_values" --set tls.certificateIdentities=true; then
  check "TLS with certificate identities" "${tls_external[@]}" "$tmp/tls-certids.yaml"
  ids=$("$render_bin" get "$tmp/tls-certids.yaml" Secret bastion-service-identities data)
  [ "$(echo "$ids" | sed -n 's/^tenant.identities: //p' | base64 -d)" = "$(printf 'vault\ngovernance\nedge')" ] &&
    [ "$(echo "$ids" | sed -n 's/^vault.identities: //p' | base64 -d)" = "$(printf 'edge\ngovernance')" ] &&
    [ "$(echo "$ids" | sed -n 's/^governance.identities: //p' | base64 -d)" = edge ] &&
    pass "certificate identities: each callee lists its callers by name only" ||
    fail "certificate identities Secret is: $ids"
  grep -q '\.token' <<<"$ids" && fail "certificate identities still generate service tokens" ||
    pass "certificate identities generate no service token"
  grep -qE -- '--service_token_file|\.token$' "$tmp/tls-certids.yaml" &&
    fail "a service is still given a token under certificate identities" ||
    pass "no service is given a token under certificate identities"
fi

# ---- Settings that could not run are refused with a message saying what to set.
expect_render_failure() {  # NAME MESSAGE ARGS...
  local name=$1 message=$2; shift 2
  if "$render_bin" render --chart "$chart" "$@" >/dev/null 2>"$tmp/refused.err"; then
    fail "$name rendered instead of being refused"
  elif grep -qF -- "$message" "$tmp/refused.err"; then
    pass "$name is refused with a clear message"
  else
    fail "$name failed for another reason: $(cat "$tmp/refused.err")"
  fi
}
expect_render_failure "TLS without the vault's certificate Secret" \
  "tls.enabled needs tls.existingSecrets.vault: the name of a kubernetes.io/tls Secret" \
  -f "$tls_values" --set tls.existingSecrets.vault=
expect_render_failure "TLS without the toolbox's certificate Secret" \
  "tls.enabled needs tls.existingSecrets.toolbox" -f "$tls_values" --set tls.existingSecrets.toolbox=
expect_render_failure "TLS with no certificate Secret at all" \
  "tls.enabled needs tls.existingSecrets." --set postgres.enabled=true --set tls.enabled=true
expect_render_failure "mutual TLS without TLS" "tls.mutual needs tls.enabled=true" \
  --set postgres.enabled=true --set tls.mutual=true
expect_render_failure "certificate identities without mutual TLS" "tls.certificateIdentities needs tls.mutual=true" \
  -f "$tls_values" --set tls.mutual=false --set tls.certificateIdentities=true
"$render_bin" render --chart "$chart" -f "$tls_values" --set tls.existingSecrets.toolbox= --set toolbox.enabled=false \
  >/dev/null 2>&1 && pass "without the toolbox, TLS needs no toolbox certificate" ||
  fail "TLS asks for a toolbox certificate although the toolbox is off"

# ---- The checker itself catches each kind of mistake (a check that cannot fail proves nothing).
expect_check_failure() {  # FILE MESSAGE [ARGS...]
  local file=$1 message=$2; shift 2
  local out
  out=$("$render_bin" check "$@" "tests/helm/testdata/$file" 2>&1)
  if [ $? -ne 0 ] && grep -qF -- "$message" <<<"$out"; then pass "checker catches $file"; else fail "checker missed $file: $out"; fi
}
"$render_bin" check tests/helm/testdata/ok.yaml >/dev/null && pass "checker accepts a correct manifest" ||
  fail "checker rejects tests/helm/testdata/ok.yaml"
expect_check_failure broken-selector.yaml "spec.selector does not match the pod template's labels"
expect_check_failure broken-probe-port.yaml "readinessProbe uses port admin, which the container does not declare"
expect_check_failure broken-service-port.yaml "targets grpc, which Deployment/demo does not declare"
expect_check_failure writable-root.yaml "readOnlyRootFilesystem is not true"
expect_check_failure keeps-capabilities.yaml "capabilities.drop does not include ALL"
expect_check_failure missing-secret.yaml "refers to Secret demo-db, which is neither rendered"
expect_check_failure missing-name.yaml "has no apiVersion, kind or metadata.name"
expect_check_failure long-statefulset.yaml "name longer than 52 characters (57)"
expect_check_failure not-yaml.yaml "does not parse"
expect_check_failure unmounted-file.yaml "--tls_cert_file points at a file that is not mounted: /etc/demo/tls/tls.crt is under no volumeMount"
expect_check_failure unprojected-file.yaml "env DEMO_CA_FILE points at a file that is not mounted: /etc/demo/tls/ca.crt is not projected by volume tls"
expect_check_failure default-secret.yaml "holds \"changeme-please\" from the chart's default values" \
  --defaults tests/helm/testdata/defaults.yaml

echo
[ "$failures" -eq 0 ] && echo "chart test: all checks passed" || echo "chart test: $failures check(s) failed"
[ "$failures" -eq 0 ]
