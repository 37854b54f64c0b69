"""Service reliability (issue 13): health means "can score", one bad request harms no other,
errors never close the connection, auth is never turned off by accident, /docs works offline."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import socket
import threading

import pytest
from fastapi.testclient import TestClient

from hateproto.detector.results import DetectorFacts, Prediction
from hateproto.errors import ConfigError, HateprotoError
from hateproto.service import MicroBatcher, ServiceSettings, create_app

POISON = "poison"


class FakeDetector:
    """Scores any text as hate 0.9, except that a batch containing ``POISON`` fails (like a
    tokenizer that chokes on one input and takes its whole batch down) and ``broken`` makes
    every call fail."""

    def __init__(self, broken: bool = False) -> None:
        self.broken = broken
        self.calls: list[list[str]] = []

    def score(self, texts: list[str]) -> list[Prediction]:
        self.calls.append(list(texts))
        if self.broken:
            raise RuntimeError("the model weights are gone")
        if any(POISON in text for text in texts):
            raise RuntimeError("cannot tokenize")
        return [Prediction.from_scores(1, 0.9, 0.1, 3) for _ in texts]

    def info(self) -> dict:
        return {"model": {"reference": "fake"}}

    def facts(self) -> DetectorFacts:
        return DetectorFacts(model="fake")


def _client(detector, **settings) -> TestClient:
    return TestClient(create_app(detector, ServiceSettings(**{"api_token": None, **settings})))


# ---------------------------------------------------------------------- health
def test_health_is_readiness_and_fails_when_scoring_fails():
    with _client(FakeDetector(broken=True)) as client:
        ready, health, live = client.get("/readyz"), client.get("/healthz"), client.get("/livez")
    assert ready.status_code == health.status_code == 503
    assert (
        "RuntimeError" in ready.json()["detail"] and "weights are gone" in health.json()["detail"]
    )
    assert live.status_code == 200 and live.json()["status"] == "ok"


def test_readiness_scores_through_the_model_and_is_cached(detector):
    fake = FakeDetector()
    with _client(fake, readiness_cache_s=3600) as client:
        first, second = client.get("/readyz"), client.get("/healthz")
    assert first.status_code == second.status_code == 200
    assert len(fake.calls) == 1  # one canary for both checks
    with _client(fake, readiness_cache_s=0) as client:
        client.get("/readyz")
        client.get("/readyz")
    assert len(fake.calls) == 3  # no cache: a canary per check
    with _client(detector) as client:  # the real (tiny) detector
        assert client.get("/readyz").json()["status"] == "ok"


def test_readiness_refuses_a_nan_score():
    class NanDetector(FakeDetector):
        def score(self, texts):
            return [Prediction.from_scores(1, float("nan"), 0.1, 3) for _ in texts]

    with _client(NanDetector()) as client:
        ready = client.get("/readyz")
        classify = client.post("/v1/classify", json={"texts": ["a"]})
    assert ready.status_code == 503 and "nan" in ready.json()["detail"]
    assert classify.status_code == 500 and "non-finite" in classify.json()["detail"]


# ---------------------------------------------------------------------- bad requests
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"texts": ["fine", "bad \\udc80"]}', "text 1 has an unpaired surrogate (U+DC80)"),
        (b'{"texts": ["\\ud83d"]}', "text 0 has an unpaired surrogate (U+D83D) at character 0"),
        (b'{"texts": ["caf\xe9"]}', "not valid UTF-8: byte 0xe9 at offset 15"),
        (b'{"texts": ["a"]', "not valid JSON"),
        (b"[1, 2]", "body: Input should be a valid dictionary"),
    ],
)
def test_bad_bodies_are_422_naming_the_problem(body, message):
    fake = FakeDetector()
    with _client(fake) as client:
        response = client.post("/v1/classify", content=body)
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert not fake.calls  # refused before the model


def test_a_surrogate_pair_is_a_valid_text():
    with _client(FakeDetector()) as client:
        response = client.post("/v1/classify", content=b'{"texts": ["ok \\ud83d\\ude00"]}')
    assert response.status_code == 200


def test_a_model_failure_is_a_500_answered_by_the_app():
    # TestClient re-raises any exception that escapes the app: the server would then drop the
    # client's keep-alive connection. The 500 must be answered inside the app.
    with TestClient(create_app(FakeDetector(), ServiceSettings(api_token=None))) as client:
        response = client.post("/v1/classify", json={"texts": [POISON]})
        after = client.post("/v1/classify", json={"texts": ["fine"]})
    assert response.status_code == 500 and "RuntimeError" in response.json()["detail"]
    assert POISON not in response.text
    assert after.status_code == 200


# ---------------------------------------------------------------------- isolation
class _Gate:
    """Wraps a scorer; its first call blocks until released, so that every other request
    queues behind it and the next batch holds them all (a state, not a time, is awaited)."""

    def __init__(self, score) -> None:
        self.score = score
        self.entered = threading.Event()
        self.release = threading.Event()
        self.first = True

    def __call__(self, texts):
        if self.first:
            self.first = False
            self.entered.set()
            assert self.release.wait(120)
        return self.score(texts)


async def _twelve_with_one_poison(batcher: MicroBatcher, gate: _Gate) -> list:
    await batcher.start()
    try:
        blocker = asyncio.create_task(batcher.submit(["warm-up"]))
        while not gate.entered.is_set():
            await asyncio.sleep(0.001)
        texts = [f"post {i}" for i in range(12)]
        texts[5] = f"a {POISON} post"
        tasks = [asyncio.create_task(batcher.submit([text])) for text in texts]
        while batcher.queued_texts < 12:
            await asyncio.sleep(0.001)
        gate.release.set()
        await blocker
        return await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        gate.release.set()
        await batcher.stop()


def test_a_failing_batch_fails_only_its_guilty_request():
    fake = FakeDetector()
    gate = _Gate(fake.score)
    batcher = MicroBatcher(gate, max_batch_size=32, max_wait_ms=0)
    outcomes = asyncio.run(asyncio.wait_for(_twelve_with_one_poison(batcher, gate), 300))
    failed = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, Exception)]
    assert failed == [5]
    assert all(len(o) == 1 and o[0].label == "hate" for i, o in enumerate(outcomes) if i != 5)
    assert len(fake.calls[1]) == 12  # the twelve really shared one batch, which failed
    assert batcher.stats.failed_batches == 1 and batcher.stats.failed_requests == 1


def test_a_hateproto_error_of_one_request_is_its_422_only():
    class Picky(FakeDetector):
        def score(self, texts):
            if "refuse me" in texts:
                raise HateprotoError("text 0 is refused by the model")
            return super().score(texts)

    with _client(Picky()) as client:
        response = client.post("/v1/classify", json={"texts": ["refuse me"]})
        fine = client.post("/v1/classify", json={"texts": ["fine"]})
    assert response.status_code == 422 and "refused by the model" in response.json()["detail"]
    assert fine.status_code == 200


# ---------------------------------------------------------------------- keep-alive
def _serve_in_thread(app):
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.01)
    return server, thread, sock.getsockname()[1]


def test_errors_keep_the_connection_alive():
    server, thread, port = _serve_in_thread(
        create_app(FakeDetector(), ServiceSettings(api_token=None))
    )
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        statuses, sockets = [], []
        for body in (b'{"texts": ["poison"]}', b'{"texts": ["bad \\udc80"]}', b'{"texts": ["ok"]}'):
            connection.request("POST", "/v1/classify", body, {"content-type": "application/json"})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            sockets.append(connection.sock)
            assert response.getheader("connection") != "close"
        connection.close()
    finally:
        server.should_exit = True
        thread.join(60)
    assert statuses == [500, 422, 200]
    assert sockets[0] is not None and sockets[0] is sockets[1] is sockets[2]  # one connection


# ---------------------------------------------------------------------- auth and docs
def test_an_empty_token_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("HATEPROTO_API_TOKEN", "  ")
    with pytest.raises(ConfigError, match="HATEPROTO_API_TOKEN is set but empty"):
        ServiceSettings()
    with pytest.raises(ConfigError, match="token is empty"):
        ServiceSettings.from_dict({"api_token": ""}, source="service.yaml")
    monkeypatch.delenv("HATEPROTO_API_TOKEN")
    assert ServiceSettings().api_token is None  # unset: no auth, on purpose


@pytest.mark.parametrize(("token", "auth"), [("s3cret", "bearer token"), (None, "off")])
def test_the_start_log_says_whether_auth_is_on(caplog, token, auth):
    logger = logging.getLogger("hateproto.service")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="hateproto.service")
    try:
        with TestClient(create_app(FakeDetector(), ServiceSettings(api_token=token))):
            pass
    finally:
        logger.removeHandler(caplog.handler)
    start = [r for r in caplog.records if getattr(r, "event", None) == "start"]
    assert start and start[0].auth == auth and f"auth: {auth}" in start[0].getMessage()


def test_docs_work_offline():
    with _client(FakeDetector()) as client:
        page = client.get("/docs")
        schema = client.get("/openapi.json").json()
    assert page.status_code == 200 and "/v1/classify" in page.text and "/readyz" in page.text
    assert "<script" not in page.text and "cdn" not in page.text.lower()
    body = schema["paths"]["/v1/classify"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["texts"]["type"] == "array"
    assert {"/livez", "/readyz", "/healthz"} <= set(schema["paths"])
    assert json.dumps(schema)  # serialisable
