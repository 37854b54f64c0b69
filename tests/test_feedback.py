"""The feedback database and the review page's API (issue 27): the queue policy and order,
labels stored once and committed before the answer, undo, skip, sessions, CSRF, the CSV
export, suggestscore, the migrations, and ``detector adapt --from-feedback``."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")

from fastapi.testclient import TestClient  # noqa: E402

from hateproto.feedback.policy import QueuePolicy  # noqa: E402
from hateproto.feedback.store import FeedbackError, FeedbackStore, PostRecord  # noqa: E402
from hateproto.feedback.urls import resolve_feedback_url  # noqa: E402
from hateproto.service import ServiceSettings, create_app  # noqa: E402

TOKEN = "s3cret-token"


def _records(n: int) -> list[PostRecord]:
    return [
        PostRecord(f"post {i}", 0.5 + (-1) ** i * i / (2 * n), 0.5, "low_margin", "m")
        for i in range(n)
    ]


@pytest.fixture
def store(tmp_path: Path):
    opened = FeedbackStore.open(str(tmp_path / "feedback.db"))
    yield opened
    opened.close()


# ---------------------------------------------------------------------- the store
def test_queue_is_closest_to_the_threshold_first_and_claims_differ(store):
    store.add_posts(_records(6))
    assert store.add_posts(_records(6)) == 0  # a text is queued once
    first = store.next_post("ada")
    assert first["text"] == "post 0"
    assert store.next_post("ada")["id"] == first["id"]  # the one ada holds comes back
    second = store.next_post("bob")
    assert second["id"] != first["id"]
    assert second["priority"] >= first["priority"]


def test_a_label_is_stored_once(store):
    store.add_posts(_records(2))
    post = store.next_post("ada")
    stored = store.add_label(post["id"], "hate", "ada", "request-1")
    retried = store.add_label(post["id"], "hate", "ada", "request-1")
    assert retried.duplicate and retried.label_id == stored.label_id
    with pytest.raises(FeedbackError) as taken:
        store.add_label(post["id"], "not_hate", "bob", "request-2")
    assert taken.value.status == 409 and "ada" in str(taken.value)
    with pytest.raises(FeedbackError) as missing:
        store.add_label(999, "hate", "ada", "request-3")
    assert missing.value.status == 404
    assert store.counts() == {"ada": 1}


def test_undo_and_skip(store):
    store.add_posts(_records(3))
    post = store.next_post("ada")
    label = store.add_label(post["id"], "hate", "ada", "request-1")
    with pytest.raises(FeedbackError):
        store.undo(label.label_id, "bob")  # not bob's label
    back = store.undo(label.label_id, "ada")
    assert back["post"]["id"] == post["id"] and back["count"] == 0
    assert store.next_post("ada")["id"] == post["id"]
    relabelled = store.add_label(post["id"], "not_hate", "ada", "request-2")
    assert relabelled.label_id != label.label_id  # an undone label's id is never reused
    store.undo(relabelled.label_id, "ada")
    store.skip(post["id"], "ada")
    assert store.next_post("ada")["id"] != post["id"]
    assert store.next_post("bob")["id"] == post["id"]  # a skip is ada's only


def test_concurrent_moderators_lose_and_duplicate_nothing(store):
    store.add_posts(_records(40))
    acknowledged: list[int] = []
    lock = threading.Lock()

    def moderate(name: str) -> None:
        for step in range(20):
            post = store.next_post(name)
            if post is None:
                return
            result = store.add_label(post["id"], "hate", name, f"{name}-{step}")
            with lock:
                acknowledged.append(result.post_id)

    threads = [threading.Thread(target=moderate, args=(f"m{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = list(store.label_rows())
    assert sorted(acknowledged) == sorted(r["post_id"] for r in rows)
    assert len(rows) == len({r["post_id"] for r in rows}) == 40


def test_migrations_equal_the_schema(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from hateproto.feedback.schema import SCHEMA_VERSION, metadata

    assert store.schema_version() == SCHEMA_VERSION
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), metadata)
    assert diff == []


def test_an_unmigrated_database_is_refused(tmp_path):
    from hateproto.errors import ConfigError

    with pytest.raises(ConfigError, match="schema none"):
        FeedbackStore.open(str(tmp_path / "new.db"), migrate=False)


def test_urls_and_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("HATEPROTO_HOME", str(tmp_path))
    assert resolve_feedback_url("default") == f"sqlite:///{tmp_path}/feedback/feedback.sqlite3"
    assert resolve_feedback_url("postgres://u:p@h/d") == "postgresql+psycopg://u:p@h/d"
    from hateproto.errors import ConfigError

    with pytest.raises(ConfigError):
        resolve_feedback_url("mysql://u@h/d")
    policy = QueuePolicy(band=0.1, sample_rate=0.5)
    assert policy.reason(0.45, 0.5, draw=0.9) == "low_margin"
    assert policy.reason(0.9, 0.5, draw=0.4) == "sample"
    assert policy.reason(0.9, 0.5, draw=0.6) is None


# ---------------------------------------------------------------------- the service
def _app(detector, db: Path, **settings):
    return create_app(
        detector,
        ServiceSettings(
            api_token=TOKEN, feedback_db=str(db), queue_band=1.0, queue_sample_rate=0.0, **settings
        ),
    )


def _login(client: TestClient, name: str = "ada") -> dict[str, str]:
    answer = client.post("/review/api/login", json={"token": TOKEN, "moderator": name})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": client.cookies["hateproto_csrf"]}


def _classify(client: TestClient, texts: list[str]) -> None:
    answer = client.post(
        "/v1/classify", json={"texts": texts}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200


def _wait_for_posts(client: TestClient, n: int) -> None:
    import time

    for _ in range(200):
        if client.app.state.feedback.stats["queued"] >= n:
            return
        time.sleep(0.02)
    raise AssertionError("the scored posts never reached the queue")


def test_review_flow_over_http(detector, tmp_path):
    texts = ["they are vermin", "good game today", "we love our city. they are evil"]
    with TestClient(_app(detector, tmp_path / "f.db")) as client:
        page = client.get("/review")
        assert (
            page.status_code == 200
            and "script-src 'self'" in page.headers["content-security-policy"]
        )
        assert "<script src=" in page.text and client.get("/review/static/review.js").is_success
        assert client.get("/review/static/../app.py").status_code == 404
        assert client.get("/review/api/next").status_code == 401
        bad = client.post("/review/api/login", json={"token": "wrong", "moderator": "ada"})
        assert bad.status_code == 401
        _classify(client, texts)
        _wait_for_posts(client, 3)
        csrf = _login(client)
        post = client.get("/review/api/next").json()["post"]
        assert post["text"] in texts
        body = {"post_id": post["id"], "label": "hate", "request_id": "abcdef123456"}
        assert client.post("/review/api/labels", json=body).status_code == 403  # no CSRF
        wrong = {"X-CSRF-Token": "forged"}
        assert client.post("/review/api/labels", json=body, headers=wrong).status_code == 403
        other_origin = {**csrf, "Origin": "http://evil.example"}
        assert client.post("/review/api/labels", json=body, headers=other_origin).status_code == 403
        stored = client.post("/review/api/labels", json=body, headers=csrf).json()
        assert stored["count"] == 1 and not stored["duplicate"]
        again = client.post("/review/api/labels", json=body, headers=csrf).json()
        assert again["duplicate"] and again["label_id"] == stored["label_id"]
        undone = client.post(
            "/review/api/undo", json={"label_id": stored["label_id"]}, headers=csrf
        )
        assert undone.json()["count"] == 0
        body["request_id"] = "abcdef654321"
        client.post("/review/api/labels", json=body, headers=csrf)
        export = client.get("/review/api/export.csv")
        rows = list(csv.DictReader(io.StringIO(export.text)))
        assert [(r["text"], r["label"], r["moderator"]) for r in rows] == [
            (post["text"], "hate", "ada")
        ]
        info = client.get("/v1/info", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert info["service"]["feedback"]["queued"] == 3
        assert str(tmp_path) in info["service"]["feedback"]["database"]


def test_forged_or_expired_sessions_are_refused(detector, tmp_path):
    from hateproto.service.review import Session, SessionSigner

    with TestClient(_app(detector, tmp_path / "f.db")) as client:
        client.cookies.set("hateproto_review", "eyJtIjoiZXZlIn0.deadbeef", path="/review")
        assert client.get("/review/api/session").status_code == 401
        signer = SessionSigner(ServiceSettings(api_token=TOKEN))
        expired = signer.sign(Session("eve", "csrf", 1))
        client.cookies.set("hateproto_review", expired, path="/review")
        assert client.get("/review/api/session").status_code == 401
        other = SessionSigner(ServiceSettings(api_token="another-token"))
        client.cookies.set(
            "hateproto_review", other.sign(Session("eve", "c", 2**40)), path="/review"
        )
        assert client.get("/review/api/session").status_code == 401


def test_suggestscore_is_stored_in_googles_shape(detector, tmp_path):
    request = {
        "comment": {"text": "you people are vermin"},
        "attributeScores": {"IDENTITY_ATTACK": {"summaryScore": {"value": 0.9}}},
        "languages": ["en"],
        "communityId": "forum-1",
        "clientToken": "c-1",
    }
    with TestClient(_app(detector, tmp_path / "f.db")) as client:
        url = f"/v1alpha1/comments:suggestscore?key={TOKEN}"
        answer = client.post(url, json=request)
        assert answer.status_code == 200, answer.text
        assert answer.json()["clientToken"] == "c-1" and "detectedLanguages" in answer.json()
        bad = client.post(url, json={**request, "attributeScores": {"X": {"summaryScore": {}}}})
        assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
        rows = client.app.state.feedback.store.suggestion_rows()
    assert len(rows) == 1 and rows[0]["request"] == request
    assert rows[0]["community_id"] == "forum-1"


def test_queued_posts_are_explained(detector, tmp_path):
    with TestClient(_app(detector, tmp_path / "f.db")) as client:
        _classify(client, ["we love our city. they are vermin go back home"])
        _wait_for_posts(client, 1)
        _login(client)
        for _ in range(200):
            details = client.get("/review/api/next").json()["post"]["details"]
            if details:
                break
            import time

            time.sleep(0.02)
    assert [s["begin"] for s in details["spans"]] == [0, 18]
    assert len(details["layers"]) == len(detector.prototypes.layers)
    assert "neighbours" in details


# ---------------------------------------------------------------------- CLI
def test_export_and_adapt_from_feedback(detector_dir, tmp_path):
    from tiny_detector import HATE, NOT_HATE
    from typer.testing import CliRunner

    from hateproto.cli.main import app

    db = tmp_path / "f.db"
    store = FeedbackStore.open(str(db))
    texts = HATE + NOT_HATE + ["=HYPERLINK(evil)"]
    store.add_posts([PostRecord(t, 0.5, 0.5, "low_margin", "m") for t in texts])
    for step in range(len(texts)):
        post = store.next_post("ada")
        label = "hate" if post["text"] in HATE else "not_hate"
        store.add_label(post["id"], label, "ada", f"request-{step}")
    store.close()
    runner = CliRunner()
    out_csv = tmp_path / "labels.csv"
    result = runner.invoke(app, ["feedback", "export", "--db", str(db), "--out", str(out_csv)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == len(texts) and "'=HYPERLINK(evil)" in {r["text"] for r in rows}
    new = tmp_path / "adapted"
    args = ["detector", "adapt", str(detector_dir), "--from-feedback", str(db), "--out", str(new)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((new / "detector.json").read_text())
    report = manifest["metadata"]["feedback"]
    assert report["labels"] == len(texts) and report["held_out"]["n"] >= 2
    same = runner.invoke(
        app,
        [
            "detector",
            "adapt",
            str(detector_dir),
            "--from-feedback",
            str(db),
            "--out",
            str(detector_dir),
            "--overwrite",
        ],
    )
    assert same.exit_code != 0 and "being adapted" in str(same.exception)
