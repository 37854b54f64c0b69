"""OpenVINO against PyTorch on the CPU (issue 26): is it a faster engine for hateproto?

One process, one model, the same posts (texts sorted by length, batches of 32, tokenising
not timed; every contender returns every layer's token states, which is what the six-layer
probe, layer stepping and early exit need). Contenders:

- ``torch-fp32`` and ``torch-bf16``: the Hugging Face model in PyTorch (eager, SDPA attention);
- ``hateproto-bf16``: the same in bf16 with hateproto's short-text CPU attention
  (:mod:`hateproto.models.cpu_attention`), which hateproto's backbone switches on by default;
- ``openvino-fp32`` and ``openvino-bf16``: the same model converted with
  ``openvino.convert_model`` (every hidden state as an output) and compiled for the CPU with
  ``INFERENCE_PRECISION_HINT``;
- ``openvino-int8``: the same graph with every linear weight stored as int8 (one scale per
  output channel, the pattern NNCF's weight compression writes) and OpenVINO's dynamic int8
  quantisation of activations (``DYNAMIC_QUANTIZATION_GROUP_SIZE`` 32), bf16 elsewhere;
- ``openvino-int8-static``: NNCF's post-training quantisation (``nncf.quantize``, transformer
  preset: int8 weights and activations with scales calibrated on ``--calibration-posts`` posts
  of the dataset's dev split, never the timed test posts), where NNCF is installed
  (``pip install --no-deps nncf tabulate natsort pydot``).

Reported: the median of ``--rounds`` timed rounds after one warm-up (posts per second; the
rounds are interleaved, each round timing every contender in turn), and
the cosine of every post's mean-pooled last layer with PyTorch float32 (minimum and mean).
OpenVINO is not a hateproto dependency; install it into the venv without its dependencies
(``pip install --no-deps openvino openvino-telemetry``). Example::

    HATEPROTO_DATA=../shared/datasets python benchmarks/cpu_openvino.py \\
        --out benchmarks/results/cpu-openvino.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

BATCH = 32


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return (hidden.astype(np.float32) * weights).sum(1) / weights.sum(1).clip(min=1)


def _batches(tokenizer: Any, texts: list[str]) -> list[dict]:
    """``texts`` in padded numpy batches of :data:`BATCH`, in their order."""
    return [
        dict(tokenizer(texts[i : i + BATCH], padding=True, truncation=True, return_tensors="np"))
        for i in range(0, len(texts), BATCH)
    ]


class _AllLayers(torch.nn.Module):
    """The model with every layer's token states as its outputs (what the probe reads)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple:
        out = self.model(
            input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True
        )
        return tuple(out.hidden_states)


def _int8_weights(model: Any) -> int:
    """Store every constant 2-D MatMul weight of an OpenVINO model as int8 with one float
    scale per output channel (int8 -> convert -> multiply: what OpenVINO's CPU plugin reads
    as compressed weights). Returns how many weights were replaced."""
    import openvino as ov
    import openvino.opset13 as ops

    replaced = 0
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul":
            continue
        source = op.input_value(1).get_node()
        if source.get_type_name() != "Constant" or len(source.get_output_shape(0)) != 2:
            continue
        weight = source.get_data().astype(np.float32)
        reduce_axis = 1 if op.get_attributes().get("transpose_b", False) else 0
        scale = np.abs(weight).max(axis=reduce_axis, keepdims=True) / 127.0
        scale[scale == 0] = 1.0
        quantized = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        restored = ops.multiply(
            ops.convert(ops.constant(quantized), ov.Type.f32), ops.constant(scale)
        )
        op.input(1).replace_source_output(restored.output(0))
        replaced += 1
    model.validate_nodes_and_infer_types()
    return replaced


def _static_int8(graph: Any, calibration: list[dict]) -> Any | None:
    """NNCF's post-training int8 quantisation of ``graph`` (None without NNCF)."""
    try:
        import nncf
    except ImportError:
        return None
    items = [{0: b["input_ids"], 1: b["attention_mask"]} for b in calibration]
    return nncf.quantize(
        graph,
        nncf.Dataset(items),
        model_type=nncf.ModelType.TRANSFORMER,
        subset_size=len(items),
    )


