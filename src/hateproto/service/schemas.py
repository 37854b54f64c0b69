"""Request and response bodies of the HTTP service (their JSON schemas are the OpenAPI ones)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictStr


class ClassifyRequest(BaseModel):
    """Texts to classify."""

    texts: list[StrictStr] = Field(
        ..., description="The posts to classify, one string each.", examples=[["some post"]]
    )


class TextResult(BaseModel):
    """The decision on one text."""

    label: Literal["hate", "not_hate"]
    hate_probability: float = Field(..., ge=0.0, le=1.0)
    margin: float = Field(..., description="Top-1 minus top-2 similarity at the exit layer.")
    exit_layer: int = Field(..., description="Layer the decision was taken at (1..L).")


class ClassifyResponse(BaseModel):
    """One result per text, in request order."""

    results: list[TextResult]
    model: str
    took_ms: float
    threshold: float = Field(
        0.5, description="The detector's decision threshold on hate_probability."
    )
    calibrated: bool = Field(False, description="Whether hate_probability is calibrated.")
