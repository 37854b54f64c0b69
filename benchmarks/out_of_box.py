"""Out of the box: ``hateproto classify`` with its defaults against the HF pipeline's.

Whole processes, model loading included, on the CPU, with the real all-MiniLM-L6-v2:

* ``hateproto``: a detector built with ``hateproto detector build`` and no dtype option (so
  ``--dtype auto`` measures float32 against bfloat16 and stores the choice), then
  ``hateproto classify POSTS OUT --detector DIR`` with every other option at its default;
* ``pipeline_b1``: ``transformers.pipeline("text-classification")`` with its own defaults
  (float32, one text at a time) over the same posts, written to a CSV;
* ``pipeline_b32``: the same with ``batch_size=32`` (what a user who tunes it would set).

The three commands run in turn, ``--rounds`` times (the first round is a warm-up, not
counted); the result holds each one's wall-clock seconds, their medians and the ratios.

Run from the repository root (IHC from ``$HATEPROTO_DATA``)::

    python benchmarks/out_of_box.py --posts 2000 --rounds 4 \\
        --out benchmarks/results/out-of-box-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HATEPROTO = [sys.executable, "-m", "hateproto"]


def pipeline_main(posts: Path, out: Path, batch_size: int) -> None:
    """The pipeline side: score ``posts`` (CSV with ``text``) and write labels to ``out``."""
    import pandas as pd
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from hateproto.models import fetch_model

    folder = fetch_model("minilm")
    model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=2)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    classify = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
    texts = pd.read_csv(posts)["text"].tolist()
    kwargs = {"batch_size": batch_size} if batch_size > 1 else {}
    labels = [r["label"] for r in classify(texts, truncation=True, max_length=256, **kwargs)]
    pd.DataFrame({"text": texts, "label": labels}).to_csv(out, index=False)


def write_posts(path: Path, n: int) -> None:
    """The first ``n`` IHC test posts of a seeded shuffle, as a CSV with a ``text`` column."""
    import numpy as np
    import pandas as pd

    from hateproto.data import load_benchmark

    test = load_benchmark("ihc", "test")
    order = np.random.default_rng(0).permutation(len(test))[:n]
    pd.DataFrame({"text": [test.texts[i] for i in order]}).to_csv(path, index=False)


def build_detector(folder: Path) -> dict:
    """Build the detector with the CLI's defaults (no --dtype) unless it exists."""
    if not (folder / "detector.json").is_file():
        command = [*HATEPROTO, "detector", "build", "--model", "minilm", "--dataset", "ihc"]
        subprocess.run([*command, "--per-class", "50", "--out", str(folder)], check=True)
    return json.loads((folder / "detector.json").read_text())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4, help="the first is a warm-up")
    parser.add_argument("--work", type=Path, default=Path("/tmp/hateproto-out-of-box"))
    parser.add_argument("--out", type=Path, help="results JSON (needed unless --pipeline)")
    parser.add_argument("--pipeline", nargs=3, metavar=("POSTS", "OUT", "BATCH"))
    args = parser.parse_args(argv)
    if args.pipeline:
        pipeline_main(Path(args.pipeline[0]), Path(args.pipeline[1]), int(args.pipeline[2]))
        return {}
    if args.out is None:
        parser.error("--out is required")
    args.work.mkdir(parents=True, exist_ok=True)
    posts = args.work / "posts.csv"
    write_posts(posts, args.posts)
    manifest = build_detector(args.work / "detector")
    me = [sys.executable, str(Path(__file__).resolve()), "--pipeline", str(posts)]
    commands = {
        "hateproto": [*HATEPROTO, "classify", str(posts), str(args.work / "scored.csv")]
        + ["--detector", str(args.work / "detector"), "--quiet"],
        "pipeline_b1": [*me, str(args.work / "pipe1.csv"), "1"],
        "pipeline_b32": [*me, str(args.work / "pipe32.csv"), "32"],
    }
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.rounds):
        for name, command in commands.items():
            (args.work / "scored.csv").unlink(missing_ok=True)
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            if round_ > 0:
                seconds[name].append(time.perf_counter() - start)
            print(name, round_, f"{time.perf_counter() - start:.1f} s", flush=True)
    from hateproto.provenance import provenance

    median = {name: statistics.median(values) for name, values in seconds.items()}
    result = {
        "benchmark": "out_of_box",
        "command": " ".join(["benchmarks/out_of_box.py", *(argv or sys.argv[1:])]),
        "posts": args.posts,
        "detector_settings": manifest.get("settings"),
        "dtype_choice": manifest.get("metadata", {}).get("dtype_choice"),
        "seconds": seconds,
        "median_s": median,
        "hateproto_over_pipeline_b1": median["pipeline_b1"] / median["hateproto"],
        "hateproto_over_pipeline_b32": median["pipeline_b32"] / median["hateproto"],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "provenance": provenance(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("median_s", "hateproto_over_pipeline_b1")}))
    return result


if __name__ == "__main__":
    main()
