"""benchmarks/gpu_speed.py and gpu_profile.py run end to end on the CPU (tiny models) and
write their schema.

Timings are not checked, only that every field the GPU run will fill is there and sane.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "hf_pipeline",
    "hateproto_full",
    "hateproto_full_stepped",
    "hateproto_early_exit",
    "hateproto_early_exit_refill",
}


def run_benchmark(script: str, out: Path, *args: str) -> dict:
    """Run ``benchmarks/<script>`` on the CPU with ``args`` and ``--out out``; its JSON."""
    command = [sys.executable, str(ROOT / "benchmarks" / script), *args, "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_gpu_speed_quick_writes_the_schema(tmp_path: Path) -> None:
    result = run_benchmark(
        "gpu_speed.py",
        tmp_path / "speed.json",
        *("--device", "cpu", "--quick", "--threads", "1", "--dtypes", "fp32"),
        *("--batch-sizes", "1,4"),
    )
    assert result["benchmark"] == "gpu_speed" and result["device"] == "cpu"
    assert set(result["variants"]) == VARIANTS
    assert {"torch_version", "transformers_version", "device"} <= set(result["provenance"])
    assert result["skipped"] == []
    rows = result["rows"]
    assert {(r["model"], r["batch_size"]) for r in rows} == {
        (m, b) for m in ("minilm", "mpnet", "smollm2") for b in (1, 4)
    }
    layers = {"minilm": 6, "mpnet": 12, "smollm2": 30}
    for row in rows:
        assert row["dtype"] == "float32"
        assert row["num_layers"] == layers[row["model"]] == row["config"]["num_hidden_layers"]
        assert set(row["posts_per_s"]) == VARIANTS == set(row["times_s"])
        assert all(value > 0 for value in row["posts_per_s"].values())
        assert len(row["exit_histogram"]) == row["num_layers"]
        assert sum(row["exit_histogram"]) == row["n_posts"]
        assert 1 <= row["mean_exit_layer"] <= row["num_layers"]
        assert row["counted_speedup"] == row["num_layers"] / row["mean_exit_layer"]
        assert row["measured_speedup"] > 0 and row["token_weighted_speedup"] > 0
        assert row["labels_agree_full_vs_stepped"] == 1.0
        assert row["labels_agree_early_exit_vs_refill"] == 1.0 and row["refill_speedup"] > 0


def test_gpu_profile_quick_writes_its_stages(tmp_path: Path) -> None:
    result = run_benchmark(
        "gpu_profile.py",
        tmp_path / "profile.json",
        *("--device", "cpu", "--quick", "--models", "minilm", "--posts", "64"),
        *("--batch-sizes", "32", "--repeats", "1", "--compile-for", "", "--trace-for", ""),
    )
    (row,) = result["rows"]
    stages = {"tokenize_s", "pad_s", "forward_s", "forward_last_s", "encode_chunk8_s"}
    assert stages <= set(row) and all(row[k] > 0 for k in stages)
    assert row["model"] == "minilm" and row["batch_size"] == 32 and "trace" not in row
