"""Inference speed on one device: HF pipeline vs hateproto full depth vs hateproto early exit.

Needs no internet, no model weights and no data files: random-weight models are built from
configs of the three default model sizes (MiniLM: BERT, 6 layers, hidden 384; MPNet-base: 12
layers, hidden 768; SmolLM2-135M: Llama, 30 layers, hidden 576, 9 heads / 3 kv heads) and saved
to a temporary folder, so ``Backbone.load(folder)`` and ``AutoModelForSequenceClassification``
load them as they would real ones. The tokenizer is a word-level one over synthetic words (one
token per word); posts are synthetic, with token lengths drawn from IHC's training split
(``benchmarks/data/ihc-token-lengths.json``). Early exit does not depend on the (random)
weights: each post's exit layer is drawn from the exit layers calibrated prototype early exit
reached on the CPU (``benchmarks/data/exit-layers.json``), while the engine still pools and
scores every row against the prototypes at every layer, as a real run does.

Variants, per model, dtype (float32, bfloat16; float16 on GPUs) and batch size (1, 32, 256):

* ``hf_pipeline``: ``transformers.pipeline("text-classification")`` over the same posts;
* ``hateproto_full``: a :class:`~hateproto.Detector` deciding at the last layer (one plain
  forward pass per length-sorted batch, what ``classify``/``serve`` run without early exit);
* ``hateproto_full_compiled``: the same detector with ``compile`` on (``torch.compile`` with
  CUDA graphs, :mod:`hateproto.models.compiled`; GPUs only, or ``--compile`` anywhere);
  compiling happens in its untimed warm-up call, whose seconds are reported;
* ``hateproto_full_stepped``: full depth through the layer-stepping engine (no exits);
* ``hateproto_early_exit``: the stepping engine, rows leaving at their drawn exit layers;
* ``hateproto_early_exit_refill``: the same, with the places of exited rows refilled from
  the next batch (``refill=True``), so batches stay full.

Timing: one untimed warm-up call of every variant, then rounds in which every variant runs
once (interleaved, order rotated), ``torch.cuda.synchronize`` around each timed call; a
variant stops after ``--seconds`` of timed calls (at least ``--min-rounds``). A global
``--budget-s`` stops starting new configurations (whatever was skipped is listed).

Run from the repository root (imports ``torch``, ``transformers``, ``numpy``, ``hateproto``
from ``src/`` and ``gpu_speed_setup.py`` beside it)::

    PYTHONPATH=src python benchmarks/gpu_speed.py --device cuda \\
        --out benchmarks/results/inference-speed-h200.json
    PYTHONPATH=src python benchmarks/gpu_speed.py --device cpu --quick --out /tmp/speed.json
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hateproto.detector import Detector, DetectorSettings  # noqa: E402
from hateproto.early_exit import EarlyExitClassifier, ExitPolicy, PrototypeScorer  # noqa: E402
from hateproto.early_exit.policies import Decision, Memory, PooledView  # noqa: E402
from hateproto.models.backbone import Backbone  # noqa: E402
from hateproto.models.device import resolve_device, synchronize  # noqa: E402
from hateproto.prototypes import PrototypeClassifier  # noqa: E402
from hateproto.provenance import default_device, provenance  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_speed_setup import (  # noqa: E402
    DTYPES,
    MODELS,
    build_tokenizer,
    exit_probabilities,
    model_config,
    save_model,
    synthetic_posts,
)

POSTS_PER_BATCH_SIZE = {1: 48, 32: 512, 256: 2048}
VARIANTS = (
    "hf_pipeline",
    "hateproto_full",
    "hateproto_full_compiled",
    "hateproto_full_stepped",
    "hateproto_early_exit",
    "hateproto_early_exit_refill",
)


class DrawnExitPolicy(ExitPolicy):
    """Every row leaves at a layer drawn from ``probabilities`` (scoring every layer anyway).

    The prototypes are still scored at every layer a row passes, so the engine does all the
    work of a real margin policy; only the decision ignores the (random) margins.
    """

    name = "drawn_exit"

    def __init__(self, scorer: PrototypeScorer, num_layers: int, probabilities: list[float]):
        super().__init__(scorer, num_layers)
        self.scorer = scorer
        self.probabilities = torch.tensor(probabilities, dtype=torch.float64)
        self.generator = torch.Generator()
        self.reset()

    def reset(self, seed: int = 0) -> None:
        """Draw the same exit layers again (every timed call sees the same ones)."""
        self.generator.manual_seed(seed)

    def exit_layers(self) -> list[int]:
        return list(range(1, self.num_layers))

    def init_memory(self, size: int) -> Memory:
        draw = torch.multinomial(self.probabilities, size, True, generator=self.generator)
        return {"exit_at": draw + 1}

    def decide(self, layer: int, view: PooledView, memory: Memory) -> Decision:
        probs, margin = self.scorer.assess(layer, view.get(self.scorer.spec))
        return Decision(memory["exit_at"] == layer, probs, margin)

    def scorers(self) -> list[PrototypeScorer]:
        return [self.scorer]


# ---------------------------------------------------------------------- variants
def random_prototypes(backbone: Backbone) -> PrototypeClassifier:
    """Prototypes for every layer, fitted on random vectors (the model is random anyway)."""
    generator = torch.Generator().manual_seed(0)
    vectors = torch.randn(8, backbone.num_layers, backbone.hidden_size, generator=generator)
    protos = PrototypeClassifier(backbone, layers="all")
    return protos.fit_vectors(vectors, np.array([0, 1] * 4))


def hf_pipeline(folder: Path, dtype: torch.dtype, device: torch.device) -> Any:
    """``pipeline("text-classification")`` over the saved model with a fresh 2-class head."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return pipeline("text-classification", model=model.eval(), tokenizer=tokenizer, device=device)


