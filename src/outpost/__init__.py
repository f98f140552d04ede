"""Outpost: a self-hosted, multi-tenant email delivery platform."""

__version__ = "0.1.0"
