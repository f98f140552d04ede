"""The ``outpost`` command."""

from __future__ import annotations

from outpost.cli.main import main

__all__ = ["main"]