def make_variants(
    backbone: Backbone,
    pipe: Any,
    batch_size: int,
    probabilities: list[float],
    texts: list[str],
    compiled: Backbone | None = None,
) -> tuple[dict[str, Callable[[], Any]], DrawnExitPolicy]:
    """The variants as no-argument callables over ``texts`` (each returns its labels);
    ``hateproto_full_compiled`` only with a ``compiled`` copy of the backbone."""
    protos = random_prototypes(backbone)
    scorer = PrototypeScorer(protos)
    detector = Detector(
        backbone, prototypes=protos, settings=DetectorSettings(batch_size=batch_size)
    )
    stepped = EarlyExitClassifier(backbone, ExitPolicy(scorer, backbone.num_layers), batch_size)
    policy = DrawnExitPolicy(scorer, backbone.num_layers, probabilities)
    early = EarlyExitClassifier(backbone, policy, batch_size)
    refill = EarlyExitClassifier(backbone, policy, batch_size, refill=True)

    def run_early(clf: EarlyExitClassifier = early) -> Any:
        policy.reset()
        return clf.run(texts)

    variants = {
        "hf_pipeline": lambda: pipe(texts, batch_size=batch_size, truncation=True, max_length=256),
        "hateproto_full": lambda: detector.score_arrays(texts).labels,
        "hateproto_full_stepped": lambda: stepped.run(texts).labels,
        "hateproto_early_exit": run_early,
        "hateproto_early_exit_refill": lambda: run_early(refill),
    }
    if compiled is not None:
        settings = DetectorSettings(batch_size=batch_size)
        fast = Detector(compiled, prototypes=protos, settings=settings)
        variants["hateproto_full_compiled"] = lambda: fast.score_arrays(texts).labels
    return variants, policy


def timed_call(run: Callable[[], Any], device: torch.device) -> tuple[Any, float]:
    """``run()``'s output and wall-clock seconds, the device synchronised around it."""
    synchronize(device)
    start = time.perf_counter()
    output = run()
    synchronize(device)
    return output, time.perf_counter() - start


def time_variants(
    variants: dict[str, Callable[[], Any]],
    device: torch.device,
    seconds: float,
    min_rounds: int,
    max_rounds: int,
) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, float]]:
    """Warm up (untimed; compiling happens here), then time interleaved rounds; returns
    seconds per call, the last outputs and the warm-up seconds."""
    outputs, warmup = {}, {}
    for name, run in variants.items():
        outputs[name], warmup[name] = timed_call(run, device)
    times: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for round_ in range(max_rounds):
        active = [n for n in names if round_ < min_rounds or sum(times[n]) < seconds]
        if not active:
            break
        shift = round_ % len(active)
        for name in active[shift:] + active[:shift]:
            outputs[name], elapsed = timed_call(variants[name], device)
            times[name].append(elapsed)
    return times, outputs, warmup


