#!/usr/bin/env bash
# How long `hateproto --help` takes (issue 15: under 1 s), as a whole process, with farm-bench
# (median of 10 runs after a warm-up), and what the machine was doing meanwhile.
#   bash benchmarks/cli_startup.sh > benchmarks/results/cli-startup.txt
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
farm-bench -n 10 -- .venv/bin/hateproto --help
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
