"""Single-post latency of a detector called from the main thread or from a worker thread.

The service runs the model in a worker thread (the event loop owns the main thread). This
script times ``Detector.score`` of one post, 100 calls after 20 warm-up calls, in a fresh
process per mode:

- ``main``: called from the main thread;
- ``worker``: called through a one-thread ``ThreadPoolExecutor`` (the main thread never runs
  the model);
- ``worker-1-thread``: the same, with ``torch.set_num_threads(1)`` inside the worker;
- ``worker-loaded``: through a one-thread ``ThreadPoolExecutor`` that also loaded the
  detector, so the main thread never runs a kernel (what ``hateproto serve`` does since
  ``hateproto.service.model_thread``).

Example::

    python benchmarks/thread_latency.py --detector ~/.cache/hateproto/detectors/quickstart \\
        --out benchmarks/results/thread-latency.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MODES = ("main", "worker", "worker-1-thread", "worker-loaded")
POST = "I really can't stand people who park like that outside the school every morning."


def measure(detector_dir: str, mode: str, calls: int = 100) -> dict[str, float]:
    """Median and 90th percentile milliseconds of ``calls`` single-post calls in ``mode``."""
    import torch

    from hateproto.detector import Detector

    worker = ThreadPoolExecutor(1)
    if mode == "worker-loaded":
        detector = worker.submit(Detector.from_pretrained, detector_dir).result()
    else:
        detector = Detector.from_pretrained(detector_dir)
    if mode == "main":

        def call() -> None:
            detector.score([POST])
    else:
        if mode == "worker-1-thread":
            worker.submit(torch.set_num_threads, 1).result()

        def call() -> None:
            worker.submit(detector.score, [POST]).result()

    for _ in range(20):
        call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(times[int(0.9 * len(times)) - 1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default="~/.cache/hateproto/detectors/quickstart")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = os.path.expanduser(args.detector)
    if not Path(folder, "detector.json").is_file():
        parser.error(f"--detector {args.detector}: not a detector folder (no detector.json)")
    if args.mode:
        print(json.dumps(measure(folder, args.mode)))
        return
    results = {}
    for mode in MODES:
        done = subprocess.run(
            [sys.executable, __file__, "--detector", folder, "--mode", mode],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SystemExit(f"mode {mode} failed: {last}")
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        print(mode, results[mode], flush=True)
    report = {
        "command": "python benchmarks/thread_latency.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "post": POST,
        "modes": results,
    }
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
