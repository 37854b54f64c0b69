#!/usr/bin/env bash
# The README's main job as a new user runs it the first time: empty model and feature caches
# (a fresh HATEPROTO_HOME), so the model is fetched and every post encoded; wall time and peak
# resident memory of the whole command from /usr/bin/time, the machine's load before and
# after. Then the full audit report of the detector it saved, test half
# (benchmarks/results/quickstart-audit-test.json):
#   bash benchmarks/quickstart_run.sh > benchmarks/results/quickstart.txt 2>&1
# The HatePrototypes paper's IHC recipe (the main job before issue 30) is one option away:
#   RECIPE=ihc-paper bash benchmarks/quickstart_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=${RECIPE:-quickstart}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD); $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# command: HATEPROTO_HOME=<empty> hateproto quickstart --recipe $recipe --out <home>/detector"
COLUMNS=160 HATEPROTO_HOME=$home /usr/bin/time -f "# whole command: %e s wall, peak RSS %M KB, %P CPU" \
    .venv/bin/hateproto quickstart --recipe "$recipe" --out "$home/detector"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
suffix=$([ "$recipe" = quickstart ] && echo "" || echo "-$recipe")
COLUMNS=160 HATEPROTO_HOME=$home .venv/bin/hateproto audit --detector "$home/detector" --split test \
    --no-conan --json "benchmarks/results/quickstart${suffix}-audit-test.json" | tail -n 3
