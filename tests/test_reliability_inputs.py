"""Issue 28 B-G, L: bad input that got through, on both endpoints and in the detector.

Each test reproduces one probe of the issue: calibration files with NaN or out-of-range
values (B), chunked bodies over the limit (C), deeply nested JSON and huge integers (D), lone
surrogates on the Perspective endpoint (E), span annotations past the request limit (F),
posts with no visible character (G), the discovery document and content types (L).
"""

from __future__ import annotations

import json
import logging
import math
import shutil

import numpy as np
import pytest
from fastapi.testclient import TestClient
from tiny_detector import HATE, NOT_HATE, rehash

from hateproto.detector import Detector
from hateproto.detector.calibration import DetectorCalibration
from hateproto.errors import DataError, ModelError
from hateproto.evaluation.calibration import ProbabilityCalibrator
from hateproto.scoring.texts import text_problem
from hateproto.service import ServiceSettings, create_app

TEXTS = [*HATE[:2], *NOT_HATE[:2]]
INVISIBLE = ["\u200b", "\u200d", "\ufeff", "\x00", "\u00ad", "\u180e", "\u2060", " \u200b\t"]
ANALYZE = "/v1alpha1/comments:analyze"


def _analyze(text: str, **extra: object) -> dict[str, object]:
    return {"comment": {"text": text}, "requestedAttributes": {"IDENTITY_ATTACK": {}}, **extra}


def _platt(a: float, b: float, threshold: float) -> DetectorCalibration:
    return DetectorCalibration(ProbabilityCalibrator("platt", {"a": a, "b": b}), threshold)


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


@pytest.fixture(scope="module")
def client(detector):
    app = create_app(detector, ServiceSettings(api_token=None))
    with TestClient(app) as test_client:
        yield test_client


# ---------------------------------------------------------------------- B: calibration.json
@pytest.fixture()
def calibrated_dir(detector, tmp_path):
    detector.calibration = _platt(1.0, 0.0, 0.5)
    try:
        return detector.save_pretrained(tmp_path / "calibrated")
    finally:
        detector.calibration = None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": float("nan")}, "threshold"),
        ({"threshold": 7.5}, "threshold"),
        ({"threshold": "0.5"}, "threshold"),
        ({"calibrator": {"method": "platt", "params": {"a": float("nan"), "b": 0.0}}}, "a"),
        ({"calibrator": {"method": "platt", "params": {"a": 1.0, "b": float("inf")}}}, "b"),
        ({"calibrator": {"method": "platt", "params": {"a": 1.0}}}, "b"),
        ({"calibrator": {"method": "isotonic", "params": {"x": [0, 1], "y": [0, 9]}}}, "y"),
        ({"calibrator": {"method": "magic", "params": {}}}, "method"),
    ],
)
def test_a_broken_calibration_file_is_refused_at_load(calibrated_dir, change, message):
    path = calibrated_dir / "calibration.json"
    value = {**json.loads(path.read_text()), **change}
    path.write_text(json.dumps(value))
    rehash(calibrated_dir)
    with pytest.raises(ModelError, match=message) as caught:
        Detector.from_pretrained(calibrated_dir)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_a_broken_calibration_cannot_be_made_in_code_either():
    with pytest.raises(ModelError, match="threshold"):
        _platt(1.0, 0.0, float("nan"))
    with pytest.raises(ModelError, match="a"):
        _platt(float("nan"), 0.0, 0.5)


# ---------------------------------------------------------------------- stored threshold
def _between(detector, text: str, calibrated: float, threshold: float) -> DetectorCalibration:
    """A calibration that maps ``text``'s raw probability to ``calibrated``."""
    raw = float(detector.predict_proba([text])[0, 1])
    return _platt(1.0, _logit(calibrated) - _logit(raw), threshold)


@pytest.mark.parametrize(("calibrated", "threshold", "label"), [(0.6, 0.8, 0), (0.4, 0.3, 1)])
def test_the_stored_threshold_decides_not_one_half(detector, calibrated, threshold, label):
    """A probability between 0.5 and the threshold: ``>= 0.5`` and ``>= threshold`` differ."""
    text = TEXTS[0]
    detector.calibration = _between(detector, text, calibrated, threshold)
    try:
        prediction = detector.score([text])[0]
        assert prediction.hate_probability == pytest.approx(calibrated, abs=1e-6)
        assert prediction.label_id == label
        app = create_app(detector, ServiceSettings(api_token=None))
        with TestClient(app) as client:
            result = client.post("/v1/classify", json={"texts": [text]}).json()
            assert result["results"][0]["label"] == ("hate" if label else "not_hate")
            assert result["threshold"] == threshold and result["calibrated"] is True
            extras = client.post(ANALYZE, json=_analyze(text)).json()["hateproto"]
            assert extras["label"] == ("hate" if label else "not_hate")
    finally:
        detector.calibration = None


