"""Which int8 quantisation agrees best with float32 (issue 26), chosen on dev posts.

For a detector folder, scores dev posts in float32, then with the backbone quantised
(:func:`hateproto.models.quantization.quantize_backbone`) under each variant: SmoothQuant's
migration strength, and which linear layers stay in the compute dtype (``keep``). Reports,
per variant, the share of labels that agree with float32, the largest change of the hate
probability, and the seconds the scoring took (one run each, in this process: a rough
guide; speed ratios come from ``benchmarks/cpu_side_by_side.py``).

    HATEPROTO_DATA=../shared/datasets python benchmarks/int8_variants.py \\
        --detector ~/.cache/hateproto/detectors/quickstart \\
        --out benchmarks/results/int8-variants.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from hateproto.data import load_benchmark
from hateproto.detector import Detector
from hateproto.models.quantization import SMOOTHING, quantize_backbone

VARIANTS: tuple[tuple[float, tuple[str, ...]], ...] = (
    (SMOOTHING, ()),
    (SMOOTHING, ("output.dense",)),
    (SMOOTHING, ("intermediate.dense",)),
    (SMOOTHING, ("attention.output.dense",)),
    (0.8, ()),
    (0.3, ()),
    (0.0, ()),
)
"""(smoothing, keep) pairs: the default first."""


def dev_posts(names: list[str], per_dataset: int) -> list[str]:
    """The first ``per_dataset`` dev posts of each benchmark."""
    texts: list[str] = []
    for name in names:
        texts += list(load_benchmark(name, "dev").texts[:per_dataset])
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="~/.cache/hateproto/detectors/quickstart")
    parser.add_argument("--datasets", default="ihc,olid,sbic,hatexplain")
    parser.add_argument("--per-dataset", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/int8-variants.json"))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    folder = Path(args.detector).expanduser()
    texts = dev_posts(args.datasets.split(","), args.per_dataset)
    reference = Detector.from_pretrained(folder, dtype="float32").score_arrays(texts)
    rows = []
    for smoothing, keep in VARIANTS:
        detector = Detector.from_pretrained(folder, dtype="float32")
        quantize_backbone(detector.backbone, smoothing=smoothing, keep=keep)
        start = time.perf_counter()
        scores = detector.score_arrays(texts)
        seconds = time.perf_counter() - start
        change = np.abs(scores.proba[:, 1] - reference.proba[:, 1])
        row = {
            "smoothing": smoothing,
            "keep": list(keep),
            "int8_modules": detector.backbone.quantization["modules"],
            "label_agreement_with_float32": round(
                float((scores.labels == reference.labels).mean()), 4
            ),
            "largest_probability_change": round(float(change.max()), 4),
            "seconds": round(seconds, 2),
        }
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    result = {
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "detector": str(folder),
        "posts": f"{len(texts)} dev posts: the first {args.per_dataset} of {args.datasets}",
        "float32_positives": int(reference.labels.sum()),
        "variants": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
