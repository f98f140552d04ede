"""Shared pieces of the API shapes."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict

from outpost.addresses import normalize_email


class InputModel(BaseModel):
    """A request body: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    """A response body built from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


def _email(value: str) -> str:
    return normalize_email(value)


Email = Annotated[str, AfterValidator(_email)]


def resources(*items: Any) -> dict[str, list[Any]]:
    """A single-resource answer, wrapped like a list: ``{"resources": [item]}``."""
    return {"resources": list(items)}
