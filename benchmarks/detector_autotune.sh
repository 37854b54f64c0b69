#!/usr/bin/env bash
# detector build's measured choices on this machine (dtype, early exit, batch refill), for
# docs/production.md: builds a MiniLM/IHC detector with --dtype auto (the default) and
# --early-exit-mode auto, and keeps what it recorded in benchmarks/results/detector-autotune-cpu.json.
#   HATEPROTO_DATA=../shared/datasets bash benchmarks/detector_autotune.sh
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command=(hateproto detector build --model minilm --dataset ihc --per-class 50
    --exit-budget 0.5 --early-exit-mode auto --out "$work/det")
start=$(date +%s)
.venv/bin/"${command[@]}" 2>"$work/log"
grep -E "^(dtype|early exit)" "$work/log"
.venv/bin/python - "$work/det/detector.json" "$(( $(date +%s) - start ))" "${command[*]}" <<'PY'
import json, sys
from hateproto.provenance import provenance
manifest = json.load(open(sys.argv[1]))
result = {
    "command": sys.argv[3].replace(sys.argv[1].rsplit("/", 2)[0], "DIR"),
    "wall_time_s": int(sys.argv[2]),
    "settings": manifest["settings"],
    "dtype_choice": manifest["metadata"]["dtype_choice"],
    "early_exit_choice": manifest["metadata"]["early_exit_choice"],
    "provenance": provenance(),
}
with open("benchmarks/results/detector-autotune-cpu.json", "w") as out:
    json.dump(result, out, indent=1)
    out.write("\n")
PY
