"""Kill a command at a random point (SIGKILL, SIGTERM, SIGINT): the previous output must be
intact or the new one complete, never a mix (issue 13).

One driver process imports hateproto once, then forks a child per run (no torch work happens
in the driver before it forks, so the children are safe). It watches for the run's temporary
output to appear and kills the child a seeded random few milliseconds later, so the signal
lands while the output is being written and swapped in: the moment that matters.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE, tiny_detector

from hateproto.detector import Detector
from hateproto.outputs import recover_folder
from hateproto.prototypes.files import read_spec, read_tensor

DRIVER = r"""
import glob, json, os, signal, sys, time
from hateproto.cli.main import main

plan = json.load(open(sys.argv[1]))
results = []
for run in plan:
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        import torch
        torch.set_num_threads(1)
        os._exit(main(run["args"]))
    seen = None
    while seen is None and os.waitpid(pid, os.WNOHANG) == (0, 0):
        if glob.glob(run["trigger"]):  # the run has started writing its output
            seen = time.monotonic() - started
            time.sleep(run["delay"])
            os.kill(pid, getattr(signal, run["signal"]))
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.001)
    else:
        status = None  # finished before it could be killed
    results.append({"status": status, "seen_at": seen, "seconds": time.monotonic() - started})
json.dump(results, open(sys.argv[2], "w"))
"""

#: (command, signal): every command, every signal.
KILLS = [
    ("classify", "SIGKILL"),
    ("detector", "SIGTERM"),
    ("detector", "SIGKILL"),
    ("prototypes", "SIGINT"),
    ("train", "SIGKILL"),
]


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _commands(model: Path, tmp: Path) -> dict[str, tuple[list[str], Path]]:
    """command → (arguments without the output, output option)."""
    train = tmp / "train.csv"
    texts, labels = (HATE + NOT_HATE) * 4, ([1] * 6 + [0] * 6) * 4
    pd.DataFrame({"text": texts, "label": labels}).to_csv(train, index=False)
    posts = tmp / "posts.csv"
    pd.DataFrame({"id": range(600), "text": (HATE + NOT_HATE) * 50}).to_csv(posts, index=False)
    detector = tiny_detector(model).save_pretrained(tmp / "scoring-detector")
    return {
        "classify": (["classify", str(posts)], ["--detector", str(detector), "--quiet"]),
        "detector": (
            ["detector", "build", "--model", str(model), "--data", str(train), "--seed", "1"],
            ["--per-class", "5"],
        ),
        "prototypes": (
            ["prototypes", "build", "--model", str(model), "--data", str(train), "--seed", "1"],
            ["--per-class", "5"],
        ),
        "train": (
            ["train", "--model", str(model), "--data", str(train), "--seed", "1", "--no-test"],
            ["--epochs", "1", "--batch-size", "8", "--max-length", "16", "--json"],
        ),
    }


def _old_outputs(model: Path, tmp: Path) -> dict[str, Path]:
    """What a previous run left, for each command (built with seed 0)."""
    from hateproto.training import HateClassifier, TrainingConfig

    old = tmp / "old"
    old.mkdir()
    (old / "classify.csv").write_text("id,text,label\n0,an older output,hate\n")
    detector = tiny_detector(model)
    detector.save_pretrained(old / "detector")
    detector.prototypes.save_pretrained(old / "prototypes")
    config = TrainingConfig(backbone=str(model), mode="probe", show_progress=False)
    HateClassifier.from_config(config).save_pretrained(old / "train")
    return {
        "classify": old / "classify.csv",
        "detector": old / "detector",
        "prototypes": old / "prototypes",
        "train": old / "train",
    }


def _output(command: str, base: Path) -> tuple[list[str], Path]:
    path = base.with_suffix(".csv") if command == "classify" else base
    option = {"classify": [], "detector": ["--out"], "prototypes": ["--out"], "train": ["-o"]}
    return [*option[command], str(path)], path


def _copy(source: Path, target: Path) -> None:
    import shutil

    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copyfile(source, target)


def _complete(command: str, path: Path) -> dict[str, str]:
    """Check that ``path`` is a whole, loadable output; return its tree (or file hash)."""
    if command == "classify":
        frame = pd.read_csv(path)
        assert list(frame.columns)[:2] == ["id", "text"]
        return {"": hashlib.sha256(path.read_bytes()).hexdigest()}
    if command == "detector":
        Detector.from_pretrained(path)
    elif command == "prototypes":
        read_tensor(path, read_spec(path))
    else:
        from hateproto.training import HateClassifier

        HateClassifier.from_pretrained(path)
    return _tree(path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork and signals")
def test_a_killed_command_leaves_the_old_output_or_the_new_one(tiny_encoder_dir, tmp_path):
    rng = random.Random(13)
    commands, olds = _commands(tiny_encoder_dir, tmp_path), _old_outputs(tiny_encoder_dir, tmp_path)
    plan, checks = [], []
    for command, name in KILLS:
        head, tail = commands[command]
        out_args, target = _output(command, tmp_path / f"{command}-{name}")
        _copy(olds[command], target)
        trigger = (
            f"{target}.partial"
            if command == "classify"
            else f"{target.parent}/.{target.name}.tmp-*"
        )
        delay = rng.uniform(0, 0.05)  # into the writing, which takes a few milliseconds
        args = [*head, *out_args, *tail]
        plan.append({"args": args, "trigger": trigger, "delay": delay, "signal": name})
        checks.append((command, target, olds[command], name))
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TOKENIZERS_PARALLELISM": "false"}
    env["HATEPROTO_HOME"] = str(tmp_path / "home")
    subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path / "plan.json"), str(tmp_path / "out.json")],
        env=env,
        check=True,
        timeout=600,
    )
    results = json.loads((tmp_path / "out.json").read_text())
    outcomes = []
    for command, target, old, name in checks:
        if command == "train":
            recover_folder(target)  # what the next `train` does first (see outputs.py)
        state = _complete(command, target)  # raises unless the output is whole
        if state == _complete(command, old):
            outcomes.append((command, name, "old"))
        else:
            assert _is_new(command, target), (command, name)
            outcomes.append((command, name, "new"))
        leftovers = [p.name for p in target.parent.glob(f".{target.name}.*")]
        assert leftovers == [] or name in ("SIGKILL", "SIGTERM"), leftovers
    print(outcomes, results)


def _is_new(command: str, target: Path) -> bool:
    """``target`` is the output of the killed (seed 1) run, complete."""
    if command == "classify":
        frame = pd.read_csv(target)
        return len(frame) == 600 and frame["label"].isin(["hate", "not_hate"]).all()
    if command == "detector":
        return Detector.from_pretrained(target).metadata["built_from"]["seed"] == 1
    if command == "prototypes":
        return read_spec(target).seed == 1
    meta = json.loads((target / "hateproto_classifier.json").read_text())
    return meta["training_config"]["seed"] == 1 and meta["history"]
