"""`accelerate launch --cpu --num_processes 1 -m hateproto train ...` on a tiny random BERT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from hateproto.training import HateClassifier


def test_accelerate_launch_trains_a_tiny_model(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    hateful, kind = "they are vermin dirty criminals".split(), "welcome friends kind good".split()
    labels = [0, 1] * 20
    texts = [" ".join(rng.choice(hateful if y else kind, size=4)) for y in labels]
    data = tmp_path / "toy.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(data, index=False)
    out = tmp_path / "ckpt"
    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
        "HATEPROTO_HOME": str(tmp_path / "home"),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1"]
    cmd += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    cmd += ["-m", "hateproto", "train", "--model", str(tiny_encoder_dir), "--data", str(data)]
    cmd += ["--output", str(out), "--epochs", "1", "--batch-size", "8", "--json"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["n_train"] == 36 and summary["n_dev"] == 4
    clf = HateClassifier.from_pretrained(out)
    assert clf.predict(texts[:4]).shape == (4,)
