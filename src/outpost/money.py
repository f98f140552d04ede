"""Amounts of money, kept as integer minor units."""

from __future__ import annotations


def format_amount(cents: int) -> str:
    """Minor units as a decimal string with two places, e.g. ``1050`` → ``"10.50"``."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def parse_amount(text: str) -> int:
    """A decimal amount such as ``"10.5"`` or ``"10,50"`` in minor units; ValueError otherwise."""
    cleaned = text.strip().replace(",", ".")
    whole, _, fraction = cleaned.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 2:
        raise ValueError("is not an amount such as 10.00")
    return int(whole) * 100 + int(fraction.ljust(2, "0") or 0)
