"""Soak test of ``hateproto serve``: 16 clients for 10 minutes, 2% malformed requests, on
both endpoints (``/v1/classify`` and the Perspective ``comments:analyze``).

Not part of CI. Starts the service in a subprocess on a free loopback port (127.0.0.1 only),
waits for ``/readyz``, then runs ``--clients`` concurrent clients in a closed loop for
``--duration`` seconds. Each request is, with probability ``--malformed``, one of the
malformed kinds of :data:`MALFORMED` (issue 13's: invalid JSON, a lone surrogate, an empty
text, a non-string text, a body that is not UTF-8, too many texts, a text too long; and issue
28's, on both endpoints: a post with nothing visible, JSON nested 100,000 deep, a 5,000-digit
integer, a ``text/plain`` body, a chunked body over the size limit, a lone surrogate and 1,000
span annotations on the Perspective endpoint), else a valid request (one in
``--perspective`` of them to the Perspective endpoint, half of those with span annotations).
Every minute it records the valid requests' p50/p99 latency, the errors by kind (a valid
request that did not get 200, a malformed one that did not get its 4xx, any connection
error), 5xx answers, the server's RSS, ``/readyz`` failures and the machine's load average;
at the end it stops the server with SIGTERM and checks the graceful shutdown. The totals
give the unexpected 5xx count and the RSS growth from the first to the last minute.

The detector: ``--detector DIR`` if given, else one built once under
``$HATEPROTO_HOME/detectors/`` with ``hateproto detector build --model minilm --dataset sample
--per-class 20`` (MiniLM must have been fetched: ``hateproto models fetch minilm``).

    python benchmarks/service_soak.py --duration 600 --clients 16 \\
        --out benchmarks/results/service-soak.json
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from service_load import (  # noqa: E402
    HOST,
    free_port,
    load_texts,
    percentile,
    start_server,
    stop_server,
    wait_healthy,
)

from hateproto.provenance import provenance  # noqa: E402

CLASSIFY = "/v1/classify"
ANALYZE = "/v1alpha1/comments:analyze"
JSON = {"content-type": "application/json"}
PLAIN = {"content-type": "text/plain"}
DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_INT = b"9" * 5_000
CHUNKED = "chunked"  # the body is sent in 64 KiB chunks without a Content-Length
OVER_LIMIT = 8 * 2**20  # above the default limit (64 texts x 10,000 characters)


def _analyze(text: str, **extra: Any) -> bytes:
    body = {"comment": {"text": text}, "requestedAttributes": {"IDENTITY_ATTACK": {}}, **extra}
    return json.dumps(body).encode()


#: kind → (path, body bytes or CHUNKED, headers, the status the service must answer).
MALFORMED: dict[str, tuple[str, bytes | str, dict[str, str], int]] = {
    "invalid_json": (CLASSIFY, b'{"texts": ["a post",', JSON, 422),
    "lone_surrogate": (CLASSIFY, b'{"texts": ["a post", "bad \\udc80"]}', JSON, 422),
    "empty_text": (CLASSIFY, b'{"texts": ["   "]}', JSON, 422),
    "not_a_string": (CLASSIFY, b'{"texts": [1, 2]}', JSON, 422),
    "not_utf8": (CLASSIFY, b'{"texts": ["caf\xe9"]}', JSON, 422),
    "too_many_texts": (CLASSIFY, json.dumps({"texts": ["x"] * 65}).encode(), JSON, 413),
    "text_too_long": (CLASSIFY, json.dumps({"texts": ["x" * 10_001]}).encode(), JSON, 413),
    "invisible_text": (CLASSIFY, json.dumps({"texts": ["\u200b\u2060\ufeff"]}).encode(), JSON, 422),
    "deep_nesting": (CLASSIFY, b'{"texts": ' + DEEP + b"}", JSON, 422),
    "huge_integer": (CLASSIFY, b'{"texts": [' + HUGE_INT + b"]}", JSON, 422),
    "text_plain": (CLASSIFY, b'{"texts": ["a post"]}', PLAIN, 415),
    "chunked_too_large": (CLASSIFY, CHUNKED, JSON, 413),
    "p_lone_surrogate": (
        ANALYZE,
        b'{"comment": {"text": "a \\udc80"}, "requestedAttributes": {"IDENTITY_ATTACK": {}}}',
        JSON,
        400,
    ),
    "p_invisible_text": (ANALYZE, _analyze("\u200b\u00ad\u180e"), JSON, 400),
    "p_deep_nesting": (ANALYZE, DEEP, JSON, 400),
    "p_huge_integer": (
        ANALYZE,
        b'{"comment": {"text": "hi"}, "requestedAttributes": {"IDENTITY_ATTACK": '
        + b'{"scoreThreshold": '
        + HUGE_INT
        + b"}}}",
        JSON,
        400,
    ),
    "p_spans_1000": (ANALYZE, _analyze("a. " * 1000, spanAnnotations=True), JSON, 400),
    "p_text_plain": (ANALYZE, _analyze("a post"), PLAIN, 400),
    "p_invalid_json": (ANALYZE, b'{"comment": ', JSON, 400),
    "p_chunked_too_large": (ANALYZE, CHUNKED, JSON, 400),
}


async def _chunks() -> Any:
    """A JSON body of :data:`OVER_LIMIT` bytes, streamed (no Content-Length)."""
    yield b'{"texts": ["'
    for _ in range(OVER_LIMIT // 65536):
        yield b"a" * 65536
    yield b'"]}'


def prepare_detector(given: str | None) -> tuple[Path, str]:
    """The detector folder to serve and what it is."""
    from hateproto.models.fetch import is_fetched
    from hateproto.paths import home_dir

    if given:
        return Path(given), f"detector folder {given}"
    if not is_fetched("minilm"):
        raise SystemExit("fetch MiniLM first: hateproto models fetch minilm (or pass --detector)")
    folder = home_dir() / "detectors" / "soak-minilm-sample-v2"
    if not (folder / "detector.json").is_file():
        from hateproto.cli.main import main

        args = ["detector", "build", "--model", "minilm", "--dataset", "sample"]
        if main([*args, "--per-class", "20", "--out", str(folder)]) != 0:
            raise SystemExit("could not build the detector")
    return folder, "frozen all-MiniLM-L6-v2 + prototypes from the built-in sample (20 per class)"


class Recorder:
    """Per-minute latencies, errors by kind, malformed outcomes, RSS and readiness."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.latencies: dict[int, list[float]] = collections.defaultdict(list)
        self.errors: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
        self.malformed: dict[int, collections.Counter] = collections.defaultdict(
            collections.Counter
        )
        self.rss: dict[int, list[float]] = collections.defaultdict(list)
        self.load: dict[int, tuple[float, ...]] = {}
        self.not_ready: dict[int, int] = collections.defaultdict(int)
        self.server_errors: dict[int, int] = collections.defaultdict(int)

    def minute(self) -> int:
        return int((time.perf_counter() - self.started) // 60)

    def summary(self) -> list[dict[str, Any]]:
        minutes = sorted(set(self.latencies) | set(self.errors) | set(self.rss))
        return [self._row(m) for m in minutes]

    def _row(self, m: int) -> dict[str, Any]:
        latencies = self.latencies.get(m, [])
        rss = self.rss.get(m, [])
        return {
            "minute": m + 1,
            "valid_ok": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "errors": dict(self.errors.get(m, {})),
            "malformed": dict(self.malformed.get(m, {})),
            "rss_mb_last": round(rss[-1], 1) if rss else None,
            "rss_mb_max": round(max(rss), 1) if rss else None,
            "readyz_failures": self.not_ready.get(m, 0),
            "status_5xx": self.server_errors.get(m, 0),
            "loadavg": self.load.get(m),
        }


async def client(
    index: int, http: httpx.AsyncClient, url: str, texts: list[str], args, rec: Recorder
) -> None:
    """A closed loop of requests until the deadline."""
    rng = random.Random(args.seed * 1000 + index)
    deadline = rec.started + args.duration
    while time.perf_counter() < deadline:
        kind = rng.choice(sorted(MALFORMED)) if rng.random() < args.malformed else "valid"
        if kind == "valid" and rng.random() < args.perspective:
            spans = rng.random() < 0.5
            path, body, headers, expected = (
                ANALYZE,
                _analyze(rng.choice(texts), spanAnnotations=spans, languages=["en"]),
                JSON,
                200,
            )
        elif kind == "valid":
            path, body, headers, expected = (
                CLASSIFY,
                json.dumps({"texts": [rng.choice(texts)]}).encode(),
                JSON,
                200,
            )
        else:
            path, body, headers, expected = MALFORMED[kind]
        begin = time.perf_counter()
        try:
            content = _chunks() if body == CHUNKED else body
            response = await http.post(f"{url}{path}", content=content, headers=headers)
            outcome = None if response.status_code == expected else f"status {response.status_code}"
            if response.status_code >= 500:
                rec.server_errors[rec.minute()] += 1
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        minute = rec.minute()
        if kind != "valid":
            rec.malformed[minute][kind if outcome is None else f"{kind}: {outcome}"] += 1
        if outcome is not None:
            rec.errors[minute][f"{kind}: {outcome}"] += 1
        elif kind == "valid":
            rec.latencies[minute].append((time.perf_counter() - begin) * 1e3)


async def monitor(url: str, pid: int, args, rec: Recorder) -> None:
    """RSS every second, /readyz every 10 s, the load average once a minute."""
    process = psutil.Process(pid)
    tick = 0
    async with httpx.AsyncClient(timeout=30.0) as http:
        while time.perf_counter() < rec.started + args.duration:
            minute = rec.minute()
            rec.rss[minute].append(process.memory_info().rss / 2**20)
            rec.load.setdefault(minute, tuple(round(x, 2) for x in os.getloadavg()))
            if tick % 10 == 0:
                try:
                    ready = (await http.get(f"{url}/readyz")).status_code == 200
                except httpx.HTTPError:
                    ready = False
                rec.not_ready[minute] += 0 if ready else 1
            tick += 1
            await asyncio.sleep(1.0)


async def soak(url: str, pid: int, texts: list[str], args) -> Recorder:
    rec = Recorder(time.perf_counter())
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as http:
        await asyncio.gather(
            monitor(url, pid, args, rec),
            *(client(i, http, url, texts, args, rec) for i in range(args.clients)),
        )
    return rec


def uptime() -> str:
    """The ``uptime`` line (load averages of the shared machine)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"load average: {os.getloadavg()}"


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Whole-run counts: valid requests answered, errors by kind, malformed by outcome."""
    errors: collections.Counter = collections.Counter()
    malformed: collections.Counter = collections.Counter()
    for row in rows:
        errors.update(row["errors"])
        malformed.update(row["malformed"])
    return {
        "valid_ok": sum(r["valid_ok"] for r in rows),
        "errors_by_kind": dict(errors),
        "malformed_by_outcome": dict(malformed),
        "readyz_failures": sum(r["readyz_failures"] for r in rows),
        "unexpected_5xx": sum(r["status_5xx"] for r in rows),
        "rss_mb_first_minute": next((r["rss_mb_last"] for r in rows if r["rss_mb_last"]), None),
        "rss_mb_last_minute": next(
            (r["rss_mb_last"] for r in reversed(rows) if r["rss_mb_last"]), None
        ),
        "rss_growth_pct": _growth(rows),
    }


def _growth(rows: list[dict[str, Any]]) -> float | None:
    """RSS growth from the end of the first minute to the end of the last minute that has a
    sample (the final partial minute, after the deadline, has none), in percent."""
    sampled = [r["rss_mb_last"] for r in rows if r["rss_mb_last"]]
    if len(sampled) < 2:
        return None
    return round(100 * (sampled[-1] - sampled[0]) / sampled[0], 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    detector, what = prepare_detector(args.detector)
    texts, source = load_texts(1000, seed=args.seed)
    port = free_port()
    url = f"http://{HOST}:{port}"
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "server-soak.log"
    before = uptime()
    server = start_server(detector, port, True, log_path, args.threads)
    try:
        wait_healthy(url, server, args.startup_timeout)
        rec = asyncio.run(soak(url, server.pid, texts, args))
        info = httpx.get(f"{url}/v1/info", timeout=30).json()["service"]
    finally:
        exit_code = stop_server(server)
    rows = rec.summary()
    return {
        "duration_s": args.duration,
        "clients": args.clients,
        "malformed_fraction": args.malformed,
        "malformed_kinds": {k: f"{v[0]} -> {v[3]}" for k, v in MALFORMED.items()},
        "perspective_fraction_of_valid": args.perspective,
        "detector": what,
        "texts": f"{len(texts)} {source}, one valid text per request",
        "server_threads": args.threads,
        "totals": totals(rows),
        "per_minute": rows,
        "server_batching": info["batching"],
        "readiness_canaries": info.get("readiness_canaries"),
        "graceful_shutdown_exit_code": exit_code,
        "graceful_shutdown_logged": '"event": "stop"' in log_path.read_text(),
        "uptime_before": before,
        "uptime_after": uptime(),
        "host": {"cpus": os.cpu_count(), "note": "clients and server share the machine"},
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", help="Detector folder (default: build one, see above).")
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--malformed", type=float, default=0.02)
    parser.add_argument(
        "--perspective", type=float, default=0.2, help="Share of valid requests to Perspective."
    )
    parser.add_argument("--threads", type=int, default=1, help="Torch threads of the server.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--startup-timeout", type=float, default=300.0)
    parser.add_argument("--log-dir", default="/tmp/hateproto-soak")
    parser.add_argument("--out", default="benchmarks/results/service-soak.json")
    args = parser.parse_args()
    result = {**run(args), "provenance": provenance()}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(json.dumps(result["totals"]), f"\nwrote {out}")


if __name__ == "__main__":
    main()
