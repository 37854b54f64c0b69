"""Issue 28 I and the detector-folder fuzz: damaged files give one-line errors, never a
traceback (and never torch's advice to load a pickle with ``weights_only=False``).

The fuzz damages every file a detector folder holds (a field removed or given a wrong type,
NaN, infinity, a huge number; a file truncated or replaced) and re-records the folder's
sha256 list, as a deliberate editor would, so that each file's own checks are reached: the
detector then either refuses to load with one line naming the folder, or loads and scores.
"""

from __future__ import annotations

import json
import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_detector import HATE, NOT_HATE, rehash, tiny_train

from hateproto.cli.main import main
from hateproto.detector import Detector, build_detector
from hateproto.detector.calibration import DetectorCalibration
from hateproto.detector.components import ExitThresholds
from hateproto.detector.neighbours import ExampleBank
from hateproto.errors import HateprotoError, ModelError
from hateproto.evaluation.calibration import ProbabilityCalibrator
from hateproto.models import Backbone
from hateproto.training import HateClassifier, TrainingConfig


@pytest.fixture(scope="module")
def full_dir(tiny_encoder_dir, tmp_path_factory) -> Path:
    """A detector folder holding every kind of file: a classifier head in ``model/``,
    prototypes, early-exit thresholds, a calibration and stored examples."""
    root = tmp_path_factory.mktemp("full")
    clf = HateClassifier.from_config(
        TrainingConfig(backbone=str(tiny_encoder_dir), mode="probe", head="linear", max_length=32)
    )
    checkpoint = clf.save_pretrained(root / "ckpt")
    detector = build_detector(str(checkpoint), tiny_train(), per_class=None, decision_layer=None)
    fingerprint = detector.backbone.fingerprint
    detector.thresholds = ExitThresholds({1: 0.5, 2: 0.2}, 0.01, fingerprint)
    detector.calibration = DetectorCalibration(
        ProbabilityCalibrator("platt", {"a": 1.5, "b": 0.1}), 0.6
    )
    data = tiny_train()
    vectors = detector.prototypes.encode(data.texts)[:, -1]
    detector.neighbours = ExampleBank.from_examples(data, vectors, 3, fingerprint, 0, True)
    return detector.save_pretrained(root / "det")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_full_folder_loads_and_explains(full_dir):
    detector = Detector.from_pretrained(full_dir)
    assert detector.neighbours is not None and detector.calibration is not None
    assert len(detector.explain(HATE[0], k=2).neighbours) == 2
    assert {"model/head.safetensors", "examples.json", "early_exit.json"} <= set(_files(full_dir))


# ---------------------------------------------------------------------- I: named probes
def _edit_json(path: Path, change) -> None:
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


def _one_line_error(folder: Path, *args: str) -> str:
    with pytest.raises(HateprotoError) as caught:
        Detector.from_pretrained(folder, *args).explain(HATE[0])
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_an_example_label_x_and_an_example_layer_99(full_dir, tmp_path, capsys):
    folder = shutil.copytree(full_dir, tmp_path / "d")
    _edit_json(folder / "examples.json", lambda v: v["examples"][0].update(label="x"))
    rehash(folder)
    assert "examples.json" in _one_line_error(folder)
    folder = shutil.copytree(full_dir, tmp_path / "e")
    _edit_json(folder / "examples.json", lambda v: v.update(layer=99))
    rehash(folder)
    assert "layer 99 has no prototypes" in _one_line_error(folder)
    assert main(["detector", "explain", str(folder), "they are vermin"]) == 2
    assert "layer 99" in capsys.readouterr().err


class _Payload:
    """Any class: a pickle of it needs code from this module to load."""


def _model_copy(model_dir: Path, dest: Path) -> Path:
    return Path(shutil.copytree(model_dir, dest))


def test_a_truncated_safetensors_model(tiny_encoder_dir, tmp_path):
    folder = _model_copy(tiny_encoder_dir, tmp_path / "model")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelError, match="could not load model") as caught:
        Backbone.load(str(folder))
    assert "\n" not in str(caught.value) and str(folder) in str(caught.value)


def test_a_pickled_weights_file_is_refused_without_unsafe_advice(tiny_encoder_dir, tmp_path):
    folder = _model_copy(tiny_encoder_dir, tmp_path / "model")
    state = Backbone.load(str(folder)).model.state_dict()
    (folder / "model.safetensors").unlink()
    torch.save({**state, "payload": _Payload()}, folder / "pytorch_model.bin")
    with pytest.raises(ModelError) as caught:
        Backbone.load(str(folder))
    message = str(caught.value)
    assert "weights_only" not in message and "pickle" in message and "\n" not in message
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(ModelError) as caught:
        Backbone.load(str(folder))
    assert "weights_only" not in str(caught.value)


