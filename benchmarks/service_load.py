"""Load test of ``hateproto serve`` on the loopback interface (127.0.0.1 only).

For micro-batching on and then off, the script starts the service in a subprocess on a free
loopback port, waits for ``/healthz``, runs ``--clients`` concurrent clients that each post one
text per request in a closed loop for ``--duration`` seconds (at most ``--max-requests``
requests in all), then one client posting single texts one after another (``--single-posts``
requests, at most ``--single-seconds`` seconds), polls the server's RSS throughout, and stops
the server with SIGTERM (uvicorn finishes in-flight requests, the service answers what is
queued and logs ``"event": "stop"``, then uvicorn re-raises the signal: exit code -15).
Everything is bounded in count and time and stops by itself.

The detector: ``--detector DIR`` if given; else one is built (once, under
``$HATEPROTO_HOME/detectors/``) from the fine-tuned MiniLM checkpoint
``$HATEPROTO_HOME/checkpoints/hateprototypes-minilm/ihc-seed0`` if present, else the frozen
MiniLM, with IHC prototypes from 50 training posts per class; the result says which.

    python benchmarks/service_load.py --clients 16 --duration 60 \\
        --out benchmarks/results/service-load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from hateproto.provenance import provenance

HOST = "127.0.0.1"


def checkpoint_path() -> Path:
    """The fine-tuned MiniLM checkpoint under ``$HATEPROTO_HOME`` (default ~/.cache/hateproto)."""
    from hateproto.paths import home_dir

    return home_dir() / "checkpoints" / "hateprototypes-minilm" / "ihc-seed0"


# ---------------------------------------------------------------------- detector and texts
def prepare_detector(given: str | None, per_class: int) -> tuple[Path, str]:
    """The detector folder to serve and a sentence saying what it is."""
    from hateproto.paths import home_dir

    if given:
        return Path(given), f"detector folder {given}"
    checkpoint = checkpoint_path()
    fine_tuned = checkpoint.is_dir()
    name = "ihc-minilm-finetuned" if fine_tuned else "ihc-minilm-frozen"
    folder = home_dir() / "detectors" / name
    model = str(checkpoint) if fine_tuned else "minilm"
    what = (
        f"fine-tuned MiniLM checkpoint {checkpoint} (decides with its head) + IHC prototypes"
        if fine_tuned
        else "frozen all-MiniLM-L6-v2 + IHC prototypes"
    )
    what += f" from {per_class} training posts per class"
    if not (folder / "detector.json").is_file():
        from hateproto.cli.main import main

        args = ["detector", "build", "--model", model, "--dataset", "ihc"]
        if main([*args, "--per-class", str(per_class), "--out", str(folder)]) != 0:
            raise SystemExit("could not build the detector (is the IHC data directory there?)")
    return folder, what


def load_texts(n: int, seed: int) -> tuple[list[str], str]:
    """``n`` IHC test posts (or the built-in sample when there is no data directory)."""
    from hateproto.data import load_benchmark, load_sample
    from hateproto.errors import DataError

    try:
        data, source = load_benchmark("ihc", "test", "hateprototypes"), "IHC test posts"
    except DataError:
        data, source = load_sample("all"), "the built-in sample"
    texts = list(data.texts)
    random.Random(seed).shuffle(texts)
    return texts[:n], source


# ---------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop_server(server: subprocess.Popen) -> int | str:
    """SIGTERM (a graceful stop), then SIGKILL after 60 s; the exit status, or what happened."""
    server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        return "killed after 60 s"


def start_server(
    detector: Path,
    port: int,
    batching: bool,
    log_path: Path,
    threads: int | None,
    dtype: str | None = None,
    compile_: bool = False,
) -> subprocess.Popen:
    command = [
        sys.executable,
        "-c",
        "import sys; from hateproto.cli.main import run; sys.argv[0] = 'hateproto'; run()",
        "serve",
        "--detector",
        str(detector),
        "--host",
        HOST,
        "--port",
        str(port),
        "--micro-batching" if batching else "--no-micro-batching",
        "--log-level",
        "info",
        *(["--threads", str(threads)] if threads else []),
        *(["--dtype", dtype] if dtype else []),
        *(["--compile"] if compile_ else []),
    ]
    with log_path.open("w") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    """Wait until ``/readyz`` says the server can score (a canary went through the model)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} while starting")
        try:
            if httpx.get(f"{url}/readyz", timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not become healthy within {timeout} s")


class RssMonitor:
    """Polls the resident memory of a process (and its children) in a thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                rss = self.process.memory_info().rss
                rss += sum(c.memory_info().rss for c in self.process.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> RssMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------- clients
def percentile(values: list[float], q: float) -> float:
    """``q``-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def closed_loop(
    url: str, texts: list[str], clients: int, duration: float, max_requests: int
) -> dict[str, Any]:
    """``clients`` concurrent clients, one text per request, until time or count runs out."""
    latencies: list[float] = []
    errors: list[str] = []
    issued = 0
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal issued
        rng = random.Random(index)
        while time.perf_counter() < deadline and issued < max_requests:
            issued += 1
            started = time.perf_counter()
            try:
                response = await http.post(
                    f"{url}/v1/classify", json={"texts": [rng.choice(texts)]}
                )
                if response.status_code != 200 or len(response.json()["results"]) != 1:
                    errors.append(f"status {response.status_code}")
                    continue
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - started) * 1e3)

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return summarize(latencies, errors, elapsed)