def test_perspective_returns_the_calibrated_probability(detector):
    """A calibrated detector behind the Perspective endpoint: the calibrated, not the raw,
    probability is the summary score (and each span's)."""
    raw = detector.predict_proba(TEXTS)[:, 1]
    detector.calibration = _platt(2.0, 1.0, 0.5)
    try:
        expected = [p.hate_probability for p in detector.score(TEXTS)]
        assert not np.allclose(expected, raw, atol=1e-3)
        app = create_app(detector, ServiceSettings(api_token=None))
        with TestClient(app) as client:
            for text, value in zip(TEXTS, expected, strict=True):
                body = client.post(ANALYZE, json=_analyze(text)).json()
                score = body["attributeScores"]["IDENTITY_ATTACK"]["summaryScore"]["value"]
                assert score == pytest.approx(value, abs=1e-6)
                assert body["hateproto"]["calibrated"] is True
            spans = client.post(
                ANALYZE, json=_analyze(f"{TEXTS[0]}. {TEXTS[2]}.", spanAnnotations=True)
            )
            span_scores = spans.json()["attributeScores"]["IDENTITY_ATTACK"]["spanScores"]
            assert [s["score"]["value"] for s in span_scores] == pytest.approx(
                [p.hate_probability for p in detector.score([f"{TEXTS[0]}.", f"{TEXTS[2]}."])],
                abs=1e-6,
            )
    finally:
        detector.calibration = None


# ---------------------------------------------------------------------- C: chunked bodies
def _chunks(total: int, size: int = 1024):
    sent = 0
    yield b'{"texts": ["'
    while sent < total:
        yield b"a" * size
        sent += size
    yield b'"]}'


def test_a_chunked_body_over_the_limit_is_refused_on_both_endpoints(detector):
    settings = ServiceSettings(api_token=None, max_texts_per_request=2, max_chars_per_text=10)
    with TestClient(create_app(detector, settings)) as client:
        response = client.post("/v1/classify", content=_chunks(20_000))
        assert response.status_code == 413 and "too large" in response.json()["detail"]
        response = client.post(ANALYZE, content=_chunks(20_000))
        assert response.status_code == 400
        assert "payload size exceeds the limit" in response.json()["error"]["message"]
        response = client.post(ANALYZE, content=b"x" * 20_000)  # with Content-Length
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


# ---------------------------------------------------------------------- D: nesting, huge ints
DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = b"1" * 5_000


@pytest.mark.parametrize(
    "body",
    [
        DEEP,
        b'{"texts": ' + DEEP + b"}",
        b'{"texts": [' + HUGE + b"]}",
        b'{"comment": {"text": "hi"}, "requestedAttributes": {"IDENTITY_ATTACK": '
        b'{"scoreThreshold": ' + HUGE + b"}}}",
    ],
)
def test_deep_nesting_and_huge_integers_are_refused_not_500(client, caplog, body):
    with caplog.at_level(logging.ERROR, logger="hateproto.service"):
        classify = client.post("/v1/classify", content=body)
        analyze = client.post(ANALYZE, content=body)
    assert classify.status_code == 422 and "not valid JSON" in classify.json()["detail"]
    assert analyze.status_code == 400 and analyze.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ---------------------------------------------------------------------- E: lone surrogates
def test_a_lone_surrogate_on_the_perspective_endpoint_is_a_400(client):
    body = b'{"comment": {"text": "you \\udc80 people"}, "requestedAttributes": {"TOXICITY": {}}}'
    response = client.post(ANALYZE, content=body)
    assert response.status_code == 400, response.text
    assert "unpaired surrogate" in response.json()["error"]["message"]


