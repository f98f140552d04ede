"""Reading submitted forms into the services' input models, and errors back onto fields.

Form fields are named after the model's fields, nested ones with dots
(``billing.country``, ``tiers.0.messages``), so a validation error's field name is also
the name of the input it belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from outpost.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def text(form: FormData, name: str) -> str:
    """A text field, stripped; empty when absent."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def raw(form: FormData, name: str) -> str:
    """A field exactly as typed (passwords keep their spaces); empty when absent."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    """A text field, or None when left empty."""
    return text(form, name) or None


def checked(form: FormData, name: str) -> bool:
    """Whether a checkbox was ticked."""
    return name in form


def values_of(form: FormData) -> dict[str, str]:
    """The submitted text fields, to fill the form in again after an error."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _describe(error: ErrorDetails) -> str:
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    kind = error["type"]
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "is required"
    messages = {
        "string_too_short": "must be at least {min_length} characters",
        "string_too_long": "must be at most {max_length} characters",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than_equal": "must be at most {le}",
        "string_pattern_mismatch": "has an invalid format",
        "literal_error": "is not one of the choices",
        "enum": "is not one of the choices",
        "extra_forbidden": "is not expected",
        "too_short": "needs at least {min_length} entries",
        "too_long": "takes at most {max_length} entries",
    }
    if kind in messages:
        return messages[kind].format(**ctx)
    return str(error["msg"]).removeprefix("Value error, ")


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` as ``model``; ValidationFailed naming each bad field by its form name."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError(".".join(str(p) for p in error["loc"]) or "form", _describe(error))
                for error in exc.errors()
            ]
        ) from exc


def errors_by_field(exc: ValidationFailed) -> dict[str, str]:
    """The first problem of each field, phrased for display next to the field."""
    shown: dict[str, str] = {}
    for error in exc.errors:
        description = error.description
        shown.setdefault(error.field, description[:1].upper() + description[1:])
    return shown


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested values as dotted form field names, to fill an edit form."""
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif value is not None:
            flat[name] = str(value)
    return flat
