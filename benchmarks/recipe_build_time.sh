#!/usr/bin/env bash
# The general recipe from an empty feature cache (the README command, models linked in),
# timed by GNU time; its output is benchmarks/results/recipe-build-cold.log:
#   bash benchmarks/recipe_build_time.sh > benchmarks/results/recipe-build-cold.log 2>&1
# Session 6 ran exactly these steps once, with a leave-one-out build on the other core.
set -euo pipefail
cd "$(dirname "$0")/.."
home=$(mktemp -d)
trap 'rm -rf "$home" "$home.det"' EXIT
ln -s "${HATEPROTO_HOME:-$HOME/.cache/hateproto}/models" "$home/models"
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
HATEPROTO_HOME=$home /usr/bin/time -v .venv/bin/hateproto detector build --recipe general \
    --out "$home.det"
echo "wall_s=$(( $(date +%s) - start ))"
