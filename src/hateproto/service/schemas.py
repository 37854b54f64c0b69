"""Request and response bodies of the HTTP service (their JSON schemas are the OpenAPI ones)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictStr

from hateproto.detector.results import DEFAULT_THRESHOLD, Prediction


class ClassifyRequest(BaseModel):
    """Texts to classify."""

    texts: list[StrictStr] = Field(
        ..., description="The posts to classify, one string each.", examples=[["some post"]]
    )


class ClassifyResponse(BaseModel):
    """One result per text, in request order."""

    results: list[Prediction]
    model: str
    took_ms: float
    threshold: float = Field(
        DEFAULT_THRESHOLD, description="The detector's decision threshold on hate_probability."
    )
    calibrated: bool = Field(False, description="Whether hate_probability is calibrated.")
