"""Start the service on a socket the command line has already bound.

Binding before the model loads turns a bad ``--port``, a port already in use or a host that
is not this machine's into a one-line error at once (instead of a log line and exit 3 from
uvicorn after the model has loaded).

Example:
    >>> sock = bind_socket("127.0.0.1", 8000)          # doctest: +SKIP
    >>> run_server(create_app(detector), sock, "info")  # doctest: +SKIP
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
from typing import Any

from hateproto.errors import ConfigError, HateprotoError
from hateproto.service.logs import uvicorn_log_config

log = logging.getLogger("hateproto.service")


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not listening yet), or a :class:`ConfigError`
    that says what is wrong and which option to change."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port {port} is out of range: use 1 to 65535 (0: any free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: not an address to listen on ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(_bind_message(host, port, exc)) from None
    return sock


def _bind_message(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use (another process listens there); "
            "choose another --port or stop that process"
        )
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port} (below 1024 needs root); use --port 8000"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine; use 127.0.0.1 or 0.0.0.0"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(app: Any, sock: socket.socket, log_level: str = "info") -> None:
    """Serve ``app`` on ``sock`` with uvicorn until SIGTERM or Ctrl-C (graceful shutdown)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_config=uvicorn_log_config(log_level),
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    settings = getattr(app.state, "settings", None)
    host = sock.getsockname()[0]
    if settings is not None and settings.api_token is None and not is_loopback(host):
        log.warning(
            f"auth is off and the service listens on {host}: anyone who can reach it can use "
            "it; set HATEPROTO_API_TOKEN",
            extra={"event": "auth_off"},
        )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        raise HateprotoError("the service did not start; see the log lines above")
