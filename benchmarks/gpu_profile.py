"""Where the time of one GPU encode goes: host stages, forward passes and their variants.

For each model size and batch size (random weights, synthetic posts with IHC's token lengths,
as in ``gpu_speed.py``), times in one process, one after another, each the median of
``--repeats`` runs after a warm-up:

* ``tokenize_s``, ``pad_s``: the host work for all posts (``Backbone.tokenize``/``pad``);
* ``forward_s``: the plain forward passes over batches already on the device (the model's
  share), with ``output_hidden_states`` as ``encode`` asks, and ``forward_last_s`` without;
* ``encode_s``: ``Backbone.encode`` of the last layer end to end (what ``classify`` runs),
  with the background-thread chunk at 1, 2 and 8 batches (``encode_chunk<k>_s``);
* ``compiled_default_forward_s`` and ``compiled_reduce_overhead_forward_s``: the forward
  passes through ``torch.compile(dynamic=True)`` (kernel fusion; and CUDA graphs too), and
  ``compile_*_s`` the first call's cost, for the ``--compile-for`` model:batch pairs only
  (compiling takes tens of seconds);
* ``trace``: the torch profiler's table of one encode, for the ``--trace-for`` pairs.

Run from the repository root::

    PYTHONPATH=src python benchmarks/gpu_profile.py --device cuda \\
        --out benchmarks/results/gpu-profile-h200.json
    PYTHONPATH=src python benchmarks/gpu_profile.py --device cpu --quick --out /tmp/p.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gpu_speed_setup import DTYPES, build_tokenizer, save_model, synthetic_posts  # noqa: E402

from hateproto.models import prefetch  # noqa: E402
from hateproto.models.backbone import Backbone  # noqa: E402
from hateproto.models.device import resolve_device, synchronize  # noqa: E402
from hateproto.provenance import provenance  # noqa: E402


def timed(run: Callable[[], Any], device: torch.device, repeats: int) -> float:
    """Median seconds of ``repeats`` calls of ``run`` after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        run()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def device_batches(backbone: Backbone, texts: list[str], batch_size: int) -> list[dict]:
    """Length-sorted padded batches, already on the model's device (sorted as one chunk)."""
    tokenize, chunk = backbone.tokenize, len(texts)
    batches = prefetch.iter_batches(
        tokenize, backbone.pad, texts, batch_size, backbone.device, chunk_batches=chunk
    )
    return [batch.tensors for batch in batches]


def trace(run: Callable[[], Any], device: torch.device) -> str:
    """The torch profiler's table of the 25 operations with the most time, for one call."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    run()
    with torch_profile(activities=activities) as prof:
        run()
        synchronize(device)
    key = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
    return prof.key_averages().table(sort_by=key, row_limit=25)


def profile(backbone: Backbone, texts: list[str], batch_size: int, args: Any) -> dict:
    """Stage and variant times for one model and batch size."""
    device, repeats = backbone.device, args.repeats
    ids = backbone.tokenize(texts)
    batches = device_batches(backbone, texts, batch_size)
    model = backbone.model
    chunks = [ids[s : s + batch_size] for s in range(0, len(ids), batch_size)]

    def forward(fn: Callable[..., Any], hidden: bool) -> Callable[[], None]:
        def run() -> None:
            with torch.inference_mode():
                for batch in batches:
                    fn(**batch, output_hidden_states=hidden)

        return run

    def encode(chunk: int) -> Callable[[], None]:
        def run() -> None:
            old = prefetch.CUDA_CHUNK_BATCHES, prefetch.CHUNK_BATCHES
            prefetch.CUDA_CHUNK_BATCHES = prefetch.CHUNK_BATCHES = chunk
            try:
                backbone.encode(texts, layers="last", batch_size=batch_size)
            finally:
                prefetch.CUDA_CHUNK_BATCHES, prefetch.CHUNK_BATCHES = old

        return run

    row: dict[str, Any] = {
        "tokenize_s": timed(lambda: backbone.tokenize(texts), device, repeats),
        "pad_s": timed(lambda: [backbone.pad(c) for c in chunks], device, repeats),
        "forward_s": timed(forward(model, True), device, repeats),
        "forward_last_s": timed(forward(model, False), device, repeats),
    }
    for chunk in (1, 2, 8):
        row[f"encode_chunk{chunk}_s"] = timed(encode(chunk), device, repeats)
    if f"{args.model}:{batch_size}" in args.trace_for.split(","):
        row["trace"] = trace(encode(8), device)
    if f"{args.model}:{batch_size}" in args.compile_for.split(","):
        for mode in ("default", "reduce-overhead"):  # kernel fusion; and CUDA graphs too
            row.update(compiled_times(model, forward, mode, device, repeats))
    return row


def compiled_times(model: Any, forward: Callable, mode: str, device: Any, repeats: int) -> dict:
    """``compile_s`` (first call) and ``compiled_forward_s`` of ``torch.compile(model, mode)``."""
    key = mode.replace("-", "_")
    try:
        compiled = torch.compile(model, mode=mode, dynamic=True)
        start = time.perf_counter()
        forward(compiled, True)()
        synchronize(device)
        first = time.perf_counter() - start
        return {
            f"compile_{key}_s": first,
            f"compiled_{key}_forward_s": timed(forward(compiled, True), device, repeats),
        }
    except Exception as exc:  # reported, not fatal: compile support varies by machine
        return {f"compile_{key}_error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--models", default="minilm,mpnet")
    parser.add_argument("--dtypes", default="bf16")
    parser.add_argument("--batch-sizes", default="32,256")
    parser.add_argument("--posts", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny models (tests)")
    parser.add_argument("--trace-for", default="minilm:256", help="model:batch pairs to trace")
    parser.add_argument(
        "--compile-for", default="minilm:256", help="model:batch pairs to torch.compile ('' none)"
    )
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    started = time.perf_counter()
    texts = synthetic_posts(args.posts, seed=256)
    rows = []
    with tempfile.TemporaryDirectory(prefix="hateproto-gpu-profile-") as tmp:
        tokenizer = build_tokenizer()
        for model in args.models.split(","):
            folder = save_model(model, args.quick, Path(tmp), tokenizer, device)
            for dtype_key in args.dtypes.split(","):
                dtype = DTYPES[dtype_key][0]
                backbone = Backbone.load(str(folder), dtype=dtype, device=device)
                for batch_size in (int(b) for b in args.batch_sizes.split(",")):
                    row = {"model": model, "dtype": dtype, "batch_size": batch_size}
                    args.model = model
                    row.update(profile(backbone, texts, batch_size, args))
                    rows.append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
                    print(row.get("trace", ""), flush=True)
                    result = write(args, rows, started, argv)  # after every row: a time
    return result  # limit that stops a later one keeps the earlier ones


def write(args: Any, rows: list[dict], started: float, argv: list[str] | None) -> dict:
    """Write the rows so far to ``args.out`` and return the result."""
    result = {
        "benchmark": "gpu_profile",
        "command": " ".join(["benchmarks/gpu_profile.py", *(argv or sys.argv[1:])]),
        "n_posts": args.posts,
        "rows": rows,
        "wall_time_s": time.perf_counter() - started,
        "provenance": provenance(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
