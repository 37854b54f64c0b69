"""hateproto's detector against what a speed-minded user runs, side by side on the CPU.

Every contender lives in its own process (started by this script, model loading and
set-up not timed) and scores the same posts; the processes take turns, one at a time, for
``--rounds`` interleaved rounds (the order rotates every round) after one untimed warm-up
round, with a pause between runs so no process's idle threads overlap the next one. Each
run is timed from the texts to the answer (tokenising included). Reported: the median
seconds of each contender, posts per second, hateproto's default against every other one
(ratio of posts per second), the load average before, during (per round) and after, and,
for hateproto's own variants, label agreement with its float32 run and the expected
calibration error (ECE) on the posts' labels.

Contenders (``--contenders``, default all):

- ``hateproto``: the detector folder as built, no options (what ``hateproto classify``
  runs per chunk: ``Detector.from_pretrained(folder).score_arrays(texts)``);
- ``hateproto-sdpa``: the same with PyTorch's SDPA attention (hateproto before issue 26);
- ``hateproto-unpacked``: the same with plain ``nn.Linear`` layers instead of the packed ones
  (``hateproto.models.packed_linear``; hateproto before round 4 of issue 26);
- ``hateproto-float32`` and ``hateproto-int8``: the folder loaded with ``dtype=...``;
- ``hateproto-compiled`` and ``hateproto-int8-compiled``: the default and int8 with
  ``compile=True`` (``--compile``: ``torch.compile``, Inductor's fused C++ kernels on the
  CPU); compiling happens in the untimed warm-up round, whose seconds are recorded
  (``warm_up_seconds``) because a one-off ``classify`` pays them;
- ``pipeline-fp32``: ``transformers.pipeline("feature-extraction")``, batch 32, mean pooled;
- ``st-fp32`` and ``st-bf16``: ``SentenceTransformer.encode``, batch 32 (it sorts by length);
- ``ort-fp32`` and ``ort-int8``: the model exported to ONNX (``torch.onnx.export``) and run
  by ONNX Runtime, dynamically quantised to int8 for the second
  (``onnxruntime.quantization.quantize_dynamic``, QInt8 weights), texts sorted by length in
  batches of 32, mean pooled;
- ``ov-fp32`` and ``ov-bf16``: the same ONNX file compiled by OpenVINO for the CPU
  (``INFERENCE_PRECISION_HINT`` f32 or bf16, ``PERFORMANCE_HINT`` LATENCY), the same loop.
  OpenVINO is not in ``requirements/bench.txt`` (``pip install --no-deps openvino
  openvino-telemetry``; ``benchmarks/cpu_openvino.py`` has the engine-only comparison).

The contenders beside hateproto need ``requirements/bench.txt`` (``benchmarks/cpu-speed.md``
says how to install it without touching torch). Example::

    HATEPROTO_DATA=../shared/datasets python benchmarks/cpu_side_by_side.py \\
        --detector ~/.cache/hateproto/detectors/quickstart --posts 2000 --rounds 4 \\
        --out benchmarks/results/cpu-side-by-side.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CONTENDERS = (
    "hateproto",
    "hateproto-sdpa",
    "hateproto-unpacked",
    "hateproto-float32",
    "hateproto-int8",
    "hateproto-compiled",
    "hateproto-int8-compiled",
    "pipeline-fp32",
    "st-fp32",
    "st-bf16",
    "ort-fp32",
    "ort-int8",
    "ov-fp32",
    "ov-bf16",
)
BATCH = 32
PAUSE_SECONDS = 0.5


# ---------------------------------------------------------------------------- workers
def _mean_pool(hidden: Any, mask: Any) -> Any:
    mask = mask[..., None].astype(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clip(min=1)


def _onnx_files(model_dir: Path, cache: Path) -> dict[str, Path]:
    """The model exported to ONNX (float32) and its dynamic int8 copy, made once."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    folder = cache / model_dir.name
    fp32, int8 = folder / "model-fp32.onnx", folder / "model-int8.onnx"
    if not fp32.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        model = AutoModel.from_pretrained(model_dir).eval()
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        sample = tokenizer(["an example post", "another"], padding=True, return_tensors="pt")

        class LastHidden(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                return self.model(input_ids=input_ids, attention_mask=attention_mask)[0]

        axes = {0: "batch", 1: "tokens"}
        torch.onnx.export(
            LastHidden(),
            (sample["input_ids"], sample["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=17,
            dynamo=False,
        )
    if not int8.is_file():
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
    return {"fp32": fp32, "int8": int8}


def _ort_session(path: Path, threads: int) -> Any:
    """ONNX Runtime on ``path``: a function from the input arrays to the last hidden state."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda feed: session.run(None, feed)[0]


def _openvino_session(path: Path, precision: str, threads: int) -> Any:
    """OpenVINO on ``path`` in ``precision`` (``fp32`` or ``bf16``), as :func:`_ort_session`."""
    import openvino as ov

    hint = {"fp32": "f32", "bf16": "bf16"}[precision]
    config = {
        "INFERENCE_PRECISION_HINT": hint,
        "PERFORMANCE_HINT": "LATENCY",
        "INFERENCE_NUM_THREADS": threads,
    }
    request = ov.Core().compile_model(str(path), "CPU", config).create_infer_request()
    return lambda feed: request.infer(feed)[0]


def _setup(name: str, args: argparse.Namespace, texts: list[str]) -> Any:
    """A function scoring ``texts``: returns ``(labels, hate probability)`` for hateproto's
    variants, else ``None`` (the others give vectors only)."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    model_dir = Path(args.model_dir).expanduser()
    if name.startswith("hateproto"):
        from hateproto.detector import Detector

        variant = name.removesuffix("-compiled")
        dtype = {"hateproto-float32": "float32", "hateproto-int8": "int8"}.get(variant)
        overrides: dict[str, Any] = {} if dtype is None else {"dtype": dtype}
        if name.endswith("-compiled"):
            overrides["compile"] = True
        detector = Detector.from_pretrained(Path(args.detector).expanduser(), **overrides)
        if name == "hateproto-sdpa":
            detector.backbone.model.set_attn_implementation("sdpa")
        if name == "hateproto-unpacked":
            from hateproto.models.packed_linear import unpack_linears

            unpack_linears(detector.backbone.model)

        def run() -> Any:
            scores = detector.score_arrays(texts)
            return scores.labels.tolist(), scores.proba[:, 1].tolist()

        return run
    if name == "pipeline-fp32":
        from transformers import pipeline

        extract = pipeline("feature-extraction", model=str(model_dir), device=-1)

        def run() -> Any:
            out = extract(texts, batch_size=BATCH, truncation=True, return_tensors=True)
            torch.stack([t[0].mean(0) for t in out])  # the pipeline's own output, mean pooled

        return run
    if name.startswith("st-"):
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir), device="cpu")
        if name == "st-bf16":
            model = model.to(torch.bfloat16)

        def run() -> Any:
            model.encode(texts, batch_size=BATCH, convert_to_numpy=True)

        return run
    if name.startswith(("ort-", "ov-")):
        from transformers import AutoTokenizer

        files = _onnx_files(model_dir, Path(args.onnx_cache).expanduser())
        session = (
            _ort_session(files[name.removeprefix("ort-")], args.threads)
            if name.startswith("ort-")
            else _openvino_session(files["fp32"], name.removeprefix("ov-"), args.threads)
        )
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        hidden_size = json.loads((model_dir / "config.json").read_text())["hidden_size"]

        def run() -> Any:
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            vectors = np.zeros((len(texts), hidden_size))
            for start in range(0, len(order), BATCH):
                rows = order[start : start + BATCH]
                enc = tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="np",
                )
                feed = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
                hidden = session(feed)
                vectors[rows] = _mean_pool(hidden, enc["attention_mask"])

        return run
    raise SystemExit(f"unknown contender {name!r}; known: {', '.join(CONTENDERS)}")


