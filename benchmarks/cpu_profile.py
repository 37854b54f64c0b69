"""Where a CPU encode spends its time: the torch profiler over ``Backbone.encode``.

Real all-MiniLM-L6-v2 in float32, the first 512 IHC test posts, batch 32, the last layer
(what a detector deciding there runs). Writes the profiler's table of the operations with the
most CPU time, and the share of the matrix products (``aten::addmm``), to ``--out``::

    HATEPROTO_DATA=../shared/datasets python benchmarks/cpu_profile.py \\
        --out benchmarks/results/cpu-profile-minilm.txt
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hateproto.data import load_benchmark  # noqa: E402
from hateproto.models import Backbone  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--posts", type=int, default=512)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    texts = load_benchmark("ihc", "test").texts[: args.posts]
    backbone = Backbone.load("minilm", device="cpu")
    backbone.encode(texts[:64], layers="last")  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        backbone.encode(texts, layers="last", batch_size=32)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    matmul = sum(e.self_cpu_time_total for e in events if e.key == "aten::addmm")
    lines = [
        f"command: python benchmarks/cpu_profile.py --out {args.out} --posts {args.posts}",
        f"threads {args.threads}, load average {os.getloadavg()}, torch {torch.__version__}",
        f"aten::addmm share of self CPU time: {matmul / total:.1%}",
        events.table(sort_by="self_cpu_time_total", row_limit=12),
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:3]))


if __name__ == "__main__":
    main()
