"""Policies by examples: `detector adapt` (add/replace), several weighted build sources, the
policy record (sources, sha256, versions), explanations by nearest examples, k-means
prototypes, and clean refusals that leave no folder behind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from tiny_detector import HATE, NOT_HATE, rehash, tiny_train

from hateproto.cli.main import main
from hateproto.detector import Detector
from hateproto.detector.adapt import adapt_detector, load_example_file, parse_weighted
from hateproto.errors import DataError, MismatchError, ModelError
from hateproto.prototypes.multi import MultiPrototypes, choose_k, spherical_kmeans

POLICY = pd.DataFrame(
    {
        "post": ["those people are vermin", "immigrants go home", "good game", "welcome home"],
        "verdict": ["remove", "remove", "keep", "keep"],
    }
)
LABELS = "remove=1,keep=0"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def policy_csv(tmp_path: Path) -> Path:
    path = tmp_path / "policy.csv"
    POLICY.to_csv(path, index=False)
    return path


def _adapt(detector_dir: Path, examples: str, out: Path, *extra: str) -> int:
    args = ["detector", "adapt", str(detector_dir), "--examples", examples, "--out", str(out)]
    return main(
        [*args, "--text-column", "post", "--label-column", "verdict", "--label-map", LABELS, *extra]
    )


def test_adapt_add_records_sources_and_versions(detector_dir, policy_csv, tmp_path, capsys):
    out = tmp_path / "ours"
    assert _adapt(detector_dir, f"{policy_csv}:3", out) == 0
    adapted = Detector.from_pretrained(out)
    parent = Detector.from_pretrained(detector_dir)
    assert adapted.backbone.fingerprint == parent.backbone.fingerprint
    assert not torch.allclose(adapted.prototypes.prototypes_, parent.prototypes.prototypes_)
    policy = adapted.metadata["policy"]
    assert (policy["version"], policy["parent_version"]) == (1, 0)
    assert policy["parent"] == str(detector_dir.resolve())
    [source] = policy["sources"]
    assert source["sha256"] == _sha(policy_csv) and source["weight"] == 3.0
    assert source["per_class"] == {"0": 2, "1": 2} and source["mode"] == "add"
    assert adapted.prototypes.n_per_class_ == {0: 8, 1: 8}
    info = adapted.info()
    assert info["version"] == 1 and info["policy"]["sources"][0]["sha256"] == source["sha256"]
    # no texts kept without --store-examples: ids and hashes only
    spec = json.loads((out / "examples.json").read_text())
    assert spec["stored_texts"] == 0 and "text" not in spec["examples"][0]
    assert (out / "examples.safetensors").is_file()
    explanation = adapted.explain("they are vermin", k=2)
    assert [n.rank for n in explanation.neighbours] == [1, 2]
    assert {n.label for n in explanation.neighbours} <= {"hate", "not_hate"}
    assert all(n.text is None and len(n.sha256) == 64 for n in explanation.neighbours)
    # a second adapt: version 2, both sources listed, parent version 1
    again = tmp_path / "ours2"
    assert _adapt(out, str(policy_csv), again, "--store-examples") == 0
    second = Detector.from_pretrained(again)
    assert second.metadata["policy"]["version"] == 2
    assert second.metadata["policy"]["parent_version"] == 1
    assert len(second.metadata["policy"]["sources"]) == 2
    assert len(second.neighbours) == 8
    texts = [n.text for n in second.explain("they are vermin", k=8).neighbours]
    assert sorted(t for t in texts if t) == sorted(POLICY["post"])


def test_replace_is_the_examples_alone(detector, tmp_path, policy_csv):
    source = load_example_file(policy_csv, "post", "verdict", {"remove": 1, "keep": 0})
    replaced = adapt_detector(detector, [source], mode="replace", store_examples=True)
    vectors = detector.prototypes.encode(list(POLICY["post"]))
    unit = torch.nn.functional.normalize(vectors.double(), dim=-1)
    labels = np.array([1, 1, 0, 0])
    hate = torch.nn.functional.normalize(unit[labels == 1].mean(0), dim=-1).float()
    got = replaced.prototypes.prototypes_[:, list(replaced.prototypes.classes_).index(1)]
    assert torch.allclose(got, hate, atol=1e-5)
    assert replaced.prototypes.n_per_class_ == {0: 2, 1: 2}
    assert replaced.decides_with == "prototypes"
    assert len(replaced.metadata["policy"]["sources"]) == 1


def test_build_with_weighted_sources(tiny_encoder_dir, tmp_path, policy_csv, capsys):
    train = tmp_path / "train.csv"
    tiny_train().to_frame().rename(columns={"text": "post", "label": "verdict"}).replace(
        {"verdict": {1: "remove", 0: "keep"}}
    ).to_csv(train, index=False)
    out = tmp_path / "det"
    args = ["detector", "build", "--model", str(tiny_encoder_dir), "--per-class", "2"]
    args += ["--data", str(train), "--data", f"{policy_csv}:2", "--out", str(out)]
    args += ["--text-column", "post", "--label-column", "verdict", "--label-map", LABELS]
    assert main([*args, "--store-examples", "--layer", "last"]) == 0, capsys.readouterr().err
    built = Detector.from_pretrained(out)
    policy = built.metadata["policy"]
    assert policy["version"] == 1 and policy["parent_version"] is None
    assert [s["weight"] for s in policy["sources"]] == [1.0, 2.0]
    assert [s["sha256"] for s in policy["sources"]] == [_sha(train), _sha(policy_csv)]
    assert policy["class_mass"] == {"0": 6.0, "1": 6.0}
    assert len(built.neighbours) == 8 and built.neighbours.texts[0] is not None
    assert main(["detector", "explain", str(out), "they are vermin", "-k", "3", "--json"]) == 0
    explained = json.loads(capsys.readouterr().out)
    assert len(explained["neighbours"]) == 3 and explained["neighbours"][0]["text"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"post": ["a post", "another"], "verdict": ["remove", "remove"]}, "only one class"),
        ({"post": ["a post", "another"], "verdict": ["remove", "maybe"]}, "not in the label map"),
    ],
)
def test_bad_policy_files_leave_no_folder(detector_dir, tmp_path, capsys, rows, message):
    bad = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(bad, index=False)
    out = tmp_path / "never"
    assert _adapt(detector_dir, str(bad), out) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob("*never*"))


def test_bad_mode_weight_and_same_folder(detector_dir, policy_csv, tmp_path, capsys):
    assert _adapt(detector_dir, str(policy_csv), tmp_path / "x", "--mode", "merge") == 2
    assert _adapt(detector_dir, str(policy_csv), tmp_path / "x", "--weight", "0") == 2
    assert "positive" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    with pytest.raises(DataError, match="positive"):
        parse_weighted("a.csv:-1")
    assert parse_weighted("a.csv") == (Path("a.csv"), 1.0)


def test_examples_from_another_model_are_refused(detector_dir, policy_csv, tmp_path):
    out = tmp_path / "ours"
    assert _adapt(detector_dir, str(policy_csv), out) == 0
    spec = json.loads((out / "examples.json").read_text())
    spec["fingerprint"] = "0" * 16
    (out / "examples.json").write_text(json.dumps(spec))
    with pytest.raises(ModelError, match="examples.json has changed"):
        Detector.from_pretrained(out)
    rehash(out)
    with pytest.raises(MismatchError, match="stored examples were encoded by"):
        Detector.from_pretrained(out)


def test_adapt_recalibrates_on_dev(detector_dir, policy_csv, tmp_path, capsys):
    out = tmp_path / "ours"
    assert _adapt(detector_dir, str(policy_csv), out, "--dev-data", str(policy_csv)) == 0
    adapted = Detector.from_pretrained(out)
    assert adapted.calibration is not None and (out / "calibration.json").is_file()
    info = adapted.info()
    assert info["decision_threshold"] == adapted.calibration.threshold
    assert info["calibration_error"] == adapted.calibration.dev["ece"]
    assert "Calibrated on" in capsys.readouterr().err


def test_service_reports_policy(detector_dir, policy_csv, tmp_path):
    from fastapi.testclient import TestClient

    from hateproto.service import ServiceSettings, create_app

    out = tmp_path / "ours"
    assert _adapt(detector_dir, str(policy_csv), out) == 0
    app = create_app(Detector.from_pretrained(out), ServiceSettings(api_token=None))
    with TestClient(app) as client:
        info = client.get("/v1/info").json()
    assert info["version"] == 1 and info["policy"]["sources"][0]["name"] == "policy"
    assert info["decision_threshold"] == 0.5 and info["calibration_error"] is None


def test_multi_prototypes_kmeans():
    rng = np.random.default_rng(0)
    centres = torch.tensor(rng.normal(size=(4, 8)))
    labels = np.array([0, 0, 1, 1] * 25)
    vectors = centres[np.arange(100) % 4] + 0.05 * torch.tensor(rng.normal(size=(100, 8)))
    centroids = spherical_kmeans(vectors, 2, seed=0)
    assert centroids.shape == (2, 8)
    multi = MultiPrototypes(k=2).fit(vectors, labels)
    assert (multi.predict(vectors) == labels).all()
    k, scores = choose_k(vectors, labels, vectors, labels, candidates=(1, 2))
    assert k in (1, 2) and set(scores) == {1, 2}
    assert len(HATE) == len(NOT_HATE)
