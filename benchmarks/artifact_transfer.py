"""Move a real detector to a "fresh machine" and compare its scores bit for bit (issue 28).

Not part of CI. Exports ``--detector`` with ``hateproto detector export``, then, as a new
machine would, imports it under an empty ``$HATEPROTO_HOME`` (no model cache, no index of
local models) with the base model given as a copied folder (``--model``), scores the same
posts on both sides and records whether every probability, margin, label and exit layer is
identical, with the archive's size and the export, import and load times.

    python benchmarks/artifact_transfer.py --detector ~/.cache/hateproto/detectors/quickstart \\
        --model ~/.cache/hateproto/models/all-MiniLM-L6-v2 \\
        --out benchmarks/results/artifact-transfer.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import load_texts  # noqa: E402

from hateproto.provenance import provenance  # noqa: E402

_SCORE = """
import json, sys, numpy as np
from hateproto.detector import Detector
folder, model, texts_file, out = sys.argv[1:5]
texts = json.loads(open(texts_file).read())
detector = Detector.from_pretrained(folder, model=model or None)
scores = detector.score_arrays(texts)
np.savez(out, proba=scores.proba, labels=scores.labels, margins=np.asarray(scores.margins),
         exit_layers=np.asarray(scores.exit_layers))
"""


def _cli(*args: str, env: dict[str, str]) -> float:
    """Run ``hateproto ARGS`` in a fresh process; return its wall time."""
    begin = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "from hateproto.cli.main import run; run()", *args],
        check=True,
        env=env,
    )
    return time.perf_counter() - begin


def _score(folder: Path, model: str, texts: Path, out: Path, env: dict[str, str]) -> float:
    begin = time.perf_counter()
    command = [sys.executable, "-c", _SCORE, str(folder), model, str(texts), str(out)]
    subprocess.run(command, check=True, env=env)
    return time.perf_counter() - begin


def run(args: argparse.Namespace) -> dict[str, object]:
    texts, source = load_texts(args.n, seed=0)
    work = Path(tempfile.mkdtemp(prefix="artifact-transfer-"))
    try:
        texts_file = work / "texts.json"
        texts_file.write_text(json.dumps(texts))
        here = dict(os.environ)
        here_seconds = _score(Path(args.detector), "", texts_file, work / "here.npz", here)
        archive = work / "detector.tar.gz"
        export_s = _cli("detector", "export", args.detector, "--out", str(archive), env=here)
        fresh = {**os.environ, "HATEPROTO_HOME": str(work / "fresh-home")}
        model = shutil.copytree(Path(args.model).expanduser(), work / "elsewhere" / "base")
        moved = work / "server" / "detector"
        import_s = _cli("detector", "import", str(archive), "--out", str(moved), env=fresh)
        there_seconds = _score(moved, str(model), texts_file, work / "there.npz", fresh)
        here_arrays, there_arrays = np.load(work / "here.npz"), np.load(work / "there.npz")
        identical = {
            key: bool(np.array_equal(here_arrays[key], there_arrays[key]))
            for key in here_arrays.files
        }
        return {
            "detector": args.detector,
            "texts": f"{len(texts)} {source}",
            "archive_bytes": archive.stat().st_size,
            "files": len(json.loads((moved / "detector.json").read_text())["files"]),
            "identical": identical,
            "all_identical": all(identical.values()),
            "max_abs_probability_difference": float(
                np.abs(here_arrays["proba"] - there_arrays["proba"]).max()
            ),
            "export_seconds": round(export_s, 2),
            "import_seconds": round(import_s, 2),
            "load_and_score_seconds": {
                "here": round(here_seconds, 2),
                "there": round(there_seconds, 2),
            },
            "command": "python " + " ".join(sys.argv),
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", required=True, help="A format-2 detector folder.")
    parser.add_argument("--model", required=True, help="Its base model's folder.")
    parser.add_argument("--n", type=int, default=1000, help="Posts to score.")
    parser.add_argument("--out", default="benchmarks/results/artifact-transfer.json")
    args = parser.parse_args()
    result = {**run(args), "provenance": provenance()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(json.dumps({k: result[k] for k in ("all_identical", "archive_bytes")}), f"\nwrote {out}")


if __name__ == "__main__":
    main()
