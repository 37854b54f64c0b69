#!/usr/bin/env bash
# Issue 29's goals, shown on throwaway copies: how many source files a new per-text field and
# a new served exit policy touch. Each patch in benchmarks/one_path/ is applied to a fresh git
# worktree of HEAD; the script prints its diffstat and runs it end to end (a classify file, the
# HTTP answer and its OpenAPI schema for the field; `hateproto classify --exit-policy` for the
# policy) on the tiny random BERT the tests build.
#   bash benchmarks/one_path_demo.sh > benchmarks/results/one-path-demo.txt
set -euo pipefail
ROOT=$(git rev-parse --show-toplevel); PY="$ROOT/.venv/bin/python"
WORK=$(mktemp -d); trap 'git -C "$ROOT" worktree remove --force "$WORK/tree" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
TINY="$WORK/tiny-bert"
"$PY" - "$TINY" <<'PY'
import sys
sys.path.insert(0, "tests")
from conftest import build_tiny_encoder
build_tiny_encoder(sys.argv[1])
PY
echo "# one path per idea: files touched, on $(git rev-parse --short HEAD), $(date -u +%F)"
git worktree add -q --detach "$WORK/tree" HEAD
cd "$WORK/tree"
for patch in per_text_field exit_policy; do
  git checkout -q . && git apply "$ROOT/benchmarks/one_path/$patch.patch"
  echo; echo "## $patch: $(git diff --name-only | wc -l) source file(s)"; git diff --stat
  export PYTHONPATH="$WORK/tree/src"
  if [ "$patch" = per_text_field ]; then
    mkdir -p "$WORK/field"; "$PY" "$ROOT/benchmarks/one_path/field_demo.py" "$TINY" "$WORK/field" 2>/dev/null | grep -v "^classifying"
  else
    "$PY" - "$TINY" "$WORK/policy" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, str(Path.cwd() / "tests"))
from tiny_detector import tiny_detector
out = Path(sys.argv[2]); out.mkdir()
tiny_detector(Path(sys.argv[1])).save_pretrained(out / "det")
(out / "in.csv").write_text("text\nthey are vermin go back home\ngood game today\nwomen deserve equal rights\n")
PY
    for policy in margin margin_twice; do
      "$ROOT/.venv/bin/hateproto" classify "$WORK/policy/in.csv" "$WORK/policy/$policy.csv" \
        --detector "$WORK/policy/det" --delta 0 --exit-policy "$policy" --quiet 2>/dev/null
      echo "classify --delta 0 --exit-policy $policy: exit layers $(cut -d, -f5 "$WORK/policy/$policy.csv" | tail -n +2 | tr '\n' ' ')"
    done
  fi
done
