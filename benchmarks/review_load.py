"""The review page under load, and ``kill -9`` while moderators label (issue 27 goals).

1. ``hateproto serve --detector D --feedback-db <fresh SQLite>`` runs as a real process
   (every scored post queued: ``--queue-band 1``). ``--classified`` OLID train posts go
   through ``/v1/classify`` (stored and explained by the service, the real path); the
   queue is then topped up to ``--posts`` posts written straight into the database (the
   page's actions do not depend on how a post was queued).
2. Load, twice: ``stress`` (no think time) and ``paced`` (each post read for
   ``--think-s`` seconds, +-50%): ``--moderators`` scripted moderators (HTTP clients doing
   what the page's script does) label for ``--seconds``: ``next``, ``label`` (hate / not hate),
   every 10th label undone and labelled again, every 15th post skipped. Each action's
   latency is measured at the client. Afterwards every acknowledged label (less the undone
   ones) must be in the database, exactly once.
3. ``kill -9``: ``--kills`` times, the service is restarted on the same database, the
   moderators label, and the service is killed with SIGKILL at a random moment; after a
   restart every acknowledged label must be there.

    .venv/bin/python benchmarks/review_load.py \
        --detector ~/.cache/hateproto/detectors/quickstart \
        --out benchmarks/results/review-load.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from review_server import Moderator, ReviewServer  # noqa: E402

from hateproto.data import load_benchmark  # noqa: E402
from hateproto.feedback.store import FeedbackStore, PostRecord  # noqa: E402
from hateproto.provenance import provenance  # noqa: E402

TOKEN = "review-load-token"


class Ledger:
    """What the moderators were told: acknowledged and undone label ids, latencies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: set[int] = set()
        self.undone: set[int] = set()
        self.latency: dict[str, list[float]] = {"next": [], "label": [], "undo": [], "skip": []}
        self.errors: list[str] = []

    def timed(self, action: str, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        result = call(*args)
        took = (time.perf_counter() - started) * 1e3
        with self.lock:
            self.latency[action].append(took)
        return result


def moderate(
    moderator: Moderator, ledger: Ledger, stop: threading.Event, seed: int, think_s: float = 0.0
) -> None:
    """Label until ``stop`` (or the service goes away), reading each post ``think_s``."""
    rng = random.Random(seed)
    step = 0
    while not stop.is_set():
        try:
            if think_s:
                stop.wait(rng.uniform(0.5, 1.5) * think_s)
            post = ledger.timed("next", moderator.next)
            if post is None:
                return
            step += 1
            if step % 15 == 0:
                ledger.timed("skip", moderator.skip, post["id"])
                continue
            label = rng.choice(["hate", "not_hate"])
            request = uuid.uuid4().hex  # the page draws a fresh id per label too
            answer = ledger.timed("label", moderator.label, post["id"], label, request)
            with ledger.lock:
                ledger.acknowledged.add(answer["label_id"])
            if step % 10 == 0:
                ledger.timed("undo", moderator.undo, answer["label_id"])
                with ledger.lock:
                    ledger.undone.add(answer["label_id"])
        except Exception as exc:  # noqa: BLE001 - recorded; a killed service ends the run
            with ledger.lock:
                ledger.errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
            return


def run_moderators(
    url: str, n: int, seconds: float, ledger: Ledger, kill: Any = None, think_s: float = 0.0
) -> float:
    """``n`` moderators for ``seconds`` (or until ``kill`` fires); the time they ran."""
    moderators = [Moderator(url, TOKEN, f"moderator-{i}") for i in range(n)]
    stop = threading.Event()
    threads = [
        threading.Thread(target=moderate, args=(m, ledger, stop, i, think_s))
        for i, m in enumerate(moderators)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if kill is not None:
        kill()
    else:
        time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    return time.perf_counter() - started


def stored_labels(db: str) -> list[dict]:
    store = FeedbackStore.open(db, migrate=False)
    try:
        return list(store.label_rows())
    finally:
        store.close()


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    array = np.asarray(values)
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(array, 50)), 2),
        "p95_ms": round(float(np.percentile(array, 95)), 2),
        "p99_ms": round(float(np.percentile(array, 99)), 2),
        "max_ms": round(float(array.max()), 2),
    }


def check(db: str, ledger: Ledger, before: set[int] | frozenset[int] = frozenset()) -> dict:
    """Acknowledged labels against the database (less the labels ids ``before`` the run):
    lost, duplicated, unexpected."""
    every = stored_labels(db)
    posts_all = [r["post_id"] for r in every]
    rows = [r for r in every if r["label_id"] not in before]
    ids = [r["label_id"] for r in rows]
    kept = ledger.acknowledged - ledger.undone
    return {
        "acknowledged": len(ledger.acknowledged),
        "undone": len(ledger.undone),
        "in_database": len(rows),
        "lost": len(kept - set(ids)),
        "duplicated_posts": len(posts_all) - len(set(posts_all)),
        "undone_but_present": len(ledger.undone & set(ids)),
        "stored_not_acknowledged": len(set(ids) - kept),
    }