def summarize(latencies: list[float], errors: list[str], elapsed: float) -> dict[str, Any]:
    requests = len(latencies) + len(errors)
    return {
        "requests": requests,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "elapsed_s": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
    }


def single_posts(url: str, texts: list[str], count: int, seconds: float) -> dict[str, Any]:
    """One client posting one text at a time (latency without queueing)."""
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    with httpx.Client(timeout=30.0) as http:
        for i in range(count):
            if time.perf_counter() > deadline:
                break
            begin = time.perf_counter()
            try:
                response = http.post(f"{url}/v1/classify", json={"texts": [texts[i % len(texts)]]})
                if response.status_code != 200:
                    errors.append(f"status {response.status_code}")
                    continue
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
                continue
            latencies.append((time.perf_counter() - begin) * 1e3)
    return summarize(latencies, errors, time.perf_counter() - started)


# ---------------------------------------------------------------------- one server run
def warm_up(url: str, texts: list[str]) -> int:
    """Post a few texts; a failed warm-up request is counted, not fatal. Returns failures."""
    failures = 0
    with httpx.Client(timeout=180.0) as http:
        for text in texts:
            try:
                http.post(f"{url}/v1/classify", json={"texts": [text]})
            except httpx.HTTPError:
                failures += 1
    return failures


def run_mode(args: argparse.Namespace, detector: Path, texts: list[str], batching: bool) -> dict:
    port = free_port()
    url = f"http://{HOST}:{port}"
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-batching-{'on' if batching else 'off'}.log"
    server = start_server(
        detector, port, batching, log_path, args.threads, args.dtype, args.compile
    )
    started = time.monotonic()
    try:
        wait_healthy(url, server, args.startup_timeout)
        ready_after = time.monotonic() - started  # loading, warming up (compiling) included
        warm_up(url, texts[:20])
        with RssMonitor(server.pid) as rss:
            load = asyncio.run(
                closed_loop(url, texts, args.clients, args.duration, args.max_requests)
            )
            single = single_posts(url, texts, args.single_posts, args.single_seconds)
            info = httpx.get(f"{url}/v1/info", timeout=10).json()
        peak_mb = round(rss.peak / 2**20, 1)
    finally:
        exit_code = stop_server(server)
    row = {
        "clients": args.clients,
        "duration_s": args.duration,
        "micro_batching": batching,
        "ready_after_s": round(ready_after, 1),
        **load,
        "peak_rss_mb": peak_mb,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "server_batching": info["service"]["batching"],
        "max_batch_size": info["service"]["max_batch_size"],
        "max_wait_ms": info["service"]["max_wait_ms"],
        "server_threads": args.threads or "torch default",
        "graceful_shutdown_exit_code": exit_code,
        "graceful_shutdown_logged": '"event": "stop"' in log_path.read_text(),
        "single_post": single,
    }
    print(json.dumps(row), flush=True)
    return row


def medians_by_mode(runs: list[dict[str, Any]]) -> dict[bool, dict[str, float]]:
    """Median throughput, latencies and RSS of the runs with batching on, and off."""
    return {
        mode: {
            key: round(statistics.median(r[key] for r in runs if r["micro_batching"] == mode), 2)
            for key in ("requests_per_s", "p50_ms", "p95_ms", "p99_ms", "peak_rss_mb")
        }
        for mode in sorted({r["micro_batching"] for r in runs}, reverse=True)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", help="Detector folder (default: build one, see above).")
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--single-posts", type=int, default=300)
    parser.add_argument("--single-seconds", type=float, default=30.0)
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--startup-timeout", type=float, default=180.0)
    parser.add_argument("--threads", type=int, help="Torch threads of the server.")
    parser.add_argument("--dtype", help="The server's --dtype (default: the detector's own).")
    parser.add_argument("--compile", action="store_true", help="Start the server with --compile.")
    parser.add_argument(
        "--modes", default="on,off,on,off", help="Micro-batching modes to run, in this order."
    )
    parser.add_argument("--log-dir", default="/tmp")
    parser.add_argument("--out", default="benchmarks/results/service-load.json")
    args = parser.parse_args()

    detector, what = prepare_detector(args.detector, args.per_class)
    texts, source = load_texts(args.texts, seed=0)
    runs = [run_mode(args, detector, texts, mode == "on") for mode in args.modes.split(",")]
    headline = {k: v for k, v in runs[0].items() if k != "single_post"}
    by_mode = medians_by_mode(runs)
    result = {
        **headline,
        "single_post_p50_ms": runs[0]["single_post"]["p50_ms"],
        "single_post_p99_ms": runs[0]["single_post"]["p99_ms"],
        "detector": what,
        "dtype": args.dtype or "the detector's own",
        "compile": args.compile,
        "texts": f"{len(texts)} {source}, one text per request",
        "medians_by_micro_batching": {str(k).lower(): v for k, v in by_mode.items()},
        "throughput_ratio_on_off": (
            round(by_mode[True]["requests_per_s"] / by_mode[False]["requests_per_s"], 2)
            if True in by_mode and False in by_mode
            else None
        ),
        "runs": runs,
        "host": {"cpus": os.cpu_count(), "note": "clients and server share the machine"},
        "command": "python " + " ".join(sys.argv),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    result["provenance"] = provenance()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
