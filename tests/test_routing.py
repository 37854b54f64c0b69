"""Language routing (issue 25): posts of a routed language go to that language's detector,
the rest to the detector itself; routed detectors live inside the folder and are hashed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hateproto.cli.main import app
from hateproto.detector import Detector
from hateproto.detector.results import Scores
from hateproto.detector.routing import merge_scores, route_rows, routed_scores
from hateproto.errors import ConfigError

GERMAN = "Das ist eine ganz normale Nachricht über das Wetter in Berlin heute."
ENGLISH = "This is a perfectly normal message about the weather in London today."


class _Constant:
    """A stand-in detector whose hate probability is fixed."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.seen: list[str] = []

    def score_arrays(self, texts: list[str]) -> Scores:
        self.seen += texts
        n = len(texts)
        proba = np.column_stack([np.full(n, 1 - self.value), np.full(n, self.value)])
        attributes = {"IDENTITY_ATTACK": proba[:, 1], "TOXICITY": np.full(n, 0.5)}
        return Scores(
            (proba[:, 1] >= 0.5).astype(int), proba, np.zeros(n), np.full(n, 3), attributes
        )


def test_rows_are_split_by_language_and_merged_back_in_order() -> None:
    assert route_rows(["de", "en", "fr", "de"], ["de"]) == {"de": [0, 3], "": [1, 2]}
    german, own = _Constant(0.9), _Constant(0.1)
    texts = [GERMAN, ENGLISH, GERMAN + " Wirklich.", ENGLISH + " Really."]
    handed: list[list[str]] = []

    def own_scores(chosen: list[str], languages: list[str]) -> Scores:
        handed.append(languages)
        return own.score_arrays(chosen)

    scores = routed_scores(texts, ["en", "de"], own_scores, {"de": german})
    assert german.seen == [texts[0], texts[2]] and own.seen == [texts[1], texts[3]]
    assert handed == [["en", "en"]]  # the identified languages travel with the posts
    assert scores.proba[:, 1].tolist() == pytest.approx([0.9, 0.1, 0.9, 0.1])
    assert scores.languages.tolist() == ["de", "en", "de", "en"]
    assert set(scores.attributes) == {"IDENTITY_ATTACK", "TOXICITY"}


def test_merge_keeps_only_attributes_every_part_answers() -> None:
    a, b = _Constant(0.2).score_arrays(["x"]), _Constant(0.7).score_arrays(["y"])
    b.attributes = {"IDENTITY_ATTACK": b.attributes["IDENTITY_ATTACK"]}
    merged = merge_scores({"": ([1], a), "de": ([0], b)}, 2)
    assert list(merged.attributes) == ["IDENTITY_ATTACK"]
    assert merged.proba[:, 1].tolist() == pytest.approx([0.7, 0.2])


def test_a_routed_folder_round_trips(detector: Detector, tmp_path: Path) -> None:
    inner = detector.save_pretrained(tmp_path / "inner")
    outer = Detector.from_pretrained(inner)
    outer.metadata["languages"] = ["en"]
    outer.routes["de"] = Detector.from_pretrained(inner)
    folder = outer.save_pretrained(tmp_path / "routed")
    manifest = json.loads((folder / "detector.json").read_text())
    assert manifest["routes"] == {"de": "routes/de"}
    assert any(name.startswith("routes/de/") for name in manifest["files"])
    loaded = Detector.from_pretrained(folder)
    assert list(loaded.routes) == ["de"] and loaded.facts().languages == ("en", "de")
    predictions = loaded.score([GERMAN, ENGLISH])
    assert [p.language for p in predictions] == ["de", "en"]
    alone = Detector.from_pretrained(inner).score([GERMAN, ENGLISH])
    assert [p.hate_probability for p in predictions] == pytest.approx(
        [p.hate_probability for p in alone], abs=1e-6
    )
    assert loaded.info()["routes"]["de"].startswith("de@sha256:")
    # a changed file inside the routed detector is caught by the outer folder's hashes
    victim = next(
        p for p in (folder / "routes" / "de").rglob("*.json") if p.name != "detector.json"
    )
    victim.write_text(victim.read_text() + " ")
    with pytest.raises(Exception, match="sha256|changed|damaged"):
        Detector.from_pretrained(folder)


def test_cli_route(detector_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "routed"
    result = CliRunner().invoke(
        app,
        [
            "detector",
            "route",
            str(detector_dir),
            "--route",
            f"de={detector_dir}",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "de ->" in result.output and (out / "routes" / "de" / "detector.json").is_file()
    bad = CliRunner().invoke(
        app, ["detector", "route", str(detector_dir), "--route", "de", "--out", str(tmp_path / "x")]
    )
    assert bad.exit_code != 0 and "LANGUAGE=DETECTOR_DIR" in str(bad.exception)
    assert not (tmp_path / "x").exists()
    twice = CliRunner().invoke(
        app,
        ["detector", "route", str(detector_dir), "--route", f"de={detector_dir}", "--route",
         f"DE={detector_dir}", "--out", str(tmp_path / "y")],
    )  # fmt: skip
    assert twice.exit_code != 0 and "routed twice" in str(twice.exception)
    assert not (tmp_path / "y").exists()


def test_check_route_refuses_a_bad_code(detector: Detector) -> None:
    from hateproto.detector.routing import check_route

    with pytest.raises(ConfigError, match="ISO 639-1"):
        check_route("german!", detector, ())
    with pytest.raises(ConfigError, match="does not answer TOXICITY"):
        check_route("de", detector, ("TOXICITY",))


GERMAN_HATE = "Diese Leute sind Ungeziefer und sollen verschwinden, das sage ich euch allen."


def _analyze(client, **extra: object):
    body = {"comment": {"text": GERMAN_HATE}, "requestedAttributes": {"IDENTITY_ATTACK": {}}}
    return client.post("/v1alpha1/comments:analyze", json={**body, **extra})


def test_perspective_serves_the_languages_a_detector_declares(tiny_encoder_dir: Path) -> None:
    """German is refused by an English detector, answered by one that declares German
    (asked for, or detected), and answered by an English one with the any_language opt-in."""
    from fastapi.testclient import TestClient
    from tiny_detector import tiny_detector

    from hateproto.service import ServiceSettings, create_app

    english = tiny_detector(tiny_encoder_dir)
    with TestClient(create_app(english, ServiceSettings(api_token=None))) as client:
        refused = _analyze(client)
        assert refused.status_code == 400
        assert "does not support request languages: de" in refused.json()["error"]["message"]
    settings = ServiceSettings(api_token=None, any_language=True)
    with TestClient(create_app(english, settings)) as client:
        assert _analyze(client).status_code == 200
    german = tiny_detector(tiny_encoder_dir)
    german.metadata["languages"] = ["en", "de"]
    with TestClient(create_app(german, ServiceSettings(api_token=None))) as client:
        detected = _analyze(client)
        assert detected.status_code == 200, detected.text
        assert detected.json()["detectedLanguages"][0] == "de"
        assert detected.json()["languages"] == ["de"]
        asked = _analyze(client, languages=["de"])
        assert asked.status_code == 200 and asked.json()["languages"] == ["de"]
