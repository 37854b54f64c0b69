"""The discovery document of ``commentanalyzer v1alpha1``, served at ``GET /$discovery/rest``.

Google's client libraries (``google-api-python-client``, the Node ``googleapis`` package and
the clients built on them) read it to learn the API's methods, schemas and address. It
mirrors Google's published document (revision 20200426, plus ``dropUnsupportedAttributes``
added later): the same ids, paths, HTTP methods, parameters, schemas, field types and enums,
``batchPath: "batch"`` (served: :mod:`hateproto.service.perspective_batch`) and the
``suggestscore`` method (answered 501). The descriptions are short ones of ours. ``rootUrl``
is this server: its ``public_url`` setting, else the address it is bound to; never the
client's ``Host`` header.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hateproto.service.settings import ServiceSettings

_SCORE_TYPES = ["SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW"]
_SCORE_TYPE_NOTES = [
    "Unset: PROBABILITY.",
    "A probability in [0, 1] (the only type hateproto answers).",
    "A standard-deviation score.",
    "A percentile in [0, 1].",
    "The model's raw score.",
]


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _strings(description: str) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


def _ref(name: str, description: str) -> dict[str, Any]:
    return {"$ref": name, "description": description}


def _schema(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"id": name, "type": "object", "description": description, "properties": properties}


def _schemas() -> dict[str, Any]:
    attribute_scores = {
        "type": "object",
        "additionalProperties": {"$ref": "AttributeScores"},
        "description": "Scores per attribute name.",
    }
    return {
        "AnalyzeCommentRequest": _schema(
            "AnalyzeCommentRequest",
            "A comment to score and the attributes to score it for.",
            {
                "clientToken": _string("Echoed in the response."),
                "comment": _ref("TextEntry", "The comment to score."),
                "communityId": _string("Accepted and ignored."),
                "context": _ref("Context", "Accepted and ignored."),
                "doNotStore": {"type": "boolean", "description": "hateproto stores nothing."},
                "dropUnsupportedAttributes": {
                    "type": "boolean",
                    "description": "Leave out attributes that do not serve the comment's "
                    "languages instead of refusing the request.",
                },
                "languages": _strings(
                    "ISO 639-1 or BCP-47 codes of the comment's languages; none: detected."
                ),
                "requestedAttributes": {
                    "type": "object",
                    "additionalProperties": {"$ref": "AttributeParameters"},
                    "description": "The attributes to score, by name.",
                },
                "sessionId": _string("Accepted and ignored."),
                "spanAnnotations": {
                    "type": "boolean",
                    "description": "Score each sentence too.",
                },
            },
        ),
        "AnalyzeCommentResponse": _schema(
            "AnalyzeCommentResponse",
            "The scores of a comment.",
            {
                "attributeScores": attribute_scores,
                "clientToken": _string("The request's clientToken."),
                "detectedLanguages": _strings("The detected languages, most likely first."),
                "languages": _strings(
                    "The languages scored: the request's, else the first detected one."
                ),
            },
        ),
        "ArticleAndParentComment": _schema(
            "ArticleAndParentComment",
            "The article a comment was left on and the comment it answers.",
            {
                "article": _ref("TextEntry", "The article."),
                "parentComment": _ref("TextEntry", "The comment answered."),
            },
        ),
        "AttributeParameters": _schema(
            "AttributeParameters",
            "How to score one attribute.",
            {
                "scoreThreshold": {
                    "type": "number",
                    "format": "float",
                    "description": "Leave the attribute out when its summary score is lower.",
                },
                "scoreType": {
                    "type": "string",
                    "enum": _SCORE_TYPES,
                    "enumDescriptions": _SCORE_TYPE_NOTES,
                    "description": "The type of score to answer.",
                },
            },
        ),
        "AttributeScores": _schema(
            "AttributeScores",
            "One attribute's scores: the whole comment's and per span.",
            {
                "spanScores": {
                    "type": "array",
                    "items": {"$ref": "SpanScore"},
                    "description": "Per-span scores.",
                },
                "summaryScore": _ref("Score", "The whole comment's score."),
            },
        ),
        "Context": _schema(
            "Context",
            "What a comment refers to (one of the two fields).",
            {
                "articleAndParentComment": _ref("ArticleAndParentComment", "Article and parent."),
                "entries": {
                    "type": "array",
                    "items": {"$ref": "TextEntry"},
                    "description": "Earlier messages.",
                },
            },
        ),
        "Score": _schema(
            "Score",
            "A score and its type.",
            {
                "type": {
                    "type": "string",
                    "enum": _SCORE_TYPES,
                    "enumDescriptions": _SCORE_TYPE_NOTES,
                    "description": "The type of the value.",
                },
                "value": {"type": "number", "format": "float", "description": "The score."},
            },
        ),
        "SpanScore": _schema(
            "SpanScore",
            "The score of a span of the comment.",
            {
                "begin": {
                    "type": "integer",
                    "format": "int32",
                    "description": "Start of the span, in UTF-16 code units.",
                },
                "end": {
                    "type": "integer",
                    "format": "int32",
                    "description": "End of the span (exclusive), in UTF-16 code units.",
                },
                "score": _ref("Score", "The span's score."),
            },
        ),
        "SuggestCommentScoreRequest": _schema(
            "SuggestCommentScoreRequest",
            "Scores a client suggests for a comment (not served by hateproto: 501).",
            {
                "attributeScores": attribute_scores,
                "clientToken": _string("Echoed in the response."),
                "comment": _ref("TextEntry", "The comment."),
                "communityId": _string("The community."),
                "context": _ref("Context", "The context."),
                "languages": _strings("The comment's languages."),
                "sessionId": _string("The session."),
            },
        ),
        "SuggestCommentScoreResponse": _schema(
            "SuggestCommentScoreResponse",
            "The answer to a score suggestion.",
            {
                "clientToken": _string("The request's clientToken."),
                "detectedLanguages": _strings("The detected languages."),
                "requestedLanguages": _strings("The request's languages."),
            },
        ),
        "TextEntry": _schema(
            "TextEntry",
            "A text and its type.",
            {
                "text": _string("The text (UTF-8)."),
                "type": {
                    "type": "string",
                    "enum": ["TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML"],
                    "enumDescriptions": ["Unset: plain text.", "Plain text.", "HTML (refused)."],
                    "description": "The type of the text.",
                },
            },
        ),
    }


def _parameters() -> dict[str, Any]:
    def query(kind: str, description: str, **more: Any) -> dict[str, Any]:
        return {"type": kind, "location": "query", "description": description, **more}

    return {
        "$.xgafv": query("string", "Error format.", enum=["1", "2"]),
        "access_token": query("string", "OAuth access token (not used)."),
        "alt": query("string", "Response format.", default="json", enum=["json", "media", "proto"]),
        "callback": query("string", "JSONP (not used)."),
        "fields": query("string", "Partial response selector (not used)."),
        "key": query("string", "API key: the service's HATEPROTO_API_TOKEN."),
        "oauth_token": query("string", "OAuth 2.0 token (not used)."),
        "prettyPrint": query("boolean", "Indented response (not used).", default="true"),
        "quotaUser": query("string", "Quota user (not used)."),
        "uploadType": query("string", "Legacy upload protocol (not used)."),
        "upload_protocol": query("string", "Upload protocol (not used)."),
    }


def _method(name: str, description: str, request: str, response: str) -> dict[str, Any]:
    path = f"v1alpha1/comments:{name}"
    return {
        "id": f"commentanalyzer.comments.{name}",
        "description": description,
        "path": path,
        "flatPath": path,
        "httpMethod": "POST",
        "parameters": {},
        "parameterOrder": [],
        "request": {"$ref": request},
        "response": {"$ref": response},
    }


def discovery_document(root_url: str) -> dict[str, Any]:
    """Google's ``commentanalyzer v1alpha1`` discovery document, served from ``root_url``."""
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": "commentanalyzer:v1alpha1",
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": "v1alpha1",
        "version_module": True,
        "revision": "20200426",
        "title": "Perspective Comment Analyzer API (served by hateproto)",
        "description": "Perspective's comment analysis, answered by a hateproto detector.",
        "documentationLink": "https://github.com/conversationai/perspectiveapi",
        "protocol": "rest",
        "rootUrl": root_url,
        "mtlsRootUrl": root_url,
        "baseUrl": root_url,
        "basePath": "",
        "servicePath": "",
        "batchPath": "batch",
        "parameters": _parameters(),
        "schemas": _schemas(),
        "resources": {
            "comments": {
                "methods": {
                    "analyze": _method(
                        "analyze",
                        "Scores a comment for the requested attributes.",
                        "AnalyzeCommentRequest",
                        "AnalyzeCommentResponse",
                    ),
                    "suggestscore": _method(
                        "suggestscore",
                        "Suggests scores for a comment (not served by hateproto: 501).",
                        "SuggestCommentScoreRequest",
                        "SuggestCommentScoreResponse",
                    ),
                }
            }
        },
    }


def root_url(request: Request, settings: ServiceSettings) -> str:
    """The service's own address for the discovery document: ``public_url`` if set, else the
    address the server is bound to; never the client's ``Host`` header."""
    if settings.public_url is not None:
        return settings.public_url.rstrip("/") + "/"
    host, port = request.scope.get("server") or ("127.0.0.1", 8000)
    host = f"[{host}]" if ":" in str(host) else host
    return f"{request.url.scheme}://{host}:{port}/"
