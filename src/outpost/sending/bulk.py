"""``/v1/send/bulk`` templates: ``{{variable}}`` rendered per recipient.

Placeholders are rendered in every string of the message except attachment contents and
content types. In ``html_body`` a ``{{variable}}`` is HTML-escaped and ``{{{variable}}}``
is inserted as is, as in Handlebars; elsewhere both insert the value as is.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\{\s*([\w.-]+)\s*\}\}\}|\{\{\s*([\w.-]+)\s*\}\}")
_NOT_RENDERED = frozenset({"content", "content_type"})


class MissingSubstitution(Exception):
    """A template variable has no value for a recipient (strict mode)."""

    def __init__(self, variable: str) -> None:
        super().__init__(variable)
        self.variable = variable


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render_string(template: str, values: Mapping[str, Any], strict: bool, escape: bool) -> str:
    if "{{" not in template:
        return template

    def substitute(match: re.Match[str]) -> str:
        raw_name, name = match.group(1), match.group(2)
        variable = raw_name or name
        if variable not in values:
            if strict:
                raise MissingSubstitution(variable)
            return ""
        text = _text(values[variable])
        return html.escape(text) if escape and name else text

    return _PLACEHOLDER.sub(substitute, template)


def render(node: Any, values: Mapping[str, Any], *, strict: bool, key: str = "") -> Any:
    """A copy of the template ``node`` with every placeholder replaced for one recipient."""
    if isinstance(node, str):
        return _render_string(node, values, strict, escape=key == "html_body")
    if isinstance(node, list):
        return [render(item, values, strict=strict, key=key) for item in node]
    if isinstance(node, dict):
        return {
            k: v if k in _NOT_RENDERED else render(v, values, strict=strict, key=k)
            for k, v in node.items()
        }
    return node
