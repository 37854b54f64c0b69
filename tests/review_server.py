"""A real ``hateproto serve --feedback-db`` process for the review tests and benchmarks:
started on a free port, waited for, and stopped (or killed with SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ReviewServer:
    """``hateproto serve`` over ``detector`` with the feedback database ``db`` (every scored
    post queued: ``--queue-band 1``)."""

    def __init__(self, detector: Path, db: str, token: str, log: Path) -> None:
        self.detector = detector
        self.db = db
        self.token = token
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> ReviewServer:
        """Start the service and wait until ``/readyz`` answers 200."""
        command = [
            sys.executable,
            "-m",
            "hateproto",
            "serve",
            "--detector",
            str(self.detector),
            "--port",
            str(self.port),
            "--feedback-db",
            self.db,
            "--queue-band",
            "1",
            "--queue-sample",
            "0",
            "--log-level",
            "warning",
        ]
        env = {**os.environ, "HATEPROTO_API_TOKEN": self.token, "HF_HUB_OFFLINE": "1"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env, cwd=ROOT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("the service did not become ready")

    def classify(self, texts: list[str]) -> None:
        """Score ``texts`` (the queue policy stores them)."""
        answer = httpx.post(
            f"{self.url}/v1/classify",
            json={"texts": texts},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
        )
        answer.raise_for_status()

    def wait_queued(self, n: int, timeout: float = 30.0) -> None:
        """Wait until ``n`` posts are queued (the writes happen after the answer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = httpx.get(
                f"{self.url}/v1/info", headers={"Authorization": f"Bearer {self.token}"}
            ).json()
            if info["service"]["feedback"]["queued"] >= n:
                return
            time.sleep(0.1)
        raise RuntimeError(f"fewer than {n} posts were queued")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class Moderator:
    """A scripted moderator: logs in and labels over HTTP, as the page's script does."""

    def __init__(self, url: str, token: str, name: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.name = name
        answer = self.client.post("/review/api/login", json={"token": token, "moderator": name})
        answer.raise_for_status()
        self.csrf = {"X-CSRF-Token": self.client.cookies["hateproto_csrf"]}

    def next(self) -> dict | None:
        """The next post (claimed), or ``None``."""
        answer = self.client.get("/review/api/next")
        answer.raise_for_status()
        return answer.json()["post"]

    def label(self, post_id: int, label: str, request_id: str) -> dict:
        """Label ``post_id``; the answer (raises on an error status)."""
        body = {"post_id": post_id, "label": label, "request_id": request_id}
        answer = self.client.post("/review/api/labels", json=body, headers=self.csrf)
        answer.raise_for_status()
        return answer.json()

    def undo(self, label_id: int) -> dict:
        """Undo ``label_id``."""
        answer = self.client.post(
            "/review/api/undo", json={"label_id": label_id}, headers=self.csrf
        )
        answer.raise_for_status()
        return answer.json()

    def skip(self, post_id: int) -> None:
        """Skip ``post_id``."""
        answer = self.client.post("/review/api/skip", json={"post_id": post_id}, headers=self.csrf)
        answer.raise_for_status()
