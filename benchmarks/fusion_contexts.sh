#!/usr/bin/env bash
# Generate (or reuse from the cache) the LLM contexts of every post the fusion benchmark uses:
# the same stratified subsamples (seed 0) that benchmarks/configs/fusion.yaml draws.
set -euo pipefail
HATEPROTO=${HATEPROTO:-hateproto}
for dataset in ihc toxigen; do
  for spec in train:400 dev:80 test:200; do
    split=${spec%%:*}; n=${spec##*:}
    echo "== $dataset/$split (n=$n)"
    $HATEPROTO context generate --config benchmarks/configs/fusion-context.yaml \
      --dataset "$dataset" --protocol ocampo2023 --split "$split" --n "$n" "$@"
  done
done
