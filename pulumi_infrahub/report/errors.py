"""Errors the report raises.

PreviewReadError   an input file is missing, unreadable or not what
                   `pulumi preview` writes
"""

from __future__ import annotations

__all__ = ["PreviewReadError"]


class PreviewReadError(Exception):
    """An input file cannot be read as `pulumi preview` output."""
