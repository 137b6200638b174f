#!/usr/bin/env bash
# The Grafana dashboard and the alert rules query only metrics the services export (read from
# the sources that register them: see BUILD.bazel), and every dashboard query is valid PromQL.
set -uo pipefail
tmp=${TEST_TMPDIR:-$(mktemp -d)}
export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$tmp/gocache" GOFLAGS= HOME="$tmp" TMPDIR="$tmp"
bin="$tmp/metricnames"
go build -o "$bin" tests/prometheus/metricnames/main.go || { echo "FAIL: cannot build metricnames"; exit 1; }

status=0
"$bin" dashboard-rules deploy/grafana/bastion.json >"$tmp/dashboard-rules.yaml" || status=1
promtool check rules "$tmp/dashboard-rules.yaml" || { echo "FAIL: a dashboard query is not valid PromQL"; status=1; }

sources=(
  common/grpc/grpc_util.cc common/metrics/process_metrics.cc common/pagerduty/executor.cc
  common/service/service_runner.cc
  services/edge/audit_queue.cc services/edge/caches.cc services/edge/mcp_endpoint.cc
  services/governance/governance_service.cc services/governance/main.cc services/tenant/main.cc
  services/vault/main.cc services/vault/vault_service.cc
)
"$bin" check --rules deploy/prometheus/rules.yaml --dashboard deploy/grafana/bastion.json "${sources[@]}" || status=1

# Without the sources that register them, the same names must be reported missing: the check
# can fail.
if "$bin" check --rules deploy/prometheus/rules.yaml --dashboard deploy/grafana/bastion.json \
    common/metrics/process_metrics.cc >"$tmp/negative.log" 2>&1; then
  echo "FAIL: the check passed without the sources that register the bastion_* metrics"; status=1
elif grep -q 'queries bastion_edge_requests_total, which no service exports' "$tmp/negative.log"; then
  echo "PASS: missing registrations are reported"
else
  echo "FAIL: unexpected output without sources:"; cat "$tmp/negative.log"; status=1
fi
exit $status
