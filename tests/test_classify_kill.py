"""A classify run killed with SIGKILL resumes where it stopped; the output is never partial."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE, tiny_detector

RUN = "import sys; from hateproto.cli.main import run; sys.argv[0] = 'hateproto'; run()"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigkill_then_resume(tiny_encoder_dir, tmp_path):
    detector_dir = tiny_detector(tiny_encoder_dir).save_pretrained(tmp_path / "det")
    texts = (HATE + NOT_HATE) * 250  # 3,000 rows, 60 chunks of 50
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(tmp_path / "in.csv", index=False)
    out, sidecar = tmp_path / "out.csv", tmp_path / "out.csv.progress.json"
    command = [sys.executable, "-c", RUN, "classify", str(tmp_path / "in.csv"), str(out)]
    command += ["--detector", str(detector_dir), "--chunk-size", "50", "--quiet", "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 240
    done = 0
    while time.monotonic() < deadline and process.poll() is None and done < 200:
        time.sleep(0.2)
        if sidecar.is_file():
            with contextlib.suppress(json.JSONDecodeError, KeyError):
                done = json.loads(sidecar.read_text())["summary"]["rows_read"]
    if process.poll() is not None:
        pytest.skip("the run finished before it could be killed")
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists() and done >= 200

    resumed = subprocess.run([*command, "--resume", "--json"], env=env, capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    summary = json.loads(resumed.stdout)
    assert summary["resumed_from"] >= 200 and summary["rows_read"] == len(texts)
    result = pd.read_csv(out)
    assert result["id"].tolist() == list(range(len(texts)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["det", "in.csv", "out.csv"]
