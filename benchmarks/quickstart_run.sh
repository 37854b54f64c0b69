#!/usr/bin/env bash
# The README's main job from an empty model and feature cache, as a user runs it the first
# time, with the machine's load recorded before and after; then our functional audit of the
# detector it built (benchmarks/results/quickstart-audit.json):
#   bash benchmarks/quickstart_run.sh > benchmarks/results/quickstart.txt
set -euo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
HATEPROTO_HOME=$home .venv/bin/hateproto quickstart --json --out "$home/detector"
echo "# whole command: $(echo "$(date +%s.%N) - $start" | bc) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
HATEPROTO_HOME=$home .venv/bin/hateproto audit --detector "$home/detector" \
    --json benchmarks/results/quickstart-audit.json | tail -n 25
