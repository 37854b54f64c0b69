"""HTTP service: API contract, limits, auth, bad requests, micro-batching, shutdown, logs."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import pytest
from fastapi.testclient import TestClient

from hateproto.service import (
    JsonFormatter,
    MicroBatcher,
    ServiceSettings,
    ShuttingDown,
    create_app,
)

TEXTS = ["they are vermin", "good game today", "we love our city"]


@pytest.fixture
def client(detector):
    with TestClient(create_app(detector, ServiceSettings(api_token=None))) as test_client:
        yield test_client


def _client(detector, **settings) -> TestClient:
    return TestClient(create_app(detector, ServiceSettings(**{"api_token": None, **settings})))


def test_classify_contract(client, detector):
    response = client.post("/v1/classify", json={"texts": TEXTS})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "model", "took_ms", "threshold", "calibrated"}
    assert [set(r) for r in body["results"]] == [
        {"label", "hate_probability", "margin", "exit_layer"}
    ] * 3
    expected = detector.score(TEXTS)
    for got, want in zip(body["results"], expected, strict=True):
        assert got["hate_probability"] == pytest.approx(want.hate_probability, abs=1e-5)
        assert got["exit_layer"] == want.exit_layer == 3
    assert response.headers["x-request-id"]


def test_health_info_and_docs(client):
    assert client.get("/healthz").json()["status"] == "ok"
    info = client.get("/v1/info").json()
    assert info["model"]["kind"] == "backbone" and info["format_version"] == 2
    assert info["prototypes"]["layers"] == [1, 2, 3]
    assert info["thresholds"] is None and info["hateproto_version"]
    assert info["service"]["max_texts_per_request"] == 64 and "api_token" not in info["service"]
    schema = client.get("/openapi.json").json()
    assert "/v1/classify" in schema["paths"] and "/v1/info" in schema["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"texts": []}, 422, "texts is empty: send between 1 and 64 texts"),
        ({"texts": ["ok", 3]}, 422, "texts.1: Input should be a valid string"),
        ({"texts": ["ok", None]}, 422, "texts.1"),
        ({"texts": "not a list"}, 422, "texts: Input should be a valid list"),
        ({"posts": ["x"]}, 422, "texts: Field required"),
        ({"texts": ["fine", "   "]}, 422, "text 1 is empty"),
        ({"texts": ["x"] * 65}, 413, "the limit is 64 texts per request"),
        ({"texts": ["x" * 100_000]}, 413, "text 0 has 100,000 characters; the limit is 10,000"),
    ],
)
def test_bad_requests_are_refused_with_a_message(client, body, status, message):
    response = client.post("/v1/classify", json=body)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_malformed_json(client):
    response = client.post(
        "/v1/classify", content=b'{"texts": ["a",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in response.json()["detail"]


def test_a_100k_character_text_within_a_raised_limit(detector):
    with _client(detector, max_chars_per_text=100_000) as client:
        text = ("they are vermin go back home " * 3500)[:100_000]
        response = client.post("/v1/classify", json={"texts": [text]})
    assert response.status_code == 200
    assert response.json()["results"][0]["label"] in ("hate", "not_hate")


def test_limits_follow_the_settings(detector):
    with _client(detector, max_texts_per_request=2, max_chars_per_text=20) as client:
        many = client.post("/v1/classify", json={"texts": ["a", "b", "c"]})
        long = client.post("/v1/classify", json={"texts": ["x" * 21]})
        huge = client.post("/v1/classify", content=b"x" * 10_000_000)
    assert many.status_code == 413 and "the limit is 2 texts" in many.json()["detail"]
    assert long.status_code == 413 and "the limit is 20 characters" in long.json()["detail"]
    assert huge.status_code == 413 and "too large" in huge.json()["detail"]


def test_bearer_token(detector, monkeypatch):
    monkeypatch.setenv("HATEPROTO_API_TOKEN", "s3cret")
    with TestClient(create_app(detector, ServiceSettings())) as client:
        missing = client.post("/v1/classify", json={"texts": TEXTS})
        wrong = client.post(
            "/v1/classify", json={"texts": TEXTS}, headers={"Authorization": "Bearer nope"}
        )
        info = client.get("/v1/info")
        ok = client.post(
            "/v1/classify", json={"texts": TEXTS}, headers={"Authorization": "Bearer s3cret"}
        )
        health = client.get("/healthz")
    assert missing.status_code == wrong.status_code == info.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "HATEPROTO_API_TOKEN" in missing.json()["detail"]
    assert ok.status_code == 200 and health.status_code == 200


def test_request_logs_are_json(client, caplog):
    with caplog.at_level(logging.INFO, logger="hateproto.service"):
        logger = logging.getLogger("hateproto.service")
        logger.addHandler(caplog.handler)
        try:
            client.post("/v1/classify", json={"texts": TEXTS})
        finally:
            logger.removeHandler(caplog.handler)
    records = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert records and records[-1].status == 200 and records[-1].path == "/v1/classify"
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["message"] == "request" and line["status"] == 200 and "duration_ms" in line


def _echo_scorer(calls: list[int], delay: float = 0.05):
    def score(texts: list[str]) -> list[str]:
        calls.append(len(texts))
        time.sleep(delay)
        return [t.upper() for t in texts]

    return score


class _GatedScorer:
    """Upper-cases texts; its first call blocks until released, so that every other request
    is queued behind it whatever order the event loop runs things in (no sleeps, no timing)."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, texts: list[str]) -> list[str]:
        self.calls.append(len(texts))
        self.entered.set()
        assert self.release.wait(120), "the test never released the model"
        return [t.upper() for t in texts]