def _contenders(
    model_dir: Path, sample: dict, threads: int, calibration: list[dict]
) -> dict[str, Callable]:
    """Name -> function(batch of numpy inputs) -> last layer's token states."""
    import openvino as ov
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir).eval()
    wrapped = _AllLayers(model)
    dynamic = [ov.PartialShape([-1, -1]), ov.PartialShape([-1, -1])]
    example = (torch.from_numpy(sample["input_ids"]), torch.from_numpy(sample["attention_mask"]))
    graph = ov.convert_model(wrapped, example_input=example, input=dynamic)
    graph_int8 = ov.convert_model(wrapped, example_input=example, input=dynamic)
    _int8_weights(graph_int8)
    graph_static = _static_int8(
        ov.convert_model(wrapped, example_input=example, input=dynamic), calibration
    )
    core = ov.Core()
    base = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": threads}
    compiled = {
        "openvino-fp32": (graph, {"INFERENCE_PRECISION_HINT": "f32"}),
        "openvino-bf16": (graph, {"INFERENCE_PRECISION_HINT": "bf16"}),
        "openvino-int8": (
            graph_int8,
            {"INFERENCE_PRECISION_HINT": "bf16", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "32"},
        ),
    }
    if graph_static is not None:
        compiled["openvino-int8-static"] = (graph_static, {"INFERENCE_PRECISION_HINT": "bf16"})
    out: dict[str, Callable] = {}
    for name, (network, config) in compiled.items():
        request = core.compile_model(network, "CPU", {**base, **config}).create_infer_request()

        def run_openvino(batch: dict, request: Any = request) -> np.ndarray:
            result = request.infer({0: batch["input_ids"], 1: batch["attention_mask"]})
            return result[len(result) - 1]

        out[name] = run_openvino
    from hateproto.models.cpu_attention import use_cpu_attention

    for name, dtype in (
        ("torch-fp32", torch.float32),
        ("torch-bf16", torch.bfloat16),
        ("hateproto-bf16", torch.bfloat16),
    ):
        typed = AutoModel.from_pretrained(model_dir, dtype=dtype).eval()
        if name.startswith("hateproto"):
            use_cpu_attention(typed)  # what hateproto's backbone does on the CPU

        @torch.inference_mode()
        def run_torch(batch: dict, typed: Any = typed) -> np.ndarray:
            inputs = {k: torch.from_numpy(v) for k, v in batch.items()}
            states = typed(**inputs, output_hidden_states=True).hidden_states
            return states[-1].float().numpy()

        out[name] = run_torch
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", default="~/.cache/hateproto/models/all-MiniLM-L6-v2")
    parser.add_argument("--dataset", default="ihc")
    parser.add_argument("--split", default="test")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calibration-posts", type=int, default=256)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    import openvino as ov
    from transformers import AutoTokenizer

    from hateproto.data import load_benchmark

    torch.set_num_threads(args.threads)
    model_dir = Path(args.model_dir).expanduser()
    texts = list(load_benchmark(args.dataset, args.split).texts[: args.posts])
    texts.sort(key=len)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    batches = _batches(tokenizer, texts)
    calibration = _batches(
        tokenizer, list(load_benchmark(args.dataset, "dev").texts[: args.calibration_posts])
    )
    loads = [os.getloadavg()[0]]
    contenders = _contenders(model_dir, batches[0], args.threads, calibration)
    pooled: dict[str, np.ndarray] = {}
    results: dict[str, dict] = {}
    for name, run in contenders.items():  # warm-up, and the outputs compared below
        outputs = [run(batch) for batch in batches]
        pooled[name] = np.concatenate(
            [_mean_pool(h, b["attention_mask"]) for h, b in zip(outputs, batches, strict=True)]
        )
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):  # rounds interleaved: every contender sees the same load
        for name, run in contenders.items():
            start = time.perf_counter()
            for batch in batches:
                run(batch)
            seconds[name].append(time.perf_counter() - start)
        loads.append(os.getloadavg()[0])
    for name, times in seconds.items():
        median = statistics.median(times)
        results[name] = {
            "seconds": [round(s, 4) for s in times],
            "median_seconds": round(median, 4),
            "posts_per_second": round(len(texts) / median, 1),
        }
        print(name, results[name]["posts_per_second"], "posts/s", flush=True)
    reference = pooled["torch-fp32"]
    for name, vectors in pooled.items():
        cosine = (vectors * reference).sum(1) / (
            np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
        )
        results[name]["cosine_vs_torch_fp32"] = {
            "min": round(float(cosine.min()), 6),
            "mean": round(float(cosine.mean()), 6),
        }
        results[name]["ratio_to_torch_bf16"] = round(
            results[name]["posts_per_second"] / results["torch-bf16"]["posts_per_second"], 3
        )
    report = {
        "command": "python benchmarks/cpu_openvino.py " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "model_dir": str(model_dir),
        "data": f"{args.dataset}/{args.split} (first {len(texts)} posts, sorted by length)",
        "batch_size": BATCH,
        "rounds": args.rounds,
        "threads": args.threads,
        "openvino": ov.__version__,
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "load_average_1min": [round(x, 2) for x in loads],
        "contenders": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