# ---------------------------------------------------------------------- F: span limits
def test_span_annotations_cannot_pass_the_request_limit(client):
    response = client.post(ANALYZE, json=_analyze("a. " * 1000, spanAnnotations=True))
    assert response.status_code == 400 and "1000 sentences" in response.json()["error"]["message"]
    response = client.post(ANALYZE, json=_analyze("they are. " * 63, spanAnnotations=True))
    assert response.status_code == 200
    assert len(response.json()["attributeScores"]["IDENTITY_ATTACK"]["spanScores"]) == 63


# ---------------------------------------------------------------------- G: nothing visible
@pytest.mark.parametrize("text", INVISIBLE)
def test_a_post_with_nothing_visible_is_refused_everywhere(client, detector, text):
    assert text_problem(text) in ("text is empty", "text has no visible characters")
    response = client.post("/v1/classify", json={"texts": ["fine post", text]})
    assert response.status_code == 422 and response.json()["detail"].startswith("text 1 ")
    response = client.post(ANALYZE, json=_analyze(text))
    assert response.status_code == 400
    with pytest.raises(ModelError, match="text 0"):
        detector.score([text])


def test_visible_text_with_invisible_characters_still_scores(client):
    texts = ["they\u200bare vermin", "caf\u00e9\u0301", "\u2800x", "\U0001f600"]
    response = client.post("/v1/classify", json={"texts": texts})
    assert response.status_code == 200


def test_classify_marks_invisible_rows_as_bad(detector, tmp_path):
    import pandas as pd

    from hateproto.scoring import classify_file

    source = tmp_path / "in.jsonl"
    pd.DataFrame({"text": ["good game today", "\u200b\u200d"]}).to_json(
        source, orient="records", lines=True
    )
    with pytest.raises(DataError, match="row 2: text has no visible characters"):
        classify_file(detector, source, tmp_path / "out.csv", show_progress=False)
    summary = classify_file(
        detector, source, tmp_path / "out.csv", on_error="skip", show_progress=False
    )
    out = pd.read_csv(tmp_path / "out.csv")
    assert summary.bad_rows == 1 and out["text"].tolist() == ["good game today"]


# ---------------------------------------------------------------------- L: discovery, hosts
def test_discovery_needs_the_key_and_ignores_the_host_header(detector):
    settings = ServiceSettings(api_token="s3cret")
    with TestClient(create_app(detector, settings)) as client:
        assert client.get("/$discovery/rest").status_code == 403
        response = client.get("/$discovery/rest?key=s3cret", headers={"host": "evil.example"})
        assert response.status_code == 200
        assert "evil.example" not in response.json()["rootUrl"]
    public = ServiceSettings(api_token=None, public_url="https://mod.example.org/api")
    with TestClient(create_app(detector, public)) as client:
        assert client.get("/$discovery/rest").json()["rootUrl"] == "https://mod.example.org/api/"


def test_only_json_bodies_and_allowed_hosts_are_accepted(detector):
    settings = ServiceSettings(api_token=None, allowed_hosts=["testserver"])
    with TestClient(create_app(detector, settings)) as client:
        body = json.dumps({"texts": ["good game"]})
        plain = {"content-type": "text/plain"}
        assert client.post("/v1/classify", content=body, headers=plain).status_code == 415
        response = client.post(ANALYZE, content=json.dumps(_analyze("hi")), headers=plain)
        assert response.status_code == 400 and "Content-Type" in response.json()["error"]["message"]
        typed = {"content-type": "application/json; charset=utf-8"}
        assert client.post("/v1/classify", content=body, headers=typed).status_code == 200
        assert client.post("/v1/classify", content=body).status_code == 200  # undeclared
        other = client.get("/livez", headers={"host": "rebound.example"})
        assert other.status_code == 400


def test_answers_name_the_model_not_a_local_path(detector_dir, tmp_path):
    moved = shutil.copytree(detector_dir, tmp_path / "moved")
    loaded = Detector.from_pretrained(moved)
    with TestClient(create_app(loaded, ServiceSettings(api_token=None))) as client:
        model = client.post("/v1/classify", json={"texts": ["good game"]}).json()["model"]
        extras = client.post(ANALYZE, json=_analyze("good game")).json()["hateproto"]
        info = client.get("/v1/info").json()
    assert model.startswith("local:") and "/" not in model
    assert extras["model"] == loaded.version and extras["model"].startswith("moved@sha256:")
    assert str(tmp_path) not in json.dumps(info["model"])
