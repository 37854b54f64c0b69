"""Multi-process training entry points on a tiny random BERT: `accelerate launch --cpu
--num_processes 1 -m hateproto train ...` and two CPU processes (DDP, gloo) under torchrun."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hateproto.training import HateClassifier

HATEFUL, KIND = "they are vermin dirty criminals".split(), "welcome friends kind good".split()


@pytest.fixture(scope="module")
def toy_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    labels = [0, 1] * 20
    texts = [" ".join(rng.choice(HATEFUL if y else KIND, size=4)) for y in labels]
    path = tmp_path_factory.mktemp("data") / "toy.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(path, index=False)
    return path


def _run(launcher: list[str], model: Path, data: Path, out: Path, home: Path) -> dict:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")]),
        "HATEPROTO_HOME": str(home),
        "OMP_NUM_THREADS": "1",
    }
    cmd = [sys.executable, "-m", *launcher, "-m", "hateproto", "train", "--model", str(model)]
    cmd += ["--data", str(data), "--output", str(out), "--epochs", "1", "--batch-size", "8"]
    done = subprocess.run(cmd + ["--json"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1  # only the main process reports
    return json.loads(lines[0])


def test_accelerate_launch_one_cpu_process(tiny_encoder_dir, toy_csv, tmp_path) -> None:
    launcher = ["accelerate.commands.launch", "--cpu", "--num_processes", "1"]
    launcher += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    summary = _run(launcher, tiny_encoder_dir, toy_csv, tmp_path / "ckpt", tmp_path / "home")
    assert summary["n_train"] == 36 and summary["n_dev"] == 4 and summary["num_processes"] == 1
    clf = HateClassifier.from_pretrained(tmp_path / "ckpt")
    assert clf.predict(["they are vermin", "welcome friends"]).shape == (2,)


def free_port() -> int:
    """A TCP port that nothing listens on now: the OS picks it when binding to port 0."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def occupied(*ports: int) -> Iterator[None]:
    """Hold ``ports`` (those that are free) busy, as another job on the machine would."""
    with contextlib.ExitStack() as stack:
        for port in ports:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
            except OSError:
                pass  # already busy: all the better
        yield


def test_free_port_is_bindable_and_not_fixed() -> None:
    ports = {free_port() for _ in range(3)}
    assert all(1024 <= p < 65536 for p in ports)
    with occupied(*ports):
        assert free_port() not in ports


def test_torchrun_two_cpu_processes(tiny_encoder_dir, toy_csv, tmp_path) -> None:
    port = free_port()
    launcher = ["torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(port)]
    # torchrun's default port and the one this test used to hard-code are busy, as on a
    # machine where another job holds them: the run must not depend on any fixed port
    with occupied(29500, 29533):
        summary = _run(launcher, tiny_encoder_dir, toy_csv, tmp_path / "ckpt", tmp_path / "home")
    assert summary["num_processes"] == 2
    log = (tmp_path / "ckpt" / "train.log").read_text()
    seen = [int(n) for n in re.findall(r'"examples": (\d+)', log)]
    assert seen and all(n < 36 for n in seen)  # the main process saw its share of the 36
    assert (tmp_path / "ckpt" / "head.safetensors").is_file()