def worker(args: argparse.Namespace) -> None:
    """Set up one contender, say ``ready``, then run it once per ``run`` line on stdin."""
    texts = json.loads(Path(args.posts_file).read_text())["texts"]
    run = _setup(args.worker, args, texts)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
        answer: dict[str, Any] = {"seconds": seconds}
        if result is not None:
            answer["labels"], answer["proba"] = result
        print(json.dumps(answer), flush=True)


# ---------------------------------------------------------------------------- parent
def _posts(args: argparse.Namespace) -> tuple[list[str], list[int]]:
    from hateproto.data import load_benchmark

    data = load_benchmark(args.dataset, args.split)
    n = min(args.posts, len(data))
    return list(data.texts[:n]), [int(x) for x in data.labels[:n]]


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _machine() -> dict[str, Any]:
    import torch

    flags = ""
    with contextlib.suppress(OSError):
        flags = Path("/proc/cpuinfo").read_text()
    wanted = ("avx512_bf16", "amx_bf16", "avx512_vnni", "avx_vnni", "amx_int8", "avx512f")
    versions: dict[str, str] = {"torch": torch.__version__, "python": platform.python_version()}
    for package in ("transformers", "sentence_transformers", "onnxruntime", "onnx", "openvino"):
        try:
            versions[package] = __import__(package).__version__
        except ImportError:
            versions[package] = "not installed"
    return {
        "cpus": os.cpu_count(),
        "cpu_flags": sorted({f for f in wanted if f" {f}" in flags}),
        "versions": versions,
        "env": {
            k: os.environ[k]
            for k in ("HATEPROTO_NO_BF16", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS")
            if k in os.environ
        },
    }


def _start(name: str, args: argparse.Namespace, posts_file: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--posts-file",
        str(posts_file),
        "--model-dir",
        args.model_dir,
        "--detector",
        args.detector,
        "--threads",
        str(args.threads),
        "--onnx-cache",
        args.onnx_cache,
    ]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line or not json.loads(line).get("ready"):
        raise SystemExit(f"{name}: did not start ({line!r})")
    return process


def _run(process: subprocess.Popen) -> dict[str, Any]:
    process.stdin.write("run\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())


def _ece(labels: list[int], proba: list[float]) -> float:
    import numpy as np

    from hateproto.evaluation.calibration import expected_calibration_error

    return float(expected_calibration_error(np.asarray(labels), np.asarray(proba)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default="~/.cache/hateproto/detectors/quickstart")
    parser.add_argument("--model-dir", default=None, help="default: the detector's base model")
    parser.add_argument("--dataset", default="ihc")
    parser.add_argument("--split", default="test")
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--onnx-cache", default="~/.cache/hateproto/cache/onnx-bench")
    parser.add_argument(
        "--dtype-choice",
        action="store_true",
        help="after the rounds, also run --dtype auto's measurement (float32, bfloat16, int8) "
        "on up to 512 posts of the dev split and record its choice and reasons",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--posts-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.model_dir is None:
        manifest = json.loads((Path(args.detector).expanduser() / "detector.json").read_text())
        from hateproto.models.references import resolve_model_reference

        args.model_dir = resolve_model_reference(manifest["model"]["reference"])[0]
    texts, labels = _posts(args)
    names = [n for n in args.contenders.split(",") if n]
    before = _loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        posts_file = Path(tmp) / "posts.json"
        posts_file.write_text(json.dumps({"texts": texts}))
        processes = {}
        try:
            for name in names:
                print(f"starting {name}", file=sys.stderr, flush=True)
                processes[name] = _start(name, args, posts_file)
            answers: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
            warm_up = {}
            for name in names:  # warm-up round, not timed (compiling happens here)
                warm_up[name] = round(_run(processes[name])["seconds"], 2)
                time.sleep(PAUSE_SECONDS)
            per_round = []
            for r in range(args.rounds):
                order = names[r % len(names) :] + names[: r % len(names)]
                for name in order:
                    answers[name].append(_run(processes[name]))
                    time.sleep(PAUSE_SECONDS)
                per_round.append(_loadavg())
                line = ", ".join(f"{n} {answers[n][-1]['seconds']:.2f}s" for n in names)
                print(f"round {r + 1}: {line}", file=sys.stderr, flush=True)
        finally:
            for process in processes.values():
                if process.stdin:
                    process.stdin.close()
                process.wait(timeout=60)
    result = _summary(args, names, answers, texts, labels)
    result["warm_up_seconds"] = warm_up
    result["loadavg"] = {"before": before, "per_round": per_round, "after": _loadavg()}
    if args.dtype_choice:
        result["dtype_choice"] = _dtype_choice(args)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(_table(result))


def _dtype_choice(args: argparse.Namespace) -> dict[str, Any]:
    """What ``--dtype auto`` (:func:`hateproto.detector.autotune.choose_dtype`) chooses for
    this detector on this machine, measured on up to 512 dev posts."""
    import torch

    from hateproto.data import load_benchmark
    from hateproto.detector import Detector
    from hateproto.detector.autotune import choose_dtype, measurement_sample

    torch.set_num_threads(args.threads)
    detector = Detector.from_pretrained(Path(args.detector).expanduser(), dtype="float32")
    dev = measurement_sample(load_benchmark(args.dataset, "dev"))
    return choose_dtype(detector, dev).metadata["dtype_choice"]


def _summary(
    args: argparse.Namespace,
    names: list[str],
    answers: dict[str, list[dict[str, Any]]],
    texts: list[str],
    labels: list[int],
) -> dict[str, Any]:
    contenders: dict[str, Any] = {}
    for name in names:
        seconds = [a["seconds"] for a in answers[name]]
        median = statistics.median(seconds)
        contenders[name] = {
            "seconds": [round(s, 4) for s in seconds],
            "median_seconds": round(median, 4),
            "posts_per_second": round(len(texts) / median, 1),
        }
    if "hateproto" in contenders:
        ours = contenders["hateproto"]["posts_per_second"]
        for entry in contenders.values():
            entry["hateproto_ratio"] = round(ours / entry["posts_per_second"], 3)
    quality: dict[str, Any] = {}
    reference = answers.get("hateproto-float32", [{}])[-1].get("labels")
    for name in names:
        last = answers[name][-1]
        if "labels" not in last:
            continue
        entry = {"ece": round(_ece(labels, last["proba"]), 4)}
        if reference is not None:
            agree = sum(a == b for a, b in zip(last["labels"], reference, strict=True))
            entry["label_agreement_with_float32"] = round(agree / len(texts), 4)
        quality[name] = entry
    if "hateproto-float32" in quality:
        base = quality["hateproto-float32"]["ece"]
        for entry in quality.values():
            entry["ece_change_vs_float32"] = round(entry["ece"] - base, 4)
    return {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "detector": str(args.detector),
        "model_dir": str(args.model_dir),
        "posts": len(texts),
        "data": f"{args.dataset}/{args.split} (first {len(texts)} posts)",
        "rounds": args.rounds,
        "threads": args.threads,
        "batch_size": BATCH,
        "machine": _machine(),
        "contenders": contenders,
        "quality": quality,
    }


def _table(result: dict[str, Any]) -> str:
    rows = ["| contender | posts/s | hateproto's default is | median s |", "|---|---:|---:|---:|"]
    for name, entry in result["contenders"].items():
        ratio = entry.get("hateproto_ratio")
        rows.append(
            f"| {name} | {entry['posts_per_second']:.0f} | "
            f"{'-' if ratio is None else f'{ratio:.2f}x'} | {entry['median_seconds']:.3f} |"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    main()
