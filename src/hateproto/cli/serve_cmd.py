"""``hateproto serve``: run the HTTP moderation service over a detector folder.

    hateproto serve --detector detectors/ihc --host 127.0.0.1 --port 8000

Set ``HATEPROTO_API_TOKEN`` to require ``Authorization: Bearer <token>`` on ``/v1/*`` (set
but empty is refused). The address is bound before the model loads, so a bad ``--port`` or a
port in use is a one-line error at once.
Stops gracefully on Ctrl-C or SIGTERM: queued requests are answered first.

    hateproto serve --detector detectors/ihc --feedback-db default     # SQLite, review page
    hateproto serve --detector detectors/ihc --feedback-db postgresql://mod@db/feedback

With ``--feedback-db`` the posts the detector is unsure of are queued for moderators at
``/review`` (docs/review.md).
"""

from __future__ import annotations

from typing import Any

import typer

from hateproto.cli.options import (
    ConfigOption,
    DetectorOptions,
    MaxCharsOption,
    ThreadsOption,
    with_groups,
)
from hateproto.optional import require
from hateproto.service.settings import LOOPBACK_HOSTS, ServiceSettings, is_loopback


def register(app: typer.Typer) -> None:
    """Add the ``serve`` command to ``app``."""

    @app.command("serve")
    @with_groups
    def serve(
        ctx: typer.Context,
        loaded: DetectorOptions = DetectorOptions(),
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        config: ConfigOption = None,
        max_texts_per_request: int | None = typer.Option(
            None, "--max-texts", help="Texts per request (default 64)."
        ),
        max_chars_per_text: MaxCharsOption = None,
        micro_batching: bool | None = typer.Option(
            None, "--micro-batching/--no-micro-batching", help="Combine concurrent requests."
        ),
        max_batch_size: int | None = typer.Option(None, help="Texts per model call (default 32)."),
        max_wait_ms: float | None = typer.Option(None, help="Wait for a fuller batch (default 5)."),
        threads: ThreadsOption = None,
        log_level: str = typer.Option("info", help="debug, info, warning, error."),
        any_language: bool | None = typer.Option(
            None,
            "--any-language/--validated-languages",
            help="Perspective endpoint: score comments in languages the detector was not "
            "validated on instead of refusing them (default: refuse, as Perspective does).",
        ),
        feedback_db: str | None = typer.Option(
            None,
            "--feedback-db",
            help="Feedback database: 'default' (SQLite under the hateproto home), a SQLite "
            "file, or postgresql://user:password@host/name. Turns on the review page /review.",
        ),
        queue_band: float | None = typer.Option(
            None, help="Queue posts this close to the threshold for review (default 0.15)."
        ),
        queue_sample_rate: float | None = typer.Option(
            None, "--queue-sample", help="Share of the other posts queued at random (0.01)."
        ),
    ) -> None:
        """Serve POST /v1/classify, GET /v1/info, GET /livez and GET /readyz (docs at /docs).

        --config is a YAML file of service settings; the options override them (default
        --max-chars: 10000)."""
        require("fastapi", extra="service", purpose="hateproto serve")
        require("uvicorn", extra="service", purpose="hateproto serve")
        from hateproto.service import create_app
        from hateproto.service.model_thread import ModelThread
        from hateproto.service.server import bind_socket, run_server

        spec = loaded.spec()
        base = ServiceSettings.from_yaml(config) if config else ServiceSettings()
        given = {k: v for k, v in ctx.params.items() if k in ServiceSettings.model_fields}
        settings = base.with_options("serve options", **given)  # options named as the settings
        if settings.allowed_hosts is None and is_loopback(host):
            settings = settings.model_copy(update={"allowed_hosts": LOOPBACK_HOSTS})
        sock = bind_socket(host, port)  # a bad or busy port fails before the model loads
        model_thread = ModelThread()  # loads and runs the model (see its module docstring)
        try:
            detector = model_thread.call(_load_detector, spec, threads)
            app_ = create_app(detector, settings, model_thread)
        except BaseException:
            sock.close()
            model_thread.close()
            raise
        try:
            run_server(app_, sock, settings.log_level)
        finally:
            model_thread.close()


def _load_detector(spec: Any, threads: int | None) -> Any:
    """The detector of ``spec``, loaded in the calling thread (the model thread), with
    ``--threads`` set for that thread, and warmed up (with ``--compile``, this is where it
    compiles, before the service listens)."""
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    return spec.load().warm_up()
