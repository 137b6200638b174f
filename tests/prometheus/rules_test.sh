#!/usr/bin/env bash
# The alert rules load in Prometheus (promtool check rules) and each alert fires, with the
# expected labels and text, exactly when its unit tests say (promtool test rules).
set -uo pipefail
status=0
promtool check rules deploy/prometheus/rules.yaml || status=1
promtool test rules tests/prometheus/rules_test.yaml || status=1
exit $status
