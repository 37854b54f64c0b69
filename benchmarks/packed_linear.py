"""One linear layer, plain ``nn.Linear`` against ``PackedLinear`` (weights packed once for
oneDNN; ``hateproto.models.packed_linear``), on this CPU.

MiniLM's layer shapes (384 -> 384, 384 -> 1536, 1536 -> 384), for one short post (24
tokens) and for a batch of 32 posts of 40 tokens (1,280 rows), in float32 and bfloat16,
under ``torch.inference_mode``. The two run alternately, 5 rounds of ``--calls`` calls
after a warm-up; medians of the per-round medians, in microseconds, and the largest
difference between the two outputs.

    python benchmarks/packed_linear.py --out benchmarks/results/packed-linear.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import torch
from torch import nn

from hateproto.models.packed_linear import PackedLinear, packing_available

SHAPES = ((384, 384), (384, 1536), (1536, 384))
ROWS = (24, 1280)
DTYPES = (torch.float32, torch.bfloat16)


def median_us(layer: nn.Module, x: torch.Tensor, calls: int) -> float:
    """Median microseconds of one call over ``calls`` calls."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        layer(x)
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


@torch.inference_mode()
def compare(n_in: int, n_out: int, rows: int, dtype: torch.dtype, calls: int) -> dict:
    torch.manual_seed(0)
    plain = nn.Linear(n_in, n_out).to(dtype)
    packed = PackedLinear.from_linear(plain)
    x = torch.randn(rows, n_in).to(dtype)
    difference = (plain(x).float() - packed(x).float()).abs().max().item()
    for _ in range(20):
        plain(x)
        packed(x)
    rounds = [(median_us(plain, x, calls), median_us(packed, x, calls)) for _ in range(5)]
    plain_us = statistics.median(r[0] for r in rounds)
    packed_us = statistics.median(r[1] for r in rounds)
    return {
        "shape": f"{n_in}x{n_out}",
        "rows": rows,
        "dtype": str(dtype).removeprefix("torch."),
        "plain_us": round(plain_us, 1),
        "packed_us": round(packed_us, 1),
        "speedup": round(plain_us / packed_us, 2),
        "max_abs_difference": difference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not packing_available():
        raise SystemExit("this torch build has no oneDNN packed linear operators")
    before = os.getloadavg()
    rows = []
    for dtype in DTYPES:
        for n_in, n_out in SHAPES:
            for count in ROWS:
                row = compare(n_in, n_out, count, dtype, args.calls)
                print(json.dumps(row), flush=True)
                rows.append(row)
    report = {
        "command": "python benchmarks/packed_linear.py "
        + " ".join(f"--{k} {v}" for k, v in vars(args).items() if v is not None),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_average": {"before": before, "after": os.getloadavg()},
        "rows": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
