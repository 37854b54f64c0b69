"""The Perspective-compatible endpoint: request and response shapes, Google error JSON, keys,
and a real Perspective client (google-api-python-client) talking HTTP to a uvicorn server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hateproto.service import ServiceSettings, create_app
from hateproto.service.perspective import sentence_spans

URL = "/v1alpha1/comments:analyze"


def _body(text: str = "they are vermin. good game today", **extra: object) -> dict:
    return {"comment": {"text": text}, "requestedAttributes": {"IDENTITY_ATTACK": {}}, **extra}


@pytest.fixture(scope="module")
def client(detector) -> Iterator[TestClient]:
    with TestClient(create_app(detector, ServiceSettings(api_token=None))) as test_client:
        yield test_client


def _error(response, code: int, message: str) -> None:
    assert response.status_code == code, response.text
    assert response.json() == {
        "error": {"code": code, "message": message, "status": "INVALID_ARGUMENT"}
    }


def test_analyze_shape_matches_perspective(client, detector):
    body = _body(clientToken="abc", doNotStore=True, languages=["en"], spanAnnotations=True)
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["languages"] == ["en"] and got["clientToken"] == "abc"
    score = got["attributeScores"]["IDENTITY_ATTACK"]
    expected = detector.score(["they are vermin. good game today"])[0].hate_probability
    assert score["summaryScore"]["type"] == "PROBABILITY"
    assert score["summaryScore"]["value"] == pytest.approx(expected, abs=1e-5)
    spans = score["spanScores"]
    assert [(s["begin"], s["end"]) for s in spans] == [(0, 16), (17, 32)]
    want = detector.score(["they are vermin.", "good game today"])
    assert [s["score"]["value"] for s in spans] == pytest.approx(
        [p.hate_probability for p in want], abs=1e-5
    )
    assert got["hateproto"]["threshold"] == 0.5 and got["hateproto"]["calibrated"] is False


def test_no_spans_unless_asked_and_score_threshold(client):
    got = client.post(URL, json=_body()).json()
    assert "spanScores" not in got["attributeScores"]["IDENTITY_ATTACK"]
    assert "clientToken" not in got
    high = {"IDENTITY_ATTACK": {"scoreThreshold": 1.01, "scoreType": "PROBABILITY"}}
    got = client.post(URL, json={**_body(), "requestedAttributes": high}).json()
    assert got["attributeScores"] == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"comment": {"text": ""}, "requestedAttributes": {"IDENTITY_ATTACK": {}}}, None),
        ({"comment": {"text": "   "}, "requestedAttributes": {"IDENTITY_ATTACK": {}}}, None),
        ({"requestedAttributes": {"IDENTITY_ATTACK": {}}}, None),
    ],
)
def test_empty_comment(client, body, message):
    _error(client.post(URL, json=body), 400, "Comment must be non-empty.")


def test_unknown_attribute_language_type_and_size(client):
    toxicity = {"TOXICITY": {}}
    _error(
        client.post(URL, json={**_body(), "requestedAttributes": toxicity}),
        400,
        "Unknown requested attribute: TOXICITY",
    )
    _error(
        client.post(URL, json=_body(languages=["de", "fr"])),
        400,
        "Attribute IDENTITY_ATTACK does not support request languages: de, fr",
    )
    _error(
        client.post(URL, json={**_body(), "requestedAttributes": {}}),
        400,
        "Missing requested_attributes",
    )
    bad_type = {"IDENTITY_ATTACK": {"scoreType": "STD_DEV_SCORE"}}
    _error(
        client.post(URL, json={**_body(), "requestedAttributes": bad_type}),
        400,
        "Requested score type STD_DEV_SCORE is not supported by attribute IDENTITY_ATTACK",
    )
    _error(
        client.post(
            URL,
            json={
                "comment": {"text": "hi", "type": "HTML"},
                "requestedAttributes": {"IDENTITY_ATTACK": {}},
            },
        ),
        400,
        "Currently, only 'PLAIN_TEXT' comments are supported",
    )
    long = "a" * 10_001
    _error(
        client.post(URL, json=_body(long)),
        400,
        "Comment text was too many bytes. Value (10001) exceeded limit (20480).",
    )
    response = client.post(URL, content=b"{not json")
    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_toxicity_when_the_detector_says_so(detector):
    previous = dict(detector.metadata)
    detector.metadata["attributes"] = ["IDENTITY_ATTACK", "TOXICITY"]
    try:
        with TestClient(create_app(detector, ServiceSettings(api_token=None))) as client:
            attrs = {"TOXICITY": {}, "IDENTITY_ATTACK": {}}
            got = client.post(URL, json={**_body(), "requestedAttributes": attrs}).json()
    finally:
        detector.metadata = previous
    scores = got["attributeScores"]
    assert scores["TOXICITY"] == scores["IDENTITY_ATTACK"]


def test_key_as_query_or_bearer(detector):
    settings = ServiceSettings(api_token="s3cret")
    with TestClient(create_app(detector, settings)) as client:
        missing = client.post(URL, json=_body())
        assert missing.status_code == 403
        assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
        _error(
            client.post(f"{URL}?key=wrong", json=_body()),
            400,
            "API key not valid. Please pass a valid API key.",
        )
        assert client.post(f"{URL}?key=s3cret", json=_body()).status_code == 200
        bearer = {"Authorization": "Bearer s3cret"}
        assert client.post(URL, json=_body(), headers=bearer).status_code == 200


def test_classify_and_info_report_threshold(client):
    body = client.post("/v1/classify", json={"texts": ["they are vermin"]}).json()
    assert body["threshold"] == 0.5 and body["calibrated"] is False
    info = client.get("/v1/info").json()
    assert "policy" in info and info["policy"]["version"] >= 0
    assert info["decision_threshold"] == 0.5


def test_sentence_spans():
    assert sentence_spans("one") == [(0, 3)]
    assert sentence_spans("  Hi!!  there\nok ") == [(2, 6), (8, 13), (14, 16)]


@pytest.fixture(scope="module")
def server(detector) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    app = create_app(detector, ServiceSettings(api_token="s3cret"))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_google_api_python_client(server, detector):
    """Google's own Perspective sample, with only the discovery URL changed."""
    discovery = pytest.importorskip("googleapiclient.discovery")
    errors = pytest.importorskip("googleapiclient.errors")
    client = discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey="s3cret",
        discoveryServiceUrl=f"{server}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
        cache_discovery=False,
    )
    analyze_request = {
        "comment": {"text": "they are vermin. good game today"},
        "requestedAttributes": {"IDENTITY_ATTACK": {}},
        "spanAnnotations": True,
        "clientToken": "t-1",
    }
    response = client.comments().analyze(body=analyze_request).execute()
    value = response["attributeScores"]["IDENTITY_ATTACK"]["summaryScore"]["value"]
    expected = detector.score(["they are vermin. good game today"])[0].hate_probability
    assert value == pytest.approx(expected, abs=1e-5)
    assert len(response["attributeScores"]["IDENTITY_ATTACK"]["spanScores"]) == 2
    assert response["clientToken"] == "t-1"
    bad = {"comment": {"text": ""}, "requestedAttributes": {"IDENTITY_ATTACK": {}}}
    with pytest.raises(errors.HttpError) as caught:
        client.comments().analyze(body=bad).execute()
    assert caught.value.resp.status == 400
    assert "Comment must be non-empty." in str(caught.value)
