"""The feedback database on a real PostgreSQL server (issue 27): the same cases as the
SQLite tests (queue order and claims, one label per post under concurrent moderators,
undo and skip, migrations equal to the schema) and the review API through the service.

The server is a throw-away cluster (``initdb`` + ``pg_ctl`` from Debian's postgresql
package, run as the ``postgres`` user when the tests run as root). Skipped, with the reason,
where it cannot start."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")

import test_feedback as cases  # noqa: E402
from review_server import free_port  # noqa: E402

from hateproto.feedback.store import FeedbackStore  # noqa: E402


def _binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _as_postgres(command: list[str]) -> list[str]:
    """``command`` run as the ``postgres`` user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    return [runuser, "-u", "postgres", "--", *command]


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """The URL of a throw-away PostgreSQL server's maintenance database."""
    binaries = _binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (scripts/test-deps installs it as root)")
    folder = Path(tempfile.mkdtemp(prefix="hateproto-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        try:
            shutil.chown(folder, "postgres")
            shutil.chown(sockets, "postgres")
        except (LookupError, OSError) as exc:
            shutil.rmtree(folder, ignore_errors=True)
            pytest.skip(f"no postgres user to run the server as: {exc}")
    port = free_port()
    init = [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60"]
    try:
        for command in (
            init + ["-E", "UTF8", "--no-sync"],
            start + ["-l", str(folder / "server.log"), "start"],
        ):
            done = subprocess.run(
                _as_postgres(command), capture_output=True, text=True, timeout=120
            )
            if done.returncode != 0:
                pytest.skip(f"PostgreSQL did not start: {done.stderr.strip()[-500:]}")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database(postgres_server: str) -> str:
    """A fresh, empty database on the server."""
    import psycopg

    name = f"feedback_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return postgres_server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pg_store(database: str) -> Iterator[FeedbackStore]:
    store = FeedbackStore.open(database)
    yield store
    store.close()


def test_queue_order_and_claims(pg_store):
    assert pg_store.engine.dialect.name == "postgresql"
    cases.test_queue_is_closest_to_the_threshold_first_and_claims_differ(pg_store)


def test_a_label_is_stored_once(pg_store):
    cases.test_a_label_is_stored_once(pg_store)


def test_undo_and_skip(pg_store):
    cases.test_undo_and_skip(pg_store)


def test_concurrent_moderators(pg_store):
    cases.test_concurrent_moderators_lose_and_duplicate_nothing(pg_store)


def test_migrations_equal_the_schema(pg_store):
    cases.test_migrations_equal_the_schema(pg_store)


def test_two_replicas_migrate_at_once(database):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(3) as pool:
        stores = list(pool.map(lambda _: FeedbackStore.open(database), range(3)))
    assert {s.schema_version() for s in stores} == {"0001"}
    for store in stores:
        store.close()


def test_review_api_over_postgres(detector, database, tmp_path):
    from fastapi.testclient import TestClient

    from hateproto.service import ServiceSettings, create_app

    settings = ServiceSettings(
        api_token=cases.TOKEN, feedback_db=database, queue_band=1.0, queue_sample_rate=0.0
    )
    with TestClient(create_app(detector, settings)) as client:
        cases._classify(client, ["they are vermin", "good game today"])
        cases._wait_for_posts(client, 2)
        csrf = cases._login(client)
        post = client.get("/review/api/next").json()["post"]
        body = {"post_id": post["id"], "label": "not_hate", "request_id": "pg-request-1"}
        assert client.post("/review/api/labels", json=body, headers=csrf).json()["count"] == 1
        assert client.app.state.feedback.store.counts() == {"ada": 1}