def fill_queue(server: ReviewServer, db: str, args: argparse.Namespace) -> dict[str, Any]:
    """Posts through /v1/classify, then written straight into the database."""
    train = load_benchmark("olid", "train", data_dir=args.data_dir)
    texts = list(dict.fromkeys(train.texts))
    classified = texts[: args.classified]
    started = time.perf_counter()
    for begin in range(0, len(classified), 32):
        server.classify(classified[begin : begin + 32])
    server.wait_queued(len(classified), timeout=300)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the explanations, before the load starts
        info = server_info(server)
        if info["explained"] >= len(classified):
            break
        time.sleep(0.5)
    through_service_s = time.perf_counter() - started
    rng = np.random.default_rng(0)
    extra = [f"{texts[i % len(texts)]} [{i}]" for i in range(args.posts - len(classified))]
    store = FeedbackStore.open(db, migrate=False)
    try:
        records = [
            PostRecord(t, float(p), 0.5, "low_margin", "review-load")
            for t, p in zip(extra, rng.uniform(0, 1, len(extra)), strict=True)
        ]
        for begin in range(0, len(records), 1000):
            store.add_posts(records[begin : begin + 1000])
    finally:
        store.close()
    return {
        "through_classify": len(classified),
        "explained_before_load": server_info(server)["explained"],
        "through_classify_s": round(through_service_s, 1),
        "written_directly": len(extra),
    }


def server_info(server: ReviewServer) -> dict[str, Any]:
    import httpx

    info = httpx.get(
        f"{server.url}/v1/info", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    ).json()
    return info["service"]["feedback"]


def kill_rounds(detector: Path, db: str, args: argparse.Namespace, log: Path) -> list[dict]:
    """Restart, label, SIGKILL at a random moment, restart, check; ``--kills`` times."""
    rounds = []
    rng = random.Random(1)
    for round_ in range(args.kills):
        before = {r["label_id"] for r in stored_labels(db)}
        server = ReviewServer(detector, db, TOKEN, log).start()
        ledger = Ledger()
        after = rng.uniform(1.0, 4.0)

        def kill(server: ReviewServer = server, after: float = after) -> None:
            time.sleep(after)
            server.kill()

        run_moderators(server.url, args.moderators, 0, ledger, kill)
        server.kill()
        restarted = ReviewServer(detector, db, TOKEN, log).start()
        restarted.stop()
        result = check(db, ledger, before)
        in_flight = result.pop("stored_not_acknowledged")
        rounds.append(
            {
                "round": round_,
                "killed_after_s": round(after, 2),
                "acknowledged": result["acknowledged"],
                "lost": result["lost"],
                "duplicated_posts": result["duplicated_posts"],
                "stored_but_unanswered_when_killed": in_flight,
                "undone": len(ledger.undone),
                "errors": sorted(set(ledger.errors)),
            }
        )
        print(json.dumps(rounds[-1]), flush=True)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", type=Path, required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--moderators", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--posts", type=int, default=30000)
    parser.add_argument("--classified", type=int, default=200)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--think-s", type=float, default=1.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "feedback.sqlite3")
        log = Path(tmp) / "serve.log"
        server = ReviewServer(args.detector, db, TOKEN, log).start()
        try:
            queue = fill_queue(server, db, args)
            print(json.dumps(queue), flush=True)
            phases = {}
            for name, think in (("stress", 0.0), ("paced", args.think_s)):
                ledger = Ledger()
                existing = {r["label_id"] for r in stored_labels(db)}
                load_before = os.getloadavg()
                ran = run_moderators(server.url, args.moderators, args.seconds, ledger, None, think)
                phases[name] = {
                    "moderators": args.moderators,
                    "seconds": round(ran, 1),
                    "think_time_s": think,
                    "actions": {k: percentiles(v) for k, v in ledger.latency.items()},
                    "all_actions": percentiles([x for v in ledger.latency.values() for x in v]),
                    "labels_per_s": round(len(ledger.acknowledged) / ran, 1),
                    "errors": ledger.errors,
                    "load_average_1min_before_after": [
                        round(load_before[0], 2),
                        round(os.getloadavg()[0], 2),
                    ],
                    **check(db, ledger, existing),
                }
                print(json.dumps({name: phases[name]}), flush=True)
        finally:
            server.stop()
        kills = kill_rounds(args.detector, db, args, log)
    report = {
        "what": "4 scripted moderators labelling at once through the review API of a real "
        "`hateproto serve --feedback-db` process (SQLite, WAL), client-side latency per "
        "action; then kill -9 of the service while they label, and a restart",
        "database": "sqlite (WAL, synchronous=FULL)",
        "detector": str(args.detector),
        "cpu_cores": os.cpu_count(),
        "queue": queue,
        "load": phases,
        "kill_9": kills,
        "goals": {
            "no_lost_or_duplicated_labels": all(
                p["lost"] == 0 and p["duplicated_posts"] == 0 for p in phases.values()
            )
            and all(k["lost"] == 0 and k["duplicated_posts"] == 0 for k in kills),
            "page_actions_p95_below_100_ms": {
                name: p["all_actions"]["p95_ms"] < 100 for name, p in phases.items()
            },
        },
        "provenance": provenance(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["goals"]))


if __name__ == "__main__":
    main()
