"""Property tests (issue 13): the table readers and the service's payloads, with random
unicode (lone surrogates, control characters), huge and empty fields and wrong types.

``max_examples`` stays modest so that the suite stays fast; the seed is fixed by hypothesis'
database-free ``derandomize`` so that a failure is the same on every run.
"""

from __future__ import annotations

import csv
import json
import string
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hateproto.data.tables import load_table
from hateproto.detector.inputs import content_problem
from hateproto.errors import DataError
from hateproto.service import ServiceSettings, create_app

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any character but surrogates (which UTF-8 files cannot hold), control characters included.
VALID_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
).filter(lambda t: content_problem(t) is None)
ANY_TEXT = st.text(st.characters(), max_size=40)  # lone surrogates and NUL included
JSON_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), ANY_TEXT
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


# ---------------------------------------------------------------------- table readers
# Characters str.splitlines() treats as line ends besides \n (JSON lines may hold them).
SPLITLINES = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _write(frame: pd.DataFrame, path: Path) -> None:
    # QUOTE_ALL: pandas' default quotes only cells with a "\n"; a bare "\r" would end the row
    if path.suffix == ".csv":
        frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    elif path.suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False, quoting=csv.QUOTE_ALL)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_parquet(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@FUZZ
@given(rows=st.lists(st.tuples(VALID_TEXT, st.sampled_from([0, 1])), min_size=1, max_size=8))
def test_load_table_gives_back_what_was_written(tmp_path, suffix, rows):
    if suffix == ".jsonl":  # a known bug, reported: see test_json_lines_may_hold_unicode_line_ends
        rows = [(text.translate({ord(c): " " for c in SPLITLINES}), y) for text, y in rows]
        rows = [(text, y) for text, y in rows if text.strip()] or [("x", 0)]
    path = tmp_path / f"posts{suffix}"
    frame = pd.DataFrame(rows, columns=["text", "label"])
    _write(frame, path)
    loaded = load_table(path)
    assert loaded.texts == frame["text"].tolist()
    assert loaded.labels.tolist() == frame["label"].tolist()


@pytest.mark.parametrize("char", ["\x85", "\u2028"])
def test_json_lines_may_hold_unicode_line_ends(tmp_path, char):
    path = tmp_path / "posts.jsonl"
    pd.DataFrame({"text": [f"a{char}b"], "label": [1]}).to_json(
        path, orient="records", lines=True, force_ascii=False
    )
    assert load_table(path).texts == [f"a{char}b"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@FUZZ
@given(content=st.binary(max_size=300))
def test_load_table_on_any_bytes_is_a_result_or_a_data_error(tmp_path, suffix, content):
    path = tmp_path / f"junk{suffix}"
    path.write_bytes(content)
    try:
        loaded = load_table(path)
    except DataError as exc:
        assert str(path) in str(exc)
        return
    assert all(isinstance(t, str) and t.strip() for t in loaded.texts)
    assert set(loaded.labels.tolist()) <= {0, 1}


@FUZZ
@given(
    records=st.lists(
        st.dictionaries(st.sampled_from(["text", "label", "x"]), JSON_VALUE), max_size=5
    )
)
def test_load_table_on_any_json_lines_is_a_result_or_a_data_error(tmp_path, records):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    try:
        loaded = load_table(path)
    except DataError:
        return
    assert all(isinstance(t, str) and t.strip() for t in loaded.texts)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
@settings(FUZZ, max_examples=15)
@given(texts=st.lists(VALID_TEXT, min_size=1, max_size=6))
@example(texts=["a bare \r carriage return", "crlf \r\n inside", "\u2028 and \x85"])
def test_classify_output_reads_back_the_same_texts(detector, tmp_path, suffix, texts):
    from hateproto.scoring import TableReader, classify_file

    source, out = tmp_path / "in.jsonl", tmp_path / f"out{suffix}"
    pd.DataFrame({"text": texts}).to_json(source, orient="records", lines=True, force_ascii=False)
    for leftover in tmp_path.glob("out*"):
        leftover.unlink()
    classify_file(detector, source, out, show_progress=False)
    frames = [chunk.frame for chunk in TableReader(out, "text").chunks(0)]
    assert pd.concat(frames)["text"].tolist() == texts


# ---------------------------------------------------------------------- service payloads
@pytest.fixture(scope="module")
def client(detector):
    """The real tiny detector (a real tokenizer) behind the service."""
    app = create_app(detector, ServiceSettings(api_token=None, max_chars_per_text=2_000))
    with TestClient(app) as test_client:
        yield test_client


def _check_answer(response, texts: object) -> None:
    assert response.status_code in (200, 413, 422), (response.status_code, response.text)
    body = response.json()
    if response.status_code == 200:
        assert isinstance(texts, list) and len(body["results"]) == len(texts)
        assert all(0 <= r["hate_probability"] <= 1 for r in body["results"])
    else:
        assert isinstance(body["detail"], str) and body["detail"]


@FUZZ
@given(texts=st.lists(st.one_of(ANY_TEXT, JSON_SCALAR), max_size=6))
def test_any_list_of_texts_is_answered_never_500(client, texts):
    response = client.post(
        "/v1/classify",
        content=json.dumps({"texts": texts}).encode(),
        headers={"content-type": "application/json"},
    )
    _check_answer(response, texts)


@FUZZ
@given(body=JSON_VALUE)
def test_any_json_body_is_answered_never_500(client, body):
    response = client.post("/v1/classify", content=json.dumps(body).encode())
    _check_answer(response, body.get("texts") if isinstance(body, dict) else None)


@FUZZ
@given(body=st.binary(max_size=200))
def test_any_bytes_are_answered_never_500(client, body):
    response = client.post("/v1/classify", content=body)
    assert response.status_code in (200, 413, 422), response.text


@FUZZ
@given(
    size=st.sampled_from([1, 1_999, 2_000, 2_001, 50_000]),
    char=st.sampled_from(["a", " ", "\u00e9", "\U0001f600", "\x01"]),
    count=st.integers(1, 70),
)
def test_huge_and_many_fields(client, size, char, count):
    texts = [char * size] * count
    response = client.post("/v1/classify", json={"texts": texts})
    _check_answer(response, texts)
    if size > 2_000 and count <= 64:
        assert response.status_code == 413
        assert any(m in response.json()["detail"] for m in ("characters per text", "too large"))
    if count > 64:
        assert response.status_code == 413


def test_control_characters_and_printable_ascii_score(client):
    texts = ["\x01\x02 go back home \x7f", string.printable, "tab\tand\nnewline"]
    response = client.post("/v1/classify", json={"texts": texts})
    assert response.status_code == 200 and len(response.json()["results"]) == 3


def test_triage_output_keeps_a_carriage_return_inside_its_row(tmp_path):
    from hateproto.prototypes.triage import write_table

    frame = pd.DataFrame({"text": ["line one\rstill one", "two"], "margin": [0.1, 0.2]})
    path = tmp_path / "review.csv"
    write_table(frame, path)
    back = pd.read_csv(path)
    assert back["text"].tolist() == ["line one\rstill one", "two"]


# ---------------------------------------------------------------------- Perspective endpoint
ANALYZE = "/v1alpha1/comments:analyze"


def _check_perspective(response) -> None:
    assert response.status_code in (200, 400), (response.status_code, response.text)
    body = response.json()
    if response.status_code == 200:
        score = body["attributeScores"].get("IDENTITY_ATTACK", {}).get("summaryScore")
        assert score is None or 0 <= score["value"] <= 1
    else:
        error = body["error"]
        assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT" and error["message"]


@FUZZ
@given(text=st.one_of(ANY_TEXT, JSON_SCALAR), spans=st.booleans(), threshold=JSON_SCALAR)
def test_any_comment_is_answered_in_googles_shape_never_500(client, text, spans, threshold):
    body = {
        "comment": {"text": text},
        "requestedAttributes": {"IDENTITY_ATTACK": {"scoreThreshold": threshold}},
        "spanAnnotations": spans,
    }
    response = client.post(ANALYZE, content=json.dumps(body).encode())
    _check_perspective(response)


@FUZZ
@given(body=JSON_VALUE)
def test_any_json_body_to_perspective_is_answered_never_500(client, body):
    _check_perspective(client.post(ANALYZE, content=json.dumps(body).encode()))


@FUZZ
@given(body=st.binary(max_size=200))
def test_any_bytes_to_perspective_are_answered_never_500(client, body):
    _check_perspective(client.post(ANALYZE, content=body))


@FUZZ
@given(
    text=st.text(st.sampled_from("ab .!?\n\u200b"), max_size=400),
    attributes=st.dictionaries(
        st.sampled_from(["IDENTITY_ATTACK", "TOXICITY", "x"]), st.just({}), max_size=3
    ),
)
def test_span_requests_of_any_shape_stay_within_limits(client, text, attributes):
    body = {"comment": {"text": text}, "requestedAttributes": attributes, "spanAnnotations": True}
    _check_perspective(client.post(ANALYZE, json=body))
