"""The Perspective protocol (``commentanalyzer v1alpha1``) to the letter: request and response
shapes, every attribute, Google's error JSON with Perspective's messages and error types,
languages, UTF-16 span offsets, keys, the discovery document, ``/batch``, ``suggestscore``,
and a real Google client (google-api-python-client) talking HTTP to a uvicorn server.

Numbered tests cover the numbered points of issue 24 (item 1: error details, ... item 10:
the model named by hash)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hateproto.detector import Detector
from hateproto.detector.attributes import AttributeHeads
from hateproto.detector.results import HATE_ATTRIBUTE, PERSPECTIVE_ATTRIBUTES, DetectorFacts
from hateproto.service import ServiceSettings, create_app
from hateproto.service.perspective import sentence_spans, utf16_offsets

URL = "/v1alpha1/comments:analyze"
TEXT = "they are vermin. good game today"
FIVE = tuple(a for a in PERSPECTIVE_ATTRIBUTES if a != HATE_ATTRIBUTE)
ERROR = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


def _body(text: str = TEXT, *attributes: str, **extra: object) -> dict:
    wanted = attributes or (HATE_ATTRIBUTE,)
    return {"comment": {"text": text}, "requestedAttributes": {a: {} for a in wanted}, **extra}


def with_heads(detector: Detector) -> Detector:
    """``detector`` with untrained heads for the five other attributes (all six served)."""
    width = detector.backbone.hidden_size * len(detector.prototypes.layers)
    detector.attribute_heads = AttributeHeads.untrained(FIVE, width, 0, "prototype_layers")
    return detector


@pytest.fixture(scope="module")
def six(tiny_encoder_dir: Path) -> Detector:
    """A tiny detector answering all six attributes."""
    from tiny_detector import tiny_detector

    return with_heads(tiny_detector(tiny_encoder_dir))


@pytest.fixture(scope="module")
def client(six) -> Iterator[TestClient]:
    with TestClient(create_app(six, ServiceSettings(api_token=None))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def hate_only(detector) -> Iterator[TestClient]:
    """The service of a detector that answers IDENTITY_ATTACK only."""
    with TestClient(create_app(detector, ServiceSettings(api_token=None))) as test_client:
        yield test_client


def _error(response, code: int, message: str, error_type: str | None = None, **more) -> dict:
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] == message, error
    if error_type is not None:
        assert error["details"] == [{"@type": ERROR, "errorType": error_type, **more}]
    return error


# ---------------------------------------------------------------------- every attribute
def test_every_attribute_is_answered_by_the_detector(client, six):
    response = client.post(URL, json=_body(TEXT, *PERSPECTIVE_ATTRIBUTES, clientToken="abc"))
    assert response.status_code == 200, response.text
    got = response.json()
    assert list(got["attributeScores"]) == list(PERSPECTIVE_ATTRIBUTES)
    want = six.score([TEXT])[0]
    for name, score in got["attributeScores"].items():
        assert score["summaryScore"] == {
            "value": pytest.approx(want.attribute(name), abs=1e-6),
            "type": "PROBABILITY",
        }
        # without spanAnnotations, one span: the whole comment (as Perspective answers)
        assert score["spanScores"] == [
            {"begin": 0, "end": len(TEXT), "score": score["summaryScore"]}
        ]
    assert got["attributeScores"][HATE_ATTRIBUTE]["summaryScore"]["value"] == pytest.approx(
        want.hate_probability, abs=1e-6
    )
    assert got["clientToken"] == "abc"
    assert got["languages"] == ["en"] and got["detectedLanguages"] == ["en"]


def test_span_annotations_score_each_sentence_per_attribute(client, six):
    got = client.post(URL, json=_body(TEXT, "INSULT", "IDENTITY_ATTACK", spanAnnotations=True))
    scores = got.json()["attributeScores"]
    sentences = six.score(["they are vermin.", "good game today"])
    for name in ("INSULT", "IDENTITY_ATTACK"):
        spans = scores[name]["spanScores"]
        assert [(s["begin"], s["end"]) for s in spans] == [(0, 16), (17, 32)]
        assert [s["score"]["value"] for s in spans] == pytest.approx(
            [p.attribute(name) for p in sentences], abs=1e-6
        )


def test_score_threshold_leaves_an_attribute_out(client):
    high = {"IDENTITY_ATTACK": {"scoreThreshold": 1.0, "scoreType": "PROBABILITY"}, "THREAT": {}}
    got = client.post(URL, json={**_body(), "requestedAttributes": high}).json()
    assert list(got["attributeScores"]) == ["THREAT"]
    assert "clientToken" not in got


# ---------------------------------------------------------------------- item 1: error details
def test_1_analyzer_errors_carry_their_error_type(client):
    _error(client.post(URL, json=_body("")), 400, "Comment must be non-empty.", "COMMENT_EMPTY")
    _error(client.post(URL, json={}), 400, "Comment must be non-empty.", "COMMENT_EMPTY")
    _error(client.post(URL), 400, "Comment must be non-empty.", "COMMENT_EMPTY")  # empty body
    _error(
        client.post(URL, json={"comment": {"text": "hi there"}}),
        400,
        "Missing requested_attributes",
        "NO_REQUESTED_ATTRIBUTES",
    )
    _error(
        client.post(URL, json=_body("x" * 20481)),
        400,
        "Comment text was too many bytes. Value (20481) exceeded limit (20480).",
        "COMMENT_TOO_LONG",
    )
    _error(
        client.post(URL, json=_body(TEXT, "FLIRTATION")),
        400,
        "Unknown requested attribute: FLIRTATION",
        "INVALID_REQUEST",
    )
    _error(
        client.post(URL, json=_body("12345 678", languages=[])),
        400,
        "Unable to detect language",
        "LANGUAGE_DETECTION_FAILED",
    )
    error = _error(
        client.post(URL, json=_body(TEXT, "TOXICITY", languages=["de"])),
        400,
        "Attribute TOXICITY does not support request languages: de",
    )
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"] == [
        {
            "@type": ERROR,
            "errorType": "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
            "languageNotSupportedByAttributeError": {
                "attribute": "TOXICITY",
                "detectedLanguages": ["en"],
                "requestedLanguages": ["de"],
            },
        }
    ]


def test_1_other_refusals_keep_perspectives_messages(client):
    _error(
        client.post(
            URL, json=_body("hi", "TOXICITY") | {"comment": {"text": "hi", "type": "HTML"}}
        ),
        400,
        "Currently, only 'PLAIN_TEXT' comments are supported",
        "INVALID_REQUEST",
    )
    bad_type = {"IDENTITY_ATTACK": {"scoreType": "STD_DEV_SCORE"}}
    _error(
        client.post(URL, json={**_body(), "requestedAttributes": bad_type}),
        400,
        "Requested score type STD_DEV_SCORE is not supported by attribute IDENTITY_ATTACK",
        "INVALID_REQUEST",
    )
    both = {"entries": [{"text": "a"}], "articleAndParentComment": {"article": {"text": "b"}}}
    _error(
        client.post(URL, json=_body(context=both)),
        400,
        "Context can have either entries or article_and_parent_comment, but both fields were "
        "populated.",
        "INVALID_REQUEST",
    )


def test_1_bodies_googles_parser_refuses_name_the_field(client):
    error = _error(
        client.post(URL, json={**_body(), "spanAnnotation": True}),
        400,
        'Invalid JSON payload received. Unknown name "spanAnnotation": Cannot find field.',
    )
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    _error(
        client.post(URL, json={"comment": {"text": 5}, "requestedAttributes": {"THREAT": {}}}),
        400,
        "Invalid JSON payload received. Invalid value at 'comment.text' (TYPE_STRING), 5",
    )
    response = client.post(URL, content=b"{not json")
    assert response.status_code == 400 and response.json()["error"]["status"] == "INVALID_ARGUMENT"
    # snake_case names are accepted, as Google's JSON parser accepts them
    snake = {"comment": {"text": TEXT}, "requested_attributes": {"THREAT": {}}}
    assert client.post(URL, json={**snake, "span_annotations": True}).status_code == 200


# ---------------------------------------------------------------------- item 2: languages
def test_2_detected_languages_are_always_answered(client):
    asked = client.post(URL, json=_body(languages=["en"])).json()
    assert asked["languages"] == ["en"] and asked["detectedLanguages"] == ["en"]
    german = "Das ist ein wirklich schöner Artikel, vielen Dank dafür"
    error = _error(
        client.post(URL, json=_body(german)),
        400,
        "Attribute IDENTITY_ATTACK does not support request languages: de",
    )
    detail = error["details"][0]["languageNotSupportedByAttributeError"]
    assert detail == {"attribute": "IDENTITY_ATTACK", "detectedLanguages": ["de"]}
    # the request's languages are what is scored, whatever is detected
    scored = client.post(URL, json=_body(german, languages=["en"])).json()
    assert scored["languages"] == ["en"] and scored["detectedLanguages"] == ["de"]


def test_2_drop_unsupported_attributes_leaves_them_out(client):
    body = _body(TEXT, "TOXICITY", "INSULT", languages=["de"], dropUnsupportedAttributes=True)
    got = client.post(URL, json=body).json()
    assert got["attributeScores"] == {} and got["languages"] == ["de"]


# ---------------------------------------------------------------------- item 3: the size limit
def test_3_the_limit_is_20480_utf8_bytes_not_10000_characters(client):
    for text in ("a" * 12000, "b" * 20480, "é" * 10240):  # 12,000 / 20,480 / 20,480 bytes
        response = client.post(URL, json=_body(text, "TOXICITY", languages=["en"]))
        assert response.status_code == 200, response.text[:300]
    _error(
        client.post(URL, json=_body("\U0001f600" * 6000, languages=["en"])),
        400,
        "Comment text was too many bytes. Value (24000) exceeded limit (20480).",
        "COMMENT_TOO_LONG",
    )


# ---------------------------------------------------------------------- item 4: UTF-16 offsets
def test_4_span_offsets_count_utf16_code_units(client):
    text = "I love 🎉 you 👍🏽. They are vermin!"
    got = client.post(URL, json=_body(text, spanAnnotations=True, languages=["en"])).json()
    spans = got["attributeScores"][HATE_ATTRIBUTE]["spanScores"]
    units = text.encode("utf-16-le")
    pieces = [units[2 * s["begin"] : 2 * s["end"]].decode("utf-16-le") for s in spans]
    assert pieces == ["I love 🎉 you 👍🏽.", "They are vermin!"]
    whole = client.post(URL, json=_body(text, languages=["en"])).json()
    assert whole["attributeScores"][HATE_ATTRIBUTE]["spanScores"][0]["end"] == len(units) // 2
    assert utf16_offsets("a🎉b") == [0, 1, 3, 4]


# ---------------------------------------------------------------------- item 5: languages mirror
def test_5_languages_mirror_the_request_else_the_detected_one(client):
    mirrored = client.post(URL, json=_body(languages=["en-US", "EN"])).json()
    assert mirrored["languages"] == ["en-US", "EN"]
    detected = client.post(URL, json=_body()).json()
    assert detected["languages"] == ["en"] == detected["detectedLanguages"][:1]


# ---------------------------------------------------------------------- item 6: order and text
def test_6_attributes_are_checked_in_request_order_each_in_full(hate_only):
    # the first failing attribute, in the request's order, is the one named
    first = {"IDENTITY_ATTACK": {}, "TOXICITY": {}}
    _error(
        hate_only.post(URL, json={**_body(languages=["de"]), "requestedAttributes": first}),
        400,
        "Attribute IDENTITY_ATTACK does not support request languages: de",
    )
    unknown_first = {"TOXICITY": {}, "IDENTITY_ATTACK": {}}
    _error(
        hate_only.post(URL, json={**_body(languages=["de"]), "requestedAttributes": unknown_first}),
        400,
        "Unknown requested attribute: TOXICITY",
        "INVALID_REQUEST",
    )
    # every language must be served, and all of them are named, as given
    _error(
        hate_only.post(URL, json=_body(languages=["en", "fr-CA"])),
        400,
        "Attribute IDENTITY_ATTACK does not support request languages: en, fr-CA",
    )
    # the comment is checked before the attributes, the attributes before nothing else
    _error(
        hate_only.post(URL, json=_body("", "TOXICITY", languages=["de"])),
        400,
        "Comment must be non-empty.",
        "COMMENT_EMPTY",
    )


def test_6_a_hate_only_detector_answers_identity_attack_and_refuses_toxicity(hate_only):
    _error(
        hate_only.post(URL, json=_body(TEXT, "TOXICITY")),
        400,
        "Unknown requested attribute: TOXICITY",
        "INVALID_REQUEST",
    )
    assert hate_only.post(URL, json=_body()).status_code == 200


# ---------------------------------------------------------------------- item 7: /batch
def _multipart(parts: list[tuple[str, str, dict | None]], boundary: str = "xyz") -> bytes:
    out = []
    for content_id, target, body in parts:
        payload = json.dumps(body) if body is not None else ""
        out.append(
            f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <{content_id}>\r\n\r\n"
            f"POST {target} HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{payload}\r\n"
        )
    return ("".join(out) + f"--{boundary}--\r\n").encode()


def test_7_batch_answers_each_request_in_googles_multipart(client):
    body = _multipart(
        [
            ("b+1", URL, _body(TEXT, "TOXICITY")),
            ("b+2", URL, _body("")),
            ("b+3", "/v1alpha1/comments:suggestscore", {}),
            ("b+4", "/v1alpha1/nothing", {}),
        ]
    )
    response = client.post(
        "/batch", content=body, headers={"content-type": "multipart/mixed; boundary=xyz"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("multipart/mixed; boundary=")
    text = response.text
    assert [f"Content-ID: <response-b+{i}>" in text for i in range(1, 5)] == [True] * 4
    statuses = [line for line in text.splitlines() if line.startswith("HTTP/1.1 ")]
    assert statuses == [
        "HTTP/1.1 200 OK",
        "HTTP/1.1 400 Bad Request",
        "HTTP/1.1 501 Not Implemented",
        "HTTP/1.1 404 Not Found",
    ]
    assert '"summaryScore"' in text and "Comment must be non-empty." in text
    refused = client.post("/batch", content=b"{}", headers={"content-type": "application/json"})
    assert refused.status_code == 400 and refused.json()["error"]["status"] == "INVALID_ARGUMENT"


# ---------------------------------------------------------------------- item 8: keys
def test_8_keys_on_analyze_and_on_the_discovery_document(six):
    settings = ServiceSettings(api_token="s3cret")
    with TestClient(create_app(six, settings)) as client:
        for path, call in ((URL, client.post), ("/$discovery/rest", client.get)):
            kwargs = {"json": _body()} if call == client.post else {}
            missing = call(path, **kwargs)
            assert missing.status_code == 403
            assert missing.json() == {
                "error": {
                    "code": 403,
                    "message": "The request is missing a valid API key.",
                    "status": "PERMISSION_DENIED",
                }
            }
            wrong = call(f"{path}?key=wrong", **kwargs)
            error = _error(wrong, 400, "API key not valid. Please pass a valid API key.")
            assert error["details"][0]["reason"] == "API_KEY_INVALID"
            assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
            assert call(f"{path}?key=s3cret", **kwargs).status_code == 200
            bearer = {"Authorization": "Bearer s3cret"}
            assert call(path, headers=bearer, **kwargs).status_code == 200
        suggest = client.post("/v1alpha1/comments:suggestscore?key=wrong", json={})
        assert suggest.status_code == 400


def test_8_the_discovery_document_mirrors_googles(client):
    document = client.get("/$discovery/rest?version=v1alpha1").json()
    assert document["id"] == "commentanalyzer:v1alpha1" and document["batchPath"] == "batch"
    assert document["rootUrl"] == document["baseUrl"] == "http://testserver:80/"
    methods = document["resources"]["comments"]["methods"]
    assert {name: (m["httpMethod"], m["path"]) for name, m in methods.items()} == {
        "analyze": ("POST", "v1alpha1/comments:analyze"),
        "suggestscore": ("POST", "v1alpha1/comments:suggestscore"),
    }
    schemas = document["schemas"]
    assert set(schemas["AnalyzeCommentRequest"]["properties"]) == {
        *("clientToken", "comment", "communityId", "context", "doNotStore"),
        *("dropUnsupportedAttributes", "languages", "requestedAttributes", "sessionId"),
        "spanAnnotations",
    }
    assert set(schemas["AnalyzeCommentResponse"]["properties"]) == {
        "attributeScores",
        "clientToken",
        "detectedLanguages",
        "languages",
    }
    assert schemas["SpanScore"]["properties"]["begin"]["format"] == "int32"
    assert client.get("/$discovery/rest?version=v2").status_code == 404


# ---------------------------------------------------------------------- item 9: other paths
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", URL),
        ("POST", "/v1alpha1/comments:score"),
        ("GET", "/v1alpha1/"),
        ("GET", "/$discovery/other"),
        ("GET", "/batch"),
        ("PUT", "/$discovery/rest"),
    ],
)
def test_9_other_paths_answer_googles_not_found(client, method, path):
    response = client.request(method, path)
    assert response.json() == {
        "error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}
    }
    assert response.status_code == 404


def test_9_our_own_api_keeps_its_shape(client):
    assert client.get("/v1/nothing").json() == {"detail": "Not Found"}
    assert "detail" in client.post("/v1/classify", json={"texts": []}).json()


def test_9_a_model_failure_is_googles_internal_error():
    class Broken:
        def score(self, texts):
            raise RuntimeError("the weights are gone")

        def info(self):
            return {}

        def facts(self):
            return DetectorFacts(model="broken", version="broken@sha256:000000000000")

    with TestClient(create_app(Broken(), ServiceSettings(api_token=None))) as client:
        response = client.post(URL, json=_body(languages=["en"]))
    assert response.status_code == 500
    assert response.json()["error"]["status"] == "INTERNAL"


# ---------------------------------------------------------------------- item 10: model by hash
def test_10_the_model_is_named_by_name_and_hash_never_a_path(six, tmp_path):
    folder = six.save_pretrained(tmp_path / "served-detector")
    loaded = Detector.from_pretrained(folder)
    assert loaded.facts().version.startswith("served-detector@sha256:")
    with TestClient(create_app(loaded, ServiceSettings(api_token=None))) as client:
        response = client.post(URL, json=_body(TEXT, "TOXICITY"))
    assert response.json()["hateproto"]["model"] == loaded.facts().version
    assert str(tmp_path) not in response.text and str(folder) not in response.text


# ---------------------------------------------------------------------- suggestscore
def test_suggestscore_is_googles_unimplemented(client):
    body = {"comment": {"text": "hi"}, "attributeScores": {"TOXICITY": {"summaryScore": {}}}}
    response = client.post("/v1alpha1/comments:suggestscore", json=body)
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["status"] == "UNIMPLEMENTED" and "suggestscore" in error["message"]


# ---------------------------------------------------------------------- the rest
def test_classify_and_info_report_threshold(hate_only):
    body = hate_only.post("/v1/classify", json={"texts": ["they are vermin"]}).json()
    assert body["threshold"] == 0.5 and body["calibrated"] is False
    info = hate_only.get("/v1/info").json()
    assert "policy" in info and info["policy"]["version"] >= 0
    assert info["decision_threshold"] == 0.5


def test_sentence_spans():
    assert sentence_spans("one") == [(0, 3)]
    assert sentence_spans("  Hi!!  there\nok ") == [(2, 6), (8, 13), (14, 16)]


@pytest.fixture(scope="module")
def server(six) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    uvicorn = pytest.importorskip("uvicorn")
    app = create_app(six, ServiceSettings(api_token="s3cret"))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def _google_client(server: str, key: str = "s3cret"):
    discovery = pytest.importorskip("googleapiclient.discovery")
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        developerKey=key,
        discoveryServiceUrl=f"{server}/$discovery/rest?version=v1alpha1",
        static_discovery=False,
        cache_discovery=False,
    )


def test_google_api_python_client(server, six):
    """Google's own Perspective sample, with only the discovery URL changed."""
    errors = pytest.importorskip("googleapiclient.errors")
    client = _google_client(server)
    analyze_request = {
        "comment": {"text": TEXT},
        "requestedAttributes": {a: {} for a in PERSPECTIVE_ATTRIBUTES},
        "spanAnnotations": True,
        "clientToken": "t-1",
    }
    response = client.comments().analyze(body=analyze_request).execute()
    want = six.score([TEXT])[0]
    for name in PERSPECTIVE_ATTRIBUTES:
        value = response["attributeScores"][name]["summaryScore"]["value"]
        assert value == pytest.approx(want.attribute(name), abs=1e-6)
        assert len(response["attributeScores"][name]["spanScores"]) == 2
    assert response["clientToken"] == "t-1" and response["detectedLanguages"] == ["en"]
    bad = {"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}
    with pytest.raises(errors.HttpError) as caught:
        client.comments().analyze(body=bad).execute()
    assert caught.value.resp.status == 400
    assert "Comment must be non-empty." in str(caught.value)
    assert caught.value.error_details == [{"@type": ERROR, "errorType": "COMMENT_EMPTY"}]
    with pytest.raises(errors.HttpError) as caught:
        client.comments().suggestscore(body={"comment": {"text": "hi"}}).execute()
    assert caught.value.resp.status == 501


def test_7_google_api_python_client_batch(server, six):
    """``new_batch_http_request()`` posts to the discovery document's batchPath."""
    client = _google_client(server)
    answers: dict[str, tuple] = {}

    def callback(request_id, response, exception):
        answers[request_id] = (response, exception)

    batch = client.new_batch_http_request(callback=callback)
    texts = ["good game today", "they are vermin", ""]
    for index, text in enumerate(texts):
        body = {"comment": {"text": text}, "requestedAttributes": {"THREAT": {}}}
        batch.add(client.comments().analyze(body=body), request_id=str(index))
    batch.execute()
    for index, text in enumerate(texts[:2]):
        response, exception = answers[str(index)]
        assert exception is None
        value = response["attributeScores"]["THREAT"]["summaryScore"]["value"]
        assert value == pytest.approx(six.score([text])[0].attribute("THREAT"), abs=1e-6)
    response, exception = answers["2"]
    assert response is None and exception.resp.status == 400
    assert "Comment must be non-empty." in str(exception)


def test_8_a_wrong_key_fails_the_google_client_at_discovery(server):
    errors = pytest.importorskip("googleapiclient.errors")
    with pytest.raises(errors.HttpError) as caught:
        _google_client(server, key="wrong")
    assert caught.value.resp.status == 400
    assert "API key not valid. Please pass a valid API key." in str(caught.value)