# ---------------------------------------------------------------------- fuzz
BAD_VALUES = [None, float("nan"), float("inf"), -float("inf"), "x", [], {}, 10**30, -1, True]


def _mutate_json(value: object, where: list[str], new: object) -> object:
    """``value`` with the key path ``where`` set to ``new`` (or deleted when ``new`` is
    the sentinel ``_DELETE``)."""
    if not where:
        return new
    if isinstance(value, dict) and value:
        key = where[0] if where[0] in value else sorted(value)[hash(where[0]) % len(value)]
        inner = dict(value)
        if len(where) == 1 and new is _DELETE:
            inner.pop(key)
        else:
            inner[key] = _mutate_json(value[key], where[1:], new)
        return inner
    if isinstance(value, list) and value:
        return [_mutate_json(value[0], where[1:], new), *value[1:]]
    return new if new is not _DELETE else value


_DELETE = object()


def _keys(path: Path) -> list[list[str]]:
    """Every key path of a JSON file, two levels deep."""
    value = json.loads(path.read_text())
    paths: list[list[str]] = []
    for key, inner in value.items() if isinstance(value, dict) else []:
        paths.append([key])
        if isinstance(inner, dict):
            paths += [[key, k] for k in inner]
        if isinstance(inner, list) and inner and isinstance(inner[0], dict):
            paths += [[key, "0", k] for k in inner[0]]
    return paths


def _check_loads_or_refuses(folder: Path) -> None:
    try:
        detector = Detector.from_pretrained(folder)
        predictions = detector.score([HATE[0], NOT_HATE[0]])
    except HateprotoError as exc:
        assert "\n" not in str(exc), str(exc)
        return
    for p in predictions:
        assert math.isfinite(p.hate_probability) and 0 <= p.hate_probability <= 1
        assert p.label in ("hate", "not_hate")


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(data=st.data())
def test_any_damage_to_a_json_file_is_refused_or_harmless(full_dir, tmp_path_factory, data):
    folder = Path(shutil.copytree(full_dir, tmp_path_factory.mktemp("fuzz") / "d"))
    names = [n for n in _files(folder) if n.endswith(".json")]
    name = data.draw(st.sampled_from(names), label="file")
    path = folder / name
    how = data.draw(st.sampled_from(["value", "delete", "truncate", "type"]), label="how")
    if how == "truncate":
        text = path.read_text()
        path.write_text(text[: data.draw(st.integers(0, max(0, len(text) - 1)), label="cut")])
    elif how == "type":
        path.write_text(json.dumps(data.draw(st.sampled_from(BAD_VALUES[:8]), label="doc")))
    else:
        where = data.draw(st.sampled_from(_keys(path)), label="key")
        new = _DELETE if how == "delete" else data.draw(st.sampled_from(BAD_VALUES))
        value = _mutate_json(json.loads(path.read_text()), where, new)
        path.write_text(json.dumps(value))
    if name != "detector.json":
        rehash(folder)
    _check_loads_or_refuses(folder)


@FUZZ
@given(data=st.data())
def test_any_damage_to_a_tensor_file_is_refused(full_dir, tmp_path_factory, data):
    folder = Path(shutil.copytree(full_dir, tmp_path_factory.mktemp("fuzz") / "d"))
    names = [n for n in _files(folder) if n.endswith(".safetensors")]
    path = folder / data.draw(st.sampled_from(names), label="file")
    raw = path.read_bytes()
    how = data.draw(st.sampled_from(["truncate", "zeros", "flip", "nan"]), label="how")
    if how == "truncate":
        path.write_bytes(raw[: data.draw(st.integers(0, len(raw) - 1), label="cut")])
    elif how == "zeros":
        path.write_bytes(bytes(len(raw)))
    elif how == "flip":
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        path.write_bytes(raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :])
    else:  # the tensor data (after the header) set to NaN, the header intact
        header = 8 + int.from_bytes(raw[:8], "little")
        nan = np.full((len(raw) - header) // 4, np.nan, dtype=np.float32).tobytes()
        path.write_bytes(raw[:header] + nan + raw[header + len(nan) :])
    rehash(folder)
    _check_loads_or_refuses(folder)