def summarise(
    times: dict[str, list[float]], outputs: dict[str, Any], n: int, num_layers: int
) -> dict[str, Any]:
    """Posts/s per variant, measured and counted early-exit speed-ups, label agreement."""
    median = {name: float(np.median(values)) for name, values in times.items()}
    early = outputs["hateproto_early_exit"]
    full_labels = np.asarray(outputs["hateproto_full"])
    stepped_labels = np.asarray(outputs["hateproto_full_stepped"])
    compiled = {}
    if "hateproto_full_compiled" in median:
        compiled = {
            "compiled_over_hf_pipeline": median["hf_pipeline"] / median["hateproto_full_compiled"],
            "compiled_over_full": median["hateproto_full"] / median["hateproto_full_compiled"],
            "labels_agree_full_vs_compiled": float(
                (np.asarray(outputs["hateproto_full_compiled"]) == full_labels).mean()
            ),
        }
    return {
        "posts_per_s": {name: n / value for name, value in median.items()},
        "median_s": median,
        "times_s": times,
        "mean_exit_layer": early.mean_exit_layer,
        "exit_histogram": early.exit_histogram(),
        "counted_speedup": early.counted_speedup,
        "token_weighted_speedup": early.token_weighted_speedup,
        "measured_speedup": median["hateproto_full"] / median["hateproto_early_exit"],
        "measured_speedup_vs_stepped": median["hateproto_full_stepped"]
        / median["hateproto_early_exit"],
        "refill_speedup": median["hateproto_full"] / median["hateproto_early_exit_refill"],
        "labels_agree_early_exit_vs_refill": float(
            (early.labels == outputs["hateproto_early_exit_refill"].labels).mean()
        ),
        "hateproto_full_over_hf_pipeline": median["hf_pipeline"] / median["hateproto_full"],
        "labels_agree_full_vs_stepped": float((full_labels == stepped_labels).mean()),
        **compiled,
        "num_layers": num_layers,
    }


# ---------------------------------------------------------------------- driver
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=None, help="results JSON")
    parser.add_argument("--quick", action="store_true", help="tiny models, few posts (tests)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--dtypes", default=None, help="default fp32,bf16 (+fp16 on GPUs)")
    parser.add_argument("--batch-sizes", default=None, help="default 1,32,256 (quick: 1,8)")
    parser.add_argument("--posts", type=int, default=None, help="posts per call (default by size)")
    parser.add_argument("--seconds", type=float, default=None, help="timed seconds per variant")
    parser.add_argument("--min-rounds", type=int, default=3)
    parser.add_argument("--max-rounds", type=int, default=10)
    parser.add_argument("--budget-s", type=float, default=200.0, help="stop starting configs")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--compile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="time hateproto_full_compiled too (default: on GPUs only)",
    )
    return parser.parse_args(argv)


def device_slug(device: torch.device) -> str:
    """``cpu``, or the GPU's name in lower case with dashes (``nvidia-h200``)."""
    if device.type != "cuda":
        return "cpu"
    return "-".join(torch.cuda.get_device_name(device).lower().split())


def plan(args: argparse.Namespace, device: torch.device) -> tuple[list[str], list[str], list[int]]:
    """Models, dtypes and batch sizes to run, from the options and the device."""
    default_dtypes = "fp32,bf16,fp16" if device.type == "cuda" else "fp32,bf16"
    dtypes = (args.dtypes or default_dtypes).split(",")
    sizes = args.batch_sizes or ("1,8" if args.quick else "1,32,256")
    models = args.models.split(",")
    unknown = [m for m in models if m not in MODELS] + [d for d in dtypes if d not in DTYPES]
    if unknown:
        raise SystemExit(f"unknown model or dtype: {', '.join(unknown)}")
    return models, dtypes, [int(b) for b in sizes.split(",")]


def n_posts(args: argparse.Namespace, batch_size: int) -> int:
    if args.posts:
        return args.posts
    if args.quick:
        return 3 * batch_size
    return POSTS_PER_BATCH_SIZE.get(batch_size, 8 * batch_size)


def seconds_per_variant(args: argparse.Namespace) -> float:
    """Timed seconds per variant and configuration (quick: just the minimum rounds)."""
    if args.seconds is not None:
        return args.seconds
    return 0.01 if args.quick else 1.0


