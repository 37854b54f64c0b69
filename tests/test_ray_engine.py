"""classify --engine ray on a local Ray instance (small: one worker, a dozen rows)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from tiny_detector import HATE, NOT_HATE, tiny_detector

from hateproto.cli.main import main

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_classify_with_ray_matches_local_engine(tiny_encoder_dir, tmp_path, local_ray, capsys):
    detector_dir = tiny_detector(tiny_encoder_dir).save_pretrained(tmp_path / "det")
    frame = pd.DataFrame({"id": [f"p{i}" for i in range(12)], "text": HATE + NOT_HATE})
    frame.loc[4, "text"] = ""
    src = tmp_path / "in.csv"
    frame.to_csv(src, index=False)
    base = ["classify", str(src), "--detector", str(detector_dir), "--quiet", "--chunk-size", "5"]

    skip = ["--on-error", "skip", "--json"]
    assert (
        main([base[0], base[1], str(tmp_path / "ray.parquet"), *base[2:], *skip, "--engine", "ray"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows_scored"], summary["bad_examples"]) == (11, ["row 5: text is missing"])
    assert main([base[0], base[1], str(tmp_path / "local.parquet"), *base[2:], *skip]) == 0
    via_ray = pd.read_parquet(tmp_path / "ray.parquet")
    local = pd.read_parquet(tmp_path / "local.parquet")
    assert via_ray["id"].tolist() == local["id"].tolist() == [f"p{i}" for i in range(12) if i != 4]
    assert via_ray["hate_probability"].tolist() == pytest.approx(
        local["hate_probability"].tolist(), abs=1e-4
    )
    assert via_ray["exit_layer"].tolist() == local["exit_layer"].tolist()