async def _submit_behind_a_busy_model(
    batcher: MicroBatcher, scorer: _GatedScorer, n: int
) -> list[list[str]]:
    """Submit ``n`` two-text requests; release the model once it is busy with the first batch
    and every other request waits in the queue (a state, not a time, is waited for)."""
    await batcher.start()
    try:
        tasks = [asyncio.create_task(batcher.submit([f"t{i}", f"u{i}"])) for i in range(n)]
        while not (scorer.entered.is_set() and batcher.queued_texts + scorer.calls[0] == 2 * n):
            await asyncio.sleep(0.001)
        scorer.release.set()
        return await asyncio.gather(*tasks)
    finally:
        scorer.release.set()
        await batcher.stop()


@pytest.mark.parametrize("enabled", [True, False])
def test_micro_batching_combines_concurrent_requests(enabled):
    scorer = _GatedScorer()
    batcher = MicroBatcher(scorer, max_batch_size=8, max_wait_ms=20, enabled=enabled)
    scenario = _submit_behind_a_busy_model(batcher, scorer, 10)
    results = asyncio.run(asyncio.wait_for(scenario, timeout=300))
    calls = scorer.calls
    assert results == [[f"T{i}", f"U{i}"] for i in range(10)]  # each request gets its own
    assert sum(calls) == 20
    if enabled:  # the first batch, then the 20 - calls[0] queued texts in batches of 8
        assert max(calls) <= 8 and len(calls) <= 1 + -(-(20 - calls[0]) // 8) <= 4
    else:
        assert calls == [2] * 10
    assert batcher.stats.requests == 10 and batcher.stats.texts == 20


def test_a_lone_request_does_not_wait_for_company():
    async def scenario() -> list[str]:
        batcher = MicroBatcher(_echo_scorer([], delay=0), max_batch_size=8, max_wait_ms=600_000)
        await batcher.start()
        try:  # would hang for ten minutes if the lone request waited for max_wait_ms
            return await asyncio.wait_for(batcher.submit(["alone"]), timeout=60)
        finally:
            await batcher.stop()

    assert asyncio.run(scenario()) == ["ALONE"]


def test_shutdown_finishes_queued_work_then_refuses():
    async def scenario() -> tuple[list, Exception | None]:
        calls: list[int] = []
        batcher = MicroBatcher(_echo_scorer(calls), max_batch_size=1, max_wait_ms=0)
        await batcher.start()
        pending = [asyncio.create_task(batcher.submit([f"t{i}"])) for i in range(4)]
        await asyncio.sleep(0.01)
        await batcher.stop()
        done = [task.result() for task in pending]
        try:
            await batcher.submit(["late"])
        except ShuttingDown as exc:
            return done, exc
        return done, None

    done, refused = asyncio.run(scenario())
    assert done == [["T0"], ["T1"], ["T2"], ["T3"]]
    assert isinstance(refused, ShuttingDown)


def test_a_full_queue_answers_503(detector):
    app = create_app(detector, ServiceSettings(api_token=None, max_queue_texts=1))
    with TestClient(app) as client:
        batcher = app.state.batcher
        batcher._queue.append(None)  # pretend something is waiting  # noqa: SLF001
        batcher._queued_texts = 1  # noqa: SLF001
        try:
            response = client.post("/v1/classify", json={"texts": ["a"]})
        finally:
            batcher._queue.clear()  # noqa: SLF001
            batcher._queued_texts = 0  # noqa: SLF001
    assert response.status_code == 503 and "retry later" in response.json()["detail"]
    assert response.headers["retry-after"] == "1"


class _ThreadRecordingDetector:
    """Wraps ``detector``; records the name of the thread of every ``score`` call."""

    def __init__(self, detector) -> None:
        self.detector = detector
        self.threads: list[str] = []

    def score(self, texts):
        self.threads.append(threading.current_thread().name)
        return self.detector.score(texts)

    def __getattr__(self, name):
        return getattr(self.detector, name)


def test_every_model_call_runs_in_the_thread_that_loaded_the_model(detector):
    """OpenMP wakes its helper threads slowly once several threads have run kernels
    (service/model_thread.py), so ``hateproto serve`` loads the detector in a ModelThread and
    the service must run every forward pass in that same thread."""
    from hateproto.service.model_thread import ModelThread

    model_thread = ModelThread(name="loader")
    loaded_in = model_thread.call(lambda: threading.current_thread().name)
    recording = _ThreadRecordingDetector(detector)
    app = create_app(recording, ServiceSettings(api_token=None), model_thread)
    with TestClient(app) as client:
        for texts in (TEXTS, TEXTS[:1]):
            assert client.post("/v1/classify", json={"texts": texts}).status_code == 200
        assert client.get("/readyz").status_code == 200
    assert recording.threads and set(recording.threads) == {loaded_in}
    assert model_thread.call(lambda: threading.current_thread().name) == loaded_in  # still up
    model_thread.close()


def test_a_model_thread_restarts_after_close():
    from hateproto.service.model_thread import ModelThread

    model_thread = ModelThread()
    first = model_thread.call(threading.get_ident)
    model_thread.close()
    assert model_thread.call(lambda: 6 * 7) == 42
    assert model_thread.call(threading.get_ident) != threading.get_ident()
    model_thread.close()
    assert first != threading.get_ident()
