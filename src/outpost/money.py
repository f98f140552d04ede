"""Amounts of money, kept as integer minor units."""

from __future__ import annotations


def format_amount(cents: int) -> str:
    """Minor units as a decimal string with two places, e.g. ``1050`` → ``"10.50"``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
