#!/usr/bin/env bash
# One prepared run on a lent GPU machine (issue 17): the CUDA tests, where a GPU encode spends
# its time (gpu_profile.py) and the speed table (gpu_speed.py). The machine has torch and
# transformers but no internet: missing wheels travel in .whl/ (docs/gpu.md says which).
#
#   bash benchmarks/gpu_check.sh OUT_DIR [gpu_speed.py options...]
#
# Each stage has its own time limit (TESTS_S, PROFILE_S, SPEED_S seconds) so that one stage
# that hangs cannot take the others' time; STAGES picks them (default "tests profile speed");
# GPU_TESTS overrides the test files. Every log and JSON lands in OUT_DIR.
set -uo pipefail
out=${1:?usage: gpu_check.sh OUT_DIR [gpu_speed options]}
shift
mkdir -p "$out"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}src PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
nvidia-smi -L
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
stages=${STAGES:-tests profile speed}
GPU_TESTS=${GPU_TESTS:-"tests/test_device.py tests/test_compiled.py tests/test_stepping.py tests/test_early_exit.py
    tests/test_early_exit_refill.py tests/test_padding.py tests/test_detector.py
    tests/test_detector_autotune.py tests/test_prototypes.py tests/test_estimator_contract.py"}
# shellcheck disable=SC2086
[[ $stages == *tests* ]] && timeout "${TESTS_S:-150}" python3 -m pytest -q -p no:cacheprovider -rfEs --timeout 90 \
    $GPU_TESTS 2>&1 | tee "$out/gpu-tests.log"
[[ $stages == *profile* ]] && timeout "${PROFILE_S:-150}" python3 benchmarks/gpu_profile.py --device cuda \
    --out "$out/gpu-profile.json" 2>&1 | tee "$out/gpu-profile.log"
[[ $stages == *speed* ]] && timeout "${SPEED_S:-240}" python3 benchmarks/gpu_speed.py --device cuda \
    --out "$out/inference-speed.json" "$@" 2>&1 | tee "$out/gpu-speed.log"
true  # a skipped last stage is not a failure
