"""``GET /docs`` without the internet: a plain HTML page made from the OpenAPI schema.

FastAPI's Swagger UI loads its JavaScript and CSS from a CDN, so on an offline machine it is a
blank page, and no installed package ships those files. This page needs nothing but the
service: each endpoint with its method, summary, description and answers, and a link to the
machine-readable ``/openapi.json`` (which any OpenAPI tool can open).
"""

from __future__ import annotations

import html
import json
from typing import Any


def docs_html(schema: dict[str, Any]) -> str:
    """The documentation page for an OpenAPI ``schema``."""
    info = schema.get("info", {})
    title = html.escape(str(info.get("title", "API")))
    sections = [_operation_html(path, method, op) for path, method, op in _operations(schema)]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{title} <small>{html.escape(str(info.get('version', '')))}</small></h1>"
        f"<p>{html.escape(str(info.get('description', '')))}</p>"
        "<p>Machine-readable description: <a href='/openapi.json'>/openapi.json</a>.</p>"
        + "".join(sections)
        + "</body></html>"
    )


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in schema.get("paths", {}).items()
        for method, operation in methods.items()
        if isinstance(operation, dict)
    ]


def _operation_html(path: str, method: str, operation: dict[str, Any]) -> str:
    """One endpoint: method, path, summary, description, body schema and answers."""
    parts = [
        f"<section><h2><code>{method.upper()} {html.escape(path)}</code> "
        f"{html.escape(str(operation.get('summary', '')))}</h2>",
        f"<p>{html.escape(str(operation.get('description', '')))}</p>",
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        shown = json.dumps(body.get("schema", {}), indent=1)
        parts.append(f"<p>JSON body:</p><pre>{html.escape(shown)}</pre>")
    answers = operation.get("responses", {})
    if answers:
        rows = "".join(
            f"<tr><td>{html.escape(str(code))}</td>"
            f"<td>{html.escape(str(answer.get('description', '')))}</td></tr>"
            for code, answer in answers.items()
        )
        parts.append(f"<table><tr><th>status</th><th>when</th></tr>{rows}</table>")
    return "".join(parts) + "</section>"


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
    "code,pre{background:#f4f4f4}pre{padding:.5em;overflow:auto}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
)