def run_config(
    backbone: Backbone,
    pipe: Any,
    name: str,
    batch_size: int,
    args: argparse.Namespace,
    compiled: Backbone | None = None,
) -> dict[str, Any]:
    """Time the variants on one model, dtype and batch size."""
    n = n_posts(args, batch_size)
    texts = synthetic_posts(n, seed=batch_size)
    probabilities = exit_probabilities(name, backbone.num_layers)
    variants, _ = make_variants(backbone, pipe, batch_size, probabilities, texts, compiled)
    seconds = seconds_per_variant(args)
    min_rounds = 1 if args.quick else args.min_rounds
    times, outputs, warmup = time_variants(
        variants, backbone.device, seconds, min_rounds, max(min_rounds, args.max_rounds)
    )
    summary = summarise(times, outputs, n, backbone.num_layers)
    return {"n_posts": n, **summary, "warmup_s": warmup}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    models, dtypes, batch_sizes = plan(args, device)
    use_compile = args.compile if args.compile is not None else device.type == "cuda"
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    tokenizer = build_tokenizer()
    with tempfile.TemporaryDirectory(prefix="hateproto-gpu-speed-") as tmp:
        folders = {m: save_model(m, args.quick, Path(tmp), tokenizer, device) for m in models}
        build_s = time.perf_counter() - started
        for dtype_key in dtypes:
            dtype_name, torch_dtype = DTYPES[dtype_key]
            for model in models:
                if time.perf_counter() - started > args.budget_s:
                    skipped += [
                        {"model": model, "dtype": dtype_name, "batch_size": b} for b in batch_sizes
                    ]
                    continue
                backbone = Backbone.load(str(folders[model]), dtype=dtype_name, device=device)
                pipe = hf_pipeline(folders[model], torch_dtype, device)
                compiled = copy.copy(backbone).compile() if use_compile else None
                for batch_size in batch_sizes:
                    key = {"model": model, "dtype": dtype_name, "batch_size": batch_size}
                    if time.perf_counter() - started > args.budget_s:
                        skipped.append(key)
                        continue
                    row = {**key, "config": model_config(model, args.quick).to_diff_dict()}
                    timed = run_config(backbone, pipe, model, batch_size, args, compiled)
                    rows.append({**row, **timed})
                    print(_line(rows[-1]), flush=True)
                    report(args, argv, device, use_compile, rows, skipped, build_s, started)
                del backbone, pipe, compiled
                torch._dynamo.reset()  # compiled graphs of this model are not needed again
                gc.collect()
                if device.type == "cuda":
                    torch.cuda.empty_cache()
    result = report(args, argv, device, use_compile, rows, skipped, build_s, started)
    print(f"wrote {len(rows)} rows, {len(skipped)} skipped, {result['wall_time_s']:.0f} s")
    return result


def report(
    args: argparse.Namespace,
    argv: list[str] | None,
    device: torch.device,
    use_compile: bool,
    rows: list[dict[str, Any]],
    skipped: list[dict[str, Any]],
    build_s: float,
    started: float,
) -> dict[str, Any]:
    """Write the results so far to ``--out`` (after every row, so that a run stopped by a time
    limit keeps what it measured) and return them."""
    models, dtypes, batch_sizes = plan(args, device)
    result = {
        "benchmark": "gpu_speed",
        "device": str(device),
        "device_name": default_device() if device.type == "cuda" else "cpu",
        "quick": args.quick,
        "variants": [v for v in VARIANTS if use_compile or "compiled" not in v],
        "settings": {
            "models": models,
            "dtypes": [DTYPES[d][0] for d in dtypes],
            "batch_sizes": batch_sizes,
            "seconds_per_variant": seconds_per_variant(args),
            "min_rounds": args.min_rounds,
            "max_rounds": args.max_rounds,
            "budget_s": args.budget_s,
            "tf32_matmul": bool(torch.backends.cuda.matmul.allow_tf32),
            "compiled_variant": use_compile,
            "command": " ".join(["benchmarks/gpu_speed.py", *(argv or sys.argv[1:])]),
            "texts": "synthetic, IHC train token lengths (benchmarks/data/ihc-token-lengths.json)",
            "exit_layers": "drawn per post from benchmarks/data/exit-layers.json",
        },
        "rows": rows,
        "skipped": skipped,
        "model_build_s": build_s,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "wall_time_s": time.perf_counter() - started,
        "provenance": provenance(device=default_device() if device.type == "cuda" else None),
    }
    out = (
        args.out or ROOT / "benchmarks" / "results" / f"inference-speed-{device_slug(device)}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def _line(row: dict[str, Any]) -> str:
    rates = " ".join(f"{k}={v:,.0f}/s" for k, v in row["posts_per_s"].items())
    return (
        f"{row['model']:8s} {row['dtype']:9s} b={row['batch_size']:<4d} {rates} "
        f"speed-up measured {row['measured_speedup']:.2f} counted {row['counted_speedup']:.2f}"
    )


if __name__ == "__main__":
    main()
